// Interop: aiortc (Debian python3-aiortc) as the offering client against our HTTP server, over loopback.
// It connects, opens `chat`, exchanges app messages both ways, sends Opus RTP that our audio input track
// receives, and decodes the Opus RTP we send through replaceAudioTrack().
import nodeDataChannel from 'node-datachannel';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { SmallWebRTCConnection } from '../../src/connection/index.js';
import { startSmallWebRTCServer, type SmallWebRTCServer } from '../../src/server/index.js';
import { AiortcClient, aiortcAvailable } from '../../testkit/aiortc-process.js';
import { OpusSilenceTrack } from '../../testkit/opus-silence-track.js';
import { countRtp, newRtpCount, type RtpCount } from '../../testkit/rtp.js';
import { until } from '../../testkit/wait.js';

const available = aiortcAvailable();

interface Session {
  connection: SmallWebRTCConnection;
  requestData: unknown;
  messages: unknown[];
  rtp: RtpCount;
  outbound: OpusSilenceTrack;
  connected: Promise<void>;
}

describe.skipIf(!available)('aiortc client', () => {
  let server: SmallWebRTCServer;
  const sessions: Session[] = [];

  beforeAll(async () => {
    server = await startSmallWebRTCServer({
      port: 0,
      connectionOptions: { bindAddress: '127.0.0.1' },
      onNewConnection: (connection, requestData) => {
        const session: Session = {
          connection,
          requestData,
          messages: [],
          rtp: newRtpCount(),
          outbound: new OpusSilenceTrack(100),
          connected: new Promise((resolve) => connection.on('connected', () => resolve())),
        };
        connection.on('app-message', (_c, m: unknown) => session.messages.push(m));
        const audio = connection.audioInputTrack();
        countRtp(audio, session.rtp);
        connection.replaceAudioTrack(session.outbound);
        sessions.push(session);
        void connection.connect();
      },
    });
  });

  afterAll(async () => {
    await server?.close();
    nodeDataChannel.cleanup();
  });

  it('connects, exchanges app messages and RTP both ways', async () => {
    const client = new AiortcClient(server.url, { duration: 40, requestData: { who: 'aiortc' } });
    try {
      const answer = await client.waitFor('answer', 20_000);
      expect(answer.pc_id).toBeTypeOf('string');
      await client.waitFor('connected', 20_000);
      await client.waitFor('dc-open', 20_000);
      const session = sessions.at(-1)!;
      expect(session.connection.pcId).toBe(answer.pc_id);
      expect(session.requestData).toEqual({ who: 'aiortc' });
      await session.connected;

      // client -> server app message (sent by the client on open)
      await until(
        () => session.messages.some((m) => (m as { type?: string }).type === 'hello'),
        10_000,
        'hello',
      );
      // server -> client -> server (the client echoes)
      session.connection.sendAppMessage({ type: 'greeting', n: 1 });
      await client.waitFor('message', 10_000, (e) => (e.data as { type?: string }).type === 'greeting');
      await until(
        () => session.messages.some((m) => (m as { type?: string }).type === 'echo'),
        10_000,
        'echo of greeting',
      );

      // client -> server Opus RTP (aiortc's Opus PT is 96)
      await until(() => session.rtp.count >= 25, 15_000, '25 RTP packets from aiortc');
      expect([...session.rtp.payloadTypes]).toEqual([96]);
      expect(session.rtp.ssrcs.size).toBe(1);

      // server -> client RTP: aiortc decodes our Opus silence frames into audio frames
      await client.waitFor('first-audio-frame', 15_000);
      expect(session.outbound.sent).toBeGreaterThan(0);

      session.connection.sendAppMessage({ type: 'close' });
      expect(await client.exited).toBe(0);
      const frames = client.events.filter((e) => e.event === 'audio-frames').at(-1);
      expect(frames?.count as number).toBeGreaterThan(0);
    } finally {
      client.kill();
    }
  });

  it('connects with a camera video transceiver too (aiortc offers VP8/H264) and receives our audio', async () => {
    const client = new AiortcClient(server.url, { duration: 40, video: true });
    try {
      const answer = await client.waitFor('answer', 20_000);
      await client.waitFor('connected', 20_000);
      await client.waitFor('dc-open', 20_000);
      const session = sessions.find((s) => s.connection.pcId === answer.pc_id)!;
      expect(session).toBeDefined();
      expect(session.connection.videoInputTrack()).not.toBeNull();
      await until(() => session.rtp.count >= 10, 15_000, '10 RTP packets from aiortc');
      await client.waitFor('first-audio-frame', 15_000);
      session.connection.sendAppMessage({ type: 'close' });
      expect(await client.exited).toBe(0);
    } finally {
      client.kill();
    }
  });
});
