/**
 * The transport's media tracks end to end against in-process node-datachannel peers (real ICE/DTLS/SRTP on
 * loopback, real Opus): the bot's audio goes out at whatever rate each frame has, resampled once natively
 * (no JS resampler), as one continuous RTP stream; every session's tracks ride one process-wide media clock
 * (no timer per session); the microphone track conceals, detects stalls and mutes, and rebinds; the
 * stand-alone VADProcessor pushes the same speaking frames as TransportParams.vadAnalyzer on real speech.
 */
import { afterAll, describe, expect, it } from 'vitest';

import {
  BotStartedSpeakingFrame,
  BotStoppedSpeakingFrame,
  InputAudioRawFrame,
  SileroVADAnalyzer,
  SmallWebRTCConnection,
  TransportParams,
  type AudioFrame,
} from '../../src/index.js';
import { AudioInputTrack } from '../../src/transport/tracks/audio-input-track.js';
import { mediaClock } from '../../src/transport/tracks/media-clock.js';
import { VADProcessor } from '../../src/vad/vad-processor.js';
import { native } from '../../src/native/binding.js';
import { PipecatLikeClient } from '../../testkit/pipecat-like-client.js';
import { makeSpeechWav } from '../helpers/speech.js';
import {
  concat,
  dominantFrequency,
  rms,
  startSession,
  tone,
  trackIntervals,
  type Session,
  queueBotAudio,
  closeClients,
  keepClient,
} from '../helpers/transport-session.js';
import { sleep, until } from '../../testkit/wait.js';

afterAll(closeClients);

/** Counts constructions of the addon's stand-alone Resampler (the JS-driven resampling path). */
function countJsResamplers(): { count: () => number; restore: () => void } {
  const addon = native() as unknown as Record<string, unknown>;
  const real = addon['Resampler'] as new (...args: unknown[]) => object;
  let made = 0;
  addon['Resampler'] = new Proxy(real, {
    construct(target, args: unknown[]) {
      made++;
      return Reflect.construct(target, args) as object;
    },
  });
  return { count: () => made, restore: () => void (addon['Resampler'] = real) };
}

/** Interleaves a mono signal into stereo (same sample on both channels). */
function stereo(mono: Int16Array): Int16Array {
  const out = new Int16Array(mono.length * 2);
  for (let i = 0; i < mono.length; i++) out[2 * i] = out[2 * i + 1] = mono[i] ?? 0;
  return out;
}

