// Contenders bench: the same echo, side by side in one run, each server in its own process and called by the
// same clients (bench/scale/client.ts in a child process: node-datachannel peers laid out like the Pipecat web
// client, 1 s of tone / 1.5 s of silence, the echo's onset timed as heard):
//   small-webrtc  the echo bot of `npm run demo` (examples/echo-bot.ts: Silero VAD on, RTVI)
//   aiortc        bench/contenders/aiortc_echo_server.py on Debian's python3-aiortc, the WebRTC stack of
//                 Pipecat's Python SmallWebRTCTransport, echoing through 16 kHz as Pipecat's pipeline does
//                 (no VAD: the comparison favours it on CPU)
// Per server and session count: the round trip the clients hear, the server process's CPU (from
// /proc/<pid>/stat over the window) per session, its RSS, and the ratios aiortc / small-webrtc.
// The pure-JS codec path (opusscript + a JS resampler) is compared per chunk in bench/micro.
//
// usage: npm run bench:contenders [-- --quick] [--sessions 1,5] [--seconds N]
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

import { aiortcAvailable, PYTHON } from '../../testkit/aiortc-process.js';
import { sleep, until } from '../../testkit/wait.js';
import { dist, progress, progressDone, resultsDir, stamp, type Dist } from '../lib/stats.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : fallback;
}
const QUICK = process.argv.includes('--quick');
const LEVELS = arg('sessions', QUICK ? '1' : '1,5')
  .split(',')
  .map(Number);
const SECONDS = Number(arg('seconds', QUICK ? '6' : '25'));
const WARMUP_MS = QUICK ? 2000 : 6000;
const root = fileURLToPath(new URL('../..', import.meta.url));
const TICKS_PER_S = 100; // USER_HZ on Linux

interface Row {
  server: 'small-webrtc' | 'aiortc';
  sessions: number;
  connected: number;
  onsetsSent: number;
  onsetsHeard: number;
  roundTripMs: Dist | null;
  /** Server process CPU over the window, % of one core, total and per session. */
  cpuPercent: number;
  cpuPercentPerSession: number;
  rssMiB: number;
  error?: string;
}

function procCpuTicks(pid: number): number {
  // /proc/<pid>/stat: fields after the parenthesised name; utime and stime are the 14th and 15th fields.
  const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
  return Number(f[11]) + Number(f[12]);
}

function procRssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? +(Number(m[1]) / 1024).toFixed(1) : NaN;
}

/** Starts a server process; resolves with it and its base URL once it listens. */
async function startServer(kind: Row['server']): Promise<{ proc: ChildProcess; url: string }> {
  let out = '';
  const proc =
    kind === 'aiortc'
      ? spawn(PYTHON, [join(root, 'bench/contenders/aiortc_echo_server.py')], {
          cwd: join(root, 'bench/contenders'),
          stdio: ['ignore', 'pipe', 'inherit'],
        })
      : spawn(process.execPath, ['--import', 'tsx', 'examples/echo-bot.ts'], {
          cwd: root,
          // Port 0: the OS picks one; the bot prints its URL.
          env: { ...process.env, PORT: '0', HOST: '127.0.0.1' },
          stdio: ['ignore', 'pipe', 'inherit'],
        });
  proc.stdout?.on('data', (d: Buffer) => void (out += d.toString()));
  let url = '';
  await until(
    () => {
      const port = /"port": (\d+)/.exec(out)?.[1];
      if (port) url = `http://127.0.0.1:${port}`;
      const open = /open (http:\/\/[^/\s]+)\//.exec(out)?.[1];
      if (open) url = open;
      return url !== '' || proc.exitCode !== null;
    },
    60_000,
    `${kind} server listening`,
  );
  if (url === '') throw new Error(`${kind} server exited (${proc.exitCode})`);
  return { proc, url };
}

