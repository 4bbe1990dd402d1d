// Interop: headless Chromium with a plain RTCPeerConnection page served by our own HTTP server (staticDir).
// It connects through POST /api/offer + PATCH trickle, opens `chat`, and sends Opus RTP (fake mic) that the
// server receives on audioInputTrack() with Chrome's Opus payload type 111.
import { fileURLToPath } from 'node:url';

import nodeDataChannel from 'node-datachannel';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { SmallWebRTCConnection } from '../../src/connection/index.js';
import { startSmallWebRTCServer, type SmallWebRTCServer } from '../../src/server/index.js';
import { chromiumAvailable, launchChromium } from '../../testkit/chromium.js';
import { countRtp, newRtpCount } from '../../testkit/rtp.js';
import { until } from '../../testkit/wait.js';

const PAGES = fileURLToPath(new URL('../../testkit/pages/', import.meta.url));

interface PeerState {
  events: Array<{ e: string; t: number }>;
  messages: unknown[];
  patches: Array<{ status: number; count: number }>;
  pcId: string | null;
}

describe.skipIf(!chromiumAvailable())('Chromium plain RTCPeerConnection', () => {
  let server: SmallWebRTCServer;
  let browser: Browser;
  const connections: SmallWebRTCConnection[] = [];
  const rtp = newRtpCount();
  const messages: unknown[] = [];
  const requestData = new Map<string, unknown>();

  beforeAll(async () => {
    server = await startSmallWebRTCServer({
      port: 0,
      staticDir: PAGES,
      connectionOptions: { bindAddress: '127.0.0.1' },
      onNewConnection: (connection, data) => {
        connections.push(connection);
        requestData.set(connection.pcId, data);
        connection.on('app-message', (_c, m: unknown) => messages.push(m));
        countRtp(connection.audioInputTrack(), rtp);
        void connection.connect();
      },
    });
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    nodeDataChannel.cleanup();
  });

  it('connects through the HTTP server and sends Opus RTP (PT 111) the server receives', async () => {
    const page = await browser.newPage();
    page.on('pageerror', (err) => console.error('[page]', err.message));
    await page.goto(server.url + '/plain-peer.html');
    const { pcId } = await page.evaluate(() =>
      (window as unknown as { runPeer: () => Promise<{ pcId: string }> }).runPeer(),
    );
    expect(connections).toHaveLength(1);
    expect(connections[0]!.pcId).toBe(pcId);

    const state = () => page.evaluate(() => (window as unknown as { peerState: PeerState }).peerState);
    await until(async () => (await state()).events.some((e) => e.e === 'pc:connected'), 20_000, 'connected');

    // Browser -> server app message, server -> browser app message.
    await page.evaluate(() =>
      (window as unknown as { dc: RTCDataChannel }).dc.send(
        JSON.stringify({ type: 'hello', from: 'chromium' }),
      ),
    );
    await until(() => messages.some((m) => (m as { type?: string }).type === 'hello'), 10_000, 'hello');
    connections[0]!.sendAppMessage({ type: 'greeting' });
    await until(
      async () => (await state()).messages.some((m) => (m as { type?: string }).type === 'greeting'),
      10_000,
      'greeting in the page',
    );

    // Opus from the fake mic.
    await until(() => rtp.count >= 50, 20_000, '50 RTP packets from Chromium');
    expect([...rtp.payloadTypes]).toEqual([111]);

    // Chrome's candidates were queued until the answer and PATCHed (the offer had none); all accepted.
    const { patches } = await state();
    expect(patches.length).toBeGreaterThan(0);
    for (const p of patches) expect(p.status).toBe(200);
    await page.close();
  });

  it('connects through /start + /sessions/:id/api/offer (cached /start body as request data)', async () => {
    const start = await fetch(server.url + '/start', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ transport: 'webrtc', body: { from: 'chromium-session' } }),
    });
    const { sessionId } = (await start.json()) as { sessionId: string };
    const page = await browser.newPage();
    await page.goto(server.url + '/plain-peer.html');
    const path = `/sessions/${sessionId}/api/offer`;
    const { pcId } = await page.evaluate(
      (offerPath) =>
        (window as unknown as { runPeer: (o: { offerPath: string }) => Promise<{ pcId: string }> }).runPeer({
          offerPath,
        }),
      path,
    );
    const entry = connections.find((c) => c.pcId === pcId);
    expect(entry).toBeDefined();
    expect(requestData.get(pcId)).toEqual({ from: 'chromium-session' });
    await page.close();
  });
});
