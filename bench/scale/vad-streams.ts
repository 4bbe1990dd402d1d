// JS-thread CPU per Silero window for N concurrent analyzers (sessions), through SileroVADAnalyzer and its
// cross-session batcher: each stream gets a 20 ms frame per step, a quarter of them in one event-loop turn and
// the rest in the next (as packets of different sessions arrive), alternating a tone and noise.
//
// Also reported: the whole process's CPU (with inference on the worker thread, the JS thread's share is the
// packing and posting; the rest is on the worker).
//
// usage: node --import tsx bench/scale/vad-streams.ts [N=35] [batchWaitMs=0] [worker|main]
import { SileroVADAnalyzer, type SileroInferenceThread } from '../../src/vad/index.js';

const N = Number(process.argv[2] ?? 35);
const WAIT = Number(process.argv[3] ?? 0);
const THREAD = (process.argv[4] ?? 'worker') as SileroInferenceThread;
const FRAMES = 250;
// process.threadCpuUsage (Node 22.19+/23.9+) is not in @types/node yet.
const threadCpuUsage = (
  process as unknown as { threadCpuUsage(prev?: NodeJS.CpuUsage): NodeJS.CpuUsage }
).threadCpuUsage.bind(process);

const vads = Array.from(
  { length: N },
  () => new SileroVADAnalyzer({ sampleRate: 16000, batchWaitMs: WAIT, inferenceThread: THREAD }),
);
await Promise.all(vads.map((v) => v.load()));
const tone = new Int16Array(320).map((_, i) => Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / 16000)));
const noise = new Int16Array(320).map(() => Math.round((Math.random() - 0.5) * 4000));
const t0 = threadCpuUsage();
const p0 = process.cpuUsage();
const w0 = performance.now();
for (let f = 0; f < FRAMES; f++) {
  await Promise.all(
    vads.map(async (v, i) => {
      if (i % 4 !== 0) await new Promise((r) => setImmediate(r));
      return v.analyze(f % 2 ? tone : noise);
    }),
  );
}
const c = threadCpuUsage(t0);
const p = process.cpuUsage(p0);
const windows = (N * FRAMES * 320) / 512;
console.log(
  `N=${N} batchWaitMs=${WAIT} ${THREAD}: ${((c.user + c.system) / windows).toFixed(1)} us of JS-thread CPU ` +
    `and ${((p.user + p.system) / windows).toFixed(1)} us of process CPU per window, ` +
    `${(performance.now() - w0).toFixed(0)} ms wall for ${windows} windows`,
);
await Promise.all(vads.map((v) => v.close()));
