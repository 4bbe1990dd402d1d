// The one event model (src/events.ts) and its users: unknown names, awaited vs not-awaited events, handler
// errors logged with the event name without breaking the emitter.
import { afterEach, describe, expect, it } from 'vitest';
import { SmallWebRTCConnection } from '../../src/connection/index.js';
import { TypedEmitter } from '../../src/events.js';
import { setLogger, type Logger } from '../../src/logger.js';
import { BaseObject } from '../../src/pipeline/base-object.js';

interface Events {
  a: [n: number];
  b: [s: string];
}

function capture(): { logger: Logger; errors: string[] } {
  const errors: string[] = [];
  const logger: Logger = {
    debug: () => undefined,
    info: () => undefined,
    warn: () => undefined,
    error: (m) => void errors.push(m),
  };
  return { logger, errors };
}

afterEach(() => setLogger(null));

describe('TypedEmitter', () => {
  it('throws ERR_INVALID_ARG for unregistered names and non-function handlers', () => {
    const e = new TypedEmitter<Events>('owner');
    e.register('a');
    expect(() => e.on('b', () => undefined)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG' }));
    expect(() => e.on('b', () => undefined)).toThrow(TypeError);
    expect(() => e.on('b', () => undefined)).toThrow(/unknown event "b" \(known: a\)/);
    expect(() => e.emit('b', 'x')).toThrow(TypeError);
    expect(() => e.off('b', () => undefined)).toThrow(TypeError);
    expect(() => e.on('a', 42 as never)).toThrow(TypeError);
    e.register('a', { awaited: false }); // a repeat keeps the first registration
    expect(e.eventNames).toEqual(['a']);
  });

  it('awaited events run handlers one after the other and resolve after the last', async () => {
    const e = new TypedEmitter<Events>('owner');
    e.register('a');
    const log: string[] = [];
    e.on('a', async (n) => {
      log.push(`1 start ${n}`);
      await new Promise((r) => setTimeout(r, 20));
      log.push('1 end');
    });
    e.on('a', (n) => void log.push(`2 ${n}`));
    const done = e.emit('a', 7);
    expect(log).toEqual(['1 start 7']); // the first handler is called synchronously, the second waits
    await done;
    expect(log).toEqual(['1 start 7', '1 end', '2 7']);
  });

  it('not-awaited events call every handler at once and resolve without waiting', async () => {
    const e = new TypedEmitter<Events>('owner');
    e.register('a', { awaited: false });
    const log: string[] = [];
    let release: () => void = () => undefined;
    e.on('a', async () => {
      log.push('1 start');
      await new Promise<void>((r) => (release = r));
      log.push('1 end');
    });
    e.on('a', () => void log.push('2'));
    await e.emit('a', 1);
    expect(log).toEqual(['1 start', '2']);
    release();
    await new Promise((r) => setTimeout(r, 0));
    expect(log).toEqual(['1 start', '2', '1 end']);
  });

  it('logs throwing and rejecting handlers with the owner and event name; the others still run', async () => {
    const { logger, errors } = capture();
    setLogger(logger);
    for (const awaited of [true, false]) {
      errors.length = 0;
      const e = new TypedEmitter<Events>(() => 'Owner#1');
      e.register('b', { awaited });
      const seen: string[] = [];
      e.on('b', () => {
        throw new Error('sync boom');
      });
      e.on('b', () => Promise.reject(new Error('async boom')));
      e.on('b', (s) => void seen.push(s));
      await expect(e.emit('b', 'x')).resolves.toBeUndefined();
      await new Promise((r) => setTimeout(r, 0));
      expect(seen).toEqual(['x']);
      expect(errors).toHaveLength(2);
      for (const m of errors) expect(m).toMatch(/^Owner#1: handler for event b failed/);
    }
  });

  it('rate-limits the log of a handler failing on every emission', async () => {
    const { logger, errors } = capture();
    setLogger(logger);
    const e = new TypedEmitter<Events>('media');
    e.register('a', { awaited: false });
    let calls = 0;
    e.on('a', () => {
      calls++;
      throw new Error('broken');
    });
    for (let i = 0; i < 2500; i++) await e.emit('a', i);
    expect(calls).toBe(2500);
    // The first 10, then the 1000th and 2000th.
    expect(errors).toHaveLength(12);
    expect(errors[11]).toMatch(/2000 so far/);
  });

  it('a handler added or removed during an emission takes effect from the next one', async () => {
    const e = new TypedEmitter<Events>('owner');
    e.register('a', { awaited: false });
    const log: string[] = [];
    const late = (): void => void log.push('late');
    const second = (): void => void log.push('second');
    e.on('a', () => {
      log.push('first');
      e.on('a', late);
      e.off('a', second);
    });
    e.on('a', second);
    await e.emit('a', 1);
    expect(log).toEqual(['first', 'second']);
    log.length = 0;
    e.removeAllHandlers();
    e.on('a', late);
    await e.emit('a', 2);
    expect(log).toEqual(['late']);
    expect(e.hasHandlers('a')).toBe(true);
  });
});

describe('users of the event model', () => {
  class Thing extends BaseObject<{ on_thing: [n: number] }> {
    constructor() {
      super();
      this.registerEventHandler('on_thing');
    }
    fire(n: number): Promise<void> {
      return this.callEventHandler('on_thing', n);
    }
  }

  it('BaseObject: unknown names throw, handlers get the object first and are awaited in order', async () => {
    const t = new Thing();
    expect(() => t.eventHandler('on_other' as never, () => undefined)).toThrow(TypeError);
    const got: Array<[Thing, number]> = [];
    t.eventHandler('on_thing', async (src, n) => {
      await new Promise((r) => setTimeout(r, 5));
      got.push([src, n]);
    });
    t.on('on_thing', (src, n) => void got.push([src, n * 10]));
    await t.fire(3);
    expect(got).toEqual([
      [t, 3],
      [t, 30],
    ]);
    expect(t.hasEventHandler('on_thing')).toBe(true);
  });

  it('SmallWebRTCConnection: unknown names throw; handlers are not awaited and their errors are logged', async () => {
    const { logger, errors } = capture();
    setLogger(logger);
    const c = new SmallWebRTCConnection({ bindAddress: '127.0.0.1' });
    expect(() => c.on('nope' as never, () => undefined)).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARG' }),
    );
    const order: string[] = [];
    c.on('closed', async () => {
      order.push('1 start');
      await new Promise((r) => setTimeout(r, 50));
      order.push('1 end');
    });
    c.on('closed', () => {
      order.push('2');
      throw new Error('handler bug');
    });
    await c.close();
    expect(order).toEqual(['1 start', '2']);
    expect(errors.some((m) => /SmallWebRTCConnection#\d+: handler for event closed failed/.test(m))).toBe(
      true,
    );
  });
});
