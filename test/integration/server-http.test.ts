// The HTTP layer through real HTTP: routes, CORS, limits and every bad-input path that is rejected before a
// peer connection is created. Each rejection must be a clear 4xx JSON { detail } and the server keeps serving.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  createSmallWebRTCRequestListener,
  startSmallWebRTCServer,
  type SmallWebRTCServer,
} from '../../src/server/index.js';

let server: SmallWebRTCServer;

beforeAll(async () => {
  server = await startSmallWebRTCServer({
    port: 0,
    maxBodyBytes: 64 * 1024,
    allowedOrigins: ['http://allowed.example'],
    defaultIceServers: [{ urls: 'stun:127.0.0.1:3478' }],
    // Dozens of bad offers from 127.0.0.1 in a row: the per-address offer rate (its own tests are in
    // server-admission) would answer 429 before the body is checked, which is not what these tests ask.
    offerRatePerAddress: null,
    logger: { debug() {}, info() {}, warn() {}, error() {} },
  });
});

afterAll(async () => {
  await server?.close();
});

async function call(
  method: string,
  path: string,
  body?: string | object,
  headers: Record<string, string> = {},
): Promise<{ status: number; json: unknown; headers: Headers }> {
  const init: RequestInit = { method, headers: { ...headers } };
  if (body !== undefined) {
    init.body = typeof body === 'string' ? body : JSON.stringify(body);
    (init.headers as Record<string, string>)['Content-Type'] ??= 'application/json';
  }
  const res = await fetch(server.url + path, init);
  const text = await res.text();
  let json: unknown = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = text;
  }
  return { status: res.status, json, headers: res.headers };
}

function detailOf(json: unknown): string {
  expect(json).toBeTypeOf('object');
  const detail = (json as { detail?: unknown }).detail;
  expect(detail).toBeTypeOf('string');
  expect(detail as string).not.toMatch(/\n\s+at /); // no stack traces
  return detail as string;
}

/** One test per bad request body (name, body, status, detail pattern) sent as `method` /api/offer. */
function refusesEach(
  method: 'POST' | 'PATCH',
  cases: Array<[string, string | object, number, RegExp]>,
): void {
  for (const [name, body, status, detail] of cases) {
    it(`${method} /api/offer: ${name} -> ${status}`, async () => {
      const r = await call(method, '/api/offer', body);
      expect(r.status).toBe(status);
      expect(detailOf(r.json)).toMatch(detail);
    });
  }
}

const MINIMAL_SDP = 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n';

describe('HTTP routes', () => {
  it('GET /status reports ready', async () => {
    const r = await call('GET', '/status');
    expect(r.status).toBe(200);
    expect(r.json).toEqual({ status: 'ready', transports: ['webrtc'] });
  });

  it('POST /start returns a sessionId, iceConfig only when asked for default servers', async () => {
    const a = await call('POST', '/start', { transport: 'webrtc', body: { hello: 1 } });
    expect(a.status).toBe(200);
    expect((a.json as { sessionId: string }).sessionId).toMatch(/^[0-9a-f-]{36}$/);
    expect((a.json as { iceConfig?: unknown }).iceConfig).toBeUndefined();
    const b = await call('POST', '/start', { enableDefaultIceServers: true });
    expect(b.json).toMatchObject({ iceConfig: { iceServers: [{ urls: 'stun:127.0.0.1:3478' }] } });
    // Unparseable body is treated as {} (Python runner behaviour).
    const c = await call('POST', '/start', '{not json');
    expect(c.status).toBe(200);
    const d = await call('POST', '/start', { transport: 'daily' });
    expect(d.status).toBe(400);
    expect(detailOf(d.json)).toMatch(/not supported/);
  });

  it('unknown session -> 404, non-offer session paths -> empty 200', async () => {
    const r = await call('POST', '/sessions/nope/api/offer', { sdp: MINIMAL_SDP, type: 'offer' });
    expect(r.status).toBe(404);
    expect(detailOf(r.json)).toBe('Invalid or not-yet-ready session_id');
    const { sessionId } = (await call('POST', '/start', {})).json as { sessionId: string };
    const other = await call('GET', `/sessions/${sessionId}/something/else`);
    expect(other.status).toBe(200);
    const bad = await call('POST', `/sessions/${sessionId}/api/offer`, { type: 'offer' });
    expect(bad.status).toBe(400);
    expect(detailOf(bad.json)).toBe('sdp is required');
  });

  it('unknown routes -> 404 JSON, wrong method -> 405', async () => {
    expect((await call('GET', '/nothing-here')).status).toBe(404);
    expect((await call('GET', '/api/offer')).status).toBe(405);
  });

  it('CORS: preflight for allowed origins, refused for others', async () => {
    const ok = await fetch(server.url + '/api/offer', {
      method: 'OPTIONS',
      headers: {
        Origin: 'http://allowed.example',
        'Access-Control-Request-Method': 'PATCH',
        'Access-Control-Request-Headers': 'content-type,authorization',
      },
    });
    expect(ok.status).toBe(204);
    expect(ok.headers.get('access-control-allow-origin')).toBe('http://allowed.example');
    expect(ok.headers.get('access-control-allow-methods')).toContain('PATCH');
    expect(ok.headers.get('access-control-allow-headers')).toBe('content-type,authorization');
    const bad = await fetch(server.url + '/api/offer', {
      method: 'OPTIONS',
      headers: { Origin: 'http://evil.example', 'Access-Control-Request-Method': 'POST' },
    });
    expect(bad.status).toBe(400);
    const plain = await call('GET', '/status', undefined, { Origin: 'http://evil.example' });
    expect(plain.headers.get('access-control-allow-origin')).toBeNull();
    const allowed = await call('GET', '/status', undefined, { Origin: 'http://allowed.example' });
    expect(allowed.headers.get('access-control-allow-origin')).toBe('http://allowed.example');
  });
});

