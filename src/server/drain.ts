/**
 * Graceful drain of a signalling server (`drain()`, and `SIGTERM` for `startSmallWebRTCServer`): new sessions
 * are refused with 503 + `Retry-After` and `/readyz` fails from the first moment; every connected client gets
 * the `peerLeft` signalling message and its session ends; the bots' pipeline tasks are given until the
 * deadline to finish; then (on a signal) the HTTP server closes and the process exits 0.
 *
 * On `SIGTERM` the server and the `PipelineRunner` share one process listener (`src/process-lifecycle.ts`):
 * the runner cancels its tasks while the server drains the sessions, and the server waits for every running
 * pipeline task before exiting. A second signal while draining restores Node's default action.
 */
import { performance } from 'node:perf_hooks';

import { shutdownSmallWebRTC } from '../connection/index.js';
import { SmallWebRTCRangeError } from '../errors.js';
import type { Logger } from '../logger.js';
import {
  reraiseIfUnhandled,
  runningTaskCount,
  subscribeSignal,
  unsubscribeSignal,
  whenTasksIdle,
} from '../process-lifecycle.js';
import type { ServerHealth } from './health.js';
import type { SmallWebRTCRequestHandler } from './request-handler.js';

/** The default drain deadline, ms: sessions and bots get this long before the process exits anyway. */
export const DEFAULT_DRAIN_DEADLINE_MS = 10_000;

/** Options of `drain()`. */
export interface SmallWebRTCDrainOptions {
  /**
   * How long sessions and the bots' pipeline tasks get to end, ms (default 10000). Each client gets
   * `peerLeft` at once; the deadline bounds the wait for the data channels to flush and the pipelines to
   * finish.
   */
  deadlineMs?: number;
}

/** What a drain did. */
export interface SmallWebRTCDrainResult {
  /** Sessions live when the drain began (every one was sent `peerLeft` and closed). */
  sessions: number;
  /** Pipeline tasks running in the process when the drain began. */
  pipelines: number;
  /** Pipeline tasks still running at the end (0 unless the deadline passed). */
  pipelinesLeft: number;
  /** Whether the sessions were closed and the pipelines had finished before the deadline. */
  complete: boolean;
  /** From the start of the drain to its end, ms. */
  elapsedMs: number;
}

/** Options of the signal handling of `startSmallWebRTCServer` (`shutdown` option). */
export interface SmallWebRTCShutdownOptions {
  /** Signals that drain the server (default `['SIGTERM']`; Ctrl-C's SIGINT is left to the runner). */
  signals?: NodeJS.Signals[];
  /** Drain deadline, ms (default 10000); see {@link SmallWebRTCDrainOptions}. */
  deadlineMs?: number;
  /**
   * Exit the process with code 0 once every server drained by the signal is closed (default true): pipeline
   * tasks, timers or sockets of the application would otherwise keep it running past the orchestrator's
   * grace period. Set false to do your own shutdown after `closed` resolves.
   */
  exit?: boolean;
}

export function checkDeadline(deadlineMs: unknown): number {
  const d = deadlineMs ?? DEFAULT_DRAIN_DEADLINE_MS;
  if (typeof d !== 'number' || !Number.isFinite(d) || d < 0)
    throw new SmallWebRTCRangeError('ERR_INVALID_ARG', 'deadlineMs must be a finite number >= 0');
  return d;
}

/**
 * Drains: marks the server draining (503 for new sessions, `/readyz` fails), disconnects every session
 * (`peerLeft`, then close), and waits for the running pipeline tasks, all within the deadline.
 * @throws RangeError (ERR_INVALID_ARG) for a bad deadline.
 */
export async function drainSessions(
  health: ServerHealth,
  handler: SmallWebRTCRequestHandler,
  options: SmallWebRTCDrainOptions,
  log: Logger,
): Promise<SmallWebRTCDrainResult> {
  const deadlineMs = checkDeadline(options.deadlineMs);
  const t0 = performance.now();
  health.startDraining();
  const sessions = handler.connectionCount;
  const pipelines = runningTaskCount();
  log.info(
    `drain: refusing new sessions; ending ${sessions} session(s), ${pipelines} pipeline(s) (deadline ${deadlineMs} ms)`,
  );
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), deadlineMs);
  });
  // handler.close() sends peerLeft to every client (each waits at most ~1 s for it to leave) and refuses
  // offers that were already past admission.
  const closed = await Promise.race([handler.close().then(() => true as const), deadline]);
  clearTimeout(timer);
  const idle = await whenTasksIdle(deadlineMs - (performance.now() - t0));
  const result: SmallWebRTCDrainResult = {
    sessions,
    pipelines,
    pipelinesLeft: runningTaskCount(),
    complete: closed && idle,
    elapsedMs: Math.round(performance.now() - t0),
  };
  const line =
    `drain: ${sessions} session(s) ended in ${result.elapsedMs} ms` +
    (result.complete ? '' : `; deadline passed with ${result.pipelinesLeft} pipeline(s) still running`);
  if (result.complete) log.info(line, { event: 'drain', ...result });
  else log.warn(line, { event: 'drain', ...result });
  return result;
}

/** Servers draining because of a signal; the process exits when the last one is closed. */
let signalDrains = 0;
let exitWanted = false;

/**
 * Drains `server` on `signals` (then closes it and, with `exit`, ends the process with code 0 once every
 * server drained by the signal is closed). Returns the function that removes the handling (for `close()`).
 */
export function drainOnSignals(
  server: {
    drain(o: SmallWebRTCDrainOptions): Promise<SmallWebRTCDrainResult>;
    close(): Promise<void>;
  },
  options: SmallWebRTCShutdownOptions,
  log: () => Logger,
): () => void {
  const signals = options.signals ?? ['SIGTERM'];
  const deadlineMs = checkDeadline(options.deadlineMs);
  const exit = options.exit ?? true;
  let signalled = false;
  const uninstall = (): void => {
    for (const s of signals) unsubscribeSignal(s, onSignal);
  };
  const onSignal = (signal: NodeJS.Signals): void => {
    if (signalled) {
      log().warn(`${signal} again while draining: exiting now`);
      uninstall();
      reraiseIfUnhandled(signal);
      return;
    }
    signalled = true;
    signalDrains++;
    if (exit) exitWanted = true;
    log().info(`${signal} received: draining`);
    void (async () => {
      try {
        await server.drain({ deadlineMs });
        await server.close();
      } catch (err) {
        log().error(`drain on ${signal} failed: ${err instanceof Error ? err.message : String(err)}`);
      }
      if (--signalDrains > 0 || !exitWanted) return;
      // node-datachannel's threads keep the process alive until cleanup; then exit even if the application
      // left a timer or socket behind (the orchestrator's grace period is running).
      await shutdownSmallWebRTC().catch(() => {});
      process.exit(0);
    })();
  };
  for (const s of signals) subscribeSignal(s, onSignal);
  return uninstall;
}
