// Latency bench: where the time of one 20 ms audio chunk goes inside the process, and what the echo bot adds.
//
//   A. In-process (the echo bot of `npm run demo`, Silero VAD on, and a node-datachannel client in the same
//      process, so one clock sees both ends): per chunk, split into stages (bench/latency/stages.ts times
//      them by wrapping the library's prototypes; the library itself carries no instrumentation):
//      receive   client send -> server JS callback (SRTP, loopback UDP, libdatachannel thread -> JS)
//                -> native push (RTP parse, jitter buffer, Opus decode, resample) -> buffer hold (the frame
//                waited in the jitter buffer) -> JS hop to the first processor (input transport, VAD)
//      send      JS hop (echo + output transport, frame -> AudioSender.write; includes the wait in the output
//                transport's queue while earlier audio is still queued: its back-pressure) -> buffer hold
//                (the sender's ring, up to the pacing slot that takes the chunk's first sample) -> native
//                (Opus encode on the worker + the hop back) -> RtpSink.send -> wire to the client
//      interruption  InterruptionFrame queued -> ring cleared (JS hop) -> last stale slot (buffer hold)
//                -> its packet sent (native), and the last loud frame the client decoded
//      server-added  RTP in (JS callback) -> echoed RTP out (RtpSink.send of the packet with the chunk's first
//                sample), per chunk; the microphone is 1 s of tone / 1.5 s of silence as in the scale bench
//   B. Other process: the same echo bot served over HTTP from this process, one bench/scale/client.ts child
//      (1 s tone / 1.5 s silence): the round trip it hears (tone onset sent -> echo onset decoded), the
//      server-added latency measured here at the same time, and this process's CPU per session.
//
// usage: npm run bench:latency [-- --quick] [--seconds N] [--reps N]
import { fork } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

import nodeDataChannel from 'node-datachannel';

import { runEchoBot } from '../../examples/echo-bot.js';
import {
  FrameDirection,
  FrameProcessor,
  InputAudioRawFrame,
  InterruptionFrame,
  OutputAudioRawFrame,
  SmallWebRTCConnection,
  type Frame,
} from '../../src/index.js';
import { consoleLogger, setLogger } from '../../src/logger.js';
import { AudioReceiver } from '../../src/media/audio-receiver.js';
import { startSmallWebRTCServer } from '../../src/server/index.js';
import { opusTone, rms, sine } from '../../testkit/audio.js';
import { PipecatLikeClient } from '../../testkit/pipecat-like-client.js';
import { OPUS_SILENCE, OPUS_TICKS_PER_20MS } from '../../testkit/rtp.js';
import { sleep, until } from '../../testkit/wait.js';
import { dist, progress, progressDone, resultsDir, stamp, type Dist } from '../lib/stats.js';
import { ignore, installStageHooks, rec, resetStages, type Chunk } from './stages.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : fallback;
}
const QUICK = process.argv.includes('--quick');
const SECONDS = Number(arg('seconds', QUICK ? '4' : '30'));
const REPS = Number(arg('reps', QUICK ? '2' : '10'));
const WARMUP_MS = 1500;

setLogger(consoleLogger('error'));
installStageHooks();

/** Records when each input frame reaches it (the first processor after the input transport and RTVI). */
class Probe extends FrameProcessor {
  override async processFrame(frame: Frame, direction: FrameDirection): Promise<void> {
    if (frame instanceof InputAudioRawFrame) {
      const c = rec.chunks.get(frame.audio);
      if (c !== undefined) c.probeMs = performance.now();
    }
    await this.pushFrame(frame, direction);
  }
}

const ms = (a: number | undefined, b: number | undefined): number =>
  a === undefined || b === undefined ? NaN : a - b;
const d2 = (v: number[]): Dist | null => dist(v, 2);

// ---- A: in process ----------------------------------------------------------------------------------------

interface InProcessResult {
  chunks: number;
  matched: { probe: number; write: number; sent: number; heard: number };
  receive: Record<'wireAndHop' | 'native' | 'bufferHold' | 'jsHop' | 'total', Dist | null>;
  send: Record<'jsHopAndQueue' | 'bufferHold' | 'native' | 'wire' | 'total', Dist | null>;
  /** RTP in -> the packet with the chunk's first sample out; and with its last sample. */
  serverAdded: Dist | null;
  serverAddedLastSample: Dist | null;
  clientRoundTrip: Dist | null;
  interruption: Record<'jsHop' | 'bufferHold' | 'native' | 'total' | 'lastLoudAtClient', Dist | null>;
}

