// Scale bench, server side (a child process of bench/scale/run.ts): our HTTP signalling server running a bot
// for every client, on loopback:
//   --bot echo (default): the echo bot of `npm run demo` (examples/echo-bot.ts: Silero VAD, RTVI, echo, 1 s
//     stats messages);
//   --bot voice-agent: the pipeline of examples/voice-agent.ts (Silero VAD, RTVI, STT -> LLM -> TTS, with
//     interruptions) on its offline services: TurnDurationSTT, RuleBasedLLM and espeak-ng (BeepTTS without it);
//   --workers N: `startSmallWebRTCServer({ workers: N })` (node:cluster, one public port). This script then
//     runs in the primary and in each worker; the bot runs in the worker that owns the session.
// It measures itself, so the clients' own CPU never counts:
//   - CPU and RSS from /proc/<pid>/stat of this process and, in cluster mode, of every worker, summed, per 1 s
//     interval, in cores (utime + stime of all threads, plus cutime + cstime: the reaped children, i.e. the
//     voice agent's espeak-ng runs);
//   - per serving process (the process, or each worker): the JS thread's own CPU (process.threadCpuUsage),
//     Silero VAD windows analysed per second and the mean batch size of its runs (sileroBatchStats), and the
//     event-loop delay (perf_hooks.monitorEventLoopDelay, 10 ms resolution, as the lateness of a 10 ms timer);
//     in cluster mode the JS threads are summed and the worst worker's event-loop delay is reported;
//   - per serving process, the CPU of its other threads by what runs there, from each thread's name
//     (bench/lib/thread-cpu.ts): `encode` (the native worker pools, i.e. the bots' Opus encoding), `network`
//     (libdatachannel's threads), `other` (the Silero worker_threads thread, V8, libuv);
//   - RSS before any session (`baseRssBytes`, summed the same way).
// IPC: child -> parent `{ ready, url, baseRssBytes, pids }`, then `{ measured: ... }` after `{ stop }`;
// parent -> child `{ start }` (begin the window) and `{ stop }`. In cluster mode the primary relays both to
// its workers (`{ benchStart }` / `{ benchStop }`) and gathers their `{ benchMeasured }`.
// Profiling: with SCALE_CPU_PROF=<dir> in the environment, each serving process's JS-thread CPU profile over
// the measuring window is written to <dir>/scale-server-<sessions>[-w<id>].cpuprofile (node:inspector; open it
// in Chrome DevTools or summarize it with `node bench/scale/profile-summary.mjs <file>`).
import cluster from 'node:cluster';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { Session as InspectorSession } from 'node:inspector/promises';
import { join } from 'node:path';
import { monitorEventLoopDelay, performance, type IntervalHistogram } from 'node:perf_hooks';

import { benchServerOptions } from '../lib/server-options.js';
import { threadCpuByGroup, type ThreadGroup as LibThreadGroup } from '../lib/thread-cpu.js';
import { consoleLogger, setLogger } from '../../src/logger.js';
import { startSmallWebRTCServer } from '../../src/server/index.js';
import { sileroBatchStats } from '../../src/vad/index.js';
import { runEchoBot } from '../../examples/echo-bot.js';
import {
  BeepTTS,
  EspeakTTS,
  RuleBasedLLM,
  TurnDurationSTT,
  hasEspeak,
  runVoiceAgent,
} from '../../examples/voice-agent.js';
import type { SmallWebRTCConnection, SmallWebRTCServerOptions } from '../../src/index.js';

setLogger(consoleLogger('error'));

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : def;
}
const WORKERS = Number(arg('workers', '0'));
const BOT = arg('bot', 'echo');
if (BOT !== 'echo' && BOT !== 'voice-agent') throw new RangeError('--bot is echo or voice-agent');

const EL_RESOLUTION_MS = 10;
// SCALE_ECHO_DTX=1 turns the echo bot's Opus DTX on (its default is off; before/after comparisons).
const ECHO_DTX = process.env['SCALE_ECHO_DTX'] === '1';
// SCALE_ECHO_MAX_BACKLOG_MS sets the echo's EchoProcessorOptions.maxBacklogMs (default 20; 100 was the old
// default, whose echo delay ratcheted up with the sessions' jitter).
const ECHO_MAX_BACKLOG_MS = process.env['SCALE_ECHO_MAX_BACKLOG_MS']
  ? Number(process.env['SCALE_ECHO_MAX_BACKLOG_MS'])
  : undefined;
// process.threadCpuUsage (Node 22.19+/23.9+) is not in @types/node yet.
const threadCpuUsage = (
  process as unknown as { threadCpuUsage(prev?: NodeJS.CpuUsage): NodeJS.CpuUsage }
).threadCpuUsage.bind(process);

