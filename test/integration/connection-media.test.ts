import nodeDataChannel from 'node-datachannel';
import { describe, expect, it } from 'vitest';
import {
  SmallWebRTCConnection,
  type InputTrack,
  type OutboundTrack,
  type RtpSink,
} from '../../src/connection/index.js';
import { isRtcpPacket } from '../../src/media/rtp.js';
import { PipecatLikeClient } from '../../testkit/pipecat-like-client.js';
import { until } from '../../testkit/wait.js';
import { buildRtcpRr, rtpTo } from '../../testkit/rtp.js';
import { closeLiveAfterEach, connectedPair, newPair } from '../helpers/connection-pair.js';

closeLiveAfterEach();

/** A connected pair whose connection also saw the client's pings (isConnected()). */
async function pingedPair(): Promise<{ conn: SmallWebRTCConnection; off: PipecatLikeClient }> {
  const { conn, off } = await connectedPair();
  await until(() => conn.isConnected(), 5000, 'isConnected');
  return { conn, off };
}

/** A test OutboundTrack that records its sink. */
class RecordingOutbound implements OutboundTrack {
  sink: RtpSink | null = null;
  binds = 0;
  unbinds = 0;
  constructor(readonly kind: 'audio' | 'video') {}
  bind(sink: RtpSink): void {
    this.sink = sink;
    this.binds++;
  }
  unbind(): void {
    this.sink = null;
    this.unbinds++;
  }
}

function rtp(sink: RtpSink, seq: number, ts: number, payload: number[]): Uint8Array {
  return rtpTo(sink, { sequenceNumber: seq, timestamp: ts, payload: Uint8Array.from(payload) });
}

