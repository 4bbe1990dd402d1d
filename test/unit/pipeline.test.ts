import { afterEach, describe, expect, it } from 'vitest';

import {
  BotSpeakingFrame,
  CancelFrame,
  CancelTaskFrame,
  EndFrame,
  EndTaskFrame,
  ErrorFrame,
  FatalErrorFrame,
  type Frame,
  FrameDirection,
  FrameProcessor,
  InputAudioRawFrame,
  InterruptionFrame,
  InterruptionTaskFrame,
  OutputAudioRawFrame,
  Pipeline,
  PipelineTask,
  StartFrame,
  TextFrame,
  UserStartedSpeakingFrame,
  UserStoppedSpeakingFrame,
} from '../../src/pipeline/index.js';
import { setLogger, type Logger } from '../../src/logger.js';
import { Gate, Recorder, settle, until } from './pipeline-helpers.js';

const DOWN = FrameDirection.DOWNSTREAM;
const UP = FrameDirection.UPSTREAM;

/** Captures log lines so expected errors do not clutter the output, and so tests can assert on them. */
function captureLogs(): { lines: string[]; restore: () => void } {
  const lines: string[] = [];
  const rec =
    (level: string) =>
    (m: string): void => {
      lines.push(`${level}: ${m}`);
    };
  const l: Logger = { debug: () => {}, info: rec('info'), warn: rec('warn'), error: rec('error') };
  setLogger(l);
  return { lines, restore: () => setLogger(null) };
}

afterEach(() => setLogger(null));

/** Holds every data frame whose text starts with 'hold' until its gate opens or it is interrupted. */
class Holder extends FrameProcessor {
  readonly gates = new Map<string, Gate>();
  readonly outcomes: string[] = [];
  readonly handled: string[] = [];
  /** Frames pushed by a run after it was interrupted (must be dropped by the core). */
  pushAfterAbort = false;

  gate(text: string): Gate {
    let g = this.gates.get(text);
    if (!g) this.gates.set(text, (g = new Gate()));
    return g;
  }

  override async processFrame(frame: Frame, direction: FrameDirection): Promise<void> {
    this.handled.push(frame instanceof TextFrame ? frame.text : frame.constructor.name);
    if (frame instanceof TextFrame && frame.text.startsWith('hold')) {
      const signal = this.interruptionSignal;
      const outcome = await this.gate(frame.text).wait(signal);
      this.outcomes.push(`${frame.text}:${outcome}`);
      if (outcome === 'aborted' && !this.pushAfterAbort) return;
      await this.pushFrame(new TextFrame(`${frame.text}:after`), direction);
    }
    await this.pushFrame(frame, direction);
  }
}

function texts(r: Recorder): string[] {
  return r.of(TextFrame).map((f) => f.text);
}

