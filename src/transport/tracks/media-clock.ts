import { performance } from 'node:perf_hooks';

import { logger } from '../../pipeline/logger.js';

/** Something the {@link MediaClock} drives: a track that polls its receiver or paces its sender. */
export interface MediaClockClient {
  /** Called on the JS thread once per clock period with the tick's `performance.now()`, ms. */
  tick(nowMs: number): void;
}

/**
 * The one media clock of the process: a single 10 ms wakeup that every live media track of every session
 * rides on (receive concealment polling, send pacing, the bot-speaking cadence), instead of a timer per
 * session and per direction. Per-session CPU is dominated by wakeups and packet handling, so N sessions cost
 * one wakeup per 10 ms rather than N or 2N.
 *
 * Timing precision is not what keeps the streams right: RTP timestamps come from sample counts in the native
 * sender, whose `pull(now)` sends every slot that came due (and skips slots after a long stall instead of
 * bursting), and the receiver's `poll(now)` emits every concealment frame that came due. A late tick only
 * delays packets by the lateness. 10 ms is half a 20 ms packet: a slot is never later than that plus the
 * event loop's own lateness.
 *
 * The timer runs only while a client is registered and is unref'd (a connection keeps the process alive
 * while a peer is up; the clock alone must not). A throwing client is logged and the others still tick.
 */
export class MediaClock {
  /** Clock period, ms. */
  static readonly INTERVAL_MS = 10;
  readonly #clients = new Set<MediaClockClient>();
  #timer: NodeJS.Timeout | null = null;
  #ticks = 0;
  #errors = 0;

  /** Registers `client` (idempotent); the timer starts with the first client. */
  add(client: MediaClockClient): void {
    this.#clients.add(client);
    if (this.#timer === null) {
      this.#timer = setInterval(() => this.#tick(), MediaClock.INTERVAL_MS);
      this.#timer.unref();
    }
  }

  /** Unregisters `client` (idempotent); the timer stops with the last client. */
  delete(client: MediaClockClient): void {
    this.#clients.delete(client);
    if (this.#clients.size === 0 && this.#timer !== null) {
      clearInterval(this.#timer);
      this.#timer = null;
    }
  }

  /** Whether `client` is registered. */
  has(client: MediaClockClient): boolean {
    return this.#clients.has(client);
  }

  /** Registered clients (tracks of every session in the process). */
  get size(): number {
    return this.#clients.size;
  }

  /** Whether the timer is running (exactly when at least one client is registered). */
  get running(): boolean {
    return this.#timer !== null;
  }

  /** Ticks since the process started (for stats pages and tests). */
  get ticks(): number {
    return this.#ticks;
  }

  #tick(): void {
    this.#ticks++;
    const now = performance.now();
    for (const client of this.#clients) {
      try {
        client.tick(now);
      } catch (err) {
        // Logged once per 1000 so one broken client cannot flood the log at 100 Hz.
        if (this.#errors++ % 1000 === 0) logger().error(`media clock: a client's tick failed`, err);
      }
    }
  }
}

/** The process-wide {@link MediaClock} every transport's tracks use. */
export const mediaClock = new MediaClock();
