/**
 * The inbound data-channel byte-rate bound of one connection: a token bucket (sustained bytes/s and a burst)
 * and, for a peer that keeps sending over it, a disconnect. Why it exists: node-datachannel hands every
 * received data-channel message to the JS thread through an unbounded queue, so without a bound a peer that
 * floods 64 KiB messages makes the server hold what it sent and spend the JS thread, which carries every
 * session's audio, reading it. A dropped message costs a length check; a disconnect stops the flow at the
 * source (docs/reliability.md, "Hostile media").
 */

/** The bound of a connection's inbound data-channel traffic (see {@link DEFAULT_DATA_CHANNEL_RATE_LIMIT}). */
export interface DataChannelRateLimit {
  /** Sustained rate, bytes per second (UTF-8 bytes of text messages, bytes of binary ones). */
  bytesPerSecond: number;
  /** Bucket size, bytes: what a peer may send at once above the sustained rate. At least 65536 (one message). */
  burstBytes: number;
  /**
   * Bytes dropped in one overload episode (from the first drop until the bucket is full again, i.e. until the
   * peer stayed under its rate for `burstBytes / bytesPerSecond` seconds) after which the peer is
   * disconnected. `Infinity`: never disconnect, only drop.
   */
  disconnectAfterBytes: number;
}

/**
 * Default bound: 1 MiB/s sustained, a 4 MiB burst, disconnect after 4 MiB dropped in one episode. Real
 * Pipecat RTVI traffic never comes near it: a client sends a ping a second, `client-ready`, `trackStatus`,
 * user text and function-call results of a few kB, UI snapshots of tens of kB, and at most (with
 * `raw-audio`, audio sent as base64 PCM instead of RTP) 48 kHz stereo, 256 kB/s: a quarter of the rate. The
 * burst holds 64 messages of the largest size we accept (64 KiB), and 16 s of that raw-audio stream, so a
 * JS thread stalled for seconds (the messages then arrive in one batch) does not turn a real client into a
 * flooder. The disconnect threshold is as large again as the burst: a peer that sends 4 MiB over its rate
 * before ever slowing down for 4 s is not a client that had a burst, and without the disconnect it would keep
 * the queue and the JS thread busy for as long as it likes.
 */
export const DEFAULT_DATA_CHANNEL_RATE_LIMIT: Readonly<DataChannelRateLimit> = Object.freeze({
  bytesPerSecond: 1024 * 1024,
  burstBytes: 4 * 1024 * 1024,
  disconnectAfterBytes: 4 * 1024 * 1024,
});

/** What {@link InboundRateLimiter.admit} decided for one message. */
export type RateDecision = 'accept' | 'drop' | 'disconnect';

/** One connection's token bucket (shared by its peers across `restartPc`). JS thread only. */
export class InboundRateLimiter {
  readonly limit: Readonly<DataChannelRateLimit>;
  #tokens: number;
  #lastMs: number;
  /** Bytes dropped since the bucket was last full (the current overload episode). */
  #episodeDropped = 0;

  constructor(limit: Readonly<DataChannelRateLimit>, nowMs: number) {
    this.limit = limit;
    this.#tokens = limit.burstBytes;
    this.#lastMs = nowMs;
  }

  /** Bytes dropped in the current overload episode (0 once the bucket refilled). */
  get episodeDroppedBytes(): number {
    return this.#episodeDropped;
  }

  /** A message of `bytes` arrived at `nowMs` (`performance.now()`): accept it, drop it, or disconnect. */
  admit(bytes: number, nowMs: number): RateDecision {
    const { bytesPerSecond, burstBytes, disconnectAfterBytes } = this.limit;
    if (bytesPerSecond === Infinity) return 'accept';
    if (nowMs > this.#lastMs) {
      this.#tokens = Math.min(burstBytes, this.#tokens + ((nowMs - this.#lastMs) * bytesPerSecond) / 1000);
      this.#lastMs = nowMs;
    }
    if (this.#tokens >= burstBytes) this.#episodeDropped = 0;
    if (bytes <= this.#tokens) {
      this.#tokens -= bytes;
      return 'accept';
    }
    this.#episodeDropped += bytes;
    return this.#episodeDropped > disconnectAfterBytes ? 'disconnect' : 'drop';
  }
}
