// The native worker facility seen from JS, through its first user: AudioSender in worker mode (Opus encode
// and packetization on the native worker pool, results back through one ThreadSafeFunction per sender).
// Same packets as inline mode, in order; counters; close() with jobs queued; bad options; and, in child
// processes, process exit with work pending and senders garbage-collected without close().
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { AudioSender } from '../../src/media/audio-sender.js';
import { workerPoolInfo } from '../../src/media/worker-pool.js';
import { parseRtp, type RtpPacket } from '../../src/media/rtp.js';
import { sine } from '../../testkit/audio.js';
import { sleep, until } from '../../testkit/wait.js';

const run = promisify(execFile);
const child = join(import.meta.dirname, 'fixtures', 'worker-child.ts');

function options(extra: Partial<ConstructorParameters<typeof AudioSender>[0]> = {}) {
  return { sampleRate: 24000, channels: 1 as const, ssrc: 0xdeadbeef, payloadType: 111, ...extra };
}


/**
 * Speech, a pause, speech again, a clear() and a bitrate change, pulled every 10 ms on a simulated clock.
 * Yields to the event loop every few ticks, as the real pacer does, so worker results are delivered along.
 */
async function script(tx: AudioSender, onPull: (packets: Uint8Array[]) => void): Promise<void> {
  const speech = sine(24000, 1, 440, 0.6, 8000);
  for (let tick = 0; tick < 200; tick++) {
    if (tick === 0 || tick === 100) tx.write(speech);
    if (tick === 120) tx.clear();
    if (tick === 130) tx.setBitrate(20000);
    onPull(tx.pull(tick * 10));
    if (tick % 4 === 0) await new Promise((r) => setImmediate(r));
  }
}

