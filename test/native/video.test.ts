// The VP8 video path through the public TS classes: encode -> packetize -> depacketize -> decode round trips
// checked by PSNR, loss handled by NACK or by PLI -> keyframe, corrupt packets as typed errors, colour
// conversion byte orders and scaling, bad arguments and closed objects.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseRtcp, parseRtp } from '../../src/media/rtp.js';
import { convertImage, imageBytes, type VideoImage } from '../../src/media/video-frame.js';
import { Vp8Decoder, Vp8Encoder } from '../../src/media/vp8-codec.js';
import { Vp8Depacketizer, type Vp8Frame } from '../../src/media/vp8-depacketizer.js';
import { Vp8Packetizer } from '../../src/media/vp8-packetizer.js';
import { VideoSenderFeedback } from '../../src/media/video-sender-feedback.js';

/** A smooth RGB test picture with a square that moves with `frame`. */
function testImage(width: number, height: number, frame: number): VideoImage {
  const data = new Uint8Array(width * height * 3);
  const sx = (frame * 8) % (width - width / 5);
  const sy = (frame * 4) % (height - height / 5);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      const sq = x >= sx && x < sx + width / 5 && y >= sy && y < sy + height / 5;
      data[i] = sq ? 230 : (255 * x) / width;
      data[i + 1] = sq ? 40 : (255 * y) / height;
      data[i + 2] = sq ? 60 : 128 + 64 * Math.sin(x * 0.02);
    }
  }
  return { data, width, height, format: 'RGB' };
}

function psnr(a: Uint8Array, b: Uint8Array): number {
  expect(a.length).toBe(b.length);
  let se = 0;
  for (let i = 0; i < a.length; i++) se += (a[i]! - b[i]!) ** 2;
  const mse = se / a.length;
  return mse === 0 ? 99 : 10 * Math.log10((255 * 255) / mse);
}

function drain(d: Vp8Depacketizer): Vp8Frame[] {
  const out: Vp8Frame[] = [];
  for (let f = d.pop(); f !== null; f = d.pop()) out.push(f);
  return out;
}

