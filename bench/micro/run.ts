// bench/micro: per-20 ms-chunk cost of the audio media path, measured side by side in one run.
//
//   (a) floor:  the C floor, raw libopus + speexdsp calls in a small C++ program built right here
//               (bench/micro/floor.cc, g++ -O2 -lopus -lspeexdsp);
//   core:       the same C++ AudioReceiver / AudioSender classes driven from C++ (bench/micro/core.cc, built
//               here against native/core): diagnostic, splits ours - floor into core work vs binding cost;
//   (b) ours:   AudioReceiver / AudioSender through N-API (one call per packet, as the transport uses them);
//   (c) js:     the pure-JS path a Node developer would otherwise use: opusscript (libopus compiled to WASM)
//               + a JS windowed-sinc resampler (bench/micro/js-resampler.ts) + RTP header handling in JS.
//
// Receive: Opus RTP (20 ms, 48 kHz) -> 16 kHz mono PCM, resampled (decode at 48k + 48k->16k) and direct
// (decode at 16k). Two streams: Chrome-like (mono 32 kb/s, FEC) and aiortc-like (stereo 96 kb/s, downmixed).
// Send: 20 ms of PCM -> Opus (VOIP, 32 kb/s, complexity 5, FEC, 5 % loss hint) -> RTP, from 48 kHz input
// (no resampling) and from 24 kHz input (a TTS rate; resampled to 48k first).
//
// Every repetition runs each variant once over the same input (--seconds of audio), in rotating order;
// the table shows medians over repetitions of microseconds per 20 ms chunk, and ratios to the floor.
// Time is process CPU time (C: CLOCK_PROCESS_CPUTIME_ID; JS: process.cpuUsage(), which includes V8's GC
// helper threads), not wall time: the machine is shared, and CPU time ignores time spent preempted.
// Target: ours/floor <= 1.15. Results are saved as JSON under bench/results/.
//
// usage: npm run bench:micro [-- --reps 11 --seconds 10]
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import OpusScript from 'opusscript';
import { AudioReceiver } from '../../src/media/audio-receiver.js';
import { AudioSender } from '../../src/media/audio-sender.js';
import { OpusEncoder } from '../../src/media/opus.js';
import { buildRtp } from '../../src/media/rtp.js';
import { native } from '../../src/native/binding.js';
import { JsSincResampler } from './js-resampler.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');

function arg(name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : def;
  if (!Number.isFinite(v) || v <= 0) throw new RangeError(`--${name} must be a positive number`);
  return v;
}
const REPS = Math.round(arg('reps', 11));
const SECONDS = arg('seconds', 10);
const CHUNKS = Math.round(SECONDS * 50);

// Send-path encoder settings, identical for all three paths.
const ENC = { bitrate: 32000, complexity: 5, fec: true, packetLossPercent: 5 } as const;
const RESAMPLE_QUALITY = 4; // speexdsp quality used by the floor and by ours (AudioReceiver's default)

// ---- input --------------------------------------------------------------------------------------------

/**
 * Speech-like test signal (deterministic): a glottal-ish harmonic series with a gliding 90-220 Hz pitch,
 * syllable-rate (4 Hz) amplitude envelope, plus a little noise. No silence, so DTX never kicks in.
 */
function speechLike(rate: number, seconds: number, channels: 1 | 2): Int16Array {
  const n = Math.round(rate * seconds);
  const out = new Int16Array(n * channels);
  let phase = 0;
  let seed = 1;
  for (let i = 0; i < n; i++) {
    const t = i / rate;
    const f0 = 155 + 65 * Math.sin(2 * Math.PI * 0.7 * t);
    phase += (2 * Math.PI * f0) / rate;
    let v = 0;
    for (let h = 1; h <= 20 && h * f0 < rate / 2 - 500; h++) v += Math.sin(h * phase) / h;
    const env = 0.35 + 0.65 * Math.abs(Math.sin(2 * Math.PI * 2 * t));
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    const noise = (seed / 0x7fffffff - 0.5) * 0.05;
    const s = Math.max(-32768, Math.min(32767, Math.round(9000 * env * (v * 0.5 + noise))));
    for (let c = 0; c < channels; c++) out[i * channels + c] = s;
  }
  return out;
}

