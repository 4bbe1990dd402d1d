// Smoke test of the demo page (src/server/static) in headless Chromium, without the real server: a tiny
// node:http static server serves index.html + the esbuild bundle; Chromium's fake microphone plays a WAV of
// speech made here with espeak-ng + sox. Checks: the bundle loads and constructs the real PipecatClient
// (client-js 1.13.1) with SmallWebRTCTransport; getUserMedia yields a live track whose level follows the WAV
// (and drops to zero with enableMic(false)); connect() posts a real SDP offer (audio, video, data channel
// "chat") to /api/offer; the page makes no request outside its own origin. The echo-bot end-to-end test
// lives with the transport.
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumAvailable, openChromiumPage, type ChromiumPage } from '../../testkit/chromium.js';
import { DEMO_STATIC_DIR, buildDemoBundle, dbfs, demoEval, gotoDemo } from '../helpers/demo-page.js';
import { makeSpeechWav, type SpeechWav } from '../helpers/speech.js';
import { until } from '../../testkit/wait.js';

interface Offer {
  sdp: string;
  type: string;
  pc_id?: string | null;
  restart_pc?: boolean;
}

describe.skipIf(!chromiumAvailable())('demo page (real @pipecat-ai/client-js bundle) in Chromium', () => {
  let server: Server;
  let origin = '';
  let wav: SpeechWav;
  let chrome: ChromiumPage;
  const offers: Offer[] = [];
  const foreignRequests: string[] = [];

  beforeAll(async () => {
    buildDemoBundle(); // the bundle is generated (gitignored): test the current source
    wav = makeSpeechWav({
      text: 'Testing the demo page microphone. One, two, three, four, five.',
      rate: 48000,
      padSilenceSecs: [0.2, 0.5],
    });
    server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      if (req.method === 'POST' && url.pathname === '/api/offer') {
        let body = '';
        req.on('data', (c: Buffer) => (body += c.toString()));
        req.on('end', () => {
          offers.push(JSON.parse(body) as Offer);
          // No bot behind this server: refuse like a server with no capacity would (4xx is fatal to the client).
          res.writeHead(400, { 'content-type': 'application/json' }).end('{"detail":"no bot in this test"}');
        });
        return;
      }
      if (url.pathname === '/favicon.ico') {
        res.writeHead(204).end();
        return;
      }
      const name = url.pathname === '/' ? 'index.html' : url.pathname.slice(1);
      if (!['index.html', 'demo.bundle.js'].includes(name)) {
        res.writeHead(404).end();
        return;
      }
      readFile(join(DEMO_STATIC_DIR, name)).then(
        (buf) => {
          const type = name.endsWith('.html') ? 'text/html' : 'text/javascript';
          res.writeHead(200, { 'content-type': `${type}; charset=utf-8` }).end(buf);
        },
        () => res.writeHead(500).end(),
      );
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    chrome = await openChromiumPage({ fakeAudioFile: wav.path });
    chrome.page.on('request', (r) => {
      if (!r.url().startsWith(origin)) foreignRequests.push(r.url());
    });
  });

  afterAll(async () => {
    await chrome?.close();
    await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
    wav?.cleanup();
  });

  it('loads the bundle and constructs PipecatClient + SmallWebRTCTransport', async () => {
    const { page } = chrome;
    await gotoDemo(page, `${origin}/?raw=1`);
    const info = await demoEval(page, (d) => ({
      version: d.clientVersion,
      state: d.state,
      transport: d.transportService,
      mediaManager: d.mediaManager,
      pageReady: d.counters.PageReady ?? 0,
      title: document.title,
      stateText: document.getElementById('state')?.textContent,
    }));
    console.log('[demo-page] loaded:', info);
    expect(info.version).toBe('1.13.1');
    expect(info.transport).toBe('small-webrtc-transport');
    expect(info.mediaManager).toBe('local');
    expect(info.pageReady).toBe(1);
    expect(info.stateText).toBe(info.state);
    expect(info.title).toMatch(/small-webrtc/);
  });

  it('getUserMedia gives a live mic track whose level follows the speech WAV; enableMic(false) silences it', async () => {
    const { page } = chrome;
    await demoEval(page, (d) => d.initDevices());
    // 100 ms level samples: wait for 2 s of them (the WAV loops, so speech keeps coming).
    await until(
      async () => (await demoEval(page, (d) => d.localAudioRms.length)) >= 20,
      15_000,
      'mic levels',
    );
    const on = await demoEval(page, (d) => ({
      rms: d.localAudioRms.slice(),
      readyState: d.localTrack?.readyState,
      enabled: d.localTrack?.enabled,
      label: d.localTrack?.label,
    }));
    const maxOn = Math.max(...on.rms);
    console.log(`[demo-page] mic track ${on.label} ${on.readyState}; RMS dBFS per 100 ms: ${dbfs(on.rms)}`);
    expect(on.readyState).toBe('live');
    expect(on.enabled).toBe(true);
    // The WAV is speech normalised to -3 dBFS peak: its loud parts are far above -40 dBFS...
    expect(maxOn).toBeGreaterThan(0.01);
    // ...and it is speech, not a constant tone: the level varies by more than 10 dB within 2 s.
    expect(Math.min(...on.rms.filter((x) => x > 0))).toBeLessThan(maxOn / 3);

    await demoEval(page, (d) => d.enableMic(false));
    // Skip 3 samples: the analyser's 2048-sample window may still hold pre-mute audio.
    const mark = (await demoEval(page, (d) => d.localAudioRms.length)) + 3;
    await until(
      async () => (await demoEval(page, (d) => d.localAudioRms.length)) >= mark + 10,
      10_000,
      'levels',
    );
    const off = await demoEval(page, (d, m) => d.localAudioRms.slice(m), mark);
    expect(Math.max(...off)).toBe(0);
    await demoEval(page, (d) => d.enableMic(true));
  });

  it('connect() posts a real offer (audio sendrecv with the mic, video, data channel) to /api/offer', async () => {
    const { page } = chrome;
    const result = await demoEval(page, async (d) => {
      try {
        await d.connect('/api/offer');
        return 'connected';
      } catch (e) {
        return `rejected: ${e instanceof Error ? e.message : String(e)}`;
      }
    });
    const state = await demoEval(page, (d) => d.state);
    console.log(`[demo-page] connect -> ${result}; state ${state}; offers ${offers.length}`);
    expect(result).toMatch(/^rejected/);
    expect(offers.length).toBeGreaterThanOrEqual(1);
    const offer = offers[0];
    expect(offer?.type).toBe('offer');
    const sdp = offer?.sdp ?? '';
    const sections = sdp.split(/\r?\n(?=m=)/).slice(1);
    expect(sections.map((s) => s.slice(0, 7))).toEqual(['m=audio', 'm=video', 'm=appli']);
    expect(sections[0]).toMatch(/a=sendrecv/);
    expect(sections[0]).toMatch(/a=msid:\S+ \S+/); // the mic track is attached, not an empty transceiver
    expect(sections[0]).toMatch(/a=rtpmap:\d+ opus\/48000\/2/);
    expect(sdp).not.toMatch(/typ srflx|typ relay/); // iceServers: [] -> host candidates only
    expect(await demoEval(page, (d) => d.errors.length)).toBeGreaterThan(0);
  });

  it('made no request outside its own origin (no CDN, no STUN lookups over HTTP, no telemetry)', () => {
    expect(foreignRequests).toEqual([]);
  });
});
