// Where Silero's batched inference runs: on a worker thread (default) or on the JS thread.
//
// Why a worker: onnxruntime-node's `InferenceSession.run` executes the graph synchronously on the calling
// thread (after a setImmediate), so inline, every session's VAD windows cost the JS thread that also moves
// every session's audio: about 60-250 us per 32 ms window (batch 35 to 1; `bench/scale/silero-batch.mjs`),
// the largest share of the JS thread in the 35-session profile of docs/performance.md. On a worker the JS
// thread only packs a batch and posts it (tens of microseconds per batch), and one process uses a second
// core for inference.
//
// Threads: `SileroWorkerRunner`'s methods run on the JS thread; the worker body (WORKER_SOURCE) runs on its
// own thread with its own onnxruntime-node session. Requests are answered in order; one batch is in flight
// at a time per runner (the batcher holds the next windows back meanwhile, so they form a bigger batch).
import { Worker } from 'node:worker_threads';
import type { InferenceSession } from 'onnxruntime-node';
import { VADError } from './vad-analyzer.js';

type OrtModule = typeof import('onnxruntime-node');

/** Silero v5's recurrent state per stream: [2, 1, 128]. */
export const STATE_SIZE = 2 * 128;

/** One batch's outputs: probabilities [B] and the next state [2, B, 128]. */
export interface BatchResult {
  prob: Float32Array;
  stateN: Float32Array;
}

/** Runs batches of Silero windows on one loaded model. */
export interface BatchRunner {
  /** Where inference runs. */
  readonly thread: 'worker' | 'main';
  /**
   * Runs input [b, width] with state [2, b, 128] at `sampleRate`. The runner may take ownership of `input`
   * and `state` (the worker runner transfers their buffers): callers must not reuse them.
   */
  run(
    sampleRate: number,
    input: Float32Array<ArrayBuffer>,
    state: Float32Array<ArrayBuffer>,
    b: number,
    width: number,
  ): Promise<BatchResult>;
  /** Frees the model (and the worker). */
  release(): Promise<void>;
}

/** Session options: one thread each, as Pipecat; a VAD must not grab every core. */
export const SESSION_OPTIONS: InferenceSession.SessionOptions = {
  executionProviders: ['cpu'],
  intraOpNumThreads: 1,
  interOpNumThreads: 1,
  graphOptimizationLevel: 'all',
};

function checkOutputs(prob: unknown, stateN: unknown, b: number): BatchResult {
  if (
    !(prob instanceof Float32Array) ||
    prob.length !== b ||
    !(stateN instanceof Float32Array) ||
    stateN.length !== b * STATE_SIZE
  ) {
    throw new VADError('ERR_VAD_UNAVAILABLE', 'SileroVADAnalyzer: unexpected model outputs');
  }
  return { prob, stateN };
}

/** Inference on the JS thread (`inferenceThread: 'main'`). */
export class SileroInlineRunner implements BatchRunner {
  readonly thread = 'main';
  readonly #ort: OrtModule;
  readonly #session: InferenceSession;

  private constructor(ort: OrtModule, session: InferenceSession) {
    this.#ort = ort;
    this.#session = session;
  }

  static async start(ort: OrtModule, modelPath: string): Promise<SileroInlineRunner> {
    return new SileroInlineRunner(ort, await ort.InferenceSession.create(modelPath, SESSION_OPTIONS));
  }

  async run(
    sampleRate: number,
    input: Float32Array<ArrayBuffer>,
    state: Float32Array<ArrayBuffer>,
    b: number,
    width: number,
  ): Promise<BatchResult> {
    const ort = this.#ort;
    const out = await this.#session.run({
      input: new ort.Tensor('float32', input, [b, width]),
      state: new ort.Tensor('float32', state, [2, b, 128]),
      sr: new ort.Tensor('int64', BigInt64Array.of(BigInt(sampleRate)), []),
    });
    return checkOutputs(out.output?.data, out.stateN?.data, b);
  }

  release(): Promise<void> {
    return this.#session.release();
  }
}

/** Messages from the worker body. */
type FromWorker =
  | { type: 'ready' }
  | { type: 'loadError'; message: string }
  | { type: 'result'; id: number; prob: unknown; stateN: unknown }
  | { type: 'runError'; id: number; message: string };

// The worker body, plain CommonJS evaluated by `new Worker(..., { eval: true })`: no loader or build step is
// needed for it, under tsx (tests) or from dist/ (users). It loads the model, then answers each
// { id, rate, b, width, input, state } with { type: 'result', id, prob, stateN } in order. Outputs are
// copied back (a few KiB per batch), not transferred: onnxruntime may hand out buffers it does not let go.
const WORKER_SOURCE = `
'use strict';
const { parentPort, workerData } = require('node:worker_threads');
const ort = require(workerData.ortPath);
const msg = (e) => (e && e.message ? e.message : String(e));
let session = null;
ort.InferenceSession.create(workerData.modelPath, workerData.options).then(
  (s) => { session = s; parentPort.postMessage({ type: 'ready' }); },
  (e) => parentPort.postMessage({ type: 'loadError', message: msg(e) }),
);
parentPort.on('message', async (m) => {
  if (m.type === 'close') {
    if (session) await session.release().catch(() => undefined);
    parentPort.close();
    return;
  }
  try {
    const out = await session.run({
      input: new ort.Tensor('float32', m.input, [m.b, m.width]),
      state: new ort.Tensor('float32', m.state, [2, m.b, 128]),
      sr: new ort.Tensor('int64', BigInt64Array.of(BigInt(m.rate)), []),
    });
    parentPort.postMessage({ type: 'result', id: m.id, prob: out.output.data, stateN: out.stateN.data });
  } catch (e) {
    parentPort.postMessage({ type: 'runError', id: m.id, message: msg(e) });
  }
});
`;

