// Scale bench: N concurrent bidirectional sessions against one server (bench/scale/server.ts) running a bot,
// with the node-datachannel clients in other processes (bench/scale/client.ts, up to 10 sessions per client
// process). For each N, after the sessions are connected and a warm-up, one measuring window reports:
//   server CPU per session (% of one core), RSS per session (MiB above the server's RSS before any session),
//   the server's event-loop delay, the delay the clients hear, and the gaps between the server's RTP packets
//   as received, each as median/p95/p99/max (CPU and RSS over 1 s samples).
// A fresh server per N, so one N's leftovers never count in the next. Loopback only.
//   --bot echo (default): the echo bot of `npm run demo`; the delay is the echo delay.
//   --bot voice-agent: examples/voice-agent.ts on its offline services (espeak-ng); the delay is the bot's
//     response time (end of the user's tone -> first sound of the answer, VAD stop time included).
//   --workers N: the server runs `startSmallWebRTCServer({ workers: N })` (node:cluster, one port); CPU and
//     RSS are summed over the primary and the workers, the event-loop delay is the worst worker's.
//   --silent [dtx|none|full]: connected but silent users (client.ts says what each sends); idle cost only.
// It stops stepping after the first N whose delay median is more than 10 ms above the first N's (unless
// --all-levels), and reports the largest N within 10 ms and sessions per core at that N.
//
// usage: npm run bench:scale [-- --sessions 1,10,50 --seconds 20 --warmup 5] [--bot echo|voice-agent]
//        [--workers N] [--silent [dtx|none|full]] [--all-levels] [--quick]  (--quick: 1,5 / 6 s / 2 s)
import { fork, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { until } from '../../testkit/wait.js';
import {
  dist,
  fmtDist,
  lineChartSvg,
  progress,
  progressDone,
  resultsDir,
  stamp,
  type Dist,
} from '../lib/stats.js';

const QUICK = process.argv.includes('--quick');
function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : def;
}
const LEVELS = arg('sessions', QUICK ? '1,5' : '1,10,50')
  .split(',')
  .map(Number);
const SECONDS = Number(arg('seconds', QUICK ? '6' : '20'));
const WARMUP = Number(arg('warmup', QUICK ? '2' : '5'));
if (LEVELS.some((n) => !Number.isInteger(n) || n < 1) || !(SECONDS > 0) || !(WARMUP >= 0)) {
  throw new RangeError('--sessions takes positive integers, --seconds > 0, --warmup >= 0');
}
const WORKERS = Number(arg('workers', '0'));
const BOT = arg('bot', 'echo');
const SILENT_I = process.argv.indexOf('--silent');
const SILENT =
  SILENT_I < 0
    ? ''
    : ['dtx', 'none', 'full'].includes(process.argv[SILENT_I + 1] ?? '')
      ? process.argv[SILENT_I + 1]!
      : 'dtx';
const ALL_LEVELS = process.argv.includes('--all-levels') || SILENT !== '';
if (!Number.isInteger(WORKERS) || WORKERS < 0 || (BOT !== 'echo' && BOT !== 'voice-agent')) {
  throw new RangeError('--workers takes an integer >= 0 (0: no cluster), --bot echo or voice-agent');
}
/** What ran, for titles and file names. */
const LABEL =
  `${BOT === 'echo' ? 'echo bot' : 'voice agent'}${SILENT ? `, silent users (${SILENT})` : ''}, ` +
  (WORKERS > 0 ? `${WORKERS} worker${WORKERS > 1 ? 's' : ''} (cluster)` : 'one server process');
const SESSIONS_PER_CLIENT = 10;
const DELAY_NAME = BOT === 'echo' ? 'echo delay' : 'response time';
const here = fileURLToPath(new URL('.', import.meta.url));

