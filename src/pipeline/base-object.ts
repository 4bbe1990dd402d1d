import { SmallWebRTCTypeError } from '../errors.js';
import { logger } from './logger.js';

/**
 * An event map: event name -> the arguments a handler receives after the emitting object.
 * Example: `{ on_client_connected: [connection: SmallWebRTCConnection] }`.
 */
export type EventArgs<E> = { [K in keyof E]: unknown[] };

/** A handler: receives the emitting object first (as Pipecat does), then the event's arguments. */
export type EventHandler<Source, Args extends unknown[]> = (source: Source, ...args: Args) => unknown;

type AnyHandler = (...args: unknown[]) => unknown;

let nextObjectId = 1;
const nameCounters = new Map<string, number>();

/**
 * Pipecat's `BaseObject`: a unique id, a readable name and typed event handlers.
 *
 * Event names must be registered by the class (`registerEventHandler`) before handlers can be added; adding a
 * handler for an unregistered name logs a warning and is ignored, as in Pipecat. Handlers run one after the
 * other, each awaited; a handler that throws or rejects is logged and never stops the other handlers or the
 * caller (media and frame processing never break because of application code).
 *
 * @typeParam E - the event map (see {@link EventArgs}).
 */
export class BaseObject<E extends EventArgs<E>> {
  /** Process-unique, increasing id. */
  readonly id: number;
  /** `ClassName#n` unless a name was given. */
  readonly name: string;
  readonly #handlers = new Map<string, AnyHandler[]>();

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
  }

  /** Declares an event name so handlers can be attached to it. Subclasses call this in their constructor. */
  protected registerEventHandler(name: keyof E & string): void {
    if (!this.#handlers.has(name)) this.#handlers.set(name, []);
  }

  /** The event names this object emits. */
  get eventNames(): string[] {
    return [...this.#handlers.keys()];
  }

  /**
   * Adds a handler (Pipecat's `@obj.event_handler("name")` / `add_event_handler`). Returns `this`.
   * The handler receives this object first, then the event arguments; it may be async.
   */
  eventHandler<K extends keyof E & string>(name: K, handler: EventHandler<this, E[K]>): this {
    return this.on(name, handler);
  }

  /** Same as {@link BaseObject.eventHandler}. */
  on<K extends keyof E & string>(name: K, handler: EventHandler<this, E[K]>): this {
    if (typeof handler !== 'function')
      throw new SmallWebRTCTypeError('ERR_INVALID_ARG', `handler for ${name} must be a function`);
    const list = this.#handlers.get(name);
    if (!list) {
      logger().warn(
        `${this.name}: event handler ${name} not registered (known: ${this.eventNames.join(', ')})`,
      );
      return this;
    }
    list.push(handler as AnyHandler);
    return this;
  }

  /** Removes a handler added with {@link BaseObject.on}; unknown handlers are ignored. Returns `this`. */
  off<K extends keyof E & string>(name: K, handler: EventHandler<this, E[K]>): this {
    const list = this.#handlers.get(name);
    const i = list ? list.indexOf(handler as AnyHandler) : -1;
    if (list && i >= 0) list.splice(i, 1);
    return this;
  }

  /** Whether at least one handler is attached to `name`. */
  hasEventHandler(name: keyof E & string): boolean {
    return (this.#handlers.get(name)?.length ?? 0) > 0;
  }

  /**
   * Calls every handler of `name` in registration order, awaiting each. Never rejects: a throwing handler is
   * logged with the event name and the next handler still runs.
   */
  protected async callEventHandler<K extends keyof E & string>(name: K, ...args: E[K]): Promise<void> {
    const list = this.#handlers.get(name);
    if (!list || list.length === 0) return;
    for (const handler of [...list]) {
      try {
        await handler(this, ...args);
      } catch (err) {
        logger().error(`${this.name}: exception in event handler ${name}`, err);
      }
    }
  }
}