const role: 'single' | 'primary' | 'worker' =
  WORKERS > 0 ? (cluster.isPrimary ? 'primary' : 'worker') : 'single';

function runBot(connection: SmallWebRTCConnection): Promise<void> {
  if (BOT === 'echo')
    return runEchoBot(connection, {
      dtx: ECHO_DTX,
      ...(ECHO_MAX_BACKLOG_MS !== undefined ? { maxBacklogMs: ECHO_MAX_BACKLOG_MS } : {}),
    });
  return runVoiceAgent(connection, {
    services: {
      stt: new TurnDurationSTT(),
      llm: new RuleBasedLLM(),
      tts: hasEspeak() ? new EspeakTTS() : new BeepTTS(),
    },
  });
}

let sessions = 0;
let failedSessions = 0;
const options: SmallWebRTCServerOptions = benchServerOptions((connection) => {
  sessions++;
  runBot(connection)
    .catch((err: unknown) => {
      failedSessions++;
      console.error(`${BOT} session failed: ${String(err)}`);
    })
    .finally(() => sessions--);
});
const server =
  WORKERS > 0
    ? await startSmallWebRTCServer({ ...options, workers: WORKERS, restartWorkers: false })
    : await startSmallWebRTCServer(options);

// ---- /proc sampling (the process and its workers) --------------------------------------------------------

const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
const PAGE = Number(execFileSync('getconf', ['PAGESIZE']).toString().trim()) || 4096;

/** CPU seconds (own threads + reaped children) and RSS bytes of `pid`, or null if it is gone. */
function procStat(pid: number): { cpuSec: number; rssBytes: number } | null {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after "(comm)": state is field 3, utime 14, stime 15, cutime 16, cstime 17, rss 24.
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    const n = (field: number): number => Number(f[field - 3]);
    return { cpuSec: (n(14) + n(15) + n(16) + n(17)) / CLK_TCK, rssBytes: n(24) * PAGE };
  } catch {
    return null;
  }
}

let pids: number[] = [process.pid];
function sampleAll(): { cpuSec: number; rssBytes: number } {
  let cpuSec = 0;
  let rssBytes = 0;
  for (const pid of pids) {
    const s = procStat(pid);
    if (s) {
      cpuSec += s.cpuSec;
      rssBytes += s.rssBytes;
    }
  }
  return { cpuSec, rssBytes };
}

// ---- per serving process: JS thread, Silero, event loop --------------------------------------------------

/** Cores of the process's non-JS threads by group (bench/lib/thread-cpu.ts; `encode` = its `workers`). */
type ThreadGroup = 'encode' | 'network' | 'other';

interface LocalWindow {
  histogram: IntervalHistogram;
  startThreadCpu: NodeJS.CpuUsage;
  startGroups: Record<LibThreadGroup, number>;
  startSilero: { runs: number; windows: number };
  startAt: number;
}
interface LocalMeasured {
  sessions: number;
  failedSessions: number;
  jsThreadCores: number;
  /** Cores of the process's other threads by group. */
  threadCores: Record<ThreadGroup, number>;
  sileroWindows: number;
  sileroRuns: number;
  wallMs: number;
  eventLoopDelayMs: { median: number; p95: number; p99: number; max: number };
}
let local: LocalWindow | null = null;

function startLocal(): void {
  const histogram = monitorEventLoopDelay({ resolution: EL_RESOLUTION_MS });
  histogram.enable();
  local = {
    histogram,
    startThreadCpu: threadCpuUsage(),
    startGroups: threadCpuByGroup(process.pid),
    startSilero: sileroBatchStats(),
    startAt: performance.now(),
  };
}

