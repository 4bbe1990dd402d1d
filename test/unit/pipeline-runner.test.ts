import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

import { describe, expect, it } from 'vitest';

import { EndFrame, PipelineRunner, PipelineTask } from '../../src/pipeline/index.js';
import { Recorder } from './pipeline-helpers.js';

const CHILD = fileURLToPath(new URL('./fixtures/pipeline-runner-child.ts', import.meta.url));

interface ChildRun {
  lines: Array<Record<string, unknown>>;
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** Runs the child script; `onLine` may send signals to it. */
function runChild(
  args: string[],
  onLine: (line: Record<string, unknown>, kill: (s: NodeJS.Signals) => void) => void,
): Promise<ChildRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const lines: Array<Record<string, unknown>> = [];
    let buf = '';
    let stderr = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`child timed out; stderr: ${stderr}`));
    }, 45_000);
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
        const line = JSON.parse(buf.slice(0, i)) as Record<string, unknown>;
        buf = buf.slice(i + 1);
        lines.push(line);
        onLine(line, (s) => child.kill(s));
      }
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ lines, code, signal });
    });
  });
}

/** Signal listener counts the child reports. */
interface ListenerCounts {
  SIGINT: number;
  SIGTERM: number;
}

/** Runs the child with `args`, sends it `signal` once it is ready, and returns its `ready` and `done` lines. */
async function runSignalled<Done>(
  args: string[],
  signal: NodeJS.Signals,
): Promise<{
  r: ChildRun;
  ready: { during: ListenerCounts };
  done: Done & { before: ListenerCounts; after: ListenerCounts };
}> {
  const r = await runChild(args, (line, kill) => {
    if (line['ready']) kill(signal);
  });
  const ready = r.lines.find((l) => l['ready']) as { during: ListenerCounts };
  const done = r.lines.find((l) => l['done']) as Done & { before: ListenerCounts; after: ListenerCounts };
  return { r, ready, done };
}

describe('PipelineRunner', () => {
  it('SIGINT cancels the running task; the signal listeners are removed afterwards', async () => {
    const { r, ready, done } = await runSignalled<{ cancelled: boolean }>([], 'SIGINT');
    expect(r.code).toBe(0);
    expect(r.lines.find((l) => l['signal'])).toEqual({ signal: 'SIGINT' });
    expect(done.cancelled).toBe(true);
    expect(ready.during.SIGINT).toBe(done.before.SIGINT + 1);
    expect(ready.during.SIGTERM).toBe(done.before.SIGTERM + 1);
    expect(done.after).toEqual(done.before);
  });

  it('SIGTERM cancels too', async () => {
    const { r } = await runSignalled([], 'SIGTERM');
    expect(r.code).toBe(0);
    expect(r.lines.find((l) => l['done'])).toMatchObject({ cancelled: true });
  });

  it('12 runners share one listener per signal: no MaxListenersExceededWarning, one SIGTERM cancels all', async () => {
    const { r, ready, done } = await runSignalled<{ cancelledTasks: number; warnings: string[] }>(
      ['many'],
      'SIGTERM',
    );
    expect(r.code).toBe(0);
    expect(ready.during.SIGTERM).toBe(done.before.SIGTERM + 1);
    expect(ready.during.SIGINT).toBe(done.before.SIGINT + 1);
    expect(done.cancelledTasks).toBe(12);
    expect(done.after).toEqual(done.before);
    expect(done.warnings).toEqual([]);
  });

  it('a second SIGINT while cancellation hangs terminates the process', async () => {
    const r = await runChild(['stuck'], (line, kill) => {
      if (line['ready']) kill('SIGINT');
      if (line['signal']) setTimeout(() => kill('SIGINT'), 200);
    });
    expect(r.signal).toBe('SIGINT');
    expect(r.lines.some((l) => l['done'])).toBe(false);
  });

  it('installs listeners only while a task runs (in-process)', async () => {
    const before = process.listenerCount('SIGINT');
    const runner = new PipelineRunner({ handleSigterm: false });
    const task = new PipelineTask(new Recorder(), { idleTimeoutSecs: null });
    let during = -1;
    task.on('on_pipeline_started', () => {
      during = process.listenerCount('SIGINT');
      void task.queueFrame(new EndFrame());
    });
    await runner.run(task);
    expect(during).toBe(before + 1);
    expect(process.listenerCount('SIGINT')).toBe(before);
    expect(runner.runningTasks).toEqual([]);
  });
});
