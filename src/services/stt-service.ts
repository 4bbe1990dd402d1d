import { SmallWebRTCRangeError, SmallWebRTCTypeError } from '../errors.js';
import {
  CancelFrame,
  EndFrame,
  FrameDirection,
  FrameProcessor,
  InputAudioRawFrame,
  TranscriptionFrame,
  UserStartedSpeakingFrame,
  UserStoppedSpeakingFrame,
  type Frame,
  type FrameProcessorOptions,
} from '../pipeline/index.js';
import { logger } from '../pipeline/logger.js';
import { untilAborted, type StreamOrPromise } from './iterate.js';

/** Options of {@link STTService}. */
export interface STTServiceOptions extends FrameProcessorOptions {
  /** `userId` of the TranscriptionFrames pushed (default `''`). */
  userId?: string;
  /** BCP-47 language put on the TranscriptionFrames, if known. */
  language?: string;
  /**
   * Audio kept from before the VAD confirmed speech, seconds (default 0.5, range 0..2): the VAD reports a
   * start only after `startSecs` of speech, so without it every turn would lose its first syllable.
   */
  prerollSecs?: number;
  /** Longest turn buffered, seconds (default 30, range 1..300); later audio of the turn is dropped. */
  maxTurnSecs?: number;
  /** Pass InputAudioRawFrames on downstream (default true, as Pipecat's `audio_passthrough`). */
  audioPassthrough?: boolean;
}

/**
 * Base of a segmented speech-to-text service (Pipecat's `SegmentedSTTService`): buffers the user's audio
 * between UserStartedSpeakingFrame and UserStoppedSpeakingFrame (plus a short pre-roll) and, when the turn
 * ends, hands it to {@link STTService.runStt}; every non-empty text it yields becomes a
 * {@link TranscriptionFrame} pushed downstream. Other frames pass through.
 *
 * Transcriptions run one at a time in turn order, outside the frame path (a slow provider never holds input
 * audio or interruptions), so they reach the next processor shortly after the UserStoppedSpeakingFrame; the
 * user context aggregator waits for them (`aggregationTimeoutSecs`). An EndFrame waits for pending ones; a
 * CancelFrame abandons them.
 * A provider error is logged and pushed upstream as a non-fatal ErrorFrame; the service keeps running.
 *
 * Subclass it to plug in a real service (Deepgram, Whisper, a local command...):
 * ```ts
 * class MySTT extends STTService {
 *   async runStt(audio: Int16Array, sampleRate: number): Promise<string> { return await myApi(audio, sampleRate); }
 * }
 * ```
 */
export abstract class STTService extends FrameProcessor {
  /** `userId` of the pushed transcriptions. */
  readonly userId: string;
  /** Language of the pushed transcriptions, if known. */
  readonly language: string | undefined;
  readonly #prerollSecs: number;
  readonly #maxTurnSecs: number;
  readonly #passthrough: boolean;
  /** Mono chunks of the current turn (or the pre-roll while the user is silent). */
  #chunks: Int16Array[] = [];
  #buffered = 0;
  #sampleRate = 0;
  #speaking = false;
  #truncated = false;
  /** Chain of pending transcriptions (keeps them in turn order). */
  #pending: Promise<void> = Promise.resolve();
  #abort = new AbortController();

  constructor(options: STTServiceOptions = {}) {
    super(options);
    this.userId = options.userId ?? '';
    if (typeof this.userId !== 'string')
      throw new SmallWebRTCTypeError('ERR_INVALID_ARG', 'userId must be a string');
    this.language = options.language;
    this.#prerollSecs = checkSecs(options.prerollSecs, 0.5, 0, 2, 'prerollSecs');
    this.#maxTurnSecs = checkSecs(options.maxTurnSecs, 30, 1, 300, 'maxTurnSecs');
    this.#passthrough = options.audioPassthrough ?? true;
  }

  /**
   * Transcribes one user turn: `audio` is mono s16 PCM at `sampleRate` Hz (the input transport's rate,
   * 16000 by default). Return the text, or yield text segments as they are final. `signal` aborts when the
   * pipeline is cancelled: pass it to network calls.
   */
  abstract runStt(audio: Int16Array, sampleRate: number, signal: AbortSignal): StreamOrPromise<string>;

