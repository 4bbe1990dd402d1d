// Voice activity detection: the analyzer interface, its parameters and the state machine shared by every
// detector. Mirrors Pipecat's `pipecat.audio.vad.vad_analyzer` (VADState, VADParams, VADAnalyzer): audio is
// cut into fixed windows (512 samples = 32 ms at 16 kHz for Silero), each window gets a voice confidence
// (0..1, from the model) and a smoothed loudness (0..1, ITU-R BS.1770 K-weighted), and a window "is speech"
// when both clear their thresholds. startSecs of consecutive speech windows confirm SPEAKING, stopSecs of
// consecutive non-speech windows confirm QUIET. Everything here runs on the JS thread; it allocates nothing
// per call except the returned transition list.
import {
  SmallWebRTCError,
  SmallWebRTCRangeError,
  SmallWebRTCTypeError,
  type SmallWebRTCErrorCode,
} from '../errors.js';

/** The four VAD states (Pipecat's `VADState`). */
export const VADState = {
  /** No voice. */
  QUIET: 'QUIET',
  /** Voice seen, not yet for `startSecs`. */
  STARTING: 'STARTING',
  /** Voice confirmed. */
  SPEAKING: 'SPEAKING',
  /** Voice stopped, not yet for `stopSecs`. */
  STOPPING: 'STOPPING',
} as const;
/** One of the {@link VADState} values. */
export type VADState = (typeof VADState)[keyof typeof VADState];

/** Pipecat's default minimum voice confidence (`VAD_CONFIDENCE`). */
export const VAD_CONFIDENCE = 0.7;
/** Pipecat's default time of voice before SPEAKING, seconds (`VAD_START_SECS`). */
export const VAD_START_SECS = 0.2;
/** Pipecat's default time of silence before QUIET, seconds (`VAD_STOP_SECS`). */
export const VAD_STOP_SECS = 0.8;
/** Pipecat's default minimum smoothed loudness, 0..1 (`VAD_MIN_VOLUME`). */
export const VAD_MIN_VOLUME = 0.6;

/** Fields accepted by {@link VADParams}; every field is optional and defaults to Pipecat's value. */
export interface VADParamsInit {
  /** Minimum per-window voice confidence, 0..1 (default 0.7). */
  confidence?: number;
  /** Seconds of consecutive voice before the state becomes SPEAKING (default 0.2). */
  startSecs?: number;
  /** Seconds of consecutive non-voice before the state becomes QUIET (default 0.8). */
  stopSecs?: number;
  /** Minimum smoothed loudness, 0..1 (0 = -110 LUFS or gated, 1 = -10 LUFS; default 0.6 = -50 LUFS). */
  minVolume?: number;
}

function checkUnit(field: string, v: number): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > 1) {
    throw new SmallWebRTCRangeError(
      'ERR_INVALID_ARG',
      `VADParams.${field} must be a number in [0, 1], got ${String(v)}`,
    );
  }
  return v;
}

function checkSecs(field: string, v: number): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > 60) {
    throw new SmallWebRTCRangeError(
      'ERR_INVALID_ARG',
      `VADParams.${field} must be a number of seconds in [0, 60], got ${String(v)}`,
    );
  }
  return v;
}

/** VAD thresholds and timings (Pipecat's `VADParams`), validated on construction. */
export class VADParams {
  /** Minimum per-window voice confidence, 0..1. */
  readonly confidence: number;
  /** Seconds of consecutive voice before SPEAKING. */
  readonly startSecs: number;
  /** Seconds of consecutive non-voice before QUIET. */
  readonly stopSecs: number;
  /** Minimum smoothed loudness, 0..1. */
  readonly minVolume: number;

