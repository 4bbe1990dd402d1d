// Internal helper of the service base classes: iterate a provider's stream until an interruption.

/** Either an async stream of values or one promised value (what `runStt` may return). */
export type StreamOrPromise<T> = AsyncIterable<T> | Promise<T>;

const ABORTED = Symbol('aborted');

/**
 * Yields the items of `source` until `signal` aborts. On abort the wait for the next item ends at once (a
 * provider stuck in a network read does not hold the processor), and the provider's iterator is told to
 * stop (`return()`, not awaited: a generator suspended in an await only finishes it once that await ends).
 */
export async function* untilAborted<T>(source: StreamOrPromise<T>, signal: AbortSignal): AsyncGenerator<T> {
  if (signal.aborted) return;
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<typeof ABORTED>((resolve) => {
    onAbort = () => resolve(ABORTED);
    signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    if (!isAsyncIterable(source)) {
      const value = await Promise.race([source, aborted]);
      if (value !== ABORTED) yield value;
      return;
    }
    const it = source[Symbol.asyncIterator]();
    for (;;) {
      const next = await Promise.race([it.next(), aborted]);
      if (next === ABORTED) {
        void Promise.resolve()
          .then(() => it.return?.())
          .catch(() => undefined);
        return;
      }
      if (next.done === true) return;
      yield next.value;
      if (signal.aborted) {
        void Promise.resolve()
          .then(() => it.return?.())
          .catch(() => undefined);
        return;
      }
    }
  } finally {
    if (onAbort !== undefined) signal.removeEventListener('abort', onAbort);
  }
}

function isAsyncIterable<T>(v: StreamOrPromise<T>): v is AsyncIterable<T> {
  return typeof (v as Partial<AsyncIterable<T>>)[Symbol.asyncIterator] === 'function';
}
