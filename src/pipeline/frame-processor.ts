import { SmallWebRTCRangeError, SmallWebRTCTypeError } from '../errors.js';
import { AsyncLocalStorage } from 'node:async_hooks';

import { BaseObject, type EventArgs } from './base-object.js';
import {
  CancelFrame,
  ErrorFrame,
  Frame,
  InterruptionFrame,
  InterruptionTaskFrame,
  StartFrame,
  isDroppableMediaFrame,
} from './frames.js';
import { Fifo } from './fifo.js';
import { logger } from './logger.js';

/** Which way a frame travels: downstream (towards the output) or upstream (towards the input). */
export const FrameDirection = { DOWNSTREAM: 'downstream', UPSTREAM: 'upstream' } as const;
/** `'downstream'` or `'upstream'` (see {@link FrameDirection}). */
export type FrameDirection = (typeof FrameDirection)[keyof typeof FrameDirection];

/** What {@link FrameProcessor.setup} receives from the task that runs the pipeline. */
export interface FrameProcessorSetup {
  /** Name of the task running this processor (for logs). */
  readonly taskName?: string;
  /** Told about every frame this processor pushes (the task's observers); see {@link FrameObserver}. */
  readonly observer?: FrameObserver;
}

/** One frame pushed from one processor to its neighbour (Pipecat's `FramePushed`). */
export interface FramePushed {
  /** The pushing processor. */
  readonly source: FrameProcessor;
  /** The processor receiving the frame. */
  readonly destination: FrameProcessor;
  /** The frame. */
  readonly frame: Frame;
  /** Which way it travels. */
  readonly direction: FrameDirection;
  /** `performance.now()` at the push, ms. */
  readonly timestampMs: number;
}

/**
 * Watches frames anywhere in a pipeline without being part of it (Pipecat's `BaseObserver`); pass it in
 * `PipelineTask` options `observers`. Callbacks run synchronously on the pushing path and must be quick;
 * a returned promise is not awaited; exceptions and rejections are logged. A frame is reported once per hop,
 * so observers usually remember the ids of frames they already handled.
 */
export interface FrameObserver {
  /** A processor pushed a frame to its neighbour. */
  onPushFrame?(event: FramePushed): unknown;
  /** The StartFrame reached the end of the pipeline. */
  onPipelineStarted?(): unknown;
  /** An EndFrame or CancelFrame reached the end of the pipeline. */
  onPipelineFinished?(frame: Frame): unknown;
}

/** Construction options of {@link FrameProcessor}. */
export interface FrameProcessorOptions {
  /** Name used in logs (default `ClassName#n`). */
  name?: string;
  /**
   * Data/control frames this processor queues before a downstream push into it waits (back-pressure).
   * Default 256. Pushes from system-frame handlers and upstream pushes never wait (so no two processors
   * can wait on each other); they may overshoot this bound up to 8x, beyond which frames are dropped with an
   * error log (memory stays bounded whatever a misbehaving processor does).
   */
  maxQueuedFrames?: number;
  /**
   * System frames this processor holds while a previous system frame is still being handled. Default 1024.
   * When full, live input media (InputAudioRawFrame / InputImageRawFrame) is dropped (newer media follows);
   * lifecycle frames (Start, Cancel, Interruption, Error...) are always accepted.
   */
  maxQueuedSystemFrames?: number;
}

/** Options of {@link FrameProcessor.queueFrame}. */
export interface QueueFrameOptions {
  /**
   * The pusher's interruption signal: a frame pushed with an already aborted signal is dropped, and so is a
   * frame whose wait for queue space is ended by the signal aborting (the pusher was interrupted meanwhile).
   * Uninterruptible frames (EndFrame) ignore it.
   */
  signal?: AbortSignal | undefined;
  /** Accept the frame even when the queue is at `maxQueuedFrames` (no back-pressure wait). */
  noWait?: boolean;
}

/** Events every processor emits (none yet; subclasses add their own). */
export type FrameProcessorEvents = Record<never, unknown[]>;

/** Where a frame is being processed: lets pushFrame tell a stale (interrupted) run from a live one. */
interface RunContext {
  readonly processor: object;
  /** True while handling a system frame (or in code started from one): its pushes never wait. */
  readonly system: boolean;
  /** For a data/control frame run: the interruption signal current when the run started. */
  readonly signal: AbortSignal | undefined;
}

