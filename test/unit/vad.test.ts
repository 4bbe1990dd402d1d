// The VAD state machine (BaseVADAnalyzer) with a scripted confidence source, VADParams validation and the
// BS.1770 loudness measure. The Silero model itself is covered in vad-silero.test.ts.
import { describe, expect, it } from 'vitest';
import {
  BaseVADAnalyzer,
  VADParams,
  VADState,
  WindowLoudness,
  type VADParamsInit,
  type VADTransition,
} from '../../src/vad/index.js';
import { makeNoise, makeTone } from '../helpers/speech.js';

// Confidence = 1 when the window's first sample is non-zero, else 0: the test encodes "voice" windows as
// a loud square wave and silence as zeros, so loudness and confidence agree as with real speech.
class ScriptedVAD extends BaseVADAnalyzer {
  resets = 0;
  constructor(params: VADParamsInit = {}, sampleRate = 16000, skipSilence = true) {
    super({ sampleRate, params, skipSilence });
  }
  numFramesRequired(): number {
    return this.sampleRate === 8000 ? 256 : 512;
  }
  protected voiceConfidence(window: Float32Array): number {
    return window[0] !== 0 ? 1 : 0;
  }
  protected override resetModel(): void {
    this.resets++;
  }
}

const WIN = 512;

// `pattern` is one char per 512-sample window: 'v' = voice (square wave at -10 dBFS), '.' = silence.
function script(pattern: string): Int16Array {
  const out = new Int16Array(pattern.length * WIN);
  for (let w = 0; w < pattern.length; w++) {
    if (pattern[w] !== 'v') continue;
    for (let i = 0; i < WIN; i++) out[w * WIN + i] = (i >> 4) % 2 === 0 ? 10000 : -10000;
  }
  return out;
}

async function feed(vad: BaseVADAnalyzer, audio: Int16Array, chunk: number): Promise<VADTransition[]> {
  const all: VADTransition[] = [];
  for (let i = 0; i < audio.length; i += chunk) {
    const r = await vad.analyze(audio.subarray(i, i + chunk));
    all.push(...r.transitions);
  }
  return all;
}

describe('VADParams', () => {
  it("defaults to Pipecat's values", () => {
    const p = new VADParams();
    expect(p).toMatchObject({ confidence: 0.7, startSecs: 0.2, stopSecs: 0.8, minVolume: 0.6 });
  });

  it('rejects out-of-range values with a RangeError naming the field', () => {
    expect(() => new VADParams({ confidence: 1.5 })).toThrow(/confidence/);
    expect(() => new VADParams({ minVolume: -0.1 })).toThrow(RangeError);
    expect(() => new VADParams({ startSecs: Number.NaN })).toThrow(/startSecs/);
    expect(() => new VADParams({ stopSecs: -1 })).toThrow(/stopSecs/);
  });
});

