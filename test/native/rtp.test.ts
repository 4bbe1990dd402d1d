import { describe, expect, it } from 'vitest';
import {
  SequenceUnwrapper,
  TimestampUnwrapper,
  buildRtcpBye,
  buildRtcpNack,
  buildRtcpPli,
  buildRtcpRr,
  buildRtcpSr,
  buildRtp,
  concatRtcp,
  parseRtcp,
  parseRtp,
} from '../../src/media/rtp.js';
import { expectCoded } from '../../testkit/errors.js';

const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));

/** One test per malformed input (name, hex bytes, reason): `parse` throws a RangeError with `code` and `reason`. */
function rejectsMalformed(
  parse: (packet: Uint8Array) => unknown,
  code: string,
  cases: ReadonlyArray<readonly [string, string, string]>,
): void {
  it.each(cases)(`rejects %s with RangeError ${code}`, (_name, bytes, reason) => {
    expectCoded(() => parse(hex(bytes)), RangeError, code, { reason });
  });
}

describe('parseRtp', () => {
  it('parses a Chrome-style Opus packet with one-byte extensions (audio level, mid)', () => {
    // V=2 X=1 CC=0 | M=1 PT=111 | seq 0x1234 | ts 0x00003c00 | ssrc 0x11223344
    // ext 0xBEDE, 2 words: id1 len1 = 0x90 (voice, -16 dBov), id4 len1 = '0', padding
    const pkt = hex('90ef1234 00003c00 11223344 bede0002 10 90 40 30 00 00 00 00 fcff fe');
    const p = parseRtp(pkt);
    expect(p).toMatchObject({
      padding: false,
      marker: true,
      payloadType: 111,
      sequenceNumber: 0x1234,
      timestamp: 0x3c00,
      ssrc: 0x11223344,
      csrcs: [],
      extensionProfile: 0xbede,
      headerSize: 24,
      paddingSize: 0,
    });
    expect(p.extensions.map((e) => [e.id, [...e.data]])).toEqual([
      [1, [0x90]],
      [4, [0x30]],
    ]);
    expect([...p.payload]).toEqual([0xfc, 0xff, 0xfe]);
    // Views, not copies: they share the packet's memory.
    expect(p.payload.buffer).toBe(pkt.buffer);
  });

  it('parses CSRCs, two-byte extensions and padding', () => {
    const pkt = buildRtp({
      payloadType: 96,
      sequenceNumber: 65535,
      timestamp: 0xffffffff,
      ssrc: 0xfeedface,
      csrcs: [1, 0xffffffff],
      extensions: [
        { id: 200, data: new Uint8Array([1, 2, 3]) },
        { id: 3, data: new Uint8Array(0) },
      ],
      paddingSize: 4,
      payload: new Uint8Array([9, 8, 7]),
    });
    const p = parseRtp(pkt);
    expect(p.csrcs).toEqual([1, 0xffffffff]);
    expect(p.extensionProfile! & 0xfff0).toBe(0x1000);
    expect(p.extensions.map((e) => [e.id, [...e.data]])).toEqual([
      [200, [1, 2, 3]],
      [3, []],
    ]);
    expect(p.padding).toBe(true);
    expect(p.paddingSize).toBe(4);
    expect([...p.payload]).toEqual([9, 8, 7]);
    expect(p.timestamp).toBe(0xffffffff);
    expect(p.ssrc).toBe(0xfeedface);
  });

  it('round-trips buildRtp -> parseRtp for the fields a sender sets', () => {
    const payload = new Uint8Array(160).map((_, i) => i);
    const pkt = buildRtp({
      payloadType: 111,
      sequenceNumber: 42,
      timestamp: 960 * 7,
      ssrc: 1234,
      marker: true,
      extensions: [{ id: 9, data: new TextEncoder().encode('audio') }],
      payload,
    });
    expect(pkt.byteLength).toBe(12 + 4 + 8 + 160);
    const p = parseRtp(pkt);
    expect(p.sequenceNumber).toBe(42);
    expect(p.timestamp).toBe(6720);
    expect(p.marker).toBe(true);
    expect(new TextDecoder().decode(p.extensions[0]!.data)).toBe('audio');
    expect([...p.payload]).toEqual([...payload]);
  });

  it('respects the byteOffset of a subarray input', () => {
    const inner = buildRtp({ payloadType: 0, sequenceNumber: 1, timestamp: 2, ssrc: 3, payload: hex('abcd') });
    const big = new Uint8Array(inner.byteLength + 10);
    big.set(inner, 5);
    const p = parseRtp(big.subarray(5, 5 + inner.byteLength));
    expect([...p.payload]).toEqual([0xab, 0xcd]);
    expect(p.payload.byteOffset).toBe(5 + 12);
  });

  rejectsMalformed(parseRtp, 'ERR_RTP_MALFORMED', [
    ['empty', '', 'too-short'],
    ['truncated fixed header', '80ef1234 00003c00 112233', 'too-short'],
    ['version 1', '40ef1234 00003c00 11223344 00', 'bad-version'],
    ['version 3', 'c0ef1234 00003c00 11223344 00', 'bad-version'],
    ['CSRC count beyond length', '83ef1234 00003c00 11223344 00000001 00000002', 'csrc-overflow'],
    ['extension header cut off', '90ef1234 00003c00 11223344 bede', 'extension-overflow'],
    ['extension length beyond packet', '90ef1234 00003c00 11223344 bede0003 10900000', 'extension-overflow'],
    ['one-byte element beyond block', '90ef1234 00003c00 11223344 bede0001 3f000000 aa', 'bad-extension-element'],
    ['two-byte element beyond block', '90ef1234 00003c00 11223344 10000001 0109aaaa bb', 'bad-extension-element'],
    ['padding length > payload', 'a0ef1234 00003c00 11223344 aabb05', 'bad-padding'],
    ['padding length 0', 'a0ef1234 00003c00 11223344 aabb00', 'bad-padding'],
    ['padding bit without payload', 'a0ef1234 00003c00 11223344', 'bad-padding'],
  ]);

  it('rejects non-byte input with TypeError ERR_INVALID_ARG', () => {
    expectCoded(() => parseRtp('x' as unknown as Uint8Array), TypeError, 'ERR_INVALID_ARG');
    expectCoded(() => parseRtp(new Int16Array(8) as unknown as Uint8Array), TypeError, 'ERR_INVALID_ARG');
  });

  it('survives every truncation and random corruption of a valid packet without crashing', () => {
    const good = buildRtp({
      payloadType: 111,
      sequenceNumber: 1,
      timestamp: 1,
      ssrc: 1,
      csrcs: [5, 6],
      extensions: [{ id: 1, data: new Uint8Array([1]) }],
      paddingSize: 3,
      payload: new Uint8Array(20),
    });
    for (let n = 0; n <= good.byteLength; n++) {
      try {
        parseRtp(good.subarray(0, n));
      } catch (err) {
        expect((err as { code?: string }).code).toBe('ERR_RTP_MALFORMED');
      }
    }
    let seed = 12345;
    const rand = (): number => (seed = (seed * 1103515245 + 12345) & 0x7fffffff);
    for (let i = 0; i < 2000; i++) {
      const b = good.slice();
      b[rand() % b.length] = rand() & 0xff;
      b[rand() % b.length] = rand() & 0xff;
      try {
        const p = parseRtp(b);
        expect(p.headerSize + p.payload.byteLength + p.paddingSize).toBe(b.byteLength);
      } catch (err) {
        expect((err as { code?: string }).code).toBe('ERR_RTP_MALFORMED');
      }
    }
  });
});

