// Prometheus metrics and session log lines with real peers: a node-datachannel client (testkit) talks to an
// echo bot behind the HTTP server; /metrics is scraped over HTTP and parsed as the text exposition format.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import nodeDataChannel from 'node-datachannel';
import { afterAll, afterEach, describe, expect, it } from 'vitest';

import {
  OutputImageRawFrame,
  Pipeline,
  PipelineTask,
  SmallWebRTCTransport,
  startSmallWebRTCServer,
  TransportParams,
  type SmallWebRTCServer,
  type SmallWebRTCServerOptions,
} from '../../src/index.js';
import { buildRtcpPli, parseRtcp, rtpSsrc } from '../../src/media/rtp.js';
import { Vp8Encoder } from '../../src/media/vp8-codec.js';
import { Vp8Packetizer } from '../../src/media/vp8-packetizer.js';
import { PipecatLikeClient } from '../../testkit/pipecat-like-client.js';
import { testImage } from '../../testkit/video-image.js';
import { sleep, until } from '../../testkit/wait.js';
import { Echo, echoTransport } from '../helpers/echo.js';

interface LogLine {
  level: string;
  message: string;
  details: unknown[];
}

const servers: SmallWebRTCServer[] = [];
const clients: PipecatLikeClient[] = [];

async function echoServer(options: SmallWebRTCServerOptions = {}): Promise<{
  server: SmallWebRTCServer;
  lines: LogLine[];
}> {
  const lines: LogLine[] = [];
  const logger = {
    debug() {},
    info: (message: string, ...details: unknown[]) => lines.push({ level: 'info', message, details }),
    warn: (message: string, ...details: unknown[]) => lines.push({ level: 'warn', message, details }),
    error: (message: string, ...details: unknown[]) => lines.push({ level: 'error', message, details }),
  };
  const server = await startSmallWebRTCServer({
    port: 0,
    logger,
    load: false,
    connectionOptions: { bindAddress: '127.0.0.1' },
    onNewConnection: (conn) => {
      const transport = echoTransport(conn);
      const task = new PipelineTask(new Pipeline([transport.input(), new Echo(), transport.output()]));
      transport.eventHandler('on_client_closed', async () => {
        await task.cancel();
      });
      void task.run().catch(() => {});
    },
    ...options,
  });
  servers.push(server);
  return { server, lines };
}

/** One sample of the text exposition format. */
interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/**
 * Parses the Prometheus text format (version 0.0.4) strictly enough to fail on a malformed line: every line is
 * a `# HELP`, a `# TYPE` with a known type, or `name{label="value",...} number`; every sample's family has a
 * TYPE declared before it.
 */
function parseExposition(text: string): { samples: Sample[]; types: Map<string, string> } {
  const types = new Map<string, string>();
  const samples: Sample[] = [];
  // Values as Prometheus parses them (Go's ParseFloat: NaN and Inf in any case; prom-client writes `Nan`).
  const sampleRe = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? ([+-]?(?:[0-9.e+-]+|nan|inf))$/i;
  const labelRe = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(?:,|$)/gy;
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const help = /^# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) .*$/.exec(line);
    if (help) continue;
    const type = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)$/.exec(line);
    if (type) {
      types.set(type[1]!, type[2]!);
      continue;
    }
    const m = sampleRe.exec(line);
    if (!m) throw new Error(`not a valid exposition line: ${line}`);
    const name = m[1]!;
    const family = [...types.keys()].find(
      (f) =>
        name === f ||
        ((name.endsWith('_bucket') || name.endsWith('_sum') || name.endsWith('_count')) &&
          name.startsWith(`${f}_`)),
    );
    if (family === undefined) throw new Error(`sample before its TYPE: ${line}`);
    const labels: Record<string, string> = {};
    if (m[3]) {
      labelRe.lastIndex = 0;
      let consumed = 0;
      for (let l = labelRe.exec(m[3]); l; l = labelRe.exec(m[3])) {
        labels[l[1]!] = l[2]!;
        consumed = labelRe.lastIndex;
      }
      if (consumed !== m[3].length) throw new Error(`bad labels: ${line}`);
    }
    const raw = m[4]!.toLowerCase();
    const value = raw.endsWith('nan')
      ? NaN
      : raw.endsWith('inf')
        ? raw.startsWith('-')
          ? -Infinity
          : Infinity
        : Number(raw);
    if (Number.isNaN(value) && !raw.endsWith('nan')) throw new Error(`bad value: ${line}`);
    samples.push({ name, labels, value });
  }
  return { samples, types };
}