/** A child process with its IPC messages collected. */
export class Child {
  readonly messages: Array<Record<string, unknown>> = [];
  exited: string | null = null;
  readonly proc: ChildProcess;
  constructor(script: string, args: string[], o: { ownSession?: boolean } = {}) {
    this.proc = fork(join(here, script), args, {
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      // A session of its own (setsid) is, on Linux with autogroup scheduling, a CPU share of its own: the
      // server then does not share one with the client processes of the same run, as it would not in a
      // deployment (the clients are elsewhere). It still exits with this process (IPC disconnect).
      detached: o.ownSession ?? false,
    });
    this.proc.on('message', (m) => this.messages.push(m as Record<string, unknown>));
    this.proc.on(
      'exit',
      (code, signal) => (this.exited = `${script} exited (code ${code}, signal ${signal})`),
    );
  }
  latest(key: string): Record<string, unknown> | undefined {
    return this.messages.findLast((m) => key in m);
  }
  async waitFor(key: string, timeoutMs: number): Promise<Record<string, unknown>> {
    await until(
      () => {
        const err = this.latest('error');
        if (err) throw new Error(String(err['error']));
        if (this.exited !== null && !this.latest(key)) throw new Error(this.exited);
        return this.latest(key) !== undefined;
      },
      timeoutMs,
      `'${key}' from a bench child`,
    );
    return this.latest(key)!;
  }
  send(m: object): void {
    this.proc.send(m);
  }
  async stop(): Promise<void> {
    if (this.exited !== null) return;
    const gone = new Promise<void>((r) => this.proc.once('exit', () => r()));
    const t = setTimeout(() => this.proc.kill('SIGKILL'), 5000);
    if (this.proc.connected) this.send({ close: true });
    this.proc.kill('SIGTERM');
    await gone;
    clearTimeout(t);
  }
}

/** One row of the result: N sessions. */
export interface ScaleRow {
  sessions: number;
  clientProcesses: number;
  /** Serving processes (1, or the cluster's workers) and the sessions each held. */
  processes?: number;
  sessionsPerProcess?: number[];
  /** The busiest JS thread, cores (= jsThreadCores with one process). */
  jsThreadCoresMax?: number;
  /** Voice agent: user turns not answered before the user spoke again. */
  unanswered?: number;
  /** os.loadavg() when the row's window ended. */
  loadavg?: number[];
  /** Server CPU per session, % of one core (1 s samples). */
  cpuPerSessionPct: Dist | null;
  /** Server CPU in cores over the whole window. */
  serverCores: number;
  /** CPU of the server's JS thread alone, cores (the thread every session shares). */
  jsThreadCores: number;
  /**
   * CPU of the server's other threads, cores, by what runs there (bench/scale/server.ts): `encode` the native
   * worker pool (Opus encoding), `network` libdatachannel's threads, `other` the rest (Silero's worker thread,
   * V8, libuv).
   */
  threadCores?: { encode: number; network: number; other: number };
  /** Silero VAD windows analysed per second, and the mean batch size of the model runs. */
  sileroWindowsPerSec: number;
  sileroMeanBatch: number;
  /** Server RSS per session above its RSS before any session, MiB (1 s samples). */
  rssPerSessionMiB: Dist | null;
  baseRssMiB: number;
  /** Server RSS, MiB (1 s samples). */
  rssMiB: Dist | null;
  /** The worst client process's event-loop delay p99, ms (a late client inflates its echo delay). */
  clientLoopP99Ms: number;
  /** The bot's output backlog per session at the end of the window (its stats message), ms. */
  botBacklogMs: Dist | null;
  eventLoopDelayMs: Dist;
  echoDelayMs: Dist | null;
  packetGapMs: Dist | null;
  onsetsSent: number;
  onsetsHeard: number;
  failedSessions: number;
}

