// VideoSender -> VideoReceiver with encode and decode on native worker threads: pictures arrive (PSNR),
// decimation and downscaling happen before conversion, keyframe requests travel as real RTCP, a busy
// encoder replaces waiting frames instead of queueing them, close() stops every callback.
import { describe, expect, it } from 'vitest';
import { parseRtcp } from '../../src/media/rtp.js';
import { convertImage, type VideoImage } from '../../src/media/video-frame.js';
import { VideoReceiver, type DecodedVideoFrame } from '../../src/media/video-receiver.js';
import { VideoSender, type EncodedVideoPackets } from '../../src/media/video-sender.js';
import { until } from '../../testkit/wait.js';
import { psnr, testImage } from '../../testkit/video-image.js';

describe('VideoSender -> VideoReceiver on worker threads', () => {
  it('delivers decoded pictures of what was sent (PSNR), frame by frame', async () => {
    const images: DecodedVideoFrame[] = [];
    const rx = new VideoReceiver({ payloadType: 96, onFrame: (f) => images.push(f) });
    const sent: EncodedVideoPackets[] = [];
    const tx = new VideoSender({
      width: 320,
      height: 240,
      ssrc: 42,
      payloadType: 96,
      bitrate: 800_000,
      onPackets: (p) => {
        sent.push(p);
        for (const pk of p.packets) rx.push(pk, p.timestamp / 90);
      },
    });
    const sources: VideoImage[] = [];
    for (let i = 0; i < 8; i++) {
      sources.push(testImage(320, 240, i));
      tx.send(sources[i]!, i * 33);
      // One frame at a time: latest-wins would replace a frame still waiting.
      await until(() => images.length === i + 1, 10_000, `picture ${i}`);
    }
    expect(sent[0]!.keyframe).toBe(true);
    expect(sent.slice(1).every((s) => !s.keyframe)).toBe(true);
    for (const [i, f] of images.entries()) {
      expect(f.image).toMatchObject({ width: 320, height: 240, format: 'RGB' });
      expect(f.timestamp).toBe(sent[i]!.timestamp);
      expect(psnr(sources[i]!.data, f.image.data)).toBeGreaterThan(28);
      expect(f.decodeUs).toBeGreaterThan(0);
    }
    // RTP timestamps follow the caller's clock at 90 kHz.
    expect(sent[1]!.timestamp - sent[0]!.timestamp).toBe(33 * 90);
    expect(rx.stats()).toMatchObject({ frames: 8, keyframes: 1, malformed: 0 });
    expect(rx.workerStats().jobs.completed).toBe(8);
    tx.close();
    rx.close();
  });

  it('converts only the frames `fps` asks for, downscaled first, and a snapshot on request', async () => {
    const images: DecodedVideoFrame[] = [];
    const rx = new VideoReceiver({ onFrame: (f) => images.push(f), fps: 10, maxWidth: 160, format: 'BGRA' });
    let frames = 0;
    const tx = new VideoSender({
      width: 640,
      height: 480,
      ssrc: 7,
      payloadType: 96,
      onPackets: (p) => {
        frames++;
        for (const pk of p.packets) rx.push(pk, 0);
      },
    });
    // 30 frames at 30 fps (1 s of RTP time) -> 10 pictures; then one snapshot mid-interval.
    for (let i = 0; i < 30; i++) {
      tx.send(testImage(640, 480, i), (i * 1000) / 30);
      await until(() => frames === i + 1 && rx.workerStats().jobs.depth === 0, 10_000, `frame ${i}`);
    }
    await until(() => rx.workerStats().jobs.completed === 30, 10_000, 'all decoded');
    expect(images).toHaveLength(10);
    expect(images[0]!.image).toMatchObject({ width: 160, height: 120, format: 'BGRA' });
    expect(images[0]!.image.data.length).toBe(160 * 120 * 4);
    rx.requestImage();
    tx.send(testImage(640, 480, 30), 1000 + 1);
    await until(() => images.length === 11, 10_000, 'snapshot');
    rx.setOutput({ fps: 0, format: 'RGB', maxWidth: 0 });
    tx.send(testImage(640, 480, 31), 1000 + 34);
    await until(() => images.length === 12, 10_000, 'full-size picture');
    expect(images[11]!.image).toMatchObject({ width: 640, height: 480, format: 'RGB' });
    tx.close();
    rx.close();
  });

  it('a lost frame -> PLI from the receiver -> keyframe from the sender -> pictures again', async () => {
    const images: DecodedVideoFrame[] = [];
    const rx = new VideoReceiver({ payloadType: 96, maxWaitMs: 30, onFrame: (f) => images.push(f) });
    const keyframes: number[] = [];
    let drop = false;
    let delivered = 0;
    const tx = new VideoSender({
      width: 160,
      height: 120,
      ssrc: 99,
      payloadType: 96,
      minKeyframeIntervalMs: 0,
      onPackets: (p) => {
        if (p.keyframe) keyframes.push(p.timestamp);
        delivered++;
        if (drop) {
          drop = false;
          return; // the whole frame is lost
        }
        for (const pk of p.packets) rx.push(pk, p.timestamp / 90);
      },
    });
    let now = 0;
    const step = async (i: number): Promise<void> => {
      tx.send(testImage(160, 120, i), now);
      await until(() => delivered === i + 1, 10_000, `frame ${i}`);
      rx.poll(now);
      const rtcp = rx.feedback(now, 1);
      if (rtcp !== null) {
        expect(parseRtcp(rtcp)[0]).toMatchObject({ kind: 'pli', mediaSsrc: 99 });
        expect(tx.onRtcp(rtcp).keyframeRequested).toBe(true);
      }
      now += 33;
    };
    for (let i = 0; i < 3; i++) await step(i);
    drop = true;
    for (let i = 3; i < 10; i++) await step(i);
    await until(() => rx.workerStats().jobs.depth === 0, 10_000, 'decoder idle');
    expect(keyframes).toHaveLength(2);
    expect(tx.stats()).toMatchObject({ plis: 1, keyframesRequested: 1 });
    expect(rx.stats()).toMatchObject({ plis: 1, waitingForKeyframe: false, gapsLost: 1 });
    // Pictures before the loss, none of the undecodable delta frames, then from the new keyframe on.
    const after = images.filter((f) => f.timestamp >= keyframes[1]!);
    expect(after.length).toBeGreaterThan(0);
    expect(images.length).toBe(3 + after.length);
    tx.close();
    rx.close();
  });

  it('a busy encoder replaces the waiting frame (latest wins); REMB moves the bitrate within the cap', async () => {
    const results: EncodedVideoPackets[] = [];
    const tx = new VideoSender({
      width: 1280,
      height: 720,
      ssrc: 5,
      payloadType: 96,
      bitrate: 2_000_000,
      maxBitrate: 2_000_000,
      onPackets: (p) => results.push(p),
    });
    const img = convertImage(testImage(640, 360, 0), 'I420');
    for (let i = 0; i < 20; i++) tx.send(img, i); // far faster than 720p encodes
    await until(
      () => {
        const jobs = tx.workerStats().jobs;
        return jobs.completed + jobs.dropped === 20 && results.length === jobs.completed;
      },
      20_000,
      'every frame encoded or replaced',
    );
    expect(results.length).toBeLessThan(20);
    expect(tx.stats().framesReplaced).toBe(tx.workerStats().jobs.dropped);
    expect(tx.workerStats().jobs.maxDepth).toBe(1);
    // REMB (PSFB FMT 15) at 500 kbit/s for our SSRC, then one above the cap.
    const remb = (bps: number): Uint8Array => {
      let exp = 0;
      while (bps >> exp > 0x3ffff) exp++;
      const m = bps >> exp;
      return Uint8Array.from([0x8f, 206, 0, 5, 0, 0, 0, 1, 0, 0, 0, 0, 82, 69, 77, 66, 1, (exp << 2) | (m >> 16), (m >> 8) & 255, m & 255, 0, 0, 0, 5]);
    };
    expect(tx.onRtcp(remb(500_000)).rembBps).toBeGreaterThan(490_000);
    expect(tx.stats().targetBitrate).toBeGreaterThan(490_000);
    expect(tx.stats().targetBitrate).toBeLessThanOrEqual(500_000);
    tx.onRtcp(remb(9_000_000));
    expect(tx.stats().targetBitrate).toBe(2_000_000);
    tx.close();
  });

  it('close() drops waiting work and no callback comes after it; bad input is a typed error', async () => {
    let calls = 0;
    const tx = new VideoSender({ width: 640, height: 480, ssrc: 1, payloadType: 96, onPackets: () => calls++ });
    const rx = new VideoReceiver({ onFrame: () => calls++ });
    tx.send(testImage(640, 480, 0), 0);
    tx.close();
    rx.close();
    const at = calls;
    await new Promise((r) => setTimeout(r, 300));
    expect(calls).toBe(at);
    expect(() => tx.send(testImage(640, 480, 0), 1)).toThrow(expect.objectContaining({ code: 'ERR_CLOSED' }));
    expect(() => rx.push(new Uint8Array(20), 0)).toThrow(expect.objectContaining({ code: 'ERR_CLOSED' }));
    const rx2 = new VideoReceiver({ onFrame: () => undefined });
    expect(() => rx2.push(Uint8Array.from([0x80, 96, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0x90]), 0)).toThrow(
      expect.objectContaining({ code: 'ERR_VP8_MALFORMED', reason: 'truncated-descriptor' }),
    );
    const tx2 = new VideoSender({ width: 64, height: 64, ssrc: 1, payloadType: 96, onPackets: () => undefined });
    expect(() => tx2.send({ data: new Uint8Array(5), width: 64, height: 64, format: 'RGB' }, 0)).toThrow(
      /must hold 12288 bytes for 64x64 RGB/,
    );
    rx2.close();
    tx2.close();
  });
});
