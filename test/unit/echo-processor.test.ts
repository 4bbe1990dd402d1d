// The echo bot's EchoProcessor (examples/echo-bot.ts): every input frame becomes output audio, except quiet
// frames while the output is backlogged (so a live echo's latency recovers in the next pause).
import { describe, expect, it } from 'vitest';

import { EchoProcessor } from '../../examples/echo-bot.js';
import {
  EndFrame,
  InputAudioRawFrame,
  OutputAudioRawFrame,
  Pipeline,
  PipelineTask,
} from '../../src/pipeline/index.js';
import { Recorder, until } from './pipeline-helpers.js';

/** A 20 ms 16 kHz mono frame at constant `level` (a square wave, so its RMS is exactly `level`). */
function frame(level: number, tag: number): InputAudioRawFrame {
  const audio = new Int16Array(320);
  for (let i = 0; i < audio.length; i++) audio[i] = i % 2 === 0 ? level : -level;
  audio[0] = tag; // identifies the frame in the output (one sample barely changes the RMS)
  return new InputAudioRawFrame({ audio, sampleRate: 16000, numChannels: 1 });
}

/**
 * Runs `frames` through [echo, recorder]; `backlog[i]` is what `backlogMs()` reports while frame i is handled
 * (the test's echo reads `backlog[0]`; each frame is awaited through the pipeline before the next is queued).
 */
async function run(echo: EchoProcessor, frames: InputAudioRawFrame[], backlog: number[]): Promise<number[]> {
  const out = new Recorder();
  const task = new PipelineTask(new Pipeline([echo, out]), { idleTimeoutSecs: null });
  const running = task.run();
  for (let i = 0; i < frames.length; i++) {
    await task.queueFrame(frames[i]!);
    await until(
      () => out.of(OutputAudioRawFrame).length + echo.droppedQuietFrames === i + 1,
      5000,
      `frame ${i}`,
    );
    backlog.shift();
  }
  await task.queueFrame(new EndFrame());
  await running;
  return out.of(OutputAudioRawFrame).map((f) => f.audio[0] ?? 0);
}

describe('EchoProcessor', () => {
  it('echoes every frame, unchanged, when no backlog is reported', async () => {
    const echo = new EchoProcessor();
    const frames = [frame(0, 1), frame(8000, 2), frame(0, 3)];
    const out = await run(echo, frames, []);
    expect(out).toEqual([1, 2, 3]);
    expect(echo.droppedQuietFrames).toBe(0);
  });

  it('drops only quiet frames while the backlog is above maxBacklogMs', async () => {
    // Backlog per input frame (ms), consumed one per frame by run().
    const backlog = [0, 200, 200, 200, 200, 40, 40];
    const echo = new EchoProcessor({
      backlogMs: () => backlog[0] ?? 0,
      maxBacklogMs: 100,
      minPauseMs: 0,
      quietDbfs: -45,
    });
    const quiet = 32768 * 10 ** (-60 / 20); // -60 dBFS
    const loud = 32768 * 10 ** (-20 / 20); // -20 dBFS
    const frames = [
      frame(quiet, 1), // no backlog: echoed even though quiet
      frame(quiet, 2), // backlog 200 ms, quiet: dropped
      frame(loud, 3), // backlog, but speech: always echoed
      frame(quiet, 4), // dropped
      frame(loud, 5), // echoed
      frame(quiet, 6), // backlog back under the limit: echoed
      frame(loud, 7),
    ];
    const out = await run(echo, frames, backlog);
    expect(out).toEqual([1, 3, 5, 6, 7]);
    expect(echo.droppedQuietFrames).toBe(2);
  });

  it('by default keeps one frame of backlog and drops only quiet frames 100 ms into a pause', async () => {
    const quiet = 32768 * 10 ** (-60 / 20);
    const loud = 32768 * 10 ** (-20 / 20);
    // Backlog 40 ms throughout: two frames waiting, one more than the default bound (20 ms).
    const n = 12;
    const backlog = Array.from({ length: n }, () => 40);
    const echo = new EchoProcessor({ backlogMs: () => backlog[0] ?? 0 });
    const frames = [
      frame(loud, 1),
      frame(quiet, 2), // a gap inside speech (up to 100 ms of quiet before it): kept
      frame(quiet, 3),
      frame(quiet, 4),
      frame(quiet, 5),
      frame(quiet, 6),
      frame(quiet, 7), // 100 ms of quiet before this one: a pause, dropped while behind
      frame(quiet, 8),
      frame(loud, 9), // speech: always echoed, and ends the pause
      frame(quiet, 10),
      frame(quiet, 11),
      frame(quiet, 12),
    ];
    expect(frames).toHaveLength(n);
    const out = await run(echo, frames, backlog);
    expect(out).toEqual([1, 2, 3, 4, 5, 6, 9, 10, 11, 12]);
    expect(echo.droppedQuietFrames).toBe(2);
  });

  it('keeps every frame while the backlog is at its bound', async () => {
    const quiet = 32768 * 10 ** (-60 / 20);
    const backlog = Array.from({ length: 8 }, () => 20);
    const echo = new EchoProcessor({ backlogMs: () => backlog[0] ?? 0 });
    const frames = Array.from({ length: 8 }, (_, i) => frame(quiet, i + 1));
    const out = await run(echo, frames, backlog);
    expect(out).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(echo.droppedQuietFrames).toBe(0);
  });
});
