/**
 * Property tests of the signalling input a client controls: the POST/PATCH /api/offer bodies
 * (src/validation.ts), the `addIceCandidate` / `initialize` arguments, ICE server lists, and the
 * classification of data-channel text (src/connection/signalling.ts, used by data-channel.ts). On any input:
 * a result or a coded error, never anything else; results keep their bounds.
 */
import * as fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { remoteMaxMessageSize } from '../../src/connection/data-channel.js';
import { classifyInbound, MAX_INBOUND_MESSAGE_CHARS } from '../../src/connection/signalling.js';
import { parseSdp } from '../../src/connection/sdp.js';
import {
  checkOffer,
  checkRemoteCandidate,
  DEFAULT_SIGNALLING_LIMITS,
  MAX_JSON_DEPTH,
  MAX_CANDIDATE_LENGTH,
  MAX_MID_LENGTH,
  normalizeIceServers,
  parseCandidate,
  parseOfferRequest,
  parsePeerJson,
  parsePatchRequest,
  type RemoteIceCandidate,
} from '../../src/validation.js';
import { codedOrValue, fuzzParams, fuzzTimeout } from './fuzz-params.js';
import { candidateArb, offerTextArb } from './sdp-arbitraries.js';

/** Values of every JSON type and a few JS-only ones (what a parsed body or a careless caller can hold). */
const valueArb = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc.constantFrom(
    undefined,
    null,
    NaN,
    -0,
    Infinity,
    Number.POSITIVE_INFINITY,
    2 ** 53,
    -1,
    0.5,
    '',
    'offer',
    true,
    false,
  ),
  fc.string({ unit: 'binary', maxLength: 40 }),
);

/** Candidate entries as a client may send them (snake_case or camelCase, right or wrong types). */
const candidateEntryArb = fc.oneof(
  fc.record(
    {
      candidate: fc.oneof(candidateArb, fc.constant(''), valueArb),
      sdp_mid: fc.oneof(fc.constantFrom('0', '1', null), valueArb),
      sdp_mline_index: fc.oneof(fc.integer({ min: -2, max: 1100 }), valueArb),
      sdpMid: valueArb,
      sdpMLineIndex: valueArb,
    },
    { requiredKeys: [] },
  ),
  valueArb,
);

const offerBodyArb = fc.oneof(
  fc.record(
    {
      sdp: fc.oneof(offerTextArb, valueArb, fc.string({ maxLength: 50 })),
      type: fc.oneof(fc.constant('offer'), valueArb),
      pc_id: fc.oneof(fc.constant(null), fc.string({ maxLength: 300 }), valueArb),
      restart_pc: fc.oneof(fc.boolean(), valueArb),
      request_data: valueArb,
      requestData: valueArb,
    },
    { requiredKeys: [] },
  ),
  valueArb,
  fc.anything(),
);

const patchBodyArb = fc.oneof(
  fc.record(
    {
      pc_id: fc.oneof(fc.string({ minLength: 1, maxLength: 300 }), valueArb),
      candidates: fc.oneof(fc.array(candidateEntryArb, { maxLength: 70 }), valueArb),
    },
    { requiredKeys: [] },
  ),
  valueArb,
  fc.anything(),
);

