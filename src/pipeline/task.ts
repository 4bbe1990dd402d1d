import { SmallWebRTCError, SmallWebRTCRangeError, SmallWebRTCTypeError } from '../errors.js';
import { BaseObject } from './base-object.js';
import { FrameDirection, FrameProcessor, type FrameObserver, type FramePushed } from './frame-processor.js';
import {
  BotSpeakingFrame,
  BotStartedSpeakingFrame,
  BotStoppedSpeakingFrame,
  CancelFrame,
  CancelTaskFrame,
  EndFrame,
  EndTaskFrame,
  ErrorFrame,
  Frame,
  InterruptionFrame,
  InterruptionTaskFrame,
  StartFrame,
  UserSpeakingFrame,
  UserStartedSpeakingFrame,
  UserStoppedSpeakingFrame,
} from './frames.js';
import { logger } from './logger.js';
import { markTaskRunning } from '../process-lifecycle.js';

/** A frame class, used for filters (`[BotSpeakingFrame, UserSpeakingFrame]`). */
export type FrameClass = abstract new (...args: never[]) => Frame;

/** Pipeline-wide parameters carried by the StartFrame (Pipecat's `PipelineParams`). */
export interface PipelineParams {
  /** Whether user speech may interrupt the bot (default true). */
  allowInterruptions?: boolean;
  /** Input sample rate in Hz for transports that do not set their own (default 16000). */
  audioInSampleRate?: number;
  /** Output sample rate in Hz for transports that do not set their own (default 24000). */
  audioOutSampleRate?: number;
  /** Whether processors emit MetricsFrames (default false). */
  enableMetrics?: boolean;
  /** Whether processors emit usage metrics (default false). */
  enableUsageMetrics?: boolean;
  /** Report only the first TTFB per service (default false). */
  reportOnlyInitialTtfb?: boolean;
}

/** Construction options of {@link PipelineTask}. */
export interface PipelineTaskOptions {
  /** Pipeline-wide parameters (see {@link PipelineParams}). */
  params?: PipelineParams;
  /** Name used in logs (default `PipelineTask#n`). */
  name?: string;
  /**
   * Seconds without any of `idleTimeoutFrames` reaching the task before `on_idle_timeout` fires (and the task
   * is cancelled when `cancelOnIdleTimeout`). Default 300 as in Pipecat; `null` disables the idle check.
   */
  idleTimeoutSecs?: number | null;
  /**
   * Frames that count as activity. Default: Pipecat's `BotSpeakingFrame` and `UserSpeakingFrame` (output and
   * input transports push them periodically while audio flows) plus the User/Bot Started/Stopped Speaking
   * frames, so a transport that only reports transitions still keeps an active conversation alive.
   */
  idleTimeoutFrames?: readonly FrameClass[];
  /** Whether an idle timeout cancels the task (default true). */
  cancelOnIdleTimeout?: boolean;
  /** Seconds `cancel()` waits for the CancelFrame to cross the pipeline before giving up (default 20). */
  cancelTimeoutSecs?: number;
  /** Observers told about every frame pushed inside the pipeline (see {@link FrameObserver}). */
  observers?: readonly FrameObserver[];
}

/** Events of {@link PipelineTask} (handlers receive the task first). */
export interface PipelineTaskEvents {
  /** The StartFrame reached the end of the pipeline: every processor has started. */
  on_pipeline_started: [frame: StartFrame];
  /** An EndFrame or CancelFrame reached the end of the pipeline (or cancel timed out); before cleanup. */
  on_pipeline_finished: [frame: EndFrame | CancelFrame];
  /** The pipeline ended gracefully (EndFrame). */
  on_pipeline_ended: [frame: EndFrame];
  /** The pipeline was cancelled (CancelFrame). */
  on_pipeline_cancelled: [frame: CancelFrame];
  /** An ErrorFrame reached the start of the pipeline (fatal ones then cancel the task). */
  on_pipeline_error: [frame: ErrorFrame];
  /** A frame of a type in the upstream filter reached the start of the pipeline. */
  on_frame_reached_upstream: [frame: Frame];
  /** A frame of a type in the downstream filter reached the end of the pipeline. */
  on_frame_reached_downstream: [frame: Frame];
  /** No activity frame for `idleTimeoutSecs`. */
  on_idle_timeout: [];
}

/** Activity frames for the idle timeout (see `PipelineTaskOptions.idleTimeoutFrames`). */
const DEFAULT_IDLE_FRAMES: readonly FrameClass[] = [
  BotSpeakingFrame,
  UserSpeakingFrame,
  BotStartedSpeakingFrame,
  BotStoppedSpeakingFrame,
  UserStartedSpeakingFrame,
  UserStoppedSpeakingFrame,
];