async function runLevel(n: number): Promise<ScaleRow> {
  const label = `scale N=${n}`;
  progress(`${label}: starting the server`);
  const server = new Child('server.ts', ['--workers', String(WORKERS), '--bot', BOT], { ownSession: true });
  const clients: Child[] = [];
  try {
    const ready = await server.waitFor('ready', 60_000);
    const url = String(ready['url']);
    const baseRss = Number(ready['baseRssBytes']);
    for (let left = n; left > 0; left -= SESSIONS_PER_CLIENT) {
      clients.push(
        new Child('client.ts', [
          '--url',
          url,
          '--sessions',
          String(Math.min(left, SESSIONS_PER_CLIENT)),
          '--bot',
          BOT,
          ...(SILENT ? ['--silent', SILENT] : []),
        ]),
      );
    }
    const connected = (): number =>
      clients.reduce((a, c) => a + Number(c.latest('connected')?.['connected'] ?? 0), 0);
    await until(
      () => {
        progress(`${label}: connecting ${connected()}/${n}`);
        for (const c of clients) {
          const err = c.latest('error');
          if (err) throw new Error(`client: ${String(err['error'])}`);
          if (c.exited) throw new Error(c.exited);
        }
        return clients.every((c) => c.latest('ready'));
      },
      60_000 + n * 3000,
      'all sessions connected',
      { intervalMs: 250 },
    );
    for (let s = WARMUP; s > 0; s--) {
      progress(`${label}: ${n} sessions up, warming up ${s} s`);
      await new Promise((r) => setTimeout(r, 1000));
    }
    server.send({ start: true });
    for (const c of clients) c.send({ start: true });
    for (let s = 0; s < SECONDS; s++) {
      progress(`${label}: measuring ${s}/${SECONDS} s`);
      await new Promise((r) => setTimeout(r, 1000));
      if (server.exited) throw new Error(server.exited);
    }
    const before = server.messages.length;
    server.send({ stop: true });
    for (const c of clients) c.send({ stop: true });
    await until(
      () => server.messages.slice(before).some((m) => 'measured' in m),
      30_000,
      'server measurement',
    );
    await until(() => clients.every((c) => c.latest('result')), 30_000, 'client results');
    const m = server.latest('measured')?.['measured'] as {
      processes: number;
      sessionsPerProcess: number[];
      jsThreadCoresMax: number;
      sessions: number;
      failedSessions: number;
      coresMean: number;
      jsThreadCores: number;
      threadCores: { encode: number; network: number; other: number };
      sileroWindowsPerSec: number;
      sileroMeanBatch: number;
      cores: number[];
      rssBytes: number[];
      eventLoopDelayMs: Dist;
    };
    const results = clients.map(
      (c) =>
        c.latest('result') as {
          result: {
            delays: number[];
            gaps: number[];
            onsetsSent: number;
            onsetsHeard: number;
            loopP99Ms: number;
            backlogMs: number[];
            unanswered?: number;
          };
        },
    );
    const r = results.map((x) => x.result);
    const MiB = 1024 * 1024;
    const el = m.eventLoopDelayMs;
    return {
      sessions: n,
      clientProcesses: clients.length,
      processes: m.processes,
      sessionsPerProcess: m.sessionsPerProcess,
      jsThreadCoresMax: Number(m.jsThreadCoresMax.toFixed(3)),
      unanswered: r.reduce((a, x) => a + (x.unanswered ?? 0), 0),
      loadavg: loadavg().map((x) => +x.toFixed(2)),
      cpuPerSessionPct: dist(
        m.cores.map((c) => (100 * c) / n),
        2,
      ),
      serverCores: Number(m.coresMean.toFixed(3)),
      jsThreadCores: Number(m.jsThreadCores.toFixed(3)),
      threadCores: {
        encode: Number(m.threadCores.encode.toFixed(3)),
        network: Number(m.threadCores.network.toFixed(3)),
        other: Number(m.threadCores.other.toFixed(3)),
      },
      sileroWindowsPerSec: Math.round(m.sileroWindowsPerSec),
      sileroMeanBatch: Number(m.sileroMeanBatch.toFixed(1)),
      rssPerSessionMiB: dist(
        m.rssBytes.map((b) => (b - baseRss) / MiB / n),
        2,
      ),
      baseRssMiB: Number((baseRss / MiB).toFixed(1)),
      rssMiB: dist(m.rssBytes.map((b) => b / MiB)),
      botBacklogMs: dist(r.flatMap((x) => x.backlogMs)),
      clientLoopP99Ms: Number(Math.max(...r.map((x) => x.loopP99Ms)).toFixed(1)),
      eventLoopDelayMs: {
        n: 0,
        median: +el.median.toFixed(1),
        p95: +el.p95.toFixed(1),
        p99: +el.p99.toFixed(1),
        max: +el.max.toFixed(1),
      },
      echoDelayMs: dist(r.flatMap((x) => x.delays)),
      packetGapMs: dist(r.flatMap((x) => x.gaps)),
      onsetsSent: r.reduce((a, x) => a + x.onsetsSent, 0),
      onsetsHeard: r.reduce((a, x) => a + x.onsetsHeard, 0),
      failedSessions: m.failedSessions,
    };
  } finally {
    progress(`${label}: closing`);
    await Promise.all(clients.map((c) => c.stop()));
    await server.stop();
  }
}

