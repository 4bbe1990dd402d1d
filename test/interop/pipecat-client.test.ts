// Interop with the real Pipecat web client (@pipecat-ai/client-js + small-webrtc-transport, bundled in the
// demo page) in headless Chromium, against our HTTP signalling server. The "bot" here is only a test-side RTVI
// responder (client-ready -> bot-ready), so this checks the HTTP signalling of docs/protocol.md end to end:
// offer with pc_id null, trickle PATCH after the answer, server-requested renegotiation (the client re-offers
// on the same peer with its pc_id and restart_pc false) and peerLeft on shutdown.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import nodeDataChannel from 'node-datachannel';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { SmallWebRTCConnection } from '../../src/connection/index.js';
import { createSmallWebRTCRequestListener, type SmallWebRTCRequestListener } from '../../src/server/index.js';
import { chromiumAvailable, launchChromium } from '../../testkit/chromium.js';
import { buildDemoBundle, DEMO_STATIC_DIR, demoEval, gotoDemo, replyBotReady } from '../helpers/demo-page.js';
import { countRtp, newRtpCount } from '../../testkit/rtp.js';
import { until } from '../../testkit/wait.js';

interface Logged {
  method: string;
  path: string;
  pcId: unknown;
  restartPc: unknown;
  candidates: number;
  status: number;
}