/** Frames `queueFrame` accepts before `run()` is called. */
const MAX_PENDING_FRAMES = 1024;

/** The task's own head/tail processors: everything a pipeline emits at either end is handled here. */
class TaskEdge extends FrameProcessor {
  readonly #handle: (frame: Frame, direction: FrameDirection) => Promise<void>;

  constructor(name: string, handle: (frame: Frame, direction: FrameDirection) => Promise<void>) {
    super({ name });
    this.#handle = handle;
  }

  override async processFrame(frame: Frame, direction: FrameDirection): Promise<void> {
    await this.#handle(frame, direction);
  }
}

/** Runs an observer callback: synchronous part now, rejection logged, never throws. */
function callObserver(fn: () => unknown): void {
  try {
    const r = fn();
    if (r instanceof Promise) r.catch((err: unknown) => logger().error('observer failed', err));
  } catch (err) {
    logger().error('observer failed', err);
  }
}

function checkSecs(value: number, field: string, allowZero = false): number {
  if (typeof value !== 'number')
    throw new SmallWebRTCTypeError('ERR_INVALID_ARG', `${field} must be a number`);
  if (!Number.isFinite(value) || value < 0 || (!allowZero && value === 0) || value > 86400 * 365) {
    throw new SmallWebRTCRangeError(
      'ERR_INVALID_ARG',
      `${field} must be a positive number of seconds, got ${value}`,
    );
  }
  return value;
}

/**
 * Runs a pipeline (Pipecat's `PipelineTask`): sets up its processors, pushes a {@link StartFrame}, feeds it
 * the frames you queue, and finishes when an {@link EndFrame} or {@link CancelFrame} reaches its end.
 *
 * Frames that reach the start of the pipeline upstream are handled here: {@link ErrorFrame} (event; fatal ->
 * cancel), {@link EndTaskFrame} (-> EndFrame), {@link CancelTaskFrame} (-> cancel), {@link InterruptionTaskFrame}
 * (-> InterruptionFrame downstream when interruptions are allowed).
 *
 * Event handlers for frames (started, error, reached, idle) are not awaited by the pipeline, so a handler may
 * safely await `task.queueFrame()` or `task.cancel()`.
 */
export class PipelineTask extends BaseObject<PipelineTaskEvents> {
  readonly #pipeline: FrameProcessor;
  readonly #params: Required<PipelineParams>;
  readonly #idleTimeoutMs: number | null;
  readonly #idleFrames: readonly FrameClass[];
  readonly #cancelOnIdle: boolean;
  readonly #cancelTimeoutMs: number;
  readonly #source: TaskEdge;
  readonly #sink: TaskEdge;
  #upstreamFilter: readonly FrameClass[] = [];
  #observers: FrameObserver[] = [];
  /** Handed to every processor in setup(); dispatches to the current observer list. */
  readonly #dispatch: FrameObserver = {
    onPushFrame: (event: FramePushed) => {
      for (const o of this.#observers) callObserver(() => o.onPushFrame?.(event));
    },
  };
  #downstreamFilter: readonly FrameClass[] = [];

  #pending: Array<{ frame: Frame; direction: FrameDirection }> = [];
  #state: 'idle' | 'setup' | 'running' | 'finishing' | 'finished' = 'idle';
  #cancelRequested = false;
  #finishedFrame: EndFrame | CancelFrame | null = null;
  #resolveFinished: ((frame: EndFrame | CancelFrame) => void) | null = null;
  readonly #finished: Promise<EndFrame | CancelFrame>;
  #lastActivity = 0;
  #idleTimer: ReturnType<typeof setTimeout> | null = null;
  /** Keeps the event loop alive while the task runs (a pending promise alone does not). */
  #keepAlive: ReturnType<typeof setInterval> | null = null;
  #unmarkRunning: (() => void) | null = null;

