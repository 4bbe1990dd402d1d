/**
 * A connected user's digital silence (a muted microphone, a DTX pause) through the input transport with
 * `audioInSilence20msChunks`: gathered into larger frames while the VAD is QUIET, every sample still delivered
 * in order, the VAD skipping the model on it, and the user's speech after it detected at the same sample as
 * when every 20 ms frame goes through on its own. Real peers: the in-process node-datachannel client sends
 * espeak-ng speech as Opus RTP; the server runs Silero.
 */
import nodeDataChannel from 'node-datachannel';
import { afterAll, describe, expect, it } from 'vitest';

import {
  InputAudioRawFrame,
  SileroVADAnalyzer,
  TransportParams,
  VADUserStartedSpeakingFrame,
  VADUserStoppedSpeakingFrame,
} from '../../src/index.js';
import { concat, startSession } from '../helpers/transport-session.js';
import { makeSpeechWav, type SpeechWav } from '../helpers/speech.js';
import { until } from '../../testkit/wait.js';

const wavs: SpeechWav[] = [];
afterAll(() => {
  for (const w of wavs) w.cleanup();
  nodeDataChannel.cleanup();
});

interface Heard {
  /** Samples per input frame, in order. */
  sizes: number[];
  /** Input sample offsets (16 kHz) at which the VAD's started / stopped frames went downstream. */
  started: number[];
  stopped: number[];
  audio: Int16Array;
  pts: number[];
  skippedWindows: number;
}

async function hear(chunks: number, pcm: Int16Array): Promise<Heard> {
  const vad = new SileroVADAnalyzer();
  const s = await startSession(
    new TransportParams({
      audioInEnabled: true,
      audioOutEnabled: true,
      audioInSilence20msChunks: chunks,
      // A packet late under load would be concealed in one run and not the other: wait long for gaps.
      audioInMinDelayMs: 300,
      vadAnalyzer: vad,
    }),
  );
  try {
    // Sent once the microphone track is bound (after the VAD's model loaded): the stream then starts with the
    // first packet in both runs, so the VAD's windows fall on the same samples.
    await until(() => (s.transport.input().audioTrack?.source ?? null) !== null, 10_000, 'audio input bound');
    await s.off.sendSpeech(pcm);
    const samples = (): number =>
      s.tap.down.reduce((n, f) => n + (f instanceof InputAudioRawFrame ? f.numFrames : 0), 0);
    // Everything sent, and the VAD's stop after the speech (stopSecs 0.8 s, inside the trailing silence).
    await until(
      () =>
        samples() >= (pcm.length / 3) * 0.9 &&
        s.tap.down.some((f) => f instanceof VADUserStoppedSpeakingFrame),
      15_000,
      'the whole utterance through the input transport',
    );
    const r: Heard = {
      sizes: [],
      started: [],
      stopped: [],
      audio: new Int16Array(0),
      pts: [],
      skippedWindows: 0,
    };
    const frames: InputAudioRawFrame[] = [];
    let at = 0;
    for (const f of s.tap.down) {
      if (f instanceof InputAudioRawFrame) {
        frames.push(f);
        r.sizes.push(f.numFrames);
        r.pts.push(f.pts ?? NaN);
        at += f.numFrames;
      } else if (f instanceof VADUserStartedSpeakingFrame) {
        r.started.push(at);
      } else if (f instanceof VADUserStoppedSpeakingFrame) {
        r.stopped.push(at);
      }
    }
    r.audio = concat(frames.map((f) => f.audio));
    r.skippedWindows = vad.stats().skippedWindows;
    return r;
  } finally {
    await s.stop();
  }
}

describe('input transport: digital silence gathered while the VAD is QUIET', () => {
  it('pushes silence in 200 ms frames, every sample in order, and speech at the same sample as 20 ms frames', async () => {
    const w = makeSpeechWav({ text: 'Hello, what time is it now?', rate: 48000, padSilenceSecs: [1.2, 1.6] });
    wavs.push(w);
    const gathered = await hear(10, w.samples);
    const single = await hear(1, w.samples);
    const peak = (from: number, n: number, a: Int16Array): number => {
      let m = 0;
      for (let i = from; i < from + n; i++) m = Math.max(m, Math.abs(a[i] ?? 0));
      return m;
    };
    console.log(
      `[silence] gathered: ${gathered.sizes.length} frames (${gathered.sizes.filter((n) => n === 3200).length} of 200 ms), ` +
        `started at ${gathered.started.join(',')}, stopped at ${gathered.stopped.join(',')}, ` +
        `${gathered.skippedWindows} VAD windows skipped; 20 ms frames: ${single.sizes.length} frames, ` +
        `started at ${single.started.join(',')}, stopped at ${single.stopped.join(',')}`,
    );
    // Without gathering, every frame is 20 ms.
    expect(new Set(single.sizes)).toEqual(new Set([320]));
    // Gathered: the leading second of silence (and the trailing one, up to the VAD's stop) in 200 ms frames;
    // every frame that is not digital silence stays 20 ms.
    expect(gathered.sizes.filter((n) => n === 3200).length).toBeGreaterThanOrEqual(5);
    for (const n of gathered.sizes) expect(n % 320).toBe(0);
    let o = 0;
    for (let i = 0; i < gathered.sizes.length; i++) {
      const n = gathered.sizes[i]!;
      if (n > 320) expect(peak(o, n, gathered.audio)).toBeLessThanOrEqual(8);
      // pts continues exactly: each frame starts where the previous one ended.
      if (i > 0) expect(gathered.pts[i]).toBe(gathered.pts[i - 1]! + gathered.sizes[i - 1]! / 16);
      o += n;
    }
    // The same audio, sample for sample, as far as both sessions heard it.
    const n = Math.min(gathered.audio.length, single.audio.length);
    expect(n).toBeGreaterThan(16000 * 3);
    expect(gathered.audio.subarray(0, n)).toEqual(single.audio.subarray(0, n));
    // The speech starts and stops at the same input sample either way (the VAD sees the same samples in the
    // same order), and the silence before it cost no inference.
    expect(gathered.started).toHaveLength(1);
    expect(gathered.started).toEqual(single.started);
    expect(gathered.stopped).toEqual(single.stopped);
    expect(gathered.skippedWindows).toBeGreaterThan(20);
  }, 60_000);
});
