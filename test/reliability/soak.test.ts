/**
 * Soak: SOAK_SESSIONS (20; 8 in the 60 s CI variant) live echo sessions against one server process (test/reliability/bot-server-child.ts)
 * for SOAK_SECONDS (60 in `npm test`; `npm run soak` runs 1,800). Every session sends Opus every 20 ms; two
 * of them send a tone burst each second and time its echo. Checked: memory is flat (least-squares slope of
 * the server's heap, and of its RSS in runs of 10 minutes or more, sampled after a full GC, over the run after
 * its first fifth), every session's audio still reaches its bot at the end, and the server exits by itself.
 * The echo's backlog at the server (first fifth vs last fifth) is bounded, so a server whose JS thread falls
 * behind keeps its added delay at `audioOutMaxStallDelayMs` (docs/reliability.md, "Soak"); the probes' echo
 * delay is reported.
 */
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';

import { describe, expect, it } from 'vitest';

import { rms, sine } from '../../testkit/audio.js';
import { PipecatLikeClient } from '../../testkit/pipecat-like-client.js';
import { sleep } from '../../testkit/wait.js';
import { botServerFixture, type ServerStats } from './bot-server.js';

const SECONDS = Number(process.env['SOAK_SECONDS'] ?? 60);
/**
 * 20 sessions in `npm run soak`; the 60 s CI variant runs 8, light enough for a shared 2-core machine: with
 * 20 there, under load averages of 15-20, the server's JS thread fell behind and frames queued in the
 * pipelines (heap and echo delay growing; docs/reliability.md).
 */
const SESSIONS = Number(process.env['SOAK_SESSIONS'] ?? (SECONDS >= 600 ? 20 : 8));
const PROBES = 2;
/**
 * The bots' `audioOutMaxStallDelayMs` (SOAK_MAX_STALL_DELAY_MS; default the library's, 100 ms). A large value
 * (3600000) runs the echo as before the bound, for comparison.
 */
const MAX_STALL_DELAY_MS =
  process.env['SOAK_MAX_STALL_DELAY_MS'] !== undefined
    ? Number(process.env['SOAK_MAX_STALL_DELAY_MS'])
    : undefined;
/** Samples of the server's memory over the run (at least 12). */
const SAMPLE_MS = Math.max(5000, Math.floor((SECONDS * 1000) / 60));

const { clients, start } = botServerFixture();

