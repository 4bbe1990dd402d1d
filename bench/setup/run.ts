// Setup latency bench: time from the offer POST to (a) the answer, (b) "connected" on the client, and (c) the
// first client RTP packet arriving at the server's audioInputTrack(), for two offering clients against our
// HTTP server over loopback:
//   node   - an in-process node-datachannel peer laid out like the Pipecat web client (audio + chat)
//   aiortc - testkit/aiortc_client.py (Debian python3-aiortc), a separate process
//   chromium - headless Chromium with a plain RTCPeerConnection page (fake mic; offer without candidates,
//              PATCH trickle after the answer, like the Pipecat web client); a new page per run
// Median and p95 over N runs are printed and saved as JSON under bench/results/.
//
// Usage: npm run bench:setup -- [--runs N] [--clients node,aiortc,chromium]
// Notes: times are wall clock on a shared machine; the node client lives in the server's process (one event
// loop for both peers), aiortc timestamps are epoch ms from another process (same clock).
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import nodeDataChannel from 'node-datachannel';
import type { Browser } from 'playwright-core';

import type { SmallWebRTCConnection } from '../../src/connection/index.js';
import { consoleLogger, setLogger } from '../../src/logger.js';
import { startSmallWebRTCServer } from '../../src/server/index.js';
import { AiortcClient, aiortcAvailable } from '../../testkit/aiortc-process.js';
import { chromiumAvailable, launchChromium } from '../../testkit/chromium.js';
import { PipecatLikeClient } from '../../testkit/pipecat-like-client.js';
import { parseRtpOrNull } from '../../testkit/rtp.js';

interface RunResult {
  answerMs: number;
  connectedMs: number;
  firstRtpMs: number;
}

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : fallback;
}

const RUNS = Number(arg('runs', '10'));
const CLIENTS = arg('clients', 'node,aiortc,chromium').split(',');
const TIMEOUT_MS = 20_000;
/** node-datachannel objects must stay referenced until cleanup() (see testkit/pipecat-like-client.ts). */
const keep: PipecatLikeClient[] = [];

// Clients are torn down right after their first RTP, so connection-level warnings (e.g. a data channel that
// never opened before the aiortc process was killed) are expected noise here.
setLogger(consoleLogger('error'));

/** Server-side first-RTP times (epoch ms) per pc_id. */
const firstRtpAt = new Map<string, number>();
const rtpWaiters = new Map<string, (t: number) => void>();

const server = await startSmallWebRTCServer({
  port: 0,
  staticDir: fileURLToPath(new URL('../../testkit/pages/', import.meta.url)),
  connectionOptions: { bindAddress: '127.0.0.1' },
  maxConnections: 1000,
  // Every bench client comes from 127.0.0.1: the per-address limits would stop it at 10 connections.
  maxConnectionsPerAddress: Infinity,
  offerRatePerAddress: null,
  logger: { debug() {}, info() {}, warn() {}, error: (m: string) => console.error(m) },
  onNewConnection: (connection: SmallWebRTCConnection) => {
    let seen = false;
    const unsubscribe = connection.audioInputTrack()?.onRtp((packet) => {
      if (seen || !parseRtpOrNull(packet)) return;
      seen = true;
      const t = Date.now();
      firstRtpAt.set(connection.pcId, t);
      rtpWaiters.get(connection.pcId)?.(t);
      // Unsubscribe on the next tick: not from inside the callback.
      setImmediate(() => unsubscribe?.());
    });
    void connection.connect();
  },
});

