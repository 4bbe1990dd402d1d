// Deeply nested JSON from a peer: JSON.parse copes with any depth, but the value it returns makes
// JSON.stringify (and structuredClone, and any recursive walk) throw RangeError from about 5,000 levels. A
// data-channel message (64 KiB) holds 32,000 levels; classifyInbound's log line stringified the nested
// signalling `type` and threw inside node-datachannel's callback, which aborted the server process. Text is
// now depth-checked before parsing (ERR_MESSAGE_TOO_DEEP).
import { describe, expect, it } from 'vitest';

import { classifyInbound, MAX_INBOUND_MESSAGE_CHARS } from '../../src/connection/signalling.js';
import { MAX_JSON_DEPTH, parsePeerJson } from '../../src/validation.js';
import { expectCoded } from '../../testkit/errors.js';

const nested = (n: number, open = '[', close = ']'): string => open.repeat(n) + close.repeat(n);

describe('depth-checked JSON from peers', () => {
  it('parses JSON up to MAX_JSON_DEPTH levels and refuses one more with ERR_MESSAGE_TOO_DEEP', () => {
    expect(parsePeerJson(nested(MAX_JSON_DEPTH))).toBeInstanceOf(Array);
    expectCoded(() => parsePeerJson(nested(MAX_JSON_DEPTH + 1)), RangeError, 'ERR_MESSAGE_TOO_DEEP');
    const objects = `${'{"a":'.repeat(MAX_JSON_DEPTH + 1)}1${'}'.repeat(MAX_JSON_DEPTH + 1)}`;
    expectCoded(() => parsePeerJson(objects), RangeError, 'ERR_MESSAGE_TOO_DEEP');
    expectCoded(() => parsePeerJson(nested(100_000)), RangeError, 'ERR_MESSAGE_TOO_DEEP', {
      message: /deeper than 64 levels/,
    });
  });

  it('does not count brackets inside strings, escaped quotes included', () => {
    const s = `{"type":"x","t":"${'['.repeat(5000)}\\"${'{'.repeat(5000)}","e":"\\\\"}`;
    expect(parsePeerJson(s)).toMatchObject({ type: 'x', e: '\\' });
    // Unbalanced or broken text is JSON.parse's to refuse (a SyntaxError), whatever the scan saw.
    expect(() => parsePeerJson('{"a":]]]')).toThrow(SyntaxError);
  });

  it('classifyInbound drops a deeply nested message of 64 KiB as tooDeep instead of throwing', () => {
    const n = 3 * Math.floor((MAX_INBOUND_MESSAGE_CHARS - 100) / 6);
    const texts = [
      // The case that threw RangeError (and aborted the server): a nested signalling `type`.
      `{"type":"signalling","message":{"type":${nested(n)}}}`,
      `{"type":"app","data":${nested(n)}}`,
      `{"type":"app","data":${'{"a":'.repeat(n / 3)}1${'}'.repeat(n / 3)}}`,
      nested(n),
    ];
    for (const text of texts) {
      expect(text.length).toBeLessThanOrEqual(MAX_INBOUND_MESSAGE_CHARS);
      const m = classifyInbound(text);
      expect(m).toMatchObject({ kind: 'invalid', drop: 'tooDeep' });
    }
    // A message within the bound is still an app message, and what the bot gets can be serialized.
    const ok = classifyInbound(`{"type":"app","data":${nested(MAX_JSON_DEPTH - 1)}}`);
    expect(ok.kind).toBe('app');
    if (ok.kind === 'app') expect(JSON.stringify(ok.message).length).toBeGreaterThan(MAX_JSON_DEPTH);
  });
});
