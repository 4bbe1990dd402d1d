/**
 * SmallWebRTCTransport across a `restart_pc` (the Pipecat web client's reconnect: a brand-new peer offered on
 * the same connection object): the transport must rebuild its outgoing track, re-subscribe its input to the
 * new microphone track, fire on_client_connected again, and leave no pacing/poll timer behind when the session
 * ends. Real node-datachannel peers on loopback.
 */
import { afterAll, describe, expect, it } from 'vitest';

import {
  BaseVADAnalyzer,
  BotStartedSpeakingFrame,
  BotStoppedSpeakingFrame,
  InputAudioRawFrame,
  UserStartedSpeakingFrame,
  UserStoppedSpeakingFrame,
  VADState,
  SmallWebRTCConnection,
  TransportParams,
} from '../../src/index.js';
import { AudioOutputTrack } from '../../src/transport/tracks/audio-output-track.js';
import { PipecatLikeClient } from '../../testkit/pipecat-like-client.js';
import {
  startSession,
  tone,
  trackIntervals,
  queueBotAudio,
  closeClients,
  keepClient,
} from '../helpers/transport-session.js';
import { until } from '../../testkit/wait.js';

afterAll(closeClients);

async function restart(conn: SmallWebRTCConnection): Promise<PipecatLikeClient> {
  const off = await PipecatLikeClient.create({ trickle: false });
  keepClient(off);
  await off.negotiate(conn, { restartPc: true });
  await off.waitConnected();
  return off;
}

/** Voice = a loud window (RMS above 0.05 of full scale): the test's tones are voice, silence is not. */
class LoudnessVAD extends BaseVADAnalyzer {
  constructor() {
    // stopSecs 5: a turn ends only by the reset under test within the test's time, not by silence.
    super({ sampleRate: 16000, params: { startSecs: 0.1, stopSecs: 5, minVolume: 0, confidence: 0.5 } });
  }
  numFramesRequired(): number {
    return 512;
  }
  protected voiceConfidence(window: Float32Array): number {
    let sum = 0;
    for (const x of window) sum += x * x;
    return Math.sqrt(sum / window.length) > 0.05 ? 1 : 0;
  }
}