/** Deterministic shuffle (LCG) so a failure reproduces. */
function shuffle<T>(a: T[], seed: number): T[] {
  let s = seed;
  for (let i = a.length - 1; i > 0; i--) {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    const j = s % (i + 1);
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}

describe('VP8 video', () => {
  it('round trips 640x480 through packetizer, a reordering/duplicating network and the decoder (PSNR)', () => {
    const enc = new Vp8Encoder({ width: 640, height: 480, bitrate: 1_500_000 });
    const pk = new Vp8Packetizer({ ssrc: 0x1234, payloadType: 96, initialSequence: 65500, midExtension: { id: 3, mid: '1' } });
    const dp = new Vp8Depacketizer({ payloadType: 96 });
    const dec = new Vp8Decoder();
    let worst = 99;
    let decoded = 0;
    let pictureId = -1;
    for (let i = 0; i < 10; i++) {
      const src = testImage(640, 480, i);
      const frame = enc.encode(src);
      expect(frame).not.toBeNull();
      expect(frame!.keyframe).toBe(i === 0);
      const packets = pk.packetize(frame!.data, (i * 3000) >>> 0);
      for (const [n, p] of packets.entries()) {
        expect(p.length).toBeLessThanOrEqual(1200);
        expect(parseRtp(p).marker).toBe(n === packets.length - 1);
      }
      // Reordered within the frame, and every packet twice.
      for (const p of shuffle([...packets, ...packets], i + 1)) dp.push(p, i * 33);
      for (const f of drain(dp)) {
        expect(f.ssrc).toBe(0x1234);
        if (pictureId >= 0) expect(f.pictureId).toBe((pictureId + 1) & 0x7fff);
        pictureId = f.pictureId;
        expect(dec.decode(f.data)).toEqual({ width: 640, height: 480 });
        const img = dec.image({ format: 'RGB' });
        expect(img.format).toBe('RGB');
        worst = Math.min(worst, psnr(src.data, img.data));
        decoded++;
      }
    }
    expect(decoded).toBe(10);
    expect(worst).toBeGreaterThan(30);
    expect(dp.stats().duplicates).toBeGreaterThan(0);
    expect(dp.stats().keyframes).toBe(1);
  });

  it('NACKs a lost packet and completes the frame when the retransmission arrives', () => {
    const enc = new Vp8Encoder({ width: 320, height: 240 });
    const pk = new Vp8Packetizer({ ssrc: 77, payloadType: 96, mtu: 400 });
    const dp = new Vp8Depacketizer({ payloadType: 96, nack: true, maxWaitMs: 200 });
    const frames = [0, 1, 2].map((i) => pk.packetize(enc.encode(testImage(320, 240, i))!.data, i * 3000));
    expect(frames[1]!.length).toBeGreaterThan(1);
    const lost = frames[1]![0]!;
    for (const p of frames[0]!) dp.push(p, 0);
    for (const p of frames[1]!.slice(1)) dp.push(p, 33);
    for (const p of frames[2]!) dp.push(p, 66);
    expect(drain(dp)).toHaveLength(1);
    const fb = dp.feedback(70, 0xbeef);
    expect(fb).not.toBeNull();
    const [nack] = parseRtcp(fb!);
    expect(nack).toMatchObject({ kind: 'nack', senderSsrc: 0xbeef, mediaSsrc: 77 });
    expect(nack?.kind === 'nack' && nack.sequenceNumbers).toEqual([parseRtp(lost).sequenceNumber]);
    dp.push(lost, 90);
    expect(drain(dp).map((f) => f.timestamp)).toEqual([3000, 6000]);
    expect(dp.stats()).toMatchObject({ recovered: 1, plis: 0, gapsLost: 0 });
  });

  it('a loss it cannot repair ends in PLI -> keyframe on request -> decodable again', () => {
    const enc = new Vp8Encoder({ width: 320, height: 240 });
    const pk = new Vp8Packetizer({ ssrc: 5, payloadType: 96 });
    const dp = new Vp8Depacketizer({ payloadType: 96, maxWaitMs: 50 });
    const dec = new Vp8Decoder();
    const sender = new VideoSenderFeedback({ ssrc: 5 });
    let now = 0;
    let shown = 0;
    let sentKeyframes = 0;
    let dropNext = false;
    for (let i = 0; i < 20; i++, now += 33) {
      const keyframe = sender.takeKeyframeRequest(now);
      const f = enc.encode(testImage(320, 240, i), keyframe)!;
      if (f.keyframe) sentKeyframes++;
      const packets = pk.packetize(f.data, i * 3000);
      if (i === 5) dropNext = true;
      for (const p of packets) {
        if (dropNext) {
          dropNext = false; // frame 5 never arrives
          continue;
        }
        dp.push(p, now);
      }
      dp.poll(now);
      for (const fr of drain(dp)) {
        expect(dec.decode(fr.data)).not.toBeNull();
        shown++;
      }
      const rtcp = dp.feedback(now, 1);
      if (rtcp !== null) expect(sender.onRtcp(rtcp).keyframeRequested).toBe(true);
    }
    expect(sentKeyframes).toBe(2); // the first, and the one the PLI asked for
    expect(dp.stats().plis).toBe(1);
    expect(dp.stats().waitingForKeyframe).toBe(false);
    expect(shown).toBeGreaterThan(10);
    expect(sender.stats()).toMatchObject({ plis: 1, keyframesGranted: 1 });
  });

  it('refuses corrupt packets with ERR_VP8_MALFORMED and a stable reason, and keeps working', () => {
    const dp = new Vp8Depacketizer({ payloadType: 96 });
    const pk = new Vp8Packetizer({ ssrc: 1, payloadType: 96 });
    const enc = new Vp8Encoder({ width: 64, height: 64 });
    const [packet] = pk.packetize(enc.encode(testImage(64, 64, 0))!.data, 0);
    const hdr = parseRtp(packet!).headerSize;
    const cases: Array<[Uint8Array, string]> = [
      [packet!.subarray(0, hdr + 3), 'truncated-descriptor'],
      [packet!.subarray(0, hdr + 4), 'no-vp8-data'],
      [packet!.subarray(0, 8), 'not-rtp'],
      [Uint8Array.from(packet!, (b, i) => (i === hdr + 4 + 3 ? 0 : b)), 'bad-keyframe-start-code'],
      [Uint8Array.from(packet!, (b, i) => (i === 1 ? (b & 0x80) | 97 : b)), 'payload-type-mismatch'],
    ];
    for (const [bad, reason] of cases) {
      let err: unknown;
      try {
        dp.push(bad, 0);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(RangeError);
      expect(err).toMatchObject({ code: 'ERR_VP8_MALFORMED', reason });
    }
    expect(dp.stats().malformed).toBe(cases.length);
    expect(dp.push(packet!, 1)).toBe(1);
  });

  it('converts with the right byte orders and downscales before converting', () => {
    const red: VideoImage = { data: new Uint8Array(16 * 8 * 3), width: 16, height: 8, format: 'RGB' };
    for (let i = 0; i < red.data.length; i += 3) red.data[i] = 255;
    const bgra = convertImage(red, 'BGRA');
    expect([bgra.data[0]! < 15, bgra.data[2]! > 240, bgra.data[3]]).toEqual([true, true, 255]);
    const rgba = convertImage(red, 'RGBA');
    expect([rgba.data[0]! > 240, rgba.data[2]! < 15]).toEqual([true, true]);
    const i420 = convertImage(red, 'I420', { width: 8, height: 4 });
    expect(i420.data.length).toBe(imageBytes('I420', 8, 4));
    const back = convertImage(i420, 'RGB');
    expect(back.data[0]).toBeGreaterThan(240);

    const enc = new Vp8Encoder({ width: 640, height: 360 });
    const dec = new Vp8Decoder();
    // A 1280x720 RGBA input is scaled to the encoder's 640x360; the decoded picture is read at 160 wide.
    const big = convertImage(testImage(1280, 720, 0), 'RGBA');
    dec.decode(enc.encode(big)!.data);
    const small = dec.image({ format: 'RGB', maxWidth: 160 });
    expect([small.width, small.height, small.data.length]).toEqual([160, 90, 160 * 90 * 3]);
    const ref = convertImage(testImage(1280, 720, 0), 'RGB', { width: 160, height: 90 });
    expect(psnr(ref.data, small.data)).toBeGreaterThan(25);
    // Into a recycled buffer: the same bytes; a buffer of the wrong length is refused.
    const into = Buffer.alloc(160 * 90 * 3);
    const again = dec.image({ format: 'RGB', maxWidth: 160, into });
    expect(again.data).toBe(into);
    expect(Buffer.compare(into, small.data)).toBe(0);
    expect(() => dec.image({ format: 'RGB', into })).toThrow(/into must hold 691200 bytes/);
  });

  it('keyframes on demand and a runtime bitrate change', () => {
    // Noise: every frame costs whatever the rate control allows (up to the coarsest quantizer), so the
    // bytes follow the target.
    const enc = new Vp8Encoder({ width: 320, height: 240, bitrate: 1_000_000, maxQuantizer: 63 });
    let seed = 1;
    const noise = (): VideoImage => {
      const data = new Uint8Array(320 * 240 * 3);
      for (let i = 0; i < data.length; i++) data[i] = (seed = (seed * 1103515245 + 12345) & 0x7fffffff) >> 23;
      return { data, width: 320, height: 240, format: 'RGB' };
    };
    /** Bits of `n` frames (1 s at 30 fps) after `skip` frames for the rate control to settle. */
    const bits = (skip: number, n: number): number => {
      for (let i = 0; i < skip; i++) enc.encode(noise());
      let total = 0;
      for (let i = 0; i < n; i++) total += enc.encode(noise())!.data.length * 8;
      return total;
    };
    expect(enc.encode(testImage(320, 240, 0))!.keyframe).toBe(true);
    expect(enc.encode(testImage(320, 240, 1))!.keyframe).toBe(false);
    expect(enc.encode(testImage(320, 240, 2), true)!.keyframe).toBe(true);
    const high = bits(15, 30);
    enc.setBitrate(100_000);
    expect(enc.bitrate).toBe(100_000);
    const low = bits(15, 30);
    expect(high).toBeGreaterThan(600_000);
    expect(low).toBeLessThan(high / 3);
  });

  it('refuses a keyframe announcing a picture above 4096x4096 pixels before libvpx allocates for it', () => {
    // The picture size is the peer's word: a 2 KB keyframe claiming 16383x16383 made libvpx allocate for it
    // (RSS +851 MiB, even though the decode then failed). Now it is refused first, and costs nothing.
    const enc = new Vp8Encoder({ width: 64, height: 48, fps: 30, bitrate: 300_000 });
    const key = enc.encode(testImage(64, 48, 0), true);
    enc.close();
    expect(key?.keyframe).toBe(true);
    const big = Buffer.from(key!.data);
    big.writeUInt16LE(16383, 6); // 14-bit width, scale 0
    big.writeUInt16LE(16383, 8);
    const rssMiB = (): number => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1]) / 1024;
    const dec = new Vp8Decoder();
    const before = rssMiB();
    expect(() => dec.decode(big)).toThrow(
      expect.objectContaining({ code: 'ERR_CODEC', message: expect.stringMatching(/exceeds the decode limit/) }),
    );
    expect(rssMiB() - before).toBeLessThan(100);
    // The real keyframe still decodes on the same decoder.
    expect(dec.decode(key!.data)).toMatchObject({ width: 64, height: 48 });
    dec.close();
  });

  it('rejects bad arguments with typed errors and throws ERR_CLOSED after close()', () => {
    expect(() => new Vp8Encoder({ width: 1, height: 240 })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG' }));
    const enc = new Vp8Encoder({ width: 32, height: 32 });
    const wrong = { data: new Uint8Array(10), width: 32, height: 32, format: 'RGB' as const };
    expect(() => enc.encode(wrong)).toThrow(/must hold 3072 bytes for 32x32 RGB/);
    expect(() => enc.encode({ ...wrong, format: 'YUV' as never })).toThrow(RangeError);
    expect(() => new Vp8Packetizer({ ssrc: 1, payloadType: 128 })).toThrow(RangeError);
    expect(() => new Vp8Depacketizer({ maxWaitMs: 0 })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG' }));
    const dec = new Vp8Decoder();
    expect(() => dec.image()).toThrow(expect.objectContaining({ code: 'ERR_INVALID_STATE' }));
    expect(() => dec.decode(new Uint8Array([0, 0, 0, 0x9d, 1, 0x2a, 16, 0, 16, 0, 1, 2]))).toThrow(
      expect.objectContaining({ code: 'ERR_CODEC' }),
    );
    expect(() => dec.decode(new Uint8Array(0))).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG' }));
    for (const o of [enc, dec, new Vp8Depacketizer(), new Vp8Packetizer({ ssrc: 1, payloadType: 96 })]) {
      o.close();
      o.close();
    }
    expect(() => enc.encode(testImage(32, 32, 0))).toThrow(expect.objectContaining({ code: 'ERR_CLOSED' }));
    expect(() => dec.decode(new Uint8Array(1))).toThrow(expect.objectContaining({ code: 'ERR_CLOSED' }));
  });
});
