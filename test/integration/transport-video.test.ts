// Camera video into the pipeline over a real node-datachannel peer: the Pipecat-like client sends VP8 RTP
// (our own encoder and packetizer) on transceiver 1; the transport pushes UserImageRawFrames (pc_id, RGB,
// 'camera') of what was sent, and asks for a keyframe with a real RTCP PLI when the stream cannot be decoded.
import { afterAll, describe, expect, it } from 'vitest';

import {
  FrameDirection,
  OutputAudioRawFrame,
  OutputImageRawFrame,
  TransportParams,
  UserImageRawFrame,
  UserImageRequestFrame,
} from '../../src/index.js';
import { parseRtcp } from '../../src/media/rtp.js';
import { convertImage, type VideoImage } from '../../src/media/video-frame.js';
import { Vp8Decoder, Vp8Encoder } from '../../src/media/vp8-codec.js';
import { Vp8Depacketizer } from '../../src/media/vp8-depacketizer.js';
import { Vp8Packetizer } from '../../src/media/vp8-packetizer.js';
import { until } from '../../testkit/wait.js';
import { startSession, type Session } from '../helpers/transport-session.js';
import { sleep } from '../../testkit/wait.js';
import { psnr, testImage } from '../../testkit/video-image.js';

/**
 * The client's camera (or screen) as a real VP8 sender: our encoder and packetizer, 30 fps in RTP time,
 * paced every `paceMs`; a PLI from the server is answered with a keyframe on the next frame.
 */
class PeerCamera {
  readonly plis: number[] = [];
  readonly sentAt = new Map<number, number>(); // RTP timestamp -> frame index
  readonly #enc: Vp8Encoder;
  readonly #pk: Vp8Packetizer;
  #i = 0;
  #answered = 0;

  constructor(
    readonly s: Session,
    readonly kind: 'video' | 'screen',
    readonly width = 320,
    readonly height = 240,
  ) {
    this.#enc = new Vp8Encoder({ width, height, bitrate: 800_000 });
    this.#pk = new Vp8Packetizer({ ssrc: s.off.ssrcs[kind], payloadType: 96, initialSequence: 1000 });
    s.off.onRtcp(kind, (b) => {
      for (const p of parseRtcp(b))
        if (p.kind === 'pli' && p.mediaSsrc === s.off.ssrcs[kind]) this.plis.push(performance.now());
    });
  }

  /** Frames sent so far. */
  get sent(): number {
    return this.#i;
  }

