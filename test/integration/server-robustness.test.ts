// A barrage of bad HTTP requests and data-channel garbage while a real connection is established: every bad
// request gets a clear 4xx JSON { detail }, the server keeps serving, and the established connection still
// exchanges app messages and RTP afterwards. A new client can still connect too.
import nodeDataChannel from 'node-datachannel';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { SmallWebRTCConnection } from '../../src/connection/index.js';
import { startSmallWebRTCServer, type SmallWebRTCServer } from '../../src/server/index.js';
import { PipecatLikeClient } from '../../testkit/pipecat-like-client.js';
import { until } from '../../testkit/wait.js';

const quiet = { debug() {}, info() {}, warn() {}, error() {} };

let server: SmallWebRTCServer;
const created: Array<{ connection: SmallWebRTCConnection; messages: unknown[] }> = [];
const clients: PipecatLikeClient[] = [];

beforeAll(async () => {
  server = await startSmallWebRTCServer({
    port: 0,
    logger: quiet,
    connectionOptions: { bindAddress: '127.0.0.1' },
    onNewConnection: (connection) => {
      const entry = { connection, messages: [] as unknown[] };
      connection.on('app-message', (_c, m: unknown) => entry.messages.push(m));
      created.push(entry);
      void connection.connect();
    },
  });
});

afterAll(async () => {
  for (const c of clients) c.close();
  await server?.close();
  nodeDataChannel.cleanup();
});

async function send(
  method: string,
  body: string | object,
  contentType = 'application/json',
): Promise<{ status: number; json: unknown }> {
  const res = await fetch(server.url + '/api/offer', {
    method,
    headers: { 'Content-Type': contentType },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, json: JSON.parse(text) as unknown };
}

const HEADER = 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n';

describe('bad input does not disturb an established connection', () => {
  it('HTTP barrage + data-channel garbage, then the connection still works', async () => {
    const c = await PipecatLikeClient.create({ baseUrl: server.url });
    clients.push(c);
    expect((await c.connect()).status).toBe(200);
    await c.waitConnected();
    const { connection, messages } = created[0]!;
    const pcId = c.pcId!;
    let rtp = 0;
    connection.audioInputTrack()!.onRtp(() => rtp++);

    const barrage: Array<[string, string | object, number, string?]> = [
      ['POST', '{"sdp":', 400],
      ['POST', { type: 'offer' }, 400],
      ['POST', { type: 'offer', sdp: 'garbage' }, 400],
      ['POST', { type: 'offer', sdp: HEADER }, 400],
      ['POST', { type: 'offer', sdp: HEADER + 'm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n'.repeat(3000) }, 400],
      ['POST', { type: 'offer', sdp: 12 }, 400],
      ['POST', { type: 'offer', sdp: HEADER + 'm=audio 9 UDP 0\r\n', pc_id: ['x'] }, 400],
      // Looks like SDP, but no ICE credentials / fingerprint: rejected by the connection (ERR_INVALID_SDP).
      ['POST', { type: 'offer', sdp: HEADER + 'm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:0\r\n' }, 400],
      // The established pc_id with a garbage SDP: validation rejects it before the connection sees it.
      ['POST', { type: 'offer', sdp: 'v=0\r\nnot sdp\r\n', pc_id: pcId }, 400],
      ['POST', 'sdp=x', 415, 'application/x-www-form-urlencoded'],
      ['POST', JSON.stringify({ type: 'offer', sdp: 'v=0\r\n' + 'a=x\r\n'.repeat(100_000) }), 413],
      ['PATCH', { pc_id: 'unknown', candidates: [] }, 404],
      ['PATCH', { pc_id: pcId, candidates: [{ candidate: 'garbage' }] }, 400],
      [
        'PATCH',
        { pc_id: pcId, candidates: [{ candidate: 'candidate:1 1 udp 1 999.1.1.1 x typ host' }] },
        400,
      ],
      ['PATCH', { pc_id: pcId, candidates: [{ nope: true }] }, 400],
      ['PATCH', { pc_id: pcId, candidates: {} }, 400],
      ['PATCH', 'null', 400],
    ];
    for (const [method, body, status, type] of barrage) {
      const r = await send(method, body, type);
      expect(r.status, `${method} ${JSON.stringify(body).slice(0, 80)}`).toBe(status);
      const detail = (r.json as { detail?: unknown }).detail;
      expect(detail).toBeTypeOf('string');
      expect(detail as string).not.toMatch(/\n\s+at /);
    }

    // Data-channel garbage: non-JSON, JSON that is not an object, bad signalling, a big message.
    c.sendText('not json at all {');
    c.sendText('[1,2,3]');
    c.sendText('"just a string"');
    c.sendText('{"type":"signalling"}');
    c.sendText('{"type":"signalling","message":{"type":"trackStatus","receiver_index":"x","enabled":5}}');
    c.sendText('{"type":"signalling","message":{"type":"trackStatus","receiver_index":99,"enabled":true}}');
    c.sendText('{"no_type":1}');
    c.sendText('x'.repeat(60_000));
    // A non-JSON message exactly at the size our answer advertises (a=max-message-size, libdatachannel's
    // 256 KiB default); the client refuses anything larger locally, so this is the largest a peer can send.
    const max = c.pc.maxMessageSize();
    expect(max).toBeGreaterThanOrEqual(65_536);
    c.sendText('{' + 'y'.repeat(max - 1));
    expect(() => c.sendText('z'.repeat(max + 1))).toThrow();
    c.sendBinary(Uint8Array.of(0, 1, 2, 255));
    c.sendText('ping: 123');

    // The established connection still exchanges app messages both ways and RTP.
    c.sendJson({ type: 'still-alive' });
    await until(
      () => messages.some((m) => (m as { type?: string }).type === 'still-alive'),
      10_000,
      'app msg',
    );
    connection.sendAppMessage({ type: 'server-still-alive' });
    await c.waitForMessage((m) => m['type'] === 'server-still-alive');
    c.startRtp();
    await until(() => rtp >= 10, 10_000, 'RTP after the barrage');
    expect(connection.isConnected()).toBe(true);
    expect(server.handler.getConnection(pcId)).toBe(connection);

    // And a new client still connects.
    const d = await PipecatLikeClient.create({ baseUrl: server.url, video: false, screen: false });
    clients.push(d);
    expect((await d.connect()).status).toBe(200);
    await d.waitConnected();
  });
});
