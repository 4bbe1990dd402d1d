// /healthz, /readyz and load-aware admission against real node-datachannel peers over loopback HTTP. The load
// is real: the test blocks this process's event loop (the server's) again and again, or spins its CPU, and
// the server must refuse new sessions with 503 + Retry-After while keeping existing sessions' PATCH and
// renegotiation working. No time is asserted: the windows are short and the test waits for the verdicts.
import nodeDataChannel from 'node-datachannel';
import { afterAll, afterEach, describe, expect, it } from 'vitest';

import { type SmallWebRTCServer } from '../../src/server/index.js';
import { PipecatLikeClient } from '../../testkit/pipecat-like-client.js';
import { until } from '../../testkit/wait.js';
import { serverFixture } from '../helpers/server-fixture.js';

const { serve, clients, closeAll } = serverFixture({
  onNewConnection: (connection) => void connection.connect(),
});
/** node-datachannel objects must stay referenced until cleanup() (see the client). */
const allClients: PipecatLikeClient[] = [];
let stopLoad: (() => void) | null = null;

afterEach(async () => {
  stopLoad?.();
  stopLoad = null;
  await closeAll();
});

afterAll(() => {
  nodeDataChannel.cleanup();
  allClients.length = 0;
});

async function client(server: SmallWebRTCServer): Promise<PipecatLikeClient> {
  const c = await PipecatLikeClient.create({ baseUrl: server.url, video: false, screen: false });
  clients.push(c);
  allClients.push(c);
  return c;
}

async function getJson(url: string): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(url);
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

/**
 * Blocks this process's event loop for `blockMs` out of every `periodMs` (a synchronous busy wait, as a
 * CPU-bound handler or an overloaded process would), until the returned function is called.
 */
function overloadEventLoop(blockMs: number, periodMs: number): () => void {
  const timer = setInterval(() => {
    const end = performance.now() + blockMs;
    while (performance.now() < end) {
      // busy: nothing else runs on this thread meanwhile
    }
  }, periodMs - blockMs);
  return () => clearInterval(timer);
}

describe('probes', () => {
  it('/healthz and /readyz answer JSON; paths are configurable and can be turned off', async () => {
    const s = await serve();
    const live = await getJson(`${s.url}/healthz`);
    expect(live.status).toBe(200);
    expect(live.json).toMatchObject({ status: 'ok' });
    expect(typeof live.json['uptimeSecs']).toBe('number');
    const ready = await getJson(`${s.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(ready.json).toMatchObject({
      ready: true,
      status: 'ready',
      reasons: [],
      sessions: 0,
      maxSessions: 100,
    });
    const head = await fetch(`${s.url}/readyz`, { method: 'HEAD' });
    expect(head.status).toBe(200);

    const custom = await serve({ healthzPath: '/live', readyzPath: null });
    expect((await fetch(`${custom.url}/live`)).status).toBe(200);
    expect((await fetch(`${custom.url}/healthz`)).status).toBe(404);
    expect((await fetch(`${custom.url}/readyz`)).status).toBe(404);
    await expect(serve({ readyzPath: 'readyz' })).rejects.toMatchObject({ code: 'ERR_INVALID_ARG' });
    await expect(serve({ load: { maxEventLoopDelayMs: -1 } })).rejects.toMatchObject({
      code: 'ERR_INVALID_ARG',
    });
  });

  it('at maxConnections: /readyz is 503 at_capacity, a new offer 503, the live session still PATCHes', async () => {
    const s = await serve({ maxConnections: 1 });
    const a = await client(s);
    expect((await a.connect()).status).toBe(200);
    await a.waitConnected();
    const ready = await getJson(`${s.url}/readyz`);
    expect(ready.status).toBe(503);
    expect(ready.json).toMatchObject({ ready: false, status: 'at_capacity', sessions: 1, maxSessions: 1 });
    const b = await client(s);
    const refused = await b.connect();
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('2');
    expect(refused.json).toMatchObject({ detail: expect.stringContaining('Too many') });
    expect((await a.patchCandidates()).status).toBe(200);
    expect((await a.renegotiate()).status).toBe(200);
    a.close();
    await until(async () => (await getJson(`${s.url}/readyz`)).status === 200, 20_000, 'ready again');
  });
});

describe('load-aware admission', () => {
  it('a blocked event loop: new offers and /start get 503 + Retry-After, live sessions are served, then ready again', async () => {
    const s = await serve({
      load: { maxEventLoopDelayMs: 60, maxCpuCores: null, windowMs: 300 },
      retryAfterSecs: 3,
    });
    const a = await client(s);
    expect((await a.connect()).status).toBe(200);
    await a.waitConnected();
    expect((await getJson(`${s.url}/readyz`)).status).toBe(200);

    stopLoad = overloadEventLoop(150, 200);
    // The response that reported the delay is the one checked: a second request could land in a 300 ms
    // window the (CPU-starved, on a loaded machine) blocking timer left below the limit (CI: 200 then).
    let ready = await getJson(`${s.url}/readyz`);
    await until(
      async () => {
        ready = await getJson(`${s.url}/readyz`);
        return ready.json['status'] === 'event_loop_delay';
      },
      30_000,
      'readyz reports the event-loop delay',
    );
    expect(ready.status).toBe(503);
    expect(ready.json['reasons']).toContain('event_loop_delay');
    expect(ready.json['eventLoopDelayP99Ms'] as number).toBeGreaterThan(60);

    const b = await client(s);
    const refused = await b.connect();
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('3');
    expect(refused.json).toMatchObject({ detail: expect.stringMatching(/overloaded.*event-loop delay p99/) });
    const start = await fetch(`${s.url}/start`, { method: 'POST', body: '{}' });
    expect(start.status).toBe(503);
    expect(start.headers.get('retry-after')).toBe('3');
    // The session already here is never refused for load: trickle and renegotiation go through.
    expect((await a.patchCandidates()).status).toBe(200);
    expect((await a.renegotiate()).status).toBe(200);

    stopLoad();
    stopLoad = null;
    await until(async () => (await getJson(`${s.url}/readyz`)).status === 200, 30_000, 'ready again');
    const c = await client(s);
    expect((await c.connect()).status).toBe(200);
    await c.waitConnected();
  });

  it('process CPU over maxCpuCores: /readyz reports cpu and new offers get 503', async () => {
    const s = await serve({ load: { maxEventLoopDelayMs: null, maxCpuCores: 0.2, windowMs: 300 } });
    stopLoad = overloadEventLoop(40, 50); // ~80 % of a core, in slices short enough not to matter for delay
    await until(
      async () => ((await getJson(`${s.url}/readyz`)).json['reasons'] as string[]).includes('cpu'),
      30_000,
      'readyz reports CPU',
    );
    const b = await client(s);
    const refused = await b.connect();
    expect(refused.status).toBe(503);
    expect(refused.json).toMatchObject({ detail: expect.stringMatching(/overloaded.*CPU/) });
    stopLoad();
    stopLoad = null;
    await until(async () => (await getJson(`${s.url}/readyz`)).status === 200, 30_000, 'ready again');
  });
});
