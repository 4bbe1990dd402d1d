import { SmallWebRTCError } from '../errors.js';
import { reraiseIfUnhandled, subscribeSignal, unsubscribeSignal } from '../process-lifecycle.js';
import { BaseObject } from './base-object.js';
import { logger } from './logger.js';
import type { PipelineTask } from './task.js';

/** Construction options of {@link PipelineRunner}. */
export interface PipelineRunnerOptions {
  /** Name used in logs (default `PipelineRunner#n`). */
  name?: string;
  /** Cancel running tasks on SIGINT (Ctrl-C). Default true, as in Pipecat. */
  handleSigint?: boolean;
  /**
   * Cancel running tasks on SIGTERM. Default true (Pipecat defaults to false, but in Node an unhandled
   * SIGTERM kills the process without any cleanup, which leaves peers waiting for a timeout).
   */
  handleSigterm?: boolean;
}

/** Events of {@link PipelineRunner}. */
export interface PipelineRunnerEvents {
  /** A handled signal arrived; running tasks are being cancelled. */
  on_signal: [signal: NodeJS.Signals];
}

/**
 * Runs pipeline tasks (Pipecat's `PipelineRunner`). While at least one task runs, SIGINT/SIGTERM (as
 * configured) cancel every running task instead of killing the process; the listeners are removed as soon as
 * no task runs. A second signal while cancelling restores Node's default handling and re-raises it, so a
 * stuck cancellation never makes Ctrl-C useless. All runners of the process share one listener per signal
 * with the signalling server's drain (`src/process-lifecycle.ts`): on SIGTERM both act, neither replaces the
 * other.
 */
export class PipelineRunner extends BaseObject<PipelineRunnerEvents> {
  readonly #signals: NodeJS.Signals[];
  readonly #tasks = new Set<PipelineTask>();
  #cancelling = false;
  readonly #onSignal = (signal: NodeJS.Signals): void => this.#handleSignal(signal);

  constructor(options: PipelineRunnerOptions = {}) {
    super(options.name);
    this.#signals = [];
    if (options.handleSigint ?? true) this.#signals.push('SIGINT');
    if (options.handleSigterm ?? true) this.#signals.push('SIGTERM');
    this.registerEventHandler('on_signal');
  }

  /** Tasks currently running under this runner. */
  get runningTasks(): readonly PipelineTask[] {
    return [...this.#tasks];
  }

  /**
   * Runs `task` to completion (see `PipelineTask.run`), handling signals meanwhile. Resolves when the task
   * finished and was cleaned up; rejects if its setup failed.
   */
  async run(task: PipelineTask): Promise<void> {
    if (this.#tasks.has(task))
      throw new SmallWebRTCError('ERR_INVALID_STATE', `${this.name}: ${task.name} is already running`);
    if (this.#tasks.size === 0) this.#install();
    this.#tasks.add(task);
    try {
      await task.run();
    } finally {
      this.#tasks.delete(task);
      if (this.#tasks.size === 0) this.#uninstall();
    }
  }

  /** Cancels every running task and waits for the cancellations (not for their cleanup). */
  async cancel(): Promise<void> {
    await Promise.all([...this.#tasks].map((t) => t.cancel()));
  }

  #install(): void {
    this.#cancelling = false;
    for (const s of this.#signals) subscribeSignal(s, this.#onSignal);
  }

  #uninstall(): void {
    for (const s of this.#signals) unsubscribeSignal(s, this.#onSignal);
  }

  #handleSignal(signal: NodeJS.Signals): void {
    if (this.#cancelling) {
      logger().warn(`${this.name}: second ${signal} while cancelling, exiting`);
      this.#uninstall();
      // With no runner (nor a draining server) listening any more, Node applies the default action.
      reraiseIfUnhandled(signal);
      return;
    }
    this.#cancelling = true;
    logger().info(`${this.name}: ${signal} received, cancelling ${this.#tasks.size} task(s)`);
    void this.callEventHandler('on_signal', signal);
    void this.cancel();
  }
}
