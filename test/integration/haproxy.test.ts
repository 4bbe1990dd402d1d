// A real load balancer in front of three server processes (docs/scaling.md, "HAProxy"): HAProxy routes
// /sessions/{id}/... by the owner tag in the URL and PATCH / re-offers by the pc_id in the buffered body. The
// servers know no peers, so a request that reached the wrong one would be 421: every 200 below was routed to
// its owner by HAProxy. Then one server is SIGKILLed: only its sessions are lost, and once the /readyz health
// check marks it down every new session goes to the other two.
// Needs the Debian package haproxy (scripts/install-system-deps.sh installs it, CI runs that).
import nodeDataChannel from 'node-datachannel';
import { afterAll, describe, expect, it } from 'vitest';

import { ownerOfId } from '../../src/server/index.js';
import {
  forkRoutedServer,
  haproxyAvailable,
  startHaproxy,
  type RoutedServerProcess,
  type RunningHaproxy,
} from '../../testkit/haproxy.js';
import { PipecatLikeClient, type HttpResult } from '../../testkit/pipecat-like-client.js';
import { until } from '../../testkit/wait.js';

const OWNERS = ['s1', 's2', 's3'];
const SESSIONS = 30;
const hasHaproxy = haproxyAvailable();
if (!hasHaproxy)
  console.warn(
    'haproxy.test.ts SKIPPED: no `haproxy` binary on PATH (Debian package haproxy; run scripts/install-system-deps.sh as root)',
  );

const children = new Map<string, RoutedServerProcess>();
const clients: PipecatLikeClient[] = [];
let lb: RunningHaproxy | null = null;

afterAll(async () => {
  for (const c of clients) c.close();
  lb?.stop();
  await Promise.all([...children.values()].map((s) => s.stop()));
  nodeDataChannel.cleanup();
}, 30_000);

async function startServer(owner: string, maxConnections?: number): Promise<string> {
  const server = await forkRoutedServer({
    owner,
    ...(maxConnections !== undefined ? { maxConnections } : {}),
  });
  children.set(owner, server);
  return server.url;
}

async function openSession(front: string, viaStart: boolean): Promise<PipecatLikeClient> {
  let offerPath: string | undefined;
  if (viaStart) {
    const r = await fetch(`${front}/start`, { method: 'POST', body: '{}' });
    expect(r.status).toBe(200);
    offerPath = `/sessions/${((await r.json()) as { sessionId: string }).sessionId}/api/offer`;
  }
  const c = await PipecatLikeClient.create({
    baseUrl: front,
    trickle: true,
    ...(offerPath ? { offerPath } : {}),
  });
  clients.push(c);
  return c;
}

/** The answer came from the owner in the pc_id, directly (no server-side forward). */
function expectOwner(r: HttpResult, c: PipecatLikeClient): void {
  expect(r.status, JSON.stringify(r.json)).toBe(200);
  expect(r.headers.get('x-smallwebrtc-owner')).toBe(ownerOfId(c.pcId));
  expect(r.headers.get('x-smallwebrtc-via')).toBeNull();
}

