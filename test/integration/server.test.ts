// Signalling flows through real HTTP with real node-datachannel peers on loopback: offer -> answer ->
// connected, app messages, renegotiation with a known pc_id, restart_pc, PATCH trickle (incl. the empty
// end-of-candidates entry), sessions with cached /start bodies, ESP32 munging, SINGLE mode, maxConnections.
import nodeDataChannel from 'node-datachannel';
import { afterAll, afterEach, describe, expect, it } from 'vitest';

import type { SmallWebRTCConnection } from '../../src/connection/index.js';
import {
  ConnectionMode,
  mungeSdpForEsp32,
  startSmallWebRTCServer,
  type SmallWebRTCServer,
  type SmallWebRTCServerOptions,
} from '../../src/server/index.js';
import { PipecatLikeClient } from '../../testkit/pipecat-like-client.js';
import { until } from '../../testkit/wait.js';

const quiet = { debug() {}, info() {}, warn() {}, error() {} };

interface Ctx {
  server: SmallWebRTCServer;
  created: Array<{ connection: SmallWebRTCConnection; requestData: unknown; messages: unknown[] }>;
  clients: PipecatLikeClient[];
}

const open: Ctx[] = [];
/** Every client ever created: node-datachannel objects must stay referenced until cleanup() (see the client). */
const allClients: PipecatLikeClient[] = [];

async function setup(options: SmallWebRTCServerOptions = {}): Promise<Ctx> {
  const created: Ctx['created'] = [];
  const server = await startSmallWebRTCServer({
    port: 0,
    logger: quiet,
    connectionOptions: { bindAddress: '127.0.0.1' },
    onNewConnection: (connection, requestData) => {
      const entry = { connection, requestData, messages: [] as unknown[] };
      connection.on('app-message', (_c, m: unknown) => entry.messages.push(m));
      created.push(entry);
      void connection.connect();
    },
    ...options,
  });
  const ctx = { server, created, clients: [] };
  open.push(ctx);
  return ctx;
}

/** An audio-only client (`video: true` adds the camera and screen transceivers) of the server under test. */
async function client(
  ctx: Ctx,
  opts: { video?: boolean; offerPath?: string } = {},
): Promise<PipecatLikeClient> {
  const { video = false, offerPath } = opts;
  const c = await PipecatLikeClient.create({ baseUrl: ctx.server.url, video, screen: video, offerPath });
  ctx.clients.push(c);
  allClients.push(c);
  return c;
}

/** App message round trip: client -> server and server -> client. */
async function roundTrip(
  ctx: Ctx,
  c: PipecatLikeClient,
  connection: SmallWebRTCConnection,
  tag: string,
): Promise<void> {
  const entry = ctx.created.find((e) => e.connection === connection)!;
  c.sendJson({ type: 'app', tag });
  await until(
    () => entry.messages.some((m) => (m as { tag?: string }).tag === tag),
    10_000,
    `server got ${tag}`,
  );
  connection.sendAppMessage({ type: 'reply', tag });
  await c.waitForMessage((m) => m['type'] === 'reply' && m['tag'] === tag);
}

afterEach(async () => {
  for (const ctx of open.splice(0)) {
    for (const c of ctx.clients) c.close();
    await ctx.server.close();
  }
});

afterAll(() => {
  nodeDataChannel.cleanup();
  allClients.length = 0;
});