  async send(frames: number, paceMs = 33): Promise<void> {
    await until(() => this.s.off.tracks[this.kind]?.isOpen() === true, 10_000, `${this.kind} track open`);
    for (let n = 0; n < frames; n++, this.#i++) {
      const keyframe = this.plis.length > this.#answered;
      this.#answered = this.plis.length;
      const frame = this.#enc.encode(testImage(this.width, this.height, this.#i), keyframe)!;
      const ts = (this.#i * 3000) >>> 0;
      this.sentAt.set(ts, this.#i);
      for (const p of this.#pk.packetize(frame.data, ts))
        this.s.off.tracks[this.kind]!.sendMessageBinary(Buffer.from(p));
      await sleep(paceMs);
    }
  }

  close(): void {
    this.#enc.close();
    this.#pk.close();
  }
}

function imagesOf(s: Session, source: string): UserImageRawFrame[] {
  return s.tap.down.filter(
    (f): f is UserImageRawFrame =>
      f instanceof UserImageRawFrame && f.transportSource === source && f.request === undefined,
  );
}

function answersOf(s: Session): UserImageRawFrame[] {
  return s.tap.down.filter(
    (f): f is UserImageRawFrame => f instanceof UserImageRawFrame && f.request !== undefined,
  );
}

const sessions: Session[] = [];
afterAll(async () => {
  for (const s of sessions) await s.stop();
});

describe('SmallWebRTCTransport video input', () => {
  it('camera VP8 arrives as UserImageRawFrames; an undecodable start gets a PLI, then pictures flow', async () => {
    const s = await startSession(
      new TransportParams({ audioInEnabled: false, audioOutEnabled: false, videoInEnabled: true }),
    );
    sessions.push(s);
    const plis: number[] = [];
    s.off.onRtcp('video', (b) => {
      for (const p of parseRtcp(b))
        if (p.kind === 'pli' && p.mediaSsrc === s.off.ssrcs.video) plis.push(p.mediaSsrc);
    });
    const enc = new Vp8Encoder({ width: 320, height: 240, bitrate: 800_000 });
    const pk = new Vp8Packetizer({ ssrc: s.off.ssrcs.video, payloadType: 96, initialSequence: 1000 });
    const sources = new Map<number, VideoImage>();
    await until(() => s.off.tracks.video?.isOpen() === true, 10_000, 'camera track open');
    let answered = 0; // PLIs answered with a keyframe
    for (let i = 0; i < 60; i++) {
      const img = testImage(320, 240, i);
      const keyframe = plis.length > answered;
      answered = plis.length;
      const frame = enc.encode(img, keyframe)!;
      const ts = (i * 3000) >>> 0;
      sources.set(ts, img);
      const packets = pk.packetize(frame.data, ts);
      // The first keyframe is lost on the way: the receiver must ask for another one.
      if (i > 0) for (const p of packets) s.off.tracks.video!.sendMessageBinary(Buffer.from(p));
      await new Promise((r) => setTimeout(r, 33));
      if (s.transport.input().imagesPushed >= 3) break;
    }
    await until(
      () => s.tap.down.filter((f) => f instanceof UserImageRawFrame).length >= 3,
      10_000,
      'pictures',
    );
    expect(plis.length).toBeGreaterThanOrEqual(1);
    const images = s.tap.down.filter((f): f is UserImageRawFrame => f instanceof UserImageRawFrame);
    const first = images[0]!;
    expect(first.userId).toBe(s.conn.pcId);
    expect(first.transportSource).toBe('camera');
    expect(first.format).toBe('RGB');
    expect(first.size).toEqual([320, 240]);
    expect(first.image.length).toBe(320 * 240 * 3);
    // Each picture is the one sent: the best match among the sent frames is very close.
    const best = Math.max(...[...sources.values()].map((src) => psnr(src.data, first.image)));
    expect(best).toBeGreaterThan(28);
    expect(s.transport.input().videoTracks.map((t) => t.source)).toEqual(['camera', 'screenVideo']);
    enc.close();
    pk.close();
  });

  it('RTP under a payload type other than the negotiated VP8 is dropped before the depacketizer and counted', async () => {
    const s = await startSession(
      new TransportParams({ audioInEnabled: false, audioOutEnabled: false, videoInEnabled: true }),
    );
    sessions.push(s);
    const cam = new PeerCamera(s, 'video');
    const track = (): NonNullable<ReturnType<typeof s.transport.input>['videoTracks'][number]> =>
      s.transport.input().videoTracks.find((t) => t.source === 'camera')!;
    // The answer took VP8 96 (and H264 102, which we never decode); 100 was never negotiated.
    expect(track().input!.codecs.map((c) => c.payloadType)).toEqual([96, 102]);
    // Between the camera's frames, on the camera's SSRC: a second VP8 stream under payload type 100 (its
    // sequence numbers 29,000 away from the camera's, so read as the camera's it restarts the stream) and
    // garbage under the negotiated H264 payload type.
    const other = new Vp8Encoder({ width: 160, height: 120, bitrate: 300_000 });
    const otherPk = new Vp8Packetizer({ ssrc: s.off.ssrcs.video, payloadType: 100, initialSequence: 30_000 });
    const h264 = new Vp8Packetizer({ ssrc: s.off.ssrcs.video, payloadType: 102, initialSequence: 50_000 });
    let foreign = 0;
    const FRAMES = 30;
    for (let i = 0; i < FRAMES; i++) {
      await cam.send(1);
      const f = other.encode(testImage(160, 120, i), i % 10 === 0)!;
      const packets = [
        ...otherPk.packetize(f.data, (i * 3000 + 1500) >>> 0),
        ...h264.packetize(Uint8Array.of(0x7c, 0x85, 1, 2, 3, 4, 5, 6), (i * 3000 + 1500) >>> 0),
      ];
      for (const p of packets) s.off.tracks.video!.sendMessageBinary(Buffer.from(p));
      foreign += packets.length;
    }
    await until(() => track().receiverStats()!.frames >= FRAMES, 10_000, 'camera frames assembled');
    await until(() => track().payloadTypeDropped >= foreign, 5_000, 'foreign packets counted');
    const st = track().receiverStats()!;
    // Every camera frame came through; none of the foreign packets reached the depacketizer.
    expect(track().payloadTypeDropped).toBe(foreign);
    expect(track().malformed).toBe(0);
    expect(st.frames).toBe(FRAMES);
    expect(st.malformed).toBe(0);
    expect(st.framesDropped).toBe(0);
    expect(st.gapsLost).toBe(0);
    expect(cam.plis).toEqual([]);
    await until(() => imagesOf(s, 'camera').length >= 1, 5_000, 'pictures');
    for (const f of imagesOf(s, 'camera')) expect(f.size).toEqual([320, 240]);
    cam.close();
    other.close();
    otherPk.close();
    h264.close();
  });

  it('bot images go out as VP8 at videoOutFramerate, scaled to videoOutWidth x videoOutHeight', async () => {
    const s = await startSession(
      new TransportParams({
        audioInEnabled: false,
        audioOutEnabled: false,
        videoOutEnabled: true,
        videoOutWidth: 320,
        videoOutHeight: 240,
        videoOutFramerate: 15,
      }),
    );
    sessions.push(s);
    const dp = new Vp8Depacketizer();
    const dec = new Vp8Decoder();
    const decoded: Array<{ at: number; rgb: Uint8Array; width: number; height: number }> = [];
    s.off.onRtp('video', (b) => {
      try {
        if (dp.push(b, performance.now()) === 0) return;
      } catch {
        return; // not VP8 (e.g. padding) is not expected; the checks below would fail
      }
      for (let f = dp.pop(); f !== null; f = dp.pop()) {
        const size = dec.decode(f.data);
        if (size === null) continue;
        const img = dec.image({ format: 'RGB' });
        decoded.push({ at: performance.now(), rgb: img.data, ...size });
      }
    });
    // A 640x480 image (not the configured size): the track scales it.
    const big = testImage(640, 480, 3);
    await s.transport.sendImage(
      new OutputImageRawFrame({ image: big.data, size: [640, 480], format: 'RGB' }),
    );
    await until(() => decoded.length >= 8, 10_000, 'bot video frames');
    expect(decoded[0]).toMatchObject({ width: 320, height: 240 });
    // What went out is the image scaled to 320x240.
    const expected = convertImage(big, 'RGB', { width: 320, height: 240 });
    expect(psnr(expected.data, decoded[decoded.length - 1]!.rgb)).toBeGreaterThan(28);
    // Not live: the image is repeated at the frame rate (15 fps -> ~67 ms apart).
    const span = decoded[decoded.length - 1]!.at - decoded[0]!.at;
    expect(span / (decoded.length - 1)).toBeGreaterThan(40);
    const stats = s.transport.output().videoTrack?.stats;
    expect(stats?.framesOut).toBeGreaterThanOrEqual(8);
    expect(stats?.sendFailures).toBe(0);
    dp.close();
    dec.close();
  });
  it('videoIn { fps, maxWidth } decimates and downscales; captureParticipantVideo changes it mid-stream', async () => {
    const s = await startSession(
      new TransportParams({
        audioInEnabled: false,
        audioOutEnabled: false,
        videoInEnabled: true,
        videoIn: { fps: 10, maxWidth: 160 },
      }),
    );
    sessions.push(s);
    const cam = new PeerCamera(s, 'video');
    const track = (): NonNullable<ReturnType<typeof s.transport.input>['videoTracks'][number]> =>
      s.transport.input().videoTracks.find((t) => t.source === 'camera')!;
    // 90 frames of 30 fps RTP time (3 s) at 10 fps: about 30 pictures, every decoded frame counted.
    await cam.send(90);
    await until(() => track().receiverStats()!.frames >= 90, 10_000, 'frames assembled');
    await sleep(200);
    const decimated = imagesOf(s, 'camera');
    const framesBefore = track().receiverStats()!.frames;
    expect(framesBefore).toBe(90);
    // Counts, not time: 90 frames at 3000 ticks each are 3 s of RTP time, so 30 pictures at 10 fps; about a
    // third of any frames a loaded machine could not decode (queue overflow, see below) are pictures missing.
    const rs1 = track().receiverStats()!;
    const notDecoded1 = rs1.decodeQueueDropped + rs1.skippedUntilKeyframe;
    expect(decimated.length).toBeGreaterThanOrEqual(24 - Math.ceil(notDecoded1 / 3));
    expect(decimated.length).toBeLessThanOrEqual(32);
    for (const f of decimated) expect(f.size).toEqual([160, 120]);
    expect(decimated[0]!.image.length).toBe(160 * 120 * 3);

    // Every frame at the full size from the next frame on.
    s.transport.captureParticipantVideo('camera', { fps: 0, maxWidth: 0 });
    await cam.send(30);
    await until(() => track().receiverStats()!.frames >= 120, 10_000, 'frames assembled');
    await sleep(200);
    const full = imagesOf(s, 'camera').slice(decimated.length);
    // A busy thread may skip a picture (latest wins). A loaded machine may also overflow the decode queue:
    // the dropped frame and the delta frames after it, up to the keyframe our PLI brings, are then counted
    // instead of decoded (they would be corrupt).
    const rs = track().receiverStats()!;
    const notDecoded = rs.decodeQueueDropped + rs.skippedUntilKeyframe;
    expect(full.length + notDecoded).toBeGreaterThanOrEqual(24);
    expect(full.length).toBeGreaterThanOrEqual(5);
    expect(full.length).toBeLessThanOrEqual(30);
    for (const f of full) expect(f.size).toEqual([320, 240]);
    expect(() => s.transport.captureParticipantVideo('camera', { fps: -1 })).toThrow(/videoIn.fps/);
    expect(() => s.transport.captureParticipantVideo('webcam' as 'camera', { fps: 1 })).toThrow(
      /videoSource/,
    );
    cam.close();
  });

  it('UserImageRequestFrame: the next picture answers it; a keyframe is asked for after a pause or before the first packet', async () => {
    const s = await startSession(
      new TransportParams({
        audioInEnabled: false,
        audioOutEnabled: false,
        videoInEnabled: true,
        videoIn: { fps: 1 },
      }),
    );
    sessions.push(s);
    const cam = new PeerCamera(s, 'video');
    await cam.send(15);
    await until(() => imagesOf(s, 'camera').length >= 1, 10_000, 'first picture');
    const plisFlowing = cam.plis.length;

    // While the camera flows: answered by the next frame (fps 1 would have skipped it), no keyframe asked.
    const ask = new UserImageRequestFrame({
      userId: s.conn.pcId,
      text: 'what do you see?',
      appendToContext: true,
    });
    const askedAt = cam.sent;
    await s.tap.pushFrame(ask, FrameDirection.UPSTREAM);
    const sending = cam.send(10);
    await until(() => answersOf(s).length >= 1, 10_000, 'answer');
    await sending;
    const answer = answersOf(s)[0]!;
    expect(answer.request).toBe(ask);
    expect(answer.text).toBe('what do you see?');
    expect(answer.appendToContext).toBe(true);
    expect(answer.userId).toBe(s.conn.pcId);
    expect(answer.transportSource).toBe('camera');
    expect(answer.size).toEqual([320, 240]);
    // The picture is a frame sent around the request (the one in flight at most), not an old one.
    const scores = [...cam.sentAt.values()].map((i) => ({
      i,
      q: psnr(testImage(320, 240, i).data, answer.image),
    }));
    const bestFrame = scores.reduce((a, b) => (b.q > a.q ? b : a)).i;
    expect(bestFrame).toBeGreaterThanOrEqual(askedAt - 1);
    expect(cam.plis.length).toBe(plisFlowing);

    // A request for another user is not answered by this transport.
    await s.tap.pushFrame(new UserImageRequestFrame({ userId: 'someone-else' }), FrameDirection.UPSTREAM);

    // After a pause of the camera (no RTP for more than 1 s), a request asks for a keyframe at once.
    await sleep(1300);
    const plisBefore = cam.plis.length;
    const again = new UserImageRequestFrame({ userId: s.conn.pcId, videoSource: 'camera' });
    await s.tap.pushFrame(again, FrameDirection.UPSTREAM);
    await until(() => cam.plis.length > plisBefore, 5_000, 'PLI after the pause');
    await cam.send(5);
    await until(() => answersOf(s).length >= 2, 10_000, 'second answer');
    expect(answersOf(s)[1]!.request).toBe(again);
    expect(answersOf(s).some((f) => f.request?.userId === 'someone-else')).toBe(false);

    // The screen has sent nothing yet: the request asks for a keyframe at once, addressed to the SSRC the
    // offer announced for it (PeerCamera counts only PLIs naming that SSRC); a second request right after
    // is within the PLI spacing (500 ms) and sends none. The first screen picture answers them.
    const screen = new PeerCamera(s, 'screen', 160, 120);
    await until(() => s.off.tracks.screen?.isOpen() === true, 10_000, 'screen track open');
    const screenTrack = s.transport.input().videoTracks.find((t) => t.source === 'screenVideo')!;
    expect(screenTrack.input!.announcedSsrc).toBe(s.off.ssrcs.screen);
    await Promise.all([
      s.tap.pushFrame(
        new UserImageRequestFrame({ userId: s.conn.pcId, videoSource: 'screenVideo' }),
        FrameDirection.UPSTREAM,
      ),
      s.tap.pushFrame(
        new UserImageRequestFrame({ userId: s.conn.pcId, videoSource: 'screenVideo' }),
        FrameDirection.UPSTREAM,
      ),
    ]);
    await until(() => screen.plis.length >= 1, 5_000, 'PLI before the first screen packet');
    await sleep(200);
    expect(screen.plis.length).toBe(1);
    expect(screenTrack.receiverStats()!.packets).toBe(0);
    await screen.send(5);
    await until(() => answersOf(s).length >= 4, 10_000, 'screen answers');
    const shot = answersOf(s)[2]!;
    expect(shot.transportSource).toBe('screenVideo');
    expect(shot.size).toEqual([160, 120]);
    cam.close();
    screen.close();
  });
  it('videoOutIsLive: an image does not wait behind paced audio in the output queue', async () => {
    const s = await startSession(
      new TransportParams({
        audioInEnabled: false,
        audioOutEnabled: true,
        videoOutEnabled: true,
        videoOutIsLive: true,
        videoOutWidth: 160,
        videoOutHeight: 120,
      }),
    );
    sessions.push(s);
    await until(() => s.transport.output().videoTrack !== null, 10_000, 'video track');
    // 100 audio frames of 40 ms (4 s, written at real-time pace), then one image.
    const audio = Array.from(
      { length: 100 },
      () =>
        new OutputAudioRawFrame({
          audio: new Int16Array(24000 * 0.04),
          sampleRate: 24000,
          numChannels: 1,
        }),
    );
    const img = testImage(160, 120, 1);
    await s.task.queueFrames([
      ...audio,
      new OutputImageRawFrame({ image: img.data, size: [160, 120], format: 'RGB' }),
    ]);
    await until(() => (s.transport.output().videoTrack?.stats.framesSent ?? 0) >= 1, 10_000, 'image encoded');
    // Counted, not timed: the image reached the encoder while most of the audio was still to be written.
    expect(s.transport.output().stats.framesWritten).toBeLessThan(50);
  });
});
