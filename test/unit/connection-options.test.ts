// The connection's timing defaults and their options (resolveConnectionOptions: pure, no peer needed).
import { describe, expect, it } from 'vitest';

import {
  DEFAULT_CONNECTION_TIMEOUT_SECS,
  DEFAULT_LIVENESS_TIMEOUT_SECS,
  NON_PINGING_SILENCE_SECS,
  resolveConnectionOptions,
} from '../../src/connection/connection-options.js';

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
