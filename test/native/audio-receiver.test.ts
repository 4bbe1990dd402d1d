// AudioReceiver end to end: a known tone goes through our AudioSender (resample -> Opus -> RTP) and our
// AudioReceiver (jitter buffer -> decode -> resample -> exact frames) at every rate pair and channel layout,
// and comes out at the right frequency and level; plus framing, options and bad input.
import { describe, expect, it } from 'vitest';
import { AudioReceiver, type AudioFrame } from '../../src/media/audio-receiver.js';
import { AudioSender } from '../../src/media/audio-sender.js';
import { buildRtp, buildRtcpPli } from '../../src/media/rtp.js';
import { CHANNEL_PAIRS, channel, concat, goertzel, opusTone, packetize, prng, rms, sine, zeroCrossingFrequency } from '../../testkit/audio.js';
import { expectCoded } from '../../testkit/errors.js';

const RATES = [8000, 16000, 24000, 44100, 48000] as const;
const TONE_HZ = 1000;
const AMPLITUDE = 10000;

/** Sends `seconds` of a tone through AudioSender -> AudioReceiver on a simulated 20 ms clock. */
function loop(
  inRate: number,
  inCh: 1 | 2,
  outRate: number,
  outCh: 1 | 2,
  opts: { decodeAtTargetRate?: boolean; encodeChannels?: 1 | 2; frameMs?: 10 | 20; seconds?: number } = {},
): { frames: AudioFrame[]; rx: AudioReceiver } {
  const seconds = opts.seconds ?? 1;
  const tx = new AudioSender({
    sampleRate: inRate,
    channels: inCh,
    ssrc: 42,
    payloadType: 111,
    bitrate: 64000,
    encodeChannels: opts.encodeChannels ?? 1,
  });
  const rx = new AudioReceiver({
    sampleRate: outRate,
    channels: outCh,
    frameMs: opts.frameMs ?? 20,
    ...(opts.decodeAtTargetRate === undefined ? {} : { decodeAtTargetRate: opts.decodeAtTargetRate }),
  });
  const pcm = sine(inRate, inCh, TONE_HZ, seconds, AMPLITUDE);
  expect(tx.write(pcm)).toBe(pcm.length);
  const frames: AudioFrame[] = [];
  for (let t = 0; t < seconds * 1000; t += 20) {
    for (const p of tx.pull(t)) frames.push(...rx.push(p, t + 1));
  }
  tx.close();
  return { frames, rx };
}

function checkTone(frames: AudioFrame[], outRate: number, outCh: number, frameMs = 20): void {
  expect(frames.length).toBeGreaterThan(0);
  for (const f of frames) {
    expect(f.sampleRate).toBe(outRate);
    expect(f.numChannels).toBe(outCh);
    expect(f.numFrames).toBe((outRate * frameMs) / 1000);
    expect(f.audio.length).toBe(f.numFrames * outCh);
  }
  // Skip codec/filter start-up (100 ms) and the last 40 ms.
  const pcm = concat(frames.map((f) => f.audio));
  const start = Math.round(outRate * 0.1);
  const end = Math.floor(pcm.length / outCh) - Math.round(outRate * 0.04);
  for (let c = 0; c < outCh; c++) {
    const x = channel(pcm, outCh, c).subarray(start, end);
    const f = zeroCrossingFrequency(x, outRate);
    expect(Math.abs(f - TONE_HZ)).toBeLessThan(TONE_HZ * 0.01);
    const level = 20 * Math.log10(rms(x) / (AMPLITUDE / Math.SQRT2));
    expect(level).toBeGreaterThan(-3);
    expect(level).toBeLessThan(1);
    // The energy is at the tone, not at a wrong rate's alias (e.g. 2x or 0.5x from a rate/channel mix-up).
    const at = goertzel(x, outRate, TONE_HZ);
    expect(at).toBeGreaterThan(50 * goertzel(x, outRate, TONE_HZ * 2));
    expect(at).toBeGreaterThan(50 * goertzel(x, outRate, TONE_HZ / 2));
  }
}

