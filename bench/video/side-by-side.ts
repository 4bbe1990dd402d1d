// `npm run bench:video-sbs`: our video-transform bot (examples/video-transform.ts, invert) beside an aiortc
// video-transform server (bench/video/aiortc_transform_server.py: what Pipecat's Python transport runs on),
// in the same run, with the same client: bench/video/stamped_camera_client.py (aiortc) sends a 640x480 30 fps
// VP8 camera whose frame number is drawn into the picture, reads the number back from each inverted frame it
// decodes, and times camera-to-screen lag on its own monotonic clock. Per server: fps delivered to the
// client, lag (median / p95, and its growth from the first to the last third of the window), and the server's
// CPU per video session (process CPU time over the window minus its idle rate). Ratios ours / aiortc.
//
// Options: --seconds N (client run, default 20), --warmup N (not measured, default 5), --sessions N
// (concurrent clients per server, default 1), --size WxH (default 640x480), --no-audio (the client sends no
// microphone; by default it sends a tone, which both servers echo). Results JSON in bench/results/.
// The machine's load average is recorded: on a shared machine the absolute figures move, the ratios less.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { loadavg, cpus } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { dist, resultsDir, stamp, type Dist } from '../lib/stats.js';
import { threadCpuByGroup, type ThreadGroup } from '../lib/thread-cpu.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const PYTHON = '/usr/bin/python3';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : fallback;
}

const SECONDS = Number(arg('seconds', '20'));
const WARMUP = Number(arg('warmup', '5'));
const SESSIONS = Number(arg('sessions', '1'));
const SIZE = arg('size', '640x480');
const NO_AUDIO = process.argv.includes('--no-audio');

const CLK_TCK = 100;

/** utime + stime of a process, seconds. */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / CLK_TCK;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function waitHttp(url: string, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    try {
      const r = await fetch(url, { method: 'POST', body: '{}' });
      await r.arrayBuffer();
      return;
    } catch {
      if (Date.now() > end) throw new Error(`${url} not up after ${timeoutMs} ms`);
      await sleep(300);
    }
  }
}

interface ClientResult {
  sent: number;
  received: number;
  windowFrames: number;
  windowSeconds: number;
  undecodable: number;
  lagsMs: number[];
  videoKbps?: number;
  psnrDb?: number | null;
}

function runClient(url: string): Promise<ClientResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      PYTHON,
      [
        join(root, 'bench/video/stamped_camera_client.py'),
        '--url',
        url,
        '--camera',
        SIZE,
        '--duration',
        String(SECONDS),
        '--warmup',
        String(WARMUP),
        ...(NO_AUDIO ? ['--no-audio'] : []),
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    let err = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (err += b.toString()));
    child.on('exit', () => {
      const line = out.split('\n').find((l) => l.includes('"event": "result"'));
      if (line === undefined) reject(new Error(`client gave no result: ${err.slice(-500)}`));
      else resolve(JSON.parse(line) as ClientResult);
    });
  });
}

function mean(values: (number | null | undefined)[]): number | null {
  const v = values.filter((x): x is number => typeof x === 'number');
  return v.length === 0 ? null : Number((v.reduce((a, b) => a + b, 0) / v.length).toFixed(1));
}

interface ServerResult {
  server: string;
  sessions: number;
  fpsDelivered: number;
  sentFps: number;
  lagMs: Dist | null;
  lagGrowthMs: number;
  undecodable: number;
  cpuPerSession: number;
  /** Server CPU per frame delivered to the client, ms (a server that delivers fewer frames does less work). */
  cpuPerFrameMs: number;
  idleCpu: number;
  /** Video bitrate the client received over the window, kbit/s (mean over clients). */
  videoKbps: number | null;
  /** Median PSNR of sampled received frames against the inverted source picture, dB (mean over clients). */
  psnrDb: number | null;
  /** CPU over the window per thread group, cores (idle rate not subtracted): main (JS), workers, network, other. */
  threads: Record<string, number>;
}

async function measure(name: string, child: ChildProcess, url: string): Promise<ServerResult> {
  const pid = child.pid!;
  const idle0 = cpuSeconds(pid);
  await sleep(2000);
  const idleRate = (cpuSeconds(pid) - idle0) / 2;
  process.stderr.write(`${name}: ${SESSIONS} client(s) for ${SECONDS} s\n`);
  const clients = Array.from({ length: SESSIONS }, () => runClient(url));
  // The window starts after the warmup (connection, first keyframe) and ends just before the clients stop.
  await sleep((WARMUP + 1) * 1000);
  const c0 = cpuSeconds(pid);
  const g0 = threadCpuByGroup(pid);
  const t0 = performance.now();
  await sleep((SECONDS - WARMUP - 2) * 1000);
  const c1 = cpuSeconds(pid);
  const g1 = threadCpuByGroup(pid);
  const windowS = (performance.now() - t0) / 1000;
  const busy = (c1 - c0) / windowS - idleRate;
  const threads = Object.fromEntries(
    Object.entries(g1)
      // A group no thread of this server belongs to (aiortc has no native workers) is left out.
      .filter(([, v]) => v > 0)
      .map(([k, v]) => [k, Number(((v - g0[k as ThreadGroup]) / windowS).toFixed(3))]),
  );
  const results = await Promise.all(clients);
  const lags = results.flatMap((r) => r.lagsMs);
  const third = (r: ClientResult, which: 0 | 2): number[] => {
    const n = Math.floor(r.lagsMs.length / 3);
    return which === 0 ? r.lagsMs.slice(0, n) : r.lagsMs.slice(r.lagsMs.length - n);
  };
  const growth =
    (dist(results.flatMap((r) => third(r, 2)))?.median ?? NaN) -
    (dist(results.flatMap((r) => third(r, 0)))?.median ?? NaN);
  const fps = results.map((r) => (r.windowSeconds > 0 ? (r.windowFrames - 1) / r.windowSeconds : 0));
  return {
    server: name,
    sessions: SESSIONS,
    fpsDelivered: Number((fps.reduce((a, b) => a + b, 0) / fps.length).toFixed(1)),
    sentFps: Number((results.reduce((a, r) => a + r.sent, 0) / results.length / SECONDS).toFixed(1)),
    lagMs: dist(lags, 0),
    lagGrowthMs: Number(growth.toFixed(0)),
    undecodable: results.reduce((a, r) => a + r.undecodable, 0),
    cpuPerSession: Number((busy / SESSIONS).toFixed(3)),
    cpuPerFrameMs: Number(((busy * 1000) / fps.reduce((a, b) => a + b, 0)).toFixed(1)),
    idleCpu: Number(idleRate.toFixed(3)),
    videoKbps: mean(results.map((r) => r.videoKbps)),
    psnrDb: mean(results.map((r) => r.psnrDb)),
    threads,
  };
}

