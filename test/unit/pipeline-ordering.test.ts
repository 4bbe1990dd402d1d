// Randomised check of the FrameProcessor ordering guarantees across a chain of processors with random
// async delays (seeded PRNG, so a failure is reproducible).
import { describe, expect, it } from 'vitest';

import {
  EndFrame,
  type Frame,
  FrameDirection,
  FrameProcessor,
  InputAudioRawFrame,
  InterruptionFrame,
  Pipeline,
  PipelineTask,
  TextFrame,
} from '../../src/pipeline/index.js';
import { Recorder } from './pipeline-helpers.js';

function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** A labelled input frame (system) and a labelled text frame (data) share one global sequence number. */
const seqOf = new WeakMap<Frame, number>();

class Jittery extends FrameProcessor {
  readonly log: Array<{ seq: number; kind: string; phase: 'start' | 'end' }> = [];
  constructor(
    private readonly rand: () => number,
    maxQueuedFrames?: number,
  ) {
    super({ maxQueuedFrames });
  }

  override async processFrame(frame: Frame, direction: FrameDirection): Promise<void> {
    const seq = seqOf.get(frame);
    if (seq !== undefined) this.log.push({ seq, kind: frame.kind, phase: 'start' });
    const r = this.rand();
    if (r < 0.3) await new Promise((res) => setTimeout(res, Math.floor(this.rand() * 3)));
    else if (r < 0.6) await new Promise((res) => setImmediate(res));
    if (seq !== undefined) this.log.push({ seq, kind: frame.kind, phase: 'end' });
    await this.pushFrame(frame, direction);
  }
}

describe('ordering guarantees (randomised)', () => {
  for (const seed of [1, 2, 3]) {
    it(`seed ${seed}: per-class order kept, data never starts before earlier system frames finished`, async () => {
      const rand = prng(seed);
      const procs = [new Jittery(rand), new Jittery(rand), new Jittery(rand), new Jittery(rand)];
      const sink = new Recorder();
      const task = new PipelineTask(new Pipeline([...procs, sink]), { idleTimeoutSecs: null });
      const run = task.run();
      const N = 300;
      for (let i = 0; i < N; i++) {
        const f =
          rand() < 0.5
            ? new InputAudioRawFrame({ audio: new Int16Array(160), sampleRate: 16000 })
            : new TextFrame(String(i));
        seqOf.set(f, i);
        await task.queueFrame(f);
        if (rand() < 0.2) await new Promise((res) => setTimeout(res, Math.floor(rand() * 2)));
      }
      await task.queueFrame(new EndFrame());
      await run;

      const arrived = sink.seen.map((s) => s.frame).filter((f) => seqOf.has(f));
      expect(arrived).toHaveLength(N); // nothing lost
      for (const kind of ['system', 'data']) {
        const seqs = arrived.filter((f) => f.kind === kind).map((f) => seqOf.get(f) as number);
        expect({ kind, seqs }).toEqual({ kind, seqs: [...seqs].sort((a, b) => a - b) });
      }
      for (const p of procs) {
        // Position of each event in the processor's log.
        const sysEnd = new Map<number, number>();
        const dataStart = new Map<number, number>();
        p.log.forEach((e, i) => {
          if (e.kind === 'system' && e.phase === 'end') sysEnd.set(e.seq, i);
          if (e.kind !== 'system' && e.phase === 'start') dataStart.set(e.seq, i);
        });
        for (const [dseq, dpos] of dataStart) {
          for (const [sseq, spos] of sysEnd) {
            if (sseq < dseq) expect(spos).toBeLessThan(dpos);
          }
        }
        // System frames are handled one at a time: no two system starts without an end in between.
        let open = 0;
        for (const e of p.log.filter((x) => x.kind === 'system')) {
          open += e.phase === 'start' ? 1 : -1;
          expect(open === 0 || open === 1).toBe(true);
        }
      }
    });
  }
});

describe('interruption guarantees (randomised)', () => {
  for (const [seed, maxQueued] of [
    [7, undefined],
    [8, undefined],
    [9, 2],
    [10, 1],
  ] as const) {
    it(`seed ${seed} (queue ${maxQueued ?? 'default'}): nothing queued before an interruption reaches the end after it`, async () => {
      const rand = prng(seed);
      const procs = [
        new Jittery(rand, maxQueued),
        new Jittery(rand, maxQueued),
        new Jittery(rand, maxQueued),
      ];
      const task = new PipelineTask(new Pipeline(procs), { idleTimeoutSecs: null });
      task.setReachedDownstreamFilter([TextFrame, InterruptionFrame]);
      const epochOf = new WeakMap<Frame, number>();
      const atEnd: Frame[] = [];
      task.on('on_frame_reached_downstream', (_t, f) => void atEnd.push(f));
      const run = task.run();
      let epoch = 0;
      const queuedPerEpoch: number[] = [0];
      const N = 300;
      for (let i = 0; i < N; i++) {
        if (rand() < 0.05) {
          epoch++;
          queuedPerEpoch.push(0);
          await task.queueFrame(new InterruptionFrame());
        }
        const f = new TextFrame(String(i));
        epochOf.set(f, epoch);
        queuedPerEpoch[epoch] = (queuedPerEpoch[epoch] ?? 0) + 1;
        await task.queueFrame(f);
        if (rand() < 0.3) await new Promise((res) => setTimeout(res, Math.floor(rand() * 2)));
      }
      await task.queueFrame(new EndFrame());
      await run;

      let seenInterruptions = 0;
      for (const f of atEnd) {
        if (f instanceof InterruptionFrame) seenInterruptions++;
        else expect(epochOf.get(f)).toBeGreaterThanOrEqual(seenInterruptions);
      }
      expect(seenInterruptions).toBe(epoch);
      expect(epoch).toBeGreaterThan(3);
      // Frames queued after the last interruption are never dropped.
      const lastEpoch = atEnd.filter((f) => f instanceof TextFrame && epochOf.get(f) === epoch).length;
      expect(lastEpoch).toBe(queuedPerEpoch[epoch]);
    });
  }
});