describe('FrameProcessor scheduling', () => {
  it('passes frames through processors in order, StartFrame first, and ends on EndFrame', async () => {
    const a = new Recorder();
    const b = new Recorder();
    const c = new Recorder();
    const task = new PipelineTask(new Pipeline([a, b, c]), { idleTimeoutSecs: null });
    const events: string[] = [];
    task.on('on_pipeline_started', () => void events.push('started'));
    task.on('on_pipeline_finished', (_t, f) => void events.push(`finished:${f.constructor.name}`));
    task.on('on_pipeline_ended', () => void events.push('ended'));
    await task.queueFrames([new TextFrame('1'), new TextFrame('2'), new TextFrame('3'), new EndFrame()]);
    expect(task.hasFinished()).toBe(false);
    await task.run();
    expect(task.hasFinished()).toBe(true);
    for (const r of [a, b, c]) {
      expect(r.kinds()).toEqual(['StartFrame', 'TextFrame', 'TextFrame', 'TextFrame', 'EndFrame']);
      expect(texts(r)).toEqual(['1', '2', '3']);
      expect(r.setupCalls).toBe(1);
      expect(r.cleanupCalls).toBe(1);
      expect(r.startFrame?.audioInSampleRate).toBe(16000);
      expect(r.startFrame?.audioOutSampleRate).toBe(24000);
    }
    expect(events).toEqual(['started', 'finished:EndFrame', 'ended']);
  });

  it('lets system frames overtake queued data frames, never the reverse', async () => {
    const holder = new Holder();
    const after = new Recorder();
    const task = new PipelineTask(new Pipeline([holder, after]), { idleTimeoutSecs: null });
    const run = task.run();
    await task.queueFrames([new TextFrame('hold-1'), new TextFrame('2'), new TextFrame('3')]);
    await until(() => holder.handled.includes('hold-1'));
    const speaking = new UserStartedSpeakingFrame();
    await task.queueFrame(speaking);
    await until(() => after.of(UserStartedSpeakingFrame).length === 1, 5000, 'system frame through');
    // The data frames are still stuck behind hold-1, the system frame went through them.
    expect(holder.handled).toEqual(['StartFrame', 'hold-1', 'UserStartedSpeakingFrame']);
    expect(texts(after)).toEqual([]);
    holder.gate('hold-1').open();
    await until(() => texts(after).length === 4);
    expect(texts(after)).toEqual(['hold-1:after', 'hold-1', '2', '3']);
    await task.queueFrame(new EndFrame());
    await run;
  });

  it('does not start a data frame before the system frames queued ahead of it are handled', async () => {
    const gate = new Gate();
    const order: string[] = [];
    class SlowSystem extends FrameProcessor {
      override async processFrame(frame: Frame, direction: FrameDirection): Promise<void> {
        if (frame instanceof UserStartedSpeakingFrame) {
          order.push('system:start');
          await gate.wait();
          order.push('system:end');
        } else if (frame instanceof TextFrame) {
          order.push(`data:${frame.text}`);
        }
        await this.pushFrame(frame, direction);
      }
    }
    const p = new SlowSystem();
    const task = new PipelineTask(p, { idleTimeoutSecs: null });
    const run = task.run();
    await task.queueFrame(new UserStartedSpeakingFrame());
    await task.queueFrame(new TextFrame('x'));
    await settle(10);
    expect(order).toEqual(['system:start']);
    gate.open();
    await until(() => order.length === 3);
    expect(order).toEqual(['system:start', 'system:end', 'data:x']);
    await task.cancel();
    await run;
  });
});

describe('interruptions', () => {
  it('drops queued data frames, keeps EndFrame, aborts the running frame and drops its later pushes', async () => {
    const logs = captureLogs();
    const holder = new Holder();
    holder.pushAfterAbort = true; // a careless processor: pushes even after being interrupted
    const after = new Recorder();
    const task = new PipelineTask(new Pipeline([holder, after]), { idleTimeoutSecs: null });
    const run = task.run();
    await task.queueFrames([new TextFrame('hold-1'), new TextFrame('stale-2'), new TextFrame('stale-3')]);
    await until(() => holder.handled.includes('hold-1'));
    expect(holder.queuedFrames).toBe(2);
    // An EndFrame queued before the interruption survives it.
    await task.queueFrame(new EndFrame());
    await task.queueFrame(new InterruptionFrame());
    await until(() => holder.outcomes.length === 1);
    expect(holder.outcomes).toEqual(['hold-1:aborted']);
    await run;
    // Neither the queued stale frames nor what the interrupted run pushed afterwards got through.
    expect(texts(after)).toEqual([]);
    expect(holder.handled).not.toContain('stale-2');
    expect(after.kinds()).toEqual(['StartFrame', 'InterruptionFrame', 'EndFrame']);
    logs.restore();
  });

  it('processes frames queued after the interruption normally, with a fresh signal', async () => {
    const holder = new Holder();
    const after = new Recorder();
    const task = new PipelineTask(new Pipeline([holder, after]), { idleTimeoutSecs: null });
    const run = task.run();
    await task.queueFrames([new TextFrame('hold-a'), new TextFrame('stale')]);
    await until(() => holder.handled.includes('hold-a'));
    await task.queueFrame(new InterruptionFrame());
    await task.queueFrames([new TextFrame('fresh'), new TextFrame('hold-b')]);
    await until(() => holder.handled.includes('hold-b'));
    holder.gate('hold-b').open();
    await task.queueFrame(new EndFrame());
    await run;
    expect(holder.outcomes).toEqual(['hold-a:aborted', 'hold-b:open']);
    expect(texts(after)).toEqual(['fresh', 'hold-b:after', 'hold-b']);
  });

  it('turns an upstream InterruptionTaskFrame into an InterruptionFrame only when interruptions are allowed', async () => {
    for (const allow of [true, false]) {
      const first = new Recorder();
      const holder = new Holder();
      const task = new PipelineTask(new Pipeline([first, holder]), {
        idleTimeoutSecs: null,
        params: { allowInterruptions: allow },
      });
      const run = task.run();
      await task.queueFrame(new TextFrame('hold-x'));
      await until(() => holder.handled.includes('hold-x'));
      await holder.pushFrame(new InterruptionTaskFrame(), UP);
      if (allow) {
        await until(() => holder.outcomes.length === 1);
        expect(holder.outcomes).toEqual(['hold-x:aborted']);
        expect(first.kinds(DOWN)).toContain('InterruptionFrame');
      } else {
        await settle(20);
        expect(holder.outcomes).toEqual([]);
        expect(first.kinds(DOWN)).not.toContain('InterruptionFrame');
      }
      expect(first.kinds(UP)).toEqual(['InterruptionTaskFrame']);
      await task.cancel();
      await run;
    }
  });
});

