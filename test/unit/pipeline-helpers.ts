// Test processors for the pipeline unit tests: real FrameProcessor subclasses, no mocks.
import { until as waitUntil } from '../../testkit/wait.js';
import { FrameDirection, FrameProcessor, type Frame } from '../../src/pipeline/index.js';

/** One frame as seen by a processor. */
export interface Seen {
  readonly frame: Frame;
  readonly direction: FrameDirection;
}

/** Records every frame it processes, then passes it on. */
export class Recorder extends FrameProcessor {
  readonly seen: Seen[] = [];
  setupCalls = 0;
  cleanupCalls = 0;

  override async setup(): Promise<void> {
    this.setupCalls++;
  }

  override async cleanup(): Promise<void> {
    this.cleanupCalls++;
    await super.cleanup();
  }

  override async processFrame(frame: Frame, direction: FrameDirection): Promise<void> {
    this.seen.push({ frame, direction });
    await this.pushFrame(frame, direction);
  }

  /** Names of the recorded frames' classes (optionally only those of one direction). */
  kinds(direction?: FrameDirection): string[] {
    return this.seen
      .filter((s) => direction === undefined || s.direction === direction)
      .map((s) => s.frame.constructor.name);
  }

  /** Recorded frames that are instances of `cls`. */
  of<T extends Frame>(cls: abstract new (...args: never[]) => T): T[] {
    return this.seen.map((s) => s.frame).filter((f): f is T => f instanceof cls);
  }
}

/** A manually opened gate. */
export class Gate {
  #open = false;
  #waiters: Array<() => void> = [];

  get isOpen(): boolean {
    return this.#open;
  }

  wait(signal?: AbortSignal): Promise<'open' | 'aborted'> {
    if (this.#open) return Promise.resolve('open');
    if (signal?.aborted) return Promise.resolve('aborted');
    return new Promise((resolve) => {
      const onAbort = (): void => resolve('aborted');
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#waiters.push(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve('open');
      });
    });
  }

  open(): void {
    this.#open = true;
    const w = this.#waiters;
    this.#waiters = [];
    for (const f of w) f();
  }
}

/** The shared {@link waitUntil} checked every 2 ms (in-process pipelines settle within microseconds). */
export function until(predicate: () => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
  return waitUntil(predicate, timeoutMs, what, { intervalMs: 2 });
}

/** Lets pending microtasks and a few macrotasks run. */
export async function settle(rounds = 5): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise((r) => setImmediate(r));
}