async function main(): Promise<void> {
  const load0 = loadavg()[0]!;
  const oursPort = await freePort();
  const ours = spawn(process.execPath, ['--import', 'tsx', join(root, 'examples/video-transform.ts')], {
    cwd: root,
    env: {
      ...process.env,
      PORT: String(oursPort),
      HOST: '127.0.0.1',
      VIDEO_EFFECT: 'invert',
      // The bot sends at the camera's size, as the aiortc server does (no scaling on either side).
      VIDEO_OUT_WIDTH: SIZE.split('x')[0],
      VIDEO_OUT_HEIGHT: SIZE.split('x')[1],
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const aiortc = spawn(PYTHON, [join(root, 'bench/video/aiortc_transform_server.py'), '--port', '0'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const aiortcPort = await new Promise<number>((resolve, reject) => {
    let buf = '';
    aiortc.stdout.on('data', (b: Buffer) => {
      buf += b.toString();
      const m = /"port": (\d+)/.exec(buf);
      if (m) resolve(Number(m[1]));
    });
    aiortc.once('exit', () => reject(new Error('aiortc server exited')));
  });
  try {
    const oursUrl = `http://127.0.0.1:${oursPort}`;
    await waitHttp(`${oursUrl}/api/offer`, 60_000);
    const rows = [
      await measure('ours', ours, oursUrl),
      await measure('aiortc', aiortc, `http://127.0.0.1:${aiortcPort}`),
    ];
    const [o, a] = rows as [ServerResult, ServerResult];
    const ratios = {
      fps: Number((o.fpsDelivered / a.fpsDelivered).toFixed(2)),
      lagMedian: Number(((o.lagMs?.median ?? NaN) / (a.lagMs?.median ?? NaN)).toFixed(2)),
      cpuPerSession: Number((o.cpuPerSession / a.cpuPerSession).toFixed(2)),
      cpuPerFrame: Number((o.cpuPerFrameMs / a.cpuPerFrameMs).toFixed(2)),
    };
    const load1 = loadavg()[0]!;
    const machine = `${cpus().length} cores (${cpus()[0]?.model ?? '?'}), load average ${load0.toFixed(1)} -> ${load1.toFixed(1)}`;
    const out = {
      date: new Date().toISOString(),
      machine,
      seconds: SECONDS,
      warmup: WARMUP,
      size: SIZE,
      rows,
      ratios,
    };
    const file = join(resultsDir(), `video-sbs-${stamp()}.json`);
    writeFileSync(file, JSON.stringify(out, null, 2));
    console.log(
      `video side by side, ${SIZE} @ 30 fps VP8, ${SESSIONS} session(s), ${SECONDS - WARMUP} s window; ${machine}`,
    );
    console.log(
      '| server | fps delivered (client sent) | lag median / p95 ms | lag growth ms | server CPU per session, cores | server CPU per delivered frame, ms | video kbit/s | PSNR dB |',
    );
    console.log('|---|---:|---:|---:|---:|---:|---:|---:|');
    for (const r of rows) {
      console.log(
        `| ${r.server} | ${r.fpsDelivered} (${r.sentFps}) | ${r.lagMs?.median ?? '-'} / ${r.lagMs?.p95 ?? '-'} | ${r.lagGrowthMs} | ${r.cpuPerSession} | ${r.cpuPerFrameMs} | ${r.videoKbps ?? '-'} | ${r.psnrDb ?? '-'} |`,
      );
    }
    for (const r of rows) {
      const split = Object.entries(r.threads)
        .sort((x, y) => y[1] - x[1])
        .map(([k, v]) => `${k} ${v}`)
        .join(', ');
      console.log(`${r.server} threads, cores over the window: ${split}`);
    }
    console.log(
      `ratios ours/aiortc: fps ${ratios.fps}, lag median ${ratios.lagMedian}, CPU per session ${ratios.cpuPerSession}, CPU per delivered frame ${ratios.cpuPerFrame}`,
    );
    console.log(`results: ${file}`);
  } finally {
    ours.kill('SIGTERM');
    aiortc.kill('SIGTERM');
  }
}

await main();