/** Opus payloads (20 ms each) of `pcm`, encoded by our OpusEncoder (libopus) like a browser would. */
function encodeStream(pcm: Int16Array, channels: 1 | 2, bitrate: number): Uint8Array[] {
  const enc = new OpusEncoder({
    sampleRate: 48000,
    channels,
    bitrate,
    complexity: 10,
    fec: true,
    packetLossPercent: 10,
  });
  const frame = 960 * channels;
  const out: Uint8Array[] = [];
  for (let i = 0; i + frame <= pcm.length; i += frame) out.push(enc.encode(pcm.subarray(i, i + frame)));
  enc.close();
  return out;
}

/** RTP packets as Chrome sends them: PT 111, audio-level (id 1) and mid (id 9) one-byte extensions. */
function toRtp(payloads: Uint8Array[]): Uint8Array[] {
  return payloads.map((payload, i) =>
    buildRtp({
      payloadType: 111,
      sequenceNumber: (1000 + i) & 0xffff,
      timestamp: (960 * i) >>> 0,
      ssrc: 0x1234abcd,
      marker: i === 0,
      extensions: [
        { id: 1, data: new Uint8Array([0x90]) },
        { id: 9, data: new Uint8Array([0x30]) },
      ],
      payload,
    }),
  );
}

// ---- the JS path helpers --------------------------------------------------------------------------------

/** RTP payload offset, parsed in JS (fixed header + CSRCs + extension, padding honoured). */
function jsRtpPayload(p: Uint8Array): Uint8Array {
  let off = 12 + (p[0]! & 0x0f) * 4;
  if (p[0]! & 0x10) off += 4 + ((p[off + 2]! << 8) | p[off + 3]!) * 4;
  const end = p[0]! & 0x20 ? p.length - p[p.length - 1]! : p.length;
  return p.subarray(off, end);
}

/** A 12-byte RTP header + payload, built in JS. */
function jsRtpPacket(payload: Uint8Array, seq: number, ts: number): Uint8Array {
  const out = new Uint8Array(12 + payload.length);
  const v = new DataView(out.buffer);
  out[0] = 0x80;
  out[1] = 111;
  v.setUint16(2, seq & 0xffff);
  v.setUint32(4, ts >>> 0);
  v.setUint32(8, 0x42424242);
  out.set(payload, 12);
  return out;
}

const OPUS_SET_BITRATE = 4002;
const OPUS_SET_COMPLEXITY = 4010;
const OPUS_SET_INBAND_FEC = 4012;
const OPUS_SET_PACKET_LOSS_PERC = 4014;
const OPUS_SET_SIGNAL = 4024;
const OPUS_SIGNAL_VOICE = 3001;

function opusscriptEncoder(): OpusScript {
  const enc = new OpusScript(48000, 1, OpusScript.Application.VOIP);
  enc.encoderCTL(OPUS_SET_BITRATE, ENC.bitrate);
  enc.encoderCTL(OPUS_SET_COMPLEXITY, ENC.complexity);
  enc.encoderCTL(OPUS_SET_INBAND_FEC, ENC.fec ? 1 : 0);
  enc.encoderCTL(OPUS_SET_PACKET_LOSS_PERC, ENC.packetLossPercent);
  enc.encoderCTL(OPUS_SET_SIGNAL, OPUS_SIGNAL_VOICE);
  return enc;
}

// ---- measured variants: each returns microseconds per 20 ms chunk for one pass ------------------------

interface Pass {
  us: number;
  /** Output check: samples produced (decode) or packets produced (encode), and RMS of decoded audio. */
  outputs: number;
  rms?: number;
}

/** Process CPU time, us (user + system). */
function cpuNowUs(): number {
  const u = process.cpuUsage();
  return u.user + u.system;
}

function rmsOf(sumSq: number, n: number): number {
  return n === 0 ? 0 : Math.round(Math.sqrt(sumSq / n));
}