/** Least-squares slope of y over x. */
function slope(xs: number[], ys: number[]): number {
  const n = xs.length;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += ((xs[i] ?? 0) - mx) * ((ys[i] ?? 0) - my);
    den += ((xs[i] ?? 0) - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}

/**
 * Where the echo's frames wait, medians over the sessions: decoded by the receiver but not yet taken by the
 * echo stage (`inputFrames`), echoed but not yet written out (`outputFrames`: queued in the output
 * transport or being written), audio in the native send ring (`ringMs`), and send slots skipped after a
 * stall so far (`skippedSlots`).
 */
interface Backlog {
  inputFrames: number;
  outputFrames: number;
  ringMs: number;
  skippedSlots: number;
  /** Delay the pacer's stalls add to the echo now, and stale audio dropped so far to bound it, ms. */
  stallDelayMs: number;
  staleDroppedMs: number;
}

function backlog(st: ServerStats): Backlog {
  const ss = st.sessions;
  return {
    inputFrames: median(ss.map((s) => Number(s.audioInput?.['framesDelivered'] ?? 0) - s.framesIn)),
    outputFrames: median(ss.map((s) => s.framesIn - s.framesNotEchoed - s.framesOut)),
    ringMs: median(ss.map((s) => s.out.ringMs)),
    skippedSlots: median(ss.map((s) => s.out.sender?.['skippedSlots'] ?? 0)),
    stallDelayMs: median(ss.map((s) => s.out.stall?.addedDelayMs ?? 0)),
    staleDroppedMs: Math.round(median(ss.map((s) => s.out.stall?.droppedMs ?? 0))),
  };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : (s[Math.floor(s.length / 2)] ?? NaN);
}

/** A probe: sends a 200 ms tone every second (silence otherwise) and records when each echo is heard. */
function probe(
  c: PipecatLikeClient,
  stop: () => boolean,
): { delays: Array<{ at: number; ms: number }>; done: Promise<void> } {
  const delays: Array<{ at: number; ms: number }> = [];
  let sentAt = -1;
  c.listenToAudio((f) => {
    if (sentAt >= 0 && rms(f.pcm) > 1500) {
      delays.push({ at: f.at, ms: f.at - sentAt });
      sentAt = -1;
    }
  });
  const second = new Int16Array(48000);
  second.set(sine(48000, 1, 440, 0.2, 10000));
  const done = (async () => {
    while (!stop()) {
      // Each call paces one second of audio; the burst starts at the call (the sender's first pull).
      sentAt = performance.now();
      await c.sendSpeech(second);
    }
  })();
  return { delays, done };
}

describe('soak', () => {
  it(
    `${SESSIONS} echo sessions for ${SECONDS} s: flat memory, bounded echo backlog, audio flowing at the end`,
    async () => {
      const srv = await start({
        livenessTimeoutSecs: 5,
        // The bots are the demo's echo (`npm run demo`): while more than 100 ms of its audio wait to be sent,
        // quiet frames are not echoed. Without it, every burst of input (the test's clients share one process
        // and catch up in bursts after its stalls) stayed in the echo for good: in a 30-minute run at a load
        // average of 20 the probes' output queues filled (2048 frames) and the heap check failed on them.
        echoMaxBacklogMs: 100,
        ...(MAX_STALL_DELAY_MS !== undefined ? { audioOutMaxStallDelayMs: MAX_STALL_DELAY_MS } : {}),
      });
      for (let i = 0; i < SESSIONS; i++) {
        const c = await PipecatLikeClient.create({ baseUrl: srv.url, video: false, screen: false });
        clients.push(c);
        const r = await c.connect();
        if (r.status !== 200) throw new Error(`offer ${i} answered ${r.status}: ${JSON.stringify(r.json)}`);
        await c.waitConnected();
        if (i >= PROBES) c.startRtp();
      }
      const jbDelay = (st: ServerStats): number[] =>
        clients
          .slice(0, PROBES)
          .map((c) => Number(st.sessions.find((x) => x.pcId === c.pcId)?.receiver?.['targetDelayMs'] ?? NaN));
      const t0 = performance.now();
      const loadAtStart = loadavg()[0] ?? NaN;
      const jbAtStart = jbDelay(await srv.stats());
      const endAt = t0 + SECONDS * 1000;
      const probes = clients.slice(0, PROBES).map((c) => probe(c, () => performance.now() >= endAt));
      const samples: Array<{ min: number; rssMiB: number; heapMiB: number; backlog: Backlog }> = [];
      let last: ServerStats = await srv.statsAfterGc();
      while (performance.now() < endAt) {
        await sleep(Math.min(SAMPLE_MS, Math.max(0, endAt - performance.now())));
        last = await srv.statsAfterGc();
        samples.push({
          min: (performance.now() - t0) / 60_000,
          rssMiB: last.rssMiB,
          heapMiB: last.heapUsedMiB,
          backlog: backlog(last),
        });
      }
      await Promise.all(probes.map((p) => p.done));
      // Audio at the end: every session that is still sending (not the probes, which stopped at endAt) still
      // has its bot getting frames (a 2 s window). Counting the probes made this depend on how long the
      // receiver conceals after their last tone (one CI run: 1 frame for a probe, median 99).
      const a = await srv.stats();
      await sleep(2000);
      const b = await srv.stats();
      const framesIn = (s: ServerStats, id: string | null): number =>
        s.sessions.find((x) => x.pcId === id)?.framesIn ?? 0;
      const endFrames = clients.slice(PROBES).map((c) => framesIn(b, c.pcId) - framesIn(a, c.pcId));

      // Traffic stops; once the pipelines have drained, what is left after a GC is what the run kept.
      for (const c of clients) c.stopRtp();
      await sleep(5000);
      const settled = await srv.statsAfterGc();
      const measured = samples.filter((s) => s.min >= SECONDS / 60 / 5);
      const rssSlope = slope(
        measured.map((s) => s.min),
        measured.map((s) => s.rssMiB),
      );
      const heapSlope = slope(
        measured.map((s) => s.min),
        measured.map((s) => s.heapMiB),
      );
      const delays = probes.flatMap((p) => p.delays);
      const fifth = (SECONDS * 1000) / 5;
      const early = delays.filter((d) => d.at - t0 >= 2000 && d.at - t0 < fifth + 2000).map((d) => d.ms);
      const late = delays.filter((d) => endAt - d.at < fifth).map((d) => d.ms);
      const fmt = (x: number): number => Math.round(x * 100) / 100;
      // The echo's backlog at the server (what the output has yet to send: frames taken by the echo but not yet
      // written, plus the send ring), first fifth vs last fifth of the samples. The probes' delays alias
      // beyond their 1 s tone period (a tone heard 1.6 s late reads as 0.6 s), so the bound is on the backlog.
      const backlogMs = (s: { backlog: Backlog }): number => s.backlog.outputFrames * 20 + s.backlog.ringMs;
      const firstFifthBacklog = median(samples.filter((s) => s.min < SECONDS / 60 / 5).map(backlogMs));
      const lastFifthBacklog = median(samples.filter((s) => s.min >= (SECONDS / 60) * 0.8).map(backlogMs));
      const figure = {
        sessions: SESSIONS,
        seconds: SECONDS,
        loadAverage1m: { start: fmt(loadAtStart), end: fmt(loadavg()[0] ?? NaN) },
        connections: b.connections,
        rssMiB: { first: fmt(samples[0]?.rssMiB ?? NaN), last: fmt(last.rssMiB), slopePerMin: fmt(rssSlope) },
        heapMiB: {
          first: fmt(samples[0]?.heapMiB ?? NaN),
          last: fmt(last.heapUsedMiB),
          slopePerMin: fmt(heapSlope),
          settled: fmt(settled.heapUsedMiB),
        },
        echoDelayMs: {
          firstFifth: Math.round(median(early)),
          lastFifth: Math.round(median(late)),
          probes: delays.length,
        },
        echoBacklogMs: { firstFifth: Math.round(firstFifthBacklog), lastFifth: Math.round(lastFifthBacklog) },
        probeJitterBufferTargetMs: { start: jbAtStart, end: jbDelay(b) },
        endFramesIn2s: { min: Math.min(...endFrames), median: median(endFrames) },
        samples: samples
          .map((s) => `${s.min.toFixed(1)}:${s.rssMiB.toFixed(1)}/${s.heapMiB.toFixed(1)}`)
          .join(' '),
        backlog: samples
          .map(
            (s) =>
              `${s.min.toFixed(1)}:${s.backlog.inputFrames}/${s.backlog.outputFrames}/${Math.round(s.backlog.ringMs)}/${s.backlog.skippedSlots}/${s.backlog.stallDelayMs}/${s.backlog.staleDroppedMs}`,
          )
          .join(' '),
      };
      console.info(`[soak] ${JSON.stringify(figure)}`);

      expect(b.connections).toBe(SESSIONS);
      // Memory, after a full GC at each sample. What the run kept: once traffic stopped and the pipelines
      // drained, the heap is within 2 MiB of its first sample (a closed-over session per second would keep
      // 2 MiB/min, about 33 kB each, test/reliability/churn.test.ts). While live, a server whose JS thread
      // falls behind queues frames in its pipelines (the heap grows with the backlog, seen with 20 sessions at
      // load 15-20 here), so the live slopes are bounded only in runs of 10 minutes or more: heap below
      // 0.5 MiB/min, RSS below 1 MiB/min after the first fifth. In 60 s the allocator grows its arenas in a
      // step (+13 MiB once): RSS growth bounded to 32 MiB.
      expect(settled.heapUsedMiB - (samples[0]?.heapMiB ?? settled.heapUsedMiB)).toBeLessThan(2);
      if (SECONDS >= 600) {
        expect(heapSlope).toBeLessThan(0.5);
        expect(rssSlope).toBeLessThan(1);
      } else expect(settled.rssMiB - (samples[0]?.rssMiB ?? settled.rssMiB)).toBeLessThan(32);
      // Audio still flowing in every session at the end (a stalled one gets 0 frames in 2 s; 25 allows for the
      // 20 clients' timers sharing this loaded test process).
      for (const n of endFrames) expect(n).toBeGreaterThanOrEqual(25);
      // The delay the server adds to the echo stays bounded when its JS thread falls behind: the pacer's stalls
      // may add `audioOutMaxStallDelayMs` (100 ms by default) to the stream, the stale rest is dropped. Bounds:
      // the last fifth's backlog within that plus 200 ms (the ring's lookahead and the frame being written,
      // 60-80 ms, and sampling noise), and no more than that above the first fifth's. Before the bound the
      // pacer's skipped slots were never taken back: at load 27-46 the backlog was 4.1 s after 6 s and 8 s
      // from the second fifth on, held there only by the pipeline's queue limits.
      // (SOAK_MAX_STALL_DELAY_MS=3600000, the behaviour before the bound, fails here by design: 1.9-8 s.)
      const stallBound = Math.min(MAX_STALL_DELAY_MS ?? 100, 1000);
      expect(lastFifthBacklog).toBeLessThan(stallBound + 200);
      expect(lastFifthBacklog - firstFifthBacklog).toBeLessThan(stallBound + 100);
      // The probes' echo delay is reported, not bounded: besides aliasing, it includes this test process's own
      // lateness (20 clients at load 20 here: +156 ms over a run whose server backlog stayed at 20 ms).
      expect(early.length).toBeGreaterThan(0);
      expect(late.length).toBeGreaterThan(0);
      const exit = await srv.exit();
      expect(exit).toMatchObject({ code: 0, signal: null });
    },
    SECONDS * 1000 + 180_000,
  );
});