describe('bad input is a clear 4xx and the server keeps serving', () => {
  const offerCases: Array<[string, string | object, number, RegExp]> = [
    ['malformed JSON', '{"sdp": "v=0', 400, /not valid JSON/],
    ['empty body', '', 400, /empty/],
    ['JSON array', '[1,2,3]', 400, /JSON object/],
    ['JSON null', 'null', 400, /JSON object/],
    ['missing sdp', { type: 'offer' }, 400, /sdp is required/],
    ['sdp not a string', { type: 'offer', sdp: 42 }, 400, /sdp must be a string/],
    ['empty sdp', { type: 'offer', sdp: '' }, 400, /must not be empty/],
    ['garbage sdp', { type: 'offer', sdp: 'hello world, definitely not SDP' }, 400, /v=0/],
    ['garbage lines', { type: 'offer', sdp: 'v=0\r\n<script>\r\n' }, 400, /malformed line/],
    ['sdp without media', { type: 'offer', sdp: MINIMAL_SDP }, 400, /no media/],
    ['bad m= line', { type: 'offer', sdp: MINIMAL_SDP + 'm=audio x\r\n' }, 400, /malformed m=/],
    [
      'thousands of m-lines',
      { type: 'offer', sdp: MINIMAL_SDP + 'm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n'.repeat(1500) },
      400,
      /too many media sections/,
    ],
    [
      'control chars',
      { type: 'offer', sdp: MINIMAL_SDP + 'm=audio 9 UDP 0\r\na=x\u0001\r\n' },
      400,
      /control/,
    ],
    ['missing type', { sdp: MINIMAL_SDP }, 400, /type is required/],
    ['type answer', { type: 'answer', sdp: MINIMAL_SDP }, 400, /type must be 'offer'/],
    ['pc_id a number', { type: 'offer', sdp: MINIMAL_SDP + 'm=audio 9 UDP 0\r\n', pc_id: 7 }, 400, /pc_id/],
    [
      'restart_pc a string',
      { type: 'offer', sdp: MINIMAL_SDP + 'm=audio 9 UDP 0\r\n', restart_pc: 'yes' },
      400,
      /restart_pc/,
    ],
  ];

  refusesEach('POST', offerCases);

  it('wrong Content-Type -> 415', async () => {
    const r = await call('POST', '/api/offer', 'sdp=v%3D0', {
      'Content-Type': 'application/x-www-form-urlencoded',
    });
    expect(r.status).toBe(415);
    expect(detailOf(r.json)).toMatch(/application\/json/);
    const p = await call('PATCH', '/api/offer', 'x', { 'Content-Type': 'text/plain' });
    expect(p.status).toBe(415);
  });

  it('oversized body -> 413 (declared length and chunked)', async () => {
    const big = JSON.stringify({ type: 'offer', sdp: 'v=0\r\n' + 'a=x\r\n'.repeat(40_000) });
    const r = await call('POST', '/api/offer', big);
    expect(r.status).toBe(413);
    expect(detailOf(r.json)).toMatch(/too large/);
    // Chunked (no Content-Length): the limit applies while streaming.
    const chunked = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = httpRequest(server.url + '/api/offer', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' },
      });
      req.on('response', (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      });
      req.on('error', reject);
      for (let i = 0; i < 10; i++) req.write('x'.repeat(10_000));
      req.end();
    });
    expect(chunked.status).toBe(413);
    expect(detailOf(JSON.parse(chunked.body))).toMatch(/too large/);
  });

  const patchCases: Array<[string, string | object, number, RegExp]> = [
    ['unknown pc_id', { pc_id: 'nope', candidates: [] }, 404, /^Peer connection not found$/],
    ['missing pc_id', { candidates: [] }, 400, /pc_id is required/],
    ['candidates not an array', { pc_id: 'x', candidates: 'abc' }, 400, /candidates must be an array/],
    ['candidate entry not an object', { pc_id: 'x', candidates: [5] }, 400, /must be an object/],
    ['candidate not a string', { pc_id: 'x', candidates: [{ candidate: 5 }] }, 400, /must be a string/],
    [
      'garbage candidate',
      { pc_id: 'x', candidates: [{ candidate: 'rm -rf /' }] },
      400,
      /not an ICE candidate/,
    ],
    [
      'bad sdp_mline_index',
      { pc_id: 'x', candidates: [{ candidate: '', sdp_mline_index: -1 }] },
      400,
      /sdp_mline_index/,
    ],
    ['bad sdp_mid', { pc_id: 'x', candidates: [{ candidate: '', sdp_mid: {} }] }, 400, /sdp_mid/],
    [
      'too many candidates',
      { pc_id: 'x', candidates: Array.from({ length: 500 }, () => ({ candidate: '' })) },
      400,
      /too many candidates/,
    ],
    ['malformed JSON', '{"pc_id":', 400, /not valid JSON/],
  ];
  refusesEach('PATCH', patchCases);

  it('still serves after the barrage', async () => {
    const r = await call('GET', '/status');
    expect(r.status).toBe(200);
  });
});

