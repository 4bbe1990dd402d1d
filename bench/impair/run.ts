// Network impairment bench: how the receive path copes with jitter, loss (random and in bursts) and
// reordering on the client -> server path, with the echo bot of `npm run demo` and a node-datachannel client
// whose every datagram goes through testkit/impair-relay.ts.
//
// Why a userspace relay and not `tc netem` in network namespaces: this machine's kernel has no netem qdisc
// (`tc qdisc add ... netem` answers "Specified qdisc kind is unknown"; CONFIG_NET_SCH_NETEM is not set, see
// docs/reliability.md), and the relay needs no privileges. Its delays are timers on this process's event
// loop (server, client and relay share it), so a busy loop adds jitter of its own; the "clean" row shows it.
//
// Per scenario (the same session throughout; each one gets a settling second, then a window): the
// jitter buffer's loss deadline (targetDelayMs, sampled every 100 ms) and how long real frames waited in it
// (per chunk, bench/latency/stages.ts), concealed % of the output, FEC recoveries, late drops, and the
// receiver reports the client got from us (fraction lost: what would drive a browser's Opus FEC). Then
// bursts: 200 ms of total loss on a clean path, and how long until real audio is out again and the
// jitter buffer's deadline is back near its level before the burst.
//
// usage: npm run bench:impair [-- --quick] [--seconds N] [--bursts N]
import { writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';

import nodeDataChannel from 'node-datachannel';

import { runEchoBot } from '../../examples/echo-bot.js';
import { SmallWebRTCConnection, type SmallWebRTCTransport } from '../../src/index.js';
import { consoleLogger, setLogger } from '../../src/logger.js';
import { parseRtcp } from '../../src/media/rtp.js';
import { opusTone } from '../../testkit/audio.js';
import {
  candidateAddress,
  ImpairRelay,
  rewriteCandidateLine,
  rewriteCandidates,
  type Impairment,
} from '../../testkit/impair-relay.js';
import { PipecatLikeClient } from '../../testkit/pipecat-like-client.js';
import { OPUS_TICKS_PER_20MS } from '../../testkit/rtp.js';
import { sleep, until } from '../../testkit/wait.js';
import { dist, progress, progressDone, resultsDir, stamp, type Dist } from '../lib/stats.js';
import { installStageHooks, rec, resetStages } from '../latency/stages.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : fallback;
}
const QUICK = process.argv.includes('--quick');
const SECONDS = Number(arg('seconds', QUICK ? '1.5' : '15'));
const BURSTS = Number(arg('bursts', QUICK ? '1' : '6'));
/** Time each new impairment gets before its window, ms. */
const SETTLE_MS = QUICK ? 600 : 1000;
const BURST_MS = 200;

setLogger(consoleLogger('error'));
installStageHooks();

const SCENARIOS: Array<{ name: string; impairment: Impairment }> = [
  { name: 'clean', impairment: {} },
  { name: 'jitter 20 ms', impairment: { jitterMs: 20 } },
  { name: 'jitter 40 ms', impairment: { jitterMs: 40 } },
  { name: 'jitter 80 ms', impairment: { jitterMs: 80 } },
  { name: 'loss 1 %', impairment: { loss: 0.01 } },
  { name: 'loss 5 %', impairment: { loss: 0.05 } },
  { name: 'loss 10 %', impairment: { loss: 0.1 } },
  // Gilbert: enter 2 %, mean burst 1/0.35 ~ 3 packets (~6 % loss in bursts).
  { name: 'bursts (~3 packets)', impairment: { burst: { enter: 0.02, exit: 0.35 } } },
  { name: 'loss 5 % + jitter 40 ms', impairment: { loss: 0.05, jitterMs: 40 } },
  { name: 'reorder 5 % by 40 ms', impairment: { reorder: 0.05, reorderDelayMs: 40 } },
];

interface ScenarioResult {
  name: string;
  impairment: Impairment;
  seconds: number;
  sent: number;
  droppedByRelay: number;
  reorderedByRelay: number;
  received: number;
  lost: number;
  concealedPercent: number;
  fecRecovered: number;
  lateDropped: number;
  /** The jitter buffer's loss deadline, ms (sampled every 100 ms). */
  targetDelayMs: Dist | null;
  /** How long real frames waited in the jitter buffer, ms. */
  holdMs: Dist | null;
  /** RFC 3550 jitter the receiver estimated at the end, ms. */
  jitterMs: number;
  /** Receiver reports we sent about the client's audio, and the loss they announced (%). */
  receiverReports: number;
  reportedLossPercent: Dist | null;
}

const client = await PipecatLikeClient.create({ trickle: false, video: false, screen: false });
const conn = new SmallWebRTCConnection({ bindAddress: '127.0.0.1' });
const relay = await ImpairRelay.start({ seed: 42 });
await conn.initialize(client.offer);
const answer = conn.getAnswer();
const serverAt = answer ? candidateAddress(answer.sdp) : null;
if (answer === null || serverAt === null) throw new Error('no answer with a candidate from the server');
relay.setServer(serverAt);
client.setAnswer({ sdp: rewriteCandidates(answer.sdp, relay.clientSide) });
for (const c of client.candidates) {
  await conn.addIceCandidate({ ...c, candidate: rewriteCandidateLine(c.candidate, relay.serverSide) });
}
let transport: SmallWebRTCTransport | null = null;
let connected = false;
const running = runEchoBot(conn, {
  statsIntervalMs: 0,
  onTransport: (t) => {
    transport = t;
    t.eventHandler('on_client_connected', () => void (connected = true));
  },
});
await client.waitConnected(30_000);
await until(() => connected, 10_000, 'on_client_connected');
const input = (): NonNullable<ReturnType<SmallWebRTCTransport['getStats']>['input']> => {
  const s = (transport as SmallWebRTCTransport | null)?.getStats().input;
  if (!s) throw new Error('no input stats');
  return s;
};