describe.skipIf(!hasHaproxy)('HAProxy in front of 3 server processes', () => {
  it(`${SESSIONS} sessions with trickle ICE, renegotiation and restart_pc: every request reaches its owner; a killed server loses only its own`, async () => {
    const urls = await Promise.all(OWNERS.map((o) => startServer(o)));
    lb = await startHaproxy(OWNERS.map((owner, i) => ({ owner, address: new URL(urls[i]!).host })));
    const front = lb.url;

    const sessions: PipecatLikeClient[] = [];
    let requests = 0;
    // Ten at a time: a loaded 2-core machine gathers and connects 30 peers at once only slowly.
    for (let i = 0; i < SESSIONS; i += 10) {
      const batch = await Promise.all(
        Array.from({ length: Math.min(10, SESSIONS - i) }, (_, k) => openSession(front, (i + k) % 2 === 1)),
      );
      // connect() = offer (round-robin) + trickle PATCH (by pc_id; it throws unless 200).
      for (const r of await Promise.all(batch.map((c) => c.connect()))) {
        expect(r.status, JSON.stringify(r.json)).toBe(200);
        requests += 2;
      }
      sessions.push(...batch);
    }
    await Promise.all(sessions.map((c) => c.waitConnected()));
    expect(new Set(sessions.map((c) => ownerOfId(c.pcId)))).toEqual(new Set(OWNERS));

    await Promise.all(
      sessions.map(async (c) => {
        const owner = ownerOfId(c.pcId);
        const before = c.pcId;
        expectOwner(await c.renegotiate(), c);
        expect(c.pcId).toBe(before);
        expectOwner(await c.restart(), c); // + a PATCH of the new peer's candidates inside
        expect(c.pcId).not.toBe(before);
        expect(ownerOfId(c.pcId)).toBe(owner);
        expectOwner(await c.patchCandidates(true), c);
        requests += 4;
      }),
    );
    await Promise.all(sessions.map((c) => c.waitConnected()));
    console.log(
      `haproxy: ${requests} signalling requests of ${SESSIONS} sessions, all answered by their owner`,
    );

    // Kill s2 without a goodbye. HAProxy's /readyz check marks it DOWN.
    children.get('s2')!.child.kill('SIGKILL');
    await until(async () => (await lb!.serverStatus()).s2 === 'DOWN', 15_000, 's2 DOWN in haproxy');
    const lost = sessions.filter((c) => ownerOfId(c.pcId) === 's2');
    const kept = sessions.filter((c) => ownerOfId(c.pcId) !== 's2');
    expect(lost.length).toBeGreaterThan(0);
    for (const c of lost) {
      // force-persist keeps the request on its (dead) owner, so HAProxy answers 503 "No server is available":
      // never "not found", never served as a new session by another server.
      const r = await c.patchCandidates(true);
      expect(r.status, JSON.stringify(r.json)).toBe(503);
      expect(String(r.json)).toContain('No server is available');
    }
    await Promise.all(kept.map(async (c) => expectOwner(await c.renegotiate(), c)));
    for (const c of kept) expect(c.state).toBe('connected');

    const fresh = await Promise.all(Array.from({ length: 9 }, (_, i) => openSession(front, i % 2 === 0)));
    for (const r of await Promise.all(fresh.map((c) => c.connect()))) expect(r.status).toBe(200);
    await Promise.all(fresh.map((c) => c.waitConnected()));
    for (const c of fresh) expect(['s1', 's3']).toContain(ownerOfId(c.pcId));
  }, 180_000);

  it('a server that is not ready (at capacity: /readyz 503, DOWN in HAProxy) keeps serving its own sessions', async () => {
    lb?.stop();
    const urls = [await startServer('f1', 1), await startServer('f2')];
    lb = await startHaproxy([
      { owner: 'f1', address: new URL(urls[0]!).host },
      { owner: 'f2', address: new URL(urls[1]!).host },
    ]);
    const front = lb.url;
    // Round-robin: within a few sessions one lands on f1, which is then full.
    let mine: PipecatLikeClient | null = null;
    for (let i = 0; i < 4 && !mine; i++) {
      const c = await openSession(front, i % 2 === 1);
      expect((await c.connect()).status).toBe(200);
      if (ownerOfId(c.pcId) === 'f1') mine = c;
    }
    expect(mine).not.toBeNull();
    const c = mine!;
    await c.waitConnected();
    await until(async () => (await lb!.serverStatus()).f1 === 'DOWN', 15_000, 'f1 DOWN (at capacity)');
    // Its session's renegotiation, restart_pc and PATCHes still reach it (force-persist)...
    expectOwner(await c.renegotiate(), c);
    expectOwner(await c.restart(), c);
    expectOwner(await c.patchCandidates(true), c);
    await c.waitConnected();
    // ...while every new session goes to f2.
    for (let i = 0; i < 4; i++) {
      const n = await openSession(front, i % 2 === 0);
      expect((await n.connect()).status).toBe(200);
      expect(ownerOfId(n.pcId)).toBe('f2');
    }
  }, 120_000);
});