describe('embedding: middleware use, pre-parsed bodies, static files, fallback', () => {
  it('calls next() for routes it does not own and accepts a body parsed by a previous middleware', async () => {
    const listener = createSmallWebRTCRequestListener({
      logger: { debug() {}, info() {}, warn() {}, error() {} },
    });
    const app = createServer((req, res) => {
      if (req.url === '/api/offer' && req.method === 'PATCH') {
        // Simulate express.json(): the stream is consumed and req.body holds the object.
        let text = '';
        req.on('data', (c: Buffer) => (text += c.toString()));
        req.on('end', () => {
          (req as typeof req & { body?: unknown }).body = JSON.parse(text) as unknown;
          listener(req, res, () => res.end('next'));
        });
        return;
      }
      listener(req, res, () => {
        res.writeHead(200, { 'Content-Type': 'text/plain' });
        res.end('from next');
      });
    });
    await new Promise<void>((r) => app.listen(0, '127.0.0.1', () => r()));
    const base = `http://127.0.0.1:${(app.address() as AddressInfo).port}`;
    try {
      expect(await (await fetch(base + '/other')).text()).toBe('from next');
      expect(await (await fetch(base + '/status')).json()).toEqual({
        status: 'ready',
        transports: ['webrtc'],
      });
      const r = await fetch(base + '/api/offer', {
        method: 'PATCH',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ pc_id: 'nope', candidates: [] }),
      });
      expect(r.status).toBe(404);
      expect(await r.json()).toEqual({ detail: 'Peer connection not found' });
    } finally {
      await listener.close();
      app.closeAllConnections();
      await new Promise((r) => app.close(r));
    }
  });

  it('serves staticDir (index.html for /), refuses traversal, then uses fallback', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'swrtc-static-'));
    writeFileSync(join(dir, 'index.html'), '<h1>demo</h1>');
    writeFileSync(join(dir, 'app.js'), 'console.log(1)');
    const s = await startSmallWebRTCServer({
      port: 0,
      staticDir: dir,
      fallback: (_req, res) => {
        res.writeHead(200, { 'Content-Type': 'text/plain' });
        res.end('fallback');
      },
    });
    try {
      const index = await fetch(s.url + '/');
      expect(index.headers.get('content-type')).toMatch(/text\/html/);
      expect(await index.text()).toBe('<h1>demo</h1>');
      const js = await fetch(s.url + '/app.js');
      expect(js.headers.get('content-type')).toMatch(/javascript/);
      expect(await (await fetch(s.url + '/%2e%2e/%2e%2e/etc/passwd')).text()).toBe('fallback');
      expect(await (await fetch(s.url + '/..%2F..%2F..%2Fetc%2Fpasswd')).text()).toBe('fallback');
      expect(await (await fetch(s.url + '/missing')).text()).toBe('fallback');
      // API routes still win over static files and fallback.
      expect((await fetch(s.url + '/status')).status).toBe(200);
    } finally {
      await s.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
