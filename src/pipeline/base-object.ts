import { SmallWebRTCTypeError } from '../errors.js';
import { TypedEmitter, type EventOptions } from '../events.js';

/**
 * An event map: event name -> the arguments a handler receives after the emitting object.
 * Example: `{ on_client_connected: [connection: SmallWebRTCConnection] }`.
 */
export type EventArgs<E> = { [K in keyof E]: unknown[] };

/** A handler: receives the emitting object first (as Pipecat does), then the event's arguments. */
export type EventHandler<Source, Args extends unknown[]> = (source: Source, ...args: Args) => unknown;

/** The emitter's view of `E`: the same events, with the emitting object as the first argument. */
type WithSource<Source, E extends EventArgs<E>> = { [K in keyof E]: [source: Source, ...args: E[K]] };

let nextObjectId = 1;
const nameCounters = new Map<string, number>();

/**
 * Pipecat's `BaseObject`: a unique id, a readable name and typed event handlers, over the library's one
 * event model ({@link TypedEmitter}: its rules for unknown names, sync/async handlers and handler errors).
 *
 * Event names must be registered by the class (`registerEventHandler`) before handlers can be added; adding a
 * handler for an unregistered name throws `ERR_INVALID_ARG`. Pipeline events are registered awaited by
 * default: `callEventHandler` runs the handlers one after the other, each awaited, and a handler that throws
 * or rejects is logged and never stops the other handlers or the caller (media and frame processing never
 * break because of application code).
 *
 * @typeParam E - the event map (see {@link EventArgs}).
 */
export class BaseObject<E extends EventArgs<E>> {
  /** Process-unique, increasing id. */
  readonly id: number;
  /** `ClassName#n` unless a name was given. */
  readonly name: string;
  readonly #events: TypedEmitter<WithSource<this, E>>;

  constructor(name?: string) {
    this.id = nextObjectId++;
    if (name !== undefined) {
      if (typeof name !== 'string')
        throw new SmallWebRTCTypeError('ERR_INVALID_ARG', 'name must be a string');
      this.name = name;
    } else {
      const cls = new.target.name || 'Object';
      const n = nameCounters.get(cls) ?? 0;
      nameCounters.set(cls, n + 1);
      this.name = `${cls}#${n}`;
    }
    this.#events = new TypedEmitter(this.name);
  }

  /**
   * Declares an event name so handlers can be attached to it. Subclasses call this in their constructor.
   * `options.awaited` defaults to true (see {@link EventOptions}).
   */
  protected registerEventHandler(name: keyof E & string, options?: EventOptions): void {
    this.#events.register(name, options);
  }

  /** The event names this object emits. */
  get eventNames(): string[] {
    return this.#events.eventNames;
  }

  /**
   * Adds a handler (Pipecat's `@obj.event_handler("name")` / `add_event_handler`). Returns `this`.
   * The handler receives this object first, then the event arguments; it may be async.
   *
   * @throws SmallWebRTCTypeError `ERR_INVALID_ARG` for an unregistered name or a non-function handler.
   */
  eventHandler<K extends keyof E & string>(name: K, handler: EventHandler<this, E[K]>): this {
    return this.on(name, handler);
  }

  /** Same as {@link BaseObject.eventHandler}. */
  on<K extends keyof E & string>(name: K, handler: EventHandler<this, E[K]>): this {
    this.#events.on(name, handler as never);
    return this;
  }

  /** Removes a handler added with {@link BaseObject.on}; unknown handlers are ignored. Returns `this`. */
  off<K extends keyof E & string>(name: K, handler: EventHandler<this, E[K]>): this {
    this.#events.off(name, handler as never);
    return this;
  }

  /** Whether at least one handler is attached to `name`. */
  hasEventHandler(name: keyof E & string): boolean {
    return this.#events.hasHandlers(name);
  }

  /**
   * Calls every handler of `name` with this object first, as the event was registered (awaited: in
   * registration order, each awaited). Never rejects: a throwing handler is logged with the event name and
   * the next handler still runs.
   */
  protected callEventHandler<K extends keyof E & string>(name: K, ...args: E[K]): Promise<void> {
    return this.#events.emit(name, ...([this, ...args] as WithSource<this, E>[K]));
  }
}