describe('signalling flows', () => {
  it('offer -> answer -> connected, app messages both ways, RTP reaches audioInputTrack', async () => {
    const ctx = await setup();
    const c = await client(ctx, { video: true });
    const r = await c.connect({ extra: { requestData: { user: 'u1' } } });
    expect(r.status).toBe(200);
    const answer = r.json as { sdp: string; type: string; pc_id: string };
    expect(answer.type).toBe('answer');
    expect(answer.pc_id).toBeTypeOf('string');
    expect(answer.sdp).toMatch(/a=candidate:/); // complete answer, no server trickle
    expect(ctx.created).toHaveLength(1);
    expect(ctx.created[0]!.requestData).toEqual({ user: 'u1' });
    const { connection } = ctx.created[0]!;
    expect(connection.pcId).toBe(answer.pc_id);
    expect(ctx.server.handler.getConnection(answer.pc_id)).toBe(connection);
    await c.waitConnected();
    await roundTrip(ctx, c, connection, 'first');

    let rtp = 0;
    connection.audioInputTrack()!.onRtp(() => rtp++);
    c.startRtp();
    await until(() => rtp >= 10, 10_000, '10 RTP packets');
  });

  it('request_data wins over requestData; both spellings reach the callback', async () => {
    const ctx = await setup();
    const a = await client(ctx);
    expect((await a.connect({ extra: { request_data: { a: 1 }, requestData: { b: 2 } } })).status).toBe(200);
    expect(ctx.created[0]!.requestData).toEqual({ a: 1 });
  });

  it('re-offer with a known pc_id renegotiates the same connection (no new callback)', async () => {
    const ctx = await setup();
    const c = await client(ctx, { video: true });
    await c.connect();
    await c.waitConnected();
    const first = c.pcId;
    const r = await c.renegotiate();
    expect(r.status).toBe(200);
    expect((r.json as { pc_id: string }).pc_id).toBe(first);
    expect(ctx.created).toHaveLength(1);
    await c.waitConnected();
    await roundTrip(ctx, c, ctx.created[0]!.connection, 'after-renegotiate');
  });

  it('restart_pc: new peer and pc_id behind the same connection object; both ids map to it', async () => {
    const ctx = await setup();
    const c = await client(ctx, { video: true });
    await c.connect();
    await c.waitConnected();
    const oldId = c.pcId!;
    const { connection } = ctx.created[0]!;
    const r = await c.restart();
    expect(r.status).toBe(200);
    const newId = (r.json as { pc_id: string }).pc_id;
    expect(newId).not.toBe(oldId);
    expect(connection.pcId).toBe(newId);
    expect(ctx.created).toHaveLength(1); // the bot callback is not invoked again
    expect(ctx.server.handler.getConnection(newId)).toBe(connection);
    expect(ctx.server.handler.getConnection(oldId)).toBe(connection);
    await c.waitConnected();
    await roundTrip(ctx, c, connection, 'after-restart');
    // PATCH with the new id is accepted.
    expect((await c.patchCandidates(true, newId)).status).toBe(200);
  });

  it('pc_ids remembered per connection are bounded across repeated restarts (oldest dropped)', async () => {
    const ctx = await setup();
    const c = await client(ctx);
    expect((await c.connect()).status).toBe(200);
    const ids = [c.pcId!];
    for (let i = 0; i < 9; i++) {
      expect((await c.restart()).status).toBe(200);
      ids.push(c.pcId!);
    }
    const { connection } = ctx.created[0]!;
    expect(new Set(ids).size).toBe(10);
    expect(ids.map((id) => ctx.server.handler.getConnection(id) === connection)).toEqual([
      false,
      false,
      ...Array<boolean>(8).fill(true),
    ]);
    await c.waitConnected();
    await roundTrip(ctx, c, connection, 'after-many-restarts');
  });

  it('trickle: candidate-less offer, then PATCH with sdp_mid/sdp_mline_index and an empty candidate', async () => {
    const ctx = await setup();
    const c = await client(ctx);
    const r = await c.connect({ autoPatch: false });
    expect(r.status).toBe(200);
    const p = await c.patchCandidates(true);
    expect(p.status).toBe(200);
    expect(p.json).toEqual({ status: 'success' });
    expect(c.candidates.length).toBeGreaterThan(0);
    await c.waitConnected();
    await roundTrip(ctx, c, ctx.created[0]!.connection, 'trickled');
    // A PATCH with only the end-of-candidates marker (Firefox) is fine too.
    expect((await c.patchCandidates(true)).status).toBe(200);
  });

  it('sessions: /start body is the request data for /sessions/:id/api/offer; PATCH works there too', async () => {
    const ctx = await setup();
    const start = await fetch(ctx.server.url + '/start', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ transport: 'webrtc', body: { room: 'r1' } }),
    });
    const { sessionId } = (await start.json()) as { sessionId: string };
    const c = await client(ctx, { offerPath: `/sessions/${sessionId}/api/offer` });
    expect((await c.connect()).status).toBe(200);
    expect(ctx.created[0]!.requestData).toEqual({ room: 'r1' });
    expect((await c.patchCandidates(true)).status).toBe(200);
    await c.waitConnected();
    // Explicit requestData in the offer wins over the cached body.
    const d = await client(ctx, { offerPath: `/sessions/${sessionId}/api/offer` });
    expect((await d.connect({ extra: { requestData: { room: 'explicit' } } })).status).toBe(200);
    expect(ctx.created[1]!.requestData).toEqual({ room: 'explicit' });
  });

  it('ESP32 mode: answer without sha-384/512 lines, only host candidates of `host`', async () => {
    const ctx = await setup({ esp32Mode: true, host: '127.0.0.1' });
    const c = await client(ctx);
    const r = await c.connect();
    expect(r.status).toBe(200);
    const sdp = (r.json as { sdp: string }).sdp;
    expect(sdp).not.toMatch(/sha-(384|512)/);
    const candidates = sdp.split('\r\n').filter((l) => l.startsWith('a=candidate'));
    expect(candidates.length).toBeGreaterThan(0);
    for (const l of candidates) {
      expect(l).toContain('127.0.0.1');
      expect(l).not.toContain('raddr');
    }
    await c.waitConnected();
  });

  it('mungeSdpForEsp32 drops sha-384/512 lines and foreign or reflexive candidates', () => {
    const sdp = [
      'v=0',
      'a=fingerprint:sha-256 AA',
      'a=fingerprint:sha-384 BB',
      'a=fingerprint:sha-512 CC',
      'a=candidate:1 1 udp 1 192.168.1.5 5000 typ host',
      'a=candidate:2 1 udp 1 10.0.0.2 5000 typ host',
      'a=candidate:3 1 udp 1 192.168.1.5 6000 typ srflx raddr 10.0.0.2 rport 5000',
      '',
    ].join('\n');
    expect(mungeSdpForEsp32(sdp, '192.168.1.5')).toBe(
      'v=0\r\na=fingerprint:sha-256 AA\r\na=candidate:1 1 udp 1 192.168.1.5 5000 typ host\r\n',
    );
    expect(
      mungeSdpForEsp32(sdp, null)
        .split('\r\n')
        .filter((l) => l.startsWith('a=candidate')),
    ).toHaveLength(3);
  });

  it('close() disconnects every connection: clients get peerLeft', async () => {
    const ctx = await setup();
    const c = await client(ctx);
    await c.connect();
    await c.waitConnected();
    await ctx.server.handler.close();
    await c.waitForMessage(
      (m) =>
        m['type'] === 'signalling' && (m['message'] as { type?: string } | undefined)?.type === 'peerLeft',
    );
    expect(ctx.server.handler.connectionCount).toBe(0);
    // After close, new offers get 503 (retryable), not a fatal 4xx.
    const late = await client(ctx);
    const r = await late.connect();
    expect(r.status).toBe(503);
    expect(r.headers.get('retry-after')).toBeTruthy();
  });
});