async function inProcess(): Promise<InProcessResult> {
  const client = await PipecatLikeClient.create({ trickle: false, video: false, screen: false });
  const conn = new SmallWebRTCConnection({ bindAddress: '127.0.0.1' });
  await client.negotiate(conn);
  const probe = new Probe();
  let connected = false;
  const running = runEchoBot(conn, {
    taps: [probe],
    statsIntervalMs: 0,
    onTransport: (t) => t.eventHandler('on_client_connected', () => void (connected = true)),
  });
  await client.waitConnected();
  await until(() => connected, 10_000, 'on_client_connected');

  // What the client hears: arrival per RTP sequence number, and decoded loudness (for interruptions).
  const heardAt = new Map<number, number>();
  const loudAt: number[] = [];
  const decoder = new AudioReceiver({ sampleRate: 48000, channels: 1 });
  ignore.add(decoder);
  let closed = false;
  client.onRtp('audio', (buf) => {
    if (closed) return;
    const t = performance.now();
    heardAt.set(((buf[2] ?? 0) << 8) | (buf[3] ?? 0), t);
    for (const f of decoder.push(buf, t)) if (rms(f.audio) > 1000) loudAt.push(t);
  });

  // The microphone, as bench/scale/client.ts: 1 s of tone, 1.5 s of Opus silence, one pre-encoded packet per
  // 20 ms by the clock. The pauses let the echo bot drop quiet frames when its output fell behind.
  const tone = [...opusTone({ packets: 50, fec: true }), ...Array.from({ length: 75 }, () => OPUS_SILENCE)];
  const sentAt = new Map<number, number>();
  let k = 0;
  const startAt = performance.now();
  const mic = setInterval(() => {
    const due = Math.floor((performance.now() - startAt) / 20) + 1;
    while (k < due) {
      const seq = k & 0xffff;
      sentAt.set(seq, performance.now());
      client.sendRtp('audio', {
        seq,
        timestamp: (k * OPUS_TICKS_PER_20MS) >>> 0,
        payload: tone[k % tone.length]!,
      });
      k++;
    }
  }, 5);
  await sleep(WARMUP_MS);
  resetStages();
  const windowStart = performance.now();
  while (performance.now() - windowStart < SECONDS * 1000) {
    progress(`latency: in-process echo ${Math.round((performance.now() - windowStart) / 1000)}/${SECONDS} s`);
    await sleep(500);
  }
  const chunks = rec.ordered.filter((c) => !c.concealed && c.seq >= 0);
  await sleep(300); // let the last chunks reach the client
  clearInterval(mic);
  const sent = (c: Chunk): number | undefined => sentAt.get(c.seq);
  const heard = (c: Chunk): number | undefined =>
    c.firstOutSeq === undefined ? undefined : heardAt.get(c.firstOutSeq);
  const col = (f: (c: Chunk) => number): Dist | null => d2(chunks.map(f));
  const result: Omit<InProcessResult, 'interruption'> = {
    chunks: chunks.length,
    matched: {
      probe: chunks.filter((c) => c.probeMs !== undefined).length,
      write: chunks.filter((c) => c.writeMs !== undefined).length,
      sent: chunks.filter((c) => c.firstOutMs !== undefined).length,
      heard: chunks.filter((c) => heard(c) !== undefined).length,
    },
    receive: {
      wireAndHop: col((c) => ms(c.arrivalMs, sent(c))),
      native: col((c) => c.packetPushEnd - c.packetPushStart),
      bufferHold: col((c) => c.rxCallStart - c.packetPushStart),
      jsHop: col((c) => ms(c.probeMs, c.rxCallEnd)),
      total: col((c) => ms(c.probeMs, sent(c))),
    },
    send: {
      jsHopAndQueue: col((c) => ms(c.writeMs, c.probeMs)),
      bufferHold: col((c) => ms(c.firstSlotStart, c.writeMs)),
      native: col((c) => ms(c.firstOutMs, c.firstSlotStart)),
      wire: col((c) => ms(heard(c), c.firstOutMs)),
      total: col((c) => ms(heard(c), c.probeMs)),
    },
    serverAdded: col((c) => ms(c.firstOutMs, c.arrivalMs)),
    serverAddedLastSample: col((c) => ms(c.outMs, c.arrivalMs)),
    clientRoundTrip: col((c) => ms(heard(c), sent(c))),
  };

  // Interruption: bot speech queued (1.5 s), 400 ms of it sent, then an InterruptionFrame.
  const interruption = { jsHop: [] as number[], bufferHold: [] as number[], native: [] as number[] };
  const total: number[] = [];
  const lastLoud: number[] = [];
  const speech = sine(16000, 1, 660, 1.5, 8000);
  // The microphone stopped: let the receiver's concealment (up to 1 s) and its echo run out first.
  await sleep(1800);
  for (let r = 0; r < REPS; r++) {
    progress(`latency: interruption ${r + 1}/${REPS}`);
    resetStages();
    void probe.queueFrame(
      new OutputAudioRawFrame({ audio: speech, sampleRate: 16000, numChannels: 1 }),
      FrameDirection.DOWNSTREAM,
    );
    await sleep(400);
    const t0 = performance.now();
    await probe.queueFrame(new InterruptionFrame(), FrameDirection.DOWNSTREAM);
    await sleep(400);
    const cleared = rec.clears.find((t) => t >= t0);
    if (cleared === undefined) continue;
    // The last slot that consumed queued audio after the interruption, and the packet sent after it.
    const stale = rec.audioSlots.filter((s) => s.t >= t0).at(-1);
    const out = stale ? rec.sent.find((s) => s.t >= stale.t) : undefined;
    interruption.jsHop.push(cleared - t0);
    interruption.bufferHold.push(stale ? Math.max(0, stale.t - cleared) : 0);
    interruption.native.push(stale && out ? out.t - stale.t : 0);
    total.push((out?.t ?? cleared) - t0);
    const loud = loudAt.filter((t) => t >= t0).at(-1);
    lastLoud.push(loud === undefined ? 0 : loud - t0);
    await sleep(200);
  }
  closed = true;
  decoder.close();
  client.close();
  await Promise.race([running, sleep(3000)]);
  return {
    ...result,
    interruption: {
      jsHop: d2(interruption.jsHop),
      bufferHold: d2(interruption.bufferHold),
      native: d2(interruption.native),
      total: d2(total),
      lastLoudAtClient: d2(lastLoud),
    },
  };
}

