/**
 * SmallWebRTCTransport end to end against an in-process node-datachannel peer laid out like the Pipecat web
 * client: real ICE/DTLS/SRTP on loopback, real Opus both ways through the native receiver and sender.
 */
import nodeDataChannel from 'node-datachannel';
import { performance } from 'node:perf_hooks';
import { afterAll, describe, expect, it } from 'vitest';

import {
  BotStartedSpeakingFrame,
  BotStoppedSpeakingFrame,
  ClientConnectedFrame,
  EndFrame,
  InputAudioRawFrame,
  InputTransportMessageFrame,
  InterruptionFrame,
  OutputTransportMessageFrame,
  TransportParams,
} from '../../src/index.js';
import {
  concat,
  dominantFrequency,
  rms,
  startSession,
  tone,
  queueBotAudio,
} from '../helpers/transport-session.js';
import { until } from '../../testkit/wait.js';

afterAll(() => {
  nodeDataChannel.cleanup();
});

describe('SmallWebRTCTransport with a node-datachannel Pipecat-like client', () => {
  it('delivers the peer microphone as exact 20 ms 16 kHz frames with the right content', async () => {
    const s = await startSession(new TransportParams({ audioInEnabled: true, audioOutEnabled: true }));
    try {
      expect(s.tap.down.some((f) => f instanceof ClientConnectedFrame)).toBe(true);
      await s.off.sendSpeech(tone(440, 48000, 1000));
      await until(() => s.tap.down.filter((f) => f instanceof InputAudioRawFrame).length >= 45);
      const frames = s.tap.down.filter((f): f is InputAudioRawFrame => f instanceof InputAudioRawFrame);
      for (const f of frames) {
        expect(f.sampleRate).toBe(16000);
        expect(f.numChannels).toBe(1);
        expect(f.numFrames).toBe(320);
      }
      // Skip the codec's start-up; measure the steady part of the tone.
      const pcm = concat(frames.slice(5, 40).map((f) => f.audio));
      expect(dominantFrequency(pcm, 16000)).toBeGreaterThan(430);
      expect(dominantFrequency(pcm, 16000)).toBeLessThan(450);
      expect(rms(pcm)).toBeGreaterThan(8000 / Math.SQRT2 / 2);
      const stats = s.transport.getStats().input;
      expect(stats?.received).toBeGreaterThanOrEqual(45);
      expect(stats?.lost).toBe(0);
    } finally {
      await s.stop();
    }
  });

  it('sends bot audio paced on the wire, reports bot speaking from the wire, and interrupts within a packet', async () => {
    const s = await startSession(new TransportParams({ audioInEnabled: false, audioOutEnabled: true }));
    const bot = s.off.listenToAudio();
    try {
      // 0.6 s of 880 Hz at 24 kHz in 40 ms chunks, as a TTS service would push it.
      const speech = tone(880, 24000, 600);
      await queueBotAudio(s.tap, speech, { sampleRate: 24000, chunk: 960 });
      await until(() => s.tap.up.some((f) => f instanceof BotStoppedSpeakingFrame), 10_000, 'bot stopped');
      expect(s.tap.up.some((f) => f instanceof BotStartedSpeakingFrame)).toBe(true);
      const loud = bot.frames.filter((f) => rms(f.pcm) > 1000);
      // 600 ms of speech = 30 packets, give or take the codec's ramp at both ends.
      expect(loud.length).toBeGreaterThanOrEqual(27);
      expect(loud.length).toBeLessThanOrEqual(32);
      const pcm = concat(loud.slice(3, -3).map((f) => f.pcm));
      expect(dominantFrequency(pcm, 48000)).toBeGreaterThan(860);
      expect(dominantFrequency(pcm, 48000)).toBeLessThan(900);
      // Paced: 30 packets of speech take ~600 ms of wall time, not a burst.
      const span = (loud.at(-1)?.at ?? 0) - (loud[0]?.at ?? 0);
      expect(span).toBeGreaterThan(400);

      // Interruption: 3 s queued (one write in flight), then an InterruptionFrame.
      bot.frames.length = 0;
      const long = tone(660, 24000, 3000);
      await queueBotAudio(s.tap, long, { sampleRate: 24000, chunk: 960, wait: false });
      await until(() => bot.loud() >= 10, 10_000, 'long speech');
      const interruptedAt = performance.now();
      await s.tap.queueFrame(new InterruptionFrame());
      await new Promise((r) => setTimeout(r, 500));
      const after = bot.frames.filter((f) => f.at > interruptedAt + 60);
      expect(after.length).toBeGreaterThan(10); // auto-silence keeps flowing
      expect(after.every((f) => rms(f.pcm) < 300)).toBe(true);
      expect(s.transport.output().stats.interruptions).toBe(1);
      expect(bot.loud()).toBeLessThan(40);
    } finally {
      bot.close();
      await s.stop();
    }
  });

  it("writes bot audio at the pipeline's output rate when TransportParams leaves it unset", async () => {
    const s = await startSession(new TransportParams({ audioOutEnabled: true }), {
      audioOutSampleRate: 16000,
    });
    const bot = s.off.listenToAudio();
    try {
      await until(() => s.transport.getStats().outputSampleRate !== null, 10_000, 'output track');
      expect(s.transport.getStats().outputSampleRate).toBe(16000);
      const speech = tone(700, 16000, 400);
      await queueBotAudio(s.tap, speech, { sampleRate: 16000, chunk: 640 });
      await until(() => bot.loud() >= 17, 10_000, 'bot audio');
      const loud = bot.frames.filter((f) => rms(f.pcm) > 1000);
      const freq = dominantFrequency(concat(loud.slice(2, -2).map((f) => f.pcm)), 48000);
      expect(freq).toBeGreaterThan(680);
      expect(freq).toBeLessThan(720);
    } finally {
      bot.close();
      await s.stop();
    }
  });

  it('exchanges app messages both ways and reports mute', async () => {
    const s = await startSession(new TransportParams({ audioInEnabled: true, audioOutEnabled: true }));
    try {
      s.off.sendJson({ type: 'hello', n: 1 });
      await until(() => s.events.some((e) => e.startsWith('message:')), 10_000, 'on_app_message');
      expect(s.events).toContain('message:{"type":"hello","n":1}:true');
      const inbound = s.tap.down.find((f) => f instanceof InputTransportMessageFrame);
      expect((inbound as InputTransportMessageFrame | undefined)?.message).toEqual({ type: 'hello', n: 1 });

      await s.tap.queueFrame(
        new OutputTransportMessageFrame({ label: 'rtvi-ai', type: 'server-message', data: 1 }),
      );
      await s.off.waitForMessage((m) => m['type'] === 'server-message', 10_000);

      s.off.sendTrackStatus(0, false);
      await until(() => s.transport.input().stats.muted, 10_000, 'muted');
      s.off.sendTrackStatus(0, true);
      await until(() => !s.transport.input().stats.muted, 10_000, 'unmuted');
    } finally {
      await s.stop();
    }
  });

  it('fires on_client_disconnected and on_client_closed when the client leaves', async () => {
    const s = await startSession(new TransportParams({ audioInEnabled: true, audioOutEnabled: true }));
    s.off.close();
    await until(() => s.events.includes('closed'), 15_000, 'on_client_closed');
    expect(s.events).toContain('disconnected');
    expect(s.events.indexOf('disconnected')).toBeLessThan(s.events.indexOf('closed'));
    await s.task.cancel();
    await s.running;
  });

  it('on EndFrame plays out queued audio, then says peerLeft and closes without on_client_disconnected', async () => {
    const s = await startSession(
      new TransportParams({ audioInEnabled: true, audioOutEnabled: true, audioOutEndSilenceSecs: 0.2 }),
    );
    const bot = s.off.listenToAudio();
    try {
      const speech = tone(500, 24000, 400);
      await queueBotAudio(s.tap, speech, { sampleRate: 24000, chunk: 960 });
      await s.tap.queueFrame(new EndFrame());
      await s.running;
      await s.off.waitForMessage((m) => JSON.stringify(m).includes('peerLeft'), 10_000);
      await until(() => s.events.includes('closed'), 15_000, 'on_client_closed');
      expect(s.events).not.toContain('disconnected');
      // The whole 400 ms went out before the goodbye.
      expect(bot.loud()).toBeGreaterThanOrEqual(17);
    } finally {
      bot.close();
      s.off.close();
    }
  });
});
