// The espeak-ng/sox speech helper used by the VAD and Chromium tests: WAV round trip and the envelope
// comparison (compareSpeech) that end-to-end tests use to check that received audio is the sent speech.
import { afterAll, describe, expect, it } from 'vitest';
import {
  compareSpeech,
  makeNoise,
  makeSpeechWav,
  readWav,
  writeWav,
  type SpeechWav,
} from '../helpers/speech.js';
import { concat } from '../../testkit/audio.js';
import { join } from 'node:path';

const made: SpeechWav[] = [];
afterAll(() => made.forEach((w) => w.cleanup()));

describe('speech helper', () => {
  it('writes 16-bit PCM WAVs at the asked rate/channels with exact silence padding', () => {
    const w = makeSpeechWav({ text: 'one two three', rate: 48000, channels: 2, padSilenceSecs: [0.5, 0.25] });
    made.push(w);
    expect(w).toMatchObject({ sampleRate: 48000, channels: 2 });
    expect(w.samples.length % 2).toBe(0);
    // The padding is digital zeros.
    expect(w.samples.subarray(0, 0.5 * 48000 * 2).every((x) => x === 0)).toBe(true);
    expect(w.samples.subarray(w.samples.length - 0.25 * 48000 * 2).every((x) => x === 0)).toBe(true);
    // Normalised to -3 dBFS peak.
    const peak = w.samples.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
    expect(peak).toBeGreaterThan(22000);
    expect(peak).toBeLessThan(23500);
    // Round trip through writeWav/readWav.
    const p = join(w.path, '..', 'copy.wav');
    writeWav(p, w.samples, 48000, 2);
    expect(readWav(p).samples).toEqual(w.samples);
  });

  it('compareSpeech finds a delayed, resampled, noisy copy and rejects different speech', () => {
    const a = makeSpeechWav({ text: 'the quick brown fox jumps over the lazy dog', rate: 16000 });
    const b = makeSpeechWav({ text: 'the quick brown fox jumps over the lazy dog', rate: 48000 });
    const c = makeSpeechWav({ text: 'completely different words are spoken here today', rate: 16000 });
    made.push(a, b, c);
    // b delayed by 0.37 s in -50 dBFS noise.
    const delayed = concat([new Int16Array(Math.round(0.37 * 48000)), b.samples]);
    const noise = makeNoise(delayed.length / 48000, 48000, -50, 9);
    const noisy = delayed.map((x, i) => Math.max(-32768, Math.min(32767, x + (noise[i] ?? 0))));
    const same = compareSpeech(a, { samples: noisy, sampleRate: 48000 });
    const other = compareSpeech(a, c);
    console.log(`[speech] same: ${JSON.stringify(same)}; different: ${JSON.stringify(other)}`);
    expect(same.lagSecs).toBeCloseTo(0.37, 1);
    expect(same.correlation).toBeGreaterThan(0.9);
    expect(other.correlation).toBeLessThan(same.correlation - 0.2);
  });
});