// ---- B: a client in another process -----------------------------------------------------------------------

interface OtherProcessResult {
  seconds: number;
  onsetsSent: number;
  onsetsHeard: number;
  clientRoundTrip: Dist | null;
  serverAdded: Dist | null;
  /** This process (the server: echo bot, VAD, both directions) during the window, % of one core. */
  serverCpuPercent: number;
}

async function otherProcess(): Promise<OtherProcessResult> {
  const server = await startSmallWebRTCServer({
    port: 0,
    host: '127.0.0.1',
    iceServers: [],
    connectionOptions: { bindAddress: '127.0.0.1' },
    logger: { debug() {}, info() {}, warn() {}, error: (m: string) => console.error(m) },
    onNewConnection: (connection) => {
      runEchoBot(connection, { taps: [new Probe()] }).catch((err: unknown) => {
        console.error(`echo session failed: ${String(err)}`);
      });
    },
  });
  const here = fileURLToPath(new URL('.', import.meta.url));
  const child = fork(join(here, '../scale/client.ts'), ['--url', server.url, '--sessions', '1'], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const messages: Array<Record<string, unknown>> = [];
  child.on('message', (m) => messages.push(m as Record<string, unknown>));
  try {
    await until(() => messages.some((m) => m['ready'] || m['error']), 60_000, 'client ready');
    const err = messages.find((m) => m['error']);
    if (err) throw new Error(`client: ${String(err['error'])}`);
    await sleep(WARMUP_MS + 1000);
    resetStages();
    child.send({ start: true });
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    // At least two of the clients' 2.5 s tone/silence cycles.
    const seconds = Math.max(SECONDS, QUICK ? 6 : 8);
    while (performance.now() - t0 < seconds * 1000) {
      progress(
        `latency: client in another process ${Math.round((performance.now() - t0) / 1000)}/${seconds} s`,
      );
      await sleep(500);
    }
    const cpu = process.cpuUsage(cpu0);
    const wall = performance.now() - t0;
    const chunks = rec.ordered.filter((c) => !c.concealed && c.seq >= 0);
    child.send({ stop: true });
    await until(() => messages.some((m) => m['result']), 10_000, 'client result');
    const r = messages.find((m) => m['result'])!['result'] as {
      delays: number[];
      onsetsSent: number;
      onsetsHeard: number;
    };
    return {
      seconds,
      onsetsSent: r.onsetsSent,
      onsetsHeard: r.onsetsHeard,
      clientRoundTrip: d2(r.delays),
      serverAdded: d2(chunks.map((c) => ms(c.firstOutMs, c.arrivalMs))),
      serverCpuPercent: +((100 * (cpu.user + cpu.system)) / (wall * 1000)).toFixed(2),
    };
  } finally {
    child.send({ close: true });
    await Promise.race([new Promise((r) => child.once('exit', r)), sleep(3000)]);
    if (child.exitCode === null) child.kill();
    await server.close();
  }
}

// ---- main -------------------------------------------------------------------------------------------------

const loadAtStart = loadavg().map((x) => +x.toFixed(2));
const a = await inProcess();
const b = await otherProcess();
progressDone();
const result = {
  date: new Date().toISOString(),
  quick: QUICK,
  seconds: SECONDS,
  reps: REPS,
  machine: { cpus: cpus().length, model: cpus()[0]?.model ?? '?', loadAtStart, loadAtEnd: loadavg() },
  inProcess: a,
  otherProcess: b,
};
const file = join(resultsDir(), `latency-${stamp()}.json`);
writeFileSync(file, JSON.stringify(result, null, 2) + '\n');
console.log(JSON.stringify(result, null, 2));
console.log(`saved ${file}`);
nodeDataChannel.cleanup();
process.exit(0);