describe('back-pressure', () => {
  it('a slow processor blocks its producer through the bounded queue, but not system frames', async () => {
    // producer -> slow (maxQueuedFrames 2) -> after
    const slowGate = new Gate();
    class Slow extends FrameProcessor {
      readonly handled: string[] = [];
      override async processFrame(frame: Frame, direction: FrameDirection): Promise<void> {
        if (frame instanceof OutputAudioRawFrame) {
          await slowGate.wait(this.interruptionSignal);
        }
        this.handled.push(frame.constructor.name);
        await this.pushFrame(frame, direction);
      }
    }
    let produced = 0;
    class Producer extends FrameProcessor {
      override async processFrame(frame: Frame, direction: FrameDirection): Promise<void> {
        if (frame instanceof TextFrame) {
          // Like a TTS: one text in, many audio chunks out, as fast as the next queue accepts them.
          for (let i = 0; i < 10; i++) {
            await this.pushFrame(new OutputAudioRawFrame({ audio: new Int16Array(480), sampleRate: 24000 }));
            produced++;
          }
          return;
        }
        await this.pushFrame(frame, direction);
      }
    }
    const producer = new Producer();
    const slow = new Slow({ maxQueuedFrames: 2 });
    const after = new Recorder();
    const task = new PipelineTask(new Pipeline([producer, slow, after]), { idleTimeoutSecs: null });
    const run = task.run();
    await task.queueFrame(new TextFrame('speak'));
    await settle(20);
    // 1 chunk being written + 2 queued; the producer is parked on the 4th push.
    expect(slow.queuedFrames).toBe(2);
    expect(produced).toBe(3);
    // System frames still get through the blocked processor (input audio while the bot talks).
    const input = new InputAudioRawFrame({ audio: new Int16Array(320), sampleRate: 16000 });
    await task.queueFrame(input);
    await until(() => after.of(InputAudioRawFrame).length === 1);
    expect(produced).toBe(3);
    slowGate.open();
    await until(() => after.of(OutputAudioRawFrame).length === 10);
    expect(produced).toBe(10);
    await task.queueFrame(new EndFrame());
    await run;
  });

  it('an interruption releases a producer parked on a full queue and drops its frame', async () => {
    const gate = new Gate();
    class Slow extends FrameProcessor {
      override async processFrame(frame: Frame, direction: FrameDirection): Promise<void> {
        if (frame instanceof OutputAudioRawFrame) await gate.wait(this.interruptionSignal);
        await this.pushFrame(frame, direction);
      }
    }
    class Producer extends FrameProcessor {
      finished = false;
      override async processFrame(frame: Frame, direction: FrameDirection): Promise<void> {
        if (frame instanceof TextFrame) {
          for (let i = 0; i < 50; i++) {
            await this.pushFrame(new OutputAudioRawFrame({ audio: new Int16Array(480), sampleRate: 24000 }));
          }
          this.finished = true;
          return;
        }
        await this.pushFrame(frame, direction);
      }
    }
    const producer = new Producer();
    const slow = new Slow({ maxQueuedFrames: 4 });
    const after = new Recorder();
    const task = new PipelineTask(new Pipeline([producer, slow, after]), { idleTimeoutSecs: null });
    const run = task.run();
    await task.queueFrame(new TextFrame('long answer'));
    await until(() => slow.queuedFrames === 4);
    await task.queueFrame(new InterruptionFrame());
    // The producer's run is released and every push it makes afterwards is dropped.
    await until(() => producer.finished);
    await settle(10);
    expect(slow.queuedFrames).toBe(0);
    expect(after.of(OutputAudioRawFrame)).toHaveLength(0);
    expect(after.kinds()).toEqual(['StartFrame', 'InterruptionFrame']);
    await task.queueFrame(new EndFrame());
    await run;
  });
});

