// bench/video: per-frame cost of each stage of the VP8 video path, through the public TS classes (so the
// N-API crossing and the copies into JS buffers are included), at 640x480 and 1280x720.
//
//   encode      RGB image -> Vp8Encoder.encode (includes RGB -> I420; realtime CBR, cpuUsed -6)
//   encodeI420  I420 image -> Vp8Encoder.encode (the codec alone)
//   encodeOut   the same at the bot's output speed (cpuUsed VIDEO_OUT_CPU_USED, -12), what VideoOutputTrack runs
//   packetize   encoded frame -> Vp8Packetizer.packetize (RTP packets, 1200-byte MTU)
//   depacketize the frame's packets -> Vp8Depacketizer.push + pop
//   decode      Vp8Decoder.decode
//   toRgb       Vp8Decoder.image({format: 'RGB'}) at full size (I420 -> R,G,B) into a new Buffer
//   toRgbInto   the same into a recycled Buffer (`into`): the conversion without the allocation
//   toRgb320    Vp8Decoder.image({format: 'RGB', maxWidth: 320}) (downscale, then convert)
//
// Input: a moving test pattern with some noise (camera-like: every frame changes), at 30 fps and 1.5 /
// 2.5 Mbit/s. Time is process CPU time per call (process.cpuUsage(), microsecond resolution; it ignores
// time spent preempted on a shared machine). The table shows the median and the 95th percentile over all
// frames of all repetitions. Results are saved as JSON under bench/results/.
//
// usage: npm run bench:video [-- --frames 150 --reps 3]
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { convertImage, type VideoImage } from '../../src/media/video-frame.js';
import { Vp8Decoder, Vp8Encoder } from '../../src/media/vp8-codec.js';
import { Vp8Depacketizer } from '../../src/media/vp8-depacketizer.js';
import { Vp8Packetizer } from '../../src/media/vp8-packetizer.js';
import { VIDEO_OUT_CPU_USED } from '../../src/transport/tracks/video-output-track.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');

function arg(name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : def;
  if (!Number.isFinite(v) || v <= 0) throw new RangeError(`--${name} must be a positive number`);
  return Math.round(v);
}
const FRAMES = arg('frames', 150);
const REPS = arg('reps', 3);

const SIZES = [
  { width: 640, height: 480, bitrate: 1_500_000 },
  { width: 1280, height: 720, bitrate: 2_500_000 },
] as const;
const STAGES = [
  'encode',
  'encodeI420',
  'encodeOut',
  'packetize',
  'depacketize',
  'decode',
  'toRgb',
  'toRgbInto',
  'toRgb320',
] as const;
type Stage = (typeof STAGES)[number];

/** Camera-like RGB frame: gradients, a moving square and per-frame noise (deterministic). */
function cameraFrame(width: number, height: number, n: number, seed: { s: number }): VideoImage {
  const data = new Uint8Array(width * height * 3);
  const sx = (n * 6) % (width - width / 4);
  const sy = (n * 3) % (height - height / 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      seed.s = (seed.s * 1103515245 + 12345) & 0x7fffffff;
      const noise = (seed.s >> 27) - 8;
      const i = (y * width + x) * 3;
      const sq = x >= sx && x < sx + width / 4 && y >= sy && y < sy + height / 4;
      data[i] = (sq ? 220 : (255 * x) / width) + noise;
      data[i + 1] = (sq ? 50 : (255 * y) / height) + noise;
      data[i + 2] = (sq ? 70 : 128 + 60 * Math.sin((x + n) * 0.03)) + noise;
    }
  }
  return { data, width, height, format: 'RGB' };
}

/** CPU microseconds spent in `fn`. */
function cpu<T>(fn: () => T): [T, number] {
  const u = process.cpuUsage();
  const r = fn();
  const d = process.cpuUsage(u);
  return [r, d.user + d.system];
}

function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? 0;
}

interface Row {
  size: string;
  stage: Stage;
  medianUs: number;
  p95Us: number;
  frames: number;
}