describe('buildRtp argument checks', () => {
  const base = { payloadType: 111, sequenceNumber: 0, timestamp: 0, ssrc: 0 };
  it.each([
    ['payloadType 128', { ...base, payloadType: 128 }, RangeError],
    ['negative sequenceNumber', { ...base, sequenceNumber: -1 }, RangeError],
    ['sequenceNumber 65536', { ...base, sequenceNumber: 65536 }, RangeError],
    ['timestamp 2^32', { ...base, timestamp: 2 ** 32 }, RangeError],
    ['fractional ssrc', { ...base, ssrc: 1.5 }, RangeError],
    ['16 csrcs', { ...base, csrcs: new Array<number>(16).fill(1) }, RangeError],
    ['extension id 0', { ...base, extensions: [{ id: 0, data: new Uint8Array(1) }] }, RangeError],
    ['extension data 256 bytes', { ...base, extensions: [{ id: 1, data: new Uint8Array(256) }] }, RangeError],
    ['paddingSize 256', { ...base, paddingSize: 256 }, RangeError],
    ['missing ssrc', { payloadType: 1, sequenceNumber: 0, timestamp: 0 }, TypeError],
    ['string payload', { ...base, payload: 'abc' }, TypeError],
  ])('%s -> %s ERR_INVALID_ARG', (_name, init, cls) => {
    expectCoded(() => buildRtp(init as unknown as Parameters<typeof buildRtp>[0]), cls, 'ERR_INVALID_ARG');
  });
});

