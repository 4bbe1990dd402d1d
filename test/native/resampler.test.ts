// Resampler (speexdsp): exact chunk sizes for any write size, tone frequency and level preserved at every
// rate pair, mono/stereo mixing, flush, bad input.
import { describe, expect, it } from 'vitest';
import { Resampler } from '../../src/media/resampler.js';
import { CHANNEL_PAIRS, channel, concat, prng, rms, sine, zeroCrossingFrequency } from '../../testkit/audio.js';

const RATES = [8000, 16000, 22050, 24000, 32000, 44100, 48000];

function runStream(r: Resampler, pcm: Int16Array, inCh: number, seed: number): Int16Array[] {
  const rnd = prng(seed);
  const out: Int16Array[] = [];
  let off = 0;
  while (off < pcm.length) {
    const frames = 1 + Math.floor(rnd() * 700);
    const chunk = pcm.subarray(off, Math.min(pcm.length, off + frames * inCh));
    off += chunk.length;
    out.push(...r.process(chunk));
  }
  return out;
}

describe('Resampler', () => {
  for (const inRate of RATES) {
    it(`${inRate} Hz -> every rate, mono/stereo: exact chunks, same tone, same level`, () => {
      for (const outRate of RATES) {
        for (const [inCh, outCh] of CHANNEL_PAIRS) {
          const r = new Resampler({ inRate, outRate, inChannels: inCh, outChannels: outCh });
          const seconds = 0.5;
          const chunks = runStream(r, sine(inRate, inCh, 1000, seconds, 10000), inCh, inRate + outRate);
          const frame = Math.ceil(outRate / 100);
          for (const c of chunks) expect(c.length).toBe(frame * outCh);
          // Output amount: the input's duration minus the filter delay, minus less than one chunk.
          const produced = chunks.length * frame + r.bufferedSamples;
          expect(Math.abs(produced - outRate * seconds)).toBeLessThanOrEqual(r.latencySamples + 2);
          const pcm = concat(chunks);
          for (let c = 0; c < outCh; c++) {
            const x = channel(pcm, outCh, c).subarray(Math.round(outRate * 0.05));
            expect(Math.abs(zeroCrossingFrequency(x, outRate) - 1000)).toBeLessThan(2);
            expect(Math.abs(20 * Math.log10(rms(x) / (10000 / Math.SQRT2)))).toBeLessThan(0.5);
          }
          r.close();
        }
      }
    });
  }

  it('down-mixes stereo as (L+R)/2 and up-mixes mono by duplication', () => {
    const n = 4800;
    const st = new Int16Array(n * 2);
    for (let i = 0; i < n; i++) {
      st[2 * i] = 8000;
      st[2 * i + 1] = -8000;
    }
    const cancel = new Resampler({ inRate: 48000, outRate: 48000, inChannels: 2, outChannels: 1 });
    expect(concat(cancel.process(st)).every((v) => v === 0)).toBe(true);
    for (let i = 0; i < n; i++) st[2 * i + 1] = 0;
    const half = new Resampler({ inRate: 48000, outRate: 48000, inChannels: 2, outChannels: 1 });
    expect(concat(half.process(st)).every((v) => v === 4000)).toBe(true);
    const up = new Resampler({ inRate: 16000, outRate: 16000, inChannels: 1, outChannels: 2 });
    const mono = sine(16000, 1, 440, 0.1);
    const out = concat(up.process(mono));
    for (let i = 0; i < mono.length; i++) {
      expect(out[2 * i]).toBe(mono[i]);
      expect(out[2 * i + 1]).toBe(mono[i]);
    }
  });

  it('returns no chunk until a whole one is ready, then only whole ones; flush() drains the rest', () => {
    const r = new Resampler({ inRate: 44100, outRate: 16000, frameSamples: 320 });
    expect(r.process(new Int16Array(100))).toEqual([]);
    const chunks = r.process(sine(44100, 1, 440, 0.1));
    expect(chunks.length).toBeGreaterThan(0);
    for (const c of chunks) expect(c.length).toBe(320);
    const rest = r.flush();
    for (const c of rest) expect(c.length).toBe(320);
    expect(r.bufferedSamples).toBe(0);
  });

  it('rejects bad options and input with TypeError/RangeError naming the field', () => {
    expect(() => new Resampler(undefined as never)).toThrow(TypeError);
    expect(() => new Resampler({ inRate: 0, outRate: 16000 })).toThrow(/inRate/);
    expect(() => new Resampler({ inRate: -1, outRate: 16000 })).toThrow(RangeError);
    expect(() => new Resampler({ inRate: 16000, outRate: 1e9 })).toThrow(/outRate/);
    expect(() => new Resampler({ inRate: 16000, outRate: 8000, inChannels: 3 as never })).toThrow(/inChannels/);
    expect(() => new Resampler({ inRate: 16000, outRate: 8000, quality: 11 })).toThrow(/quality/);
    expect(() => new Resampler({ inRate: '16000' as never, outRate: 8000 })).toThrow(TypeError);
    const r = new Resampler({ inRate: 16000, outRate: 8000, inChannels: 2 });
    expect(() => r.process(new Float32Array(4) as never)).toThrow(TypeError);
    expect(() => r.process(new Int16Array(3))).toThrow(RangeError);
    r.close();
    r.close();
    expect(() => r.process(new Int16Array(4))).toThrow(expect.objectContaining({ code: 'ERR_CLOSED' }));
  });
});