const rows: Row[] = [];
for (const size of SIZES) {
  const { width, height, bitrate } = size;
  // Inputs are generated before timing (generating them in JS costs more than encoding them).
  const seed = { s: 1 };
  const inputs = Array.from({ length: Math.min(FRAMES, 60) }, (_, n) => cameraFrame(width, height, n, seed));
  const inputsI420 = inputs.map((img) => convertImage(img, 'I420'));
  const samples: Record<Stage, number[]> = Object.fromEntries(
    STAGES.map((s) => [s, []]),
  ) as unknown as Record<Stage, number[]>;
  for (let rep = 0; rep < REPS; rep++) {
    const enc = new Vp8Encoder({ width, height, bitrate, fps: 30 });
    const encI420 = new Vp8Encoder({ width, height, bitrate, fps: 30 });
    const encOut = new Vp8Encoder({ width, height, bitrate, fps: 30, cpuUsed: VIDEO_OUT_CPU_USED });
    const pk = new Vp8Packetizer({ ssrc: 1, payloadType: 96, midExtension: { id: 4, mid: '1' } });
    const dp = new Vp8Depacketizer({ payloadType: 96, nack: true });
    const dec = new Vp8Decoder();
    const recycled = Buffer.alloc(width * height * 3);
    for (let n = 0; n < FRAMES; n++) {
      const img = inputs[n % inputs.length]!;
      const [frame, tEnc] = cpu(() => enc.encode(img));
      const [, tEncI420] = cpu(() => encI420.encode(inputsI420[n % inputs.length]!));
      const [, tEncOut] = cpu(() => encOut.encode(inputsI420[n % inputs.length]!));
      if (frame === null) continue;
      const [packets, tPk] = cpu(() => pk.packetize(frame.data, (n * 3000) >>> 0));
      const [out, tDp] = cpu(() => {
        for (const p of packets) dp.push(p, n * 33);
        return dp.pop();
      });
      if (out === null) throw new Error(`frame ${n} did not come out of the depacketizer`);
      const [, tDec] = cpu(() => dec.decode(out.data));
      const [, tRgb] = cpu(() => dec.image({ format: 'RGB' }));
      const [, tRgbInto] = cpu(() => dec.image({ format: 'RGB', into: recycled }));
      const [, tRgbSmall] = cpu(() => dec.image({ format: 'RGB', maxWidth: 320 }));
      // The first frames warm up the JIT and the encoder's rate control.
      if (n < 5) continue;
      samples.encode.push(tEnc);
      samples.encodeI420.push(tEncI420);
      samples.encodeOut.push(tEncOut);
      samples.packetize.push(tPk);
      samples.depacketize.push(tDp);
      samples.decode.push(tDec);
      samples.toRgb.push(tRgb);
      samples.toRgbInto.push(tRgbInto);
      samples.toRgb320.push(tRgbSmall);
    }
    for (const o of [enc, encI420, encOut, pk, dp, dec]) o.close();
  }
  for (const stage of STAGES) {
    const xs = samples[stage];
    rows.push({
      size: `${width}x${height}`,
      stage,
      medianUs: Math.round(quantile(xs, 0.5)),
      p95Us: Math.round(quantile(xs, 0.95)),
      frames: xs.length,
    });
  }
}

console.log(
  `bench/video: CPU us per frame (median / p95), ${FRAMES} frames x ${REPS} reps, ${cpus()[0]?.model ?? '?'}`,
);
console.log('size       stage         median      p95');
for (const r of rows) {
  console.log(
    `${r.size.padEnd(10)} ${r.stage.padEnd(12)} ${String(r.medianUs).padStart(8)} ${String(r.p95Us).padStart(8)}`,
  );
}
const dir = join(root, 'bench', 'results');
mkdirSync(dir, { recursive: true });
const file = join(dir, `video-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
writeFileSync(
  file,
  JSON.stringify(
    {
      bench: 'video',
      date: new Date().toISOString(),
      frames: FRAMES,
      reps: REPS,
      cpu: cpus()[0]?.model,
      node: process.version,
      unit: 'us CPU per frame',
      rows,
    },
    null,
    2,
  ),
);
console.log(`saved ${file}`);
