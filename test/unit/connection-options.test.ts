// The connection's timing defaults and their options (resolveConnectionOptions: pure, no peer needed).
import { describe, expect, it } from 'vitest';

import {
  DEFAULT_CONNECTION_TIMEOUT_SECS,
  DEFAULT_LIVENESS_TIMEOUT_SECS,
  NON_PINGING_SILENCE_SECS,
  resolveConnectionOptions,
} from '../../src/connection/connection-options.js';
import {
  DEFAULT_DATA_CHANNEL_RATE_LIMIT,
  InboundRateLimiter,
  type DataChannelRateLimit,
} from '../../src/connection/inbound-rate.js';

describe('connection timing options', () => {
  it('detects a vanished pinging peer within 5 s by default (was 10 s); the option overrides it', () => {
    expect(DEFAULT_LIVENESS_TIMEOUT_SECS).toBe(5);
    expect(resolveConnectionOptions({}).livenessTimeoutMs).toBe(5000);
    expect(resolveConnectionOptions({ livenessTimeoutSecs: 12.5 }).livenessTimeoutMs).toBe(12_500);
    expect(() => resolveConnectionOptions({ livenessTimeoutSecs: 0 })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARG' }),
    );
    // Clients that never ping keep aioice's consent-failure time; the connect deadline is separate.
    expect(NON_PINGING_SILENCE_SECS).toBe(30);
    expect(resolveConnectionOptions({}).connectionTimeoutMs).toBe(DEFAULT_CONNECTION_TIMEOUT_SECS * 1000);
  });
});

describe('inbound data-channel rate bound', () => {
  const K64 = 65536;
  it('defaults to 1 MiB/s, a 4 MiB burst and a disconnect after 4 MiB dropped; fields override one by one', () => {
    expect(resolveConnectionOptions({}).dataChannelRateLimit).toEqual({
      bytesPerSecond: 1 << 20,
      burstBytes: 4 << 20,
      disconnectAfterBytes: 4 << 20,
    });
    expect(DEFAULT_DATA_CHANNEL_RATE_LIMIT).toEqual(resolveConnectionOptions({}).dataChannelRateLimit);
    expect(
      resolveConnectionOptions({ dataChannelRateLimit: { burstBytes: K64 } }).dataChannelRateLimit,
    ).toEqual({ ...DEFAULT_DATA_CHANNEL_RATE_LIMIT, burstBytes: K64 });
    // A burst smaller than one message of our a=max-message-size could never pass such a message.
    for (const bad of [
      { burstBytes: K64 - 1 },
      { bytesPerSecond: 0 },
      { bytesPerSecond: Number.NaN },
      { disconnectAfterBytes: -1 },
      { bytesPerSecond: '1' },
    ]) {
      expect(() =>
        resolveConnectionOptions({ dataChannelRateLimit: bad as Partial<DataChannelRateLimit> }),
      ).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG' }));
    }
    expect(() =>
      resolveConnectionOptions({ dataChannelRateLimit: 5 as unknown as Partial<DataChannelRateLimit> }),
    ).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG' }));
  });

  it('token bucket: the burst passes, then messages are dropped until the rate refills; a peer that keeps flooding is cut off', () => {
    const l = new InboundRateLimiter(
      { bytesPerSecond: 1000, burstBytes: 4 * K64, disconnectAfterBytes: 2 * K64 },
      0,
    );
    for (let i = 0; i < 4; i++) expect(l.admit(K64, 0)).toBe('accept');
    expect(l.admit(K64, 0)).toBe('drop');
    expect(l.admit(K64, 1)).toBe('drop');
    // 2 x 64 KiB dropped in this episode: the next drop crosses disconnectAfterBytes.
    expect(l.episodeDroppedBytes).toBe(2 * K64);
    expect(l.admit(1, 2)).toBe('accept'); // refilled 2 bytes: a tiny message passes, not a counted drop
    expect(l.admit(K64, 3)).toBe('disconnect');
  });

  it('an episode ends once the bucket is full again: bursts separated by quiet are never cut off', () => {
    const l = new InboundRateLimiter(
      { bytesPerSecond: K64, burstBytes: 2 * K64, disconnectAfterBytes: K64 },
      0,
    );
    let t = 0;
    for (let round = 0; round < 5; round++) {
      expect(l.admit(K64, t)).toBe('accept');
      expect(l.admit(K64, t)).toBe('accept');
      expect(l.admit(K64, t)).toBe('drop'); // one message over: dropped, not disconnected
      t += 2000; // 2 s at 64 KiB/s: the bucket is full again
    }
    // Without the pause, the second drop of the same episode crosses the threshold.
    expect(l.admit(2 * K64, t)).toBe('accept');
    expect(l.admit(K64, t)).toBe('drop');
    expect(l.admit(K64, t + 10)).toBe('disconnect');
  });

  it('Infinity turns the bound off (bytesPerSecond) or keeps the peer connected (disconnectAfterBytes)', () => {
    const off = new InboundRateLimiter({ ...DEFAULT_DATA_CHANNEL_RATE_LIMIT, bytesPerSecond: Infinity }, 0);
    for (let i = 0; i < 1000; i++) expect(off.admit(K64, 0)).toBe('accept');
    const dropOnly = new InboundRateLimiter(
      { bytesPerSecond: 1, burstBytes: K64, disconnectAfterBytes: Infinity },
      0,
    );
    expect(dropOnly.admit(K64, 0)).toBe('accept');
    for (let i = 0; i < 1000; i++) expect(dropOnly.admit(K64, 0)).toBe('drop');
  });
});