describe('directions', () => {
  it('upstream frames travel back through earlier processors and leave through the task head', async () => {
    const a = new Recorder();
    class Replier extends FrameProcessor {
      override async processFrame(frame: Frame, direction: FrameDirection): Promise<void> {
        if (frame instanceof TextFrame && direction === DOWN) {
          await this.pushFrame(new BotSpeakingFrame(), UP);
          await this.pushFrame(new TextFrame(`echo:${frame.text}`), UP);
          return;
        }
        await this.pushFrame(frame, direction);
      }
    }
    const inner = new Pipeline([new Replier()]);
    const c = new Recorder();
    const task = new PipelineTask(new Pipeline([a, inner, c]), { idleTimeoutSecs: null });
    task.setReachedUpstreamFilter([TextFrame]);
    task.setReachedDownstreamFilter([EndFrame]);
    const reachedUp: string[] = [];
    const reachedDown: string[] = [];
    task.on('on_frame_reached_upstream', (_t, f) => void reachedUp.push((f as TextFrame).text));
    task.on('on_frame_reached_downstream', (_t, f) => void reachedDown.push(f.constructor.name));
    const run = task.run();
    await task.queueFrame(new TextFrame('hi'));
    await until(() => reachedUp.length === 1);
    expect(reachedUp).toEqual(['echo:hi']);
    expect(a.kinds(UP)).toEqual(['BotSpeakingFrame', 'TextFrame']);
    expect(c.of(TextFrame)).toHaveLength(0);
    // Frames queued upstream by the task enter at the tail.
    await task.queueFrame(new TextFrame('from-tail'), UP);
    await until(() => reachedUp.length === 2);
    expect(c.kinds(UP)).toEqual(['TextFrame']);
    await task.queueFrame(new EndFrame());
    await run;
    expect(reachedDown).toEqual(['EndFrame']);
  });
});