/** How long {@link SileroWorkerRunner.release} waits for the worker to free its session before terminating it. */
const CLOSE_TIMEOUT_MS = 2000;

/**
 * Inference on a worker thread (`inferenceThread: 'worker'`, the default). The worker is unref'd while
 * idle, so an analyzer that is not analysing never keeps the process alive; it is ref'd while a load or a
 * batch is outstanding, so a caller awaiting a window is not cut off by the process exiting under it.
 */
export class SileroWorkerRunner implements BatchRunner {
  readonly thread = 'worker';
  readonly #worker: Worker;
  readonly #pending = new Map<
    number,
    { resolve: (r: BatchResult) => void; reject: (e: unknown) => void; b: number }
  >();
  #nextId = 1;
  /** Set once the worker died or failed to load: every later run rejects with it. */
  #failure: VADError | null = null;
  readonly #exited: Promise<void>;
  readonly #onFailure: Array<() => void> = [];

  private constructor(worker: Worker) {
    this.#worker = worker;
    this.#exited = new Promise((resolve) => worker.once('exit', () => resolve()));
    worker.on('message', (m: FromWorker) => this.#onMessage(m));
    worker.on('error', (err) => this.#fail(`the inference worker failed: ${err.message}`, err));
    worker.on('exit', (code) => this.#fail(`the inference worker exited (code ${code})`));
  }

  /** Starts a worker and resolves once it has loaded the model. */
  static start(ortPath: string, modelPath: string): Promise<SileroWorkerRunner> {
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { ortPath, modelPath, options: SESSION_OPTIONS },
      // Not the parent's flags: `--input-type=module` would make this CommonJS body a module, and loaders
      // such as `--import tsx` would only slow its start.
      execArgv: [],
    });
    const runner = new SileroWorkerRunner(worker);
    return new Promise((resolve, reject) => {
      const onReady = (m: FromWorker): void => {
        if (m.type === 'ready') {
          worker.off('message', onReady);
          worker.off('exit', onExit);
          worker.unref();
          resolve(runner);
        } else if (m.type === 'loadError') {
          worker.off('message', onReady);
          worker.off('exit', onExit);
          void worker.terminate();
          reject(new VADError('ERR_VAD_UNAVAILABLE', m.message));
        }
      };
      const onExit = (code: number): void =>
        reject(
          new VADError('ERR_VAD_UNAVAILABLE', `the inference worker exited while loading (code ${code})`),
        );
      worker.on('message', onReady);
      worker.once('exit', onExit);
    });
  }

  run(
    sampleRate: number,
    input: Float32Array<ArrayBuffer>,
    state: Float32Array<ArrayBuffer>,
    b: number,
    width: number,
  ): Promise<BatchResult> {
    if (this.#failure) return Promise.reject(this.#failure);
    const id = this.#nextId++;
    return new Promise<BatchResult>((resolve, reject) => {
      this.#pending.set(id, { resolve, reject, b });
      if (this.#pending.size === 1) this.#worker.ref();
      this.#worker.postMessage({ id, rate: sampleRate, b, width, input, state }, [
        input.buffer,
        state.buffer,
      ]);
    });
  }

  async release(): Promise<void> {
    if (this.#failure === null) {
      this.#worker.postMessage({ type: 'close' });
      const timer = setTimeout(() => void this.#worker.terminate(), CLOSE_TIMEOUT_MS);
      await this.#exited;
      clearTimeout(timer);
    }
    this.#fail('the model was released');
  }

  #onMessage(m: FromWorker): void {
    if (m.type !== 'result' && m.type !== 'runError') return;
    const p = this.#pending.get(m.id);
    if (!p) return;
    this.#pending.delete(m.id);
    if (this.#pending.size === 0) this.#worker.unref();
    if (m.type === 'runError') {
      p.reject(new VADError('ERR_VAD_UNAVAILABLE', `SileroVADAnalyzer: inference failed: ${m.message}`));
      return;
    }
    try {
      p.resolve(checkOutputs(m.prob, m.stateN, p.b));
    } catch (err) {
      p.reject(err);
    }
  }

  /** Calls `cb` once the worker died or was released. */
  onFailure(cb: () => void): void {
    if (this.#failure) cb();
    else this.#onFailure.push(cb);
  }

  #fail(message: string, cause?: unknown): void {
    if (this.#failure === null) {
      this.#failure = new VADError('ERR_VAD_UNAVAILABLE', `SileroVADAnalyzer: ${message}`, { cause });
      for (const cb of this.#onFailure.splice(0)) cb();
    }
    for (const p of this.#pending.values()) p.reject(this.#failure);
    this.#pending.clear();
  }

  /** Whether the worker died or was released (a new runner is needed). */
  get failed(): boolean {
    return this.#failure !== null;
  }
}