describe('media tracks of SmallWebRTCTransport', () => {
  it('sends each frame at its own rate (one native resampling, no JS resampler) as one continuous RTP stream', async () => {
    const resamplers = countJsResamplers();
    const s = await startSession(new TransportParams({ audioInEnabled: false, audioOutEnabled: true }));
    const rtp: Array<{ ssrc: number; seq: number; ts: number }> = [];
    s.off.onRtp('audio', (b) =>
      rtp.push({ ssrc: b.readUInt32BE(8), seq: b.readUInt16BE(2), ts: b.readUInt32BE(4) }),
    );
    const bot = s.off.listenToAudio();
    try {
      await until(() => s.transport.getStats().outputSampleRate !== null, 10_000, 'output track');
      expect(s.transport.getStats().outputSampleRate).toBe(24000);
      // A TTS at 16 kHz mono (40 ms chunks), then a sound at 44.1 kHz stereo (10 ms chunks), back to back.
      const first = tone(700, 16000, 600);
      await queueBotAudio(s.tap, first, { sampleRate: 16000, chunk: 640 });
      const second = stereo(tone(500, 44100, 600));
      await queueBotAudio(s.tap, second, { sampleRate: 44100, chunk: 882, numChannels: 2 });
      await until(() => s.tap.up.some((f) => f instanceof BotStoppedSpeakingFrame), 10_000, 'bot stopped');
      expect(s.transport.getStats().outputSampleRate).toBe(44100);

      // Both parts are heard at their pitch, each about as long as written.
      const loud = bot.frames.filter((f) => rms(f.pcm) > 1000).map((f) => f.pcm);
      const near = (pcm: Int16Array, hz: number): boolean =>
        Math.abs(dominantFrequency(pcm, 48000) - hz) < 25;
      const at700 = loud.filter((p) => near(p, 700)).length;
      const at500 = loud.filter((p) => near(p, 500)).length;
      expect(at700).toBeGreaterThanOrEqual(25);
      expect(at500).toBeGreaterThanOrEqual(25);
      expect(at700 + at500).toBeLessThanOrEqual(64);
      expect(dominantFrequency(concat(loud.slice(3, 25)), 48000)).toBeCloseTo(700, -1);

      // One stream: a single SSRC, consecutive sequence numbers (a repeat would be dropped by SRTP as a
      // replay), timestamps moving forward in whole 20 ms packets.
      expect(rtp.length).toBeGreaterThan(60);
      expect(new Set(rtp.map((p) => p.ssrc)).size).toBe(1);
      for (let i = 1; i < rtp.length; i++) {
        const a = rtp[i - 1]!;
        const b = rtp[i]!;
        expect((b.seq - a.seq + 0x10000) % 0x10000).toBe(1);
        const dts = (b.ts - a.ts + 0x100000000) % 0x100000000;
        expect(dts % 960).toBe(0);
        expect(dts).toBeGreaterThan(0);
        expect(dts).toBeLessThanOrEqual(960 * 10);
      }
      // The sender's stats span the replaced senders: every packet counted, the next sequence number follows
      // the last one the peer got (a few may still be in flight).
      const out = s.transport.getStats().output!;
      expect(out.packetsSent).toBeGreaterThanOrEqual(rtp.length);
      expect(out.packetsSent).toBeLessThanOrEqual(rtp.length + 10);
      expect((out.nextSequence - rtp.at(-1)!.seq + 0x10000) % 0x10000).toBeGreaterThanOrEqual(1);
      expect((out.nextSequence - rtp.at(-1)!.seq + 0x10000) % 0x10000).toBeLessThanOrEqual(10);
      // One utterance on the wire as far as the pipeline knows: the format changes did not split it.
      expect(s.tap.up.filter((f) => f instanceof BotStartedSpeakingFrame)).toHaveLength(1);
      expect(s.tap.up.filter((f) => f instanceof BotStoppedSpeakingFrame)).toHaveLength(1);
      expect(resamplers.count()).toBe(0);
    } finally {
      resamplers.restore();
      bot.close();
      await s.stop();
    }
  });

  it('runs the media of every session on one process-wide clock, with no timer per session', async () => {
    const intervals = trackIntervals();
    expect(mediaClock.size).toBe(0);
    const sessions: Session[] = [];
    try {
      for (let i = 0; i < 3; i++) {
        sessions.push(
          await startSession(new TransportParams({ audioInEnabled: true, audioOutEnabled: true })),
        );
      }
      // Each session: its microphone track and its bot audio track.
      expect(mediaClock.size).toBe(6);
      // Mic audio in and bot speech out in all three at once.
      const mic = Promise.all(sessions.map((s) => s.off.sendSpeech(tone(440, 48000, 600))));
      const speech = tone(880, 24000, 600);
      await Promise.all(
        sessions.map(async (s) => {
          await queueBotAudio(s.tap, speech, { sampleRate: 24000, chunk: 960 });
        }),
      );
      await mic;
      for (const s of sessions) {
        await until(() => s.tap.up.some((f) => f instanceof BotStartedSpeakingFrame), 10_000, 'bot started');
        await until(
          () => s.tap.down.filter((f) => f instanceof InputAudioRawFrame).length >= 25,
          10_000,
          'mic frames',
        );
      }
      // One 10 ms clock for everything (pacing, concealment polling, the bot-speaking cadence); no
      // bot-speaking interval per session.
      expect(intervals.live(10)).toBe(1);
      expect(intervals.live(200)).toBe(0);
      expect(mediaClock.running).toBe(true);
    } finally {
      for (const s of sessions) await s.stop();
    }
    await until(() => mediaClock.size === 0, 5_000, 'all tracks off the clock');
    expect(mediaClock.running).toBe(false);
    expect(intervals.live(10)).toBe(0);
  });

  it('AudioInputTrack: frames from RTP, concealment from the clock, stall vs mute, rebinding', async () => {
    const off = await PipecatLikeClient.create({ trickle: false });
    keepClient(off);
    const conn = new SmallWebRTCConnection({ bindAddress: '127.0.0.1' });
    await off.negotiate(conn);
    let connected = false;
    conn.on('connected', () => void (connected = true));
    await conn.connect();
    await off.waitConnected();
    await until(() => connected, 10_000, 'connected');
    const frames: AudioFrame[] = [];
    const track = new AudioInputTrack({ sampleRate: 24000, channels: 2, onFrames: (f) => frames.push(...f) });
    try {
      // Unbound: nothing decoded, not on the clock.
      expect(mediaClock.has(track)).toBe(false);
      await off.sendSpeech(tone(440, 48000, 200));
      expect(frames).toHaveLength(0);

      const source = conn.audioInputTrack();
      expect(source).not.toBeNull();
      track.bind(source);
      expect(mediaClock.has(track)).toBe(true);
      await off.sendSpeech(tone(440, 48000, 600));
      await until(() => frames.length >= 28, 5_000, 'frames');
      for (const f of frames) {
        expect(f.sampleRate).toBe(24000);
        expect(f.numChannels).toBe(2);
        expect(f.numFrames).toBe(480);
      }
      // Continuous pts, 20 ms apart.
      for (let i = 1; i < frames.length; i++) expect(frames[i]!.pts - frames[i - 1]!.pts).toBe(20);
      const left = concat(frames.slice(4, 25).map((f) => f.audio.filter((_, i) => i % 2 === 0)));
      expect(dominantFrequency(left, 24000)).toBeCloseTo(440, -1);

      // The peer goes quiet without a mute: the clock keeps emitting concealment for a while, then (2 s
      // without RTP) the track reports a stall.
      const quietFrom = frames.length;
      await until(() => track.stats.stalled, 5_000, 'stall');
      expect(frames.length).toBeGreaterThan(quietFrom);
      expect(track.stats.stalls).toBe(1);
      // Audio resumes: no longer stalled.
      await off.sendSpeech(tone(440, 48000, 100));
      expect(track.stats.stalled).toBe(false);

      // A mute is not a stall.
      off.sendTrackStatus(0, false);
      await until(() => track.stats.muted, 5_000, 'muted');
      await sleep(2300);
      expect(track.stats.stalled).toBe(false);
      expect(track.stats.stalls).toBe(1);
      off.sendTrackStatus(0, true);
      await until(() => !track.stats.muted, 5_000, 'unmuted');

      // Unbound: off the clock, packets are no longer decoded.
      track.unbind();
      expect(mediaClock.has(track)).toBe(false);
      const count = frames.length;
      await off.sendSpeech(tone(440, 48000, 200));
      expect(frames.length).toBe(count);
      // Rebound to the same source: frames flow again.
      track.bind(source);
      await off.sendSpeech(tone(440, 48000, 300));
      await until(() => frames.length >= count + 12, 5_000, 'frames after rebinding');
      expect(track.stats.framesDelivered).toBe(frames.length);
    } finally {
      track.close();
      await conn.close();
    }
    expect(mediaClock.has(track)).toBe(false);
    expect(track.receiverStats()).toBeNull();
    track.bind(null); // idempotent after close
  });

  it('VADProcessor pushes the same speaking frames as TransportParams.vadAnalyzer on real speech', async () => {
    // Two utterances, each followed by more than stopSecs (0.8 s) of silence.
    const wav = makeSpeechWav({ text: 'hello there, how are you', rate: 48000, padSilenceSecs: [0.4, 1.3] });
    const inTransport = await startSession(
      new TransportParams({
        audioInEnabled: true,
        audioOutEnabled: false,
        vadAnalyzer: new SileroVADAnalyzer(),
      }),
    );
    const vadProcessor = new VADProcessor({ vadAnalyzer: new SileroVADAnalyzer() });
    const asProcessor = await startSession(
      new TransportParams({ audioInEnabled: true, audioOutEnabled: false }),
      {},
      [vadProcessor],
    );
    const mics = [inTransport.off, asProcessor.off];
    const speaking = new Set([
      'VADUserStartedSpeakingFrame',
      'UserStartedSpeakingFrame',
      'InterruptionFrame',
      'VADUserStoppedSpeakingFrame',
      'UserStoppedSpeakingFrame',
    ]);
    const kinds = (s: Session): string[] =>
      s.tap.down.map((f) => f.constructor.name).filter((n) => speaking.has(n));
    try {
      for (let i = 0; i < 2; i++) await Promise.all(mics.map((m) => m.sendSpeech(wav.samples)));
      const turn = [
        'VADUserStartedSpeakingFrame',
        'UserStartedSpeakingFrame',
        'InterruptionFrame',
        'VADUserStoppedSpeakingFrame',
        'UserStoppedSpeakingFrame',
      ];
      await until(
        () => kinds(inTransport).length >= 10 && kinds(asProcessor).length >= 10,
        10_000,
        'two turns',
      );
      expect(kinds(inTransport)).toEqual([...turn, ...turn]);
      expect(kinds(asProcessor)).toEqual([...turn, ...turn]);
      expect(vadProcessor.userSpeaking).toBe(false);
      // The processor forwards the audio too (passthrough on by default).
      expect(asProcessor.tap.down.some((f) => f instanceof InputAudioRawFrame)).toBe(true);
    } finally {
      wav.cleanup();
      await inTransport.stop();
      await asProcessor.stop();
    }
  });
});