/** Sessions per core of server CPU at the row of the largest N within 10 ms (N / server cores there). */
export function sessionsPerCore(rows: readonly ScaleRow[]): number | null {
  const n = largestWithin10ms(rows);
  const r = rows.find((x) => x.sessions === n);
  return r && r.serverCores > 0 ? Math.round(r.sessions / r.serverCores) : null;
}

/** The largest N whose echo-delay median is within 10 ms of the one-session (smallest N) median. */
export function largestWithin10ms(rows: readonly ScaleRow[]): number | null {
  const base = rows[0]?.echoDelayMs?.median;
  if (base === undefined) return null;
  let best: number | null = null;
  for (const r of rows) if (r.echoDelayMs && r.echoDelayMs.median <= base + 10) best = r.sessions;
  return best;
}

/** The Markdown table of a scale result (also used by the README and bench/run.ts). */
export function scaleTable(rows: readonly ScaleRow[]): string {
  const lines = [
    '| sessions | server CPU, cores | JS thread, cores | encode / network / other threads, cores | CPU per session, % of a core | CPU per added session, % of a core | server RSS, MiB | RSS per session, MiB | server event-loop delay, ms | echo delay (voice agent: response time), ms | server packet gap, ms | bot output backlog, ms | client loop p99, ms | Silero windows/s (mean batch) | load average |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  rows.forEach((r, i) => {
    // What the sessions added since the previous row cost each: the process's fixed cost cancels out.
    const prev = rows[i - 1];
    const added = prev
      ? ((100 * (r.serverCores - prev.serverCores)) / (r.sessions - prev.sessions)).toFixed(2)
      : '-';
    // With several workers: the JS threads summed, and the busiest one.
    const js =
      (r.processes ?? 1) > 1 ? `${r.jsThreadCores} (max ${r.jsThreadCoresMax})` : `${r.jsThreadCores}`;
    const t = r.threadCores;
    lines.push(
      `| ${r.sessions} | ${r.serverCores} | ${js} | ${t ? `${t.encode} / ${t.network} / ${t.other}` : '-'} | ${fmtDist(r.cpuPerSessionPct)} | ${added} | ${r.rssMiB?.median ?? '-'} | ${fmtDist(r.rssPerSessionMiB)} | ${fmtDist(r.eventLoopDelayMs)} | ${fmtDist(r.echoDelayMs)} | ${fmtDist(r.packetGapMs)} | ${fmtDist(r.botBacklogMs)} | ${r.clientLoopP99Ms} | ${r.sileroWindowsPerSec} (${r.sileroMeanBatch}) | ${r.loadavg?.join(', ') ?? '-'} |`,
    );
  });
  return (
    `${lines.join('\n')}\n\nEach cell: median / p95 / p99 / max (server RSS: median). RSS per session is above the server's RSS ` +
    `before its first session, so it includes what the first session loads once for all (the Silero model, onnxruntime).\n`
  );
}