describe.skipIf(!chromiumAvailable())('Pipecat web client (real SmallWebRTCTransport)', () => {
  let http: Server;
  let url: string;
  let listener: SmallWebRTCRequestListener;
  let browser: Browser;
  const requests: Logged[] = [];
  const connections: SmallWebRTCConnection[] = [];
  const rtp = newRtpCount();

  beforeAll(async () => {
    buildDemoBundle();
    listener = createSmallWebRTCRequestListener({
      staticDir: DEMO_STATIC_DIR,
      connectionOptions: { bindAddress: '127.0.0.1' },
      onNewConnection: (connection) => {
        connections.push(connection);
        // Minimal RTVI so PipecatClient.connect() resolves.
        replyBotReady(connection, { library: 'small-webrtc-interop-test' });
        countRtp(connection.audioInputTrack(), rtp);
        void connection.connect();
      },
    });
    // Log every signalling request (the body is read here and handed on as a pre-parsed body).
    http = createServer((req: IncomingMessage & { body?: unknown }, res) => {
      const path = (req.url ?? '').split('?')[0]!;
      if (!path.endsWith('/api/offer')) {
        listener(req, res);
        return;
      }
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const raw = Buffer.concat(chunks);
        req.body = raw;
        let body: Record<string, unknown> = {};
        try {
          body = JSON.parse(raw.toString()) as Record<string, unknown>;
        } catch {
          // logged as-is below
        }
        const entry: Logged = {
          method: req.method ?? '',
          path,
          pcId: body.pc_id,
          restartPc: body.restart_pc,
          candidates: Array.isArray(body.candidates) ? body.candidates.length : 0,
          status: 0,
        };
        requests.push(entry);
        res.on('finish', () => (entry.status = res.statusCode));
        listener(req, res);
      });
    });
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', () => r()));
    url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await listener?.close();
    http?.closeAllConnections();
    await new Promise((r) => http?.close(r));
    nodeDataChannel.cleanup();
  });

  it('connects (bot-ready), trickles, renegotiates on request, and sees peerLeft', async () => {
    const page = await browser.newPage();
    page.on('pageerror', (err) => console.error('[page]', err.message));
    await gotoDemo(page, url + '/');
    await demoEval(page, (d) => d.connect('/api/offer'));
    expect(await demoEval(page, (d) => d.botReady)).toBe(true);
    expect(connections).toHaveLength(1);
    const connection = connections[0]!;

    // First offer: pc_id null; then trickle PATCHes for that pc_id, all accepted.
    const first = requests.find((r) => r.method === 'POST')!;
    expect(first.pcId ?? null).toBeNull();
    expect(first.status).toBe(200);
    await until(() => requests.some((r) => r.method === 'PATCH'), 10_000, 'a trickle PATCH');
    for (const p of requests.filter((r) => r.method === 'PATCH')) {
      expect(p.pcId).toBe(connection.pcId);
      expect(p.candidates).toBeGreaterThan(0);
      await until(() => p.status !== 0, 5_000, 'PATCH response');
      expect(p.status).toBe(200);
    }

    // Mic audio arrives as Opus RTP (Chrome PT 111).
    await until(() => rtp.count >= 25, 20_000, 'mic RTP');
    expect([...rtp.payloadTypes]).toEqual([111]);

    // Our RTCP receiver reports about the mic reach the browser: getStats() has the remote-inbound-rtp of its
    // outbound audio (nothing lost on loopback), and a round-trip time, which Chromium computes from the
    // LSR/DLSR of our report against its own sender report, so those fields are right too.
    const statsOf = async () => (await demoEval(page, (d) => d.audioStats()))!;
    let remote: Awaited<ReturnType<typeof statsOf>>['remoteInbound'] = null;
    await until(
      async () => {
        remote = (await statsOf()).remoteInbound;
        return remote !== null && remote.roundTripTimeMs !== null;
      },
      20_000,
      () => `remote-inbound-rtp with a round-trip time (${JSON.stringify(remote)})`,
    );
    const r = remote!;
    console.log(`chromium remote-inbound-rtp (our receiver reports): ${JSON.stringify(r)}`);
    expect(r.packetsLost).toBe(0);
    expect(r.fractionLost).toBe(0);
    expect(r.roundTripTimeMs!).toBeGreaterThan(0);
    // Loopback: milliseconds, plus our event loop's lag on a loaded machine (seen: 80-430 ms at load 20).
    expect(r.roundTripTimeMs!).toBeLessThan(5000);

    // Server-requested renegotiation: the client re-offers on the same PC with its pc_id.
    const before = requests.filter((r) => r.method === 'POST').length;
    connection.askToRenegotiate();
    await until(() => requests.filter((r) => r.method === 'POST').length > before, 10_000, 're-offer');
    const reoffer = requests.filter((r) => r.method === 'POST').at(-1)!;
    expect(reoffer.pcId).toBe(connection.pcId);
    expect(reoffer.restartPc).toBe(false);
    await until(() => reoffer.status !== 0, 10_000, 're-offer answered');
    expect(reoffer.status).toBe(200);
    expect(connections).toHaveLength(1); // no second bot
    const rtpAfter = rtp.count;
    await until(() => rtp.count > rtpAfter + 10, 10_000, 'RTP after renegotiation');

    // Shutdown: handler.close() sends peerLeft; the client reports the bot as disconnected.
    await listener.close();
    await until(
      async () => (await demoEval(page, (d) => d.events.some((e) => e.type === 'BotDisconnected'))) === true,
      10_000,
      'BotDisconnected',
    );
    expect(await demoEval(page, (d) => d.errors)).toEqual([]);
    await page.close();
  });

  it('startBotAndConnect via /start: offers go to /sessions/:id/api/offer with the cached body', async () => {
    // A fresh handler (the previous test closed its listener): reuse the logging server with a new listener.
    const created: Array<{ connection: SmallWebRTCConnection; data: unknown }> = [];
    listener = createSmallWebRTCRequestListener({
      staticDir: DEMO_STATIC_DIR,
      connectionOptions: { bindAddress: '127.0.0.1' },
      onNewConnection: (connection, data) => {
        created.push({ connection, data });
        replyBotReady(connection, { library: 'small-webrtc-interop-test' });
        void connection.connect();
      },
    });
    requests.length = 0;
    const page = await browser.newPage();
    await gotoDemo(page, url + '/');
    await demoEval(page, (d) =>
      (
        d as unknown as { client: { startBotAndConnect(p: object): Promise<unknown> } }
      ).client.startBotAndConnect({
        endpoint: '/start',
        requestData: { transport: 'webrtc', body: { hello: 'session' } },
      }),
    );
    expect(await demoEval(page, (d) => d.botReady)).toBe(true);
    expect(created).toHaveLength(1);
    expect(created[0]!.data).toEqual({ hello: 'session' });
    const offer = requests.find((r) => r.method === 'POST')!;
    expect(offer.path).toMatch(/^\/sessions\/[0-9a-f-]{36}\/api\/offer$/);
    await until(
      () => requests.some((r) => r.method === 'PATCH' && r.status === 200),
      10_000,
      'session PATCH',
    );
    expect(requests.filter((r) => r.method === 'PATCH').every((r) => r.path === offer.path)).toBe(true);
    await demoEval(page, (d) => d.disconnect());
    await page.close();
  });

  it('server-side peer dies silently: the client restarts with restart_pc and its old pc_id -> new connection', async () => {
    const created: SmallWebRTCConnection[] = [];
    listener = createSmallWebRTCRequestListener({
      staticDir: DEMO_STATIC_DIR,
      connectionOptions: { bindAddress: '127.0.0.1' },
      onNewConnection: (connection) => {
        created.push(connection);
        replyBotReady(connection);
        void connection.connect();
      },
    });
    requests.length = 0;
    const page = await browser.newPage();
    await gotoDemo(page, url + '/');
    await demoEval(page, (d) => d.connect('/api/offer'));
    const first = created[0]!;
    const oldId = first.pcId;
    // Close the server peer without peerLeft (as if the server process lost it); the map entry goes away.
    await first.close();
    await until(() => listener.handler.getConnection(oldId) === undefined, 5_000, 'entry removed');
    // The client notices (ICE disconnected for 5 s, or failed) and re-offers with restart_pc + the old id.
    await until(
      () => requests.some((r) => r.method === 'POST' && r.restartPc === true && r.pcId === oldId),
      40_000,
      'client restart offer',
    );
    const restart = requests.find((r) => r.method === 'POST' && r.restartPc === true)!;
    await until(() => restart.status !== 0, 10_000, 'restart answered');
    expect(restart.status).toBe(200);
    expect(created).toHaveLength(2); // unknown pc_id -> a brand-new connection (Python behaviour)
    await until(() => created[1]!.isConnected(), 20_000, 'new connection connected');
    await demoEval(page, (d) => d.disconnect());
    await page.close();
  }, 90_000);
});