describe('callback and ICE configuration', () => {
  it('a throwing (async) connection callback is logged and swallowed: the client still connects', async () => {
    const errors: string[] = [];
    const ctx = await setup({
      logger: { debug() {}, info() {}, warn() {}, error: (m: string) => errors.push(m) },
      onNewConnection: async (connection) => {
        void connection.connect();
        await new Promise((r) => setTimeout(r, 10));
        throw new Error('bot failed to start');
      },
    });
    const c = await client(ctx);
    expect((await c.connect()).status).toBe(200);
    await c.waitConnected();
    expect(errors.some((e) => e.includes('bot failed to start'))).toBe(true);
  });

  it('/start iceConfig reflects the configured ICE servers and updateIceServers()', async () => {
    const ctx = await setup({ iceServers: ['stun:127.0.0.1:3478'] });
    const start = async (): Promise<unknown> =>
      (await fetch(ctx.server.url + '/start', { method: 'POST' })).json() as Promise<unknown>;
    expect(await start()).toMatchObject({ iceConfig: { iceServers: [{ urls: ['stun:127.0.0.1:3478'] }] } });
    ctx.server.handler.updateIceServers([{ urls: 'turn:127.0.0.1:3478', username: 'u', credential: 'p' }]);
    expect(await start()).toMatchObject({
      iceConfig: { iceServers: [{ urls: 'turn:127.0.0.1:3478', username: 'u', credential: 'p' }] },
    });
    expect(ctx.server.handler.iceServers).toHaveLength(1);
    expect(() =>
      ctx.server.handler.updateIceServers([
        'stun:127.0.0.1:1',
        { urls: 'stun:127.0.0.1:2' },
      ] as unknown as string[]),
    ).toThrow(TypeError);
  });
});