  /** @throws RangeError naming the field when a value is out of range. */
  constructor(init: VADParamsInit = {}) {
    if (init === null || typeof init !== 'object')
      throw new SmallWebRTCTypeError('ERR_INVALID_ARG', 'VADParams: init must be an object');
    this.confidence = checkUnit('confidence', init.confidence ?? VAD_CONFIDENCE);
    this.startSecs = checkSecs('startSecs', init.startSecs ?? VAD_START_SECS);
    this.stopSecs = checkSecs('stopSecs', init.stopSecs ?? VAD_STOP_SECS);
    this.minVolume = checkUnit('minVolume', init.minVolume ?? VAD_MIN_VOLUME);
  }
}

/** One state change, reported by {@link VADAnalyzer.analyze}. */
export interface VADTransition {
  /** State before the window. */
  from: VADState;
  /** State after the window. */
  to: VADState;
  /**
   * Number of samples (per channel) fed to the analyzer since the last `reset()` up to the end of the
   * window that caused the change; `sample / sampleRate` is the stream time of the change in seconds.
   */
  sample: number;
  /** Voice confidence of that window, 0..1. */
  confidence: number;
  /** Smoothed loudness of that window, 0..1. */
  volume: number;
}

/** Result of one {@link VADAnalyzer.analyze} call. */
export interface VADAnalysis {
  /** State after all complete windows of this call. */
  state: VADState;
  /** State changes during this call, oldest first (empty when nothing changed). */
  transitions: VADTransition[];
  /** Number of complete windows analysed in this call. */
  windows: number;
  /** Confidence of the last analysed window (this call or earlier), 0..1. */
  lastConfidence: number;
  /** Smoothed loudness of the last analysed window, 0..1. */
  lastVolume: number;
}

/** Running counters of an analyzer since its last `reset()` (for live stats pages and benchmarks). */
export interface VADStats {
  /** Current state. */
  state: VADState;
  /** Windows analysed. */
  windows: number;
  /** Times the state became SPEAKING from STARTING (user turns started). */
  speechStarts: number;
  /** Confidence of the last window, 0..1. */
  lastConfidence: number;
  /** Smoothed loudness of the last window, 0..1. */
  lastVolume: number;
  /** Mean time per window spent computing confidence + loudness, microseconds (JS thread). */
  meanWindowUs: number;
  /** Longest time for one window, microseconds. */
  maxWindowUs: number;
  /** Windows of digital silence not given to the model (see {@link BaseVADAnalyzerOptions.skipSilence}). */
  skippedWindows: number;
}

/**
 * A voice activity detector (Pipecat's `VADAnalyzer`). Feed it mono 16-bit audio in any chunk size;
 * it reports QUIET/STARTING/SPEAKING/STOPPING. A transport emits UserStartedSpeaking when the state becomes
 * SPEAKING and UserStoppedSpeaking when it becomes QUIET (STARTING/STOPPING are never reported as frames).
 * Calls are serialised internally; one analyzer serves one audio stream.
 */
export interface VADAnalyzer {
  /** Sample rate in Hz; 0 until {@link VADAnalyzer.setSampleRate} ran (or given to the constructor). */
  readonly sampleRate: number;
  /** Always 1: the analyzer takes mono audio. */
  readonly numChannels: number;
  /** Current thresholds. */
  readonly params: VADParams;
  /** Current state. */
  readonly state: VADState;
  /** Samples per analysis window at the current sample rate (512 at 16 kHz for Silero). */
  numFramesRequired(): number;
  /**
   * Sets the stream sample rate (the transport calls this with `audioInSampleRate` at start); a rate given to
   * the constructor wins, as in Pipecat. Resets state.
   */
  setSampleRate(sampleRate: number): void;
  /** Replaces thresholds and timings; resets the state machine to QUIET (as Pipecat's `set_params`). */
  setParams(params: VADParams | VADParamsInit): void;
  /** Pipecat's `analyze_audio`: feeds mono Int16 audio (or its little-endian bytes), returns the new state. */
  analyzeAudio(audio: Int16Array | Uint8Array): Promise<VADState>;
  /** Like {@link VADAnalyzer.analyzeAudio} but also returns the transitions and last window's numbers. */
  analyze(audio: Int16Array | Uint8Array): Promise<VADAnalysis>;
  /**
   * Back to QUIET with empty buffers and fresh model state (e.g. on a new stream). Meant for when no
   * `analyze()` is pending; a window already inside the model finishes against the old model state.
   */
  reset(): void;
  /** Counters since the last reset. */
  stats(): VADStats;
  /**
   * Loads the model ahead of the first audio (optional; analyzers without a model omit it). The input
   * transport awaits it at StartFrame so audio never piles up behind a model load.
   */
  load?(): Promise<void>;
  /** Releases resources (model session); later calls throw. Idempotent. */
  close(): Promise<void>;
}

