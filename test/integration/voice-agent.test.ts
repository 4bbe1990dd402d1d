/**
 * examples/voice-agent.ts end to end against an in-process node-datachannel peer laid out like the Pipecat web
 * client: real ICE/DTLS/SRTP on loopback, the peer speaks (espeak-ng speech as paced Opus RTP), the bot's
 * pipeline (Silero VAD -> turn-duration STT -> context -> rule-based LLM -> espeak-ng TTS) answers with audio on
 * the wire, which the peer decodes.
 */
import nodeDataChannel from 'node-datachannel';
import { performance } from 'node:perf_hooks';
import { afterAll, describe, expect, it } from 'vitest';

import {
  AudioReceiver,
  AudioSender,
  SmallWebRTCConnection,
  type LLMContext,
  type PipelineTask,
} from '../../src/index.js';
import { EspeakTTS, RuleBasedLLM, TurnDurationSTT, runVoiceAgent } from '../../examples/voice-agent.js';
import { NodeOfferer } from '../helpers/node-offerer.js';
import { makeSpeechWav } from '../helpers/speech.js';

afterAll(() => {
  nodeDataChannel.cleanup();
});

function rms(pcm: Int16Array): number {
  let s = 0;
  for (const v of pcm) s += v * v;
  return pcm.length > 0 ? Math.sqrt(s / pcm.length) : 0;
}

async function waitFor(cond: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Sends `pcm` (48 kHz mono) from the offerer as paced Opus RTP, one 20 ms packet per 20 ms. */
async function sendSpeech(off: NodeOfferer, pcm: Int16Array): Promise<void> {
  const sender = new AudioSender({
    sampleRate: 48000,
    channels: 1,
    ssrc: off.ssrcs.audio,
    payloadType: 111,
    autoSilence: false,
    capacityMs: 20_000,
  });
  sender.write(pcm);
  const start = performance.now();
  while (sender.queuedMs > 0) {
    for (const p of sender.pull(performance.now())) off.tracks.audio.sendMessageBinary(Buffer.from(p));
    await new Promise((r) => setTimeout(r, 5));
    if (performance.now() - start > 30_000) break;
  }
  sender.close();
}

describe('examples/voice-agent.ts with a node-datachannel Pipecat-like client', () => {
  it('greets, then answers a spoken turn with speech on the wire', { timeout: 90_000 }, async () => {
    const off = await NodeOfferer.create({ trickle: false });
    const conn = new SmallWebRTCConnection({ bindAddress: '127.0.0.1' });
    await conn.initialize(off.offer);
    const answer = conn.getAnswer();
    if (answer === null) throw new Error('no answer');
    off.setAnswer(answer);

    // What the peer hears: decoded bot audio with arrival times.
    const receiver = new AudioReceiver({ sampleRate: 48000, channels: 1 });
    const heard: Array<{ at: number; loud: boolean }> = [];
    off.onRtp('audio', (buf) => {
      const now = performance.now();
      for (const f of receiver.push(buf, now)) heard.push({ at: now, loud: rms(f.audio) > 300 });
    });

    const holder: { session?: { context: LLMContext; task: PipelineTask } } = {};
    const running = runVoiceAgent(conn, {
      services: { stt: new TurnDurationSTT(), llm: new RuleBasedLLM(), tts: new EspeakTTS() },
      onSession: (session) => (holder.session = session),
    });
    const speech = makeSpeechWav({
      text: 'Hello there, can you hear me? I am testing the voice agent.',
      rate: 48000,
      padSilenceSecs: [0.2, 0.2],
    });
    try {
      await off.waitConnected();
      const s = holder.session;
      if (s === undefined) throw new Error('no session');
      const assistant = (): string[] =>
        s.context.messages.filter((m) => m.role === 'assistant').map((m) => String(m.content));

      // 1. The bot speaks first; the greeting is recorded once its audio went out.
      await waitFor(() => assistant().length === 1, 30_000, 'the greeting');
      expect(assistant()[0]).toMatch(/^Hello! I'm a voice agent/);
      const greetingLoud = heard.filter((h) => h.loud).length;
      expect(greetingLoud).toBeGreaterThan(50); // > 1 s of speech

      // 2. The user speaks; the VAD ends the turn, the STT reports its length, the bot answers aloud.
      const spokeAt = performance.now();
      // One stream (a second sender would restart the RTP sequence, which SRTP rejects as a replay), with
      // 1 s of trailing silence so the VAD's stop (stopSecs) is confirmed.
      const turn = new Int16Array(speech.samples.length + 48000);
      turn.set(speech.samples);
      await sendSpeech(off, turn);
      await waitFor(() => assistant().length === 2, 30_000, 'the answer');
      const user = s.context.messages.filter((m) => m.role === 'user').map((m) => String(m.content));
      expect(user).toHaveLength(1);
      const secs = Number(/^\(spoke for ([\d.]+) seconds\)$/.exec(user[0] ?? '')?.[1]);
      // The turn holds the speech (give or take VAD start/stop timing and the STT pre-roll).
      expect(secs).toBeGreaterThan(speech.speechSecs - 0.8);
      expect(secs).toBeLessThan(speech.speechSecs + 1.5);
      expect(assistant()[1]).toBe(
        `I heard you speak for ${secs.toFixed(1)} seconds. I have no speech recogniser, so I can't tell what ` +
          'you said. Plug one in, and we can really talk.',
      );
      const answerLoud = heard.filter((h) => h.loud && h.at > spokeAt + speech.durationSecs * 1000).length;
      expect(answerLoud).toBeGreaterThan(100); // the answer is several seconds of speech
    } finally {
      speech.cleanup();
      await holder.session?.task.cancel();
      off.close();
      await running;
      receiver.close();
    }
  });
});