describe('native worker facility: AudioSender in worker mode', () => {
  it('sends the same packets as inline encoding, in order, through onPackets', async () => {
    const inline: RtpPacket[] = [];
    const a = new AudioSender(options());
    await script(a, (packets) => inline.push(...packets.map((p) => parseRtp(p))));
    a.close();

    const worker: RtpPacket[] = [];
    const due: number[] = [];
    const b = new AudioSender(
      options({
        workerQueueBatches: 1000, // the simulated clock runs far faster than real time: nothing may drop
        onPackets: (packets, dueMs) => {
          worker.push(...packets.map((p) => parseRtp(p)));
          due.push(...dueMs);
        },
      }),
    );
    expect(b.encodesOnWorker).toBe(true);
    await script(b, (packets) => expect(packets).toEqual([]));
    await until(() => worker.length >= inline.length, 10_000, () => `worker packets (${worker.length}/${inline.length})`);
    expect(worker.length).toBe(inline.length);
    expect(inline.length).toBe(100);
    // Random initial sequence/timestamp per sender: compare what follows from them.
    const rel = (ps: RtpPacket[]) =>
      ps.map((p) => ({
        seq: (p.sequenceNumber - ps[0]!.sequenceNumber + 0x10000) % 0x10000,
        ts: (p.timestamp - ps[0]!.timestamp + 0x100000000) % 0x100000000,
        marker: p.marker,
        payload: Buffer.from(p.payload).toString('hex'),
      }));
    expect(rel(worker)).toEqual(rel(inline));
    expect(due.slice(0, 3)).toEqual([0, 20, 40]);
    const st = b.workerStats();
    expect(st).not.toBeNull();
    expect(st!.jobs.queued).toBe(100);
    expect(st!.jobs.completed).toBe(100);
    expect(st!.jobs.dropped).toBe(0);
    expect(st!.jobs.maxDepth).toBeGreaterThanOrEqual(1);
    expect(st!.jobs.queueTimeTotalUs).toBeGreaterThan(0);
    expect(st!.results.completed).toBeGreaterThanOrEqual(1);
    expect(b.stats().packetsSent).toBe(100);
    b.close();
  });

  it('close() with jobs queued: no onPackets afterwards, queued jobs cancelled, nothing left alive', async () => {
    // Owners closed by earlier tests free their receivers on a later loop turn: settle first.
    let before = workerPoolInfo();
    for (let stable = 0; stable < 10; ) {
      await sleep(10);
      const now = workerPoolInfo();
      stable = now.liveReceivers === before.liveReceivers && now.liveMailboxes === before.liveMailboxes ? stable + 1 : 0;
      before = now;
    }
    let calls = 0;
    const senders: AudioSender[] = [];
    for (let i = 0; i < 20; i++) {
      const tx = new AudioSender(options({ complexity: 10, workerQueueBatches: 100, onPackets: () => calls++ }));
      tx.write(sine(24000, 1, 300, 2, 8000));
      for (let k = 0; k < 30; k++) tx.pull(k * 60);
      senders.push(tx);
    }
    expect(workerPoolInfo().started).toBe(true);
    expect(workerPoolInfo().liveReceivers).toBe(before.liveReceivers + 20);
    const queued = senders.reduce((n, tx) => n + tx.workerStats()!.jobs.depth, 0);
    for (const tx of senders) tx.close();
    const callsAtClose = calls;
    await sleep(200);
    expect(calls).toBe(callsAtClose);
    await until(() => {
      const now = workerPoolInfo();
      return now.liveReceivers === before.liveReceivers && now.liveMailboxes === before.liveMailboxes;
    });
    expect(() => senders[0]!.workerStats()).toThrow(expect.objectContaining({ code: 'ERR_CLOSED' }));
    // Work was really pending when they closed (20 senders x 30 pulls of 3 slots at complexity 10).
    expect(queued).toBeGreaterThan(0);
  });

  it('a drop-oldest queue of 1 under a burst drops batches and counts them', async () => {
    let packets = 0;
    const tx = new AudioSender(options({ complexity: 10, workerQueueBatches: 1, onPackets: (p) => (packets += p.length) }));
    tx.write(sine(24000, 1, 300, 2, 8000));
    for (let k = 0; k < 200; k++) tx.pull(k * 60);
    await until(() => {
      const s = tx.workerStats()!;
      return s.jobs.completed + s.jobs.dropped === 200;
    });
    const s = tx.workerStats()!;
    expect(s.jobs.maxDepth).toBe(1);
    expect(s.jobs.dropped).toBeGreaterThan(0);
    await until(() => packets === tx.stats().packetsSent, 10_000, 'every encoded packet delivered');
    tx.close();
  });

  it('rejects bad worker options with typed errors', () => {
    expect(() => new AudioSender(options({ onPackets: 42 as unknown as () => void }))).toThrow(
      expect.objectContaining({ name: 'SmallWebRTCTypeError', code: 'ERR_INVALID_ARG' }),
    );
    expect(() => new AudioSender(options({ onPackets: () => {}, workerQueueBatches: 0 }))).toThrow(
      expect.objectContaining({ name: 'SmallWebRTCRangeError', code: 'ERR_INVALID_ARG' }),
    );
    const tx = new AudioSender(options());
    expect(tx.encodesOnWorker).toBe(false);
    expect(tx.workerStats()).toBeNull();
    tx.close();
  });

  it('a throwing onPackets is logged, later batches still arrive', async () => {
    let calls = 0;
    const tx = new AudioSender(
      options({
        onPackets: () => {
          calls++;
          throw new Error('listener bug');
        },
      }),
    );
    for (let k = 0; k < 5; k++) tx.pull(k * 20);
    await until(() => calls >= 2, 10_000, 'two onPackets calls');
    tx.close();
  });

  it('process.exit() with encode jobs queued and running exits cleanly', async () => {
    const r = await run(process.execPath, ['--import', 'tsx', child, 'exit-now'], { timeout: 30_000 });
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain('"queued":true');
  }, 40_000);

  it('the loop ending with encode jobs still queued exits cleanly (unref, pool joined at teardown)', async () => {
    const t0 = Date.now();
    const r = await run(process.execPath, ['--import', 'tsx', child, 'exit-idle'], { timeout: 30_000 });
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain('"queued":50');
    expect(Date.now() - t0).toBeLessThan(30_000);
  }, 40_000);

  it('senders garbage-collected without close() free their receivers and mailboxes', async () => {
    const r = await run(process.execPath, ['--expose-gc', '--import', 'tsx', child, 'gc'], { timeout: 60_000 });
    const report = JSON.parse(r.stdout.trim().split('\n').pop()!) as {
      base: { liveReceivers: number; liveMailboxes: number };
      during: { liveReceivers: number };
      after: { liveReceivers: number; liveMailboxes: number };
    };
    expect(report.during.liveReceivers).toBe(report.base.liveReceivers + 100);
    expect(report.after.liveReceivers).toBe(report.base.liveReceivers);
    expect(report.after.liveMailboxes).toBe(report.base.liveMailboxes);
  }, 70_000);

  it('video codecs run on a second pool, named sw-video-N, at a nice value 10 above audio (env override)', async () => {
    interface Report {
      before: { videoStarted: boolean };
      after: { started: boolean; videoStarted: boolean; threads: number; videoThreads: number; videoNice: number };
      processNice: number;
      audioBatches: number;
      videoFrames: number;
      threads: Array<{ name: string; nice: number }>;
    }
    const report = async (env: Record<string, string>): Promise<Report> => {
      const r = await run(process.execPath, ['--import', 'tsx', child, 'pools'], {
        timeout: 30_000,
        env: { ...process.env, ...env },
      });
      return JSON.parse(r.stdout.trim().split('\n').pop()!) as Report;
    };
    for (const [env, increment] of [
      [{}, 10],
      [{ SMALL_WEBRTC_VIDEO_WORKER_NICE: '3' }, 3],
    ] as const) {
      const r = await report(env);
      expect(r.before.videoStarted).toBe(false);
      expect(r.after).toMatchObject({ started: true, videoStarted: true, videoNice: increment });
      expect(r.audioBatches).toBeGreaterThan(0);
      expect(r.videoFrames).toBeGreaterThan(0);
      const audio = r.threads.filter((t) => t.name.startsWith('sw-worker-'));
      const video = r.threads.filter((t) => t.name.startsWith('sw-video-'));
      expect(audio).toHaveLength(r.after.threads);
      expect(video).toHaveLength(r.after.videoThreads);
      for (const t of audio) expect(t.nice).toBe(r.processNice);
      for (const t of video) expect(t.nice).toBe(Math.min(r.processNice + increment, 19));
    }
  }, 70_000);
});
