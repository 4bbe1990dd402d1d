import { createSocket } from 'node:dgram';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { expectCoded } from '../../testkit/errors.js';
import {
  SmallWebRTCConnection,
  answerDirection,
  classifyInbound,
  normalizeIceServers,
  parseSdp,
  rewriteHostCandidates,
  shutdownSmallWebRTC,
  toNodeDataChannelIceServers,
} from '../../src/connection/index.js';
import { PipecatLikeClient } from '../../testkit/pipecat-like-client.js';

const live: Array<{ close(): unknown }> = [];

afterEach(async () => {
  for (const x of live.splice(0)) await x.close();
});

let leftOpen: SmallWebRTCConnection | null = null;
let leftOpenClosed = false;

afterAll(async () => {
  await shutdownSmallWebRTC(); // closes what is still open, then nodeDataChannel.cleanup()
  expect(leftOpen?.closed).toBe(true);
  expect(leftOpenClosed).toBe(true);
});

function conn(opts: ConstructorParameters<typeof SmallWebRTCConnection>[0] = {}): SmallWebRTCConnection {
  const c = new SmallWebRTCConnection({ bindAddress: '127.0.0.1', ...opts });
  live.push(c);
  return c;
}

describe('ICE servers', () => {
  it('maps STUN and TURN (udp, tcp, tls) to node-datachannel entries with verbatim credentials', () => {
    // TCP/TLS are refused by normalizeIceServers (libjuice); the mapper still knows them (libnice builds).
    const servers = [
      ...normalizeIceServers([{ urls: 'stun:stun.example.org' }]),
      {
        urls: [
          'turn:turn.example.org:3479',
          'turn:turn.example.org?transport=tcp',
          'turns:turn.example.org:443',
        ],
        username: 'u:ser@x',
        credential: 'p@ss:w/rd',
      },
      ...normalizeIceServers([{ urls: 'stun:[2001:db8::1]:3478' }]),
    ];
    expect(toNodeDataChannelIceServers(servers)).toEqual([
      { hostname: 'stun.example.org', port: 3478 },
      {
        hostname: 'turn.example.org',
        port: 3479,
        username: 'u:ser@x',
        password: 'p@ss:w/rd',
        relayType: 'TurnUdp',
      },
      {
        hostname: 'turn.example.org',
        port: 3478,
        username: 'u:ser@x',
        password: 'p@ss:w/rd',
        relayType: 'TurnTcp',
      },
      {
        hostname: 'turn.example.org',
        port: 443,
        username: 'u:ser@x',
        password: 'p@ss:w/rd',
        relayType: 'TurnTls',
      },
      { hostname: '2001:db8::1', port: 3478 },
    ]);
    expect(
      toNodeDataChannelIceServers(normalizeIceServers(['stun:a.example:19302', 'stun:b.example'])),
    ).toEqual([
      { hostname: 'a.example', port: 19302 },
      { hostname: 'b.example', port: 3478 },
    ]);
  });

  it('rejects mixed lists, bad URLs and TURN without credentials with TypeErrors', () => {
    expect(() => normalizeIceServers(['stun:a.example', { urls: 'stun:b.example' }])).toThrow(TypeError);
    expect(() => new SmallWebRTCConnection({ iceServers: ['stun:a', { urls: 'stun:b' }] as never })).toThrow(
      TypeError,
    );
    expect(() => normalizeIceServers(['http://example.org'])).toThrow(TypeError);
    expect(() => normalizeIceServers(['stun:host:99999'])).toThrow(TypeError);
    expect(() => normalizeIceServers([{ urls: 'turn:t.example' }])).toThrow(/username and credential/);
    expect(() => normalizeIceServers([{ urls: [] }])).toThrow(TypeError);
    expect(() => normalizeIceServers('stun:a' as never)).toThrow(TypeError);
    expect(normalizeIceServers(undefined)).toEqual([]);
  });

  it('refuses TURN/STUN over TCP or TLS (UDP-only libjuice) with ERR_UNSUPPORTED_ICE_SERVER', () => {
    const cred = { username: 'u', credential: 'p' };
    for (const urls of [
      'turn:t.example?transport=tcp',
      'turns:t.example:443',
      'turns:t.example?transport=udp',
    ]) {
      expectCoded(() => normalizeIceServers([{ urls, ...cred }]), RangeError, 'ERR_UNSUPPORTED_ICE_SERVER', {
        label: urls,
      });
      expectCoded(() => conn({ iceServers: [{ urls, ...cred }] }), RangeError, 'ERR_UNSUPPORTED_ICE_SERVER', {
        label: urls,
      });
    }
    expectCoded(() => normalizeIceServers(['stuns:s.example']), RangeError, 'ERR_UNSUPPORTED_ICE_SERVER');
    expectCoded(() => normalizeIceServers(['turns:t.example']), RangeError, 'ERR_UNSUPPORTED_ICE_SERVER');
    expect(normalizeIceServers([{ urls: 'turn:t.example?transport=udp', ...cred }])).toHaveLength(1);
  });

  it('validates deployment options', () => {
    expect(() => new SmallWebRTCConnection({ portRangeBegin: 0 })).toThrow(RangeError);
    expect(() => new SmallWebRTCConnection({ portRangeBegin: 5000, portRangeEnd: 4000 })).toThrow(RangeError);
    expect(() => new SmallWebRTCConnection({ advertisedIp: 'not-an-ip' })).toThrow(TypeError);
    expect(() => new SmallWebRTCConnection({ bindAddress: 'localhost' })).toThrow(TypeError);
    expect(() => new SmallWebRTCConnection({ connectionTimeoutSecs: -1 })).toThrow(RangeError);
    expect(() => new SmallWebRTCConnection({ livenessTimeoutSecs: Number.NaN })).toThrow(RangeError);
  });
});