function stopLocal(): LocalMeasured {
  const w = local;
  if (!w) throw new Error('stop without start');
  local = null;
  w.histogram.disable();
  const threadCpu = threadCpuUsage(w.startThreadCpu);
  const groups = threadCpuByGroup(process.pid);
  const wallMs = performance.now() - w.startAt;
  const groupCores = (g: LibThreadGroup): number => (groups[g] - w.startGroups[g]) / (wallMs / 1000);
  const silero = sileroBatchStats();
  // The histogram records whole timer intervals (a 10 ms timer on an idle loop records ~10 ms): the delay is
  // the excess over the resolution.
  const ms = (ns: number): number => Math.max(0, ns / 1e6 - EL_RESOLUTION_MS);
  return {
    sessions,
    failedSessions,
    jsThreadCores: (threadCpu.user + threadCpu.system) / (wallMs * 1000),
    threadCores: {
      encode: groupCores('workers'),
      network: groupCores('network'),
      other: groupCores('other'),
    },
    sileroWindows: silero.windows - w.startSilero.windows,
    sileroRuns: silero.runs - w.startSilero.runs,
    wallMs,
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
  const tag = role === 'worker' ? `-w${cluster.worker!.id}` : '';
  writeFileSync(join(PROFILE_DIR, `scale-server-${sessions}${tag}.cpuprofile`), JSON.stringify(profile));
  inspector.disconnect();
  inspector = null;
}

if (role === 'worker') {
  // Measured by the primary's /proc sampling; here only what the worker alone can see.
  process.on('message', (m: unknown) => {
    const msg = m as { benchStart?: boolean; benchStop?: boolean } | null;
    if (msg?.benchStart) void startProfile().then(startLocal);
    if (msg?.benchStop) {
      const measured = stopLocal();
      void stopProfile().then(() => process.send?.({ benchMeasured: measured }));
    }
  });
  process.on('disconnect', () => process.exit(0));
} else {
  // The serving processes: this one (single) or the workers (primary), whose pids /proc sampling reads.
  const workerList = (): Array<import('node:cluster').Worker> =>
    Object.values(cluster.workers ?? {}).filter((w) => w !== undefined);
  if (role === 'primary' && 'waitForWorkers' in server) {
    await server.waitForWorkers(WORKERS, 60_000);
    pids = [process.pid, ...server.workers().map((w) => w.pid)];
  }
  let timer: NodeJS.Timeout | null = null;
  let cores: number[] = [];
  let rssBytes: number[] = [];
  let start = { cpuSec: 0, at: 0 };

  const startWindow = async (): Promise<void> => {
    if (role === 'primary') for (const w of workerList()) w.send({ benchStart: true });
    else await startProfile().then(startLocal);
    let last = { ...sampleAll(), at: performance.now() };
    start = { cpuSec: last.cpuSec, at: last.at };
    cores = [];
    rssBytes = [];
    timer = setInterval(() => {
      const now = { ...sampleAll(), at: performance.now() };
      cores.push((now.cpuSec - last.cpuSec) / ((now.at - last.at) / 1000));
      rssBytes.push(now.rssBytes);
      last = now;
    }, 1000);
  };

  const stopWindow = async (): Promise<Record<string, unknown>> => {
    if (timer) clearInterval(timer);
    const end = { ...sampleAll(), at: performance.now() };
    let parts: LocalMeasured[];
    if (role === 'primary') {
      const ws = workerList();
      parts = await Promise.all(
        ws.map(
          (w) =>
            new Promise<LocalMeasured>((resolve) => {
              const on = (m: { benchMeasured?: LocalMeasured } | null): void => {
                if (!m?.benchMeasured) return;
                w.off('message', on);
                resolve(m.benchMeasured);
              };
              w.on('message', on);
              w.send({ benchStop: true });
            }),
        ),
      );
    } else {
      const m = stopLocal();
      await stopProfile();
      parts = [m];
    }
    const sileroWindows = parts.reduce((a, p) => a + p.sileroWindows, 0);
    const sileroRuns = parts.reduce((a, p) => a + p.sileroRuns, 0);
    const wallMs = Math.max(...parts.map((p) => p.wallMs));
    const worst = parts.reduce((a, p) => (p.eventLoopDelayMs.p99 > a.eventLoopDelayMs.p99 ? p : a));
    return {
      processes: parts.length,
      sessions: parts.reduce((a, p) => a + p.sessions, 0),
      sessionsPerProcess: parts.map((p) => p.sessions),
      failedSessions: parts.reduce((a, p) => a + p.failedSessions, 0),
      wallMs,
      coresMean: (end.cpuSec - start.cpuSec) / ((end.at - start.at) / 1000),
      jsThreadCores: parts.reduce((a, p) => a + p.jsThreadCores, 0),
      jsThreadCoresMax: Math.max(...parts.map((p) => p.jsThreadCores)),
      threadCores: {
        encode: parts.reduce((a, p) => a + p.threadCores.encode, 0),
        network: parts.reduce((a, p) => a + p.threadCores.network, 0),
        other: parts.reduce((a, p) => a + p.threadCores.other, 0),
      },
      sileroWindowsPerSec: (1000 * sileroWindows) / wallMs,
      sileroMeanBatch: sileroRuns > 0 ? sileroWindows / sileroRuns : 0,
      cores,
      rssBytes,
      eventLoopDelayMs: worst.eventLoopDelayMs,
    };
  };

  process.on('message', (m: unknown) => {
    const msg = m as { start?: boolean; stop?: boolean; close?: boolean };
    if (msg.start) void startWindow();
    if (msg.stop) void stopWindow().then((measured) => process.send?.({ measured }));
    if (msg.close) void server.close().finally(() => process.exit(0));
  });
  process.on('disconnect', () => process.exit(0));
  process.send?.({ ready: true, url: server.url, baseRssBytes: sampleAll().rssBytes, pids });
}
