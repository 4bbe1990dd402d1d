// bench/workers: does moving the Opus encoder off the JS thread (AudioSender worker mode, the native worker
// facility's first user) add latency? N AudioSenders in one process, paced like the transport paces them
// (one 10 ms timer for all, back-pressure at 40 ms queued), fed speech-like 24 kHz PCM in 20 ms chunks.
// Inline and worker modes alternate in rounds of the same run, so both see the same machine load.
//
// Per-chunk latency: from a 20 ms slot's due time to the moment its RTP packet is in JS, ready for the
// network (inline: returned by pull() in the pacer tick; worker: delivered to onPackets on the JS thread).
// The due time of every packet is derived from its RTP timestamp (first pull + (ts - ts0) / 48 ms), the same
// way for both modes. Also reported: the JS thread's event-loop utilization (the share of wall time the one
// JS thread was busy: what limits sessions per process), process CPU in cores, event-loop delay p99, and in
// worker mode the encode queue's mean and max time in queue.
//
// usage: npm run bench:workers [-- --sessions 50 --seconds 8 --rounds 2 --threads N]
//   (--threads sets SMALL_WEBRTC_WORKER_THREADS for this process; default: cores - 1)
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

function arg(name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : def;
  if (!Number.isFinite(v) || v <= 0) throw new RangeError(`--${name} must be a positive number`);
  return v;
}
const SESSIONS = Math.round(arg('sessions', 50));
const SECONDS = arg('seconds', 8);
const ROUNDS = Math.round(arg('rounds', 2));
const threadsArg = process.argv.indexOf('--threads');
if (threadsArg >= 0) process.env.SMALL_WEBRTC_WORKER_THREADS = String(arg('threads', 1));

// Imported after SMALL_WEBRTC_WORKER_THREADS is set (the pool reads it when it starts).
const { AudioSender } = await import('../../src/media/audio-sender.js');
const { workerPoolInfo } = await import('../../src/media/worker-pool.js');

const RATE = 24000; // a typical TTS rate: resampled to 48 kHz natively, as in the product
const CHUNK = RATE / 50; // 20 ms
const TICK_MS = 10; // the transport's pacer interval
const LOOKAHEAD_MS = 40; // the output track keeps this much queued ahead of the encoder

/** Deterministic speech-like signal (harmonics of a gliding pitch, syllable envelope, a little noise). */
function speechLike(seconds: number): Int16Array {
  const n = Math.round(RATE * seconds);
  const out = new Int16Array(n);
  let phase = 0;
  let seed = 7;
  for (let i = 0; i < n; i++) {
    const t = i / RATE;
    const f0 = 150 + 60 * Math.sin(2 * Math.PI * 0.7 * t);
    phase += (2 * Math.PI * f0) / RATE;
    let v = 0;
    for (let h = 1; h <= 20 && h * f0 < RATE / 2 - 500; h++) v += Math.sin(h * phase) / h;
    const env = 0.35 + 0.65 * Math.abs(Math.sin(2 * Math.PI * 2 * t));
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    const noise = (seed / 0x7fffffff - 0.5) * 0.05;
    out[i] = Math.max(-32768, Math.min(32767, Math.round(9000 * env * (v * 0.5 + noise))));
  }
  return out;
}

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

interface RoundResult {
  mode: 'inline' | 'worker';
  round: number;
  packets: number;
  latencyMs: { median: number; p95: number; p99: number; max: number };
  jsThreadBusy: number; // event-loop utilization, 0..1
  processCpuCores: number;
  loopDelayP99Ms: number;
  queueTimeMeanUs?: number;
  queueTimeMaxUs?: number;
  droppedBatches?: number;
}