/**
 * Error thrown by VAD analyzers. Codes: `ERR_CLOSED` (used after close()), `ERR_INVALID_STATE` (analyze()
 * before a sample rate is set), `ERR_VAD_UNAVAILABLE` (onnxruntime-node or the model file cannot be loaded).
 */
export class VADError extends SmallWebRTCError {
  /** @param code stable code; @param message human-readable text. */
  constructor(code: SmallWebRTCErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = 'VADError';
  }
}

/** Volume smoothing factor per window, as Pipecat's `_smoothing_factor`. */
const SMOOTHING_FACTOR = 0.2;

/** Biquad (direct form I) coefficients, normalised by a0. */
interface Biquad {
  b0: number;
  b1: number;
  b2: number;
  a1: number;
  a2: number;
}

/**
 * ITU-R BS.1770 K-weighting for any sample rate, designed the way pyloudnorm (which Pipecat uses) does it:
 * a +4 dB high shelf at 1500 Hz (Q 1/sqrt 2) followed by a high pass at 38 Hz (Q 0.5).
 */
function kWeighting(fs: number): [Biquad, Biquad] {
  const shelfA = 10 ** (4 / 40);
  let w0 = (2 * Math.PI * 1500) / fs;
  let alpha = Math.sin(w0) / (2 * Math.SQRT1_2);
  let c = Math.cos(w0);
  const sa = 2 * Math.sqrt(shelfA) * alpha;
  let a0 = shelfA + 1 - (shelfA - 1) * c + sa;
  const shelf: Biquad = {
    b0: (shelfA * (shelfA + 1 + (shelfA - 1) * c + sa)) / a0,
    b1: (-2 * shelfA * (shelfA - 1 + (shelfA + 1) * c)) / a0,
    b2: (shelfA * (shelfA + 1 + (shelfA - 1) * c - sa)) / a0,
    a1: (2 * (shelfA - 1 - (shelfA + 1) * c)) / a0,
    a2: (shelfA + 1 - (shelfA - 1) * c - sa) / a0,
  };
  w0 = (2 * Math.PI * 38) / fs;
  alpha = Math.sin(w0) / (2 * 0.5);
  c = Math.cos(w0);
  a0 = 1 + alpha;
  const hp: Biquad = {
    b0: (1 + c) / 2 / a0,
    b1: -(1 + c) / a0,
    b2: (1 + c) / 2 / a0,
    a1: (-2 * c) / a0,
    a2: (1 - alpha) / a0,
  };
  return [shelf, hp];
}

/**
 * Loudness of one window on Pipecat's 0..1 scale: BS.1770 loudness of the K-weighted window
 * (-0.691 + 10 log10(mean square)), gated at -70 LUFS (-> 0), mapped linearly from [-110, -10] LUFS to [0, 1].
 * The filter state is carried across windows (a stream), where pyloudnorm restarts it per window; the
 * difference is the 38 Hz high-pass start-up transient only.
 */
export class WindowLoudness {
  readonly #f: [Biquad, Biquad];
  // Filter memories: x[n-1], x[n-2], y[n-1], y[n-2] for each biquad.
  readonly #m = new Float64Array(8);

