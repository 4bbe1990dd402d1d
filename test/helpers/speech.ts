// Test helper: real speech audio generated on this machine with espeak-ng (synthesis) + sox (resample,
// channel count, level, silence padding). Used by the VAD unit tests and by the Chromium fake-microphone tests
// (Chromium's --use-file-for-fake-audio-capture wants a 16-bit PCM WAV, which is what this writes).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { prng } from '../../testkit/audio.js';

/** Options for {@link makeSpeechWav}. */
export interface SpeechWavOptions {
  /** Text spoken by espeak-ng. */
  text: string;
  /** Output sample rate in Hz (default 16000). */
  rate?: number;
  /** Output channel count (default 1); every channel carries the same speech. */
  channels?: number;
  /**
   * Silence added around the speech, in seconds: one number pads both ends equally, a pair is
   * `[before, after]` (default 0).
   */
  padSilenceSecs?: number | readonly [number, number];
  /** espeak-ng speaking speed in words per minute (default 160). */
  wordsPerMinute?: number;
  /** espeak-ng voice (default 'en-us'). */
  voice?: string;
  /** Peak level of the speech in dBFS after normalisation (default -3). */
  peakDb?: number;
  /** Directory for the file (default: a fresh directory under the OS temp dir). */
  dir?: string;
}

/** A WAV file written by {@link makeSpeechWav} plus its decoded samples. */
export interface SpeechWav {
  /** Absolute path of the 16-bit PCM WAV. */
  path: string;
  /** Interleaved Int16 samples (numFrames * channels). */
  samples: Int16Array;
  /** Sample rate in Hz. */
  sampleRate: number;
  /** Channel count. */
  channels: number;
  /** Duration in seconds. */
  durationSecs: number;
  /** Silence before the speech, seconds. */
  leadSilenceSecs: number;
  /** Silence after the speech, seconds. */
  trailSilenceSecs: number;
  /** Duration of the speech part (without padding), seconds. */
  speechSecs: number;
  /** Removes the temporary directory if this helper created it. */
  cleanup(): void;
}

/** Decoded content of a PCM WAV file. */
export interface WavData {
  /** Interleaved Int16 samples. */
  samples: Int16Array;
  /** Sample rate in Hz. */
  sampleRate: number;
  /** Channel count. */
  channels: number;
}

/**
 * Generates speech with `espeak-ng -w`, then converts it with `sox` to `rate` Hz, `channels` channels,
 * 16-bit PCM, normalised to `peakDb`, padded with `padSilenceSecs` of digital silence.
 */
