import { SmallWebRTCTypeError } from './errors.js';
import { getLogger } from './logger.js';

/**
 * An event map: event name -> the arguments every handler of that event receives, e.g.
 * `{ rtp: [packet: Buffer, arrivalMs: number] }`. Pipecat-style objects put themselves first
 * (`{ on_client_connected: [transport: SmallWebRTCTransport, connection: SmallWebRTCConnection] }`).
 */
export type EventMap<E> = { [K in keyof E]: unknown[] };

/** A handler of an event whose arguments are `Args`; it may be async (return a promise). */
export type Listener<Args extends unknown[]> = (...args: Args) => unknown;

/** How an event's handlers run, chosen when the event is registered. */
export interface EventOptions {
  /**
   * `true` (the default): {@link TypedEmitter.emit} calls the handlers one after the other, waiting for each
   * returned promise before calling the next, and resolves after the last one (Pipecat's
   * `_register_event_handler(name, sync=True)`). The emitting code awaits it when it must not go on before
   * the application reacted (a task's `on_pipeline_finished`, a transport's `on_client_connected`).
   *
   * `false`: `emit` calls every handler right away, in registration order, on the emitting call's stack,
   * and does not wait for the promises they return (Pipecat's default, where each handler runs in its own
   * task). For events raised from network callbacks and the media path (connection state, RTP/RTCP
   * packets), where the emitter must never block on application code.
   */
  awaited?: boolean;
}

interface Registered {
  readonly awaited: boolean;
  /** Replaced, never mutated (copy on write): `emit` iterates a snapshot without copying per call. */
  handlers: ReadonlyArray<Listener<unknown[]>>;
  /** Handler failures so far (for the log rate limit). */
  failures: number;
}

const DONE: Promise<void> = Promise.resolve();

/** Failures of one event logged one by one before the log thins out to one in {@link LOG_EVERY}. */
const LOG_FIRST = 10;
/** After {@link LOG_FIRST} failures, one failure in this many is logged (with the running count). */
const LOG_EVERY = 1000;

/**
 * The one event model of small-webrtc, shared by the connection, its tracks, the transport and the pipeline
 * (`BaseObject`): events typed by name, registered up front, with one rule for each situation:
 *
 * - Unknown names: adding, removing or emitting a handler for an event that was not registered throws a
 *   `SmallWebRTCTypeError` with code `ERR_INVALID_ARG` (a typo fails at once instead of a handler that never
 *   runs).
 * - Sync and async handlers: decided per event at registration ({@link EventOptions.awaited}). Handlers
 *   always run in registration order; a handler added or removed while an event is being emitted takes
 *   effect from the next emission.
 * - Errors: a handler that throws or rejects is logged with the owner and event name (the first
 *   {@link LOG_FIRST} failures of an event, then one in {@link LOG_EVERY}, so a handler failing on every
 *   media packet cannot flood the log); the other handlers still run and `emit` never throws or rejects.
 *
 * Everything runs on the JS thread. Each registration of the same function is called once per emission.
 *
 * @typeParam E - the {@link EventMap}.
 */
export class TypedEmitter<E extends EventMap<E>> {
  readonly #owner: () => string;
  readonly #events = new Map<string, Registered>();

  /** @param owner - names the emitting object in logs (a function: the name may change, e.g. a restart). */
  constructor(owner: string | (() => string)) {
    this.#owner = typeof owner === 'string' ? () => owner : owner;
  }

  /**
   * Declares an event before handlers can be added or it can be emitted (Pipecat's `_register_event_handler`).
   * Registering a name again keeps the first registration (a subclass may repeat its parent's).
   */
  register(name: keyof E & string, options: EventOptions = {}): void {
    if (this.#events.has(name)) return;
    this.#events.set(name, { awaited: options.awaited ?? true, handlers: [], failures: 0 });
  }

  /** The registered event names, in registration order. */
  get eventNames(): string[] {
    return [...this.#events.keys()];
  }

  /**
   * Adds a handler (Pipecat's `add_event_handler`).
   *
   * @throws SmallWebRTCTypeError `ERR_INVALID_ARG` for an unregistered name or a handler that is not a
   *   function.
   */
  on<K extends keyof E & string>(name: K, handler: Listener<E[K]>): void {
    const ev = this.#get(name);
    if (typeof handler !== 'function') {
      throw new SmallWebRTCTypeError('ERR_INVALID_ARG', `handler for ${name} must be a function`);
    }
    ev.handlers = [...ev.handlers, handler as Listener<unknown[]>];
  }

  /**
   * Removes the first registration of `handler` for `name` (a handler never added is ignored).
   *
   * @throws SmallWebRTCTypeError `ERR_INVALID_ARG` for an unregistered name.
   */
  off<K extends keyof E & string>(name: K, handler: Listener<E[K]>): void {
    const ev = this.#get(name);
    const i = ev.handlers.indexOf(handler as Listener<unknown[]>);
    if (i >= 0) ev.handlers = [...ev.handlers.slice(0, i), ...ev.handlers.slice(i + 1)];
  }

  /** Removes every handler of every event (the emitting object is done: its subscribers can be collected). */
  removeAllHandlers(): void {
    for (const ev of this.#events.values()) ev.handlers = [];
  }

  /** Whether `name` has at least one handler. @throws like {@link TypedEmitter.on} for an unknown name. */
  hasHandlers(name: keyof E & string): boolean {
    return this.#get(name).handlers.length > 0;
  }

  /**
   * Runs the handlers of `name` with `args` as its registration says ({@link EventOptions.awaited}). Never
   * rejects; resolves at once for an event registered with `awaited: false`.
   *
   * @throws SmallWebRTCTypeError `ERR_INVALID_ARG` (synchronously) for an unregistered name: a bug in the
   *   emitting class, not in application code.
   */
  emit<K extends keyof E & string>(name: K, ...args: E[K]): Promise<void> {
    const ev = this.#get(name);
    const handlers = ev.handlers;
    if (handlers.length === 0) return DONE;
    if (ev.awaited) return this.#runAwaited(name, ev, handlers, args);
    for (const handler of handlers) {
      try {
        const r = handler(...args);
        if (r !== null && typeof r === 'object' && typeof (r as { then?: unknown }).then === 'function') {
          (r as Promise<unknown>).then(undefined, (err: unknown) => this.#failed(name, ev, err));
        }
      } catch (err) {
        this.#failed(name, ev, err);
      }
    }
    return DONE;
  }

  async #runAwaited(
    name: string,
    ev: Registered,
    handlers: ReadonlyArray<Listener<unknown[]>>,
    args: unknown[],
  ): Promise<void> {
    for (const handler of handlers) {
      try {
        await handler(...args);
      } catch (err) {
        this.#failed(name, ev, err);
      }
    }
  }

  #get(name: string): Registered {
    const ev = this.#events.get(name);
    if (!ev) {
      throw new SmallWebRTCTypeError(
        'ERR_INVALID_ARG',
        `${this.#owner()}: unknown event ${JSON.stringify(name)} (known: ${this.eventNames.join(', ')})`,
      );
    }
    return ev;
  }

  #failed(name: string, ev: Registered, err: unknown): void {
    const n = ++ev.failures;
    if (n <= LOG_FIRST || n % LOG_EVERY === 0) {
      getLogger().error(`${this.#owner()}: handler for event ${name} failed (${n} so far)`, err);
    }
  }
}
