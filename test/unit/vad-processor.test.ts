// VADProcessor (the stand-alone VAD stage) in a real pipeline, driven by a scripted analyzer: which frames it
// pushes, in which order and direction, and how it treats stereo, rate changes and bad input.
import { describe, expect, it } from 'vitest';

import {
  BaseVADAnalyzer,
  EndFrame,
  FrameDirection,
  InputAudioRawFrame,
  Pipeline,
  PipelineTask,
  type VADParamsInit,
} from '../../src/index.js';
import { VADProcessor } from '../../src/vad/vad-processor.js';
import { Recorder, until } from './pipeline-helpers.js';

/** Voice wherever a window's first sample is non-zero (loudness gate off through minVolume 0). */
class ScriptedVAD extends BaseVADAnalyzer {
  rates: number[] = [];
  constructor(params: VADParamsInit = {}) {
    super({ params: { minVolume: 0, ...params } });
  }
  numFramesRequired(): number {
    return Math.round(this.sampleRate * 0.032);
  }
  override setSampleRate(sampleRate: number): void {
    this.rates.push(sampleRate);
    super.setSampleRate(sampleRate);
  }
  protected voiceConfidence(window: Float32Array): number {
    return window[0] !== 0 ? 1 : 0;
  }
}

/** 20 ms frames: `pattern` has one char per frame, 'v' voice (a square wave), '.' silence. */
function frames(pattern: string, rate = 16000, channels = 1): InputAudioRawFrame[] {
  const n = (rate / 50) * channels;
  return [...pattern].map((c) => {
    const audio = new Int16Array(n);
    if (c === 'v') for (let i = 0; i < n; i++) audio[i] = (i >> 3) % 2 === 0 ? 8000 : -8000;
    return new InputAudioRawFrame({ audio, sampleRate: rate, numChannels: channels });
  });
}

const SPEAKING = new Set([
  'VADUserStartedSpeakingFrame',
  'UserStartedSpeakingFrame',
  'InterruptionFrame',
  'VADUserStoppedSpeakingFrame',
  'UserStoppedSpeakingFrame',
  'UserSpeakingFrame',
]);

async function run(
  vad: ScriptedVAD,
  input: InputAudioRawFrame[],
  allowInterruptions = true,
): Promise<{ head: Recorder; tail: Recorder; processor: VADProcessor }> {
  const head = new Recorder();
  const processor = new VADProcessor({ vadAnalyzer: vad, name: 'vad' });
  const tail = new Recorder();
  const task = new PipelineTask(new Pipeline([head, processor, tail]), {
    idleTimeoutSecs: null,
    params: { allowInterruptions },
  });
  const running = task.run();
  await task.queueFrames(input);
  const audio = input.length;
  await until(() => tail.of(InputAudioRawFrame).length === audio, 5000, 'audio through');
  await task.queueFrame(new EndFrame());
  await running;
  return { head, tail, processor };
}

describe('VADProcessor', () => {
  it('forwards the audio, then pushes the start/stop frames downstream and activity upstream', async () => {
    // startSecs 0.064 = 2 windows, stopSecs 0.096 = 3 windows.
    const vad = new ScriptedVAD({ startSecs: 0.064, stopSecs: 0.096 });
    const { head, tail, processor } = await run(vad, frames('..vvvvvv.........'));
    const down = tail
      .kinds(FrameDirection.DOWNSTREAM)
      .filter((k) => SPEAKING.has(k) || k === 'InputAudioRawFrame');
    const started = down.indexOf('VADUserStartedSpeakingFrame');
    const stopped = down.indexOf('VADUserStoppedSpeakingFrame');
    expect(started).toBeGreaterThan(0);
    expect(down.slice(started, started + 3)).toEqual([
      'VADUserStartedSpeakingFrame',
      'UserStartedSpeakingFrame',
      'InterruptionFrame',
    ]);
    expect(down.slice(stopped, stopped + 2)).toEqual([
      'VADUserStoppedSpeakingFrame',
      'UserStoppedSpeakingFrame',
    ]);
    // As in Pipecat, the frame that completed the start window went on before the frames it caused.
    expect(down[started - 1]).toBe('InputAudioRawFrame');
    expect(down.filter((k) => k === 'InputAudioRawFrame')).toHaveLength(17);
    const up = head.kinds(FrameDirection.UPSTREAM).filter((k) => SPEAKING.has(k));
    expect(up[0]).toBe('UserSpeakingFrame');
    expect(up).toContain('UserStartedSpeakingFrame');
    expect(up).toContain('UserStoppedSpeakingFrame');
    expect(up.filter((k) => k === 'UserSpeakingFrame').length).toBeGreaterThanOrEqual(3);
    expect(processor.userSpeaking).toBe(false);
    expect(vad.rates[0]).toBe(16000);
  });

  it('pushes no InterruptionFrame when the pipeline disallows interruptions', async () => {
    const vad = new ScriptedVAD({ startSecs: 0.064, stopSecs: 0.096 });
    const { tail } = await run(vad, frames('vvvvvv......'), false);
    const down = tail.kinds(FrameDirection.DOWNSTREAM);
    expect(down).toContain('UserStartedSpeakingFrame');
    expect(down).not.toContain('InterruptionFrame');
  });

  it('analyses stereo as mono and follows a change of rate in the audio', async () => {
    const vad = new ScriptedVAD({ startSecs: 0.064, stopSecs: 0.096 });
    const { tail } = await run(vad, [
      ...frames('vvvvvv......', 16000, 2),
      ...frames('vvvvvv......', 48000, 1),
    ]);
    expect(tail.of(InputAudioRawFrame)).toHaveLength(24);
    expect(
      tail.kinds(FrameDirection.DOWNSTREAM).filter((k) => k === 'VADUserStartedSpeakingFrame'),
    ).toHaveLength(2);
    // StartFrame rate first, then the 48 kHz frames re-targeted the analyzer once (not once per frame).
    expect(vad.rates).toEqual([16000, 48000]);
  });

  it('rejects a missing or wrong analyzer with a coded TypeError', () => {
    expect(() => new VADProcessor(undefined as never)).toThrow(TypeError);
    expect(() => new VADProcessor({ vadAnalyzer: {} as never })).toThrow(/vadAnalyzer/);
    try {
      new VADProcessor({ vadAnalyzer: null as never });
      expect.unreachable();
    } catch (err) {
      expect((err as { code?: string }).code).toBe('ERR_INVALID_ARG');
    }
  });
});