  /** @param sampleRate Hz. */
  constructor(sampleRate: number) {
    this.#f = kWeighting(sampleRate);
  }

  /** Forgets filter history. */
  reset(): void {
    this.#m.fill(0);
  }

  /** Loudness of `window` (float samples in [-1, 1]) on the 0..1 scale. */
  measure(window: Float32Array, start = 0, end = window.length): number {
    const [s, h] = this.#f;
    const m = this.#m;
    let x1 = m[0] ?? 0,
      x2 = m[1] ?? 0,
      y1 = m[2] ?? 0,
      y2 = m[3] ?? 0;
    let u1 = m[4] ?? 0,
      u2 = m[5] ?? 0,
      z1 = m[6] ?? 0,
      z2 = m[7] ?? 0;
    let sum = 0;
    for (let i = start; i < end; i++) {
      const x = window[i] ?? 0;
      const y = s.b0 * x + s.b1 * x1 + s.b2 * x2 - s.a1 * y1 - s.a2 * y2;
      x2 = x1;
      x1 = x;
      y2 = y1;
      y1 = y;
      const z = h.b0 * y + h.b1 * u1 + h.b2 * u2 - h.a1 * z1 - h.a2 * z2;
      u2 = u1;
      u1 = y;
      z2 = z1;
      z1 = z;
      sum += z * z;
    }
    m[0] = x1;
    m[1] = x2;
    m[2] = y1;
    m[3] = y2;
    m[4] = u1;
    m[5] = u2;
    m[6] = z1;
    m[7] = z2;
    const n = end - start;
    if (n <= 0 || sum <= 0) return 0;
    const lufs = -0.691 + 10 * Math.log10(sum / n);
    if (lufs < -70) return 0;
    return Math.max(0, Math.min(1, (lufs + 110) / 100));
  }
}

/** Options shared by analyzers built on {@link BaseVADAnalyzer}. */
export interface BaseVADAnalyzerOptions {
  /** Fixed sample rate in Hz; when set, `setSampleRate` keeps it (Pipecat semantics). */
  sampleRate?: number;
  /** Thresholds and timings (defaults: Pipecat's). */
  params?: VADParams | VADParamsInit;
  /**
   * Skip the model on windows of digital silence while QUIET (default true). A window whose samples all stay
   * within 8 LSB (-72 dBFS: what a muted microphone, a DTX pause or the jitter buffer's fill for it decode
   * to) is counted as non-speech without asking the model, when the state is QUIET and `minVolume` > 0: its
   * loudness (measured as usual) is far below any `minVolume` a voice needs (0.6 = -50 LUFS by default), so
   * it could not move the state. The model's recurrent state then starts over at the next window it
   * analyses, as after the periodic reset Pipecat does (`resetIntervalSecs`). A connected but silent user
   * then costs no inference. false: every window goes to the model.
   */
  skipSilence?: boolean;
}

/** Peak (int16 LSB) up to which a window is digital silence for {@link BaseVADAnalyzerOptions.skipSilence}. */
const SILENT_PEAK = 8 / 32768;

function isDigitalSilence(win: Float32Array): boolean {
  for (let i = 0; i < win.length; i++) {
    const x = win[i]!;
    if (x > SILENT_PEAK || x < -SILENT_PEAK) return false;
  }
  return true;
}

/**
 * The VAD state machine over fixed windows. Subclasses supply the window size and the per-window voice
 * confidence; this class buffers arbitrary chunks into windows, measures loudness, and runs
 * QUIET -> STARTING -> SPEAKING -> STOPPING -> QUIET with Pipecat's counting rules:
 * startFrames = round(startSecs / windowSecs), stopFrames = round(stopSecs / windowSecs);
 * a non-speech window in STARTING returns to QUIET, a speech window in STOPPING returns to SPEAKING.
 * Unlike Pipecat, which checks the start/stop counters once per `analyze_audio` call, the counters are
 * checked after every window, so the result does not depend on how the audio was chunked.
 */