/**
 * Tracks which processor run the current async call chain belongs to. This is how a `processFrame` that is
 * still running after an interruption (JS cannot cancel it the way Pipecat cancels its asyncio task) has its
 * later data pushes dropped instead of leaking stale audio/text past the InterruptionFrame.
 */
const runContext = new AsyncLocalStorage<RunContext>();

interface QueuedFrame {
  readonly frame: Frame;
  readonly direction: FrameDirection;
  /** For data frames: how many system frames had been accepted when this one arrived. */
  readonly sysSeq: number;
}

const DEFAULT_MAX_QUEUED = 256;
const DEFAULT_MAX_SYSTEM_QUEUED = 1024;
/** How long a data run may outlive its interruption before a warning names it. */
const STALE_RUN_WARNING_MS = 2000;
/** Hard cap on a data queue, as a multiple of maxQueuedFrames (see FrameProcessorOptions). */
const HARD_CAP_FACTOR = 8;

function checkLimit(value: number | undefined, fallback: number, field: string): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number')
    throw new SmallWebRTCTypeError('ERR_INVALID_ARG', `${field} must be a number`);
  if (!Number.isInteger(value) || value < 1 || value > 1_000_000) {
    throw new SmallWebRTCRangeError(
      'ERR_INVALID_ARG',
      `${field} must be an integer in [1, 1000000], got ${value}`,
    );
  }
  return value;
}

/**
 * A pipeline stage (Pipecat's `FrameProcessor`). Override {@link FrameProcessor.processFrame}; call
 * {@link FrameProcessor.pushFrame} to pass frames on. The default `processFrame` passes every frame through.
 *
 * ## Scheduling and ordering guarantees (per processor)
 * - **System frames** are handled on arrival, one at a time, in arrival order, whatever the data path is
 *   doing (even while a data frame's `processFrame` is awaiting). If the processor is idle, the handler starts
 *   synchronously inside the pusher's `pushFrame` call.
 * - **Data and control frames** are handled one at a time, in arrival order, by a separate queue. A data frame
 *   is never handled before the system frames that arrived before it have finished (a StartFrame or
 *   InterruptionFrame is fully handled before the data that follows it). System frames that arrive later may
 *   overtake queued data frames, never the other way round.
 * - Frames pushed by one processor to its neighbour arrive in push order within each of those two classes.
 * - **Back-pressure**: a `processFrame` for a data frame may await (e.g. an output transport waiting for its
 *   audio to be consumed). That blocks only this processor's later data/control frames; system frames
 *   (InterruptionFrame, CancelFrame, input audio) are still handled. When a queue reaches `maxQueuedFrames`,
 *   a downstream `pushFrame` from the previous processor's data path (or from outside the pipeline) waits for
 *   room, so a slow sink slows its producers instead of growing memory. Pushes made while handling a system
 *   frame (or from code started there, or `detached`) and upstream pushes never wait, so a system handler can
 *   never be stuck behind data back-pressure and no two processors can wait on each other.
 * - Frames entering at different points (e.g. `task.queueFrame` and a processor pushing upstream) are not
 *   ordered relative to each other.
 *
 * ## Interruptions and cancellation
 * When an {@link InterruptionFrame} arrives (before it is handled, at the moment it is queued): queued data
 * and control frames are dropped except uninterruptible ones (EndFrame), the processor's
 * {@link FrameProcessor.interruptionSignal} aborts (and is replaced by a fresh one), and pushers waiting for
 * room in this queue are released. A data-frame `processFrame` that was running keeps running (JS cannot
 * cancel it) but every data/control frame it pushes afterwards is dropped; long awaits inside it should take
 * `this.interruptionSignal` (read at the start of the run) so they end promptly. Then the InterruptionFrame is
 * handled like any system frame (the default passes it on). A {@link CancelFrame} does the same and also
 * drops every data/control frame that arrives afterwards, until the next {@link StartFrame}.
 *
 * ## Errors
 * A `processFrame` that throws is logged and turned into a non-fatal {@link ErrorFrame} pushed upstream; the
 * processor keeps running.
 *
 * Cost: each hop is a few microseconds of JS (about 3-4 us per processor per frame on the reference machine,
 * half of it the AsyncLocalStorage bookkeeping that attributes pushes to runs).
 *
 * Long-lived loops (media readers/writers) should be started from `setup()` or from the StartFrame handler,
 * or wrapped in {@link FrameProcessor.detached}: code started from a data-frame run belongs to that run, and
 * its data pushes are dropped once that run has been interrupted.
 */
