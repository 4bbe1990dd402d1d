/**
 * The seed's voice agent, in TypeScript (`npm run example:voice-agent`): speech in, STT -> LLM -> TTS, speech
 * out, with interruptions, over SmallWebRTCTransport.
 *
 * Serves http://localhost:7860 (`PORT` overrides; `HOST` sets the listen address) with the same demo page as
 * `npm run demo` (signalling at `/api/offer`). The pipeline is Pipecat's:
 * ```ts
 * new Pipeline([transport.input(), rtvi, stt, contextAggregator.user(), llm, tts, transport.output(),
 *   contextAggregator.assistant()]);
 * ```
 *
 * ## Services: offline by default, pluggable
 * It runs with no API keys and no network, using small real implementations shipped here:
 * - STT: {@link TurnDurationSTT} does NOT transcribe. There is no offline speech recogniser in this package,
 *   so it reports how long the user spoke ("(spoke for 1.2 seconds)") as its transcription, which is enough
 *   to drive the conversation loop. Set `STT_COMMAND` to use any local recogniser that prints the text of a
 *   16-bit mono WAV file given as its last argument ({@link CommandSTT}), e.g.
 *   `STT_COMMAND="whisper-cli -m ggml-base.en.bin -nt -np -f"` (whisper.cpp).
 * - LLM: {@link RuleBasedLLM}, a few canned rules that stream their answer word by word. Set
 *   `OPENAI_BASE_URL` (e.g. `http://127.0.0.1:11434/v1` for a local Ollama, or `https://api.openai.com/v1`),
 *   `OPENAI_API_KEY` and `OPENAI_MODEL` to use any OpenAI-compatible chat-completions server instead
 *   ({@link OpenAICompatibleLLM}).
 * - TTS: {@link EspeakTTS} runs `espeak-ng --stdout` (Debian: `apt-get install espeak-ng`; `ESPEAK_VOICE`
 *   picks the voice) and resamples it with the native {@link Resampler}; without espeak-ng on the PATH,
 *   {@link BeepTTS} plays one short tone per word (and says so in the log).
 *
 * To plug in a hosted service (Deepgram, OpenAI, ElevenLabs, Cartesia...), subclass the base class and pass
 * an instance in {@link VoiceAgentOptions.services}:
 * ```ts
 * class MySTT extends STTService {
 *   async runStt(audio: Int16Array, sampleRate: number, signal: AbortSignal): Promise<string> { ... }
 * }
 * class MyLLM extends LLMService {
 *   async *runLlm(messages: readonly LLMMessage[], signal: AbortSignal): AsyncIterable<string> { ... }
 * }
 * class MyTTS extends TTSService {
 *   async *runTts(text: string, signal: AbortSignal): AsyncIterable<Int16Array> { ... } // at this.sampleRate
 * }
 * ```
 * Pass `signal` to `fetch` / child processes: it aborts when the user interrupts the bot.
 */
