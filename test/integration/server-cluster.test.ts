// Cluster mode (docs/scaling.md): one script, one public port, two node:cluster workers that each own their
// sessions. Real node-datachannel clients through the one port: every request of a session (offer, trickle
// PATCH, renegotiation, restart_pc, the /start flow) is answered by its owner whichever worker accepted the TCP
// connection; a worker killed mid-test loses only its own sessions and new sessions go to the others. SIGTERM to
// the primary (Kubernetes signals PID 1) drains every worker: peerLeft to every client, 503 for a new offer
// while draining, the primary exits 0 within the deadline.
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

import nodeDataChannel from 'node-datachannel';
import { afterAll, describe, expect, it } from 'vitest';

import { ownerOfId, type SmallWebRTCWorkerInfo } from '../../src/server/index.js';
import { PipecatLikeClient, type HttpResult } from '../../testkit/pipecat-like-client.js';
import { until } from '../../testkit/wait.js';

const FIXTURE = fileURLToPath(new URL('../helpers/cluster-server.ts', import.meta.url));
const clients: PipecatLikeClient[] = [];
let child: ChildProcess | null = null;

/** Closes the cluster of the previous test, if it still runs. */
async function closeChild(): Promise<void> {
  if (child?.connected) {
    const bye = new Promise((done) => child!.once('exit', done));
    child.send({ exit: true });
    await bye;
  }
  child?.kill('SIGKILL');
}

afterAll(async () => {
  for (const c of clients) c.close();
  await closeChild();
  nodeDataChannel.cleanup();
}, 30_000);

function ask<T>(msg: object, key: string): Promise<T> {
  return new Promise((resolve) => {
    const on = (m: Record<string, unknown>): void => {
      if (key in m) {
        child!.off('message', on);
        resolve(m[key] as T);
      }
    };
    child!.on('message', on);
    child!.send(msg);
  });
}

/** A session: a client and the flow it uses. */
async function openSession(url: string, viaStart: boolean): Promise<PipecatLikeClient> {
  let offerPath: string | undefined;
  if (viaStart) {
    const r = await fetch(`${url}/start`, { method: 'POST', body: JSON.stringify({ body: { n: 1 } }) });
    expect(r.status).toBe(200);
    const { sessionId } = (await r.json()) as { sessionId: string };
    expect(ownerOfId(sessionId)).toMatch(/^w\d+$/);
    offerPath = `/sessions/${sessionId}/api/offer`;
  }
  const c = await PipecatLikeClient.create({
    baseUrl: url,
    trickle: true,
    ...(offerPath ? { offerPath } : {}),
  });
  clients.push(c);
  return c;
}

/** Every answer must come from the owner named in the session's pc_id. */
function expectOwner(r: HttpResult, c: PipecatLikeClient, via: { forwarded: number }): void {
  expect(r.status, JSON.stringify(r.json)).toBe(200);
  expect(r.headers.get('x-smallwebrtc-owner')).toBe(ownerOfId(c.pcId));
  if (r.headers.get('x-smallwebrtc-via') !== null) via.forwarded++;
}