export class FrameProcessor<E extends EventArgs<E> = FrameProcessorEvents> extends BaseObject<E> {
  #prev: FrameProcessor | null = null;
  #next: FrameProcessor | null = null;
  readonly #maxQueued: number;
  readonly #maxSystemQueued: number;

  readonly #sysQueue = new Fifo<QueuedFrame>();
  #sysRunning = false;
  /** System frames accepted / finished so far (orders data frames after earlier system frames). */
  #sysAccepted = 0;
  #sysDone = 0;
  #sysDoneWaiters: Array<{ seq: number; resolve: () => void }> = [];

  readonly #dataQueue = new Fifo<QueuedFrame>();
  #dataRunning = false;
  #spaceWaiters = new Set<() => void>();

  #interruption = new AbortController();
  #startFrame: StartFrame | null = null;
  #cancelled = false;
  #observer: FrameObserver | undefined = undefined;
  #droppedMedia = 0;
  #interruptionPassedWaiters = new Set<() => void>();
  /** The data/control frame whose processFrame is running, if any. */
  #currentRun: Frame | null = null;
  #lastDropWarning = -Infinity;

  constructor(options: FrameProcessorOptions = {}) {
    super(options.name);
    this.#maxQueued = checkLimit(options.maxQueuedFrames, DEFAULT_MAX_QUEUED, 'maxQueuedFrames');
    this.#maxSystemQueued = checkLimit(
      options.maxQueuedSystemFrames,
      DEFAULT_MAX_SYSTEM_QUEUED,
      'maxQueuedSystemFrames',
    );
  }

  /** The processor downstream of this one, if linked. */
  get next(): FrameProcessor | null {
    return this.#next;
  }

  /** The processor upstream of this one, if linked. */
  get previous(): FrameProcessor | null {
    return this.#prev;
  }

  /** Links `next` downstream of this processor (and this one upstream of it). Returns `next` for chaining. */
  link<P extends FrameProcessor>(next: P): P {
    if (!(next instanceof FrameProcessor))
      throw new SmallWebRTCTypeError('ERR_INVALID_ARG', 'link() expects a FrameProcessor');
    if (next === (this as FrameProcessor))
      throw new SmallWebRTCRangeError('ERR_INVALID_ARG', `cannot link ${this.name} to itself`);
    this.#next = next;
    next.#prev = this as FrameProcessor;
    return next;
  }

  /** Data/control frames waiting in this processor's queue (not counting the one being processed). */
  get queuedFrames(): number {
    return this.#dataQueue.length;
  }

  /** The StartFrame this processor received, or null before the pipeline started. */
  get startFrame(): StartFrame | null {
    return this.#startFrame;
  }

  /** Whether a StartFrame has been handled (and no CancelFrame since). */
  get started(): boolean {
    return this.#startFrame !== null && !this.#cancelled;
  }

  /** Whether the pipeline allows interruptions (from the StartFrame; true before it arrives). */
  get allowInterruptions(): boolean {
    return this.#startFrame?.allowInterruptions ?? true;
  }

  /**
   * The interruption signal of the current run: inside a data/control frame's `processFrame` (and anything it
   * started), the signal that was current when that run began, so it stays aborted once an interruption or
   * cancellation has happened; elsewhere, the processor's current signal. Pass it to long awaits.
   */
  get interruptionSignal(): AbortSignal {
    const ctx = runContext.getStore();
    if (ctx !== undefined && ctx.processor === this && ctx.signal !== undefined) return ctx.signal;
    return this.#interruption.signal;
  }

  /**
   * Called once by the task before the StartFrame is pushed (Pipecat's `setup`): acquire resources here
   * (a transport connects here). Subclasses overriding it should call `super.setup(setup)`.
   */
  async setup(_setup: FrameProcessorSetup = {}): Promise<void> {
    // Nothing to acquire in the base class (the observer is bound by the task/pipeline, see bindObserver).
  }

  /**
   * Binds the observer `processor` reports its pushes to. Called by `Pipeline.setup` for each child and by
   * the task, before the processor's own `setup()`, so observation works even when an override of `setup`
   * forgets `super.setup()`. Not meant for application code.
   */
  static bindObserver(processor: FrameProcessor, observer: FrameObserver | undefined): void {
    processor.#observer = observer;
  }

  /**
   * Called once by the task after the pipeline finished or was cancelled: release resources. Drops whatever
   * is still queued and releases waiting pushers. Subclasses overriding it should call `super.cleanup()`.
   */
  async cleanup(): Promise<void> {
    this.#interruption.abort();
    this.#interruption = new AbortController();
    this.#dataQueue.retain(() => false);
    this.#wakeSpaceWaiters();
  }

  /**
   * The override point: handle `frame`, push results with {@link FrameProcessor.pushFrame}. The default
   * passes the frame on in the direction it was travelling. Lifecycle bookkeeping (StartFrame, interruption,
   * cancellation) is done by the base class whether or not an override calls `super.processFrame`.
   */
  async processFrame(frame: Frame, direction: FrameDirection): Promise<void> {
    await this.pushFrame(frame, direction);
  }

  /**
   * Sends `frame` to the next processor (downstream) or the previous one (upstream). Resolves once the
   * neighbour accepted the frame (which may wait for room, see the class comment); not when it was processed.
   * With no neighbour in that direction, the frame is dropped (debug log).
   */
  async pushFrame(frame: Frame, direction: FrameDirection = FrameDirection.DOWNSTREAM): Promise<void> {
    checkFrame(frame, direction);
    const ctx = runContext.getStore();
    const own = ctx !== undefined && ctx.processor === this ? ctx : undefined;
    const signal = own?.signal;
    if (signal?.aborted && frame.kind !== 'system' && !frame.uninterruptible) {
      logger().debug(`${this.name}: dropping ${frame.name} pushed by an interrupted run`);
      return;
    }
    const target = direction === FrameDirection.DOWNSTREAM ? this.#next : this.#prev;
    if (target === null) {
      logger().debug(`${this.name}: no ${direction} processor, ${frame.name} dropped`);
      return;
    }
    if (this.#observer?.onPushFrame !== undefined) this.#notify(this.#observer, target, frame, direction);
    await target.queueFrame(frame, direction, {
      signal,
      noWait: own?.system === true || direction === FrameDirection.UPSTREAM,
    });
  }

  /**
   * Pushes a non-fatal (or, with `fatal: true`, fatal) {@link ErrorFrame} upstream, naming this processor
   * (Pipecat's `push_error`). A fatal error reaching the task cancels it.
   */
  async pushError(error: string, options: { fatal?: boolean; exception?: unknown } = {}): Promise<void> {
    const frame = new ErrorFrame(error, options);
    frame.processor = this.name;
    await this.pushFrame(frame, FrameDirection.UPSTREAM);
  }

  /**
   * Pushes a frame in both directions (Pipecat's `broadcast_frame`): `make` is called twice so each direction
   * gets its own instance (frames carry per-instance ids). Used for BotStarted/StoppedSpeaking and app
   * messages, which both ends of the pipeline want to see.
   */
  async broadcastFrame(make: () => Frame): Promise<void> {
    await this.pushFrame(make(), FrameDirection.DOWNSTREAM);
    await this.pushFrame(make(), FrameDirection.UPSTREAM);
  }

  /**
   * Asks the task to interrupt the bot (an {@link InterruptionTaskFrame} upstream); the task answers with an
   * InterruptionFrame from the pipeline's start when interruptions are allowed. Use this rather than pushing
   * an InterruptionFrame yourself so that processors upstream of you are interrupted too.
   */
  async pushInterruptionTaskFrame(): Promise<void> {
    await this.pushFrame(new InterruptionTaskFrame(), FrameDirection.UPSTREAM);
  }

  /**
   * Like {@link FrameProcessor.pushInterruptionTaskFrame}, then waits until the resulting InterruptionFrame
   * has passed through this processor (so frames pushed afterwards travel behind it and are not dropped by
   * it), at most `timeoutMs` (default 2000). Returns false on timeout, or at once when interruptions are not
   * allowed. Call it from an event handler or a message loop, not from a frame handler of this processor: a
   * system-frame handler would block the InterruptionFrame (until the timeout) and a data-frame run is
   * itself interrupted by it.
   */
  async pushInterruptionTaskFrameAndWait(timeoutMs = 2000): Promise<boolean> {
    if (!this.allowInterruptions) return false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let waiter: (() => void) | undefined;
    const passed = new Promise<boolean>((resolve) => {
      waiter = () => resolve(true);
      this.#interruptionPassedWaiters.add(waiter);
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    await this.pushInterruptionTaskFrame();
    const ok = await passed;
    clearTimeout(timer);
    if (waiter) this.#interruptionPassedWaiters.delete(waiter);
    return ok;
  }

  /**
   * Runs `fn` outside any frame run, so loops it starts are not tied to the data frame being processed (their
   * pushes are not dropped by later interruptions, and they do not wait for queue room).
   */
  detached<T>(fn: () => T): T {
    return runContext.run({ processor: this, system: true, signal: undefined }, fn);
  }

  /**
   * Hands `frame` to this processor (what the previous/next processor's `pushFrame` calls). System frames
   * are accepted immediately; a downstream data/control frame waits while the queue is at `maxQueuedFrames`
   * unless `options.noWait`. Resolves when the frame is queued (or dropped), not when it is processed.
   */
  async queueFrame(
    frame: Frame,
    direction: FrameDirection = FrameDirection.DOWNSTREAM,
    options: QueueFrameOptions = {},
  ): Promise<void> {
    checkFrame(frame, direction);
    if (frame.kind === 'system') {
      this.#acceptSystem(frame, direction);
      return;
    }
    const signal = frame.uninterruptible ? undefined : options.signal;
    if (signal?.aborted) {
      logger().debug(`${this.name}: dropping ${frame.name} from an interrupted pusher`);
      return;
    }
    if (options.noWait !== true && direction === FrameDirection.DOWNSTREAM) {
      while (this.#dataQueue.length >= this.#maxQueued && !this.#cancelled) {
        const woke = await this.#waitForSpace(signal);
        if (!woke) {
          logger().debug(`${this.name}: dropping ${frame.name}, its pusher was interrupted while waiting`);
          return;
        }
      }
    }
    if (this.#cancelled) {
      logger().debug(`${this.name}: cancelled, dropping ${frame.name}`);
      return;
    }
    if (this.#dataQueue.length >= this.#maxQueued * HARD_CAP_FACTOR) {
      logger().error(`${this.name}: queue full (${this.#dataQueue.length} frames), dropping ${frame.name}`);
      return;
    }
    this.#dataQueue.push({ frame, direction, sysSeq: this.#sysAccepted });
    if (!this.#dataRunning) void this.#pumpData();
  }

  #acceptSystem(frame: Frame, direction: FrameDirection): void {
    if (this.#sysQueue.length >= this.#maxSystemQueued && isDroppableMediaFrame(frame)) {
      this.#droppedMedia++;
      const now = performance.now();
      if (now - this.#lastDropWarning >= 5000) {
        // At most one warning per 5 s: a stalled handler at 50 frames/s must not flood the log.
        this.#lastDropWarning = now;
        logger().warn(
          `${this.name}: system queue full, dropped ${this.#droppedMedia} input media frame(s) so far`,
        );
      }
      return;
    }
    // Queue-time effects, in arrival order: everything queued before this frame is affected, nothing after.
    if (frame instanceof InterruptionFrame) {
      this.#interrupt(false);
    } else if (frame instanceof CancelFrame) {
      this.#interrupt(true);
    } else if (frame instanceof StartFrame) {
      this.#cancelled = false;
    }
    this.#sysAccepted++;
    this.#sysQueue.push({ frame, direction, sysSeq: 0 });
    if (!this.#sysRunning) void this.#pumpSystem();
  }

  #interrupt(cancel: boolean): void {
    const run = this.#currentRun;
    if (run !== null) {
      // Diagnostics: a run that ignores its interruption signal holds back every later data frame.
      setTimeout(() => {
        if (this.#currentRun === run) {
          logger().warn(
            `${this.name}: still processing ${run.name} ${STALE_RUN_WARNING_MS} ms after an interruption; ` +
              'pass this.interruptionSignal to long awaits in processFrame',
          );
        }
      }, STALE_RUN_WARNING_MS).unref();
    }
    this.#interruption.abort();
    this.#interruption = new AbortController();
    if (cancel) this.#cancelled = true;
    const dropped = this.#dataQueue.retain((q) => !cancel && q.frame.uninterruptible);
    if (dropped > 0)
      logger().debug(`${this.name}: ${cancel ? 'cancel' : 'interruption'} dropped ${dropped} frame(s)`);
    this.#wakeSpaceWaiters();
  }

  async #pumpSystem(): Promise<void> {
    this.#sysRunning = true;
    try {
      for (let q = this.#sysQueue.shift(); q !== undefined; q = this.#sysQueue.shift()) {
        await this.#invoke(q.frame, q.direction, { processor: this, system: true, signal: undefined });
        if (q.frame instanceof InterruptionFrame && this.#interruptionPassedWaiters.size > 0) {
          const waiters = [...this.#interruptionPassedWaiters];
          this.#interruptionPassedWaiters.clear();
          for (const w of waiters) w();
        }
        this.#sysDone++;
        if (this.#sysDoneWaiters.length > 0) this.#notifySysDone();
      }
    } finally {
      this.#sysRunning = false;
    }
  }

  async #pumpData(): Promise<void> {
    this.#dataRunning = true;
    try {
      for (let q = this.#dataQueue.peek(); q !== undefined; q = this.#dataQueue.peek()) {
        if (q.sysSeq > this.#sysDone) {
          // System frames that arrived before this data frame are still being handled: wait for them.
          await new Promise<void>((resolve) => this.#sysDoneWaiters.push({ seq: q.sysSeq, resolve }));
          continue; // the queue may have been cleared meanwhile
        }
        this.#dataQueue.shift();
        this.#wakeSpaceWaiters();
        const signal = this.#interruption.signal;
        this.#currentRun = q.frame;
        try {
          await this.#invoke(q.frame, q.direction, { processor: this, system: false, signal });
        } finally {
          this.#currentRun = null;
        }
      }
    } finally {
      this.#dataRunning = false;
    }
  }

  async #invoke(frame: Frame, direction: FrameDirection, ctx: RunContext): Promise<void> {
    if (frame instanceof StartFrame) this.#startFrame = frame;
    try {
      await runContext.run(ctx, () => this.processFrame(frame, direction));
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      logger().error(`${this.name}: error processing ${frame.name}`, err);
      await runContext.run(ctx, () =>
        this.pushError(`${this.name}: error processing ${frame.name}: ${message}`, { exception: err }),
      );
    }
  }

  #notify(
    observer: FrameObserver,
    destination: FrameProcessor,
    frame: Frame,
    direction: FrameDirection,
  ): void {
    try {
      const r = observer.onPushFrame?.({
        source: this as FrameProcessor,
        destination,
        frame,
        direction,
        timestampMs: performance.now(),
      });
      if (r instanceof Promise)
        r.catch((err: unknown) => logger().error(`${this.name}: observer failed`, err));
    } catch (err) {
      logger().error(`${this.name}: observer failed`, err);
    }
  }

  #notifySysDone(): void {
    const ready = this.#sysDoneWaiters.filter((w) => w.seq <= this.#sysDone);
    if (ready.length === 0) return;
    this.#sysDoneWaiters = this.#sysDoneWaiters.filter((w) => w.seq > this.#sysDone);
    for (const w of ready) w.resolve();
  }

  #waitForSpace(signal: AbortSignal | undefined): Promise<boolean> {
    return new Promise<boolean>((resolve) => {
      const onAbort = (): void => {
        this.#spaceWaiters.delete(wake);
        resolve(false);
      };
      const wake = (): void => {
        signal?.removeEventListener('abort', onAbort);
        resolve(signal?.aborted !== true);
      };
      this.#spaceWaiters.add(wake);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  #wakeSpaceWaiters(): void {
    if (this.#spaceWaiters.size === 0) return;
    const waiters = [...this.#spaceWaiters];
    this.#spaceWaiters.clear();
    for (const wake of waiters) wake();
  }
}

function checkFrame(frame: Frame, direction: FrameDirection): void {
  if (!(frame instanceof Frame)) throw new SmallWebRTCTypeError('ERR_INVALID_ARG', 'frame must be a Frame');
  if (direction !== FrameDirection.DOWNSTREAM && direction !== FrameDirection.UPSTREAM) {
    throw new SmallWebRTCTypeError(
      'ERR_INVALID_ARG',
      `direction must be 'downstream' or 'upstream', got ${String(direction)}`,
    );
  }
}
