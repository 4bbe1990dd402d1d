// Shared audio helpers of the tests and benchmarks: tone generation, level and frequency measurement, Opus RTP streams.
import { OpusEncoder, type OpusSampleRate } from '../src/media/opus.js';
import { buildRtp } from '../src/media/rtp.js';

/** Interleaved sine of `seconds` at `rate` (same tone on every channel). */
export function sine(
  rate: number,
  channels: number,
  freq: number,
  seconds: number,
  amplitude = 10000,
): Int16Array {
  const n = Math.round(rate * seconds);
  const out = new Int16Array(n * channels);
  for (let i = 0; i < n; i++) {
    const v = Math.round(amplitude * Math.sin((2 * Math.PI * freq * i) / rate));
    for (let c = 0; c < channels; c++) out[i * channels + c] = v;
  }
  return out;
}

/** One channel of interleaved PCM as floats. */
export function channel(pcm: Int16Array, channels: number, c: number): Float64Array {
  const n = Math.floor(pcm.length / channels);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = pcm[i * channels + c] ?? 0;
  return out;
}

/** RMS of a signal. */
export function rms(x: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += (x[i] ?? 0) * (x[i] ?? 0);
  return x.length === 0 ? 0 : Math.sqrt(s / x.length);
}

/** Power of `freq` in `x` (Goertzel), normalised so a full-scale-A sine gives ~A^2/4... relative use only. */
export function goertzel(x: ArrayLike<number>, rate: number, freq: number): number {
  const w = (2 * Math.PI * freq) / rate;
  const coeff = 2 * Math.cos(w);
  let s1 = 0;
  let s2 = 0;
  for (let i = 0; i < x.length; i++) {
    const s0 = (x[i] ?? 0) + coeff * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  return (s1 * s1 + s2 * s2 - coeff * s1 * s2) / (x.length * x.length);
}

/** Frequency from positive-going zero crossings (interpolated), Hz. */
export function zeroCrossingFrequency(x: ArrayLike<number>, rate: number): number {
  const crossings: number[] = [];
  for (let i = 1; i < x.length; i++) {
    const a = x[i - 1] ?? 0;
    const b = x[i] ?? 0;
    if (a < 0 && b >= 0) crossings.push(i - 1 + a / (a - b));
  }
  if (crossings.length < 2) return 0;
  const first = crossings[0] ?? 0;
  const last = crossings[crossings.length - 1] ?? 0;
  return ((crossings.length - 1) * rate) / (last - first);
}

/** Concatenates Int16Arrays. */
export function concat(chunks: readonly Int16Array[]): Int16Array {
  let n = 0;
  for (const c of chunks) n += c.length;
  const out = new Int16Array(n);
  let o = 0;
  for (const c of chunks) {
    out.set(c, o);
    o += c.length;
  }
  return out;
}

/** Options of {@link opusTone}. */
export interface ToneStreamOptions {
  packets: number;
  frameMs?: 10 | 20 | 40 | 60;
  freq?: number;
  fec?: boolean;
  rate?: OpusSampleRate;
}

/** Opus packets of a continuous tone (48 kHz mono by default); FEC on means LBRR present (loss hint 20 %). */
export function opusTone(o: ToneStreamOptions): Uint8Array[] {
  const frameMs = o.frameMs ?? 20;
  const rate = o.rate ?? 48000;
  const enc = new OpusEncoder({
    sampleRate: rate,
    frameMs,
    fec: o.fec ?? true,
    packetLossPercent: (o.fec ?? true) ? 20 : 0,
    bitrate: 32000,
  });
  const pcm = sine(rate, 1, o.freq ?? 440, (o.packets * frameMs) / 1000, 8000);
  const frame = (rate * frameMs) / 1000;
  const out: Uint8Array[] = [];
  for (let i = 0; i < o.packets; i++) out.push(enc.encode(pcm.subarray(i * frame, (i + 1) * frame)));
  enc.close();
  return out;
}

/** One packet of a simulated stream. */
export interface StreamPacket {
  index: number;
  seq: number;
  ts: number;
  rtp: Uint8Array;
}

/** Wraps payloads in RTP with consecutive sequence numbers and timestamps (mod 2^16 / 2^32). */
export function packetize(
  payloads: readonly Uint8Array[],
  o: { ssrc?: number; seq0?: number; ts0?: number; samplesPerPacket?: number; payloadType?: number } = {},
): StreamPacket[] {
  const spp = o.samplesPerPacket ?? 960;
  return payloads.map((payload, index) => {
    const seq = ((o.seq0 ?? 1000) + index) % 0x10000;
    const ts = ((o.ts0 ?? 123456) + index * spp) % 0x100000000;
    return {
      index,
      seq,
      ts,
      rtp: buildRtp({
        payloadType: o.payloadType ?? 111,
        sequenceNumber: seq,
        timestamp: ts,
        ssrc: o.ssrc ?? 0x1234,
        payload,
      }),
    };
  });
}

/** Deterministic PRNG (mulberry32) for reproducible jitter. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** RMS of what remains of x[s0, s0+len) after removing its best-fitting sine of `freq` (any phase). */
export function sineFitResidual(
  x: ArrayLike<number>,
  s0: number,
  len: number,
  freq: number,
  rate: number,
): number {
  let ss = 0;
  let sc = 0;
  let cc = 0;
  let xs = 0;
  let xc = 0;
  for (let i = s0; i < s0 + len; i++) {
    const s = Math.sin((2 * Math.PI * freq * i) / rate);
    const c = Math.cos((2 * Math.PI * freq * i) / rate);
    const v = x[i] ?? 0;
    ss += s * s;
    cc += c * c;
    sc += s * c;
    xs += v * s;
    xc += v * c;
  }
  const det = ss * cc - sc * sc;
  const a = (xs * cc - xc * sc) / det;
  const b = (xc * ss - xs * sc) / det;
  let e = 0;
  for (let i = s0; i < s0 + len; i++) {
    const r =
      (x[i] ?? 0) -
      a * Math.sin((2 * Math.PI * freq * i) / rate) -
      b * Math.cos((2 * Math.PI * freq * i) / rate);
    e += r * r;
  }
  return Math.sqrt(e / len);
}

/** Input -> output channel counts every channel-converting path is tested with: mono/stereo both ways. */
export const CHANNEL_PAIRS = [
  [1, 1],
  [2, 2],
  [1, 2],
  [2, 1],
] as const;