describe('startSmallWebRTCServer({ workers: 2 })', () => {
  it('routes every request of many sessions to its owner; a killed worker loses only its sessions', async () => {
    child = fork(FIXTURE, [JSON.stringify({ workers: 2 })], { execArgv: ['--import', 'tsx'] });
    const ready = await ask<string>({}, 'ready');
    const workers = await ask<SmallWebRTCWorkerInfo[]>({ workers: true }, 'workers');
    expect(workers.map((w) => w.owner).sort()).toEqual(['w1', 'w2']);

    const via = { forwarded: 0 };
    const sessions = await Promise.all(Array.from({ length: 12 }, (_, i) => openSession(ready, i % 2 === 1)));
    // Offer + trickle PATCH (connect() throws unless the PATCH is 200, i.e. reached the pc_id's owner).
    for (const r of await Promise.all(sessions.map((c) => c.connect())))
      expect(r.status, JSON.stringify(r.json)).toBe(200);
    await Promise.all(sessions.map((c) => c.waitConnected()));
    const owners = new Set(sessions.map((c) => ownerOfId(c.pcId)));
    expect(owners).toEqual(new Set(['w1', 'w2']));

    // Renegotiation, restart_pc (new pc_id, same owner) and a trickle PATCH, all at once.
    await Promise.all(
      sessions.map(async (c) => {
        const owner = ownerOfId(c.pcId);
        const before = c.pcId;
        expectOwner(await c.renegotiate(), c, via);
        expect(c.pcId).toBe(before);
        expectOwner(await c.restart(), c, via);
        expect(c.pcId).not.toBe(before);
        expect(ownerOfId(c.pcId)).toBe(owner);
        expectOwner(await c.patchCandidates(true), c, via);
      }),
    );
    await Promise.all(sessions.map((c) => c.waitConnected()));
    // The primary hands TCP connections to the workers in turn, so some requests landed on the wrong worker
    // and were forwarded (the relayed answer says so in X-SmallWebRTC-Via).
    expect(via.forwarded).toBeGreaterThan(0);

    // /metrics on the one port is the whole cluster (the primary aggregates every worker's registry);
    // ?scope=process is the worker that got the scrape.
    const gauge = (text: string): number =>
      Number(/^smallwebrtc_sessions_active(?:\{[^}]*\})? (\d+)/m.exec(text)?.[1] ?? NaN);
    expect(gauge(await (await fetch(`${ready}/metrics`)).text())).toBe(12);
    const own = gauge(await (await fetch(`${ready}/metrics?scope=process`)).text());
    expect(own).toBeGreaterThan(0);
    expect(own).toBeLessThan(12);

    // Kill w1 (no goodbye): its sessions are lost, w2's are not; a replacement (w3) takes its slot.
    const victim = workers.find((w) => w.owner === 'w1')!;
    process.kill(victim.pid, 'SIGKILL');
    let after: string[] = [];
    await until(
      async () => {
        after = (await ask<SmallWebRTCWorkerInfo[]>({ workers: true, wait: 2 }, 'workers')).map(
          (w) => w.owner,
        );
        return after.sort().join() === 'w2,w3';
      },
      30_000,
      () => `the replacement worker (workers: ${after.join()})`,
    );
    const lost = sessions.filter((c) => ownerOfId(c.pcId) === 'w1');
    const kept = sessions.filter((c) => ownerOfId(c.pcId) === 'w2');
    for (const c of lost) {
      const r = await c.patchCandidates(true);
      // Never "not found" nor served by someone else: the owner is named as gone.
      expect([421, 503], JSON.stringify(r.json)).toContain(r.status);
      expect((r.json as { detail: string }).detail).toContain("owner 'w1'");
    }
    for (const c of kept) {
      expectOwner(await c.renegotiate(), c, via);
      expect(c.state).toBe('connected');
    }
    // New sessions go to the live workers only.
    const fresh = await Promise.all(Array.from({ length: 6 }, (_, i) => openSession(ready, i % 2 === 0)));
    for (const r of await Promise.all(fresh.map((c) => c.connect()))) expect(r.status).toBe(200);
    await Promise.all(fresh.map((c) => c.waitConnected()));
    for (const c of fresh) expect(['w2', 'w3']).toContain(ownerOfId(c.pcId));
  }, 120_000);

  it('SIGTERM to the primary drains every worker: peerLeft to every client, 503 while draining, exit 0', async () => {
    await closeChild();
    const DEADLINE_MS = 4000;
    child = fork(FIXTURE, [JSON.stringify({ workers: 2, lingerMs: 1500, deadlineMs: DEADLINE_MS })], {
      execArgv: ['--import', 'tsx'],
    });
    const ready = await ask<string>({}, 'ready');
    const workers = await ask<SmallWebRTCWorkerInfo[]>({ workers: true }, 'workers');
    const sessions = await Promise.all(Array.from({ length: 6 }, (_, i) => openSession(ready, i % 2 === 1)));
    for (const r of await Promise.all(sessions.map((c) => c.connect()))) expect(r.status).toBe(200);
    await Promise.all(sessions.map((c) => c.waitConnected()));
    expect(new Set(sessions.map((c) => ownerOfId(c.pcId)))).toEqual(new Set(['w1', 'w2']));
    const isPeerLeft = (m: Record<string, unknown>): boolean =>
      m['type'] === 'signalling' && (m['message'] as { type?: string } | undefined)?.type === 'peerLeft';
    const peerLeft = sessions.map((c) => c.waitForMessage(isPeerLeft, 15_000));
    const exited = new Promise<{ code: number | null; signal: string | null; at: number }>((done) =>
      child!.once('exit', (code, signal) => done({ code, signal, at: Date.now() })),
    );

    const signalledAt = Date.now();
    child.kill('SIGTERM');
    for (const left of peerLeft)
      expect(await left).toEqual({ type: 'signalling', message: { type: 'peerLeft' } });
    // The workers wait for the sessions' "bots" (1.5 s after their close): a new offer is refused meanwhile,
    // by whichever worker gets it, and no replacement worker is forked.
    const offerer = await PipecatLikeClient.create({ baseUrl: ready, video: false, screen: false });
    clients.push(offerer);
    const refused = await fetch(`${ready}/api/offer`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ sdp: offerer.offer.sdp, type: 'offer', pc_id: null, restart_pc: false }),
    });
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).not.toBeNull();

    const exit = await exited;
    expect({ code: exit.code, signal: exit.signal }).toEqual({ code: 0, signal: null });
    // Within the deadline (plus slack for a loaded machine), not at the 5 s SIGKILL margin past it.
    expect(exit.at - signalledAt).toBeLessThan(DEADLINE_MS + 3000);
    // Every worker exited with the primary (none left behind, none killed).
    for (const w of workers) expect(() => process.kill(w.pid, 0)).toThrow();
    console.log(
      `cluster drain: 6 sessions on 2 workers, SIGTERM -> primary exit ${exit.at - signalledAt} ms`,
    );
  }, 60_000);
});