  override async processFrame(frame: Frame, direction: FrameDirection): Promise<void> {
    if (frame instanceof InputAudioRawFrame) {
      this.#addAudio(frame);
      if (this.#passthrough) await this.pushFrame(frame, direction);
      return;
    }
    if (frame instanceof UserStartedSpeakingFrame) {
      this.#speaking = true;
      this.#truncated = false;
    } else if (frame instanceof UserStoppedSpeakingFrame) {
      if (this.#speaking) this.#endTurn();
      this.#speaking = false;
    } else if (frame instanceof EndFrame) {
      // A graceful end lets the last turn's transcription through first.
      await this.#pending;
    } else if (frame instanceof CancelFrame) {
      this.#abort.abort();
      this.#abort = new AbortController();
      this.#speaking = false;
      this.#chunks = [];
      this.#buffered = 0;
    }
    await this.pushFrame(frame, direction);
  }

  override async cleanup(): Promise<void> {
    this.#abort.abort();
    this.#chunks = [];
    this.#buffered = 0;
    await super.cleanup();
  }

  #addAudio(frame: InputAudioRawFrame): void {
    if (frame.sampleRate !== this.#sampleRate) {
      // A rate change makes the buffered audio unusable with the new rate; start afresh.
      this.#chunks = [];
      this.#buffered = 0;
      this.#sampleRate = frame.sampleRate;
    }
    const mono = toMono(frame.audio, frame.numChannels);
    if (this.#speaking) {
      if (this.#buffered + mono.length > this.#maxTurnSecs * this.#sampleRate) {
        if (!this.#truncated)
          logger().warn(`${this.name}: turn longer than ${this.#maxTurnSecs} s, truncated`);
        this.#truncated = true;
        return;
      }
      this.#chunks.push(mono);
      this.#buffered += mono.length;
      return;
    }
    // Silent: keep only the last prerollSecs.
    this.#chunks.push(mono);
    this.#buffered += mono.length;
    const keep = this.#prerollSecs * this.#sampleRate;
    while (this.#chunks.length > 0 && this.#buffered - (this.#chunks[0]?.length ?? 0) >= keep) {
      this.#buffered -= this.#chunks.shift()?.length ?? 0;
    }
  }

  #endTurn(): void {
    const audio = concat(this.#chunks, this.#buffered);
    const sampleRate = this.#sampleRate;
    this.#chunks = [];
    this.#buffered = 0;
    if (audio.length === 0 || sampleRate === 0) return;
    const signal = this.#abort.signal;
    // Detached: the transcription does not belong to this frame's run, and must not hold the system path.
    this.#pending = this.detached(() =>
      this.#pending
        .then(() => this.#transcribe(audio, sampleRate, signal))
        .catch((err: unknown) => logger().error(`${this.name}: transcription failed`, err)),
    );
  }

  async #transcribe(audio: Int16Array, sampleRate: number, signal: AbortSignal): Promise<void> {
    if (signal.aborted) return;
    try {
      for await (const text of untilAborted(this.runStt(audio, sampleRate, signal), signal)) {
        if (typeof text !== 'string' || text.trim().length === 0) continue;
        await this.pushFrame(
          new TranscriptionFrame({ text, userId: this.userId, language: this.language }),
          FrameDirection.DOWNSTREAM,
        );
      }
    } catch (err) {
      if (signal.aborted) return;
      const message = err instanceof Error ? err.message : String(err);
      logger().error(`${this.name}: speech-to-text failed`, err);
      await this.pushError(`${this.name}: speech-to-text failed: ${message}`, { exception: err });
    }
  }
}

function checkSecs(v: number | undefined, def: number, min: number, max: number, field: string): number {
  if (v === undefined) return def;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) {
    throw new SmallWebRTCRangeError(
      'ERR_INVALID_ARG',
      `${field} must be in [${min}, ${max}] s, got ${String(v)}`,
    );
  }
  return v;
}

function toMono(audio: Int16Array, channels: number): Int16Array {
  if (channels === 1) return audio.slice(); // a copy: the frame's buffer is not ours to keep
  const n = audio.length / channels;
  const out = new Int16Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let c = 0; c < channels; c++) s += audio[i * channels + c] ?? 0;
    out[i] = Math.round(s / channels);
  }
  return out;
}

function concat(chunks: readonly Int16Array[], total: number): Int16Array {
  const out = new Int16Array(total);
  let o = 0;
  for (const c of chunks) {
    out.set(c, o);
    o += c.length;
  }
  return out;
}