export abstract class BaseVADAnalyzer implements VADAnalyzer {
  readonly #initSampleRate: number;
  #sampleRate = 0;
  #params: VADParams;
  #state: VADState = VADState.QUIET;
  #startingCount = 0;
  #stoppingCount = 0;
  #startFrames = 0;
  #stopFrames = 0;
  #prevVolume = 0;
  #lastConfidence = 0;
  #lastVolume = 0;
  #samplesFed = 0;
  #windows = 0;
  #speechStarts = 0;
  #windowUsTotal = 0;
  #windowUsMax = 0;
  #skippedWindows = 0;
  readonly #skipSilence: boolean;
  /** The model skipped windows since it last ran: reset its state before the next window it analyses. */
  #modelStale = false;
  #closed = false;
  // The pending window as floats in [-1, 1]; `#fill` samples are valid.
  #window = new Float32Array(0);
  #fill = 0;
  #loudness: WindowLoudness | undefined;
  // Serialises analyze() calls: windows must reach the model in order even if a caller does not await.
  #tail: Promise<unknown> = Promise.resolve();

  /** @throws RangeError for an invalid sample rate or params. */
  protected constructor(opts: BaseVADAnalyzerOptions = {}) {
    if (opts.sampleRate !== undefined) this.validateSampleRate(opts.sampleRate);
    this.#initSampleRate = opts.sampleRate ?? 0;
    this.#params = opts.params instanceof VADParams ? opts.params : new VADParams(opts.params ?? {});
    this.#skipSilence = opts.skipSilence ?? true;
    if (this.#initSampleRate) {
      // Not setSampleRate(): subclass fields do not exist yet, so no resetModel() hook may run here.
      // numFramesRequired() must therefore depend on `sampleRate` only.
      this.#sampleRate = this.#initSampleRate;
      this.#loudness = new WindowLoudness(this.#sampleRate);
      this.#configure();
    }
  }

  /** Samples per window at `sampleRate` (subclass contract). */
  abstract numFramesRequired(): number;

  /**
   * Voice confidence (0..1) of one window of `numFramesRequired()` float samples in [-1, 1]. The array is
   * reused for the next window: copy it if kept.
   */
  protected abstract voiceConfidence(window: Float32Array): number | Promise<number>;

  /** Hook for subclasses to drop model state; called by `reset()` and on rate changes. */
  protected resetModel(): void {}

  /** Throws RangeError for a rate the detector cannot use; subclasses narrow it. */
  protected validateSampleRate(sampleRate: number): void {
    if (!Number.isInteger(sampleRate) || sampleRate < 8000 || sampleRate > 48000) {
      throw new SmallWebRTCRangeError(
        'ERR_INVALID_ARG',
        `sampleRate must be an integer Hz in [8000, 48000], got ${String(sampleRate)}`,
      );
    }
  }

  /** Sample rate in Hz, 0 until set. */
  get sampleRate(): number {
    return this.#sampleRate;
  }

  /** Always 1 (mono). */
  get numChannels(): number {
    return 1;
  }

  /** Current thresholds. */
  get params(): VADParams {
    return this.#params;
  }

  /** Current state. */
  get state(): VADState {
    return this.#state;
  }

  /** Whether `close()` ran. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Window length in seconds at the current rate (0 before a rate is set). */
  get windowSecs(): number {
    return this.#sampleRate ? this.numFramesRequired() / this.#sampleRate : 0;
  }

  /** Windows of voice needed to confirm SPEAKING. */
  get startFrames(): number {
    return this.#startFrames;
  }

  /** Windows of non-voice needed to confirm QUIET. */
  get stopFrames(): number {
    return this.#stopFrames;
  }