function oursDecode(packets: Uint8Array[], decodeAtTargetRate: boolean): Pass {
  const rx = new AudioReceiver({
    sampleRate: 16000,
    channels: 1,
    payloadType: 111,
    resampleQuality: RESAMPLE_QUALITY,
    decodeAtTargetRate,
  });
  let samples = 0;
  let sumSq = 0;
  const t0 = cpuNowUs();
  for (let i = 0; i < packets.length; i++) {
    const frames = rx.push(packets[i]!, i * 20);
    for (const f of frames) samples += f.audio.length;
  }
  const t1 = cpuNowUs();
  // Sanity (untimed): decode once more to measure the level of the output.
  rx.reset();
  for (let i = 0; i < packets.length; i++) {
    for (const f of rx.push(packets[i]!, i * 20)) for (const v of f.audio) sumSq += v * v;
  }
  rx.close();
  return { us: (t1 - t0) / packets.length, outputs: samples, rms: rmsOf(sumSq, samples) };
}

function jsDecode(packets: Uint8Array[], direct: boolean, channels: 1 | 2): Pass {
  // opusscript decodes at the stream's channel count; mono output needs a JS downmix for stereo streams.
  const dec = new OpusScript(direct ? 16000 : 48000, channels, OpusScript.Application.VOIP);
  const rs = direct ? null : new JsSincResampler(48000, 16000);
  let samples = 0;
  let sumSq = 0;
  const t0 = cpuNowUs();
  for (const p of packets) {
    const payload = jsRtpPayload(p);
    const pcmBytes = dec.decode(Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength));
    let pcm = new Int16Array(pcmBytes.buffer, pcmBytes.byteOffset, pcmBytes.byteLength / 2);
    if (channels === 2) {
      const mono = new Int16Array(pcm.length / 2);
      for (let i = 0; i < mono.length; i++) mono[i] = (pcm[2 * i]! + pcm[2 * i + 1]!) >> 1;
      pcm = mono;
    } else {
      pcm = pcm.slice(); // opusscript reuses its output buffer: a consumer must copy
    }
    const out = rs ? rs.process(pcm) : pcm;
    samples += out.length;
  }
  const t1 = cpuNowUs();
  dec.delete();
  // Untimed level check.
  const dec2 = new OpusScript(direct ? 16000 : 48000, channels, OpusScript.Application.VOIP);
  const rs2 = direct ? null : new JsSincResampler(48000, 16000);
  let n = 0;
  for (const p of packets) {
    const payload = jsRtpPayload(p);
    const b = dec2.decode(Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength));
    let pcm = new Int16Array(b.buffer, b.byteOffset, b.byteLength / 2).slice();
    if (channels === 2) pcm = pcm.filter((_, i) => i % 2 === 0);
    const out = rs2 ? rs2.process(pcm) : pcm;
    for (const v of out) sumSq += v * v;
    n += out.length;
  }
  dec2.delete();
  return { us: (t1 - t0) / packets.length, outputs: samples, rms: rmsOf(sumSq, n) };
}

function oursEncode(pcm: Int16Array, rate: 48000 | 24000): Pass {
  const tx = new AudioSender({ sampleRate: rate, channels: 1, ssrc: 0x42424242, payloadType: 111, ...ENC });
  const chunk = rate / 50;
  const chunks = Math.floor(pcm.length / chunk);
  let packets = 0;
  const t0 = cpuNowUs();
  for (let i = 0; i < chunks; i++) {
    tx.write(pcm.subarray(i * chunk, (i + 1) * chunk));
    packets += tx.pull(i * 20).length;
  }
  const t1 = cpuNowUs();
  tx.close();
  return { us: (t1 - t0) / chunks, outputs: packets };
}

