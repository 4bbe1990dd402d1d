// MediaClock: one timer for any number of clients, running only while it has clients; a throwing client does
// not stop the others. Real timers.
import { describe, expect, it } from 'vitest';

import { MediaClock } from '../../src/transport/tracks/media-clock.js';
import { sleep, until } from '../../testkit/wait.js';

describe('MediaClock', () => {
  it('ticks every client from one timer, only while it has clients', async () => {
    const clock = new MediaClock();
    expect(clock.running).toBe(false);
    const seen: number[][] = [[], [], []];
    const clients = seen.map((times) => ({ tick: (now: number) => void times.push(now) }));
    for (const c of clients) clock.add(c);
    clock.add(clients[0]!); // idempotent
    expect(clock.size).toBe(3);
    expect(clock.running).toBe(true);
    await until(() => clock.ticks >= 3, 10_000, 'three ticks');
    const ticks = clock.ticks;
    expect(ticks).toBeGreaterThanOrEqual(3);
    // Every client got every tick, with the same timestamp in the same tick.
    for (const times of seen) expect(times).toHaveLength(ticks);
    expect(seen[1]).toEqual(seen[0]);
    for (let i = 1; i < seen[0]!.length; i++) expect(seen[0]![i]!).toBeGreaterThan(seen[0]![i - 1]!);

    clock.delete(clients[1]!);
    expect(clock.has(clients[1]!)).toBe(false);
    for (const c of clients) clock.delete(c);
    expect(clock.size).toBe(0);
    expect(clock.running).toBe(false);
    const stopped = clock.ticks;
    await sleep(40);
    expect(clock.ticks).toBe(stopped);
  });

  it('keeps ticking the other clients when one throws', async () => {
    const clock = new MediaClock();
    let good = 0;
    const bad = {
      tick: (): void => {
        throw new Error('broken client');
      },
    };
    const ok = { tick: (): void => void good++ };
    clock.add(bad);
    clock.add(ok);
    try {
      // Two ticks after the throwing client's first throw: the clock survived it (no fixed wall-clock wait:
      // a loaded machine may run the 10 ms timer late).
      await until(() => good >= 2, 10_000, 'two ticks of the good client');
      expect(clock.has(bad)).toBe(true);
    } finally {
      clock.delete(bad);
      clock.delete(ok);
    }
  });
});