describe('AudioReceiver: tone through sender and receiver at every rate pair', () => {
  for (const inRate of RATES) {
    for (const outRate of RATES) {
      it(`${inRate} Hz -> ${outRate} Hz (mono->mono, stereo->stereo, mono->stereo, stereo->mono)`, () => {
        for (const [inCh, outCh] of CHANNEL_PAIRS) {
          const { frames, rx } = loop(inRate, inCh, outRate, outCh);
          checkTone(frames, outRate, outCh);
          expect(frames.length).toBeGreaterThanOrEqual(48);
          expect(rx.stats().lost).toBe(0);
          rx.close();
        }
      });
    }
  }

  it('stereo Opus stream decoded to mono and stereo', () => {
    for (const outCh of [1, 2] as const) {
      const { frames } = loop(48000, 2, 16000, outCh, { encodeChannels: 2 });
      checkTone(frames, 16000, outCh);
    }
  });

  it('decodes at the target rate without a resampler when libopus supports it, else 48 kHz + speexdsp', () => {
    for (const rate of [8000, 16000, 24000, 48000]) {
      const direct = loop(48000, 1, rate, 1).rx.stats();
      expect(direct.decodeRate).toBe(rate);
      expect(direct.resampling).toBe(false);
      const viaResampler = loop(48000, 1, rate, 1, { decodeAtTargetRate: false });
      expect(viaResampler.rx.stats().decodeRate).toBe(48000);
      expect(viaResampler.rx.stats().resampling).toBe(rate !== 48000);
      checkTone(viaResampler.frames, rate, 1);
    }
    const s = loop(48000, 1, 44100, 1).rx.stats();
    expect(s.decodeRate).toBe(48000);
    expect(s.resampling).toBe(true);
  });

  it('10 ms frames hold exactly rate/100 samples per channel', () => {
    for (const rate of RATES) {
      const { frames } = loop(24000, 1, rate, 2, { frameMs: 10 });
      checkTone(frames, rate, 2, 10);
      expect(frames.every((f) => f.numFrames === rate / 100)).toBe(true);
      expect(frames.map((f) => f.pts)).toEqual(frames.map((_, i) => i * 10));
    }
  });
});

