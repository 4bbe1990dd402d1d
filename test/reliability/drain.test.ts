/**
 * SIGTERM drains (issue 11): the bot server in its own process (test/reliability/bot-server-child.ts: an echo
 * bot per connection under a `PipelineRunner`, whose cleanup takes a while like a bot saving its transcript)
 * gets SIGTERM with live node-datachannel clients. Every client must get `peerLeft`, `/readyz` must fail and a
 * new offer must get 503 + Retry-After while it drains, and the process must exit 0 within the deadline; a
 * bot that outlives the deadline does not keep the process. Plus `server.drain()` in-process.
 */
import nodeDataChannel from 'node-datachannel';
import { afterAll, afterEach, describe, expect, it } from 'vitest';

import { startSmallWebRTCServer, type SmallWebRTCServer } from '../../src/index.js';
import { PipecatLikeClient } from '../../testkit/pipecat-like-client.js';
import { until } from '../../testkit/wait.js';
import { BotServerProcess } from './bot-server.js';

const clients: PipecatLikeClient[] = [];
const servers: BotServerProcess[] = [];
const inProcess: SmallWebRTCServer[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  for (const s of servers.splice(0)) s.kill();
  for (const s of inProcess.splice(0)) await s.close();
});

afterAll(() => {
  nodeDataChannel.cleanup();
});

const isPeerLeft = (m: Record<string, unknown>): boolean =>
  m['type'] === 'signalling' && (m['message'] as { type?: string } | undefined)?.type === 'peerLeft';

/** `n` clients connected to `url`, sending Opus; resolves once each heard the echo bot's audio. */
async function connectClients(url: string, n: number): Promise<PipecatLikeClient[]> {
  const out: PipecatLikeClient[] = [];
  for (let i = 0; i < n; i++) {
    const c = await PipecatLikeClient.create({ baseUrl: url, video: false, screen: false });
    clients.push(c);
    out.push(c);
    expect((await c.connect()).status).toBe(200);
    await c.waitConnected();
    c.startRtp();
  }
  return out;
}

async function newOffer(url: string): Promise<Response> {
  const c = await PipecatLikeClient.create({ baseUrl: url, video: false, screen: false });
  clients.push(c);
  return fetch(`${url}/api/offer`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ sdp: c.offer.sdp, type: 'offer', pc_id: null, restart_pc: false }),
  });
}

