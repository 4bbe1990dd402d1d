/**
 * Process-wide shutdown coordination shared by the pipeline runner and the signalling server, so that they
 * cooperate on `SIGTERM` instead of competing:
 *
 * - one process listener per signal, dispatching to every subscriber (runners cancel their tasks, servers
 *   drain their sessions); a subscriber that wants Node's default action on a second signal unsubscribes and
 *   re-raises it once nobody else listens;
 * - the count of running pipeline tasks, so a draining server can wait for the bots to finish before the
 *   process exits.
 */

/** Subscribers per signal. */
const handlersBySignal = new Map<NodeJS.Signals, Set<(signal: NodeJS.Signals) => void>>();

function dispatchSignal(signal: NodeJS.Signals): void {
  // A snapshot: a handler may unsubscribe itself (second signal) while we iterate.
  for (const handler of [...(handlersBySignal.get(signal) ?? [])]) {
    try {
      handler(signal);
    } catch {
      // A throwing subscriber must not keep the others from shutting down.
    }
  }
}

/**
 * Subscribes `handler` to `signal` (one process listener per signal, however many subscribers: a listener per
 * runner tripped Node's MaxListenersExceededWarning from 10 concurrent sessions).
 */
export function subscribeSignal(signal: NodeJS.Signals, handler: (signal: NodeJS.Signals) => void): void {
  let handlers = handlersBySignal.get(signal);
  if (handlers === undefined) {
    handlers = new Set();
    handlersBySignal.set(signal, handlers);
    process.on(signal, dispatchSignal);
  }
  handlers.add(handler);
}

/** Unsubscribes `handler`; the process listener goes when the last subscriber does. */
export function unsubscribeSignal(signal: NodeJS.Signals, handler: (signal: NodeJS.Signals) => void): void {
  const handlers = handlersBySignal.get(signal);
  if (handlers === undefined || !handlers.delete(handler) || handlers.size > 0) return;
  handlersBySignal.delete(signal);
  process.off(signal, dispatchSignal);
}

/**
 * After a subscriber unsubscribed on a repeated signal: if nobody listens to `signal` any more, raises it
 * again so that Node's default action (terminate) applies. A stuck shutdown never makes a second Ctrl-C or
 * SIGTERM useless.
 */
export function reraiseIfUnhandled(signal: NodeJS.Signals): void {
  if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
}

/** Pipeline tasks running now (added by `PipelineTask.run`, removed when it finished). */
const running = new Set<object>();
const idleWaiters = new Set<() => void>();

/** Marks `task` as running until the returned function is called. */
export function markTaskRunning(task: object): () => void {
  running.add(task);
  return () => {
    if (!running.delete(task) || running.size > 0) return;
    for (const wake of [...idleWaiters]) wake();
  };
}

/** Pipeline tasks running now in this process. */
export function runningTaskCount(): number {
  return running.size;
}

/** Resolves true once no pipeline task runs, or false after `timeoutMs`. */
export function whenTasksIdle(timeoutMs: number): Promise<boolean> {
  if (running.size === 0) return Promise.resolve(true);
  return new Promise((resolve) => {
    const done = (idle: boolean): void => {
      clearTimeout(timer);
      idleWaiters.delete(wake);
      resolve(idle);
    };
    const wake = (): void => done(true);
    const timer = setTimeout(() => done(false), Math.max(0, timeoutMs));
    idleWaiters.add(wake);
  });
}