describe('SmallWebRTCConnection media', () => {
  it('delivers peer RTP to InputTrack.onRtp (not RTCP), nothing while unsubscribed, and fires track-started', async () => {
    const { conn, off } = await pingedPair();
    const started: InputTrack[] = [];
    conn.on('track-started', (_c, t) => {
      started.push(t);
    });
    const audio = conn.audioInputTrack() as InputTrack;
    expect(audio).not.toBeNull();
    // Packets sent while nobody subscribed are dropped, not buffered.
    for (let i = 0; i < 3; i++)
      off.sendRtp('audio', { seq: i, timestamp: i * 960, payload: new Uint8Array([0xf8]) });
    await until(() => started.length === 1, 5000, 'track-started');
    expect(started[0]).toBe(audio);
    const got: Array<{ seq: number; ssrc: number; arrival: number }> = [];
    const unsubscribe = audio.onRtp((p, arrivalMs) => {
      expect(isRtcpPacket(p)).toBe(false);
      got.push({ seq: p.readUInt16BE(2), ssrc: p.readUInt32BE(8), arrival: arrivalMs });
    });
    await new Promise((r) => setTimeout(r, 200));
    expect(got).toHaveLength(0); // nothing replayed from before the subscription
    for (let i = 3; i < 13; i++)
      off.sendRtp('audio', { seq: i, timestamp: i * 960, payload: new Uint8Array([0xf8, i]) });
    await until(() => got.length === 10, 5000, 'RTP at the server');
    expect(got.map((g) => g.seq)).toEqual([3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    expect(got.every((g) => g.ssrc === off.ssrcs.audio)).toBe(true);
    expect(got.every((g) => Number.isFinite(g.arrival) && g.arrival > 0)).toBe(true);
    unsubscribe();
    off.sendRtp('audio', { seq: 13, timestamp: 13 * 960, payload: new Uint8Array([0xf8]) });
    await new Promise((r) => setTimeout(r, 200));
    expect(got).toHaveLength(10);
    expect(started).toHaveLength(1);
  });

  it('sends our RTP through the RtpSink bound by replaceAudioTrack, and routes the peer RTCP to onRtcp', async () => {
    const { conn, off } = await newPair();
    const out = new RecordingOutbound('audio');
    conn.replaceAudioTrack(out); // before initialize: bound once the sender exists
    await conn.initialize(off.offer);
    expect(out.binds).toBe(1);
    const sink = out.sink as RtpSink;
    expect(sink.payloadType).toBe(111);
    expect(sink.clockRate).toBe(48000);
    expect(sink.mid).toBe('0');
    expect(sink.midExtensionId).toBe(4);
    expect(conn.getAnswer()?.sdp).toContain(`a=ssrc:${sink.ssrc} cname:`);
    expect(sink.send(rtp(sink, 0, 0, [1]))).toBe(false); // not connected yet
    off.setAnswer(conn.getAnswer() as { sdp: string });
    await off.waitConnected();
    const atPeer: Buffer[] = [];
    off.onRtp('audio', (b) => atPeer.push(b));
    let sent = 0;
    for (let i = 1; i <= 20; i++) if (sink.send(rtp(sink, i, i * 960, [0xf8, 0xff, 0xfe]))) sent++;
    expect(sent).toBe(20);
    await until(() => atPeer.length === 20, 5000, 'RTP at the peer');
    expect(atPeer[0]?.readUInt32BE(8)).toBe(sink.ssrc);
    expect(atPeer.map((b) => b.readUInt16BE(2))).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    // RTCP from the peer on the audio transceiver reaches the sink's onRtcp (built by hand: an RR).
    const rtcp: Buffer[] = [];
    sink.onRtcp((b) => rtcp.push(b));
    off.tracks.audio.sendMessageBinary(Buffer.from(buildRtcpRr({ senderSsrc: off.ssrcs.audio })));
    await until(() => rtcp.length >= 1, 5000, 'RTCP at the sink');
    expect(rtcp[0]?.[1]).toBe(201);
    // Replacing unbinds the old track and binds the new one; a wrong kind is a TypeError.
    const out2 = new RecordingOutbound('audio');
    conn.replaceAudioTrack(out2);
    expect(out.unbinds).toBe(1);
    expect(out2.sink?.ssrc).toBe(sink.ssrc);
    expect(() => conn.replaceAudioTrack(new RecordingOutbound('video'))).toThrow(TypeError);
    expect(() => conn.replaceVideoTrack({} as OutboundTrack)).toThrow(TypeError);
    await conn.close();
    expect(out2.unbinds).toBe(1);
    expect(sink.send(rtp(sink, 99, 0, [1]))).toBe(false);
  });

  it('requestKeyframe() sends a 12-byte PLI with the peer SSRC to the peer; trackStatus toggles enabled', async () => {
    const { conn, off } = await pingedPair();
    const video = conn.videoInputTrack() as InputTrack;
    const screen = conn.screenVideoInputTrack() as InputTrack;
    expect(video.kind).toBe('video');
    expect(video.codecs.map((c) => c.name)).toEqual(['VP8', 'H264']);
    video.requestKeyframe(); // no remote SSRC yet: a no-op, not an error
    const plis: Buffer[] = [];
    off.onRtcp('video', (b) => {
      if (b[1] === 206 && (b[0]! & 0x1f) === 1) plis.push(b);
    });
    off.sendRtp('video', { seq: 1, timestamp: 0, payload: new Uint8Array([0x10, 0, 0]) });
    await until(
      () => (video as unknown as { remoteSsrc: number | null }).remoteSsrc !== null,
      5000,
      'video RTP',
    );
    video.requestKeyframe();
    await until(() => plis.length >= 1, 5000, 'PLI at the peer');
    expect(plis[0]?.length).toBe(12);
    expect(plis[0]?.readUInt32BE(8)).toBe(off.ssrcs.video);
    conn.audioInputTrack()?.requestKeyframe(); // audio: no-op

    // trackStatus: the offerer sent enabled=false for index 2 on open, then toggles.
    await until(() => screen.enabled === false, 5000, 'screen disabled');
    expect(video.enabled).toBe(true);
    const changes: boolean[] = [];
    video.onEnabledChanged((e) => changes.push(e));
    off.sendTrackStatus(1, false);
    await until(() => video.enabled === false, 5000, 'camera disabled');
    off.sendTrackStatus(1, true);
    await until(() => video.enabled === true, 5000, 'camera enabled');
    expect(changes).toEqual([false, true]);
    off.sendTrackStatus(7, true); // unknown index: ignored
    off.sendTrackStatus(2, true);
    await until(() => screen.enabled, 5000, 'screen enabled');
  });

  it('fires track-ended for started input tracks when the connection closes', async () => {
    const { conn, off } = await pingedPair();
    const ended: InputTrack[] = [];
    conn.on('track-ended', (_c, t) => {
      ended.push(t);
    });
    const audio = conn.audioInputTrack() as InputTrack;
    off.sendRtp('audio', { seq: 1, timestamp: 960, payload: new Uint8Array([0xf8]) });
    await until(() => (audio as unknown as { started: boolean }).started, 5000, 'audio started');
    await conn.close();
    expect(ended).toEqual([audio]); // video/screen never started: no track-ended for them
  });

  it('accepts a re-offer that adds a new m-line and receives RTP on it', async () => {
    const { conn, off } = await pingedPair();
    // The offerer adds a fourth media transceiver (audio, sendonly) and re-offers on the same PC.
    const extra = new nodeDataChannel.Audio('4', 'SendOnly');
    extra.addOpusCodec(111);
    const extraSsrc = 424242;
    extra.addSSRC(extraSsrc, 'clientcname', 'extra-stream', 'extra');
    const extraTrack = off.pc.addTrack(extra);
    const offer = await off.reoffer();
    expect(offer.sdp).toContain('a=mid:4');
    await conn.renegotiate(offer);
    const answer = conn.getAnswer()?.sdp ?? '';
    expect(answer).toContain('a=mid:4');
    off.setAnswer({ sdp: answer });
    await off.waitUntil(() => off.pc.signalingState() === 'stable', 5000, 'stable');
    await off.waitUntil(() => extraTrack.isOpen(), 5000, 'extra track open');
    // It is transceiver index 3 (after audio, camera, screen): not one of Pipecat's three, so no accessor,
    // but the original tracks keep working.
    const got: number[] = [];
    conn.audioInputTrack()?.onRtp((p) => got.push(p.readUInt16BE(2)));
    off.sendRtp('audio', { seq: 77, timestamp: 0, payload: new Uint8Array([0xf8]) });
    await until(() => got.includes(77), 5000, 'audio RTP after adding an m-line');
  });
});
