// The demo page (real @pipecat-ai/client-js + small-webrtc-transport bundle) against our own signalling
// server and SmallWebRTCConnection, in headless Chromium with a fake microphone playing espeak-ng speech.
// No pipeline yet: the test plays the bot itself. It answers RTVI client-ready with bot-ready, echoes the
// page's Opus RTP back unchanged (new SSRC/sequence numbers) so the page hears its own voice, sends stats
// and user-speaking RTVI messages, and watches trackStatus and the close. The echo-bot test through the
// real transport/pipeline comes with them.
import { describe, expect, it } from 'vitest';

import type { OutboundTrack, RtpSink, SmallWebRTCConnection } from '../../src/connection/index.js';
import { chromiumAvailable } from '../../testkit/chromium.js';
import { dbfs, replyBotReady, useDemo } from '../helpers/demo-page.js';
import { parseRtpOrNull, rtpTo } from '../../testkit/rtp.js';
import { until } from '../../testkit/wait.js';

/** Sends back every Opus packet it is given, as our own stream (our SSRC, PT, sequence and mid). */
class RtpEchoTrack implements OutboundTrack {
  readonly kind = 'audio' as const;
  sent = 0;
  #sink: RtpSink | null = null;
  #seq = 1000;
  #tsBase: number | null = null;

  bind(sink: RtpSink): void {
    this.#sink = sink;
  }

  unbind(): void {
    this.#sink = null;
  }

  echo(packet: Buffer): void {
    const sink = this.#sink;
    const rtp = parseRtpOrNull(packet);
    if (!sink || !rtp) return;
    this.#tsBase ??= rtp.timestamp;
    const out = rtpTo(sink, {
      sequenceNumber: this.#seq++,
      timestamp: rtp.timestamp - this.#tsBase + 12345,
      payload: rtp.payload,
      marker: rtp.marker,
    });
    if (sink.send(out)) this.sent++;
  }
}

describe.skipIf(!chromiumAvailable())('demo page <-> our server and SmallWebRTCConnection (Chromium)', () => {
  const connections: SmallWebRTCConnection[] = [];
  const echo = new RtpEchoTrack();
  const appMessages: Array<Record<string, unknown>> = [];
  const micEnabled: boolean[] = [];
  let received = 0;
  let closed = 0;

  const rig = useDemo({
    speech: {
      text: 'Hello bot. Please repeat what I say. One, two, three.',
      rate: 48000,
      padSilenceSecs: [0.3, 0.7],
    },
    onNewConnection: (connection) => {
      connections.push(connection);
      replyBotReady(connection, { library: 'small-webrtc-test' }, (msg) => appMessages.push(msg));
      connection.on('closed', () => closed++);
      connection.replaceAudioTrack(echo);
      const input = connection.audioInputTrack();
      input?.onRtp((packet) => {
        received++;
        echo.echo(packet);
      });
      input?.onEnabledChanged((e) => micEnabled.push(e));
      void connection.connect();
    },
  });

  it('connects with the real client, reaches bot-ready through our RTVI reply', async () => {
    const { state, botReady } = await rig.connect();
    expect({ state, botReady }).toEqual({ state: 'ready', botReady: true });
    expect(connections).toHaveLength(1);
    const ready = appMessages.find((m) => m.type === 'client-ready');
    expect(ready?.label).toBe('rtvi-ai');
    expect((ready?.data as { version?: string } | undefined)?.version).toBe('2.1.0');
  });

  it("hears its own (echoed) speech: the bot track's level follows the mic", async () => {
    await until(() => received > 100 && echo.sent > 100, 15_000, 'mic RTP at the server and echoed');
    await until(
      async () => (await rig.demo((d) => d.remoteAudioRms.filter((x) => x > 0.01).length)) >= 5,
      15_000,
      'echoed audio audible in the page',
    );
    const { remote, local } = await rig.demo((d) => ({
      remote: d.remoteAudioRms.slice(),
      local: d.localAudioRms.slice(),
    }));
    console.log(
      `[demo-server] RTP in ${received}, echoed ${echo.sent}\n  mic dBFS: ${dbfs(local.slice(-30))}\n  bot dBFS: ${dbfs(remote.slice(-30))}`,
    );
    expect(Math.max(...remote)).toBeGreaterThan(0.01);
    const rtc = await rig.demo((d) => d.audioStats());
    console.log('[demo-server] page getStats():', JSON.stringify(rtc));
    expect(rtc?.inbound?.codec).toBe('audio/opus');
    expect(rtc?.inbound?.packetsReceived).toBeGreaterThan(50);
    expect(rtc?.inbound?.totalAudioEnergy).toBeGreaterThan(0);
    expect(rtc?.outbound?.packetsSent).toBeGreaterThan(50);
  });

  it('renders stats server-messages and the user-speaking RTVI events', async () => {
    const c = connections[0]!;
    const stats = {
      type: 'stats',
      rttMs: 3.5,
      jitterBufferMs: 40,
      vad: { state: 'SPEAKING', confidence: 0.93 },
    };
    c.sendAppMessage({ label: 'rtvi-ai', type: 'server-message', data: stats });
    c.sendAppMessage({ label: 'rtvi-ai', type: 'user-started-speaking' });
    await until(
      async () => (await rig.demo((d) => d.lastStats !== null && d.userSpeaking)) === true,
      10_000,
      'stats + user-started-speaking in the page',
    );
    expect(await rig.demo((d) => d.lastStats)).toEqual(stats);
    const table = await rig.chrome.page.locator('#stats tbody').innerText();
    expect(table).toMatch(/vad\.confidence\s+0\.93/);
    expect(table).toMatch(/jitterBufferMs\s+40/);
    expect(await rig.chrome.page.locator('#user-speaking').innerText()).toBe('speaking');
    // The page's own getStats() table refreshes every second while connected.
    await until(
      async () =>
        /inbound\.packetsReceived\s+\d+/.test(await rig.chrome.page.locator('#rtc-stats tbody').innerText()),
      10_000,
      'browser WebRTC stats table',
    );
    c.sendAppMessage({ label: 'rtvi-ai', type: 'user-stopped-speaking' });
    await until(async () => !(await rig.demo((d) => d.userSpeaking)), 10_000, 'user-stopped-speaking');
  });

  it('enableMic(false) reaches the server as trackStatus; disconnect() closes the server connection', async () => {
    await rig.demo((d) => d.enableMic(false));
    await until(() => micEnabled.includes(false), 10_000, 'trackStatus enabled=false at the server');
    expect(connections[0]!.audioInputTrack()?.enabled).toBe(false);
    await rig.demo((d) => d.enableMic(true));
    await until(() => micEnabled.at(-1) === true, 10_000, 'trackStatus enabled=true at the server');
    await rig.demo((d) => d.disconnect());
    await until(() => closed === 1, 20_000, 'server connection closed');
    expect(await rig.demo((d) => ({ state: d.state, botReady: d.botReady, errors: d.errors }))).toEqual({
      state: 'disconnected',
      botReady: false,
      errors: [],
    });
  });
});