async function runRound(mode: 'inline' | 'worker', round: number, speech: Int16Array): Promise<RoundResult> {
  const latencies: number[] = [];
  let firstPull = NaN;
  const ts0 = new Map<number, number>(); // sender index -> RTP timestamp of its first packet
  const record = (i: number, packet: Uint8Array, at: number): void => {
    const ts = ((packet[4]! << 24) | (packet[5]! << 16) | (packet[6]! << 8) | packet[7]!) >>> 0;
    let t0 = ts0.get(i);
    if (t0 === undefined) {
      t0 = ts;
      ts0.set(i, ts);
    }
    const due = firstPull + ((ts - t0 + 0x100000000) % 0x100000000) / 48;
    latencies.push(at - due);
  };
  const senders = Array.from({ length: SESSIONS }, (_, i) => {
    const onPackets =
      mode === 'worker'
        ? (packets: Uint8Array[]): void => {
            const now = performance.now();
            for (const p of packets) record(i, p, now);
          }
        : undefined;
    return new AudioSender({
      sampleRate: RATE,
      channels: 1,
      ssrc: i + 1,
      payloadType: 111,
      ...(onPackets !== undefined ? { onPackets } : {}),
    });
  });
  const offsets = senders.map((_, i) => (i * 7919 * CHUNK) % (speech.length - CHUNK));
  // Warm-up second (pool start, JIT), not measured.
  const warmupMs = 1000;
  const start = performance.now();
  const loopDelay = monitorEventLoopDelay({ resolution: 1 });
  let elu0 = performance.eventLoopUtilization();
  let cpu0 = process.cpuUsage();
  let measureStart = NaN;
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      const now = performance.now();
      if (Number.isNaN(firstPull)) firstPull = now; // every sender's first pull is in this tick
      if (Number.isNaN(measureStart) && now - start >= warmupMs) {
        measureStart = now;
        latencies.length = 0;
        elu0 = performance.eventLoopUtilization();
        cpu0 = process.cpuUsage();
        loopDelay.enable();
      }
      for (let i = 0; i < senders.length; i++) {
        const tx = senders[i]!;
        while (tx.queuedMs < LOOKAHEAD_MS) {
          let o = offsets[i]!;
          if (o + CHUNK > speech.length) o = 0;
          tx.write(speech.subarray(o, o + CHUNK));
          offsets[i] = o + CHUNK;
        }
        const packets = tx.pull(now);
        if (packets.length > 0) {
          const at = performance.now();
          for (const p of packets) record(i, p, at);
        }
      }
      if (now - start >= warmupMs + SECONDS * 1000) {
        clearInterval(timer);
        resolve();
      }
    }, TICK_MS);
  });
  // Let the last worker batches arrive.
  await new Promise((r) => setTimeout(r, 50));
  const wall = performance.now() - measureStart;
  const elu = performance.eventLoopUtilization(elu0);
  const cpu = process.cpuUsage(cpu0);
  loopDelay.disable();
  let qTotal = 0;
  let qDone = 0;
  let qMax = 0;
  let dropped = 0;
  for (const tx of senders) {
    const w = tx.workerStats();
    if (w !== null) {
      qTotal += w.jobs.queueTimeTotalUs;
      qDone += w.jobs.completed;
      qMax = Math.max(qMax, w.jobs.queueTimeMaxUs);
      dropped += w.jobs.dropped;
    }
    tx.close();
  }
  const sorted = latencies.slice().sort((a, b) => a - b);
  const r: RoundResult = {
    mode,
    round,
    packets: latencies.length,
    latencyMs: {
      median: quantile(sorted, 0.5),
      p95: quantile(sorted, 0.95),
      p99: quantile(sorted, 0.99),
      max: sorted[sorted.length - 1] ?? NaN,
    },
    jsThreadBusy: elu.utilization,
    processCpuCores: (cpu.user + cpu.system) / 1000 / wall,
    loopDelayP99Ms: loopDelay.percentile(99) / 1e6,
  };
  if (mode === 'worker') {
    r.queueTimeMeanUs = qDone > 0 ? qTotal / qDone : NaN;
    r.queueTimeMaxUs = qMax;
    r.droppedBatches = dropped;
  }
  return r;
}