describe('SDP and message helpers', () => {
  it('computes answer directions as Pipecat (0/1 sendrecv, 2+ recvonly, intersected with the offer)', () => {
    expect(answerDirection('sendrecv', 'sendrecv')).toBe('sendrecv');
    expect(answerDirection('sendrecv', 'sendonly')).toBe('recvonly');
    expect(answerDirection('sendrecv', 'recvonly')).toBe('sendonly');
    expect(answerDirection('sendrecv', 'inactive')).toBe('inactive');
    expect(answerDirection('recvonly', 'sendonly')).toBe('recvonly');
    expect(answerDirection('recvonly', 'recvonly')).toBe('inactive');
  });

  it('rewrites only host candidates for advertisedIp', () => {
    const sdp = [
      'v=0',
      'c=IN IP4 10.0.0.5',
      'a=candidate:1 1 UDP 2114977791 10.0.0.5 40000 typ host',
      'a=candidate:2 1 UDP 1686052607 198.51.100.9 40000 typ srflx raddr 10.0.0.5 rport 40000',
    ].join('\r\n');
    const out = rewriteHostCandidates(sdp, '203.0.113.7');
    expect(out).toContain('c=IN IP4 203.0.113.7');
    expect(out).toContain('a=candidate:1 1 UDP 2114977791 203.0.113.7 40000 typ host');
    expect(out).toContain('198.51.100.9 40000 typ srflx raddr 10.0.0.5');
  });

  it('classifies inbound data-channel texts', () => {
    expect(classifyInbound('ping: 123')).toEqual({ kind: 'ping' });
    expect(classifyInbound('{"type":"x"}')).toEqual({ kind: 'app', message: { type: 'x' } });
    expect(classifyInbound('{"type":"signalling"}')).toEqual({
      kind: 'app',
      message: { type: 'signalling' },
    });
    expect(
      classifyInbound(
        '{"type":"signalling","message":{"type":"trackStatus","receiver_index":1,"enabled":false}}',
      ),
    ).toEqual({ kind: 'signalling', message: { type: 'trackStatus', receiver_index: 1, enabled: false } });
    expect(classifyInbound('nope').kind).toBe('invalid');
    expect(classifyInbound('null').kind).toBe('invalid');
    expect(classifyInbound('{"a":1}').kind).toBe('invalid');
    expect(classifyInbound(`{"type":"x","pad":"${'x'.repeat(70_000)}"}`).kind).toBe('invalid');
  });
});