describe('signalling request bodies (property)', () => {
  it(
    'parseOfferRequest: any body is a valid request or ERR_INVALID_ARG / ERR_INVALID_SDP',
    () => {
      fc.assert(
        fc.property(offerBodyArb, (body) => {
          const r = codedOrValue(() => parseOfferRequest(body), ['ERR_INVALID_ARG', 'ERR_INVALID_SDP']);
          if (!r) return;
          expect(r.type).toBe('offer');
          expect(typeof r.sdp).toBe('string');
          expect(r.sdp.length).toBeGreaterThan(0);
          expect(r.sdp.length).toBeLessThanOrEqual(DEFAULT_SIGNALLING_LIMITS.maxSdpLength);
          expect(r.pcId === null || (typeof r.pcId === 'string' && r.pcId.length <= 256)).toBe(true);
          expect(typeof r.restartPc).toBe('boolean');
        }),
        fuzzParams(),
      );
    },
    fuzzTimeout(),
  );

  it(
    'parsePatchRequest: any body is a bounded list of valid candidates or ERR_INVALID_ARG / ERR_INVALID_CANDIDATE',
    () => {
      fc.assert(
        fc.property(patchBodyArb, (body) => {
          const r = codedOrValue(() => parsePatchRequest(body), ['ERR_INVALID_ARG', 'ERR_INVALID_CANDIDATE']);
          if (!r) return;
          expect(typeof r.pcId).toBe('string');
          expect(r.pcId.length).toBeGreaterThan(0);
          expect(r.candidates.length).toBeLessThanOrEqual(DEFAULT_SIGNALLING_LIMITS.maxCandidates);
          for (const c of r.candidates) {
            if (c.candidate === '') continue; // end of candidates
            expect(c.candidate.startsWith('a=')).toBe(false);
            expect(parseCandidate(c.candidate)).not.toBeNull();
            expect(c.sdpMid === null || c.sdpMid.length <= MAX_MID_LENGTH).toBe(true);
            expect(c.sdpMLineIndex === null || (c.sdpMLineIndex >= 0 && c.sdpMLineIndex <= 1023)).toBe(true);
          }
        }),
        fuzzParams(),
      );
    },
    fuzzTimeout(),
  );

  it(
    'checkRemoteCandidate / checkOffer: any argument is accepted or a coded error',
    () => {
      fc.assert(
        fc.property(fc.oneof(candidateEntryArb, fc.record({ candidate: candidateArb })), (c) => {
          const r = codedOrValue(
            () => checkRemoteCandidate(c as RemoteIceCandidate | null),
            ['ERR_INVALID_ARG', 'ERR_INVALID_CANDIDATE'],
          );
          if (r) {
            expect(r.text.length).toBeLessThanOrEqual(MAX_CANDIDATE_LENGTH);
            expect(r.parsed).toEqual(parseCandidate(r.text));
          }
        }),
        fuzzParams(),
      );
      fc.assert(
        fc.property(offerBodyArb, (o) => {
          const sdp = codedOrValue(() => checkOffer(o, 'initialize'), ['ERR_INVALID_ARG', 'ERR_INVALID_SDP']);
          if (sdp !== undefined) expect(typeof sdp).toBe('string');
        }),
        fuzzParams(),
      );
    },
    fuzzTimeout(),
  );

  it(
    'normalizeIceServers: any list is normalized or refused with ERR_INVALID_ARG / ERR_UNSUPPORTED_ICE_SERVER',
    () => {
      const url = fc.oneof(
        fc
          .tuple(
            fc.constantFrom('stun:', 'stuns:', 'turn:', 'turns:', 'TURN:', 'http:', ''),
            fc.oneof(
              fc.domain(),
              fc.ipV4(),
              fc.ipV6().map((a) => `[${a}]`),
              fc.string({ maxLength: 10 }),
            ),
            fc.option(fc.integer({ min: -1, max: 70000 }), { nil: undefined }),
            fc.constantFrom('', '?transport=udp', '?transport=tcp', '?transport=sctp', '?x=1&transport=TCP'),
          )
          .map(([s, h, p, q]) => `${s}${h}${p === undefined ? '' : `:${p}`}${q}`),
        valueArb,
      );
      const server = fc.oneof(
        url,
        fc.record(
          { urls: fc.oneof(url, fc.array(url, { maxLength: 3 })), username: valueArb, credential: valueArb },
          { requiredKeys: [] },
        ),
      );
      fc.assert(
        fc.property(fc.oneof(fc.array(server, { maxLength: 4 }), valueArb), (list) => {
          const r = codedOrValue(
            () => normalizeIceServers(list),
            ['ERR_INVALID_ARG', 'ERR_UNSUPPORTED_ICE_SERVER'],
          );
          if (!r) return;
          for (const s of r) expect(Array.isArray(s.urls) || typeof s.urls === 'string').toBe(true);
          // Idempotent for the object form (a TURN URL given as a bare string, as Pipecat allows, carries
          // no credentials, which the object form requires).
          if (Array.isArray(list) && list.every((x) => typeof x === 'object')) {
            expect(normalizeIceServers(r)).toEqual(r);
          }
        }),
        fuzzParams(),
      );
    },
    fuzzTimeout(),
  );
});