function median(xs: number[]): number {
  const s = xs.slice().sort((a, b) => a - b);
  return s.length === 0 ? NaN : s[Math.floor(s.length / 2)]!;
}

async function main(): Promise<void> {
  const speech = speechLike(30);
  const results: RoundResult[] = [];
  process.stdout.write(
    `bench/workers: ${SESSIONS} AudioSenders, ${SECONDS} s per round, ${ROUNDS} round(s) per mode, ` +
      `${cpus().length} CPU(s), worker threads ${workerPoolInfo().threads}\n`,
  );
  for (let round = 0; round < ROUNDS; round++) {
    // Alternate which mode goes first so a load drift on the machine does not favour one.
    const order: Array<'inline' | 'worker'> = round % 2 === 0 ? ['inline', 'worker'] : ['worker', 'inline'];
    for (const mode of order) {
      const r = await runRound(mode, round, speech);
      results.push(r);
      process.stdout.write(
        `  round ${round} ${mode.padEnd(6)} latency ms median ${r.latencyMs.median.toFixed(2)} p95 ` +
          `${r.latencyMs.p95.toFixed(2)} p99 ${r.latencyMs.p99.toFixed(2)} max ${r.latencyMs.max.toFixed(2)} | ` +
          `JS thread busy ${(r.jsThreadBusy * 100).toFixed(1)} % | CPU ${r.processCpuCores.toFixed(2)} cores` +
          (r.queueTimeMeanUs !== undefined
            ? ` | queue ${r.queueTimeMeanUs.toFixed(0)} us mean, dropped ${r.droppedBatches}`
            : '') +
          '\n',
      );
    }
  }
  const summary = (['inline', 'worker'] as const).map((mode) => {
    const rs = results.filter((r) => r.mode === mode);
    return {
      mode,
      latencyMedianMs: median(rs.map((r) => r.latencyMs.median)),
      latencyP95Ms: median(rs.map((r) => r.latencyMs.p95)),
      latencyP99Ms: median(rs.map((r) => r.latencyMs.p99)),
      latencyMaxMs: Math.max(...rs.map((r) => r.latencyMs.max)),
      jsThreadBusy: median(rs.map((r) => r.jsThreadBusy)),
      processCpuCores: median(rs.map((r) => r.processCpuCores)),
      loopDelayP99Ms: median(rs.map((r) => r.loopDelayP99Ms)),
    };
  });
  process.stdout.write(`\nmedians over rounds (${SESSIONS} sessions):\n`);
  process.stdout.write(
    '| mode | latency median | p95 | p99 | max | JS thread busy | CPU (cores) | loop delay p99 |\n',
  );
  process.stdout.write('|---|---:|---:|---:|---:|---:|---:|---:|\n');
  for (const s of summary) {
    process.stdout.write(
      `| ${s.mode} | ${s.latencyMedianMs.toFixed(2)} ms | ${s.latencyP95Ms.toFixed(2)} ms | ` +
        `${s.latencyP99Ms.toFixed(2)} ms | ${s.latencyMaxMs.toFixed(2)} ms | ${(s.jsThreadBusy * 100).toFixed(1)} % | ` +
        `${s.processCpuCores.toFixed(2)} | ${s.loopDelayP99Ms.toFixed(2)} ms |\n`,
    );
  }
  const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
  const dir = join(root, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `workers-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(
    file,
    JSON.stringify(
      {
        bench: 'workers',
        sessions: SESSIONS,
        seconds: SECONDS,
        rounds: ROUNDS,
        cpus: cpus().length,
        cpuModel: cpus()[0]?.model,
        workerThreads: workerPoolInfo().threads,
        node: process.version,
        summary,
        rounds_detail: results,
      },
      null,
      2,
    ),
  );
  process.stdout.write(`saved ${file}\n`);
}

await main();
