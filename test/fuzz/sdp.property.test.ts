/**
 * Property tests of the SDP code that reads what a client sends (src/connection/sdp.ts, src/validation.ts,
 * src/server/esp32.ts): on any input it returns or throws a coded error (never a plain TypeError, a stack
 * overflow or a hang: vitest's timeout is the hang detector), and what it returns keeps its invariants. The
 * answer a real SmallWebRTCConnection makes for a generated offer parses back with the offer's sections, and
 * the answer rewrites (ESP32 munging, advertised host address) keep it parseable.
 */
import nodeDataChannel from 'node-datachannel';
import * as fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';

import { SmallWebRTCConnection } from '../../src/connection/index.js';
import {
  answerDirection,
  DEFAULT_MAX_MEDIA_SECTIONS,
  parseCandidate,
  parseSdp,
  rewriteHostCandidates,
  type ParsedSdp,
} from '../../src/connection/sdp.js';
import { setLogger } from '../../src/logger.js';
import { mungeSdpForEsp32 } from '../../src/server/esp32.js';
import { checkSdpText } from '../../src/validation.js';
import { codedOrValue, codedOrValueAsync, fuzzParams, fuzzTimeout } from './fuzz-params.js';
import {
  anySdpArb,
  candidateArb,
  offerArb,
  fingerprintsArb,
  offerText,
  offerTextArb,
} from './sdp-arbitraries.js';

const quiet = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };
const mLines = (sdp: string): number => sdp.split(/\r?\n/).filter((l) => l.startsWith('m=')).length;