describe('data-channel message classification (property)', () => {
  const jsonObject = fc.dictionary(fc.string({ maxLength: 10 }), fc.jsonValue({ maxDepth: 3 }), {
    maxKeys: 5,
  });
  const signallingArb = fc.record(
    {
      type: fc.oneof(fc.constant('signalling'), fc.jsonValue({ maxDepth: 1 })),
      message: fc.oneof(
        fc.record(
          {
            type: fc.oneof(
              fc.constantFrom('trackStatus', 'renegotiate', 'peerLeft', 'other'),
              fc.jsonValue({ maxDepth: 1 }),
            ),
            receiver_index: fc.oneof(fc.integer({ min: -5, max: 2000 }), fc.jsonValue({ maxDepth: 1 })),
            enabled: fc.oneof(fc.boolean(), fc.jsonValue({ maxDepth: 1 })),
          },
          { requiredKeys: [] },
        ),
        fc.jsonValue({ maxDepth: 2 }),
      ),
    },
    { requiredKeys: [] },
  );
  const textArb = fc.oneof(
    signallingArb.map((v) => JSON.stringify(v)),
    jsonObject.map((v) => JSON.stringify(v)),
    fc.jsonValue().map((v) => JSON.stringify(v)),
    fc.string({ maxLength: 200 }),
    fc.string({ unit: 'binary', maxLength: 200 }),
    fc.string({ maxLength: 20 }).map((s) => `ping${s}`),
    // Truncated JSON (a message cut by a broken client).
    signallingArb.chain((v) => {
      const s = JSON.stringify(v);
      return fc.nat({ max: s.length }).map((n) => s.slice(0, n));
    }),
  );

  it(
    'classifyInbound: never throws; each kind keeps its shape',
    () => {
      fc.assert(
        fc.property(textArb, (text) => {
          const m = classifyInbound(text);
          switch (m.kind) {
            case 'ping':
              expect(text.startsWith('ping')).toBe(true);
              break;
            case 'invalid':
              expect(typeof m.reason).toBe('string');
              expect(m.reason.length).toBeLessThan(200);
              expect(typeof m.drop).toBe('string');
              break;
            case 'app':
              expect(typeof m.message).toBe('object');
              expect(Array.isArray(m.message)).toBe(false);
              expect('type' in m.message).toBe(true);
              expect(text.length).toBeLessThanOrEqual(MAX_INBOUND_MESSAGE_CHARS);
              break;
            case 'signalling':
              if (m.message.type === 'trackStatus') {
                expect(Number.isInteger(m.message.receiver_index)).toBe(true);
                expect(m.message.receiver_index >= 0 && m.message.receiver_index <= 1024).toBe(true);
                expect(typeof m.message.enabled).toBe('boolean');
              } else {
                expect(['renegotiate', 'peerLeft']).toContain(m.message.type);
              }
              break;
          }
        }),
        fuzzParams(),
      );
    },
    fuzzTimeout(),
  );

  it(
    'parsePeerJson: the value JSON.parse gives within MAX_JSON_DEPTH levels, ERR_MESSAGE_TOO_DEEP beyond',
    () => {
      const depthOf = (v: unknown): number =>
        typeof v === 'object' && v !== null
          ? 1 + Math.max(0, ...Object.values(v as Record<string, unknown>).map(depthOf))
          : 0;
      const wrapped = fc
        .tuple(fc.jsonValue({ maxDepth: 6 }), fc.nat({ max: 80 }), fc.boolean())
        .map(([v, k, arrays]) => {
          let out: unknown = v;
          for (let i = 0; i < k; i++) out = arrays ? [out] : { k: out, s: '[{' };
          return out;
        });
      fc.assert(
        fc.property(wrapped, (v) => {
          const text = JSON.stringify(v);
          if (depthOf(v) <= MAX_JSON_DEPTH) expect(parsePeerJson(text)).toEqual(JSON.parse(text));
          else
            expect(() => parsePeerJson(text)).toThrow(
              expect.objectContaining({ code: 'ERR_MESSAGE_TOO_DEEP' }),
            );
        }),
        fuzzParams(),
      );
    },
    fuzzTimeout(),
  );

  it('classifyInbound: the largest message, deep nesting and a signalling type that is not a string are handled', () => {
    // 64 Ki characters of nesting (the most a peer can send in one message): JSON.parse copes, but the value
    // would make any JSON.stringify throw RangeError, so it is dropped before parsing (tooDeep); nested in a
    // signalling `type`, the logged reason's JSON.stringify threw inside node-datachannel's callback.
    const depth = (MAX_INBOUND_MESSAGE_CHARS - 20) / 2;
    const nested = `{"type":"x","a":${'['.repeat(depth)}${']'.repeat(depth)}}`;
    expect(nested.length).toBeLessThanOrEqual(MAX_INBOUND_MESSAGE_CHARS);
    expect(classifyInbound(nested)).toMatchObject({ kind: 'invalid', drop: 'tooDeep' });
    const d2 = depth - 20;
    const inType = `{"type":"signalling","message":{"type":${'['.repeat(d2)}${']'.repeat(d2)}}}`;
    expect(classifyInbound(inType)).toMatchObject({ kind: 'invalid', drop: 'tooDeep' });
    expect(classifyInbound(nested + ' '.repeat(MAX_INBOUND_MESSAGE_CHARS))).toEqual({
      kind: 'invalid',
      reason: expect.stringMatching(/too large/),
      drop: 'tooLarge',
    });
    const weird = classifyInbound('{"type":"signalling","message":{"type":{"toString":1}}}');
    expect(weird.kind).toBe('invalid');
    // Found by the property above: the reason (which is logged) echoed the whole unknown type, up to 64 KiB.
    const long = classifyInbound(
      JSON.stringify({ type: 'signalling', message: { type: 'x'.repeat(60_000) } }),
    );
    expect(long.kind === 'invalid' && long.reason.length < 100).toBe(true);
  });

  it(
    'remoteMaxMessageSize: any parsed offer gives a positive safe integer',
    () => {
      fc.assert(
        fc.property(offerTextArb, (sdp) => {
          const n = remoteMaxMessageSize(parseSdp(sdp));
          expect(Number.isSafeInteger(n) && n > 0).toBe(true);
        }),
        fuzzParams(),
      );
    },
    fuzzTimeout(),
  );
});
