// The real Pipecat web client (@pipecat-ai/client-js + small-webrtc-transport, the demo page) in headless
// Chromium, through HAProxy (docs/scaling.md, "HAProxy") in front of two server processes running the echo bot
// of `npm run demo`. Both flows the client uses: `connect()` (POST /api/offer, then trickle PATCHes of the
// same URL with the pc_id in the body, routed by HAProxy on the body) and `startBotAndConnect()` (POST /start
// round-robin, then POST + PATCH /sessions/{id}/api/offer, routed by the owner tag in the URL).
//
// The servers know no peers, so a request that reached the wrong one would be 421: every signalling response
// the browser saw must be 200 from the owner named by its pc_id / session id. Each server's own session log
// lines and metrics (read straight from it, not through HAProxy) must list exactly its sessions, and audio
// must flow both ways in every session (the browser's getStats(): the mic sent, the echo received with energy;
// the servers' packet counters).
// Needs the Debian packages haproxy and chromium (scripts/install-system-deps.sh).
import nodeDataChannel from 'node-datachannel';
import type { Browser, Page, Response } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';

import { ownerOfId } from '../../src/server/index.js';
import { chromiumAvailable, launchChromium } from '../../testkit/chromium.js';
import {
  forkRoutedServer,
  haproxyAvailable,
  startHaproxy,
  type RoutedServerProcess,
  type RunningHaproxy,
} from '../../testkit/haproxy.js';
import { until } from '../../testkit/wait.js';
import {
  buildDemoBundle,
  DEMO_STATIC_DIR,
  demoEval,
  gotoDemo,
  type DemoHookView,
} from '../helpers/demo-page.js';

const OWNERS = ['c1', 'c2'];
type Flow = 'offer' | 'start';
/** At least this many sessions (flows alternating), more (up to MAX_SESSIONS) until every server has some. */
const MIN_SESSIONS = 4;
const MAX_SESSIONS = 6;
const available = haproxyAvailable() && chromiumAvailable();
if (!available)
  console.warn('haproxy-chromium.test.ts SKIPPED: needs the haproxy and chromium binaries (Debian packages)');

/** One signalling exchange as the browser saw it. */
interface Exchange {
  method: string;
  path: string;
  status: number;
  owner: string | null;
  via: string | null;
  /** pc_id in the request body (PATCH, re-offer), or in the answer. */
  pcId: string | null;
  /** sessionId of a /start answer. */
  sessionId: string | null;
}

interface Session {
  flow: Flow;
  page: Page;
  exchanges: Exchange[];
  pending: Array<Promise<void>>;
  pcId: string;
}

const servers: RoutedServerProcess[] = [];
let lb: RunningHaproxy | null = null;
let browser: Browser | null = null;

afterAll(async () => {
  await browser?.close();
  lb?.stop();
  await Promise.all(servers.map((s) => s.stop()));
  nodeDataChannel.cleanup();
}, 30_000);

/**
 * Records every /start and .../api/offer exchange of `page`. A POST's answer body is read for its pc_id /
 * sessionId; a PATCH's is not (the client never reads it, and Playwright would wait for it).
 */
function record(page: Page, s: Pick<Session, 'exchanges' | 'pending'>): void {
  const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
  page.on('response', (res: Response) => {
    const req = res.request();
    const path = new URL(req.url()).pathname;
    if (path !== '/start' && !path.endsWith('/api/offer')) return;
    let body: { pc_id?: unknown } = {};
    try {
      body = (req.postDataJSON() ?? {}) as { pc_id?: unknown };
    } catch {
      // not JSON: recorded without a pc_id
    }
    const headers = res.headers();
    const e: Exchange = {
      method: req.method(),
      path,
      status: res.status(),
      owner: headers['x-smallwebrtc-owner'] ?? null,
      via: headers['x-smallwebrtc-via'] ?? null,
      pcId: str(body.pc_id),
      sessionId: null,
    };
    s.exchanges.push(e);
    if (e.method !== 'POST') return;
    s.pending.push(
      res
        .json()
        .then((answer: { pc_id?: unknown; sessionId?: unknown }) => {
          e.pcId = str(answer.pc_id) ?? e.pcId;
          e.sessionId = str(answer.sessionId);
        })
        .catch((err: unknown) => console.error('record:', err)),
    );
  });
}