describe('RTCP', () => {
  const block = {
    ssrc: 0xabcdef01,
    fractionLost: 25,
    cumulativeLost: 1000,
    extendedHighestSequenceNumber: 0x0002ffff,
    jitter: 480,
    lastSenderReport: 0x12345678,
    delaySinceLastSenderReport: 32768,
  };

  it('builds and parses a compound SR + RR + NACK + PLI + BYE', () => {
    const compound = concatRtcp([
      buildRtcpSr({
        senderSsrc: 1,
        ntpSeconds: 3_900_000_000,
        ntpFraction: 2 ** 31,
        rtpTimestamp: 96000,
        packetCount: 50,
        octetCount: 4000,
        reports: [block],
      }),
      buildRtcpRr({ senderSsrc: 2, reports: [block, { ssrc: 7, cumulativeLost: -5 }] }),
      buildRtcpNack({ senderSsrc: 3, mediaSsrc: 4, sequenceNumbers: [65534, 1, 65535, 0, 40] }),
      buildRtcpPli({ senderSsrc: 5, mediaSsrc: 6 }),
      buildRtcpBye({ ssrcs: [8, 9], reason: 'done' }),
    ]);
    const pkts = parseRtcp(compound);
    expect(pkts.map((p) => p.kind)).toEqual(['sr', 'rr', 'nack', 'pli', 'bye']);
    const [sr, rr, nack, pli, bye] = pkts;
    expect(sr).toMatchObject({
      kind: 'sr',
      packetType: 200,
      senderSsrc: 1,
      ntpSeconds: 3_900_000_000,
      ntpFraction: 2 ** 31,
      rtpTimestamp: 96000,
      packetCount: 50,
      octetCount: 4000,
      reports: [block],
    });
    expect(rr).toMatchObject({ kind: 'rr', senderSsrc: 2, fmt: 2 });
    if (rr?.kind !== 'rr') throw new Error('expected rr');
    expect(rr.reports[1]).toMatchObject({ ssrc: 7, cumulativeLost: -5, fractionLost: 0 });
    expect(nack).toMatchObject({ kind: 'nack', senderSsrc: 3, mediaSsrc: 4 });
    if (nack?.kind !== 'nack') throw new Error('expected nack');
    expect(nack.sequenceNumbers).toEqual([65534, 65535, 0, 1, 40]);
    expect(pli).toMatchObject({ kind: 'pli', packetType: 206, fmt: 1, senderSsrc: 5, mediaSsrc: 6 });
    expect(bye).toMatchObject({ kind: 'bye', ssrcs: [8, 9], reason: 'done' });
    expect(bye!.offset + bye!.size).toBe(compound.byteLength);
  });

  it('packs a NACK into PID/BLP pairs exactly as RFC 4585 lays them out', () => {
    // 100 and 101..116 fit one pair (BLP all ones); 117 starts the next.
    const seqs = Array.from({ length: 18 }, (_, i) => 100 + i);
    const nack = buildRtcpNack({ senderSsrc: 1, mediaSsrc: 2, sequenceNumbers: seqs });
    expect(Buffer.from(nack).toString('hex')).toBe('81cd0004' + '00000001' + '00000002' + '0064ffff' + '00750000');
  });

  it('parses an SDES (unknown to the typed set) as kind "other"', () => {
    const sdes = hex('81ca0003 00000001 01036162 63000000');
    expect(parseRtcp(sdes)).toEqual([{ kind: 'other', packetType: 202, fmt: 1, offset: 0, size: 16 }]);
  });

  rejectsMalformed(parseRtcp, 'ERR_RTCP_MALFORMED', [
    ['empty', '', 'empty'],
    ['truncated header', '80c900', 'too-short'],
    ['version 1', '40c90001 00000001', 'bad-version'],
    ['length field lies (too long)', '80c90005 00000001', 'length-overflow'],
    ['length field lies inside a compound', '80c90001 00000001 80c90009 00000002', 'length-overflow'],
    ['report count beyond body', '82c90001 00000001', 'body-too-short'],
    ['SR without sender info', '80c80001 00000001', 'body-too-short'],
    ['padding count > body', 'a0c90001 00000009', 'bad-padding'],
    ['padding count 0', 'a0c90001 00000000', 'bad-padding'],
    ['BYE reason beyond packet', '81cb0002 00000001 09616263', 'body-too-short'],
    ['NACK without media SSRC', '81cd0001 00000001', 'body-too-short'],
    ['trailing partial header', '80c90001 00000001 80', 'too-short'],
  ]);

  it('rejects bad builder arguments with typed errors', () => {
    expectCoded(() => buildRtcpNack({ senderSsrc: 1, mediaSsrc: 2, sequenceNumbers: [] }), RangeError, 'ERR_INVALID_ARG');
    expectCoded(() => buildRtcpBye({ ssrcs: [1], reason: 'x'.repeat(256) }), RangeError, 'ERR_INVALID_ARG');
    expectCoded(() => buildRtcpRr({ senderSsrc: -1 }), RangeError, 'ERR_INVALID_ARG');
    expectCoded(
      () => buildRtcpRr({ senderSsrc: 1, reports: [{ ssrc: 1, cumulativeLost: 2 ** 23 }] }),
      RangeError,
      'ERR_INVALID_ARG',
    );
    expectCoded(() => buildRtcpPli(null as unknown as { senderSsrc: number; mediaSsrc: number }), TypeError, 'ERR_INVALID_ARG');
  });
});

describe('unwrappers', () => {
  it('unwraps sequence numbers across the 16-bit wrap, in and out of order', () => {
    const u = new SequenceUnwrapper();
    expect([65533, 65535, 65534, 0, 2, 1, 65535].map((s) => u.unwrap(s))).toEqual([
      65533, 65535, 65534, 65536, 65538, 65537, 65535,
    ]);
    u.reset();
    expect(u.unwrap(7)).toBe(7);
    expect(() => u.unwrap(65536)).toThrow(RangeError);
  });

  it('unwraps 32-bit timestamps over several wraps', () => {
    const u = new TimestampUnwrapper();
    let ts = 2 ** 32 - 960 * 3;
    let expected = ts;
    for (let i = 0; i < 20; i++) {
      expect(u.unwrap(ts)).toBe(expected);
      ts = (ts + 2 ** 30) % 2 ** 32; // quarter-range steps: 4 per wrap, 5 wraps in all
      expected += 2 ** 30;
    }
    expect(u.unwrap(ts)).toBe(expected);
    expect(expected).toBeGreaterThan(4 * 2 ** 32);
  });
});