export function makeSpeechWav(opts: SpeechWavOptions): SpeechWav {
  const rate = opts.rate ?? 16000;
  const channels = opts.channels ?? 1;
  const pad = opts.padSilenceSecs ?? 0;
  const [before, after] = typeof pad === 'number' ? [pad, pad] : pad;
  const ownDir = opts.dir === undefined;
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'small-webrtc-speech-'));
  const raw = join(dir, 'espeak-raw.wav');
  const path = join(dir, `speech-${rate}-${channels}ch-${Date.now().toString(36)}.wav`);
  execFileSync(
    'espeak-ng',
    ['-w', raw, '-s', String(opts.wordsPerMinute ?? 160), '-v', opts.voice ?? 'en-us', opts.text],
    { stdio: 'pipe' },
  );
  execFileSync(
    'sox',
    [
      '-D', // no dither: the padding stays exact digital silence
      raw,
      '-b',
      '16',
      '-e',
      'signed-integer',
      path,
      // Explicit effect order: normalise, resample, set channels, then pad (sox would otherwise resample
      // last and smear filter ringing into the padding).
      'gain',
      '-n',
      String(opts.peakDb ?? -3),
      'rate',
      '-v',
      String(rate),
      'channels',
      String(channels),
      'pad',
      String(before),
      String(after),
    ],
    { stdio: 'pipe' },
  );
  rmSync(raw, { force: true });
  const wav = readWav(path);
  const durationSecs = wav.samples.length / channels / rate;
  return {
    path,
    samples: wav.samples,
    sampleRate: wav.sampleRate,
    channels: wav.channels,
    durationSecs,
    leadSilenceSecs: before,
    trailSilenceSecs: after,
    speechSecs: durationSecs - before - after,
    cleanup: () => {
      if (ownDir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Reads a 16-bit PCM WAV (RIFF, `fmt ` format 1 or WAVE_FORMAT_EXTENSIBLE with PCM subformat). */
export function readWav(path: string): WavData {
  const buf = readFileSync(path);
  if (buf.toString('ascii', 0, 4) !== 'RIFF' || buf.toString('ascii', 8, 12) !== 'WAVE') {
    throw new Error(`${path}: not a RIFF/WAVE file`);
  }
  let off = 12;
  let sampleRate = 0;
  let channels = 0;
  let bits = 0;
  while (off + 8 <= buf.length) {
    const id = buf.toString('ascii', off, off + 4);
    const size = buf.readUInt32LE(off + 4);
    const body = off + 8;
    if (id === 'fmt ') {
      const format = buf.readUInt16LE(body);
      channels = buf.readUInt16LE(body + 2);
      sampleRate = buf.readUInt32LE(body + 4);
      bits = buf.readUInt16LE(body + 14);
      if (format !== 1 && format !== 0xfffe) throw new Error(`${path}: WAV format ${format} is not PCM`);
    } else if (id === 'data') {
      if (bits !== 16) throw new Error(`${path}: ${bits}-bit WAV, want 16-bit`);
      const len = Math.min(size, buf.length - body) & ~1;
      const samples = new Int16Array(len / 2);
      for (let i = 0; i < samples.length; i++) samples[i] = buf.readInt16LE(body + i * 2);
      return { samples, sampleRate, channels };
    }
    off = body + size + (size & 1);
  }
  throw new Error(`${path}: no data chunk`);
}

/** Writes interleaved Int16 samples as a canonical 44-byte-header 16-bit PCM WAV. */
export function writeWav(path: string, samples: Int16Array, sampleRate: number, channels = 1): void {
  const data = samples.length * 2;
  const buf = Buffer.alloc(44 + data);
  buf.write('RIFF', 0, 'ascii');
  buf.writeUInt32LE(36 + data, 4);
  buf.write('WAVE', 8, 'ascii');
  buf.write('fmt ', 12, 'ascii');
  buf.writeUInt32LE(16, 16);
  buf.writeUInt16LE(1, 20);
  buf.writeUInt16LE(channels, 22);
  buf.writeUInt32LE(sampleRate, 24);
  buf.writeUInt32LE(sampleRate * channels * 2, 28);
  buf.writeUInt16LE(channels * 2, 32);
  buf.writeUInt16LE(16, 34);
  buf.write('data', 36, 'ascii');
  buf.writeUInt32LE(data, 40);
  for (let i = 0; i < samples.length; i++) buf.writeInt16LE(samples[i] ?? 0, 44 + i * 2);
  writeFileSync(path, buf);
}

/** Mono white noise with the given RMS level in dBFS (full scale = 32768). */
export function makeNoise(seconds: number, sampleRate: number, rmsDb: number, seed = 1): Int16Array {
  const n = Math.round(seconds * sampleRate);
  const out = new Int16Array(n);
  const rnd = prng(seed);
  // Uniform noise in [-a, a] has RMS a / sqrt(3).
  const a = 32768 * 10 ** (rmsDb / 20) * Math.sqrt(3);
  for (let i = 0; i < n; i++) out[i] = Math.max(-32768, Math.min(32767, Math.round((rnd() * 2 - 1) * a)));
  return out;
}

/** Mono sine tone at `freqHz` with the given RMS level in dBFS. */
export function makeTone(seconds: number, sampleRate: number, freqHz: number, rmsDb: number): Int16Array {
  const n = Math.round(seconds * sampleRate);
  const out = new Int16Array(n);
  const amp = 32768 * 10 ** (rmsDb / 20) * Math.SQRT2;
  for (let i = 0; i < n; i++) out[i] = Math.round(amp * Math.sin((2 * Math.PI * freqHz * i) / sampleRate));
  return out;
}

/** Result of {@link compareSpeech}. */
export interface SpeechComparison {
  /** Delay of `received` relative to `reference`, seconds (positive: received is later). */
  lagSecs: number;
  /** Pearson correlation of the two 10 ms log-energy envelopes at that lag, -1..1 (speech vs itself > 0.9). */
  correlation: number;
  /** Number of 10 ms frames compared. */
  frames: number;
}

/**
 * Log-energy envelope (dB, floor -100) of mono Int16 audio in 10 ms frames. Robust to codecs, resampling and
 * small gain changes, so it compares what a peer received with what was sent.
 */
export function energyEnvelope(samples: Int16Array, sampleRate: number, channels = 1): Float64Array {
  const hop = Math.round(sampleRate / 100);
  const frames = Math.floor(samples.length / channels / hop);
  const out = new Float64Array(frames);
  for (let f = 0; f < frames; f++) {
    let ss = 0;
    for (let i = f * hop; i < (f + 1) * hop; i++) {
      let x = 0;
      for (let c = 0; c < channels; c++) x += samples[i * channels + c] ?? 0;
      x /= channels * 32768;
      ss += x * x;
    }
    out[f] = Math.max(-100, 10 * Math.log10(ss / hop + 1e-12));
  }
  return out;
}

/**
 * Finds where `reference` occurs in `received` (within `maxLagSecs`, default 3 s) by correlating their 10 ms
 * energy envelopes, and returns the lag and the correlation there. Sample rates and channel counts may
 * differ (each is enveloped at its own rate).
 */
export function compareSpeech(
  reference: { samples: Int16Array; sampleRate: number; channels?: number },
  received: { samples: Int16Array; sampleRate: number; channels?: number },
  opts: { maxLagSecs?: number; minLagSecs?: number } = {},
): SpeechComparison {
  const a = energyEnvelope(reference.samples, reference.sampleRate, reference.channels ?? 1);
  const b = energyEnvelope(received.samples, received.sampleRate, received.channels ?? 1);
  const maxLag = Math.round((opts.maxLagSecs ?? 3) * 100);
  const minLag = Math.round((opts.minLagSecs ?? -(opts.maxLagSecs ?? 3)) * 100);
  let best: SpeechComparison = { lagSecs: 0, correlation: -1, frames: 0 };
  for (let lag = minLag; lag <= maxLag; lag++) {
    // Overlap of a[i] with b[i + lag].
    const i0 = Math.max(0, -lag);
    const i1 = Math.min(a.length, b.length - lag);
    const n = i1 - i0;
    if (n < 50) continue; // under 0.5 s of overlap says nothing
    let sa = 0,
      sb = 0;
    for (let i = i0; i < i1; i++) {
      sa += a[i] ?? 0;
      sb += b[i + lag] ?? 0;
    }
    const ma = sa / n,
      mb = sb / n;
    let num = 0,
      da = 0,
      db = 0;
    for (let i = i0; i < i1; i++) {
      const x = (a[i] ?? 0) - ma;
      const y = (b[i + lag] ?? 0) - mb;
      num += x * y;
      da += x * x;
      db += y * y;
    }
    const r = da > 0 && db > 0 ? num / Math.sqrt(da * db) : 0;
    if (r > best.correlation) best = { lagSecs: lag / 100, correlation: r, frames: n };
  }
  return best;
}
