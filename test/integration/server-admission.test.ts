// What an anonymous caller can make the signalling server keep, and for how long, through real HTTP and real
// peers: the /start cache is bounded by bytes (not only by count), offers are admitted per client address
// (rate and concurrency, 429 + Retry-After) and a peer that never connects gives its slot back at the connect
// deadline; authorize() gates every signalling route and CORS is same-origin unless configured.
// Loopback only: the "attacker" sends from 127.0.0.2, the real client from 127.0.0.1 (both are lo on Linux).
import { request as httpRequest } from 'node:http';

import { afterEach, describe, expect, it } from 'vitest';

import { DEFAULT_CONNECTION_TIMEOUT_SECS } from '../../src/connection/connection-options.js';
import { DEFAULT_MAX_SESSION_CACHE_BYTES, HttpError } from '../../src/server/index.js';
import { PipecatLikeClient } from '../../testkit/pipecat-like-client.js';
import { until } from '../../testkit/wait.js';
import { serverFixture } from '../helpers/server-fixture.js';

const { serve, clients, closeAll } = serverFixture();

afterEach(closeAll);

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  json: unknown;
}

/** One HTTP request from `localAddress` (node:http, since fetch cannot choose the source address). */
function send(
  url: string,
  method: string,
  body: string | null,
  o: { localAddress?: string; headers?: Record<string, string> } = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      url,
      {
        method,
        localAddress: o.localAddress ?? '127.0.0.1',
        agent: false,
        headers: {
          ...(body !== null ? { 'Content-Type': 'application/json' } : {}),
          ...(o.headers ?? {}),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: unknown = null;
          try {
            json = text ? JSON.parse(text) : null;
          } catch {
            json = text;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, json });
        });
      },
    );
    req.on('error', reject);
    req.end(body ?? undefined);
  });
}

function detail(r: Reply): string {
  const d = (r.json as { detail?: unknown } | null)?.detail;
  expect(typeof d, JSON.stringify(r.json)).toBe('string');
  return d as string;
}

describe('/start cache bounded by bytes', () => {
  it('many large anonymous /start bodies: accounted bytes stay under the bound, the oldest are evicted', async () => {
    // Before: bounded by count only (1000), so 250 KiB bodies were all kept (1,200 of them grew RSS by
    // 331 MiB). Now the cache holds at most maxSessionCacheBytes (default 16 MiB) of serialized bodies.
    const s = await serve({ offerRatePerAddress: null });
    const big = JSON.stringify({ body: { blob: 'x'.repeat(250 * 1024) } });
    const ids: string[] = [];
    for (let i = 0; i < 200; i++) {
      const r = await send(`${s.url}/start`, 'POST', big);
      expect(r.status).toBe(200);
      ids.push((r.json as { sessionId: string }).sessionId);
    }
    const cache = s.sessionCache;
    expect(cache.bytes).toBeLessThanOrEqual(DEFAULT_MAX_SESSION_CACHE_BYTES);
    expect(cache.bytes).toBeGreaterThan(DEFAULT_MAX_SESSION_CACHE_BYTES / 2);
    expect(cache.size).toBeLessThan(70); // 16 MiB / 250 KiB
    // The oldest is gone; the newest is still usable.
    const oldest = await send(`${s.url}/sessions/${ids[0]}/api/offer`, 'POST', '{}');
    expect(oldest.status).toBe(404);
    const newest = await send(`${s.url}/sessions/${ids[ids.length - 1]}/api/offer`, 'PATCH', '{}');
    expect(newest.status).not.toBe(404);
  });

  it('a small bound is honoured and a body larger than the whole cache is 413', async () => {
    const s = await serve({ offerRatePerAddress: null, maxSessionCacheBytes: 64 * 1024 });
    for (let i = 0; i < 50; i++) {
      const r = await send(
        `${s.url}/start`,
        'POST',
        JSON.stringify({ body: { n: i, pad: 'y'.repeat(10_000) } }),
      );
      expect(r.status).toBe(200);
      expect(s.sessionCache.bytes).toBeLessThanOrEqual(64 * 1024);
    }
    const huge = await send(`${s.url}/start`, 'POST', JSON.stringify({ body: { pad: 'z'.repeat(100_000) } }));
    expect(huge.status).toBe(413);
    detail(huge);
    await expect(serve({ maxSessionCacheBytes: 10 })).rejects.toMatchObject({ code: 'ERR_INVALID_ARG' });
  });
});