describe('errors', () => {
  it('a throwing processFrame becomes a non-fatal ErrorFrame upstream; processing continues', async () => {
    const logs = captureLogs();
    class Thrower extends FrameProcessor {
      override async processFrame(frame: Frame, direction: FrameDirection): Promise<void> {
        if (frame instanceof TextFrame && frame.text === 'bad') throw new Error('boom');
        await this.pushFrame(frame, direction);
      }
    }
    const first = new Recorder();
    const thrower = new Thrower({ name: 'thrower' });
    const last = new Recorder();
    const task = new PipelineTask(new Pipeline([first, thrower, last]), { idleTimeoutSecs: null });
    const errors: ErrorFrame[] = [];
    task.on('on_pipeline_error', (_t, f) => void errors.push(f));
    await task.queueFrames([
      new TextFrame('ok1'),
      new TextFrame('bad'),
      new TextFrame('ok2'),
      new EndFrame(),
    ]);
    await task.run();
    expect(texts(last)).toEqual(['ok1', 'ok2']);
    expect(errors).toHaveLength(1);
    expect(errors[0]?.fatal).toBe(false);
    expect(errors[0]?.processor).toBe('thrower');
    expect(errors[0]?.error).toContain('boom');
    expect(errors[0]?.exception).toBeInstanceOf(Error);
    expect(first.of(ErrorFrame)).toHaveLength(1);
    expect(logs.lines.some((l) => l.startsWith('error:') && l.includes('thrower'))).toBe(true);
    logs.restore();
  });

  it('a fatal error cancels the task', async () => {
    const logs = captureLogs();
    const holder = new Holder();
    const task = new PipelineTask(holder, { idleTimeoutSecs: null });
    const finished: string[] = [];
    task.on('on_pipeline_cancelled', () => void finished.push('cancelled'));
    const run = task.run();
    await task.queueFrame(new TextFrame('hold-forever'));
    await until(() => holder.handled.includes('hold-forever'));
    await holder.pushError('device lost', { fatal: true });
    await run;
    expect(finished).toEqual(['cancelled']);
    expect(holder.outcomes).toEqual(['hold-forever:aborted']);
    expect(new FatalErrorFrame('x').fatal).toBe(true);
    logs.restore();
  });

  it('a throwing event handler is logged and does not stop other handlers', async () => {
    const logs = captureLogs();
    const task = new PipelineTask(new Recorder(), { idleTimeoutSecs: null });
    const calls: string[] = [];
    task.on('on_pipeline_started', () => {
      throw new Error('handler bug');
    });
    task.on('on_pipeline_started', () => void calls.push('second'));
    await task.queueFrame(new EndFrame());
    await task.run();
    await until(() => calls.length === 1);
    expect(logs.lines.some((l) => l.includes('on_pipeline_started'))).toBe(true);
    logs.restore();
  });

  it('rejects invalid arguments with TypeError/RangeError naming the field', () => {
    expect(() => new FrameProcessor({ maxQueuedFrames: 0 })).toThrow(/maxQueuedFrames/);
    expect(() => new PipelineTask(new Recorder(), { params: { audioInSampleRate: 1000 } })).toThrow(
      /audioInSampleRate/,
    );
    expect(() => new PipelineTask(new Recorder(), { idleTimeoutSecs: -1 })).toThrow(RangeError);
    // @ts-expect-error wrong type on purpose
    expect(() => new Pipeline([new Recorder(), {}])).toThrow(TypeError);
    const r = new Recorder();
    expect(() => new Pipeline([r, r])).toThrow(TypeError);
    expect(
      () => new OutputAudioRawFrame({ audio: new Int16Array(3), sampleRate: 16000, numChannels: 2 }),
    ).toThrow(RangeError);
    // @ts-expect-error wrong direction on purpose
    return expect(r.queueFrame(new TextFrame('x'), 'sideways')).rejects.toThrow(TypeError);
  });
});

