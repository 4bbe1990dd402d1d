// `npm run bench:video-audio`: does video hurt audio? One server process (bench/video/audio-impact-server.ts)
// serves the echo bot (Silero VAD) and the video-transform bot. `--audio-sessions` echo sessions
// (bench/scale/client.ts: a 1 s tone every 2.5 s, the echo timed on arrival, gaps between the server's RTP
// packets recorded) run through three windows of `--seconds`:
//   1. without video;
//   2. with `--video-sessions` video sessions running (bench/video/vp8-camera-clients.ts: real 30 fps VP8 at
//      `--size`, transformed and sent back by the server; their delivered fps is reported);
//   3. again without video, after the video clients left (what drifted on the machine meanwhile).
// Reported per window: echo delay median / p95, packet gap p99 (and the rest of both distributions), server
// CPU and JS-thread CPU, the server's and the audio client's event-loop delay p99, and the ratios of window 2
// to window 1. Results JSON in bench/results/. Loopback only; the load average is recorded.
//
// usage: npm run bench:video-audio [-- --audio-sessions 10 --video-sessions 10 --size 640x480 --seconds 20
//        --warmup 5]
import { writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';

import { Child } from '../scale/run.js';
import { dist, fmtDist, progress, progressDone, resultsDir, stamp, type Dist } from '../lib/stats.js';
import { until } from '../../testkit/wait.js';

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : def;
}
const AUDIO = Number(arg('audio-sessions', '10'));
const VIDEO = Number(arg('video-sessions', '10'));
const SIZE = arg('size', '640x480');
const SECONDS = Number(arg('seconds', '20'));
const WARMUP = Number(arg('warmup', '5'));
if (![AUDIO, VIDEO].every((n) => Number.isInteger(n) && n >= 1) || !/^\d+x\d+$/.test(SIZE)) {
  throw new RangeError('--audio-sessions and --video-sessions take integers >= 1, --size WxH');
}