function waitFirstRtp(pcId: string): Promise<number> {
  const known = firstRtpAt.get(pcId);
  if (known !== undefined) return Promise.resolve(known);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no RTP from ${pcId}`)), TIMEOUT_MS);
    rtpWaiters.set(pcId, (t) => {
      clearTimeout(timer);
      rtpWaiters.delete(pcId);
      resolve(t);
    });
  });
}

/**
 * One run with the in-process node-datachannel client (audio sendrecv Opus/111 + `chat`), which like the web
 * client posts a candidate-less offer and PATCHes its candidates after the answer. It starts sending Opus
 * silence RTP as soon as its audio track opens (checked every 20 ms).
 */
async function runNode(): Promise<RunResult & { recovered: number }> {
  const client = await PipecatLikeClient.create({ baseUrl: server.url, video: false, screen: false });
  keep.push(client);
  try {
    client.startRtp();
    const r = await client.connect();
    if (r.status !== 200) throw new Error(`offer failed: ${r.status} ${JSON.stringify(r.json)}`);
    const t0 = client.timings.offerPostAt;
    const rtp = waitFirstRtp(client.pcId!);
    await client.waitConnected(TIMEOUT_MS);
    const tConnected = client.timings.connectedAt;
    const tRtp = await rtp;
    return {
      answerMs: client.timings.answerAt - t0,
      connectedMs: tConnected - t0,
      firstRtpMs: tRtp - t0,
      recovered: client.recoveredAnswerRaces,
    };
  } finally {
    client.close();
  }
}

/** One run with the aiortc client process. */
async function runAiortc(): Promise<RunResult> {
  const client = new AiortcClient(server.url, { duration: 20 });
  try {
    const sent = await client.waitFor('offer-sent', TIMEOUT_MS);
    const answer = await client.waitFor('answer', TIMEOUT_MS);
    const connected = await client.waitFor('connected', TIMEOUT_MS);
    const tRtp = await waitFirstRtp(answer.pc_id as string);
    return { answerMs: answer.t - sent.t, connectedMs: connected.t - sent.t, firstRtpMs: tRtp - sent.t };
  } finally {
    client.kill();
    await client.exited;
  }
}

const chromium: { browser: Browser | null } = { browser: null };

/** One run with headless Chromium (browser launched once, a fresh page per run). */
async function runChromium(): Promise<RunResult> {
  chromium.browser ??= await launchChromium();
  const page = await chromium.browser.newPage();
  try {
    await page.goto(`${server.url}/plain-peer.html`);
    const { pcId } = await page.evaluate(() =>
      (window as unknown as { runPeer: () => Promise<{ pcId: string }> }).runPeer(),
    );
    const tRtp = await waitFirstRtp(pcId);
    const events = await page.evaluate(
      () =>
        (window as unknown as { peerState: { events: Array<{ e: string; w: number }> } }).peerState.events,
    );
    const at = (name: string): number => {
      const e = events.find((x) => x.e === name);
      if (!e) throw new Error(`page event ${name} missing`);
      return e.w;
    };
    const t0 = at('offer-post');
    return { answerMs: at('answer') - t0, connectedMs: at('pc:connected') - t0, firstRtpMs: tRtp - t0 };
  } finally {
    await page.close();
  }
}

function percentile(sorted: number[], p: number): number {
  // Nearest-rank percentile.
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1]!;
}

function summarize(values: number[]): { median: number; p95: number; min: number; max: number } {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length / 2;
  const median = s.length % 2 ? s[Math.floor(mid)]! : (s[mid - 1]! + s[mid]!) / 2;
  return {
    median: +median.toFixed(1),
    p95: +percentile(s, 95).toFixed(1),
    min: +s[0]!.toFixed(1),
    max: +s.at(-1)!.toFixed(1),
  };
}

const report: Record<string, unknown> = {
  bench: 'setup',
  date: new Date().toISOString(),
  runs: RUNS,
  node: process.version,
  unit: 'ms from offer POST',
  clients: {},
};

for (const client of CLIENTS) {
  if (client === 'aiortc' && !aiortcAvailable()) {
    console.log('aiortc: skipped (python3-aiortc not available)');
    continue;
  }
  if (client === 'chromium' && !chromiumAvailable()) {
    console.log('chromium: skipped (/usr/bin/chromium not installed)');
    continue;
  }
  const results: RunResult[] = [];
  let failures = 0;
  let recovered = 0;
  for (let i = 0; i < RUNS; i++) {
    try {
      if (client === 'node') {
        const r = await runNode();
        recovered += r.recovered;
        results.push({ answerMs: r.answerMs, connectedMs: r.connectedMs, firstRtpMs: r.firstRtpMs });
      } else if (client === 'aiortc') {
        results.push(await runAiortc());
      } else if (client === 'chromium') {
        results.push(await runChromium());
      } else {
        throw new Error(`unknown client '${client}'`);
      }
    } catch (err) {
      failures++;
      console.error(`${client} run ${i} failed: ${err instanceof Error ? err.message : String(err)}`);
    }
    await new Promise((r) => setTimeout(r, 200)); // let the previous peers' sockets close
  }
  const summary = {
    ok: results.length,
    failures,
    // node only: runs where libdatachannel's offerer answer race forced a restart_pc re-offer (included in the times)
    recoveredAnswerRaces: recovered,
    answer: results.length ? summarize(results.map((r) => r.answerMs)) : null,
    connected: results.length ? summarize(results.map((r) => r.connectedMs)) : null,
    firstRtp: results.length ? summarize(results.map((r) => r.firstRtpMs)) : null,
    samples: results,
  };
  (report.clients as Record<string, unknown>)[client] = summary;
  console.log(`\n${client} (${results.length}/${RUNS} ok), ms from offer POST:`);
  for (const key of ['answer', 'connected', 'firstRtp'] as const) {
    const s = summary[key];
    if (s)
      console.log(
        `  ${key.padEnd(10)} median ${String(s.median).padStart(7)}  p95 ${String(s.p95).padStart(7)}  (min ${s.min}, max ${s.max})`,
      );
  }
}

await chromium.browser?.close();
await server.close();
nodeDataChannel.cleanup();

const dir = fileURLToPath(new URL('../results/', import.meta.url));
mkdirSync(dir, { recursive: true });
const file = `${dir}setup-${new Date().toISOString().replace(/[:.]/g, '-')}.json`;
writeFileSync(file, JSON.stringify(report, null, 2) + '\n');
writeFileSync(`${dir}setup-latest.json`, JSON.stringify(report, null, 2) + '\n');
console.log(`\nsaved ${file}`);