describe('PipelineTask lifecycle', () => {
  it('cancel() overtakes a stuck data frame, finishes the task and cleans up', async () => {
    const holder = new Holder();
    const last = new Recorder();
    const task = new PipelineTask(new Pipeline([holder, last]), { idleTimeoutSecs: null });
    const events: string[] = [];
    task.on('on_pipeline_cancelled', (_t, f) => void events.push(f.constructor.name));
    const run = task.run();
    await task.queueFrames([new TextFrame('hold-1'), new TextFrame('never'), new EndFrame()]);
    await until(() => holder.handled.includes('hold-1'));
    await task.cancel();
    expect(task.hasFinished()).toBe(true);
    await run;
    expect(events).toEqual(['CancelFrame']);
    expect(last.kinds()).toEqual(['StartFrame', 'CancelFrame']);
    expect(last.cleanupCalls).toBe(1);
    // Idempotent, and a finished task drops new frames.
    await task.cancel();
    await task.queueFrame(new TextFrame('late'));
    await task.run(); // already finished: returns
  });

  it('cancel() before run() makes run() return without starting', async () => {
    const r = new Recorder();
    const task = new PipelineTask(r, { idleTimeoutSecs: null });
    await task.cancel();
    expect(task.hasFinished()).toBe(true);
    await task.run();
    expect(r.seen).toEqual([]);
  });

  it('EndTaskFrame and CancelTaskFrame pushed upstream end / cancel the task', async () => {
    for (const [Req, expected] of [
      [EndTaskFrame, 'EndFrame'],
      [CancelTaskFrame, 'CancelFrame'],
    ] as const) {
      const r = new Recorder();
      const task = new PipelineTask(r, { idleTimeoutSecs: null });
      let finishedWith = '';
      task.on('on_pipeline_finished', (_t, f) => void (finishedWith = f.constructor.name));
      task.on('on_pipeline_started', () => void r.pushFrame(new Req(), UP));
      await task.run();
      expect(finishedWith).toBe(expected);
    }
  });

  it('fires on_idle_timeout and cancels when no activity frame arrives', async () => {
    const task = new PipelineTask(new Recorder(), { idleTimeoutSecs: 0.2 });
    let idle = 0;
    task.on('on_idle_timeout', () => void idle++);
    await task.run();
    expect(idle).toBe(1);
    expect(task.hasFinished()).toBe(true);
  });

  it('run() rejects and cleans up when a processor setup fails', async () => {
    const logs = captureLogs();
    class BadSetup extends Recorder {
      override async setup(): Promise<void> {
        throw new Error('cannot connect');
      }
    }
    const other = new Recorder();
    const task = new PipelineTask(new Pipeline([other, new BadSetup()]), { idleTimeoutSecs: null });
    await expect(task.run()).rejects.toThrow('cannot connect');
    const again = new PipelineTask(new Recorder(), { idleTimeoutSecs: null });
    const first = again.run();
    await expect(again.run()).rejects.toMatchObject({ code: 'ERR_INVALID_STATE' });
    await again.cancel();
    await first;
    expect(other.cleanupCalls).toBe(1);
    expect(task.hasFinished()).toBe(true);
    await expect(task.run()).resolves.toBeUndefined();
    logs.restore();
  });

  it('a processor can be pushed a StartFrame directly and drops data after a CancelFrame', async () => {
    const r = new Recorder();
    const sink = new Recorder();
    r.link(sink);
    await r.queueFrame(new StartFrame({ allowInterruptions: false }));
    expect(r.started).toBe(true);
    expect(r.allowInterruptions).toBe(false);
    await r.queueFrame(new CancelFrame());
    await r.queueFrame(new TextFrame('dropped'));
    await settle(5);
    expect(sink.kinds()).toEqual(['StartFrame', 'CancelFrame']);
    expect(r.started).toBe(false);
  });
});