async function measure(kind: Row['server'], sessions: number): Promise<Row> {
  const { proc, url } = await startServer(kind);
  const child = fork(join(root, 'bench/scale/client.ts'), ['--url', url, '--sessions', String(sessions)], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const msgs: Array<Record<string, unknown>> = [];
  child.on('message', (m) => msgs.push(m as Record<string, unknown>));
  const row: Row = {
    server: kind,
    sessions,
    connected: 0,
    onsetsSent: 0,
    onsetsHeard: 0,
    roundTripMs: null,
    cpuPercent: NaN,
    cpuPercentPerSession: NaN,
    rssMiB: NaN,
  };
  try {
    await until(() => msgs.some((m) => m['ready']), 120_000, 'clients ready');
    row.connected = Math.max(0, ...msgs.map((m) => Number(m['connected'] ?? 0)));
    const err = msgs.find((m) => m['error']);
    if (err) row.error = String(err['error']);
    await sleep(WARMUP_MS);
    child.send({ start: true });
    const pid = proc.pid!;
    const c0 = procCpuTicks(pid);
    const t0 = performance.now();
    while (performance.now() - t0 < SECONDS * 1000) {
      progress(
        `contenders: ${kind}, ${sessions} session(s) ${Math.round((performance.now() - t0) / 1000)}/${SECONDS} s`,
      );
      await sleep(500);
    }
    const cores = (procCpuTicks(pid) - c0) / TICKS_PER_S / ((performance.now() - t0) / 1000);
    row.rssMiB = procRssMiB(pid);
    child.send({ stop: true });
    await until(() => msgs.some((m) => m['result']), 20_000, 'client result');
    const r = msgs.find((m) => m['result'])!['result'] as {
      delays: number[];
      onsetsSent: number;
      onsetsHeard: number;
    };
    row.onsetsSent = r.onsetsSent;
    row.onsetsHeard = r.onsetsHeard;
    row.roundTripMs = dist(r.delays);
    row.cpuPercent = +(cores * 100).toFixed(2);
    row.cpuPercentPerSession = +((cores * 100) / Math.max(1, row.connected)).toFixed(2);
  } finally {
    if (child.connected) child.send({ close: true });
    await Promise.race([new Promise((r) => child.once('exit', r)), sleep(3000)]);
    if (child.exitCode === null) child.kill();
    proc.kill('SIGTERM');
    await Promise.race([new Promise((r) => proc.once('exit', r)), sleep(3000)]);
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
  }
  return row;
}

const servers: Array<Row['server']> = ['small-webrtc'];
const skipped: string[] = [];
if (aiortcAvailable() && existsSync(join(root, 'bench/contenders/aiortc_echo_server.py')))
  servers.push('aiortc');
else skipped.push(`aiortc: ${PYTHON} cannot import aiortc (apt install python3-aiortc)`);

const loadAtStart = loadavg().map((x) => +x.toFixed(2));
const rows: Row[] = [];
for (const n of LEVELS) {
  for (const s of servers) {
    try {
      rows.push(await measure(s, n));
    } catch (err) {
      rows.push({
        server: s,
        sessions: n,
        connected: 0,
        onsetsSent: 0,
        onsetsHeard: 0,
        roundTripMs: null,
        cpuPercent: NaN,
        cpuPercentPerSession: NaN,
        rssMiB: NaN,
        error: err instanceof Error ? err.message : String(err),
      });
    }
  }
}
progressDone();
const ratios = LEVELS.map((n) => {
  const ours = rows.find((r) => r.server === 'small-webrtc' && r.sessions === n);
  const them = rows.find((r) => r.server === 'aiortc' && r.sessions === n);
  const ratio = (a: number | undefined, b: number | undefined): number | null =>
    a !== undefined && b !== undefined && Number.isFinite(a) && Number.isFinite(b) && b > 0
      ? +(a / b).toFixed(2)
      : null;
  return {
    sessions: n,
    cpuPerSessionAiortcOverOurs: ratio(them?.cpuPercentPerSession, ours?.cpuPercentPerSession),
    roundTripAiortcOverOurs: ratio(them?.roundTripMs?.median, ours?.roundTripMs?.median),
  };
});
const result = {
  date: new Date().toISOString(),
  quick: QUICK,
  seconds: SECONDS,
  machine: { cpus: cpus().length, model: cpus()[0]?.model ?? '?', loadAtStart, loadAtEnd: loadavg() },
  skipped,
  rows,
  ratios,
};
const file = join(resultsDir(), `contenders-${stamp()}.json`);
writeFileSync(file, JSON.stringify(result, null, 2) + '\n');
console.log(JSON.stringify(result, null, 2));
console.log(`saved ${file}`);