import { execFile, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import {
  FrameProcessor,
  LLMContext,
  LLMContextAggregatorPair,
  LLMRunFrame,
  LLMService,
  Pipeline,
  PipelineRunner,
  PipelineTask,
  RTVIObserver,
  RTVIProcessor,
  Resampler,
  STTService,
  SileroVADAnalyzer,
  SmallWebRTCTransport,
  TTSService,
  TransportParams,
  getLogger,
  type LLMMessage,
  type SmallWebRTCConnection,
  type TTSServiceOptions,
} from '../src/index.js';
import { isMain, serveBot } from './serve-bot.js';

// ---------------------------------------------------------------------------------------------------------
// STT

/**
 * A placeholder STT that does not transcribe: each user turn becomes the text "(spoke for N.N seconds)",
 * measured from the turn's audio (VAD start to stop, plus the STT pre-roll). Replace it with a real
 * recogniser ({@link CommandSTT} or your own {@link STTService}) to understand words.
 */
export class TurnDurationSTT extends STTService {
  override runStt(audio: Int16Array, sampleRate: number): Promise<string> {
    return Promise.resolve(`(spoke for ${(audio.length / sampleRate).toFixed(1)} seconds)`);
  }
}

/**
 * An offline STT that runs a local command per user turn: the turn is written to a temporary 16-bit mono
 * WAV file whose path is appended to `command` (run with `/bin/sh -c`), and the command's trimmed stdout is
 * the transcription. Killed when the pipeline is cancelled or after `timeoutMs`.
 */
export class CommandSTT extends STTService {
  readonly #command: string;
  readonly #timeoutMs: number;

  constructor(command: string, options: { timeoutMs?: number; userId?: string } = {}) {
    super({ userId: options.userId });
    if (typeof command !== 'string' || command.trim().length === 0) {
      throw new TypeError('command must be a non-empty string');
    }
    this.#command = command;
    this.#timeoutMs = options.timeoutMs ?? 30_000;
  }

  override async runStt(audio: Int16Array, sampleRate: number, signal: AbortSignal): Promise<string> {
    const dir = mkdtempSync(join(tmpdir(), 'voice-agent-stt-'));
    const path = join(dir, 'turn.wav');
    try {
      writeFileSync(path, encodeWav(audio, sampleRate));
      return await new Promise<string>((resolve, reject) => {
        execFile(
          '/bin/sh',
          ['-c', `${this.#command} "$0"`, path],
          { signal, timeout: this.#timeoutMs, maxBuffer: 1 << 20 },
          (err, stdout) => (err ? reject(err) : resolve(stdout.trim())),
        );
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
}

// ---------------------------------------------------------------------------------------------------------
// LLM

/** Resolves after `ms`, or at once when `signal` aborts. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done(): void {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

/** The text of the last message with `role`, or undefined. */
function lastText(messages: readonly LLMMessage[], role: string): string | undefined {
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i];
    if (m?.role === role) return typeof m.content === 'string' ? m.content : JSON.stringify(m.content);
  }
  return undefined;
}

/**
 * A tiny offline "LLM": answers the last user message with a few canned rules and streams the answer word
 * by word (`wordDelayMs` apart, like a real streaming API). With no user message yet it introduces itself.
 */
export class RuleBasedLLM extends LLMService {
  readonly #wordDelayMs: number;

  constructor(options: { wordDelayMs?: number } = {}) {
    super();
    this.#wordDelayMs = options.wordDelayMs ?? 15;
  }

  /** The answer to `messages` (exposed for tests and for subclasses adding rules). */
  answer(messages: readonly LLMMessage[]): string {
    const user = lastText(messages, 'user');
    if (user === undefined) {
      return "Hello! I'm a voice agent running entirely on this computer. Say something, and I will answer.";
    }
    const turns = messages.filter((m) => m.role === 'user').length;
    const spoke = /spoke for ([\d.]+) seconds/.exec(user);
    if (spoke) {
      return (
        `I heard you speak for ${spoke[1]} seconds. ` +
        "I have no speech recogniser, so I can't tell what you said. " +
        (turns > 1 ? `That was turn ${turns}.` : 'Plug one in, and we can really talk.')
      );
    }
    const text = user.toLowerCase();
    if (/\b(bye|goodbye)\b/.test(text)) return 'Goodbye! It was nice talking to you.';
    if (/\b(hello|hi|hey)\b/.test(text)) return 'Hello there! What can I do for you?';
    if (/\btime\b/.test(text)) {
      return `It is ${new Date().toISOString().slice(11, 16)} UTC.`;
    }
    return `You said: ${user.trim()}`;
  }

  override async *runLlm(messages: readonly LLMMessage[], signal: AbortSignal): AsyncIterable<string> {
    const words = this.answer(messages).split(/(?<= )/);
    for (const word of words) {
      await sleep(this.#wordDelayMs, signal);
      if (signal.aborted) return;
      yield word;
    }
  }
}

/** Options of {@link OpenAICompatibleLLM}. */
export interface OpenAICompatibleLLMOptions {
  /** Base URL of the API, up to and including `/v1` (e.g. `http://127.0.0.1:11434/v1`). */
  baseUrl: string;
  /** Bearer token, if the server wants one. */
  apiKey?: string;
  /** Model name (default `gpt-4o-mini`). */
  model?: string;
}

/**
 * Any OpenAI-compatible chat-completions server (OpenAI, Ollama, llama.cpp server, vLLM...), streamed
 * (`stream: true`, server-sent events). An example of a real {@link LLMService}.
 */
export class OpenAICompatibleLLM extends LLMService {
  readonly #url: string;
  readonly #apiKey: string | undefined;
  readonly #model: string;

  constructor(options: OpenAICompatibleLLMOptions) {
    super();
    if (typeof options.baseUrl !== 'string' || !/^https?:\/\//.test(options.baseUrl)) {
      throw new TypeError('baseUrl must be an http(s) URL');
    }
    this.#url = `${options.baseUrl.replace(/\/+$/, '')}/chat/completions`;
    this.#apiKey = options.apiKey;
    this.#model = options.model ?? 'gpt-4o-mini';
  }

  override async *runLlm(messages: readonly LLMMessage[], signal: AbortSignal): AsyncIterable<string> {
    const res = await fetch(this.#url, {
      method: 'POST',
      signal,
      headers: {
        'content-type': 'application/json',
        ...(this.#apiKey !== undefined ? { authorization: `Bearer ${this.#apiKey}` } : {}),
      },
      body: JSON.stringify({ model: this.#model, messages, stream: true }),
    });
    if (!res.ok || res.body === null) {
      throw new Error(`chat completions: HTTP ${res.status} ${(await res.text()).slice(0, 200)}`);
    }
    const decoder = new TextDecoder();
    const reader = res.body.getReader();
    let pending = '';
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        pending += decoder.decode(value, { stream: true });
        let nl: number;
        while ((nl = pending.indexOf('\n')) >= 0) {
          const line = pending.slice(0, nl).trim();
          pending = pending.slice(nl + 1);
          if (!line.startsWith('data:')) continue;
          const data = line.slice(5).trim();
          if (data === '[DONE]') return;
          const parsed = JSON.parse(data) as { choices?: Array<{ delta?: { content?: unknown } }> };
          const content = parsed.choices?.[0]?.delta?.content;
          if (typeof content === 'string' && content.length > 0) yield content;
        }
      }
    } finally {
      // Closes the HTTP stream when the response is complete or the bot was interrupted.
      void reader.cancel().catch(() => undefined);
    }
  }
}

// ---------------------------------------------------------------------------------------------------------
// TTS

let espeakFound: boolean | undefined;

/** Whether `espeak-ng` runs on this machine (checked once per process). */
export function hasEspeak(): boolean {
  if (espeakFound === undefined) {
    const r = spawnSync('espeak-ng', ['--version'], { stdio: 'ignore' });
    espeakFound = r.error === undefined && r.status === 0;
  }
  return espeakFound;
}

/** Options of {@link EspeakTTS}. */
export interface EspeakTTSOptions extends TTSServiceOptions {
  /** espeak-ng voice (default `en-us`). */
  voice?: string;
  /** Words per minute (default 170). */
  wordsPerMinute?: number;
}

/**
 * An offline TTS: `espeak-ng --stdout` per sentence, its WAV stream parsed as it arrives and resampled to
 * `sampleRate` (default 24 kHz) in 40 ms chunks with the native {@link Resampler}. The child process is
 * killed when the bot is interrupted.
 */
export class EspeakTTS extends TTSService {
  readonly #voice: string;
  readonly #wpm: number;

  constructor(options: EspeakTTSOptions = {}) {
    super(options);
    this.#voice = options.voice ?? 'en-us';
    this.#wpm = options.wordsPerMinute ?? 170;
  }

  override async *runTts(text: string, signal: AbortSignal): AsyncIterable<Int16Array> {
    const child = spawn('espeak-ng', ['--stdout', '-v', this.#voice, '-s', String(this.#wpm), '--', text], {
      stdio: ['ignore', 'pipe', 'ignore'],
      signal,
    });
    let failure: Error | null = null;
    const exited = new Promise<number | null>((resolve) => {
      child.on('error', (err) => {
        failure = err;
        resolve(null);
      });
      child.on('close', (code) => resolve(code));
    });
    const wav = new WavStreamParser();
    let resampler: Resampler | null = null;
    try {
      for await (const chunk of child.stdout as AsyncIterable<Buffer>) {
        // The pipe may still hold audio after the kill: an interrupted utterance ends here.
        if (signal.aborted) return;
        const pcm = wav.push(chunk);
        if (pcm === null || pcm.length === 0 || wav.format === null) continue;
        resampler ??= new Resampler({
          inRate: wav.format.sampleRate,
          outRate: this.sampleRate,
          inChannels: wav.format.channels === 2 ? 2 : 1,
          outChannels: 1,
          frameSamples: Math.round(this.sampleRate / 25),
        });
        for (const out of resampler.process(pcm)) {
          yield out;
          if (signal.aborted) return;
        }
      }
      if (resampler !== null) for (const out of resampler.flush()) yield out;
      const code = await exited;
      if (signal.aborted) return;
      if (failure !== null) throw failure;
      if (code !== 0) throw new Error(`espeak-ng exited with code ${String(code)}`);
    } finally {
      resampler?.close();
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  }
}

/** Incremental parser of a 16-bit PCM WAV byte stream (espeak-ng writes an open-ended data chunk). */
export class WavStreamParser {
  #header: Buffer | null = Buffer.alloc(0);
  #odd: number | null = null;
  /** The stream's format, once the header has been read. */
  format: { sampleRate: number; channels: number } | null = null;

  /** Feeds bytes; returns the samples they complete (null while the header is incomplete). */
  push(bytes: Buffer): Int16Array | null {
    let data = bytes;
    if (this.#header !== null) {
      const buf = Buffer.concat([this.#header, bytes]);
      const start = this.#parseHeader(buf);
      if (start < 0) {
        if (buf.length > 4096) throw new Error('WAV header not found in the first 4 KiB');
        this.#header = buf;
        return null;
      }
      this.#header = null;
      data = buf.subarray(start);
    }
    if (this.#odd !== null) data = Buffer.concat([Buffer.from([this.#odd]), data]);
    this.#odd = data.length % 2 === 1 ? (data[data.length - 1] ?? 0) : null;
    const n = data.length >> 1;
    const out = new Int16Array(n);
    for (let i = 0; i < n; i++) out[i] = data.readInt16LE(i * 2);
    return out;
  }

  /** Offset of the first sample, or -1 if more bytes are needed. */
  #parseHeader(buf: Buffer): number {
    if (buf.length < 12) return -1;
    if (buf.toString('ascii', 0, 4) !== 'RIFF' || buf.toString('ascii', 8, 12) !== 'WAVE') {
      throw new Error('not a RIFF/WAVE stream');
    }
    let off = 12;
    while (off + 8 <= buf.length) {
      const id = buf.toString('ascii', off, off + 4);
      const size = buf.readUInt32LE(off + 4);
      if (id === 'data') {
        if (this.format === null) throw new Error('WAV data chunk before fmt chunk');
        return off + 8;
      }
      if (off + 8 + size > buf.length) return -1;
      if (id === 'fmt ') {
        const formatTag = buf.readUInt16LE(off + 8);
        const channels = buf.readUInt16LE(off + 10);
        const sampleRate = buf.readUInt32LE(off + 12);
        const bits = buf.readUInt16LE(off + 22);
        if (formatTag !== 1 || bits !== 16 || channels < 1 || channels > 2) {
          throw new Error(`unsupported WAV format (tag ${formatTag}, ${bits} bits, ${channels} channels)`);
        }
        this.format = { sampleRate, channels };
      }
      off += 8 + size + (size % 2);
    }
    return -1;
  }
}

/** A 16-bit mono PCM WAV file holding `pcm`. */
export function encodeWav(pcm: Int16Array, sampleRate: number): Buffer {
  const data = Buffer.alloc(pcm.length * 2);
  for (let i = 0; i < pcm.length; i++) data.writeInt16LE(pcm[i] ?? 0, i * 2);
  const h = Buffer.alloc(44);
  h.write('RIFF', 0, 'ascii');
  h.writeUInt32LE(36 + data.length, 4);
  h.write('WAVEfmt ', 8, 'ascii');
  h.writeUInt32LE(16, 16);
  h.writeUInt16LE(1, 20);
  h.writeUInt16LE(1, 22);
  h.writeUInt32LE(sampleRate, 24);
  h.writeUInt32LE(sampleRate * 2, 28);
  h.writeUInt16LE(2, 32);
  h.writeUInt16LE(16, 34);
  h.write('data', 36, 'ascii');
  h.writeUInt32LE(data.length, 40);
  return Buffer.concat([h, data]);
}

/** The fallback TTS without espeak-ng: one 120 ms 440 Hz tone per word, so the turn-taking is audible. */
export class BeepTTS extends TTSService {
  override async *runTts(text: string): AsyncIterable<Int16Array> {
    const rate = this.sampleRate;
    const words = text.split(/\s+/).filter((w) => w.length > 0).length;
    for (let w = 0; w < words; w++) {
      const tone = new Int16Array(Math.round(rate * 0.12));
      for (let i = 0; i < tone.length; i++)
        tone[i] = Math.round(6000 * Math.sin((2 * Math.PI * 440 * i) / rate));
      yield tone;
      yield new Int16Array(Math.round(rate * 0.08));
    }
  }
}

// ---------------------------------------------------------------------------------------------------------
// The bot

/** The STT, LLM and TTS services of one session. */
export interface VoiceAgentServices {
  stt: STTService;
  llm: LLMService;
  tts: TTSService;
}

/**
 * Builds the services from the environment (see the file header): `STT_COMMAND`, `OPENAI_BASE_URL`,
 * `OPENAI_API_KEY`, `OPENAI_MODEL`, `ESPEAK_VOICE`.
 */
export function servicesFromEnv(env: NodeJS.ProcessEnv = process.env): VoiceAgentServices {
  const sttCommand = env['STT_COMMAND'];
  const stt =
    sttCommand !== undefined && sttCommand !== '' ? new CommandSTT(sttCommand) : new TurnDurationSTT();
  const baseUrl = env['OPENAI_BASE_URL'] ?? (env['OPENAI_API_KEY'] ? 'https://api.openai.com/v1' : undefined);
  const llm =
    baseUrl !== undefined && baseUrl !== ''
      ? new OpenAICompatibleLLM({ baseUrl, apiKey: env['OPENAI_API_KEY'], model: env['OPENAI_MODEL'] })
      : new RuleBasedLLM();
  let tts: TTSService;
  if (hasEspeak()) {
    tts = new EspeakTTS({ voice: env['ESPEAK_VOICE'] });
  } else {
    getLogger().warn('voice agent: espeak-ng not found on PATH, the bot will beep instead of speaking');
    tts = new BeepTTS();
  }
  return { stt, llm, tts };
}

/** The system prompt of the example. */
export const SYSTEM_PROMPT =
  'You are a friendly voice assistant in a WebRTC call. Your output is spoken aloud, so answer in one or ' +
  'two short sentences of plain text, without emojis, lists or markdown.';

/** Options of {@link runVoiceAgent}. */
export interface VoiceAgentOptions {
  /** The services (default {@link servicesFromEnv}). */
  services?: VoiceAgentServices;
  /** Called with the transport and the context once they exist (tests observe them). */
  onSession?: (session: { transport: SmallWebRTCTransport; context: LLMContext; task: PipelineTask }) => void;
  /** Extra processors placed after the assistant aggregator (tests tap the pipeline's end here). */
  taps?: FrameProcessor[];
}

/** Runs one voice-agent session on `connection` until the client leaves. */
export async function runVoiceAgent(
  connection: SmallWebRTCConnection,
  options: VoiceAgentOptions = {},
): Promise<void> {
  const { stt, llm, tts } = options.services ?? servicesFromEnv();
  const transport = new SmallWebRTCTransport({
    webrtcConnection: connection,
    params: new TransportParams({
      audioInEnabled: true,
      audioOutEnabled: true,
      vadAnalyzer: new SileroVADAnalyzer(),
    }),
  });
  const context = new LLMContext([{ role: 'system', content: SYSTEM_PROMPT }]);
  // The STT here is segmented (it transcribes a turn after the VAD's stop), so its text arrives whole: the user
  // aggregator need not wait long for more (Pipecat's default 0.5 s suits streaming STTs).
  const contextAggregator = new LLMContextAggregatorPair(context, { user: { aggregationTimeoutSecs: 0.2 } });
  const rtvi = new RTVIProcessor();
  const pipeline = new Pipeline([
    transport.input(),
    rtvi,
    stt,
    contextAggregator.user(),
    llm,
    tts,
    transport.output(),
    contextAggregator.assistant(),
    ...(options.taps ?? []),
  ]);
  const task = new PipelineTask(pipeline, {
    params: { allowInterruptions: true },
    observers: [new RTVIObserver(rtvi)],
  });
  options.onSession?.({ transport, context, task });

  transport.eventHandler('on_client_connected', async () => {
    // Kick off the conversation: the bot speaks first.
    context.addMessage({ role: 'system', content: 'Please introduce yourself to the user.' });
    await task.queueFrames([new LLMRunFrame()]);
  });
  transport.eventHandler('on_client_closed', async () => {
    await task.cancel();
  });
  await new PipelineRunner({ handleSigint: false }).run(task);
}

if (isMain(import.meta.url)) {
  const s = servicesFromEnv();
  await serveBot(
    `voice agent (${s.stt.constructor.name}, ${s.llm.constructor.name}, ${s.tts.constructor.name})`,
    (connection) => runVoiceAgent(connection),
  );
}
