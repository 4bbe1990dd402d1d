/**
 * fast-check generators of SDP offers: well-formed offers shaped like the ones Pipecat clients send (Chrome,
 * aiortc, ESP32: audio, video and data sections in any order, Opus/VP8/H264/rtx codecs, candidates,
 * sha-256/384/512 fingerprints), and hostile variants of them (lines dropped, duplicated, swapped,
 * truncated, junk inserted, line endings changed).
 */
import * as fc from 'fast-check';

export interface OfferSection {
  kind: 'audio' | 'video' | 'application';
  mid: string;
  direction: 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive';
  payloadTypes: number[];
  port: number;
  candidates: string[];
  ssrc: number | null;
  maxMessageSize: number | null;
}

export interface Offer {
  sections: OfferSection[];
  extraFingerprints: Array<'sha-384' | 'sha-512'>;
  crlf: boolean;
}

const hexByte = fc.integer({ min: 0, max: 255 }).map((b) => b.toString(16).toUpperCase().padStart(2, '0'));
const fingerprint = (bytes: number): fc.Arbitrary<string> =>
  fc.array(hexByte, { minLength: bytes, maxLength: bytes }).map((a) => a.join(':'));

export const candidateArb: fc.Arbitrary<string> = fc
  .record({
    foundation: fc.stringMatching(/^[A-Za-z0-9+/]{1,32}$/),
    component: fc.integer({ min: 1, max: 2 }),
    transport: fc.constantFrom('udp', 'UDP', 'tcp'),
    priority: fc.integer({ min: 0, max: 0xffffffff }),
    address: fc.oneof(fc.ipV4(), fc.ipV6(), fc.constant('3f1c2d4e-1111-4a2b-9c3d-abcdefabcdef.local')),
    port: fc.integer({ min: 1, max: 65535 }),
    type: fc.constantFrom('host', 'srflx', 'prflx', 'relay'),
    raddr: fc.option(fc.ipV4(), { nil: undefined }),
  })
  .map(
    (c) =>
      `candidate:${c.foundation} ${c.component} ${c.transport} ${c.priority} ${c.address} ${c.port} typ ${c.type}` +
      (c.raddr !== undefined ? ` raddr ${c.raddr} rport 9` : '') +
      ' generation 0',
  );

const midArb = fc.oneof(
  fc.constantFrom('0', '1', '2', '3', 'audio', 'video', 'data'),
  fc.stringMatching(/^[\w.-]{1,8}$/),
);

const sectionArb: fc.Arbitrary<OfferSection> = fc.record({
  kind: fc.constantFrom('audio', 'video', 'application'),
  mid: midArb,
  direction: fc.constantFrom('sendrecv', 'sendonly', 'recvonly', 'inactive'),
  payloadTypes: fc.uniqueArray(fc.integer({ min: 96, max: 127 }), { minLength: 1, maxLength: 4 }),
  port: fc.oneof(fc.constant(9), fc.integer({ min: 1, max: 65535 })),
  candidates: fc.array(candidateArb, { maxLength: 3 }),
  ssrc: fc.option(fc.integer({ min: 1, max: 0xffffffff }), { nil: null }),
  maxMessageSize: fc.option(fc.constantFrom(0, 16384, 65536, 262144), { nil: null }),
});

/** Offers with 1-4 sections of distinct mids, at most one of them a data-channel section (RFC 8841). */
export const offerArb: fc.Arbitrary<Offer> = fc.record({
  sections: fc
    .uniqueArray(sectionArb, { minLength: 1, maxLength: 4, selector: (s) => s.mid })
    .map((list) =>
      list.filter(
        (s, i) => s.kind !== 'application' || list.findIndex((x) => x.kind === 'application') === i,
      ),
    ),
  extraFingerprints: fc.subarray(['sha-384', 'sha-512'] as Array<'sha-384' | 'sha-512'>),
  crlf: fc.boolean(),
});

/** The SDP text of an offer (fingerprints are fixed per call: fc values in `fp`). */
export function offerText(o: Offer, fp: { sha256: string; sha384: string; sha512: string }): string {
  const lines = [
    'v=0',
    'o=- 4611731400430051336 2 IN IP4 127.0.0.1',
    's=-',
    't=0 0',
    `a=group:BUNDLE ${o.sections.map((s) => s.mid).join(' ')}`,
    'a=msid-semantic: WMS',
  ];
  for (const s of o.sections) {
    if (s.kind === 'application') {
      lines.push(`m=application ${s.port} UDP/DTLS/SCTP webrtc-datachannel`);
    } else {
      lines.push(`m=${s.kind} ${s.port} UDP/TLS/RTP/SAVPF ${s.payloadTypes.join(' ')}`);
    }
    lines.push('c=IN IP4 0.0.0.0');
    for (const c of s.candidates) lines.push(`a=${c}`);
    lines.push('a=ice-ufrag:Xk3b', 'a=ice-pwd:k0Pj3lB5jWnnHDfUvGXC2iYo', 'a=ice-options:trickle');
    lines.push(`a=fingerprint:sha-256 ${fp.sha256}`);
    if (o.extraFingerprints.includes('sha-384')) lines.push(`a=fingerprint:sha-384 ${fp.sha384}`);
    if (o.extraFingerprints.includes('sha-512')) lines.push(`a=fingerprint:sha-512 ${fp.sha512}`);
    lines.push('a=setup:actpass', `a=mid:${s.mid}`);
    if (s.kind === 'application') {
      lines.push('a=sctp-port:5000');
      if (s.maxMessageSize !== null) lines.push(`a=max-message-size:${s.maxMessageSize}`);
      continue;
    }
    lines.push('a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid', `a=${s.direction}`, 'a=rtcp-mux');
    s.payloadTypes.forEach((pt, i) => {
      if (s.kind === 'audio') {
        lines.push(`a=rtpmap:${pt} opus/48000/2`, `a=fmtp:${pt} minptime=10;useinbandfec=1`);
      } else if (i === 1) {
        lines.push(`a=rtpmap:${pt} rtx/90000`, `a=fmtp:${pt} apt=${s.payloadTypes[0]}`);
      } else {
        lines.push(`a=rtpmap:${pt} ${i === 2 ? 'H264' : 'VP8'}/90000`, `a=rtcp-fb:${pt} nack pli`);
      }
    });
    if (s.ssrc !== null) lines.push(`a=ssrc:${s.ssrc} cname:fuzz`);
  }
  return lines.join(o.crlf ? '\r\n' : '\n') + (o.crlf ? '\r\n' : '\n');
}