function jsEncode(pcm: Int16Array, rate: 48000 | 24000): Pass {
  const enc = opusscriptEncoder();
  const rs = rate === 48000 ? null : new JsSincResampler(rate, 48000);
  const chunk = rate / 50;
  const chunks = Math.floor(pcm.length / chunk);
  let pending = new Int16Array(0);
  let packets = 0;
  const t0 = cpuNowUs();
  for (let i = 0; i < chunks; i++) {
    const input = pcm.subarray(i * chunk, (i + 1) * chunk);
    let frame: Int16Array;
    if (rs) {
      const up = rs.process(input);
      const joined = new Int16Array(pending.length + up.length);
      joined.set(pending);
      joined.set(up, pending.length);
      if (joined.length < 960) {
        pending = joined;
        continue;
      }
      frame = joined.subarray(0, 960);
      pending = joined.slice(960);
    } else {
      frame = input;
    }
    const payload = enc.encode(Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength), 960);
    jsRtpPacket(payload, packets, packets * 960);
    packets++;
  }
  const t1 = cpuNowUs();
  enc.delete();
  return { us: (t1 - t0) / chunks, outputs: packets };
}

// ---- the C floor ----------------------------------------------------------------------------------------

interface FloorPass {
  decodeResampled: number;
  decodeDirect: number;
  encode48: number;
  encode24: number;
  packets: number;
}

function buildFloor(dir: string): string {
  const exe = join(dir, 'floor');
  const cflags = execFileSync('pkg-config', ['--cflags', 'opus', 'speexdsp'], { encoding: 'utf8' })
    .trim()
    .split(/\s+/);
  execFileSync(
    'g++',
    [
      '-O2',
      '-std=c++17',
      ...cflags.filter(Boolean),
      join(here, 'floor.cc'),
      '-o',
      exe,
      '-lopus',
      '-lspeexdsp',
    ],
    {
      stdio: 'inherit',
    },
  );
  return exe;
}

function buildCore(dir: string): string {
  const exe = join(dir, 'core');
  const cflags = execFileSync('pkg-config', ['--cflags', 'opus', 'speexdsp'], { encoding: 'utf8' })
    .trim()
    .split(/\s+/);
  const sources = execFileSync(process.execPath, [join(root, 'scripts', 'native-sources.mjs'), '--core'], {
    cwd: root,
    encoding: 'utf8',
  })
    .split('\n')
    .filter(Boolean)
    .map((f) => join(root, f));
  const libs = execFileSync('pkg-config', ['--libs', 'opus', 'speexdsp', 'vpx'], { encoding: 'utf8' })
    .trim()
    .split(/\s+/);
  execFileSync(
    'g++',
    [
      '-O2',
      '-std=c++17',
      `-I${join(root, 'native')}`,
      ...cflags.filter(Boolean),
      join(here, 'core.cc'),
      ...sources,
      '-o',
      exe,
      ...libs.filter(Boolean),
      '-lyuv',
    ],
    { stdio: 'inherit' },
  );
  return exe;
}

function runFloor(exe: string, packetsFile: string, pcm48File: string, pcm24File: string): FloorPass {
  const out = execFileSync(
    exe,
    [
      packetsFile,
      pcm48File,
      pcm24File,
      String(ENC.bitrate),
      String(ENC.complexity),
      ENC.fec ? '1' : '0',
      String(ENC.packetLossPercent),
      String(RESAMPLE_QUALITY),
    ],
    { encoding: 'utf8' },
  );
  return JSON.parse(out) as FloorPass;
}

function writePackets(file: string, payloads: Uint8Array[]): void {
  const parts: Buffer[] = [];
  for (const p of payloads) {
    const len = Buffer.alloc(2);
    len.writeUInt16BE(p.length);
    parts.push(len, Buffer.from(p));
  }
  writeFileSync(file, Buffer.concat(parts));
}

// ---- main -----------------------------------------------------------------------------------------------

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

interface Row {
  name: string;
  floor: number[];
  core: number[];
  ours: number[];
  js: number[];
  check: Record<string, number | undefined>;
}

