/**
 * Soak: SOAK_SESSIONS (20; 8 in the 60 s CI variant) live echo sessions against one server process (test/reliability/bot-server-child.ts)
 * for SOAK_SECONDS (60 in `npm test`; `npm run soak` runs 1,800). Every session sends Opus every 20 ms; two
 * of them send a tone burst each second and time its echo. Checked: memory is flat (least-squares slope of
 * the server's heap, and of its RSS in runs of 10 minutes or more, sampled after a full GC, over the run after
 * its first fifth), every session's audio still reaches its bot at the end, and the server exits by itself.
 * The echo delay (first fifth vs last fifth) is reported; it is not bounded yet (it grew, docs/reliability.md).
 */
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
    `${SESSIONS} echo sessions for ${SECONDS} s: flat memory, audio flowing at the end (echo delay reported)`,
    async () => {
      const srv = await start({ livenessTimeoutSecs: 5 });
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
      const jbAtStart = jbDelay(await srv.stats());
      const endAt = t0 + SECONDS * 1000;
      const probes = clients.slice(0, PROBES).map((c) => probe(c, () => performance.now() >= endAt));
      const samples: Array<{ min: number; rssMiB: number; heapMiB: number }> = [];
      let last: ServerStats = await srv.statsAfterGc();
      while (performance.now() < endAt) {
        await sleep(Math.min(SAMPLE_MS, Math.max(0, endAt - performance.now())));
        last = await srv.statsAfterGc();
        samples.push({
          min: (performance.now() - t0) / 60_000,
          rssMiB: last.rssMiB,
          heapMiB: last.heapUsedMiB,
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
      const figure = {
        sessions: SESSIONS,
        seconds: SECONDS,
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
        probeJitterBufferTargetMs: { start: jbAtStart, end: jbDelay(b) },
        endFramesIn2s: { min: Math.min(...endFrames), median: median(endFrames) },
        samples: samples
          .map((s) => `${s.min.toFixed(1)}:${s.rssMiB.toFixed(1)}/${s.heapMiB.toFixed(1)}`)
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
      // The echo delay is measured and reported, not yet bounded: it grew in the 60 s runs here (open work,
      // docs/reliability.md).
      expect(early.length).toBeGreaterThan(0);
      expect(late.length).toBeGreaterThan(0);
      const exit = await srv.exit();
      expect(exit).toMatchObject({ code: 0, signal: null });
    },
    SECONDS * 1000 + 180_000,
  );
});
