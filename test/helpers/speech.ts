// Test helper: real speech audio generated on this machine with espeak-ng (synthesis) + sox (resample,
// channel count, level, silence padding). Used by the VAD unit tests and by the Chromium fake-microphone tests
// (Chromium's --use-file-for-fake-audio-capture wants a 16-bit PCM WAV, which is what this writes).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

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
  // Normalise before resampling so the resampler cannot clip; pad last so the padding is exact zeros.
  execFileSync(
    'sox',
    [
      raw,
      '-r',
      String(rate),
      '-c',
      String(channels),
      '-b',
      '16',
      '-e',
      'signed-integer',
      path,
      'gain',
      '-n',
      String(opts.peakDb ?? -3),
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

/** Deterministic pseudo-random generator (mulberry32) so noise-based tests are reproducible. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Mono white noise with the given RMS level in dBFS (full scale = 32768). */
export function makeNoise(seconds: number, sampleRate: number, rmsDb: number, seed = 1): Int16Array {
  const n = Math.round(seconds * sampleRate);
  const out = new Int16Array(n);
  const rnd = seededRandom(seed);
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

/** Concatenates Int16 sample arrays. */
export function concatSamples(...parts: Int16Array[]): Int16Array {
  const out = new Int16Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}