  /** {@inheritDoc VADAnalyzer.setSampleRate} */
  setSampleRate(sampleRate: number): void {
    this.#checkOpen();
    const rate = this.#initSampleRate || sampleRate;
    this.validateSampleRate(rate);
    if (rate !== this.#sampleRate) {
      this.#sampleRate = rate;
      this.#loudness = new WindowLoudness(rate);
    }
    this.setParams(this.#params);
    this.reset();
  }

  /** {@inheritDoc VADAnalyzer.setParams} */
  setParams(params: VADParams | VADParamsInit): void {
    this.#checkOpen();
    this.#params = params instanceof VADParams ? params : new VADParams(params);
    this.#configure();
  }

  // Window buffer and start/stop window counts for the current rate and params; state back to QUIET.
  #configure(): void {
    if (this.#sampleRate) {
      const n = this.numFramesRequired();
      if (this.#window.length !== n) {
        this.#window = new Float32Array(n);
        this.#fill = 0;
      }
      const windowSecs = n / this.#sampleRate;
      this.#startFrames = Math.round(this.#params.startSecs / windowSecs);
      this.#stopFrames = Math.round(this.#params.stopSecs / windowSecs);
    }
    this.#state = VADState.QUIET;
    this.#startingCount = 0;
    this.#stoppingCount = 0;
  }

  /** {@inheritDoc VADAnalyzer.reset} */
  reset(): void {
    this.#state = VADState.QUIET;
    this.#startingCount = 0;
    this.#stoppingCount = 0;
    this.#prevVolume = 0;
    this.#lastConfidence = 0;
    this.#lastVolume = 0;
    this.#samplesFed = 0;
    this.#windows = 0;
    this.#speechStarts = 0;
    this.#windowUsTotal = 0;
    this.#windowUsMax = 0;
    this.#skippedWindows = 0;
    this.#modelStale = false;
    this.#fill = 0;
    this.#loudness?.reset();
    this.resetModel();
  }

  /** {@inheritDoc VADAnalyzer.stats} */
  stats(): VADStats {
    return {
      state: this.#state,
      windows: this.#windows,
      speechStarts: this.#speechStarts,
      lastConfidence: this.#lastConfidence,
      lastVolume: this.#lastVolume,
      meanWindowUs: this.#windows ? this.#windowUsTotal / this.#windows : 0,
      maxWindowUs: this.#windowUsMax,
      skippedWindows: this.#skippedWindows,
    };
  }

  /** {@inheritDoc VADAnalyzer.analyzeAudio} */
  async analyzeAudio(audio: Int16Array | Uint8Array): Promise<VADState> {
    return (await this.analyze(audio)).state;
  }

  /** {@inheritDoc VADAnalyzer.analyze} */
  analyze(audio: Int16Array | Uint8Array): Promise<VADAnalysis> {
    this.#checkOpen();
    if (!this.#sampleRate) {
      throw new VADError('ERR_INVALID_STATE', 'VADAnalyzer: setSampleRate() must run before analyze()');
    }
    const samples = toInt16(audio);
    const run = this.#tail.then(() => this.#analyze(samples));
    // Keep the chain alive after a failure so later calls still run in order.
    this.#tail = run.catch(() => undefined);
    return run;
  }