async function scrape(url: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${url}/metrics`, { headers });
}

async function metricsOf(server: SmallWebRTCServer): Promise<ReturnType<typeof parseExposition>> {
  const res = await scrape(server.url);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return parseExposition(await res.text());
}

/** Scrapes until `smallwebrtc_sessions_active` is 0 (the session closed by the test has ended); that scrape. */
async function metricsOnceNoSessionIsActive(
  server: SmallWebRTCServer,
): Promise<ReturnType<typeof parseExposition>> {
  let m = await metricsOf(server);
  await until(
    async () => {
      m = await metricsOf(server);
      return value(m.samples, 'smallwebrtc_sessions_active') === 0;
    },
    15_000,
    'the session to end',
  );
  return m;
}

function value(samples: Sample[], name: string, labels: Record<string, string> = {}): number | undefined {
  return samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    ?.value;
}

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  for (const s of servers.splice(0)) await s.close();
});

afterAll(() => {
  nodeDataChannel.cleanup();
});

describe('/metrics', () => {
  it('reports a real session, its packets and its end; the text format parses; session log lines', async () => {
    const { server, lines } = await echoServer();
    const c = await PipecatLikeClient.create({ baseUrl: server.url, video: false, screen: false });
    clients.push(c);
    expect((await c.connect()).status).toBe(200);
    await c.waitConnected();
    c.startRtp();
    // Packets counted natively are visible at the next scrape.
    let m = await metricsOf(server);
    await until(
      async () => {
        m = await metricsOf(server);
        return (
          (value(m.samples, 'smallwebrtc_audio_packets_received_total') ?? 0) >= 25 &&
          (value(m.samples, 'smallwebrtc_audio_packets_sent_total') ?? 0) >= 10
        );
      },
      15_000,
      '25 packets in and 10 out on /metrics',
    );
    expect(m.types.get('smallwebrtc_sessions_active')).toBe('gauge');
    expect(m.types.get('smallwebrtc_offers_total')).toBe('counter');
    expect(m.types.get('smallwebrtc_session_setup_seconds')).toBe('histogram');
    expect(value(m.samples, 'smallwebrtc_sessions_active')).toBe(1);
    expect(value(m.samples, 'smallwebrtc_sessions_started_total')).toBe(1);
    expect(value(m.samples, 'smallwebrtc_offers_total', { result: 'answered' })).toBe(1);
    expect(value(m.samples, 'smallwebrtc_session_setup_seconds_count')).toBe(1);
    expect(value(m.samples, 'smallwebrtc_session_setup_seconds_sum')).toBeGreaterThan(0);
    expect(value(m.samples, 'smallwebrtc_audio_jitter_buffer_delay_seconds')).toBeGreaterThan(0);
    expect(value(m.samples, 'smallwebrtc_audio_packets_lost_total')).toBe(0);
    expect(value(m.samples, 'smallwebrtc_ready')).toBe(1);
    expect(value(m.samples, 'smallwebrtc_draining')).toBe(0);
    // Process figures (prom-client default metrics).
    expect(value(m.samples, 'process_cpu_seconds_total')).toBeGreaterThan(0);
    expect(m.types.get('nodejs_eventloop_lag_p99_seconds')).toBe('gauge');
    const received = value(m.samples, 'smallwebrtc_audio_packets_received_total')!;

    // A malformed offer is counted by its result.
    const bad = await fetch(`${server.url}/api/offer`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ type: 'offer' }),
    });
    expect(bad.status).toBe(400);

    const pcId = c.pcId;
    c.close();
    m = await metricsOnceNoSessionIsActive(server);
    expect(value(m.samples, 'smallwebrtc_offers_total', { result: 'rejected' })).toBe(1);
    expect(value(m.samples, 'smallwebrtc_sessions_ended_total', { reason: 'ended' })).toBe(1);
    // An ended session's packets stay counted (a counter never goes back).
    expect(value(m.samples, 'smallwebrtc_audio_packets_received_total')).toBeGreaterThanOrEqual(received);

    const start = lines.find((l) => l.message.startsWith('session start'));
    const end = lines.find((l) => l.message.startsWith('session end'));
    expect(start?.message).toContain(`pc_id=${pcId}`);
    expect(start?.details[0]).toMatchObject({ event: 'session_start', pcId });
    expect(end?.message).toMatch(
      new RegExp(`^session end pc_id=${pcId} reason=ended duration_s=[0-9.]+ setup_ms=\\d+ packets_in=\\d+ `),
    );
    const d = end?.details[0] as { packetsIn: number; packetsOut: number; lossPct: number; reason: string };
    expect(d.reason).toBe('ended');
    expect(d.packetsIn).toBeGreaterThanOrEqual(received);
    expect(d.packetsOut).toBeGreaterThan(0);
    expect(d.lossPct).toBe(0);
  }, 60_000);

  it('video: frames in and out, decode/encode errors and keyframe requests both ways', async () => {
    const { server, lines } = await echoServer({
      onNewConnection: (conn) => {
        const transport = new SmallWebRTCTransport({
          webrtcConnection: conn,
          params: new TransportParams({
            videoInEnabled: true,
            videoOutEnabled: true,
            videoOutWidth: 160,
            videoOutHeight: 120,
            videoOutFramerate: 15,
          }),
        });
        const task = new PipelineTask(new Pipeline([transport.input(), transport.output()]));
        transport.eventHandler('on_client_connected', async () => {
          // Not live: the picture goes out at the frame rate.
          const img = testImage(160, 120, 1);
          await transport.sendImage(
            new OutputImageRawFrame({ image: img.data, size: [160, 120], format: 'RGB' }),
          );
        });
        transport.eventHandler('on_client_closed', async () => {
          await task.cancel();
        });
        void task.run().catch(() => {});
      },
    });
    const c = await PipecatLikeClient.create({ baseUrl: server.url, screen: false });
    clients.push(c);
    expect((await c.connect()).status).toBe(200);
    await c.waitConnected();
    // The server's video: its SSRC (for our PLI about it).
    let botVideoSsrc: number | null = null;
    c.onRtp('video', (b) => (botVideoSsrc ??= rtpSsrc(b)));
    let plisFromServer = 0;
    c.onRtcp('video', (b) => {
      for (const p of parseRtcp(b)) if (p.kind === 'pli' && p.mediaSsrc === c.ssrcs.video) plisFromServer++;
    });
    await until(() => c.tracks.video?.isOpen() === true, 10_000, 'camera track open');
    // The camera: VP8 at ~30 fps whose first (key)frame is never sent, so the server must ask for one.
    const enc = new Vp8Encoder({ width: 160, height: 120, bitrate: 300_000 });
    const pk = new Vp8Packetizer({ ssrc: c.ssrcs.video, payloadType: 96, initialSequence: 100 });
    let answered = 0;
    try {
      for (let i = 0; i < 60; i++) {
        const keyframe = plisFromServer > answered;
        answered = plisFromServer;
        const frame = enc.encode(testImage(160, 120, i), keyframe)!;
        if (i > 0)
          for (const p of pk.packetize(frame.data, (i * 3000) >>> 0))
            c.tracks.video!.sendMessageBinary(Buffer.from(p));
        await sleep(33);
      }
    } finally {
      enc.close();
      pk.close();
    }
    await until(() => botVideoSsrc !== null, 10_000, 'the bot video');
    const pli = buildRtcpPli({ senderSsrc: c.ssrcs.video, mediaSsrc: botVideoSsrc! });
    c.tracks.video!.sendMessageBinary(Buffer.from(pli));
    let m = await metricsOf(server);
    await until(
      async () => {
        m = await metricsOf(server);
        return (value(m.samples, 'smallwebrtc_video_keyframe_requests_received_total') ?? 0) >= 1;
      },
      10_000,
      'our PLI counted',
    );
    const v = (name: string): number => value(m.samples, `smallwebrtc_video_${name}_total`) ?? NaN;
    console.log(
      `video metrics: frames in ${v('frames_received')} out ${v('frames_sent')}, keyframe requests sent ` +
        `${v('keyframe_requests_sent')} received ${v('keyframe_requests_received')}, decode errors ` +
        `${v('decode_errors')}, encode errors ${v('encode_errors')}; PLIs the client saw: ${plisFromServer}`,
    );
    expect(m.types.get('smallwebrtc_video_frames_received_total')).toBe('counter');
    expect(v('frames_received')).toBeGreaterThanOrEqual(20);
    expect(v('frames_received')).toBeLessThanOrEqual(59);
    expect(v('frames_sent')).toBeGreaterThanOrEqual(5);
    expect(v('keyframe_requests_sent')).toBeGreaterThanOrEqual(1);
    // One PLI each way can count twice: libdatachannel (0.24.5, PeerConnection::forwardMedia) hands an RTCP
    // packet to a track once per SSRC in it that maps to the track, and a PLI names two of the same track.
    expect(plisFromServer).toBeGreaterThanOrEqual(v('keyframe_requests_sent'));
    expect(v('keyframe_requests_received')).toBeGreaterThanOrEqual(1);
    expect(v('keyframe_requests_received')).toBeLessThanOrEqual(2);
    expect(v('decode_errors')).toBe(0);
    expect(v('encode_errors')).toBe(0);
    const framesIn = v('frames_received');

    c.close();
    m = await metricsOnceNoSessionIsActive(server);
    // An ended session's video stays counted, and its end line has it.
    expect(v('frames_received')).toBeGreaterThanOrEqual(framesIn);
    const end = lines.find((l) => l.message.startsWith('session end'));
    expect((end?.details[0] as { videoFramesIn: number }).videoFramesIn).toBeGreaterThanOrEqual(framesIn);
  }, 60_000);

  it('path, off switch, and access: the authorize hook by default, or its own', async () => {
    const token = (req: { headers: Record<string, unknown> }): boolean =>
      req.headers['authorization'] === 'Bearer s3cret';
    const { server: guarded } = await echoServer({ authorize: token });
    expect((await scrape(guarded.url)).status).toBe(403);
    expect((await scrape(guarded.url, { Authorization: 'Bearer s3cret' })).status).toBe(200);

    const { server: own } = await echoServer({
      authorize: token,
      metrics: { path: '/internal/metrics', authorize: (req) => req.headers['x-scraper'] === 'prom' },
    });
    expect((await scrape(own.url, { Authorization: 'Bearer s3cret' })).status).toBe(404);
    const res = await fetch(`${own.url}/internal/metrics`, { headers: { 'X-Scraper': 'prom' } });
    expect(res.status).toBe(200);
    expect(parseExposition(await res.text()).types.size).toBeGreaterThan(10);

    const { server: off } = await echoServer({ metrics: false });
    expect((await scrape(off.url)).status).toBe(404);
    expect(off.metricsRegistry).toBeNull();
    // Two servers in one process each have their own registry.
    expect(guarded.metricsRegistry).not.toBe(own.metricsRegistry);
  });

  it("clusterMetrics() in a node:cluster primary sums the workers' registries", async () => {
    const fixture = fileURLToPath(new URL('./fixtures/cluster-metrics.ts', import.meta.url));
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', fixture], {
      timeout: 45_000,
    });
    const out = JSON.parse(stdout) as { contentType: string; body: string; ports: number[] };
    expect(out.ports).toHaveLength(1); // both workers on one port
    expect(out.contentType).toMatch(/^text\/plain; version=0\.0\.4/);
    const { samples } = parseExposition(out.body);
    // Each worker sent one malformed offer: the aggregate has both, whichever worker answered them.
    expect(value(samples, 'smallwebrtc_offers_total', { result: 'rejected' })).toBe(2);
    expect(value(samples, 'smallwebrtc_ready')).toBe(2); // ready workers
    expect(value(samples, 'smallwebrtc_sessions_active')).toBe(0);
    expect(value(samples, 'process_cpu_seconds_total')).toBeGreaterThan(0);
  }, 60_000);
});