function main(): void {
  const work = mkdtempSync(join(tmpdir(), 'small-webrtc-bench-'));
  try {
    const addon = native().version();
    process.stderr.write('building the C floor and the C++ core bench programs...\n');
    const exe = buildFloor(work);
    const coreExe = buildCore(work);

    const mono48 = speechLike(48000, SECONDS, 1);
    const stereo48 = speechLike(48000, SECONDS, 2);
    const mono24 = speechLike(24000, SECONDS, 1);
    const chromePayloads = encodeStream(mono48, 1, 32000);
    const aiortcPayloads = encodeStream(stereo48, 2, 96000);
    const chromeRtp = toRtp(chromePayloads);
    const aiortcRtp = toRtp(aiortcPayloads);
    const f = (n: string): string => join(work, n);
    writePackets(f('chrome.bin'), chromePayloads);
    writePackets(f('aiortc.bin'), aiortcPayloads);
    writeFileSync(f('pcm48.raw'), Buffer.from(mono48.buffer, mono48.byteOffset, mono48.byteLength));
    writeFileSync(f('pcm24.raw'), Buffer.from(mono24.buffer, mono24.byteOffset, mono24.byteLength));

    const rows: Row[] = [
      'recv chrome mono 32k -> 16k, resampled',
      'recv chrome mono 32k -> 16k, direct',
      'recv aiortc stereo 96k -> 16k mono, resampled',
      'recv aiortc stereo 96k -> 16k mono, direct',
      'send 48k PCM -> Opus RTP',
      'send 24k PCM -> 48k -> Opus RTP',
    ].map((name) => ({ name, floor: [], core: [], ours: [], js: [], check: {} }));
    const r = (i: number): Row => rows[i]!;

    type Step = () => void;
    const record = (row: Row, key: 'ours' | 'js', pass: Pass, rep: number): void => {
      if (rep > 0) row[key].push(pass.us);
      row.check[`${key}Outputs`] = pass.outputs;
      if (pass.rms !== undefined) row.check[`${key}Rms`] = pass.rms;
    };
    const steps: Array<(rep: number) => void> = [
      (rep) => {
        const a = runFloor(exe, f('chrome.bin'), f('pcm48.raw'), f('pcm24.raw'));
        const b = runFloor(exe, f('aiortc.bin'), f('pcm48.raw'), f('pcm24.raw'));
        if (rep === 0) return; // warm-up
        r(0).floor.push(a.decodeResampled);
        r(1).floor.push(a.decodeDirect);
        r(2).floor.push(b.decodeResampled);
        r(3).floor.push(b.decodeDirect);
        r(4).floor.push(a.encode48);
        r(5).floor.push(a.encode24);
      },
      (rep) => {
        const a = runFloor(coreExe, f('chrome.bin'), f('pcm48.raw'), f('pcm24.raw'));
        const b = runFloor(coreExe, f('aiortc.bin'), f('pcm48.raw'), f('pcm24.raw'));
        if (rep === 0) return;
        r(0).core.push(a.decodeResampled);
        r(1).core.push(a.decodeDirect);
        r(2).core.push(b.decodeResampled);
        r(3).core.push(b.decodeDirect);
        r(4).core.push(a.encode48);
        r(5).core.push(a.encode24);
      },
      (rep) => {
        record(r(0), 'ours', oursDecode(chromeRtp, false), rep);
        record(r(1), 'ours', oursDecode(chromeRtp, true), rep);
        record(r(2), 'ours', oursDecode(aiortcRtp, false), rep);
        record(r(3), 'ours', oursDecode(aiortcRtp, true), rep);
      },
      (rep) => {
        record(r(4), 'ours', oursEncode(mono48, 48000), rep);
        record(r(5), 'ours', oursEncode(mono24, 24000), rep);
      },
      (rep) => {
        record(r(0), 'js', jsDecode(chromeRtp, false, 1), rep);
        record(r(1), 'js', jsDecode(chromeRtp, true, 1), rep);
        record(r(2), 'js', jsDecode(aiortcRtp, false, 2), rep);
        record(r(3), 'js', jsDecode(aiortcRtp, true, 2), rep);
      },
      (rep) => {
        record(r(4), 'js', jsEncode(mono48, 48000), rep);
        record(r(5), 'js', jsEncode(mono24, 24000), rep);
      },
    ];
    const started = Date.now();
    for (let rep = 0; rep <= REPS; rep++) {
      // Rotate the order so no variant always runs right after the same neighbour (caches, frequency).
      for (let k = 0; k < steps.length; k++)
        (steps[(k + rep) % steps.length] as Step & ((rep: number) => void))(rep);
      process.stderr.write(`\rrepetition ${rep}/${REPS}${rep === 0 ? ' (warm-up)' : ''}   `);
    }
    process.stderr.write('\n');

    const fmt = (x: number): string => x.toFixed(1).padStart(8);
    const ratio = (a: number, b: number): string => `${(a / b).toFixed(2)}x`.padStart(7);
    console.log(
      `\nsmall-webrtc bench/micro: median us per 20 ms chunk over ${REPS} repetitions of ${SECONDS} s ` +
        `(${CHUNKS} chunks); addon ${addon.opus}, static=${addon.staticCodecs}; ${cpus()[0]?.model ?? '?'}`,
    );
    console.log(
      `${'path'.padEnd(48)}${'floor'.padStart(8)}${'core'.padStart(8)}${'ours'.padStart(8)}${'ours/fl'.padStart(8)}${'js'.padStart(8)}${'js/fl'.padStart(7)}${'js/ours'.padStart(8)}${'min o/f'.padStart(8)}`,
    );
    const summary = rows.map((row) => {
      const floor = median(row.floor);
      const core = median(row.core);
      const ours = median(row.ours);
      const js = median(row.js);
      console.log(
        `${row.name.padEnd(48)}${fmt(floor)}${fmt(core)}${fmt(ours)}${ratio(ours, floor).padStart(8)}${fmt(js)}${ratio(js, floor)}${ratio(js, ours).padStart(8)}${ratio(Math.min(...row.ours), Math.min(...row.floor)).padStart(8)}`,
      );
      return {
        name: row.name,
        floorUs: floor,
        coreUs: core,
        oursUs: ours,
        jsUs: js,
        coreOverFloor: core / floor,
        oursOverFloor: ours / floor,
        // Ratio of the fastest repetitions: the least disturbed by other processes on a shared machine.
        oursOverFloorMin: Math.min(...row.ours) / Math.min(...row.floor),
        bindingUs: ours - core,
        jsOverFloor: js / floor,
        samples: { floor: row.floor, core: row.core, ours: row.ours, js: row.js },
        check: row.check,
      };
    });
    console.log('\noutput checks (samples or packets produced per pass; RMS of decoded 16 kHz audio):');
    for (const s of summary) console.log(`  ${s.name.padEnd(48)}${JSON.stringify(s.check)}`);
    const worst = Math.max(...summary.map((s) => s.oursOverFloor));
    const worstMin = Math.max(...summary.map((s) => s.oursOverFloorMin));
    console.log(
      `\nworst ours/floor ratio (medians): ${worst.toFixed(2)} (target <= 1.15) -> ${worst <= 1.15 ? 'MET' : 'NOT MET'};` +
        ` of the fastest repetitions ("min o/f"): ${worstMin.toFixed(2)}`,
    );

    const resultsDir = join(root, 'bench', 'results');
    mkdirSync(resultsDir, { recursive: true });
    const file = join(resultsDir, `micro-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
    writeFileSync(
      file,
      JSON.stringify(
        {
          kind: 'bench/micro',
          date: new Date().toISOString(),
          durationMs: Date.now() - started,
          node: process.version,
          cpu: cpus()[0]?.model,
          cores: cpus().length,
          addon,
          config: {
            reps: REPS,
            seconds: SECONDS,
            chunks: CHUNKS,
            encoder: ENC,
            resampleQuality: RESAMPLE_QUALITY,
            jsResampler: 'windowed-sinc, Blackman, 8 zero crossings per side',
          },
          results: summary,
          worstOursOverFloor: worst,
          worstOursOverFloorMin: worstMin,
        },
        null,
        2,
      ),
    );
    console.log(`saved ${file}`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

main();