  /** {@inheritDoc VADAnalyzer.close} */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#tail;
    await this.releaseModel();
  }

  /** Hook for subclasses to free native resources on close. */
  protected async releaseModel(): Promise<void> {}

  async #analyze(samples: Int16Array): Promise<VADAnalysis> {
    const transitions: VADTransition[] = [];
    let windows = 0;
    const win = this.#window;
    const n = win.length;
    let i = 0;
    while (i < samples.length) {
      const take = Math.min(n - this.#fill, samples.length - i);
      for (let k = 0; k < take; k++) win[this.#fill + k] = (samples[i + k] ?? 0) / 32768;
      this.#fill += take;
      i += take;
      this.#samplesFed += take;
      if (this.#fill < n) break;
      this.#fill = 0;
      const t0 = performance.now();
      let confidence = 0;
      if (
        this.#skipSilence &&
        this.#state === VADState.QUIET &&
        this.#params.minVolume > 0 &&
        isDigitalSilence(win)
      ) {
        this.#skippedWindows++;
        this.#modelStale = true;
      } else {
        if (this.#modelStale) {
          this.#modelStale = false;
          this.resetModel();
        }
        confidence = await this.voiceConfidence(win);
      }
      const raw = this.#loudness ? this.#loudness.measure(win) : 0;
      const volume = this.#prevVolume + SMOOTHING_FACTOR * (raw - this.#prevVolume);
      this.#prevVolume = volume;
      this.#lastConfidence = confidence;
      this.#lastVolume = volume;
      windows++;
      // Includes the setImmediate hop of onnxruntime-node's run(): the latency a caller sees per window.
      const us = (performance.now() - t0) * 1000;
      this.#windows++;
      this.#windowUsTotal += us;
      if (us > this.#windowUsMax) this.#windowUsMax = us;
      const before = this.#state;
      this.#step(confidence >= this.#params.confidence && volume >= this.#params.minVolume);
      if (this.#state !== before) {
        if (before === VADState.STARTING && this.#state === VADState.SPEAKING) this.#speechStarts++;
        transitions.push({ from: before, to: this.#state, sample: this.#samplesFed, confidence, volume });
      }
    }
    return {
      state: this.#state,
      transitions,
      windows,
      lastConfidence: this.#lastConfidence,
      lastVolume: this.#lastVolume,
    };
  }

  // One window of Pipecat's state machine, plus the start/stop confirmation it does after its window loop.
  #step(speaking: boolean): void {
    if (speaking) {
      switch (this.#state) {
        case VADState.QUIET:
          this.#state = VADState.STARTING;
          this.#startingCount = 1;
          break;
        case VADState.STARTING:
          this.#startingCount++;
          break;
        case VADState.STOPPING:
          this.#state = VADState.SPEAKING;
          this.#stoppingCount = 0;
          break;
        default:
          break;
      }
    } else {
      switch (this.#state) {
        case VADState.STARTING:
          this.#state = VADState.QUIET;
          this.#startingCount = 0;
          break;
        case VADState.SPEAKING:
          this.#state = VADState.STOPPING;
          this.#stoppingCount = 1;
          break;
        case VADState.STOPPING:
          this.#stoppingCount++;
          break;
        default:
          break;
      }
    }
    if (this.#state === VADState.STARTING && this.#startingCount >= this.#startFrames) {
      this.#state = VADState.SPEAKING;
      this.#startingCount = 0;
    }
    if (this.#state === VADState.STOPPING && this.#stoppingCount >= this.#stopFrames) {
      this.#state = VADState.QUIET;
      this.#stoppingCount = 0;
    }
  }

  #checkOpen(): void {
    if (this.#closed) throw new VADError('ERR_CLOSED', 'VADAnalyzer is closed');
  }
}

// Little-endian bytes (Pipecat frames carry bytes) -> Int16 view or copy; Int16Array passes through.
function toInt16(audio: Int16Array | Uint8Array): Int16Array {
  if (audio instanceof Int16Array) return audio;
  if (!(audio instanceof Uint8Array)) {
    throw new SmallWebRTCTypeError(
      'ERR_INVALID_ARG',
      'VADAnalyzer.analyze: audio must be an Int16Array or a Uint8Array of int16 LE bytes',
    );
  }
  if (audio.byteLength % 2 !== 0) {
    throw new SmallWebRTCRangeError(
      'ERR_INVALID_ARG',
      `VADAnalyzer.analyze: audio byteLength must be even, got ${audio.byteLength}`,
    );
  }
  if (audio.byteOffset % 2 === 0) return new Int16Array(audio.buffer, audio.byteOffset, audio.byteLength / 2);
  return new Int16Array(audio.slice().buffer);
}
