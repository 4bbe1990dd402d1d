// Scale-out routing through real HTTP and real peers (docs/scaling.md): every pc_id and /start session id
// carries its owner's tag; a request that reaches another process is forwarded to the owner (when that
// process knows where it is) or answered 421 naming the owner, never served as an unknown session.
import nodeDataChannel from 'node-datachannel';
import { afterAll, afterEach, describe, expect, it } from 'vitest';

import { ownerOfId, type SmallWebRTCServer } from '../../src/server/index.js';
import { PipecatLikeClient } from '../../testkit/pipecat-like-client.js';
import { serverFixture } from '../helpers/server-fixture.js';

const { serve, clients, closeAll } = serverFixture();

afterEach(closeAll);
afterAll(() => nodeDataChannel.cleanup());

async function client(baseUrl: string, offerPath?: string): Promise<PipecatLikeClient> {
  const c = await PipecatLikeClient.create({ baseUrl, ...(offerPath ? { offerPath } : {}), trickle: true });
  clients.push(c);
  return c;
}

/** Two processes that know each other (a <-> b) and a third that knows nobody (c). */
async function cluster(): Promise<{ a: SmallWebRTCServer; b: SmallWebRTCServer; c: SmallWebRTCServer }> {
  const peers: Record<string, string> = {};
  const secret = 'test-secret';
  const a = await serve({ routing: { owner: 'a', peers, secret } });
  const b = await serve({ routing: { owner: 'b', peers, secret } });
  peers.a = a.url;
  peers.b = b.url;
  const c = await serve({ routing: { owner: 'c' } });
  return { a, b, c };
}

describe('owner-tagged ids and forwarding', () => {
  it('the /api/offer flow: PATCH, renegotiation and restart_pc through another process reach the owner', async () => {
    const { a, b } = await cluster();
    const cl = await client(a.url);
    const r = await cl.connect();
    expect(r.status).toBe(200);
    expect(r.headers.get('x-smallwebrtc-owner')).toBe('a');
    const first = cl.pcId!;
    expect(first).toMatch(/^SmallWebRTCConnection#\d+-a\.[0-9a-f]{32}$/);
    expect(ownerOfId(first)).toBe('a');
    await cl.waitConnected();

    cl.useEndpoint(b.url); // every later request lands on b
    const p = await cl.patchCandidates(true);
    expect(p.status).toBe(200);
    expect(p.headers.get('x-smallwebrtc-owner')).toBe('a');
    const re = await cl.renegotiate();
    expect(re.status).toBe(200);
    expect(re.headers.get('x-smallwebrtc-owner')).toBe('a');
    expect(cl.pcId).toBe(first);
    const rs = await cl.restart();
    expect(rs.status).toBe(200);
    expect(rs.headers.get('x-smallwebrtc-owner')).toBe('a');
    expect(cl.pcId).not.toBe(first);
    expect(ownerOfId(cl.pcId)).toBe('a');
    await cl.waitConnected();
    expect(a.handler.connectionCount).toBe(1);
    expect(b.handler.connectionCount).toBe(0);
    expect(a.handler.getConnection(cl.pcId!)).toBeDefined();
  });

  it('the /start flow: the session id names its owner and /sessions/{id}/... is forwarded there', async () => {
    const { a, b } = await cluster();
    const start = await fetch(`${a.url}/start`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ transport: 'webrtc', body: { bot: 'x' } }),
    });
    const { sessionId } = (await start.json()) as { sessionId: string };
    expect(ownerOfId(sessionId)).toBe('a');
    const cl = await client(b.url, `/sessions/${sessionId}/api/offer`);
    const r = await cl.connect();
    expect(r.status).toBe(200);
    expect(r.headers.get('x-smallwebrtc-owner')).toBe('a');
    await cl.waitConnected();
    expect((await cl.renegotiate()).status).toBe(200);
    expect((await cl.restart()).status).toBe(200);
    await cl.waitConnected();
    expect(a.handler.connectionCount).toBe(1);
    expect(b.handler.connectionCount).toBe(0);
    // A GET under the session is forwarded too (it answers an empty 200 at the owner).
    const other = await fetch(`${b.url}/sessions/${sessionId}/other`);
    expect(other.status).toBe(200);
    expect(other.headers.get('x-smallwebrtc-owner')).toBe('a');
  });

  it('a process that does not know the owner answers 421 naming it, for a pc_id and for a session', async () => {
    const { a, c } = await cluster();
    const cl = await client(a.url);
    expect((await cl.connect()).status).toBe(200);
    cl.useEndpoint(c.url);
    for (const r of [await cl.patchCandidates(true), await cl.renegotiate()]) {
      expect(r.status).toBe(421);
      expect((r.json as { detail: string }).detail).toMatch(/owner 'a'.*not to this process \('c'\)/);
    }
    const start = await fetch(`${a.url}/start`, { method: 'POST', body: '{}' });
    const { sessionId } = (await start.json()) as { sessionId: string };
    const res = await fetch(`${c.url}/sessions/${sessionId}/api/offer`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ sdp: cl.offer.sdp, type: 'offer' }),
    });
    expect(res.status).toBe(421);
    expect(((await res.json()) as { detail: string }).detail).toContain("owner 'a'");
    expect(c.handler.connectionCount).toBe(0);
  });

  it('an unreachable owner is 503 + Retry-After; a forwarded request is never forwarded again', async () => {
    const dead = await serve({ routing: { owner: 'z' } });
    const deadUrl = dead.url;
    const b = await serve({ routing: { owner: 'b', peers: { z: deadUrl, b: 'http://127.0.0.1:9' } } });
    const cl = await client(deadUrl);
    expect((await cl.connect()).status).toBe(200);
    await dead.close();
    cl.useEndpoint(b.url);
    const r = await cl.patchCandidates(true);
    expect(r.status).toBe(503);
    expect(r.headers.get('retry-after')).toBe('2');
    expect((r.json as { detail: string }).detail).toMatch(/owner 'z', which did not answer/);
    // A request already forwarded once (the header) is answered here, not sent on: no loops.
    const looped = await fetch(`${b.url}/api/offer`, {
      method: 'PATCH',
      headers: { 'Content-Type': 'application/json', 'X-SmallWebRTC-Forwarded-By': 'q' },
      body: JSON.stringify({ pc_id: cl.pcId, candidates: [] }),
    });
    expect(looped.status).toBe(421);
  });

  it('an untagged pc_id is served locally (404 when unknown), as before', async () => {
    const { b } = await cluster();
    const res = await fetch(`${b.url}/api/offer`, {
      method: 'PATCH',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({
        pc_id: 'SmallWebRTCConnection#0-0123456789abcdef0123456789abcdef',
        candidates: [],
      }),
    });
    expect(res.status).toBe(404);
  });
});
