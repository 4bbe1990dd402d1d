import { describe, expect, it } from 'vitest';
import { performance } from 'node:perf_hooks';
import { SmallWebRTCConnection } from '../../src/connection/index.js';
import { setLogger, type Logger } from '../../src/logger.js';
import { PipecatLikeClient, type PipecatLikeClientOptions } from '../../testkit/pipecat-like-client.js';
import { until } from '../../testkit/wait.js';
import {
  closeLiveAfterEach,
  live,
  newPair,
  stateEvents,
  type ConnectionOptions,
} from '../helpers/connection-pair.js';

closeLiveAfterEach();

async function pair(
  offererOpts: PipecatLikeClientOptions = {},
  connOpts: ConnectionOptions = {},
): Promise<{ conn: SmallWebRTCConnection; off: PipecatLikeClient; events: string[]; connectMs: number }> {
  const { conn, off } = await newPair(offererOpts, connOpts);
  const events = stateEvents(conn);
  const t0 = performance.now();
  await conn.initialize(off.offer);
  const answer = conn.getAnswer();
  expect(answer).not.toBeNull();
  off.setAnswer(answer as { sdp: string });
  await off.waitConnected();
  const connectMs = performance.now() - t0;
  return { conn, off, events, connectMs };
}

describe('SmallWebRTCConnection with a Pipecat-web-client-like node offerer', () => {
  it('answers with the offer mids, directions, Opus fmtp, SSRCs, BUNDLE and candidates; connects', async () => {
    const { conn, events, connectMs } = await pair();
    const answer = conn.getAnswer();
    expect(answer?.type).toBe('answer');
    expect(answer?.pc_id).toMatch(/^SmallWebRTCConnection#\d+-[0-9a-f]{32}$/);
    expect(answer?.pc_id).toBe(conn.pcId);
    const sdp = answer?.sdp ?? '';
    expect(sdp).toMatch(/a=group:BUNDLE 0 1 2 3/);
    const sections = sdp.split(/\r\nm=/).slice(1);
    expect(sections).toHaveLength(4);
    const [audio, video, screen, app] = sections as [string, string, string, string];
    expect(audio).toMatch(/^audio \d+ UDP\/TLS\/RTP\/SAVPF 111\r\n/);
    expect(audio).toContain('a=mid:0');
    expect(audio).toContain('a=sendrecv');
    expect(audio).toContain('a=fmtp:111 minptime=10;useinbandfec=1;usedtx=1');
    expect(audio).not.toContain('stereo=1');
    expect(audio).toMatch(/a=ssrc:\d+ cname:/);
    expect(audio).toMatch(/a=msid:\S+ \S+/);
    expect(audio).toContain('a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid');
    expect(video).toMatch(/^video \d+ UDP\/TLS\/RTP\/SAVPF 96 102\r\n/);
    expect(video).toContain('a=sendrecv');
    expect(video).toContain('a=rtcp-fb:96 nack pli');
    expect(video).toMatch(/a=ssrc:\d+ cname:/);
    expect(screen).toContain('a=mid:2');
    expect(screen).toContain('a=recvonly');
    expect(screen).not.toMatch(/a=ssrc:/);
    expect(app).toContain('a=mid:3');
    expect(sdp).toMatch(/a=candidate:\S+ 1 UDP \d+ 127\.0\.0\.1 \d+ typ host/);
    expect(sdp).toContain('a=setup:active');
    // 'connected' is held back until connect() (Pipecat).
    await until(() => conn.pc?.state() === 'connected', 10_000, 'server connected');
    expect(events).toContain('connecting');
    expect(events).not.toContain('connected');
    expect(conn.isConnected()).toBe(false);
    await conn.connect();
    expect(events.filter((e) => e === 'connected')).toHaveLength(1);
    expect(conn.isConnected()).toBe(true);
    expect(conn.audioInputTrack()?.kind).toBe('audio');
    expect(conn.videoInputTrack()?.kind).toBe('video');
    expect(conn.screenVideoInputTrack()?.mid).toBe('2');
    expect(conn.audioInputTrack()?.codecs[0]).toMatchObject({
      payloadType: 111,
      name: 'opus',
      clockRate: 48000,
    });
    expect(connectMs).toBeGreaterThan(0);
    console.info(`[connection.test] offer -> connected+open: ${connectMs.toFixed(0)} ms`);
  });

  it('exchanges app messages both ways, including an outbox filled before the channel opens', async () => {
    const { conn, off } = await newPair();
    const received: unknown[] = [];
    conn.on('app-message', (_c, m) => {
      received.push(m);
    });
    await conn.initialize(off.offer);
    // Before the channel exists: queued in order.
    for (let i = 0; i < 5; i++) conn.sendAppMessage({ label: 'rtvi-ai', type: 'early', n: i });
    off.setAnswer(conn.getAnswer() as { sdp: string });
    await off.waitConnected();
    await off.waitUntil(
      () => off.messages.filter((m) => m['type'] === 'early').length === 5,
      10_000,
      'outbox',
    );
    expect(off.messages.filter((m) => m['type'] === 'early').map((m) => m['n'])).toEqual([0, 1, 2, 3, 4]);
    // Client -> server before connect(): held, replayed on connect().
    off.sendJson({ label: 'rtvi-ai', type: 'client-ready', id: 'abc', data: {} });
    await new Promise((r) => setTimeout(r, 200));
    expect(received).toHaveLength(0);
    await conn.connect();
    await until(() => received.length === 1, 5000, 'replayed app message');
    expect(received[0]).toMatchObject({ type: 'client-ready', id: 'abc' });
    off.sendJson({ label: 'rtvi-ai', type: 'client-message', id: 'x', data: { t: 'hi' } });
    await until(() => received.length === 2, 5000, 'app message');
    conn.sendAppMessage({ label: 'rtvi-ai', type: 'bot-ready', id: 'abc' });
    await off.waitForMessage((m) => m['type'] === 'bot-ready');
    // Garbage inbound is ignored; the connection keeps working.
    off.sendText('not json');
    off.sendText('[1,2,3]');
    off.sendText('{"no":"type"}');
    off.sendText(
      JSON.stringify({ type: 'signalling', message: { type: 'trackStatus', receiver_index: 'x' } }),
    );
    off.sendBinary(new Uint8Array([1, 2, 3]));
    off.sendText(`{"type":"big","pad":"${'x'.repeat(60_000)}"`); // 60 KB, not JSON
    off.sendText('['.repeat(50_000)); // deep garbage
    expect(() => off.sendText('x'.repeat(70_000))).toThrow(); // above our a=max-message-size: refused by the peer
    off.sendJson({ type: 'after-garbage' });
    await until(() => received.length === 3, 5000, 'message after garbage');
    expect(received[2]).toEqual({ type: 'after-garbage' });
    // Typed errors for unusable messages.
    expect(conn.getAnswer()?.sdp).toContain('a=max-message-size:65536');
    expect(() => conn.sendAppMessage({ big: 'x'.repeat(300_000) })).toThrow(
      expect.objectContaining({ code: 'ERR_MESSAGE_TOO_LARGE' }),
    );
    expect(() => conn.sendAppMessage(undefined)).toThrow(TypeError);
    const cyclic: Record<string, unknown> = {};
    cyclic['self'] = cyclic;
    expect(() => conn.sendAppMessage(cyclic)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG' }));
  });

  it('keeps at most 50 queued messages, flushed in order; without a channel, discards after the timeout', async () => {
    const warnings: string[] = [];
    const capture: Logger = {
      debug: () => undefined,
      info: () => undefined,
      warn: (m) => {
        warnings.push(m);
      },
      error: () => undefined,
    };
    setLogger(capture);
    try {
      const { conn, off } = await newPair();
      await conn.initialize(off.offer);
      for (let i = 0; i < 55; i++) conn.sendAppMessage({ type: 'q', n: i });
      expect(warnings.filter((w) => w.includes('outbox full'))).toHaveLength(5);
      off.setAnswer(conn.getAnswer() as { sdp: string });
      await off.waitConnected();
      await off.waitUntil(() => off.messages.filter((m) => m['type'] === 'q').length === 50, 10_000, 'flush');
      await new Promise((r) => setTimeout(r, 200));
      expect(off.messages.filter((m) => m['type'] === 'q').map((m) => m['n'])).toEqual(
        Array.from({ length: 50 }, (_, i) => i),
      );

      // A media-only client (no data channel): queued messages are dropped after dataChannelTimeoutSecs.
      const mediaOnly = await PipecatLikeClient.create({ dataChannel: false });
      live.push(mediaOnly);
      expect(mediaOnly.offer.sdp).not.toContain('m=application');
      const conn2 = new SmallWebRTCConnection({ bindAddress: '127.0.0.1', dataChannelTimeoutSecs: 0.5 });
      live.push(conn2);
      await conn2.initialize(mediaOnly.offer);
      conn2.sendAppMessage({ type: 'queued' });
      mediaOnly.setAnswer(conn2.getAnswer() as { sdp: string });
      await mediaOnly.waitConnected();
      await conn2.connect();
      await until(() => warnings.some((w) => w.includes('no data channel')), 5000, 'discard mode');
      conn2.sendAppMessage({ type: 'discarded' });
      expect(warnings.some((w) => w.includes('message discarded'))).toBe(true);
      expect(conn2.isConnected()).toBe(true);
    } finally {
      setLogger(null);
    }
  });
});
