/**
 * How many runs the fast-check properties under test/fuzz make. `npm test` uses a modest count (fast, and
 * still a fresh random sample on every run: a failure prints its seed and shrunk counterexample for
 * `fc.assert(..., { seed, path })`). `npm run fuzz` sets FUZZ_SECONDS: each property then runs until that
 * time budget is spent (FUZZ_NUM_RUNS overrides the count in both modes).
 */
import * as fc from 'fast-check';
import { expect } from 'vitest';

import { errorCode, isSmallWebRTCErrorCode, type SmallWebRTCErrorCode } from '../../src/errors.js';

const seconds = Number(process.env.FUZZ_SECONDS ?? '0');
const numRuns = Number(process.env.FUZZ_NUM_RUNS ?? '0');

/** True under `npm run fuzz` (a time budget per property). */
export const LONG_FUZZ = Number.isFinite(seconds) && seconds > 0;

/**
 * fast-check parameters for one property. `cost` scales the default count down for expensive properties
 * (real peer connections, a pipeline per run): `npm test` makes `max(10, 300 / cost)` runs.
 */
export function fuzzParams<T>(cost = 1): fc.Parameters<T> {
  if (LONG_FUZZ) {
    return {
      numRuns: numRuns > 0 ? numRuns : 1_000_000_000,
      interruptAfterTimeLimit: seconds * 1000,
      markInterruptAsFailure: false,
    };
  }
  return { numRuns: numRuns > 0 ? numRuns : Math.max(10, Math.floor(300 / cost)) };
}

/** Vitest timeout of a property test: the default, or the fuzz budget plus a margin under `npm run fuzz`. */
export function fuzzTimeout(defaultMs = 60_000): number {
  return LONG_FUZZ ? seconds * 1000 + 120_000 : defaultMs;
}

/**
 * Asserts that `err` is one of the library's coded errors (optionally one of `codes`): a property's "never
 * throws anything else". A plain TypeError from a missing check, a stack overflow or a native abort is a bug.
 */
export function expectCoded(err: unknown, codes?: readonly SmallWebRTCErrorCode[]): void {
  const code = errorCode(err);
  if (!isSmallWebRTCErrorCode(code) || (codes !== undefined && !codes.includes(code))) {
    // Re-throw the original so fast-check reports its stack with the counterexample.
    expect.fail(
      `not a coded error${codes ? ` (${codes.join('|')})` : ''}: ${String(err)}\n${String((err as Error)?.stack)}`,
    );
  }
}

/** Runs `fn`; returns its result, or undefined when it threw a coded error (anything else fails). */
export function codedOrValue<R>(fn: () => R, codes?: readonly SmallWebRTCErrorCode[]): R | undefined {
  try {
    return fn();
  } catch (err) {
    expectCoded(err, codes);
    return undefined;
  }
}

/** The async form of {@link codedOrValue}. */
export async function codedOrValueAsync<R>(
  fn: () => Promise<R>,
  codes?: readonly SmallWebRTCErrorCode[],
): Promise<R | undefined> {
  try {
    return await fn();
  } catch (err) {
    expectCoded(err, codes);
    return undefined;
  }
}