describe('request bodies held at once bounded by bytes', () => {
  it('slow uploads fill at most maxInflightBodyBytes; one more gets 503 + Retry-After; bytes come back', async () => {
    // Before: every open upload kept up to maxBodyBytes, with no bound over all of them.
    const s = await serve({ maxBodyBytes: 64 * 1024, maxInflightBodyBytes: 100 * 1024 });
    const open: Array<ReturnType<typeof httpRequest>> = [];
    const replies: Array<Promise<number>> = [];
    for (let i = 0; i < 3; i++) {
      const req = httpRequest(`${s.url}/start`, {
        method: 'POST',
        agent: false,
        headers: { 'Content-Type': 'application/json', 'Content-Length': String(60_000) },
      });
      replies.push(
        new Promise((resolve) => {
          req.on('response', (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          });
          req.on('error', () => resolve(-1));
        }),
      );
      req.write('"' + 'a'.repeat(40_000)); // and never the rest: a slow client
      open.push(req);
      if (i < 2) await until(() => s.inflightBodyBytes >= 40_000 * (i + 1), 5000, `upload ${i} counted`);
    }
    // The third does not fit (3 x 40 kB > 100 KiB): refused while the first two are still held.
    expect(await replies[2]).toBe(503);
    expect(s.inflightBodyBytes).toBeLessThanOrEqual(100 * 1024);
    for (const r of open) r.destroy();
    await until(() => s.inflightBodyBytes === 0, 5000, 'the bytes given back when the uploads end');
    expect((await send(`${s.url}/start`, 'POST', '{}')).status).toBe(200);
    await expect(serve({ maxBodyBytes: 64 * 1024, maxInflightBodyBytes: 1024 })).rejects.toMatchObject({
      code: 'ERR_INVALID_ARG',
    });
  });
});