/** The metric's value in a Prometheus text exposition (0 when absent). */
function metric(text: string, name: string): number {
  const line = text.split('\n').find((l) => l.startsWith(name + ' '));
  return line ? Number(line.slice(name.length + 1)) : 0;
}

describe.skipIf(!available)('Pipecat web client in Chromium through HAProxy', () => {
  it(`${MIN_SESSIONS}+ sessions (/api/offer + trickle PATCH, /start + /sessions/{id}/api/offer) on ${OWNERS.length} servers: every request at its owner, echo both ways`, async () => {
    buildDemoBundle();
    servers.push(
      ...(await Promise.all(OWNERS.map((owner) => forkRoutedServer({ owner, demo: DEMO_STATIC_DIR })))),
    );
    lb = await startHaproxy(servers.map((s) => ({ owner: s.owner, address: new URL(s.url).host })));
    browser = await launchChromium({ extraArgs: ['--autoplay-policy=no-user-gesture-required'] });

    // Every page loads first (its static requests also go round-robin); then sessions connect one after the
    // other, the flows alternating, until every server has some (which server a new session lands on is
    // HAProxy's round-robin, not the test's to choose).
    const pages: Page[] = [];
    for (let i = 0; i < MAX_SESSIONS; i++) {
      const page = await browser.newPage();
      page.on('pageerror', (err) => console.error(`[chromium pageerror] ${err.message}`));
      await gotoDemo(page, `${lb.url}/?raw=1`);
      pages.push(page);
    }
    const sessions: Session[] = [];
    const landed = (s: Session): string | null =>
      s.exchanges.find((e) => e.method === 'POST' && e.path.endsWith('/api/offer'))?.owner ?? null;
    const t0 = Date.now();
    for (const page of pages) {
      if (sessions.length >= MIN_SESSIONS && OWNERS.every((o) => sessions.some((s) => landed(s) === o)))
        break;
      const flow: Flow = sessions.length % 2 === 0 ? 'offer' : 'start';
      const s: Session = { flow, page, exchanges: [], pending: [], pcId: '' };
      record(page, s);
      sessions.push(s);
      if (s.flow === 'offer') await demoEval(s.page, (d) => d.connect('/api/offer'));
      else
        await demoEval(s.page, (d) =>
          (
            d as unknown as { client: { startBotAndConnect(p: object): Promise<unknown> } }
          ).client.startBotAndConnect({ endpoint: '/start', requestData: { transport: 'webrtc' } }),
        );
      expect(await demoEval(s.page, (d) => d.botReady)).toBe(true);
    }
    console.log(`haproxy+chromium: ${sessions.length} sessions bot-ready in ${Date.now() - t0} ms`);

    // Audio both ways in every session: the mic goes out, the echo comes back with energy.
    let seen: unknown[] = [];
    await until(
      async () => {
        seen = await Promise.all(sessions.map((s) => demoEval(s.page, (d) => d.audioStats())));
        return seen.every((x) => {
          const st = x as Awaited<ReturnType<DemoHookView['audioStats']>>;
          return (
            st?.inbound &&
            st.outbound &&
            st.outbound.packetsSent >= 25 &&
            st.inbound.packetsReceived >= 100 &&
            st.inbound.totalAudioEnergy > 0
          );
        });
      },
      60_000,
      () => `audio both ways in every session (${JSON.stringify(seen)})`,
    );
    // Trickle PATCHes are sent as candidates are gathered: wait for each session's to be answered.
    await until(
      () => sessions.every((s) => s.exchanges.some((e) => e.method === 'PATCH')),
      10_000,
      () => `a trickle PATCH in every session (${JSON.stringify(sessions.map((s) => s.exchanges))})`,
    );
    for (const s of sessions) await Promise.all(s.pending);

    // Every exchange answered 200 by the session's owner, straight (no server-side forward).
    const perOwner = new Map<string, string[]>(OWNERS.map((o) => [o, []]));
    let requests = 0;
    for (const s of sessions) {
      const answer = s.exchanges.find((e) => e.method === 'POST' && e.path.endsWith('/api/offer'));
      expect(answer?.pcId, JSON.stringify(s.exchanges)).toBeTruthy();
      s.pcId = answer!.pcId!;
      const owner = ownerOfId(s.pcId);
      expect(OWNERS).toContain(owner);
      perOwner.get(owner!)!.push(`${s.flow}`);
      const start = s.exchanges.find((e) => e.path === '/start');
      if (s.flow === 'start') {
        expect(ownerOfId(start!.sessionId!)).toBe(owner);
        expect(answer!.path).toBe(`/sessions/${start!.sessionId}/api/offer`);
      } else {
        expect(start).toBeUndefined();
        expect(answer!.path).toBe('/api/offer');
      }
      for (const e of s.exchanges) {
        expect(e.status, JSON.stringify(e)).toBe(200);
        expect(e.owner, JSON.stringify(e)).toBe(owner);
        expect(e.via).toBeNull();
        if (e.method === 'PATCH') {
          expect(e.path).toBe(answer!.path);
          expect(e.pcId).toBe(s.pcId);
        }
        requests++;
      }
    }
    console.log(
      `haproxy+chromium: ${requests} signalling requests of ${sessions.length} Pipecat web client sessions, ` +
        `all answered by their owner; flows per server: ${JSON.stringify(Object.fromEntries(perOwner))}`,
    );
    // Every server got sessions.
    for (const flows of perOwner.values()) expect(flows.length).toBeGreaterThan(0);

    // Each server's own view: its session_start lines and its metrics name exactly its sessions.
    for (const server of servers) {
      const mine = sessions.filter((s) => ownerOfId(s.pcId) === server.owner);
      const starts = server.logs.filter((l) => l.event === 'session_start').map((l) => l.pcId);
      expect(new Set(starts)).toEqual(new Set(mine.map((s) => s.pcId)));
      const text = await (await fetch(`${server.url}/metrics`)).text();
      expect(metric(text, 'smallwebrtc_sessions_active')).toBe(mine.length);
      expect(metric(text, 'smallwebrtc_sessions_started_total')).toBe(mine.length);
      const offers = mine
        .flatMap((s) => s.exchanges)
        .filter((e) => e.method === 'POST' && e.path !== '/start');
      expect(metric(text, 'smallwebrtc_offers_total{result="answered"}')).toBe(offers.length);
      // The mic is Chromium's fake beep with Opus DTX (usedtx=1 in our answer): few packets in the pauses.
      expect(metric(text, 'smallwebrtc_audio_packets_received_total')).toBeGreaterThan(10 * mine.length);
      expect(metric(text, 'smallwebrtc_audio_packets_sent_total')).toBeGreaterThan(100 * mine.length);
    }

    // Hang up: each server logs the end of exactly its sessions, with media both ways.
    for (const s of sessions) await demoEval(s.page, (d) => d.disconnect());
    await until(
      () =>
        servers.reduce((n, sv) => n + sv.logs.filter((l) => l.event === 'session_end').length, 0) >=
        sessions.length,
      15_000,
      'session_end lines',
    );
    for (const server of servers) {
      const ends = server.logs.filter((l) => l.event === 'session_end');
      const mine = sessions.filter((s) => ownerOfId(s.pcId) === server.owner).map((s) => s.pcId);
      expect(new Set(ends.map((l) => l.pcId))).toEqual(new Set(mine));
      for (const l of ends) {
        expect(l['packetsIn'], JSON.stringify(l)).toBeGreaterThan(10);
        expect(l['packetsOut'], JSON.stringify(l)).toBeGreaterThan(100);
      }
    }
  }, 300_000);
});
