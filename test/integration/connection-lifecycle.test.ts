import { describe, expect, it } from 'vitest';
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { SmallWebRTCConnection, type OutboundTrack, type RtpSink } from '../../src/connection/index.js';
import { PipecatLikeClient } from '../../testkit/pipecat-like-client.js';
import { rtpTo } from '../../testkit/rtp.js';
import { closeLiveAfterEach, connectedPair, live, newPair, stateEvents } from '../helpers/connection-pair.js';
import { sleep, until } from '../../testkit/wait.js';

closeLiveAfterEach();

describe('SmallWebRTCConnection lifecycle', () => {
  it('isConnected() follows pings: true while pinging, false 3 s after the last ping', async () => {
    const { conn, off } = await connectedPair({ pingIntervalMs: 200 }, { livenessTimeoutSecs: 60 });
    await sleep(500);
    expect(conn.isConnected()).toBe(true);
    off.stopPings();
    await until(() => !conn.isConnected(), 6000, 'isConnected false');
    expect(conn.closed).toBe(false); // liveness timeout (60 s) not reached: still open
    off.startPings(200);
    await until(() => conn.isConnected(), 3000, 'isConnected again');
  });

  it('renegotiates on the same peer: askToRenegotiate once per 2 s, second offer answered with the same pc_id', async () => {
    const { conn, off, events } = await connectedPair();
    const pcId = conn.pcId;
    conn.askToRenegotiate();
    conn.askToRenegotiate(); // suppressed (2 s window)
    await off.waitForMessage((m) => m['type'] === 'signalling');
    await sleep(300);
    const requests = off.messages.filter(
      (m) => m['type'] === 'signalling' && (m['message'] as { type?: string })?.type === 'renegotiate',
    );
    expect(requests).toHaveLength(1);
    const offer2 = await off.reoffer();
    await conn.renegotiate({ ...offer2 });
    const answer2 = conn.getAnswer();
    expect(answer2?.pc_id).toBe(pcId);
    expect(answer2?.sdp).toContain('a=mid:0');
    expect(answer2?.sdp).toContain('a=fmtp:111 minptime=10;useinbandfec=1;usedtx=1');
    off.setAnswer(answer2 as { sdp: string });
    await off.waitUntil(() => off.pc.signalingState() === 'stable', 5000, 'stable');
    // Still connected, messages and RTP still flow.
    const got: number[] = [];
    conn.audioInputTrack()?.onRtp((p) => got.push(p.readUInt16BE(2)));
    off.sendRtp('audio', { seq: 500, timestamp: 0, payload: new Uint8Array([0xf8]) });
    await until(() => got.includes(500), 5000, 'RTP after renegotiation');
    conn.sendAppMessage({ type: 'after-renegotiation' });
    await off.waitForMessage((m) => m['type'] === 'after-renegotiation');
    expect(events.filter((e) => e === 'connected')).toHaveLength(1);
    expect(events).not.toContain('closed');
  });

  it('restartPc: new peer and pc_id behind the same object; disconnected (no closed) for the old peer', async () => {
    const bound: RtpSink[] = [];
    const out: OutboundTrack = {
      kind: 'audio',
      bind: (s) => bound.push(s),
      unbind: () => undefined,
    };
    const { conn, off, events } = await connectedPair();
    conn.replaceAudioTrack(out);
    expect(bound).toHaveLength(1);
    const messages: unknown[] = [];
    conn.on('app-message', (_c, m) => {
      messages.push(m);
    });
    const oldPcId = conn.pcId;
    const off2 = await PipecatLikeClient.create();
    live.push(off2);
    await conn.renegotiate({ ...off2.offer, restartPc: true });
    const answer = conn.getAnswer();
    expect(answer?.pc_id).not.toBe(oldPcId);
    expect(conn.pcId).toBe(answer?.pc_id);
    expect(events).toContain('disconnected');
    expect(events).not.toContain('closed');
    off.close(); // the client closes its old PC after the answer
    off2.setAnswer(answer as { sdp: string });
    await off2.waitConnected();
    await until(() => events.filter((e) => e === 'connected').length === 2, 5000, 'second connected');
    expect(events).not.toContain('closed');
    expect(bound).toHaveLength(2);
    expect(bound[1]?.ssrc).not.toBe(bound[0]?.ssrc);
    off2.sendJson({ type: 'hello-again' });
    await until(() => messages.length === 1, 5000, 'app message on the new peer');
    const atPeer: Buffer[] = [];
    off2.onRtp('audio', (b) => atPeer.push(b));
    const sink = bound[1] as RtpSink;
    expect(sink.send(rtpTo(sink, { sequenceNumber: 0, timestamp: 0, payload: Uint8Array.of(0) }))).toBe(true);
    await until(() => atPeer.length === 1, 5000, 'RTP from the rebound sink');
    await sleep(300);
    expect(events).not.toContain('closed');
  });

  it('accepts trickled candidates (incl. an empty one, null and a .local one) and connects', async () => {
    const off = await PipecatLikeClient.create({ trickle: true });
    live.push(off);
    expect(off.offer.sdp).not.toContain('a=candidate');
    expect(off.candidates.length).toBeGreaterThan(0);
    const conn = new SmallWebRTCConnection({ bindAddress: '127.0.0.1' });
    live.push(conn);
    await conn.initialize(off.offer);
    // The answer first, then the trickled candidates, as the Pipecat clients do (they PATCH after the answer).
    // The other order races: with our candidates the server's ICE and DTLS can reach the offerer before it
    // has the answer's fingerprint, and the offerer's PC closes inside setRemoteDescription ("Got a remote
    // candidate without ICE transport"; one CI run).
    off.setAnswer(conn.getAnswer() as { sdp: string });
    await conn.addIceCandidate({
      candidate: 'candidate:1 1 udp 2122260223 0b8a3c1e-8f0e-4d1d-9c7e-2f1f5a0e9b1a.local 54321 typ host',
      sdpMid: '0',
      sdpMLineIndex: 0,
    });
    for (const c of off.candidates) await conn.addIceCandidate({ ...c, sdpMLineIndex: 0 });
    await conn.addIceCandidate({ candidate: '', sdpMid: '0', sdpMLineIndex: 0 });
    await conn.addIceCandidate(null);
    // An unknown mid falls back to the bundle.
    await conn.addIceCandidate({
      candidate: off.candidates[0]!.candidate,
      sdpMid: '99',
      sdpMLineIndex: null,
    });
    await off.waitConnected();
    await until(() => conn.pc?.state() === 'connected', 5000, 'server connected');
    expect(conn.pc?.getSelectedCandidatePair()?.remote.address).toBe('127.0.0.1');
    await expect(conn.addIceCandidate({ candidate: 'candidate:garbage', sdpMid: '0' })).rejects.toMatchObject(
      {
        code: 'ERR_INVALID_CANDIDATE',
      },
    );
    await expect(
      conn.addIceCandidate({ candidate: 'candidate:1 1 udp 1 1.2.3.4 99999 typ host', sdpMid: '0' }),
    ).rejects.toMatchObject({ code: 'ERR_INVALID_CANDIDATE' });
    await expect(
      conn.addIceCandidate({ candidate: 42 } as unknown as { candidate: string }),
    ).rejects.toBeInstanceOf(TypeError);
  });

  it('disconnect() sends peerLeft before closing; closed fires once', async () => {
    const { conn, off, events } = await connectedPair();
    await conn.disconnect();
    expect(events.filter((e) => e === 'closed')).toHaveLength(1);
    const left = await off.waitForMessage(
      (m) => m['type'] === 'signalling' && (m['message'] as { type?: string })?.type === 'peerLeft',
      5000,
    );
    expect(left).toEqual({ type: 'signalling', message: { type: 'peerLeft' } });
    await conn.disconnect();
    await conn.close();
    expect(events.filter((e) => e === 'closed')).toHaveLength(1);
    await expect(conn.connect()).rejects.toMatchObject({ code: 'ERR_CLOSED' });
    await expect(conn.addIceCandidate(null)).rejects.toMatchObject({ code: 'ERR_CLOSED' });
    expect(conn.isConnected()).toBe(false);
    expect(() => conn.sendAppMessage({ type: 'late' })).not.toThrow(); // dropped, like Python while closing
  });

  it('emits closed (once) when the peer closes', async () => {
    const { conn, off, events } = await connectedPair();
    off.close();
    await until(() => events.includes('closed'), 10_000, 'closed');
    await sleep(500);
    expect(events.filter((e) => e === 'closed')).toHaveLength(1);
    expect(conn.closed).toBe(true);
  });

  it('detects a peer that vanished without closing (SIGKILL) within livenessTimeoutSecs', async () => {
    const child = fork(
      fileURLToPath(new URL('../../testkit/pipecat-like-client-child.ts', import.meta.url)),
      {
        execArgv: ['--import', 'tsx'],
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      },
    );
    live.push({ close: () => child.kill('SIGKILL') });
    const messages: Array<Record<string, unknown>> = [];
    child.on('message', (m) => messages.push(m as Record<string, unknown>));
    await until(() => messages.some((m) => m['offer']), 20_000, 'child offer');
    const offer = messages.find((m) => m['offer'])?.['offer'] as { sdp: string; type: string };
    const conn = new SmallWebRTCConnection({ bindAddress: '127.0.0.1', livenessTimeoutSecs: 2 });
    live.push(conn);
    const events = stateEvents(conn);
    await conn.initialize(offer);
    child.send({ answer: conn.getAnswer() });
    await until(() => messages.some((m) => m['connected']), 20_000, 'child connected');
    await conn.connect();
    await sleep(1500); // the child pings every 500 ms once open: several pings arrive before the kill
    const killedAt = Date.now();
    child.kill('SIGKILL');
    await until(() => events.includes('closed'), 10_000, 'closed after vanish');
    const detectMs = Date.now() - killedAt;
    console.info(
      `[connection-lifecycle.test] vanished peer detected after ${detectMs} ms (livenessTimeoutSecs 2)`,
    );
    expect(detectMs).toBeLessThan(8000);
    expect(events.filter((e) => e === 'closed')).toHaveLength(1);
  });

  it('a peer that stops pinging but still sends media is not declared gone; total silence is', async () => {
    const { conn, off, events } = await connectedPair({ pingIntervalMs: 200 }, { livenessTimeoutSecs: 1 });
    await sleep(300);
    off.stopPings();
    off.startRtp(50); // media only, no pings
    try {
      await sleep(3500); // > PING_LIVENESS_MS (3 s) and > livenessTimeoutSecs (1 s)
      expect(conn.closed).toBe(false);
      expect(conn.isConnected()).toBe(false); // Pipecat's ping-based isConnected() still says no
    } finally {
      off.stopRtp();
    }
    await until(() => events.includes('closed'), 8000, 'closed after total silence');
  });

  it('a stall of our own event loop is not the peer going silent (loaded machine)', async () => {
    const { conn, off, events } = await connectedPair({ pingIntervalMs: 200 }, { livenessTimeoutSecs: 1 });
    await sleep(600); // pings arrived: the 1 s liveness limit applies
    off.stopPings();
    off.startRtp(50); // media only, no pings
    try {
      await sleep(500); // only media keeps the peer alive from here on
      // Block this thread for 2 s (> livenessTimeoutSecs) without burning CPU, as a loaded machine or a long
      // GC would: no JS runs, so the in-process peer sends nothing either. Afterwards the overdue liveness
      // tick runs (timers phase) before the peer's fresh RTP is delivered to us (poll phase).
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 2000);
      await sleep(1000);
      expect(conn.closed).toBe(false);
      expect(events).not.toContain('closed');
    } finally {
      off.stopRtp();
    }
    await until(() => events.includes('closed'), 8000, 'closed after total silence');
  });

  it('closes a peer stuck in connecting after connectionTimeoutSecs', async () => {
    const { conn, off } = await newPair({}, { connectionTimeoutSecs: 1.5 });
    const events = stateEvents(conn);
    await conn.initialize(off.offer);
    off.close(); // the client never applies the answer
    await until(() => events.includes('closed'), 10_000, 'closed by timeout');
    expect(events).not.toContain('connected');
  });

  it('a throwing or rejecting handler is logged and does not break the connection', async () => {
    const { conn, off } = await newPair();
    const seen: unknown[] = [];
    conn.on('connected', () => {
      throw new Error('boom (expected in test)');
    });
    conn.on('app-message', async () => {
      throw new Error('async boom (expected in test)');
    });
    conn.on('app-message', (_c, m) => {
      seen.push(m);
    });
    await off.negotiate(conn);
    await off.waitConnected();
    await conn.connect();
    off.sendJson({ type: 'x' });
    await until(() => seen.length === 1, 5000, 'second handler ran');
    conn.sendAppMessage({ type: 'still-works' });
    await off.waitForMessage((m) => m['type'] === 'still-works');
  });
});