describe('SmallWebRTCTransport across restart_pc', () => {
  it('starts the VAD over for the new peer: the open turn is closed, no state carries over', async () => {
    const vad = new LoudnessVAD();
    const session = await startSession(
      new TransportParams({ audioInEnabled: true, audioOutEnabled: false, vadAnalyzer: vad }),
    );
    const { off: off1, conn, tap, task, running, events } = session;
    const count = (cls: typeof UserStartedSpeakingFrame | typeof UserStoppedSpeakingFrame): number =>
      tap.down.filter((f) => f instanceof cls).length;
    try {
      await off1.sendSpeech(tone(440, 48000, 1000, 16000));
      await until(() => count(UserStartedSpeakingFrame) === 1, 10_000, 'user started speaking');
      expect(vad.stats().speechStarts).toBe(1);
      expect(count(UserStoppedSpeakingFrame)).toBe(0);
      // The client reconnects with a new peer connection while its user's turn is still open.
      const off2 = await restart(conn);
      off1.close();
      await until(() => events.filter((e) => e === 'connected').length === 2, 10_000, 'second connect');
      await until(() => count(UserStoppedSpeakingFrame) === 1, 4_000, 'the open turn closed by the restart');
      expect(vad.stats().speechStarts).toBe(0); // reset: counters start over
      expect(vad.stats().state).toBe(VADState.QUIET);
      // The new peer's speech is a new turn.
      await off2.sendSpeech(tone(440, 48000, 1000, 16000));
      await until(() => count(UserStartedSpeakingFrame) === 2, 10_000, 'new peer started speaking');
      expect(vad.stats().speechStarts).toBe(1);
    } finally {
      await task.cancel();
      await running;
    }
  });

  it('keeps audio flowing both ways, fires on_client_connected again, and leaks no timers', async () => {
    const intervals = trackIntervals();
    const session = await startSession(new TransportParams({ audioInEnabled: true, audioOutEnabled: true }));
    const { off: off1, conn, transport, tap, task, running, events } = session;
    const micFrames = (): number => tap.down.filter((f) => f instanceof InputAudioRawFrame).length;
    try {
      // The process-wide media clock (send pacing and receive polling ride on the same one) runs while the
      // session is up.
      expect(intervals.live(10)).toBe(1);

      // The restart comes while the bot is speaking: 3 s queued in 40 ms chunks, restart after ~0.3 s.
      const long = tone(660, 24000, 3000);
      await queueBotAudio(tap, long, { sampleRate: 24000, chunk: 960, wait: false });
      await until(() => tap.up.some((f) => f instanceof BotStartedSpeakingFrame), 10_000, 'bot started');
      const off2 = await restart(conn);
      off1.close();
      await until(() => events.filter((e) => e === 'connected').length === 2, 10_000, 'second connect');
      expect(events).toEqual(['connected', 'connected']);

      // The old peer's speech ended with it: the bot stops speaking (no endless BotSpeakingFrames).
      await until(() => tap.up.some((f) => f instanceof BotStoppedSpeakingFrame), 10_000, 'bot stopped');

      // Bot audio reaches the new peer.
      const bot = off2.listenToAudio();
      try {
        const speech = tone(880, 24000, 600);
        await queueBotAudio(tap, speech, { sampleRate: 24000, chunk: 960 });
        await until(() => bot.loud() >= 25, 10_000, 'bot audio at the new peer');
      } finally {
        bot.close();
      }

      // Mic frames from the new peer reach the pipeline.
      const before = micFrames();
      await off2.sendSpeech(tone(440, 48000, 600));
      await until(() => micFrames() - before >= 25, 10_000, 'mic frames from the new peer');
      expect(transport.input().stats.framesPushed).toBeGreaterThanOrEqual(25);
      expect(events).toEqual(['connected', 'connected']);
    } finally {
      await task.cancel();
      await running;
    }
    await until(() => events.includes('closed'), 10_000, 'on_client_closed');
    expect(events).not.toContain('disconnected');
    // No media clock or bot-speaking interval left behind.
    expect(intervals.live(10)).toBe(0);
    expect(intervals.live(200)).toBe(0);
  });

  it('reports the bot stopped speaking when the client leaves mid-speech', async () => {
    const intervals = trackIntervals();
    const session = await startSession(new TransportParams({ audioInEnabled: false, audioOutEnabled: true }));
    const { off, transport, tap, task, running, events } = session;
    try {
      const long = tone(660, 24000, 3000);
      await queueBotAudio(tap, long, { sampleRate: 24000, chunk: 960, wait: false });
      await until(() => tap.up.some((f) => f instanceof BotStartedSpeakingFrame), 10_000, 'bot started');
      off.close();
      await until(() => events.includes('disconnected'), 15_000, 'on_client_disconnected');
      // The pipeline is still running (the app has not cancelled it yet): the bot must not stay speaking.
      await until(() => tap.up.some((f) => f instanceof BotStoppedSpeakingFrame), 5_000, 'bot stopped');
      expect(transport.output().botSpeaking).toBe(false);
      expect(intervals.live(200)).toBe(0);
    } finally {
      await task.cancel();
      await running;
    }
  });

  it('an AudioOutputTrack kept across a restart reports stop then start again, never a duplicate', async () => {
    const off1 = await PipecatLikeClient.create({ trickle: false });
    keepClient(off1);
    const conn = new SmallWebRTCConnection({ bindAddress: '127.0.0.1' });
    await off1.negotiate(conn);
    let connected = 0;
    conn.on('connected', () => void connected++);
    await conn.connect();
    await off1.waitConnected();
    await until(() => connected === 1, 10_000, 'connected');
    const speaking: boolean[] = [];
    const track = new AudioOutputTrack({
      sampleRate: 24000,
      channels: 1,
      bitrate: 32000,
      autoSilence: true,
      capacityMs: 5000,
      onSpeaking: (s) => void speaking.push(s),
    });
    try {
      // The application keeps its own track on the connection (rebound to the new peer by the restart).
      conn.replaceAudioTrack(track);
      void track.write(tone(660, 24000, 3000));
      await until(() => speaking.length === 1, 10_000, 'started');
      const off2 = await restart(conn);
      off1.close();
      // Still 2+ s queued: the new peer hears the rest, and the bot is reported speaking again.
      const bot = off2.listenToAudio();
      try {
        await until(() => bot.loud() >= 10, 10_000, 'audio at the new peer');
      } finally {
        bot.close();
      }
      await until(() => speaking.at(-1) === false && track.queuedMs === 0, 10_000, 'stopped');
      expect(speaking).toEqual([true, false, true, false]);
    } finally {
      track.close();
      await conn.close();
    }
  });
});
