import { SmallWebRTCRangeError, SmallWebRTCTypeError } from '../errors.js';
import {
  EndFrame,
  FrameDirection,
  FrameProcessor,
  InterruptionFrame,
  LLMFullResponseEndFrame,
  LLMFullResponseStartFrame,
  TextFrame,
  TranscriptionFrame,
  TTSAudioRawFrame,
  TTSSpeakFrame,
  TTSStartedFrame,
  TTSStoppedFrame,
  TTSTextFrame,
  type Frame,
  type FrameProcessorOptions,
} from '../pipeline/index.js';
import { logger } from '../pipeline/logger.js';
import { untilAborted } from './iterate.js';

/** Abbreviations whose trailing period does not end a sentence (lower case, without the period). */
const ABBREVIATIONS = new Set(['mr', 'mrs', 'ms', 'dr', 'prof', 'sr', 'jr', 'st', 'vs', 'etc', 'e.g', 'i.e']);

/**
 * Where the first complete sentence of `text` ends (the index just after its punctuation and closing
 * quotes/brackets), or 0 if there is none yet (Pipecat's `match_endofsentence`). A sentence ends at `.`,
 * `!`, `?`, `;`, `…` (or their CJK forms) followed by whitespace, or at a newline, so a stream cut inside
 * "3.5" or before the space after "Hello." waits for more text. "Dr." and similar abbreviations do not end a
 * sentence.
 */
export function matchEndOfSentence(text: string): number {
  const re = /[.!?;…]+["'”’)\]]*(?=\s)|[。！？；]+["'”’)\]]*|\n/g;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    if (m[0].startsWith('.') && !m[0].startsWith('..')) {
      const word = /(\S+)$/.exec(text.slice(0, m.index))?.[1]?.toLowerCase();
      if (word !== undefined && ABBREVIATIONS.has(word)) continue;
    }
    if (m[0] === '\n' && text.slice(0, m.index).trim().length === 0) continue;
    return m.index + m[0].length;
  }
  return 0;
}

/** Options of {@link TTSService}. */
export interface TTSServiceOptions extends FrameProcessorOptions {
  /** Sample rate of the audio `runTts` yields, Hz (default 24000, Pipecat's TTS default). */
  sampleRate?: number;
  /** Speak whole sentences (default true); false speaks every text frame as it arrives. */
  aggregateSentences?: boolean;
  /** Push a TTSTextFrame with each utterance's text after its audio (default true). */
  pushTextFrames?: boolean;
}

/** Text buffered without a sentence end before it is spoken anyway, at a word boundary (characters). */
const MAX_PENDING_CHARS = 500;

/**
 * Base of a text-to-speech service (Pipecat's `TTSService`). Collects LLM text (and any other TextFrame but
 * transcriptions) into sentences; each sentence is spoken with {@link TTSService.runTts} and pushed as
 * `TTSStartedFrame`, `TTSAudioRawFrame`s (mono, at `sampleRate`), `TTSStoppedFrame`, then a `TTSTextFrame`
 * with the sentence (so an assistant aggregator after the output transport records the text once its audio
 * went out). What is left at `LLMFullResponseEndFrame` (or EndFrame) is spoken then; a `TTSSpeakFrame` is
 * spoken at once. The text frames themselves are consumed; other frames pass through.
 *
 * Interruptions drop the pending text, end the wait for the provider's next chunk at once, abort the
 * `signal` given to `runTts` and stop the pushes (the base class drops anything an interrupted run pushes).
 * A provider error is logged and pushed upstream as a non-fatal ErrorFrame.
 *
 * Subclass it to plug in a real service:
 * ```ts
 * class MyTTS extends TTSService {
 *   async *runTts(text: string, signal: AbortSignal) { for await (const pcm of myApi(text, { signal })) yield pcm; }
 * }
 * ```
 */
export abstract class TTSService extends FrameProcessor {
  /** Sample rate of the produced audio, Hz. */
  readonly sampleRate: number;
  readonly #aggregate: boolean;
  readonly #pushText: boolean;
  #text = '';

  constructor(options: TTSServiceOptions = {}) {
    super(options);
    const rate = options.sampleRate ?? 24000;
    if (typeof rate !== 'number' || !Number.isInteger(rate) || rate < 8000 || rate > 192000) {
      throw new SmallWebRTCRangeError(
        'ERR_INVALID_ARG',
        `sampleRate must be an integer in [8000, 192000] Hz, got ${String(rate)}`,
      );
    }
    this.sampleRate = rate;
    this.#aggregate = options.aggregateSentences ?? true;
    this.#pushText = options.pushTextFrames ?? true;
  }

  /**
   * Synthesises `text` (one sentence, trimmed) as mono s16 PCM chunks at {@link TTSService.sampleRate}.
   * `signal` aborts on interruption or cancellation: pass it to network calls or child processes.
   */
  abstract runTts(text: string, signal: AbortSignal): AsyncIterable<Int16Array>;

  override async processFrame(frame: Frame, direction: FrameDirection): Promise<void> {
    if (
      frame instanceof TextFrame &&
      !(frame instanceof TranscriptionFrame) &&
      !(frame instanceof TTSTextFrame)
    ) {
      if (!this.#aggregate) {
        await this.#speak(frame.text);
        return;
      }
      this.#text += frame.text;
      for (let end = this.#nextEnd(); end > 0; end = this.#nextEnd()) {
        const sentence = this.#text.slice(0, end);
        this.#text = this.#text.slice(end);
        await this.#speak(sentence);
      }
      return;
    }
    if (frame instanceof TTSSpeakFrame) {
      await this.#flush();
      await this.#speak(frame.text);
      return;
    }
    if (frame instanceof LLMFullResponseStartFrame || frame instanceof InterruptionFrame) {
      this.#text = '';
    } else if (frame instanceof LLMFullResponseEndFrame || frame instanceof EndFrame) {
      await this.#flush();
    }
    await this.pushFrame(frame, direction);
  }

  /** The end of the next utterance in the pending text (0 = wait for more). */
  #nextEnd(): number {
    const end = matchEndOfSentence(this.#text);
    if (end > 0 || this.#text.length < MAX_PENDING_CHARS) return end;
    const space = this.#text.lastIndexOf(' ');
    return space > 0 ? space + 1 : this.#text.length;
  }

  async #flush(): Promise<void> {
    const rest = this.#text;
    this.#text = '';
    await this.#speak(rest);
  }

  async #speak(raw: string): Promise<void> {
    const text = raw.trim();
    if (text.length === 0) return;
    const signal = this.interruptionSignal;
    if (signal.aborted) return;
    await this.pushFrame(new TTSStartedFrame());
    try {
      for await (const pcm of untilAborted(this.runTts(text, signal), signal)) {
        if (!(pcm instanceof Int16Array))
          throw new SmallWebRTCTypeError('ERR_INVALID_ARG', 'runTts must yield Int16Array chunks');
        if (pcm.length === 0) continue;
        await this.pushFrame(new TTSAudioRawFrame({ audio: pcm, sampleRate: this.sampleRate }));
      }
    } catch (err) {
      if (!signal.aborted) {
        const message = err instanceof Error ? err.message : String(err);
        logger().error(`${this.name}: text-to-speech failed`, err);
        await this.pushError(`${this.name}: text-to-speech failed: ${message}`, { exception: err });
      }
    }
    if (signal.aborted) return;
    await this.pushFrame(new TTSStoppedFrame());
    if (this.#pushText) await this.pushFrame(new TTSTextFrame(text));
  }
}