interface Window {
  phase: string;
  echoDelayMs: Dist | null;
  packetGapMs: Dist | null;
  onsetsSent: number;
  onsetsHeard: number;
  serverCores: number;
  jsThreadCores: number;
  serverLoopP99Ms: number;
  audioClientLoopP99Ms: number;
  /** Video frames per second each video session got back (window 2 only). */
  videoFps: Dist | null;
  loadavg: number[];
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function countdown(label: string, seconds: number): Promise<void> {
  for (let s = seconds; s > 0; s--) {
    progress(`${label} ${s} s`);
    await sleep(1000);
  }
}

/** The message with `key` that arrived after index `from`. */
async function next(c: Child, key: string, from: number): Promise<Record<string, unknown>> {
  await until(() => c.messages.slice(from).some((m) => key in m), 30_000, `'${key}' from a bench child`);
  return c.messages.slice(from).findLast((m) => key in m)!;
}

async function measure(phase: string, server: Child, audio: Child, video: Child | null): Promise<Window> {
  const kids = [server, audio, ...(video ? [video] : [])];
  for (const k of kids) k.send({ start: true });
  await countdown(`${phase}: measuring`, SECONDS);
  const from = kids.map((k) => k.messages.length);
  for (const k of kids) k.send({ stop: true });
  const m = (await next(server, 'measured', from[0]!))['measured'] as {
    cores: number;
    jsThreadCores: number;
    loopP99Ms: number;
    failedSessions: number;
  };
  if (m.failedSessions > 0) throw new Error(`${m.failedSessions} server session(s) failed`);
  const r = (await next(audio, 'result', from[1]!))['result'] as {
    delays: number[];
    gaps: number[];
    onsetsSent: number;
    onsetsHeard: number;
    loopP99Ms: number;
  };
  const v = video ? ((await next(video, 'result', from[2]!))['result'] as { fpsReceived: number[] }) : null;
  return {
    phase,
    echoDelayMs: dist(r.delays),
    packetGapMs: dist(r.gaps),
    onsetsSent: r.onsetsSent,
    onsetsHeard: r.onsetsHeard,
    serverCores: +m.cores.toFixed(3),
    jsThreadCores: +m.jsThreadCores.toFixed(3),
    serverLoopP99Ms: +m.loopP99Ms.toFixed(1),
    audioClientLoopP99Ms: +r.loopP99Ms.toFixed(1),
    videoFps: v ? dist(v.fpsReceived, 1) : null,
    loadavg: loadavg().map((x) => +x.toFixed(2)),
  };
}

async function waitReady(c: Child, label: string, timeoutMs: number): Promise<void> {
  await until(
    () => {
      progress(`${label}: connecting ${Number(c.latest('connected')?.['connected'] ?? 0)}`);
      const err = c.latest('error');
      if (err) throw new Error(`${label}: ${String(err['error'])}`);
      if (c.exited) throw new Error(c.exited);
      return c.latest('ready') !== undefined;
    },
    timeoutMs,
    `${label} connected`,
    { intervalMs: 250 },
  );
}

const loadAtStart = loadavg();
const server = new Child('../video/audio-impact-server.ts', ['--size', SIZE], { ownSession: true });
let audio: Child | null = null;
let video: Child | null = null;
const windows: Window[] = [];
try {
  const ready = await server.waitFor('ready', 60_000);
  audio = new Child('client.ts', [
    '--url',
    String(ready['audioUrl']),
    '--sessions',
    String(AUDIO),
    '--bot',
    'echo',
  ]);
  await waitReady(audio, 'audio sessions', 60_000 + AUDIO * 3000);
  await countdown('audio sessions up, warming up', WARMUP);
  windows.push(await measure('without video', server, audio, null));
  video = new Child('../video/vp8-camera-clients.ts', [
    '--url',
    String(ready['videoUrl']),
    '--sessions',
    String(VIDEO),
    '--size',
    SIZE,
  ]);
  await waitReady(video, 'video sessions', 60_000 + VIDEO * 3000);
  await countdown('video sessions up, warming up', WARMUP);
  windows.push(await measure(`with ${VIDEO} video sessions`, server, audio, video));
  await video.stop();
  video = null;
  await countdown('video sessions gone, settling', WARMUP);
  windows.push(await measure('without video, after', server, audio, null));
} finally {
  progressDone();
  await Promise.all([audio?.stop(), video?.stop()]);
  await server.stop();
}

const [a, b] = windows as [Window, Window, Window];
const ratio = (x: number | undefined, y: number | undefined): number | null =>
  x === undefined || y === undefined || y === 0 ? null : +(x / y).toFixed(2);
const ratios = {
  echoDelayMedian: ratio(b.echoDelayMs?.median, a.echoDelayMs?.median),
  echoDelayP95: ratio(b.echoDelayMs?.p95, a.echoDelayMs?.p95),
  packetGapP99: ratio(b.packetGapMs?.p99, a.packetGapMs?.p99),
};
const machine = `${cpus().length} cores (${cpus()[0]?.model ?? '?'}), load average ${loadAtStart[0]!.toFixed(1)} -> ${loadavg()[0]!.toFixed(1)}`;
const report = {
  bench: 'video-audio-impact',
  command: `npm run bench:video-audio -- ${process.argv.slice(2).join(' ')}`.trim(),
  date: new Date().toISOString(),
  machine,
  audioSessions: AUDIO,
  videoSessions: VIDEO,
  size: SIZE,
  seconds: SECONDS,
  warmupSeconds: WARMUP,
  windows,
  ratios,
};
const file = join(resultsDir(), `video-audio-impact-${stamp()}.json`);
writeFileSync(file, JSON.stringify(report, null, 2) + '\n');
console.log(
  `\naudio with and without video: ${AUDIO} echo sessions, ${VIDEO} video sessions at ${SIZE} 30 fps, ${SECONDS} s windows; ${machine}\n`,
);
console.log(
  '| window | echo delay, ms | packet gap, ms | onsets heard / sent | server CPU, cores | JS thread, cores | server loop p99, ms | audio client loop p99, ms | video fps per session | load average |',
);
console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
for (const w of windows) {
  console.log(
    `| ${w.phase} | ${fmtDist(w.echoDelayMs)} | ${fmtDist(w.packetGapMs)} | ${w.onsetsHeard} / ${w.onsetsSent} | ${w.serverCores} | ${w.jsThreadCores} | ${w.serverLoopP99Ms} | ${w.audioClientLoopP99Ms} | ${w.videoFps ? fmtDist(w.videoFps) : '-'} | ${w.loadavg.join(', ')} |`,
  );
}
console.log(
  `\nwith video / without: echo delay median ${ratios.echoDelayMedian}, p95 ${ratios.echoDelayP95}, packet gap p99 ${ratios.packetGapP99}` +
    ' (each cell above: median / p95 / p99 / max)',
);
console.log(`results: ${file}`);