describe('per-address admission and the connect deadline', () => {
  it('150 offers that never connect, from one address, no longer keep a real client out', async () => {
    // Before: all offers were admitted up to maxConnections and held their slots until the 60 s connect
    // timeout; every later caller got 503. Now one address holds at most maxConnectionsPerAddress (default
    // 10) slots, the rest get 429, and the connect deadline frees those slots in seconds.
    const s = await serve({
      maxConnections: 20,
      connectionOptions: { bindAddress: '127.0.0.1', connectionTimeoutSecs: 2 },
    });
    const probe = await PipecatLikeClient.create({ video: false, screen: false });
    clients.push(probe);
    // The offer without candidates: the server can never reach this "client", as a hostile script's offers.
    const offer = JSON.stringify({ sdp: probe.offer.sdp, type: 'offer', pc_id: null, restart_pc: false });
    const replies = await Promise.all(
      Array.from({ length: 150 }, () =>
        send(`${s.url}/api/offer`, 'POST', offer, { localAddress: '127.0.0.2' }),
      ),
    );
    const byStatus = new Map<number, number>();
    for (const r of replies) byStatus.set(r.status, (byStatus.get(r.status) ?? 0) + 1);
    expect(byStatus.get(200), JSON.stringify([...byStatus])).toBe(10);
    expect(byStatus.get(429), JSON.stringify([...byStatus])).toBe(140);
    for (const r of replies.filter((x) => x.status === 429)) {
      expect(Number(r.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      expect(detail(r)).toMatch(/Too many/);
    }
    expect(s.handler.connectionCount).toBe(10);

    // A real client from another address gets in and connects.
    const real = await PipecatLikeClient.create({ baseUrl: s.url, video: false, screen: false });
    clients.push(real);
    const r = await real.connect();
    expect(r.status, JSON.stringify(r.json)).toBe(200);
    await real.waitConnected();

    // The deadline (2 s here, default 15 s) closes the never-connected peers and gives the slots back.
    await until(() => s.handler.connectionCount === 1, 10_000, 'the dead offers closed by the deadline');
    const again = await send(`${s.url}/api/offer`, 'POST', offer, { localAddress: '127.0.0.2' });
    expect(again.status).toBe(200);
    expect(DEFAULT_CONNECTION_TIMEOUT_SECS).toBe(15);
  });

  it('rate limit per address: a burst beyond the bucket gets 429 with Retry-After; other addresses are unaffected', async () => {
    const s = await serve({ offerRatePerAddress: { burst: 3, perSecond: 0.5 } });
    const codes: number[] = [];
    let last: Reply | null = null;
    for (let i = 0; i < 5; i++) {
      last = await send(`${s.url}/start`, 'POST', '{}', { localAddress: '127.0.0.2' });
      codes.push(last.status);
    }
    expect(codes).toEqual([200, 200, 200, 429, 429]);
    expect(Number(last!.headers['retry-after'])).toBe(2);
    expect(detail(last!)).toMatch(/Too many requests/);
    expect((await send(`${s.url}/start`, 'POST', '{}')).status).toBe(200);
    await expect(serve({ offerRatePerAddress: { burst: 0, perSecond: 1 } })).rejects.toMatchObject({
      code: 'ERR_INVALID_ARG',
    });
    await expect(serve({ maxConnectionsPerAddress: 0 })).rejects.toMatchObject({ code: 'ERR_INVALID_ARG' });
  });
});

describe('authorize() and CORS', () => {
  it('authorize gates /start, POST/PATCH /api/offer and /sessions with 401/403 JSON detail; true admits', async () => {
    const seen: string[] = [];
    const s = await serve({
      authorize: (req) => {
        seen.push(`${req.method} ${req.url}`);
        const auth = req.headers.authorization;
        if (auth === undefined) throw new HttpError(401, 'Missing token', { 'WWW-Authenticate': 'Bearer' });
        return auth === 'Bearer good';
      },
    });
    const routes: Array<[string, string, string]> = [
      ['POST', '/start', '{}'],
      ['POST', '/api/offer', '{"sdp":"v=0","type":"offer"}'],
      ['PATCH', '/api/offer', '{"pc_id":"x","candidates":[]}'],
      ['POST', '/sessions/abc/api/offer', '{}'],
    ];
    for (const [method, path, body] of routes) {
      const none = await send(s.url + path, method, body);
      expect(none.status, `${method} ${path}`).toBe(401);
      expect(none.headers['www-authenticate']).toBe('Bearer');
      expect(detail(none)).toBe('Missing token');
      const bad = await send(s.url + path, method, body, { headers: { Authorization: 'Bearer bad' } });
      expect(bad.status, `${method} ${path}`).toBe(403);
      expect(detail(bad)).toBe('Forbidden');
      const good = await send(s.url + path, method, body, { headers: { Authorization: 'Bearer good' } });
      expect([401, 403], `${method} ${path}`).not.toContain(good.status);
    }
    expect((await send(`${s.url}/status`, 'GET', null)).status).toBe(200); // not gated
    expect(seen.some((x) => x.startsWith('GET /status'))).toBe(false);
  });

  it('an authorize that throws or does not return true refuses (fail closed)', async () => {
    const s = await serve({
      authorize: (req) => {
        if (req.url === '/start') throw new Error('bug (expected in test)');
        return undefined as unknown as boolean;
      },
    });
    expect((await send(`${s.url}/start`, 'POST', '{}')).status).toBe(500);
    expect((await send(`${s.url}/api/offer`, 'POST', '{}')).status).toBe(403);
  });

  it('CORS is same-origin by default: a cross-site POST is 403 before its body is read; * opens it', async () => {
    const s = await serve();
    const host = new URL(s.url).host;
    const same = await send(`${s.url}/start`, 'POST', '{}', { headers: { Origin: `http://${host}` } });
    expect(same.status).toBe(200);
    expect(same.headers['access-control-allow-origin']).toBe(`http://${host}`);
    const cross = await send(`${s.url}/start`, 'POST', '{}', { headers: { Origin: 'http://evil.example' } });
    expect(cross.status).toBe(403);
    expect(detail(cross)).toMatch(/CORS/);
    expect(cross.headers['access-control-allow-origin']).toBeUndefined();
    const open = await serve({ allowedOrigins: '*' });
    const any = await send(`${open.url}/start`, 'POST', '{}', { headers: { Origin: 'http://evil.example' } });
    expect(any.status).toBe(200);
    expect(any.headers['access-control-allow-origin']).toBe('http://evil.example');
  });
});