  /**
   * @param pipeline - the processor (usually a {@link Pipeline}) to run; it must not be linked elsewhere.
   */
  constructor(pipeline: FrameProcessor, options: PipelineTaskOptions = {}) {
    super(options.name);
    if (!(pipeline instanceof FrameProcessor))
      throw new SmallWebRTCTypeError('ERR_INVALID_ARG', 'pipeline must be a FrameProcessor');
    const p = options.params ?? {};
    // StartFrame validates the sample rates (RangeError naming the field).
    const probe = new StartFrame(p);
    this.#params = {
      allowInterruptions: probe.allowInterruptions,
      audioInSampleRate: probe.audioInSampleRate,
      audioOutSampleRate: probe.audioOutSampleRate,
      enableMetrics: probe.enableMetrics,
      enableUsageMetrics: probe.enableUsageMetrics,
      reportOnlyInitialTtfb: probe.reportOnlyInitialTtfb,
    };
    const idle = options.idleTimeoutSecs === undefined ? 300 : options.idleTimeoutSecs;
    this.#idleTimeoutMs = idle === null ? null : checkSecs(idle, 'idleTimeoutSecs') * 1000;
    this.#idleFrames = [...(options.idleTimeoutFrames ?? DEFAULT_IDLE_FRAMES)];
    this.#cancelOnIdle = options.cancelOnIdleTimeout ?? true;
    this.#cancelTimeoutMs = checkSecs(options.cancelTimeoutSecs ?? 20, 'cancelTimeoutSecs') * 1000;
    this.#pipeline = pipeline;
    for (const o of options.observers ?? []) this.addObserver(o);
    this.#finished = new Promise((resolve) => (this.#resolveFinished = resolve));