function checkParsed(p: ParsedSdp, sdp: string): void {
  expect(p.media.length).toBeGreaterThan(0);
  expect(p.media.length).toBeLessThanOrEqual(DEFAULT_MAX_MEDIA_SECTIONS);
  expect(p.media.length).toBe(mLines(sdp));
  const mids = new Set<string>();
  for (const m of p.media) {
    expect(Number.isInteger(m.port) && m.port >= 0 && m.port <= 65535).toBe(true);
    if (m.port !== 0 && ['audio', 'video', 'application'].includes(m.kind)) {
      expect(m.mid).toMatch(/^[\w.\-~!#$%&'*+^`{|}]{1,32}$/);
      expect(mids.has(m.mid ?? '')).toBe(false);
      mids.add(m.mid ?? '');
    }
    const pts = m.codecs.map((c) => c.payloadType);
    expect(new Set(pts).size).toBe(pts.length);
    for (const c of m.codecs) {
      expect(c.payloadType >= 0 && c.payloadType <= 127).toBe(true);
      expect(c.name).not.toBe('');
      expect(m.formats.map(Number)).toContain(c.payloadType);
    }
    for (const s of m.ssrcs) expect(s >= 0 && s <= 0xffffffff).toBe(true);
    if (m.maxMessageSize !== null) expect(Number.isSafeInteger(m.maxMessageSize)).toBe(true);
  }
}

describe('SDP parsing (property)', () => {
  it(
    'parseSdp: any text parses or throws ERR_INVALID_SDP; what parses keeps its invariants',
    () => {
      fc.assert(
        fc.property(anySdpArb, (sdp) => {
          const p = codedOrValue(() => parseSdp(sdp), ['ERR_INVALID_SDP']);
          if (p) checkParsed(p, sdp);
        }),
        fuzzParams(),
      );
    },
    fuzzTimeout(),
  );

  it(
    'parseSdp: a well-formed offer parses to its sections, mids, directions and codecs',
    () => {
      fc.assert(
        fc.property(offerArb, fingerprintsArb, (o, fp) => {
          const sdp = offerText(o, fp);
          const p = parseSdp(sdp);
          checkParsed(p, sdp);
          expect(p.media.map((m) => [m.kind, m.mid, m.port])).toEqual(
            o.sections.map((s) => [s.kind, s.mid, s.port]),
          );
          o.sections.forEach((s, i) => {
            const m = p.media[i]!;
            if (s.kind === 'application') {
              expect(m.maxMessageSize).toBe(s.maxMessageSize);
              return;
            }
            expect(m.direction).toBe(s.direction);
            expect(m.codecs.map((c) => c.payloadType)).toEqual(s.payloadTypes);
            expect(m.ssrcs).toEqual(s.ssrc === null ? [] : [s.ssrc]);
          });
        }),
        fuzzParams(),
      );
    },
    fuzzTimeout(),
  );

  it(
    'parseSdp / checkSdpText: a non-string is ERR_INVALID_ARG; accepted text never has more m-lines than the limit',
    () => {
      fc.assert(
        fc.property(fc.anything(), (v) => {
          if (typeof v === 'string') return;
          expect(() => parseSdp(v as string)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG' }));
        }),
        fuzzParams(),
      );
      fc.assert(
        fc.property(anySdpArb, fc.integer({ min: 1, max: 5 }), (sdp, max) => {
          const ok = codedOrValue(
            () => checkSdpText(sdp, { maxSdpLength: 4096, maxMediaSections: max }),
            ['ERR_INVALID_SDP'],
          );
          if (ok !== undefined) {
            expect(mLines(sdp)).toBeGreaterThan(0);
            expect(mLines(sdp)).toBeLessThanOrEqual(max);
            expect(sdp.length).toBeLessThanOrEqual(4096);
          }
        }),
        fuzzParams(),
      );
    },
    fuzzTimeout(),
  );

  it('parseSdp: an offer with two data-channel sections is ERR_INVALID_SDP (found by the properties below)', () => {
    // libdatachannel answered only the last one, so the answer had fewer m-lines than the offer.
    const sdp = offerText(
      {
        sections: ['0', '1'].map((mid) => ({
          kind: 'application' as const,
          mid,
          direction: 'sendrecv' as const,
          payloadTypes: [96],
          port: 9,
          candidates: [],
          ssrc: null,
          maxMessageSize: null,
        })),
        extraFingerprints: [],
        crlf: true,
      },
      { sha256: 'AA', sha384: 'BB', sha512: 'CC' },
    );
    expect(() => parseSdp(sdp)).toThrow(
      expect.objectContaining({
        code: 'ERR_INVALID_SDP',
        message: expect.stringMatching(/more than one data channel/),
      }),
    );
  });

  it('parseSdp: the largest accepted offer (128 KiB of attributes, 16 sections) parses, one more section does not', () => {
    // The work per offer is linear in its size: a maximal one is parsed (a hang would hit the test timeout).
    const section = (mid: number): string =>
      [`m=audio 9 UDP/TLS/RTP/SAVPF 111`, `a=mid:${mid}`, 'a=rtpmap:111 opus/48000/2'].join('\r\n');
    const head =
      'v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=ice-ufrag:abcd\r\na=fingerprint:sha-256 AA\r\n';
    const body = Array.from({ length: 16 }, (_, i) => section(i)).join('\r\n') + '\r\n';
    const filler = 'a=x-' + 'y'.repeat(70) + '\r\n';
    let sdp = head + body;
    while (sdp.length + filler.length <= 128 * 1024) sdp += filler;
    expect(parseSdp(sdp).media).toHaveLength(16);
    expect(() => parseSdp(head + body + section(16) + '\r\n')).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_SDP' }),
    );
    expect(() => parseSdp(sdp + filler)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_SDP' }));
  });
});

describe('ICE candidates (property)', () => {
  it(
    'parseCandidate: never throws on any text; a generated candidate parses to its fields',
    () => {
      fc.assert(
        fc.property(
          fc.oneof(
            fc.string({ maxLength: 300 }),
            fc.string({ unit: 'binary', maxLength: 300 }),
            candidateArb.map((c) => c.slice(0, 40) + '\u0000' + c.slice(40)),
          ),
          (s) => {
            const c = parseCandidate(s);
            if (c !== null) {
              expect(c.port >= 0 && c.port <= 65535).toBe(true);
              expect(c.priority >= 0 && c.priority <= 0xffffffff).toBe(true);
            }
          },
        ),
        fuzzParams(),
      );
      fc.assert(
        fc.property(candidateArb, fc.boolean(), (line, prefixed) => {
          const c = parseCandidate(prefixed ? `a=${line}` : line);
          expect(c).not.toBeNull();
          const parts = line.split(' ');
          expect(c!.foundation).toBe(parts[0]!.slice('candidate:'.length));
          expect(c!.address).toBe(parts[4]);
          expect(c!.port).toBe(Number(parts[5]));
          expect(c!.type).toBe(parts[7]);
        }),
        fuzzParams(),
      );
    },
    fuzzTimeout(),
  );
});

describe('answer rewrites (property)', () => {
  it(
    'mungeSdpForEsp32: never throws; drops every sha-384/512 line, keeps only matching host candidates, is idempotent',
    () => {
      fc.assert(
        fc.property(
          anySdpArb,
          fc.option(fc.oneof(fc.ipV4(), fc.string({ maxLength: 10 })), { nil: null }),
          (sdp, host) => {
            const out = mungeSdpForEsp32(sdp, host);
            expect(out.endsWith('\r\n')).toBe(true);
            // Every kept line is a non-empty input line (nothing kept: just the final CRLF).
            const kept = out === '\r\n' ? [] : out.slice(0, -2).split('\r\n');
            const inputLines = new Set(sdp.split(/\r?\n/));
            for (const l of kept) {
              expect(l).not.toBe('');
              expect(inputLines.has(l)).toBe(true);
              expect(l.includes('sha-384') || l.includes('sha-512')).toBe(false);
              if (host && l.startsWith('a=candidate')) {
                expect(l.includes(host) && !l.includes('raddr')).toBe(true);
              }
            }
            expect(mungeSdpForEsp32(out, host)).toBe(out);
          },
        ),
        fuzzParams(),
      );
    },
    fuzzTimeout(),
  );

  it(
    'rewriteHostCandidates and the ESP32 munging keep a well-formed offer parseable, with the same sections',
    () => {
      fc.assert(
        fc.property(offerTextArb, fc.oneof(fc.ipV4(), fc.ipV6()), (sdp, ip) => {
          const before = parseSdp(sdp);
          const rewritten = rewriteHostCandidates(sdp, ip);
          expect(rewriteHostCandidates(rewritten, ip)).toBe(rewritten);
          const after = parseSdp(rewritten);
          expect(after.media.map((m) => m.mid)).toEqual(before.media.map((m) => m.mid));
          for (const l of rewritten.split('\r\n')) {
            if (!l.startsWith('a=candidate:')) continue;
            const c = parseCandidate(l);
            expect(c).not.toBeNull();
            if (c!.type === 'host') expect(c!.address).toBe(ip);
          }
          const munged = mungeSdpForEsp32(rewritten, ip);
          expect(parseSdp(munged.replace(/a=fingerprint:sha-(384|512)[^\r]*\r\n/g, '')).media.length).toBe(
            before.media.length,
          );
        }),
        fuzzParams(),
      );
    },
    fuzzTimeout(),
  );
});

describe('answers of a real SmallWebRTCConnection (property)', () => {
  afterAll(() => {
    setLogger(null);
    nodeDataChannel.cleanup();
  });

  it(
    'a generated offer is answered (or refused with ERR_INVALID_SDP); the answer parses back with the same sections',
    async () => {
      setLogger(quiet);
      let answered = 0;
      await fc.assert(
        fc.asyncProperty(offerArb, fingerprintsArb, async (o, fp) => {
          const sdp = offerText(o, fp);
          const offered = parseSdp(sdp);
          const conn = new SmallWebRTCConnection({ bindAddress: '127.0.0.1' });
          try {
            const ok = await codedOrValueAsync(async () => {
              await conn.initialize({ sdp, type: 'offer' });
              return true;
            }, ['ERR_INVALID_SDP']);
            if (!ok) return;
            answered++;
            const answer = conn.getAnswer();
            expect(answer?.type).toBe('answer');
            const parsed = parseSdp(answer!.sdp);
            // RFC 3264: one answer section per offer section, in order, same kinds and mids.
            expect(parsed.media.map((m) => [m.kind, m.mid])).toEqual(
              offered.media.map((m) => [m.kind, m.mid]),
            );
            parsed.media.forEach((m, i) => {
              const off = offered.media[i]!;
              if (m.kind === 'application' || m.port === 0 || off.port === 0) return;
              // The answer never sends where the offer does not receive, nor receives where it does not send.
              expect(
                answerDirection(m.direction, off.direction) === m.direction || m.direction === 'inactive',
              ).toBe(true);
            });
            const munged = mungeSdpForEsp32(answer!.sdp, '127.0.0.1');
            expect(parseSdp(munged).media.length).toBe(parsed.media.length);
            expect(parseSdp(rewriteHostCandidates(answer!.sdp, '198.51.100.7')).media.length).toBe(
              parsed.media.length,
            );
          } finally {
            await conn.close();
          }
        }),
        fuzzParams(15),
      );
      expect(answered).toBeGreaterThan(0);
    },
    fuzzTimeout(120_000),
  );
});
