// Our RTCP receiver reports drive the browser's Opus FEC. The demo page (real Pipecat web client) in headless
// Chromium talks to the echo bot of `npm run demo` through the userspace impairment relay
// (testkit/impair-relay.ts: the kernel here has no netem), which drops 10% of what Chromium sends. The page's
// signalling is rewritten in flight (Playwright's route) so that each side's UDP candidates point at the relay.
//
// First with our receiver reports off (the process-wide switch of src/connection/receiver-reports.ts), then on,
// with the same loss: with them on, Chromium's getStats() shows the loss we report (remote-inbound-rtp of its
// outbound audio: packetsLost, fractionLost) and its Opus encoder adds in-band FEC, which our jitter buffer
// uses (fecRecovered); with them off it never learns the loss and sends none.
import nodeDataChannel from 'node-datachannel';
import { afterAll, describe, expect, it } from 'vitest';

import { runEchoBot } from '../../examples/echo-bot.js';
import { setReceiverReportsEnabled } from '../../src/connection/receiver-reports.js';
import type { SmallWebRTCTransport } from '../../src/index.js';
import { startSmallWebRTCServer, type SmallWebRTCServer } from '../../src/server/index.js';
import { chromiumAvailable, openChromiumPage, type ChromiumPage } from '../../testkit/chromium.js';
import {
  candidateAddress,
  ImpairRelay,
  rewriteCandidateLine,
  rewriteCandidates,
} from '../../testkit/impair-relay.js';
import { sleep, until } from '../../testkit/wait.js';
import { buildDemoBundle, DEMO_STATIC_DIR, demoEval, gotoDemo } from '../helpers/demo-page.js';
import { makeSpeechWav, type SpeechWav } from '../helpers/speech.js';

const LOSS = 0.1;
const PHASE_MS = 10_000;

let server: SmallWebRTCServer | null = null;
let chrome: ChromiumPage | null = null;
let relay: ImpairRelay | null = null;
let wav: SpeechWav | null = null;

afterAll(async () => {
  setReceiverReportsEnabled(true);
  await chrome?.close();
  await server?.close();
  relay?.close();
  wav?.cleanup();
  nodeDataChannel.cleanup();
}, 30_000);

describe.skipIf(!chromiumAvailable())('Chromium and our receiver reports under 10% loss', () => {
  it('without them Chromium sends no FEC; with them it sees the loss in getStats() and our jitter buffer recovers packets from its FEC', async () => {
    buildDemoBundle();
    wav = makeSpeechWav({
      text: 'The quick brown fox jumps over the lazy dog, and keeps on talking about the weather all day long.',
      rate: 48000,
    });
    relay = await ImpairRelay.start({ seed: 5 });
    const r = relay;
    const transports: SmallWebRTCTransport[] = [];
    setReceiverReportsEnabled(false);
    server = await startSmallWebRTCServer({
      port: 0,
      staticDir: DEMO_STATIC_DIR,
      connectionOptions: { bindAddress: '127.0.0.1' },
      onNewConnection: (connection) => {
        runEchoBot(connection, { statsIntervalMs: 0, onTransport: (t) => transports.push(t) }).catch(
          (err: unknown) => console.error('echo bot:', err),
        );
      },
    });
    chrome = await openChromiumPage({ fakeAudioFile: wav.path });
    const page = chrome.page;
    // Each side's UDP candidates point at the relay: Chromium's (offer, PATCH) at its server side, ours
    // (answer) at its client side.
    await page.route('**/api/offer', async (route) => {
      try {
        const req = route.request();
        const body = req.postDataJSON() as Record<string, unknown>;
        if (req.method() === 'PATCH') {
          const candidates = (body['candidates'] as Array<{ candidate: string }>).map((c) => ({
            ...c,
            candidate: rewriteCandidateLine(c.candidate, r.serverSide),
          }));
          await route.continue({ postData: JSON.stringify({ ...body, candidates }) });
          return;
        }
        const sdp = rewriteCandidates(String(body['sdp']), r.serverSide);
        const res = await route.fetch({ postData: JSON.stringify({ ...body, sdp }) });
        const answer = (await res.json()) as { sdp: string };
        const at = candidateAddress(answer.sdp);
        if (at) r.setServer(at);
        await route.fulfill({
          response: res,
          json: { ...answer, sdp: rewriteCandidates(answer.sdp, r.clientSide) },
        });
      } catch (err) {
        console.error('route:', err);
        await route.abort().catch(() => undefined);
      }
    });
    await gotoDemo(page, `${server.url}/?raw=1`);
    await demoEval(page, (d) => d.connect('/api/offer'));
    await until(() => transports.length === 1, 10_000, 'the bot transport');
    const input = (): NonNullable<ReturnType<SmallWebRTCTransport['getStats']>['input']> =>
      transports[0]!.getStats().input!;
    await until(
      () => (transports[0]!.getStats().input?.received ?? 0) > 100,
      20_000,
      'mic audio through the relay',
    );

    const phase = async (): Promise<{ lost: number; fec: number; received: number }> => {
      const a = input();
      await sleep(PHASE_MS);
      const b = input();
      return {
        lost: b.lost - a.lost,
        fec: b.fecRecovered - a.fecRecovered,
        received: b.received - a.received,
      };
    };
    r.impair('toServer', { loss: LOSS });
    const off = await phase();
    const remoteOff = (await demoEval(page, (d) => d.audioStats()))!.remoteInbound;

    setReceiverReportsEnabled(true);
    await sleep(3000); // Chromium smooths the reported loss before it turns FEC up
    const on = await phase();
    const stats = (await demoEval(page, (d) => d.audioStats()))!;
    console.log(
      `chromium under ${LOSS * 100}% loss, ${PHASE_MS / 1000} s each: receiver reports off: ` +
        `${JSON.stringify(off)}, remote-inbound-rtp ${JSON.stringify(remoteOff)}; on: ${JSON.stringify(on)}, ` +
        `remote-inbound-rtp ${JSON.stringify(stats.remoteInbound)}`,
    );
    expect(off.lost).toBeGreaterThan(0);
    expect(on.lost).toBeGreaterThan(0);
    // Off: Chromium has no report about its audio, and codes no FEC.
    expect(remoteOff).toBeNull();
    expect(off.fec).toBe(0);
    // On: it sees the loss we report, and its FEC recovers packets here.
    const remote = stats.remoteInbound!;
    expect(remote).not.toBeNull();
    expect(remote.packetsLost).toBeGreaterThan(0);
    expect(on.fec).toBeGreaterThan(0);
    await demoEval(page, (d) => d.disconnect());
  }, 120_000);
});