    this.#source = new TaskEdge(`${this.name}::Source`, (frame, direction) =>
      this.#onSource(frame, direction),
    );
    this.#sink = new TaskEdge(`${this.name}::Sink`, (frame, direction) => this.#onSink(frame, direction));
    this.#source.link(pipeline);
    pipeline.link(this.#sink);

    for (const name of [
      'on_pipeline_started',
      'on_pipeline_finished',
      'on_pipeline_ended',
      'on_pipeline_cancelled',
      'on_pipeline_error',
      'on_frame_reached_upstream',
      'on_frame_reached_downstream',
      'on_idle_timeout',
    ] as const) {
      this.registerEventHandler(name);
    }
  }

  /** The pipeline this task runs. */
  get pipeline(): FrameProcessor {
    return this.#pipeline;
  }

  /** The effective pipeline parameters (defaults filled in). */
  get params(): Readonly<Required<PipelineParams>> {
    return this.#params;
  }

  /** Whether the task has finished (EndFrame/CancelFrame reached the end, or it was cancelled before running). */
  hasFinished(): boolean {
    return this.#finishedFrame !== null;
  }

  /** Adds an observer (also while running). */
  addObserver(observer: FrameObserver): void {
    if (typeof observer !== 'object' || observer === null)
      throw new SmallWebRTCTypeError('ERR_INVALID_ARG', 'observer must be an object');
    if (!this.#observers.includes(observer)) this.#observers = [...this.#observers, observer];
  }

  /** Removes an observer added with `addObserver` or the `observers` option. */
  removeObserver(observer: FrameObserver): void {
    this.#observers = this.#observers.filter((o) => o !== observer);
  }

  /** Frame types for which `on_frame_reached_upstream` fires (replaces the previous filter). */
  setReachedUpstreamFilter(types: readonly FrameClass[]): void {
    this.#upstreamFilter = [...types];
  }

  /** Frame types for which `on_frame_reached_downstream` fires (replaces the previous filter). */
  setReachedDownstreamFilter(types: readonly FrameClass[]): void {
    this.#downstreamFilter = [...types];
  }

  /**
   * Queues a frame into the pipeline: downstream from its start (default) or upstream from its end. Before
   * `run()` frames are held (at most 1024, RangeError beyond) and sent right after the StartFrame. Resolves
   * when the first processor accepted the frame (it may wait for room: back-pressure).
   */
  async queueFrame(frame: Frame, direction: FrameDirection = FrameDirection.DOWNSTREAM): Promise<void> {
    if (!(frame instanceof Frame)) throw new SmallWebRTCTypeError('ERR_INVALID_ARG', 'frame must be a Frame');
    if (direction !== FrameDirection.DOWNSTREAM && direction !== FrameDirection.UPSTREAM) {
      throw new SmallWebRTCTypeError(
        'ERR_INVALID_ARG',
        `direction must be 'downstream' or 'upstream', got ${String(direction)}`,
      );
    }
    if (this.#state === 'finishing' || this.#state === 'finished') {
      logger().debug(`${this.name}: finished, ${frame.name} dropped`);
      return;
    }
    if (this.#state !== 'running') {
      if (this.#pending.length >= MAX_PENDING_FRAMES) {
        throw new SmallWebRTCRangeError(
          'ERR_INVALID_ARG',
          `${this.name}: more than ${MAX_PENDING_FRAMES} frames queued before run()`,
        );
      }
      this.#pending.push({ frame, direction });
      return;
    }
    await this.#inject(frame, direction);
  }

  /** Queues several frames, in order (see {@link PipelineTask.queueFrame}). */
  async queueFrames(
    frames: Iterable<Frame>,
    direction: FrameDirection = FrameDirection.DOWNSTREAM,
  ): Promise<void> {
    for (const frame of frames) await this.queueFrame(frame, direction);
  }

  /** Ends the pipeline gracefully once everything queued so far has been processed (queues an EndFrame). */
  async stopWhenDone(): Promise<void> {
    await this.queueFrame(new EndFrame());
  }

  /**
   * Cancels the task: a {@link CancelFrame} overtakes every queued frame. Resolves once it reached the end of
   * the pipeline, or after `cancelTimeoutSecs` (warning). Idempotent; before `run()`, makes `run()` return at
   * once. Does not wait for cleanup (await `run()` for that). Inside a processor, push a
   * {@link CancelTaskFrame} upstream instead: awaiting `cancel()` from a system-frame handler would hold the
   * CancelFrame behind that very handler until `cancelTimeoutSecs`.
   */
  async cancel(): Promise<void> {
    if (this.#finishedFrame !== null) return;
    if (this.#state === 'idle' || this.#state === 'setup') {
      // run() checks this flag after setup and finishes without starting the pipeline.
      this.#cancelRequested = true;
      if (this.#state === 'idle') this.#finish(new CancelFrame());
      return;
    }
    if (!this.#cancelRequested) {
      this.#cancelRequested = true;
      logger().debug(`${this.name}: cancelling`);
      await this.#source.queueFrame(new CancelFrame());
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        if (this.#finishedFrame === null) {
          logger().warn(`${this.name}: CancelFrame did not reach the end within ${this.#cancelTimeoutMs} ms`);
          this.#finish(new CancelFrame());
        }
        resolve();
      }, this.#cancelTimeoutMs);
    });
    await Promise.race([this.#finished, timeout]);
    clearTimeout(timer);
  }

  /**
   * Runs the pipeline: `setup()` on every processor, StartFrame, then the queued frames. Resolves after an
   * EndFrame or CancelFrame reached the end of the pipeline and every processor was cleaned up. Rejects only
   * if a processor's `setup()` throws (after cleaning up). A task runs once; while it runs it keeps the Node
   * process alive (as Pipecat's event loop does), so a bot script ends when its task ends.
   */
  async run(): Promise<void> {
    if (this.#state !== 'idle') {
      if (this.#finishedFrame !== null && this.#state === 'finished') return;
      throw new SmallWebRTCError('ERR_INVALID_STATE', `${this.name}: run() was already called`);
    }
    this.#state = 'setup';
    // Like Pipecat's asyncio loop, a running task keeps the process alive until it finishes.
    this.#keepAlive = setInterval(() => {}, 1 << 30);
    // A draining server waits for running tasks (the bots) before the process exits.
    this.#unmarkRunning = markTaskRunning(this);
    const setup = { taskName: this.name, observer: this.#dispatch };
    for (const p of [this.#source, this.#pipeline, this.#sink])
      FrameProcessor.bindObserver(p, this.#dispatch);
    try {
      await this.#source.setup(setup);
      await this.#pipeline.setup(setup);
      await this.#sink.setup(setup);
    } catch (err) {
      logger().error(`${this.name}: setup failed`, err);
      this.#finish(new CancelFrame());
      await this.#cleanup();
      this.#state = 'finished';
      this.#releaseKeepAlive();
      throw err;
    }
    if (this.#cancelRequested) {
      this.#finish(new CancelFrame());
    } else {
      this.#touch();
      this.#armIdleTimer();
      // StartFrame, then the frames queued before run(), in one synchronous step: a queueFrame() call made
      // meanwhile can neither overtake them nor slip in between (their promises settle without waiting:
      // the pending list is bounded by MAX_PENDING_FRAMES, within the first queue's hard cap).
      void this.#source.queueFrame(new StartFrame(this.#params));
      const pending = this.#pending;
      this.#pending = [];
      for (const { frame, direction } of pending) {
        const target = direction === FrameDirection.DOWNSTREAM ? this.#source : this.#sink;
        void target.queueFrame(frame, direction, { noWait: true });
      }
      this.#state = 'running';
    }
    const frame = await this.#finished;
    this.#state = 'finishing';
    this.#disarmIdleTimer();
    await this.callEventHandler('on_pipeline_finished', frame);
    if (frame instanceof EndFrame) await this.callEventHandler('on_pipeline_ended', frame);
    else await this.callEventHandler('on_pipeline_cancelled', frame);
    await this.#cleanup();
    this.#state = 'finished';
    this.#releaseKeepAlive();
    logger().debug(`${this.name}: finished with ${frame.name}`);
  }

  #releaseKeepAlive(): void {
    if (this.#keepAlive !== null) clearInterval(this.#keepAlive);
    this.#keepAlive = null;
    this.#unmarkRunning?.();
    this.#unmarkRunning = null;
  }

  async #inject(frame: Frame, direction: FrameDirection): Promise<void> {
    if (direction === FrameDirection.DOWNSTREAM) await this.#source.queueFrame(frame, direction);
    else await this.#sink.queueFrame(frame, direction);
  }

  async #cleanup(): Promise<void> {
    for (const p of [this.#source, this.#pipeline, this.#sink]) {
      try {
        await p.cleanup();
      } catch (err) {
        logger().error(`${this.name}: cleanup of ${p.name} failed`, err);
      }
    }
  }

  #finish(frame: EndFrame | CancelFrame): void {
    if (this.#finishedFrame !== null) return;
    this.#finishedFrame = frame;
    this.#resolveFinished?.(frame);
    if (this.#state === 'idle') this.#state = 'finished';
  }

  /** Frames arriving at the task's head: downstream ones enter the pipeline, upstream ones are requests. */
  async #onSource(frame: Frame, direction: FrameDirection): Promise<void> {
    if (direction === FrameDirection.DOWNSTREAM) {
      await this.#source.pushFrame(frame, direction);
      return;
    }
    this.#noteActivity(frame);
    if (frame instanceof ErrorFrame) {
      logger().error(`${this.name}: error from ${frame.processor ?? 'pipeline'}: ${frame.error}`);
      void this.callEventHandler('on_pipeline_error', frame);
      if (frame.fatal) void this.cancel();
    } else if (frame instanceof EndTaskFrame) {
      void this.queueFrame(new EndFrame());
    } else if (frame instanceof CancelTaskFrame) {
      void this.cancel();
    } else if (frame instanceof InterruptionTaskFrame) {
      if (this.#params.allowInterruptions) void this.#source.queueFrame(new InterruptionFrame());
    }
    if (this.#upstreamFilter.some((t) => frame instanceof t)) {
      void this.callEventHandler('on_frame_reached_upstream', frame);
    }
  }

  /** Frames leaving the pipeline's tail downstream end here. */
  async #onSink(frame: Frame, direction: FrameDirection): Promise<void> {
    if (direction === FrameDirection.UPSTREAM) {
      await this.#sink.pushFrame(frame, direction);
      return;
    }
    this.#noteActivity(frame);
    if (frame instanceof StartFrame) {
      for (const o of this.#observers) callObserver(() => o.onPipelineStarted?.());
      void this.callEventHandler('on_pipeline_started', frame);
    } else if (frame instanceof EndFrame || frame instanceof CancelFrame) {
      for (const o of this.#observers) callObserver(() => o.onPipelineFinished?.(frame));
      this.#finish(frame);
    }
    if (this.#downstreamFilter.some((t) => frame instanceof t)) {
      void this.callEventHandler('on_frame_reached_downstream', frame);
    }
  }

  #noteActivity(frame: Frame): void {
    if (this.#idleTimeoutMs !== null && this.#idleFrames.some((t) => frame instanceof t)) this.#touch();
  }

  #touch(): void {
    this.#lastActivity = performance.now();
  }

  /**
   * One timer per task, re-armed for the remaining time when it fires early (activity frames only update a
   * timestamp, so a 50 Hz BotSpeakingFrame stream costs no timer churn).
   */
  #armIdleTimer(delayMs: number | null = this.#idleTimeoutMs): void {
    if (delayMs === null || this.#idleTimeoutMs === null) return;
    const limit = this.#idleTimeoutMs;
    this.#idleTimer = setTimeout(() => {
      this.#idleTimer = null;
      if (this.#state !== 'running') return;
      const idleFor = performance.now() - this.#lastActivity;
      if (idleFor < limit) {
        this.#armIdleTimer(limit - idleFor);
        return;
      }
      logger().info(`${this.name}: idle for ${Math.round(idleFor)} ms`);
      void this.callEventHandler('on_idle_timeout').then(() => {
        if (this.#cancelOnIdle) return this.cancel();
        this.#touch();
        this.#armIdleTimer();
        return undefined;
      });
    }, delayMs);
  }

  #disarmIdleTimer(): void {
    if (this.#idleTimer !== null) clearTimeout(this.#idleTimer);
    this.#idleTimer = null;
  }
}
