// Polling waits shared by the tests and the benchmarks. Real peers (node-datachannel, aiortc, Chromium)
// report progress on their own threads and timers, so tests poll a condition with a deadline instead of
// sleeping a fixed time; a timeout fails with what was awaited.

/** Options of {@link until}. */
export interface UntilOptions {
  /**
   * How often `cond` is re-checked, in ms. Default: 20 for a synchronous condition (in-process state), 100 for
   * an asynchronous one (typically a Chromium `page.evaluate` round trip, which costs CPU on a shared machine).
   */
  intervalMs?: number;
}

/**
 * Resolves once `cond()` is true (sync or async); rejects with `timed out waiting for <what>` when it is still
 * false after `timeoutMs` (default 10 s). A function `what` is called at the timeout, to report the state then.
 * `cond` is checked first without waiting, then every `intervalMs`.
 */
export async function until(
  cond: () => boolean | Promise<boolean>,
  timeoutMs = 10_000,
  what: string | (() => string) = 'condition',
  opts: UntilOptions = {},
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const pending = cond();
    if (typeof pending === 'boolean' ? pending : await pending) return;
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${typeof what === 'string' ? what : what()} (${timeoutMs} ms)`);
    }
    await sleep(opts.intervalMs ?? (typeof pending === 'boolean' ? 20 : 100));
  }
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