describe('BaseVADAnalyzer state machine', () => {
  it("computes Pipecat's window counts: round(0.2/0.032)=6 start, round(0.8/0.032)=25 stop", () => {
    const vad = new ScriptedVAD();
    expect(vad.startFrames).toBe(6);
    expect(vad.stopFrames).toBe(25);
    expect(vad.windowSecs).toBeCloseTo(0.032, 6);
  });

  it('goes QUIET -> STARTING -> SPEAKING -> STOPPING -> QUIET with start/stop hysteresis', async () => {
    // Volume threshold 0 so only the confidence drives it; loudness is tested separately.
    const vad = new ScriptedVAD({ minVolume: 0 });
    const t = await feed(vad, script('..' + 'v'.repeat(10) + '.'.repeat(30)), 320);
    expect(t.map((x) => `${x.from}>${x.to}`)).toEqual([
      'QUIET>STARTING',
      'STARTING>SPEAKING',
      'SPEAKING>STOPPING',
      'STOPPING>QUIET',
    ]);
    // STARTING at the end of window 3, SPEAKING after 6 voice windows, QUIET after 25 silent ones.
    expect(t.map((x) => x.sample / WIN)).toEqual([3, 8, 13, 37]);
    expect(vad.state).toBe(VADState.QUIET);
    expect(vad.stats()).toMatchObject({
      state: VADState.QUIET,
      windows: 42,
      speechStarts: 1,
      lastConfidence: 0,
    });
    vad.reset();
    expect(vad.stats()).toMatchObject({ windows: 0, speechStarts: 0, meanWindowUs: 0 });
  });

  it('a voice burst shorter than startSecs never reaches SPEAKING', async () => {
    const vad = new ScriptedVAD({ minVolume: 0 });
    const t = await feed(vad, script('.' + 'vvvvv' + '.'.repeat(5) + 'vvvvv' + '...'), 160);
    expect(t.some((x) => x.to === VADState.SPEAKING)).toBe(false);
    expect(vad.state).toBe(VADState.QUIET);
  });

  it('a pause shorter than stopSecs keeps the speaker SPEAKING', async () => {
    const vad = new ScriptedVAD({ minVolume: 0 });
    const t = await feed(vad, script('v'.repeat(8) + '.'.repeat(20) + 'v'.repeat(8)), 480);
    expect(t.filter((x) => x.to === VADState.QUIET)).toHaveLength(0);
    expect(t.filter((x) => x.to === VADState.SPEAKING)).toHaveLength(2); // STARTING>SPEAKING, STOPPING>SPEAKING
    expect(vad.state).toBe(VADState.SPEAKING);
  });

  it('gives the same transitions whatever the chunk size (1 sample ... whole buffer)', async () => {
    const audio = script('...' + 'v'.repeat(12) + '.'.repeat(4) + 'v'.repeat(3) + '.'.repeat(40));
    const ref = await feed(new ScriptedVAD({ minVolume: 0 }), audio, audio.length);
    for (const chunk of [1, 7, 160, 320, 511, 513, 1024]) {
      const got = await feed(new ScriptedVAD({ minVolume: 0 }), audio, chunk);
      expect(got, `chunk ${chunk}`).toEqual(ref);
    }
  });

  it('accepts little-endian bytes (Pipecat frames) as well as Int16Array, at odd byte offsets too', async () => {
    const audio = script('v'.repeat(10));
    const bytes = new Uint8Array(audio.byteLength + 1);
    bytes.set(new Uint8Array(audio.buffer), 1);
    const vad = new ScriptedVAD({ minVolume: 0 });
    expect(await vad.analyzeAudio(bytes.subarray(1))).toBe(VADState.SPEAKING);
    await expect(async () => vad.analyze(new Uint8Array(3))).rejects.toThrow(RangeError);
  });

  it('needs both confidence and volume: quiet voice (below minVolume) never starts', async () => {
    // minVolume 0.6 = -50 LUFS. The model must see these windows (they are below skipSilence's 8 LSB).
    const vad = new ScriptedVAD({}, 16000, false);
    const quiet = script('v'.repeat(40)).map((s) => Math.round(s / 3000)); // about -80 dBFS
    const r = await vad.analyze(quiet);
    expect(r.lastConfidence).toBe(1);
    expect(r.lastVolume).toBeLessThan(0.6);
    expect(r.state).toBe(VADState.QUIET);
    const loud = await new ScriptedVAD().analyze(script('v'.repeat(40)));
    expect(loud.state).toBe(VADState.SPEAKING);
  });

  it('8 kHz uses 256-sample windows with the same timings', async () => {
    const vad = new ScriptedVAD({}, 8000);
    expect(vad.numFramesRequired()).toBe(256);
    expect(vad.startFrames).toBe(6);
    expect(vad.stopFrames).toBe(25);
  });

  it('setSampleRate is required first, keeps a constructor rate, reset() returns to QUIET, close() is final', async () => {
    class Unset extends ScriptedVAD {
      constructor() {
        super({ minVolume: 0 }, 16000);
      }
    }
    const vad = new Unset();
    vad.setSampleRate(8000); // the constructor's 16 kHz wins, as in Pipecat
    expect(vad.sampleRate).toBe(16000);
    await vad.analyze(script('v'.repeat(10)));
    expect(vad.state).toBe(VADState.SPEAKING);
    const before = vad.resets;
    vad.reset();
    expect(vad.state).toBe(VADState.QUIET);
    expect(vad.resets).toBe(before + 1);
    await vad.close();
    await vad.close();
    expect(() => vad.analyze(new Int16Array(10))).toThrow(expect.objectContaining({ code: 'ERR_CLOSED' }));
  });
});

describe('WindowLoudness (BS.1770, Pipecat 0..1 scale)', () => {
  const f32 = (s: Int16Array) => Float32Array.from(s, (x) => x / 32768);

  it('maps a 1 kHz tone to its LUFS: -20 dBFS RMS ~ -20 LUFS +0.7 dB shelf gain -> ~0.91', () => {
    const m = new WindowLoudness(16000);
    const tone = f32(makeTone(1, 16000, 1000, -20));
    let v = 0;
    for (let i = 0; i + 512 <= tone.length; i += 512) v = m.measure(tone, i, i + 512);
    // LUFS = -0.691 + 10log10(ms); K-weighting adds ~+0.7 dB at 1 kHz -> about -20 LUFS -> (110-20)/100.
    expect(v).toBeGreaterThan(0.89);
    expect(v).toBeLessThan(0.92);
  });

  it('gates digital silence and very low noise (< -70 LUFS) to 0', () => {
    const m = new WindowLoudness(16000);
    expect(m.measure(new Float32Array(512))).toBe(0);
    const noise = f32(makeNoise(0.2, 16000, -80));
    let v = 1;
    for (let i = 0; i + 512 <= noise.length; i += 512) v = m.measure(noise, i, i + 512);
    expect(v).toBe(0);
  });
});