// Receiver reports (or sender reports with report blocks) the client gets about its audio SSRC.
const reports: Array<{ t: number; lossPercent: number }> = [];
/** Every RTCP packet type the client got on its audio transceiver, with counts. */
const rtcpTypes: Record<string, number> = {};
client.onRtcp('audio', (buf) => {
  try {
    for (const p of parseRtcp(buf)) {
      rtcpTypes[p.packetType] = (rtcpTypes[p.packetType] ?? 0) + 1;
      if (!('reports' in p)) continue;
      for (const b of p.reports) {
        if (b.ssrc === client.ssrcs.audio) {
          reports.push({ t: performance.now(), lossPercent: (100 * b.fractionLost) / 256 });
        }
      }
    }
  } catch {
    // A malformed compound packet is not ours to judge here (and must not throw in the callback).
  }
});

// The microphone: a continuous tone with in-band FEC (LBRR), one packet per 20 ms by the clock.
const tone = opusTone({ packets: 250, fec: true });
let k = 0;
const startAt = performance.now();
const mic = setInterval(() => {
  const due = Math.floor((performance.now() - startAt) / 20) + 1;
  while (k < due) {
    client.sendRtp('audio', {
      seq: k & 0xffff,
      timestamp: (k * OPUS_TICKS_PER_20MS) >>> 0,
      payload: tone[k % tone.length]!,
    });
    k++;
  }
}, 5);
await sleep(2000);

const results: ScenarioResult[] = [];
for (const [i, sc] of SCENARIOS.entries()) {
  relay.impair('toServer', sc.impairment);
  await sleep(SETTLE_MS);
  const s0 = input();
  relay.resetCounters();
  resetStages();
  const r0 = reports.length;
  const k0 = k;
  const targets: number[] = [];
  const t0 = performance.now();
  while (performance.now() - t0 < SECONDS * 1000) {
    progress(`impair: [${i + 1}/${SCENARIOS.length}] ${sc.name}`);
    targets.push(input().targetDelayMs);
    await sleep(100);
  }
  const wall = performance.now() - t0;
  const s1 = input();
  const relayed = relay.counters.toServer;
  const real = rec.ordered.filter((c) => !c.concealed && c.seq >= 0);
  results.push({
    name: sc.name,
    impairment: sc.impairment,
    seconds: +(wall / 1000).toFixed(1),
    sent: k - k0,
    droppedByRelay: relayed.droppedLoss,
    reorderedByRelay: relayed.reordered,
    received: s1.received - s0.received,
    lost: s1.lost - s0.lost,
    concealedPercent: +((100 * (s1.concealedMs - s0.concealedMs)) / wall).toFixed(2),
    fecRecovered: s1.fecRecovered - s0.fecRecovered,
    lateDropped: s1.lateDropped - s0.lateDropped,
    targetDelayMs: dist(targets),
    holdMs: dist(
      real.map((c) => c.rxCallStart - c.packetPushStart),
      2,
    ),
    jitterMs: +s1.jitterMs.toFixed(2),
    receiverReports: reports.length - r0,
    reportedLossPercent: dist(reports.slice(r0).map((r) => r.lossPercent)),
  });
}

// Bursts: 200 ms of total loss on a clean path.
relay.impair('toServer', {});
await sleep(1500);
const recovery = {
  firstRealFrameMs: [] as number[],
  deadlineBackMs: [] as number[],
  concealedMs: [] as number[],
};
for (let b = 0; b < BURSTS; b++) {
  progress(`impair: burst ${b + 1}/${BURSTS}`);
  const before = input().targetDelayMs;
  const c0 = input().concealedMs;
  resetStages();
  relay.impair('toServer', { loss: 1 });
  await sleep(BURST_MS);
  relay.impair('toServer', {});
  const end = performance.now();
  let back = NaN;
  while (performance.now() - end < 3000) {
    if (Number.isNaN(back) && input().targetDelayMs <= before + 5) back = performance.now() - end;
    await sleep(20);
  }
  const first = rec.ordered.find((c) => !c.concealed && c.seq >= 0 && c.arrivalMs > end);
  recovery.firstRealFrameMs.push(first ? first.rxCallEnd - end : NaN);
  recovery.deadlineBackMs.push(back);
  recovery.concealedMs.push(input().concealedMs - c0);
}
progressDone();
clearInterval(mic);

const result = {
  date: new Date().toISOString(),
  quick: QUICK,
  why: 'userspace UDP relay (testkit/impair-relay.ts): this kernel has no netem qdisc (docs/reliability.md)',
  machine: { cpus: cpus().length, model: cpus()[0]?.model ?? '?', loadAtEnd: loadavg() },
  seconds: SECONDS,
  /** RTCP the client received on its audio transceiver over the whole run, by type. */
  rtcpToClient: rtcpTypes,
  receiverReportsToClient: reports.length,
  scenarios: results,
  bursts: {
    count: BURSTS,
    burstMs: BURST_MS,
    firstRealFrameMs: dist(recovery.firstRealFrameMs),
    deadlineBackMs: dist(recovery.deadlineBackMs),
    concealedMs: dist(recovery.concealedMs),
  },
};
const file = join(resultsDir(), `impair-${stamp()}.json`);
writeFileSync(file, JSON.stringify(result, null, 2) + '\n');
console.log(JSON.stringify(result, null, 2));
console.log(`saved ${file}`);
client.close();
await Promise.race([running, sleep(3000)]);
relay.close();
nodeDataChannel.cleanup();
process.exit(0);