export const fingerprintsArb = fc.record({
  sha256: fingerprint(32),
  sha384: fingerprint(48),
  sha512: fingerprint(64),
});

/** A well-formed offer's text. */
export const offerTextArb: fc.Arbitrary<string> = fc
  .tuple(offerArb, fingerprintsArb)
  .map(([o, fp]) => offerText(o, fp));

/** Line-level edits an attacker (or a broken client) can make to an offer. */
type Edit =
  | { op: 'drop'; at: number }
  | { op: 'dup'; at: number }
  | { op: 'swap'; at: number; with: number }
  | { op: 'truncate'; at: number; keep: number }
  | { op: 'insert'; at: number; text: string }
  | { op: 'replace'; at: number; text: string };

const junkLine = fc.oneof(
  fc.string({ maxLength: 80 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom(
    'm=audio 9 UDP/TLS/RTP/SAVPF',
    'm=audio 99999 UDP/TLS/RTP/SAVPF 111',
    'm=video -1 RTP/AVP 96',
    'm=application 9/2 UDP/DTLS/SCTP webrtc-datachannel',
    'a=mid:',
    'a=mid:' + 'x'.repeat(40),
    'a=rtpmap:999 opus/48000/2',
    'a=rtpmap:111 opus/abc',
    'a=fmtp:',
    'a=rtcp-fb:* nack',
    'a=extmap:99999999 x',
    'a=ssrc:99999999999 cname:x',
    'a=max-message-size:-1',
    'a=max-message-size:1e400',
    'a=candidate:1 1 udp 1 1.2.3.4 99999 typ host',
    'a=fingerprint:sha-512',
    'a=sendonly',
    'a=inactive',
    'c=IN IP4',
    'v=0',
    '=',
    'a=',
    'a=:',
  ),
);

const editArb: fc.Arbitrary<Edit> = fc.oneof(
  fc.record({ op: fc.constant('drop' as const), at: fc.nat() }),
  fc.record({ op: fc.constant('dup' as const), at: fc.nat() }),
  fc.record({ op: fc.constant('swap' as const), at: fc.nat(), with: fc.nat() }),
  fc.record({ op: fc.constant('truncate' as const), at: fc.nat(), keep: fc.nat() }),
  fc.record({ op: fc.constant('insert' as const), at: fc.nat(), text: junkLine }),
  fc.record({ op: fc.constant('replace' as const), at: fc.nat(), text: junkLine }),
);

function applyEdits(sdp: string, edits: Edit[], eol: string): string {
  const lines = sdp.split(/\r?\n/);
  for (const e of edits) {
    if (lines.length === 0) break;
    const i = e.at % lines.length;
    switch (e.op) {
      case 'drop':
        lines.splice(i, 1);
        break;
      case 'dup':
        lines.splice(i, 0, lines[i] ?? '');
        break;
      case 'swap': {
        const j = e.with % lines.length;
        [lines[i], lines[j]] = [lines[j] ?? '', lines[i] ?? ''];
        break;
      }
      case 'truncate':
        lines[i] = (lines[i] ?? '').slice(0, e.keep % ((lines[i] ?? '').length + 1));
        break;
      case 'insert':
        lines.splice(i, 0, e.text);
        break;
      case 'replace':
        lines[i] = e.text;
        break;
    }
  }
  return lines.join(eol);
}

/** Offers with 1-8 hostile line edits and any line ending. */
export const mutatedOfferTextArb: fc.Arbitrary<string> = fc
  .tuple(
    offerTextArb,
    fc.array(editArb, { minLength: 1, maxLength: 8 }),
    fc.constantFrom('\r\n', '\n', '\r', '\n\n'),
  )
  .map(([sdp, edits, eol]) => applyEdits(sdp, edits, eol));

/** Any SDP-ish input: well-formed, mutated, or arbitrary text. */
export const anySdpArb: fc.Arbitrary<string> = fc.oneof(
  { arbitrary: offerTextArb, weight: 2 },
  { arbitrary: mutatedOfferTextArb, weight: 5 },
  { arbitrary: fc.string({ maxLength: 300 }), weight: 1 },
  { arbitrary: fc.string({ unit: 'binary', maxLength: 300 }).map((s) => 'v=0\r\n' + s), weight: 1 },
);
