// Camera video into the pipeline over a real node-datachannel peer: the Pipecat-like client sends VP8 RTP
// (our own encoder and packetizer) on transceiver 1; the transport pushes UserImageRawFrames (pc_id, RGB,
// 'camera') of what was sent, and asks for a keyframe with a real RTCP PLI when the stream cannot be decoded.
import { afterAll, describe, expect, it } from 'vitest';

import { OutputImageRawFrame, TransportParams, UserImageRawFrame } from '../../src/index.js';
import { parseRtcp } from '../../src/media/rtp.js';
import { convertImage, type VideoImage } from '../../src/media/video-frame.js';
import { Vp8Decoder, Vp8Encoder } from '../../src/media/vp8-codec.js';
import { Vp8Depacketizer } from '../../src/media/vp8-depacketizer.js';
import { Vp8Packetizer } from '../../src/media/vp8-packetizer.js';
import { until } from '../../testkit/wait.js';
import { startSession, type Session } from '../helpers/transport-session.js';

function testImage(width: number, height: number, frame: number): VideoImage {
  const data = new Uint8Array(width * height * 3);
  const sx = (frame * 8) % (width - width / 5);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      const sq = x >= sx && x < sx + width / 5 && y >= height / 3 && y < height / 3 + height / 5;
      data[i] = sq ? 230 : (255 * x) / width;
      data[i + 1] = sq ? 40 : (255 * y) / height;
      data[i + 2] = sq ? 60 : 128 + 64 * Math.sin(x * 0.02);
    }
  }
  return { data, width, height, format: 'RGB' };
}

function psnr(a: Uint8Array, b: Uint8Array): number {
  let se = 0;
  for (let i = 0; i < a.length; i++) se += (a[i]! - b[i]!) ** 2;
  return se === 0 ? 99 : 10 * Math.log10((255 * 255 * a.length) / se);
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
});