describe('limits and modes', () => {
  it('SINGLE mode: second peer rejected with the Pipecat messages; known pc_id renegotiates', async () => {
    const ctx = await setup({ connectionMode: ConnectionMode.SINGLE });
    const a = await client(ctx);
    expect((await a.connect()).status).toBe(200);
    await a.waitConnected();

    const b = await client(ctx);
    const noId = await b.connect();
    expect(noId.status).toBe(400);
    expect(noId.json).toEqual({ detail: 'Cannot create new connection with existing connection active' });
    const otherId = await b.connect({ pcId: 'some-other-pc' });
    expect(otherId.status).toBe(400);
    expect(otherId.json).toEqual({ detail: 'PC ID mismatch with existing connection' });

    const again = await a.renegotiate();
    expect(again.status).toBe(200);
    expect(ctx.created).toHaveLength(1);

    // Once the first connection is gone a new one is accepted.
    await ctx.created[0]!.connection.close();
    await until(() => ctx.server.handler.connectionCount === 0, 10_000, 'map entry removed on closed');
    const c = await client(ctx);
    expect((await c.connect()).status).toBe(200);
  });

  it('maxConnections holds under concurrent offers (pending offers count against the limit)', async () => {
    const ctx = await setup({ maxConnections: 2 });
    const clients = await Promise.all(Array.from({ length: 5 }, () => client(ctx)));
    const results = await Promise.all(clients.map((c) => c.connect()));
    const statuses = results.map((r) => r.status).sort();
    expect(statuses).toEqual([200, 200, 503, 503, 503]);
    expect(ctx.server.handler.connectionCount).toBe(2);
    expect(ctx.created).toHaveLength(2);
  });

  it('maxConnections: 503 + Retry-After at capacity, accepted again after a close', async () => {
    const ctx = await setup({ maxConnections: 1, retryAfterSecs: 3 });
    const a = await client(ctx);
    expect((await a.connect()).status).toBe(200);
    const b = await client(ctx);
    const r = await b.connect();
    expect(r.status).toBe(503);
    expect(r.headers.get('retry-after')).toBe('3');
    expect((r.json as { detail: string }).detail).toMatch(/Too many connections/);
    // Renegotiating the existing one is still allowed at capacity.
    await a.waitConnected();
    expect((await a.renegotiate()).status).toBe(200);
    await ctx.created[0]!.connection.close();
    await until(() => ctx.server.handler.connectionCount === 0, 10_000, 'closed connection forgotten');
    const c = await client(ctx);
    expect((await c.connect()).status).toBe(200);
  });
});