describe('SmallWebRTCConnection bad input', () => {
  it('rejects garbage, media-less, huge and wrongly typed offers with typed errors', async () => {
    await expect(conn().initialize({ sdp: 'garbage', type: 'offer' })).rejects.toMatchObject({
      code: 'ERR_INVALID_SDP',
    });
    const noMedia = 'v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\na=fingerprint:sha-256 AA\r\n';
    await expect(conn().initialize({ sdp: noMedia, type: 'offer' })).rejects.toMatchObject({
      code: 'ERR_INVALID_SDP',
    });
    const off = await PipecatLikeClient.create();
    live.push(off);
    const [head, ...rest] = off.offer.sdp.split('\r\nm=');
    const audioSection = `m=${rest[0]}`;
    const many = [
      head,
      ...Array.from({ length: 3000 }, (_, i) => audioSection.replace('a=mid:0', `a=mid:a${i}`)),
    ].join('\r\n');
    await expect(conn().initialize({ sdp: many, type: 'offer' })).rejects.toMatchObject({
      code: 'ERR_INVALID_SDP',
    });
    await expect(conn().initialize({ sdp: off.offer.sdp, type: 'answer' })).rejects.toMatchObject({
      code: 'ERR_INVALID_SDP',
    });
    await expect(conn().initialize({ sdp: 42, type: 'offer' } as never)).rejects.toBeInstanceOf(TypeError);
    await expect(conn().initialize(null as never)).rejects.toBeInstanceOf(TypeError);
    const noFingerprint = off.offer.sdp.replace(/a=fingerprint:[^\r\n]*\r\n/g, '');
    await expect(conn().initialize({ sdp: noFingerprint, type: 'offer' })).rejects.toMatchObject({
      code: 'ERR_INVALID_SDP',
    });
    // The good offer still works on a fresh connection; a second initialize is a state error.
    const good = conn();
    await good.initialize(off.offer);
    expect(good.getAnswer()?.type).toBe('answer');
    // Deliberately never closed by the test: shutdownSmallWebRTC() in afterAll must close it.
    const unclosed = new SmallWebRTCConnection({ bindAddress: '127.0.0.1' });
    unclosed.on('closed', () => {
      leftOpenClosed = true;
    });
    await unclosed.initialize(off.offer);
    leftOpen = unclosed;
    await expect(good.initialize(off.offer)).rejects.toMatchObject({ code: 'ERR_INVALID_STATE' });
    await expect(good.renegotiate({ sdp: 'garbage', type: 'offer' })).rejects.toMatchObject({
      code: 'ERR_INVALID_SDP',
    });
  });

  it('rejects unknown events and non-function handlers; close() is idempotent; methods after close throw ERR_CLOSED', async () => {
    const c = conn();
    expect(() => c.on('nope' as never, () => undefined)).toThrow(TypeError);
    expect(() => c.on('closed', 42 as never)).toThrow(TypeError);
    let closed = 0;
    c.on('closed', () => {
      closed++;
    });
    await Promise.all([c.close(), c.close()]);
    await c.close();
    expect(closed).toBe(1);
    await expect(c.initialize({ sdp: 'v=0', type: 'offer' })).rejects.toMatchObject({ code: 'ERR_CLOSED' });
    await expect(c.renegotiate({ sdp: 'v=0', type: 'offer' })).rejects.toMatchObject({ code: 'ERR_CLOSED' });
    expect(c.getAnswer()).toBeNull();
    expect(c.audioInputTrack()).toBeNull();
  });

  it('advertisedIp replaces the host candidate address in the answer', async () => {
    const off = await PipecatLikeClient.create();
    live.push(off);
    const c = conn({ advertisedIp: '203.0.113.7' });
    await c.initialize(off.offer);
    const sdp = c.getAnswer()?.sdp ?? '';
    expect(sdp).toMatch(/a=candidate:\S+ 1 UDP \d+ 203\.0\.113\.7 \d+ typ host/);
    expect(sdp).not.toMatch(/127\.0\.0\.1 \d+ typ host/);
    expect(parseSdp(sdp).media.map((m) => m.mid)).toEqual(['0', '1', '2', '3']);
  });

  it('binds to a configured port range and shares one port with enableIceUdpMux', async () => {
    const offA = await PipecatLikeClient.create();
    const offB = await PipecatLikeClient.create();
    live.push(offA, offB);
    // A port the OS just handed out (free right now), not a random guess that may collide with other peers.
    const probe = createSocket('udp4');
    await new Promise<void>((r) => probe.bind(0, '127.0.0.1', r));
    const port = probe.address().port;
    await new Promise<void>((r) => probe.close(r));
    const a = conn({ enableIceUdpMux: true, portRangeBegin: port, portRangeEnd: port });
    const b = conn({ enableIceUdpMux: true, portRangeBegin: port, portRangeEnd: port });
    await a.initialize(offA.offer);
    await b.initialize(offB.offer);
    const portOf = (s: string): string | undefined =>
      /a=candidate:\S+ 1 UDP \d+ 127\.0\.0\.1 (\d+) typ host/.exec(s)?.[1];
    expect(portOf(a.getAnswer()?.sdp ?? '')).toBe(String(port));
    expect(portOf(b.getAnswer()?.sdp ?? '')).toBe(String(port));
    offA.setAnswer(a.getAnswer() as { sdp: string });
    offB.setAnswer(b.getAnswer() as { sdp: string });
    await offA.waitConnected();
    await offB.waitConnected();
  });

  it('answers m-lines without a supported codec inactive, and follows the offer payload type (aiortc Opus 96)', async () => {
    const off = await PipecatLikeClient.create({ audioPayloadType: 96 });
    live.push(off);
    // A libdatachannel offerer whose offer carries candidates can fail to apply a valid answer under load
    // ("Got a remote candidate without ICE transport", see PipecatLikeClientOptions.candidatesInOffer).
    expect(off.offer.sdp).not.toContain('a=candidate:');
    const parts = off.offer.sdp.split('\r\nm=');
    parts[3] = (parts[3] ?? '').replace('a=rtpmap:96 VP8/90000', 'a=rtpmap:96 VP9/90000');
    const c = conn();
    await c.initialize({ sdp: parts.join('\r\nm='), type: 'offer' });
    const sections = (c.getAnswer()?.sdp ?? '').split('\r\nm=');
    expect(sections[1]).toMatch(/^audio \d+ UDP\/TLS\/RTP\/SAVPF 96\r\n/);
    expect(sections[1]).toContain('a=fmtp:96 minptime=10;useinbandfec=1;usedtx=1');
    expect(sections[3]).toMatch(/^video \d+ UDP\/TLS\/RTP\/SAVPF 96\r\n/);
    expect(sections[3]).toContain('a=inactive');
    expect(c.screenVideoInputTrack()).toBeNull();
    expect(c.audioInputTrack()?.codecs[0]?.payloadType).toBe(96);
    off.setAnswer(c.getAnswer() as { sdp: string });
    await off.waitConnected();
  });
});