/** Latency against N: echo delay (median, p95) and the server's event-loop delay p99, ms. */
export function scaleChart(rows: readonly ScaleRow[], label = 'echo bot, one server process'): string {
  const pick = (f: (r: ScaleRow) => number | undefined): Array<[number, number]> =>
    rows.flatMap((r) => {
      const v = f(r);
      return v === undefined ? [] : [[r.sessions, v] as [number, number]];
    });
  return lineChartSvg({
    title: `Sessions (${label}): delay`,
    xLabel: 'concurrent sessions',
    yLabel: 'ms',
    series: [
      { name: `${DELAY_NAME} median`, points: pick((r) => r.echoDelayMs?.median) },
      { name: `${DELAY_NAME} p95`, points: pick((r) => r.echoDelayMs?.p95) },
      { name: 'server event loop p99', points: pick((r) => r.eventLoopDelayMs.p99) },
    ],
  });
}

/** Cost against N: server CPU per session (% of a core, median) and RSS per session (MiB, median). */
export function scaleCostChart(rows: readonly ScaleRow[], label = 'echo bot, one server process'): string {
  const pick = (f: (r: ScaleRow) => number | undefined): Array<[number, number]> =>
    rows.flatMap((r) => {
      const v = f(r);
      return v === undefined ? [] : [[r.sessions, v] as [number, number]];
    });
  return lineChartSvg({
    title: `Sessions (${label}): cost`,
    xLabel: 'concurrent sessions',
    yLabel: '% of a core  /  MiB',
    series: [
      { name: 'CPU per session, %', points: pick((r) => r.cpuPerSessionPct?.median) },
      { name: 'RSS per session, MiB', points: pick((r) => r.rssPerSessionMiB?.median) },
    ],
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const rows: ScaleRow[] = [];
  const loadAtStart = loadavg();
  for (const n of LEVELS) {
    const row = await runLevel(n);
    rows.push(row);
    const base = rows[0]?.echoDelayMs?.median;
    const broke =
      row.failedSessions > 0 ||
      (base !== undefined && row.echoDelayMs !== null && row.echoDelayMs.median > base + 10);
    if (broke && !ALL_LEVELS) break;
  }
  progressDone();
  const report = {
    bench: 'scale',
    bot: BOT,
    workers: WORKERS,
    silent: SILENT || null,
    echoDtx: process.env['SCALE_ECHO_DTX'] === '1',
    label: LABEL,
    command: `npm run bench:scale -- ${process.argv.slice(2).join(' ')}`.trim(),
    date: new Date().toISOString(),
    quick: QUICK,
    seconds: SECONDS,
    warmupSeconds: WARMUP,
    machine: {
      cpus: cpus().length,
      model: cpus()[0]?.model ?? '?',
      memGiB: +(totalmem() / 2 ** 30).toFixed(1),
      loadavg: loadAtStart,
      loadAtEnd: loadavg(),
    },
    node: process.version,
    largestWithin10msOfOneSession: SILENT ? null : largestWithin10ms(rows),
    sessionsPerCoreThere: SILENT ? null : sessionsPerCore(rows),
    rows,
  };
  const dir = resultsDir();
  const tag = `${BOT}${SILENT ? `-silent-${SILENT}` : ''}${WORKERS > 0 ? `-w${WORKERS}` : ''}`;
  const base = `scale-${tag}-${stamp()}`;
  writeFileSync(join(dir, `${base}.json`), JSON.stringify(report, null, 2) + '\n');
  writeFileSync(join(dir, 'scale-latest.json'), JSON.stringify(report, null, 2) + '\n');
  writeFileSync(join(dir, `${base}.svg`), scaleChart(rows, LABEL));
  writeFileSync(join(dir, `${base}-cost.svg`), scaleCostChart(rows, LABEL));
  console.log(`\nscale (${LABEL}, ${SECONDS} s window):\n`);
  console.log(scaleTable(rows));
  if (!SILENT) {
    console.log(
      `largest N within 10 ms of the ${rows[0]?.sessions}-session ${DELAY_NAME}: ` +
        `${report.largestWithin10msOfOneSession}, ${report.sessionsPerCoreThere} sessions per core of server CPU there`,
    );
  }
  const la = (l: number[]): string => l.map((x) => x.toFixed(2)).join(', ');
  console.log(`load average at the start ${la(loadAtStart)}, at the end ${la(loadavg())}`);
  console.log(`saved ${join(dir, `${base}.json`)}`);
}
