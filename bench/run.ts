// `npm run bench`: the benchmark suite a user runs on their own machine. Runs each bench in its own process
// (micro: per-chunk native cost vs the C floor and the pure-JS path; setup: offer -> answer -> connected ->
// first RTP; video: VP8 per-frame cost, when present; latency: per-chunk latency by stage, the echo bot's
// added latency and round trip; impair: the receive path under jitter, loss and reordering through a
// userspace relay; contenders: the same echo on aiortc beside ours; scale: N echo sessions in one server
// process), then
// writes beside their JSON in bench/results/ a combined JSON, a Markdown summary (each result as
// median / p95 / p99 / max) and an SVG chart of the scale run: `summary-<time>.{json,md}`, `scale-<time>.svg`,
// and the same as `summary-latest.*`.
//
// usage: npm run bench [-- --quick] [-- --only micro,scale]
//   --quick: about a minute (fewer repetitions, N = 1 and 5); what CI runs. Times are never asserted: a bench
//   fails the run only when it crashes (non-zero exit) or produces no result.
import { spawn } from 'node:child_process';
import { createWriteStream, existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { dist, fmtDist, lineChartSvg, progress, progressDone, resultsDir, stamp } from './lib/stats.js';
import { largestWithin10ms, scaleChart, scaleCostChart, scaleTable, type ScaleRow } from './scale/run.js';

const QUICK = process.argv.includes('--quick');
const onlyAt = process.argv.indexOf('--only');
const ONLY = onlyAt >= 0 ? (process.argv[onlyAt + 1] ?? '').split(',') : null;
const root = fileURLToPath(new URL('..', import.meta.url));

interface Bench {
  name: string;
  script: string;
  args: string[];
  what: string;
}

const BENCHES: Bench[] = [
  {
    name: 'micro',
    script: 'bench/micro/run.ts',
    args: QUICK ? ['--reps', '3', '--seconds', '2'] : [],
    what: 'CPU us per 20 ms audio chunk: C floor, ours (N-API), pure JS',
  },
  {
    name: 'setup',
    script: 'bench/setup/run.ts',
    args: QUICK ? ['--runs', '3', '--clients', 'node'] : ['--runs', '10'],
    what: 'connection setup, ms from the offer POST',
  },
  {
    name: 'video',
    script: 'bench/video/run.ts',
    args: QUICK ? ['--frames', '20', '--reps', '1'] : [],
    what: 'VP8 CPU us per frame',
  },
  {
    name: 'latency',
    script: 'bench/latency/run.ts',
    args: QUICK ? ['--quick'] : [],
    what: 'per-chunk latency by stage, echo bot server-added latency and round trip, ms',
  },
  {
    name: 'impair',
    script: 'bench/impair/run.ts',
    args: QUICK ? ['--quick'] : [],
    what: 'receive path under jitter, loss, bursts and reordering (userspace relay, no netem here)',
  },
  {
    name: 'contenders',
    script: 'bench/contenders/run.ts',
    args: QUICK ? ['--quick'] : [],
    what: 'the same echo on aiortc (the stack of Pipecat Python) beside ours, same clients, same run',
  },
  {
    name: 'scale',
    script: 'bench/scale/run.ts',
    args: QUICK ? ['--quick'] : [],
    what: 'N echo sessions in one server process',
  },
].filter((b) => existsSync(join(root, b.script)) && (ONLY === null || ONLY.includes(b.name)));

/** Runs one bench; its stdout goes to a log file, its stderr (progress, errors) passes through. */
function runBench(b: Bench, index: number, logFile: string): Promise<number | null> {
  return new Promise((resolve) => {
    const started = Date.now();
    const log = createWriteStream(logFile);
    const child = spawn(process.execPath, ['--import', 'tsx', b.script, ...b.args], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.pipe(log);
    let lastLine = '';
    child.stderr.on('data', (d: Buffer) => {
      log.write(d);
      const lines = d
        .toString()
        .split(/[\r\n]+/)
        .filter((l) => l.trim() !== '');
      if (lines.length > 0) lastLine = lines.at(-1)!.trim().slice(0, 80);
    });
    const tick = setInterval(() => {
      progress(
        `[${index + 1}/${BENCHES.length}] ${b.name} ${Math.round((Date.now() - started) / 1000)} s  ${lastLine}`,
      );
    }, 1000);
    child.on('exit', (code) => {
      clearInterval(tick);
      log.end();
      resolve(code);
    });
  });
}

/** The newest `<name>-*.json` written since `since` (ms epoch), excluding `-latest`. */
function newestResult(dir: string, name: string, since: number): unknown {
  const files = readdirSync(dir)
    .filter((f) => f.startsWith(`${name}-`) && f.endsWith('.json') && !f.endsWith('-latest.json'))
    .map((f) => ({ f, t: statSync(join(dir, f)).mtimeMs }))
    .filter((x) => x.t >= since)
    .sort((a, b) => b.t - a.t);
  return files[0] ? JSON.parse(readFileSync(join(dir, files[0].f), 'utf8')) : null;
}

// ---- per-bench Markdown ----------------------------------------------------------------------------------

function microMd(r: {
  results: Array<{
    name: string;
    samples: Record<'floor' | 'ours' | 'js', number[]>;
    oursOverFloor: number;
    jsOverFloor: number;
  }>;
  worstOursOverFloor: number;
}): string {
  const lines = [
    '| path | C floor, us | ours, us | pure JS, us | ours / floor | JS / floor |',
    '|---|---:|---:|---:|---:|---:|',
  ];
  for (const x of r.results) {
    lines.push(
      `| ${x.name} | ${fmtDist(dist(x.samples.floor))} | ${fmtDist(dist(x.samples.ours))} | ${fmtDist(dist(x.samples.js))} | ${x.oursOverFloor.toFixed(2)}x | ${x.jsOverFloor.toFixed(2)}x |`,
    );
  }
  return `${lines.join('\n')}\n\nCPU us per 20 ms chunk over repetitions (median / p95 / p99 / max); worst ours/floor ${r.worstOursOverFloor.toFixed(2)}x (medians).\n`;
}

function setupMd(r: {
  clients: Record<string, { ok: number; failures: number; samples: Array<Record<string, number>> }>;
}): string {
  const lines = [
    '| client | runs ok | answer, ms | connected, ms | first RTP at the server, ms |',
    '|---|---:|---:|---:|---:|',
  ];
  for (const [client, s] of Object.entries(r.clients)) {
    const col = (k: string): string => fmtDist(dist(s.samples.map((x) => x[k] ?? NaN)));
    lines.push(
      `| ${client} | ${s.ok}/${s.ok + s.failures} | ${col('answerMs')} | ${col('connectedMs')} | ${col('firstRtpMs')} |`,
    );
  }
  return `${lines.join('\n')}\n\nms from the offer POST (median / p95 / p99 / max).\n`;
}

function videoMd(r: {
  rows: Array<{ size: string; stage: string; medianUs: number; p95Us: number }>;
}): string {
  const lines = ['| size | stage | median, us | p95, us |', '|---|---|---:|---:|'];
  for (const x of r.rows) lines.push(`| ${x.size} | ${x.stage} | ${x.medianUs} | ${x.p95Us} |`);
  return `${lines.join('\n')}\n\nCPU us per frame (bench/video reports median and p95).\n`;
}

type D = Parameters<typeof fmtDist>[0];
function latencyMd(r: {
  inProcess: {
    chunks: number;
    receive: Record<string, D>;
    send: Record<string, D>;
    interruption: Record<string, D>;
    serverAdded: D;
    clientRoundTrip: D;
  };
  otherProcess: {
    clientRoundTrip: D;
    serverAdded: D;
    serverCpuPercent: number;
    onsetsHeard: number;
    onsetsSent: number;
  };
}): string {
  const a = r.inProcess;
  const b = r.otherProcess;
  const row = (path: string, stages: Array<[string, D]>): string =>
    `| ${path} | ${stages.map(([n, d]) => `${n}: ${fmtDist(d)}`).join('<br>')} |`;
  return [
    '| path | stage: median / p95 / p99 / max, ms |',
    '|---|---|',
    row('receive (RTP in -> frame at the first processor)', [
      ['client send -> server JS callback (SRTP, UDP, thread hop)', a.receive['wireAndHop']],
      ['native push (parse, jitter buffer, decode, resample)', a.receive['native']],
      ['buffer hold (jitter buffer)', a.receive['bufferHold']],
      ['JS hop to the first processor (input transport, VAD)', a.receive['jsHop']],
      ['total from the client send', a.receive['total']],
    ]),
    row('send (frame queued -> RTP out)', [
      ['JS hop + output queue (frame -> AudioSender.write)', a.send['jsHopAndQueue']],
      ['buffer hold (ring, up to the pacing slot)', a.send['bufferHold']],
      ['native (Opus encode on the worker + hop back)', a.send['native']],
      ['wire to the client', a.send['wire']],
      ['total to the client', a.send['total']],
    ]),
    row('interruption (InterruptionFrame -> last stale packet)', [
      ['JS hop (-> ring cleared)', a.interruption['jsHop']],
      ['buffer hold (-> last slot with stale audio)', a.interruption['bufferHold']],
      ['native (-> its packet sent)', a.interruption['native']],
      ['total at the server', a.interruption['total']],
      ['last loud frame decoded by the client', a.interruption['lastLoudAtClient']],
    ]),
    row('echo bot, in process', [
      ['server-added (RTP in -> echoed RTP out)', a.serverAdded],
      ['client round trip', a.clientRoundTrip],
    ]),
    row('echo bot, client in another process', [
      ['server-added (RTP in -> echoed RTP out)', b.serverAdded],
      [`client round trip (${b.onsetsHeard}/${b.onsetsSent} tone onsets)`, b.clientRoundTrip],
    ]),
    '',
    `${a.chunks} chunks in process. Server CPU with one echo session (VAD on, both directions): ${b.serverCpuPercent} % of a core. ` +
      'Stages are timed by wrapping the library classes in the bench process (the library has no instrumentation).',
    '',
  ].join('\n');
}

function impairMd(r: {
  why: string;
  seconds: number;
  receiverReportsToClient: number;
  scenarios: Array<{
    name: string;
    sent: number;
    droppedByRelay: number;
    lost: number;
    concealedPercent: number;
    fecRecovered: number;
    lateDropped: number;
    targetDelayMs: D;
    holdMs: D;
    receiverReports: number;
  }>;
  bursts: { count: number; burstMs: number; firstRealFrameMs: D; deadlineBackMs: D; concealedMs: D };
}): string {
  const lines = [
    '| path to the server | sent | dropped by the relay | lost (concealed) | concealed % | FEC recoveries | late drops | jitter-buffer deadline, ms | real frames held, ms |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const x of r.scenarios) {
    lines.push(
      `| ${x.name} | ${x.sent} | ${x.droppedByRelay} | ${x.lost} | ${x.concealedPercent} | ${x.fecRecovered} | ${x.lateDropped} | ${fmtDist(x.targetDelayMs)} | ${fmtDist(x.holdMs)} |`,
    );
  }
  const b = r.bursts;
  return [
    ...lines,
    '',
    `${r.seconds} s per scenario; ms columns are median / p95 / p99 / max. Impairment by ${r.why}.`,
    `After ${b.count} bursts of ${b.burstMs} ms total loss: first real frame out ${fmtDist(b.firstRealFrameMs)} ms after the burst, ` +
      `jitter-buffer deadline back within 5 ms of its level before ${fmtDist(b.deadlineBackMs)} ms after, concealed ${fmtDist(b.concealedMs)} ms per burst.`,
    `Receiver reports the client got from us about its audio: ${r.receiverReportsToClient}` +
      (r.receiverReportsToClient === 0
        ? ' (none: the server sends no RTCP RR, so a peer that tunes its Opus FEC from the loss we report, as browsers do, is not driven by ours).'
        : '.'),
    '',
  ].join('\n');
}

function contendersMd(
  r: {
    skipped: string[];
    seconds: number;
    machine: { loadAtStart: number[]; loadAtEnd: number[] };
    rows: Array<{
      server: string;
      sessions: number;
      connected: number;
      onsetsSent: number;
      onsetsHeard: number;
      roundTripMs: D;
      cpuPercent: number;
      cpuPercentPerSession: number;
      rssMiB: number;
      error?: string;
    }>;
    ratios: Array<{
      sessions: number;
      cpuPerSessionAiortcOverOurs: number | null;
      roundTripAiortcOverOurs: number | null;
    }>;
  },
  micro: unknown,
): string {
  const lines = [
    '| server | sessions | round trip heard by the clients, ms | server CPU, % of a core | per session | server RSS, MiB |',
    '|---|---:|---:|---:|---:|---:|',
  ];
  for (const x of r.rows) {
    lines.push(
      `| ${x.server}${x.error ? ` (${x.error})` : ''} | ${x.connected}/${x.sessions} | ${fmtDist(x.roundTripMs)} (${x.onsetsHeard}/${x.onsetsSent} onsets) | ${x.cpuPercent} | ${x.cpuPercentPerSession} | ${x.rssMiB} |`,
    );
  }
  const out = [...lines, ''];
  for (const q of r.ratios) {
    out.push(
      `${q.sessions} session(s): aiortc / small-webrtc = ${q.cpuPerSessionAiortcOverOurs ?? '-'}x CPU per session, ${q.roundTripAiortcOverOurs ?? '-'}x round trip (medians).`,
    );
  }
  // The pure-JS codec path, per 20 ms chunk, from the micro bench of the same run.
  const m = micro as { results?: Array<{ name: string; oursOverFloor: number; jsOverFloor: number }> } | null;
  for (const x of m?.results ?? []) {
    out.push(
      `Pure JS (opusscript + JS resampler) / ours, ${x.name}: ${(x.jsOverFloor / x.oursOverFloor).toFixed(2)}x CPU per chunk (bench/micro).`,
    );
  }
  for (const s of r.skipped) out.push(`Skipped: ${s}.`);
  out.push(
    '',
    `${r.seconds} s window per row; each server in its own process, the clients (bench/scale/client.ts) in another; ` +
      `load average ${r.machine.loadAtStart[0]} at the start, ${r.machine.loadAtEnd[0]?.toFixed(2)} at the end (a shared machine makes both servers late). ` +
      'The aiortc echo has no VAD (ours runs Silero), so its CPU figure is a lower bound for a Pipecat bot.',
    '',
  );
  return out.join('\n');
}

/** Two charts of the impairment run: the jitter buffer against jitter, concealment against loss. */
function impairCharts(r: Parameters<typeof impairMd>[0]): { jitter: string; loss: string } {
  const by = (re: RegExp): Array<{ x: number; s: (typeof r.scenarios)[number] }> =>
    r.scenarios.flatMap((s) => {
      if (s.name === 'clean') return [{ x: 0, s }];
      const m = re.exec(s.name);
      return m ? [{ x: Number(m[1]), s }] : [];
    });
  const jit = by(/^jitter (\d+) ms$/);
  const loss = by(/^loss (\d+) %$/);
  return {
    jitter: lineChartSvg({
      title: 'Receive path under jitter (client -> server)',
      xLabel: 'jitter added by the relay, ms (uniform 0..x per packet)',
      yLabel: 'ms',
      series: [
        { name: 'deadline, median', points: jit.map((p) => [p.x, p.s.targetDelayMs?.median ?? 0]) },
        { name: 'frames held, p95', points: jit.map((p) => [p.x, p.s.holdMs?.p95 ?? 0]) },
      ],
    }),
    loss: lineChartSvg({
      title: 'Receive path under random loss (client -> server)',
      xLabel: 'loss added by the relay, %',
      yLabel: '% of the output / count',
      series: [
        { name: 'concealed, %', points: loss.map((p) => [p.x, p.s.concealedPercent]) },
        { name: 'FEC recoveries', points: loss.map((p) => [p.x, p.s.fecRecovered]) },
      ],
    }),
  };
}

function scaleMd(r: { rows: ScaleRow[]; seconds: number }, chart: string): string {
  const within = largestWithin10ms(r.rows);
  return (
    `${scaleTable(r.rows)}\nServer CPU and RSS from 1 s samples over a ${r.seconds} s window; echo delay as heard by the clients ` +
    `(other processes). Largest N within 10 ms of the ${r.rows[0]?.sessions}-session echo delay: ${within ?? '-'}.\n\n` +
    `![scale: delay](${chart}) ![scale: cost](${chart.replace('.svg', '-cost.svg')})\n`
  );
}

// ---- main ------------------------------------------------------------------------------------------------

const dir = resultsDir();
const runStamp = stamp();
const machine = {
  cpus: cpus().length,
  model: cpus()[0]?.model ?? '?',
  memGiB: +(totalmem() / 2 ** 30).toFixed(1),
  loadavgAtStart: loadavg().map((x) => +x.toFixed(2)),
  node: process.version,
};
const combined: Record<string, unknown> = {
  date: new Date().toISOString(),
  quick: QUICK,
  machine,
  benches: {},
};
const md: string[] = [
  `# small-webrtc benchmarks (${new Date().toISOString()}${QUICK ? ', --quick' : ''})`,
  '',
  `Machine: ${machine.cpus} x ${machine.model}, ${machine.memGiB} GiB, Node ${machine.node}, load average at start ${machine.loadavgAtStart.join(' / ')}.`,
  '',
];
const failed: string[] = [];
for (const [i, b] of BENCHES.entries()) {
  const since = Date.now() - 1000;
  const logFile = join(dir, `${b.name}-${runStamp}.log`);
  const code = await runBench(b, i, logFile);
  const result = code === 0 ? newestResult(dir, b.name, since) : null;
  progressDone();
  if (code !== 0 || result === null) {
    failed.push(b.name);
    console.error(`${b.name}: FAILED (exit ${code}${code === 0 ? ', no result JSON' : ''}); log: ${logFile}`);
    md.push(`## ${b.name}: FAILED`, '', `exit ${code}; log \`${logFile}\``, '');
    continue;
  }
  console.error(`${b.name}: done`);
  (combined['benches'] as Record<string, unknown>)[b.name] = result;
  md.push(`## ${b.name}: ${b.what}`, '', `\`node --import tsx ${b.script} ${b.args.join(' ')}\``, '');
  try {
    if (b.name === 'micro') md.push(microMd(result as Parameters<typeof microMd>[0]));
    if (b.name === 'setup') md.push(setupMd(result as Parameters<typeof setupMd>[0]));
    if (b.name === 'video') md.push(videoMd(result as Parameters<typeof videoMd>[0]));
    if (b.name === 'latency') md.push(latencyMd(result as Parameters<typeof latencyMd>[0]));
    if (b.name === 'impair') {
      const r = result as Parameters<typeof impairMd>[0];
      const charts = impairCharts(r);
      for (const [kind, svg] of Object.entries(charts)) {
        writeFileSync(join(dir, `impair-${kind}-${runStamp}.svg`), svg);
        writeFileSync(join(dir, `impair-${kind}-latest.svg`), svg);
      }
      md.push(
        impairMd(r),
        `![impairment: jitter](impair-jitter-${runStamp}.svg) ![impairment: loss](impair-loss-${runStamp}.svg)`,
        '',
      );
    }
    if (b.name === 'contenders') {
      const micro = (combined['benches'] as Record<string, unknown>)['micro'] ?? null;
      md.push(contendersMd(result as Parameters<typeof contendersMd>[0], micro));
    }
    if (b.name === 'scale') {
      const chart = `scale-${runStamp}.svg`;
      writeFileSync(join(dir, chart), scaleChart((result as { rows: ScaleRow[] }).rows));
      writeFileSync(join(dir, 'scale-latest.svg'), scaleChart((result as { rows: ScaleRow[] }).rows));
      writeFileSync(
        join(dir, `scale-${runStamp}-cost.svg`),
        scaleCostChart((result as { rows: ScaleRow[] }).rows),
      );
      md.push(scaleMd(result as Parameters<typeof scaleMd>[0], chart));
    }
  } catch (err) {
    // A bench whose JSON changed shape: keep the JSON, say so in the summary, fail the run.
    failed.push(`${b.name} (summary)`);
    md.push(`(summary failed: ${String(err)})`, '');
  }
}
const summary = md.join('\n');
for (const name of [`summary-${runStamp}`, 'summary-latest']) {
  writeFileSync(join(dir, `${name}.json`), JSON.stringify(combined, null, 2) + '\n');
  writeFileSync(join(dir, `${name}.md`), summary);
}
console.log(summary);
console.log(`saved ${join(dir, `summary-${runStamp}.md`)} (+ .json, charts and logs beside it)`);
if (failed.length > 0) {
  console.error(`bench failures: ${failed.join(', ')}`);
  process.exitCode = 1;
}