describe('runs and detached work', () => {
  it('work started from a data frame belongs to its run unless detached', async () => {
    // A processor that, on a data frame, starts a background producer and returns at once.
    class Spawner extends FrameProcessor {
      readonly gate = new Gate();
      override async processFrame(frame: Frame, direction: FrameDirection): Promise<void> {
        if (frame instanceof TextFrame && (frame.text === 'attached' || frame.text === 'detached')) {
          const label = frame.text;
          const loop = async (): Promise<void> => {
            await this.gate.wait();
            await this.pushFrame(new TextFrame(`${label}:late`));
          };
          if (label === 'detached') void this.detached(loop);
          else void loop();
          return;
        }
        await this.pushFrame(frame, direction);
      }
    }
    const spawner = new Spawner();
    const after = new Recorder();
    const task = new PipelineTask(new Pipeline([spawner, after]), { idleTimeoutSecs: null });
    const run = task.run();
    await task.queueFrames([new TextFrame('attached'), new TextFrame('detached')]);
    await until(() => spawner.queuedFrames === 0);
    await settle(5);
    // Interrupt while both loops wait: only the detached one may still push afterwards.
    await task.queueFrame(new InterruptionFrame());
    await until(() => after.of(InterruptionFrame).length === 1);
    spawner.gate.open();
    await until(() => texts(after).length === 1);
    await settle(10);
    expect(texts(after)).toEqual(['detached:late']);
    await task.queueFrame(new EndFrame());
    await run;
  });

  it('interruptionSignal inside a run stays the run’s signal after an interruption', async () => {
    const signals: AbortSignal[] = [];
    const gate = new Gate();
    class Probe extends FrameProcessor {
      override async processFrame(frame: Frame, direction: FrameDirection): Promise<void> {
        if (frame instanceof TextFrame) {
          signals.push(this.interruptionSignal);
          await gate.wait();
          signals.push(this.interruptionSignal);
        }
        await this.pushFrame(frame, direction);
      }
    }
    const probe = new Probe();
    const task = new PipelineTask(probe, { idleTimeoutSecs: null });
    const run = task.run();
    await task.queueFrame(new TextFrame('x'));
    await until(() => signals.length === 1);
    await task.queueFrame(new InterruptionFrame());
    gate.open();
    await until(() => signals.length === 2);
    expect(signals[0]).toBe(signals[1]);
    expect(signals[0]?.aborted).toBe(true);
    // Outside any run, the processor's current (fresh) signal.
    expect(probe.interruptionSignal.aborted).toBe(false);
    await task.cancel();
    await run;
  });
});

describe('interruption requests and idle activity', () => {
  it('pushInterruptionTaskFrameAndWait resolves after the InterruptionFrame passed, false when not allowed', async () => {
    for (const allow of [true, false]) {
      const first = new Recorder();
      const asker = new Recorder();
      const last = new Recorder();
      const task = new PipelineTask(new Pipeline([first, asker, last]), {
        idleTimeoutSecs: null,
        params: { allowInterruptions: allow },
      });
      const run = task.run();
      await until(() => last.started);
      const ok = await asker.pushInterruptionTaskFrameAndWait(allow ? 5000 : 50);
      expect(ok).toBe(allow);
      // When it resolves true, the InterruptionFrame is already queued into the next processor.
      expect(last.of(InterruptionFrame)).toHaveLength(allow ? 1 : 0);
      await task.cancel();
      await run;
    }
  });

  it('speaking transitions count as activity for the idle timeout', async () => {
    const r = new Recorder();
    const task = new PipelineTask(r, { idleTimeoutSecs: 1 });
    let idleAt = 0;
    const started = Date.now();
    task.on('on_idle_timeout', () => void (idleAt = Date.now() - started));
    const run = task.run();
    await until(() => r.started);
    for (let i = 0; i < 15; i++) {
      await task.queueFrame(i % 2 === 0 ? new UserStartedSpeakingFrame() : new UserStoppedSpeakingFrame());
      await new Promise((res) => setTimeout(res, 100));
    }
    expect(idleAt).toBe(0); // 1.5 s of activity every 100 ms: never idle for 1 s
    await run; // then idle -> cancelled
    expect(idleAt).toBeGreaterThan(1500);
  });
});

describe('diagnostics', () => {
  it('warns when a data run ignores its interruption for 2 s', async () => {
    const logs = captureLogs();
    const gate = new Gate();
    class Deaf extends FrameProcessor {
      override async processFrame(frame: Frame, direction: FrameDirection): Promise<void> {
        if (frame instanceof TextFrame) await gate.wait(); // ignores this.interruptionSignal
        await this.pushFrame(frame, direction);
      }
    }
    const deaf = new Deaf({ name: 'deaf' });
    const task = new PipelineTask(deaf, { idleTimeoutSecs: null });
    const run = task.run();
    await task.queueFrame(new TextFrame('x'));
    await settle(5);
    await task.queueFrame(new InterruptionFrame());
    await until(() => logs.lines.some((l) => l.startsWith('warn: deaf: still processing TextFrame')), 10_000);
    gate.open();
    await task.cancel();
    await run;
    logs.restore();
  });
});