describe('SIGTERM drain of a bot server process', () => {
  it('every client gets peerLeft, new offers get 503 while draining, the bots end, exit 0 within the deadline', async () => {
    const DEADLINE_MS = 6000;
    const N = 3;
    const srv = await BotServerProcess.start({
      runner: true,
      cleanupDelayMs: 1500,
      drainDeadlineMs: DEADLINE_MS,
      logEvents: true,
    });
    servers.push(srv);
    const cs = await connectClients(srv.url, N);
    await until(async () => (await srv.stats()).pipelines === N, 15_000, `${N} pipelines running`);
    const peerLeft = cs.map((c) => c.waitForMessage(isPeerLeft, 15_000));

    const signalledAt = Date.now();
    srv.signal('SIGTERM');
    // While it drains (the bots take 1.5 s to clean up): not ready, and a new offer is refused with 503.
    await until(
      async () => (await fetch(`${srv.url}/readyz`).catch(() => null))?.status === 503,
      5000,
      '/readyz 503',
    );
    const ready = (await (await fetch(`${srv.url}/readyz`)).json()) as { status: string };
    expect(ready.status).toBe('draining');
    const refused = await newOffer(srv.url);
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('2');
    expect(((await refused.json()) as { detail: string }).detail).toMatch(/shutting down/);

    for (const left of peerLeft)
      expect(await left).toEqual({ type: 'signalling', message: { type: 'peerLeft' } });
    const exit = await srv.waitExit(DEADLINE_MS + 5000);
    expect(exit).toEqual({ code: 0, signal: null });
    // The functional bound the drain promises: the deadline, plus process teardown on a shared machine.
    const exitMs = srv.exitedAt - signalledAt;
    expect(exitMs).toBeLessThan(DEADLINE_MS + 3000);
    const drain = srv.logs.find((l) => l['event'] === 'drain');
    expect(drain).toMatchObject({
      level: 'info',
      sessions: N,
      pipelines: N,
      pipelinesLeft: 0,
      complete: true,
    });
    const ends = srv.logs.filter((l) => l['event'] === 'session_end');
    expect(ends.map((l) => l['reason'])).toEqual(Array(N).fill('drain'));
    console.log(
      `drain: ${N} sessions, SIGTERM -> exit ${exitMs} ms (drain ${String(drain?.['elapsedMs'])} ms)`,
    );
  }, 90_000);

  it('plain echo bots: SIGTERM -> exit with N sessions (DRAIN_SESSIONS, default 6)', async () => {
    const N = Number(process.env['DRAIN_SESSIONS'] ?? 6);
    const srv = await BotServerProcess.start({ runner: true, logEvents: true });
    servers.push(srv);
    const cs = await connectClients(srv.url, N);
    await until(async () => (await srv.stats()).pipelines === N, 20_000, `${N} pipelines running`);
    const peerLeft = cs.map((c) => c.waitForMessage(isPeerLeft, 15_000));
    const signalledAt = Date.now();
    srv.signal('SIGTERM');
    await Promise.all(peerLeft);
    // Default deadline (10 s): the sessions and their bots end well before it.
    expect(await srv.waitExit(15_000)).toEqual({ code: 0, signal: null });
    const drain = srv.logs.find((l) => l['event'] === 'drain');
    expect(drain).toMatchObject({ sessions: N, pipelines: N, pipelinesLeft: 0, complete: true });
    console.log(
      `drain: ${N} echo sessions, SIGTERM -> exit ${srv.exitedAt - signalledAt} ms (drain ${String(drain?.['elapsedMs'])} ms)`,
    );
  }, 90_000);

  it('a bot that outlives the deadline does not keep the process: exit 0 at the deadline', async () => {
    const DEADLINE_MS = 1500;
    const srv = await BotServerProcess.start({
      runner: true,
      cleanupDelayMs: 30_000,
      drainDeadlineMs: DEADLINE_MS,
      logEvents: true,
    });
    servers.push(srv);
    const [c] = await connectClients(srv.url, 1);
    const left = c!.waitForMessage(isPeerLeft, 15_000);
    const signalledAt = Date.now();
    srv.signal('SIGTERM');
    await left;
    expect(await srv.waitExit(DEADLINE_MS + 8000)).toEqual({ code: 0, signal: null });
    expect(srv.exitedAt - signalledAt).toBeLessThan(DEADLINE_MS + 5000);
    expect(srv.logs.find((l) => l['event'] === 'drain')).toMatchObject({
      level: 'warn',
      complete: false,
      pipelinesLeft: 1,
    });
  }, 60_000);
});

describe('server.drain()', () => {
  it('in-process: peerLeft to the client, 503 + Retry-After for a new offer and /start, /readyz draining', async () => {
    const server = await startSmallWebRTCServer({
      port: 0,
      logger: { debug() {}, info() {}, warn() {}, error() {} },
      shutdown: false,
      load: false,
      connectionOptions: { bindAddress: '127.0.0.1' },
      onNewConnection: (conn) => void conn.connect(),
    });
    inProcess.push(server);
    const [c] = await connectClients(server.url, 1);
    const left = c!.waitForMessage(isPeerLeft, 10_000);
    const result = await server.drain({ deadlineMs: 5000 });
    expect(result).toMatchObject({ sessions: 1, complete: true });
    await left;
    expect(server.drain()).toBeInstanceOf(Promise); // idempotent
    expect((await server.drain()).sessions).toBe(1);
    const refused = await newOffer(server.url);
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('2');
    const start = await fetch(`${server.url}/start`, { method: 'POST', body: '{}' });
    expect(start.status).toBe(503);
    const ready = await fetch(`${server.url}/readyz`);
    expect(ready.status).toBe(503);
    expect(((await ready.json()) as { status: string }).status).toBe('draining');
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(metrics).toMatch(/^smallwebrtc_sessions_ended_total\{reason="drain"\} 1$/m);
    expect(metrics).toMatch(/^smallwebrtc_draining 1$/m);
    expect(metrics).toMatch(/^smallwebrtc_offers_total\{result="unavailable"\} 1$/m);
  }, 30_000);
});
