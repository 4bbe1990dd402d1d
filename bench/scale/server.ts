// Scale bench, server side (a child process of bench/scale/run.ts): our HTTP signalling server running the
// echo bot of `npm run demo` (examples/echo-bot.ts: Silero VAD, RTVI, echo, 1 s stats messages) for every
// client, on loopback. It measures itself, so the clients' own CPU never counts:
//   - CPU: process.cpuUsage() deltas per 1 s interval, in cores (user + system, all threads of the process:
//     the JS thread, libuv, node-datachannel's and onnxruntime's threads);
//   - the JS thread's own CPU (process.threadCpuUsage), since that one thread carries every session;
//   - Silero VAD windows analysed per second and the mean batch size of its runs (sileroBatchStats);
//   - RSS: process.memoryUsage().rss per interval, and once before any session (`baseRssBytes`);
//   - event-loop delay: perf_hooks.monitorEventLoopDelay (10 ms resolution) over the measuring window, as
//     the lateness of a 10 ms timer.
// IPC: child -> parent `{ ready, url, baseRssBytes }`, then `{ measured: ... }` after `{ stop }`;
// parent -> child `{ start }` (begin the window) and `{ stop }`.
// Profiling: with SCALE_CPU_PROF=<dir> in the environment, the JS thread's CPU profile over the measuring
// window is written to <dir>/scale-server-<sessions>.cpuprofile (node:inspector; open it in Chrome DevTools or
// summarize it with `node bench/scale/profile-summary.mjs <file>`).
import { writeFileSync } from 'node:fs';
import { Session as InspectorSession } from 'node:inspector/promises';
import { join } from 'node:path';
import { monitorEventLoopDelay, performance, type IntervalHistogram } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

import { consoleLogger, setLogger } from '../../src/logger.js';
import { startSmallWebRTCServer } from '../../src/server/index.js';
import { sileroBatchStats } from '../../src/vad/index.js';
import { runEchoBot } from '../../examples/echo-bot.js';

setLogger(consoleLogger('error'));

const EL_RESOLUTION_MS = 10;
// SCALE_ECHO_DTX=1 turns the echo bot's Opus DTX on (its default is off; before/after comparisons).
const ECHO_DTX = process.env['SCALE_ECHO_DTX'] === '1';
// process.threadCpuUsage (Node 22.19+/23.9+) is not in @types/node yet.
const threadCpuUsage = (
  process as unknown as { threadCpuUsage(prev?: NodeJS.CpuUsage): NodeJS.CpuUsage }
).threadCpuUsage.bind(process);
let sessions = 0;
let failedSessions = 0;
const server = await startSmallWebRTCServer({
  port: 0,
  host: '127.0.0.1',
  staticDir: fileURLToPath(new URL('../../testkit/pages/', import.meta.url)),
  iceServers: [],
  connectionOptions: { bindAddress: '127.0.0.1' },
  maxConnections: 10_000,
  // Every client comes from 127.0.0.1: the per-address limits would stop the run at 10 sessions.
  maxConnectionsPerAddress: Infinity,
  offerRatePerAddress: null,
  // The bench measures past the point where load-aware admission would send new sessions elsewhere.
  load: false,
  logger: { debug() {}, info() {}, warn() {}, error: (m: string) => console.error(m) },
  onNewConnection: (connection) => {
    sessions++;
    runEchoBot(connection, { dtx: ECHO_DTX })
      .catch((err: unknown) => {
        failedSessions++;
        console.error(`echo session failed: ${String(err)}`);
      })
      .finally(() => sessions--);
  },
});

interface Window {
  histogram: IntervalHistogram;
  timer: NodeJS.Timeout;
  cores: number[];
  rssBytes: number[];
  startCpu: NodeJS.CpuUsage;
  /** CPU of the JS thread alone (process.threadCpuUsage): the thread every session shares. */
  startThreadCpu: NodeJS.CpuUsage;
  startSilero: { runs: number; windows: number };
  startAt: number;
}
let window: Window | null = null;

function startWindow(): void {
  const histogram = monitorEventLoopDelay({ resolution: EL_RESOLUTION_MS });
  histogram.enable();
  let lastCpu = process.cpuUsage();
  let lastAt = performance.now();
  const w: Window = {
    histogram,
    cores: [],
    rssBytes: [],
    startCpu: lastCpu,
    startThreadCpu: threadCpuUsage(),
    startSilero: sileroBatchStats(),
    startAt: lastAt,
    timer: setInterval(() => {
      const cpu = process.cpuUsage(lastCpu);
      const now = performance.now();
      // cpuUsage is in microseconds; wall time in ms: cores = us / (ms * 1000).
      w.cores.push((cpu.user + cpu.system) / ((now - lastAt) * 1000));
      w.rssBytes.push(process.memoryUsage().rss);
      lastCpu = process.cpuUsage();
      lastAt = now;
    }, 1000),
  };
  window = w;
}

function stopWindow(): Record<string, unknown> {
  const w = window;
  if (!w) throw new Error('stop without start');
  window = null;
  clearInterval(w.timer);
  w.histogram.disable();
  const cpu = process.cpuUsage(w.startCpu);
  const threadCpu = threadCpuUsage(w.startThreadCpu);
  const wallMs = performance.now() - w.startAt;
  const silero = sileroBatchStats();
  const sileroRuns = silero.runs - w.startSilero.runs;
  const sileroWindows = silero.windows - w.startSilero.windows;
  // The histogram records whole timer intervals (a 10 ms timer on an idle loop records ~10 ms): the delay is
  // the excess over the resolution.
  const ms = (ns: number): number => Math.max(0, ns / 1e6 - EL_RESOLUTION_MS);
  return {
    sessions,
    failedSessions,
    wallMs,
    coresMean: (cpu.user + cpu.system) / (wallMs * 1000),
    jsThreadCores: (threadCpu.user + threadCpu.system) / (wallMs * 1000),
    sileroWindowsPerSec: (1000 * sileroWindows) / wallMs,
    sileroMeanBatch: sileroRuns > 0 ? sileroWindows / sileroRuns : 0,
    cores: w.cores,
    rssBytes: w.rssBytes,
    eventLoopDelayMs: {
      median: ms(w.histogram.percentile(50)),
      p95: ms(w.histogram.percentile(95)),
      p99: ms(w.histogram.percentile(99)),
      max: ms(w.histogram.max),
    },
  };
}

const PROFILE_DIR = process.env['SCALE_CPU_PROF'];
let inspector: InspectorSession | null = null;
async function startProfile(): Promise<void> {
  if (!PROFILE_DIR) return;
  inspector = new InspectorSession();
  inspector.connect();
  await inspector.post('Profiler.enable');
  await inspector.post('Profiler.setSamplingInterval', { interval: 500 });
  await inspector.post('Profiler.start');
}
async function stopProfile(): Promise<void> {
  if (!PROFILE_DIR || !inspector) return;
  const { profile } = await inspector.post('Profiler.stop');
  writeFileSync(join(PROFILE_DIR, `scale-server-${sessions}.cpuprofile`), JSON.stringify(profile));
  inspector.disconnect();
  inspector = null;
}

process.on('message', (m: unknown) => {
  const msg = m as { start?: boolean; stop?: boolean; sessions?: boolean };
  if (msg.start) void startProfile().then(startWindow);
  if (msg.stop) {
    const measured = stopWindow();
    void stopProfile().then(() => process.send?.({ measured }));
  }
  if (msg.sessions) process.send?.({ sessions });
});
process.on('disconnect', () => process.exit(0));
process.send?.({ ready: true, url: server.url, baseRssBytes: process.memoryUsage().rss });