describe('AudioReceiver: options and bad input', () => {
  it('rejects bad options with TypeError/RangeError naming the field', () => {
    const bad: Array<[unknown, ErrorConstructor, RegExp]> = [
      [undefined, TypeError, /options/],
      [{ sampleRate: '16000', channels: 1 }, TypeError, /sampleRate/],
      [{ sampleRate: 0, channels: 1 }, RangeError, /sampleRate/],
      [{ sampleRate: -16000, channels: 1 }, RangeError, /sampleRate/],
      [{ sampleRate: 16000, channels: 3 }, RangeError, /channels/],
      [{ sampleRate: 16000, channels: 1, frameMs: 30 }, RangeError, /frameMs/],
      [{ sampleRate: 22050, channels: 1, frameMs: 10 }, RangeError, /sampleRate/],
      [{ sampleRate: 16000, channels: 1, minDelayMs: -1 }, RangeError, /minDelayMs/],
      [{ sampleRate: 16000, channels: 1, minDelayMs: 100, maxDelayMs: 50 }, RangeError, /minDelayMs/],
      [{ sampleRate: 16000, channels: 1, payloadType: 128 }, RangeError, /payloadType/],
      [{ sampleRate: 16000, channels: 1, resampleQuality: 11 }, RangeError, /resampleQuality/],
      [{ sampleRate: 16000, channels: 1, decodeAtTargetRate: 1 }, TypeError, /decodeAtTargetRate/],
    ];
    for (const [o, type, msg] of bad) {
      expectCoded(() => new AudioReceiver(o as never), type, 'ERR_INVALID_ARG', { message: msg, label: JSON.stringify(o) });
    }
  });

  it('rejects wrong argument types, counts garbage packets without throwing', () => {
    const rx = new AudioReceiver({ sampleRate: 16000, channels: 1 });
    expect(() => rx.push('x' as never, 0)).toThrow(TypeError);
    expect(() => rx.push(new Int16Array(10) as never, 0)).toThrow(TypeError);
    expect(() => rx.push(new Uint8Array(20), Number.NaN)).toThrow(RangeError);
    expect(() => rx.push(new Uint8Array(20), '1' as never)).toThrow(TypeError);
    expect(() => rx.poll(Number.POSITIVE_INFINITY)).toThrow(RangeError);
    const rnd = prng(7);
    let frames = 0;
    for (let i = 0; i < 3000; i++) {
      const len = Math.floor(rnd() * 300);
      const junk = new Uint8Array(len);
      for (let j = 0; j < len; j++) junk[j] = Math.floor(rnd() * 256);
      if (i % 2 === 0 && len > 12) {
        junk[0] = 0x80; // a valid RTP header in front of a garbage payload
        junk[1] = 111;
      }
      frames += rx.push(junk, i).length;
      frames += rx.poll(i + 0.5).length;
    }
    expect(rx.push(new Uint8Array(0), 1).length).toBe(0);
    expect(rx.push(buildRtcpPli({ senderSsrc: 1, mediaSsrc: 2 }), 1).length).toBe(0);
    expect(rx.stats().invalid).toBeGreaterThan(1000);
    // Garbage that happens to parse as Opus still yields only whole frames.
    expect(Number.isInteger(frames)).toBe(true);
    rx.close();
  });

  it('filters by payload type when asked', () => {
    const rx = new AudioReceiver({ sampleRate: 16000, channels: 1, payloadType: 111 });
    const pk = packetize(opusTone({ packets: 5 }), { payloadType: 96 });
    for (const p of pk) expect(rx.push(p.rtp, p.index * 20)).toEqual([]);
    expect(rx.stats().payloadTypeDropped).toBe(5);
    const ok = packetize(opusTone({ packets: 5 }), { payloadType: 111 });
    let n = 0;
    for (const p of ok) n += rx.push(p.rtp, p.index * 20).length;
    expect(n).toBe(5);
  });

  it('poll() keeps the output running through a stall, bounded by maxConcealMs', () => {
    const rx = new AudioReceiver({ sampleRate: 16000, channels: 1, maxConcealMs: 200 });
    const pk = packetize(opusTone({ packets: 10 }));
    for (const p of pk) rx.push(p.rtp, p.index * 20);
    let concealed = 0;
    for (let t = 200; t < 2000; t += 10) concealed += rx.poll(t).length;
    expect(concealed).toBe(10); // 200 ms of concealment, then the output pauses
    expect(rx.nextDeadlineMs()).toBe(Number.POSITIVE_INFINITY);
  });

  it('a call that yields many frames at once (long DTX gap, 10 ms frames) keeps exact frames and pts', () => {
    const rx = new AudioReceiver({ sampleRate: 24000, channels: 2, frameMs: 10 });
    const payloads = opusTone({ packets: 4 });
    const a = packetize(payloads.slice(0, 2));
    // Consecutive sequence number, timestamp 900 ms later, and no poll() in between: filled in one push.
    const b = packetize(payloads.slice(2), { seq0: 1002, ts0: 123456 + 960 * 2 + 48 * 900 });
    const frames: AudioFrame[] = [];
    frames.push(...rx.push(a[0]!.rtp, 0), ...rx.push(a[1]!.rtp, 20));
    const burst = rx.push(b[0]!.rtp, 940);
    expect(burst.length).toBe(92); // 900 ms of fill + the 20 ms packet
    frames.push(...burst, ...rx.push(b[1]!.rtp, 960));
    expect(frames.length).toBe(4 + 90 + 4);
    expect(frames.every((f) => f.audio.length === 480 && f.numFrames === 240)).toBe(true);
    expect(frames.map((f) => f.pts)).toEqual(frames.map((_, i) => i * 10));
    expect(rx.stats().silenceMs).toBe(900);
    // Frames own their samples: later calls do not overwrite earlier frames.
    const copy = Int16Array.from(frames[0]!.audio);
    rx.push(b[1]!.rtp, 961);
    expect(frames[0]!.audio).toEqual(copy);
  });

  it('reset() forgets the stream; close() is idempotent and later calls throw ERR_CLOSED', () => {
    const rx = new AudioReceiver({ sampleRate: 48000, channels: 1 });
    const pk = packetize(opusTone({ packets: 3 }));
    expect(rx.push(pk[0]!.rtp, 0).length).toBe(1);
    rx.reset();
    expect(rx.push(pk[2]!.rtp, 40).length).toBe(1); // a fresh stream starts at any packet
    rx.close();
    rx.close();
    expect(() => rx.push(pk[1]!.rtp, 1)).toThrow(expect.objectContaining({ code: 'ERR_CLOSED' }));
    expect(() => rx.stats()).toThrow(expect.objectContaining({ code: 'ERR_CLOSED' }));
  });

  it('accepts a Buffer and an RTP packet with header extension and padding', () => {
    const rx = new AudioReceiver({ sampleRate: 16000, channels: 1 });
    const payload = opusTone({ packets: 1 })[0]!;
    const rtp = buildRtp({
      payloadType: 111,
      sequenceNumber: 1,
      timestamp: 0,
      ssrc: 9,
      extensions: [{ id: 4, data: new Uint8Array([0x30]) }],
      paddingSize: 3,
      payload,
    });
    expect(rx.push(Buffer.from(rtp), 0).length).toBe(1);
  });
});
