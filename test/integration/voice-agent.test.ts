/**
 * examples/voice-agent.ts end to end against an in-process node-datachannel peer laid out like the Pipecat web
 * client: real ICE/DTLS/SRTP on loopback, the peer speaks (espeak-ng speech as paced Opus RTP), the bot's
 * pipeline (Silero VAD -> turn-duration STT -> context -> rule-based LLM -> espeak-ng TTS) answers with audio on
 * the wire, which the peer decodes.
 */
import nodeDataChannel from 'node-datachannel';
import { performance } from 'node:perf_hooks';
import { afterAll, describe, expect, it } from 'vitest';

import { SmallWebRTCConnection, type LLMContext, type PipelineTask } from '../../src/index.js';
import { EspeakTTS, RuleBasedLLM, TurnDurationSTT, runVoiceAgent } from '../../examples/voice-agent.js';
import { PipecatLikeClient } from '../../testkit/pipecat-like-client.js';
import { makeSpeechWav } from '../helpers/speech.js';
import { rms } from '../../testkit/audio.js';
import { until } from '../../testkit/wait.js';

afterAll(() => {
  nodeDataChannel.cleanup();
});

interface Agent {
  off: PipecatLikeClient;
  context: LLMContext;
  task: PipelineTask;
  running: Promise<void>;
  /** Decoded bot audio as the peer hears it: arrival time (performance.now(), ms) and loudness. */
  heard: Array<{ at: number; loud: boolean }>;
  assistant(): string[];
  user(): string[];
  stop(): Promise<void>;
}

async function startAgent(): Promise<Agent> {
  const off = await PipecatLikeClient.create({ trickle: false });
  const conn = new SmallWebRTCConnection({ bindAddress: '127.0.0.1' });
  await off.negotiate(conn);
  const heard: Array<{ at: number; loud: boolean }> = [];
  const listener = off.listenToAudio((f) => heard.push({ at: f.at, loud: rms(f.pcm) > 300 }));
  const holder: { session?: { context: LLMContext; task: PipelineTask } } = {};
  const running = runVoiceAgent(conn, {
    services: { stt: new TurnDurationSTT(), llm: new RuleBasedLLM(), tts: new EspeakTTS() },
    onSession: (session) => (holder.session = session),
  });
  const s = holder.session;
  if (s === undefined) throw new Error('no session');
  const texts = (role: string): string[] =>
    s.context.messages.filter((m) => m.role === role).map((m) => String(m.content));
  await off.waitConnected();
  return {
    off,
    ...s,
    running,
    heard,
    assistant: () => texts('assistant'),
    user: () => texts('user'),
    stop: async () => {
      await s.task.cancel();
      off.close();
      await running;
      listener.close();
    },
  };
}

/** `speech` (48 kHz mono) followed by `silenceSecs` of silence, as one stream. */
function withSilence(speech: Int16Array, silenceSecs: number): Int16Array {
  // One stream: a second sender would restart the RTP sequence, which SRTP rejects as a replay.
  const out = new Int16Array(speech.length + Math.round(48000 * silenceSecs));
  out.set(speech);
  return out;
}

const GREETING =
  "Hello! I'm a voice agent running entirely on this computer. Say something, and I will answer.";

describe('examples/voice-agent.ts with a node-datachannel Pipecat-like client', () => {
  it('greets, then answers a spoken turn with speech on the wire', { timeout: 90_000 }, async () => {
    const agent = await startAgent();
    const speech = makeSpeechWav({
      text: 'Hello there, can you hear me? I am testing the voice agent.',
      rate: 48000,
      padSilenceSecs: [0.2, 0.2],
    });
    try {
      await agent.off.waitUntil(() => agent.off.channelOpen, 10_000, 'the data channel');
      agent.off.sendJson({ label: 'rtvi-ai', type: 'client-ready', id: 'r1', data: { version: '2.1.0' } });
      await agent.off.waitForMessage((m) => m['type'] === 'bot-ready');
      // 1. The bot speaks first; the greeting is recorded once its audio went out.
      await until(() => agent.assistant().length === 1, 30_000, 'the greeting');
      expect(agent.assistant()[0]).toBe(GREETING);
      expect(agent.heard.filter((h) => h.loud).length).toBeGreaterThan(50); // > 1 s of speech

      // 2. The user speaks; the VAD ends the turn, the STT reports its length, the bot answers aloud.
      const spokeAt = performance.now();
      // 1 s of trailing silence so the VAD's stop (stopSecs) is confirmed.
      await agent.off.sendSpeech(withSilence(speech.samples, 1));
      await until(() => agent.assistant().length === 2, 30_000, 'the answer');
      expect(agent.user()).toHaveLength(1);
      const secs = Number(/^\(spoke for ([\d.]+) seconds\)$/.exec(agent.user()[0] ?? '')?.[1]);
      // The turn holds the speech (give or take VAD start/stop timing and the STT pre-roll).
      expect(secs).toBeGreaterThan(speech.speechSecs - 0.8);
      expect(secs).toBeLessThan(speech.speechSecs + 1.5);
      expect(agent.assistant()[1]).toBe(
        `I heard you speak for ${secs.toFixed(1)} seconds. I have no speech recogniser, so I can't tell what ` +
          'you said. Plug one in, and we can really talk.',
      );
      const answerLoud = agent.heard.filter((h) => h.loud && h.at > spokeAt + speech.durationSecs * 1000);
      expect(answerLoud.length).toBeGreaterThan(100); // the answer is several seconds of speech

      // The Pipecat client is told what happens through RTVI events (RTVIProcessor + RTVIObserver).
      const events = (type: string): Array<Record<string, unknown>> =>
        agent.off.messages.filter((m) => m['type'] === type);
      expect(events('user-transcription').map((m) => m['data'])).toMatchObject([
        { text: agent.user()[0], final: true },
      ]);
      for (const type of [
        'user-started-speaking',
        'user-stopped-speaking',
        'bot-llm-started',
        'bot-tts-started',
      ]) {
        expect(events(type).length, type).toBeGreaterThanOrEqual(1);
      }
      expect(events('bot-started-speaking').length).toBeGreaterThanOrEqual(2);
      const llmText = events('bot-llm-text').map((m) => (m['data'] as { text: string }).text);
      expect(llmText.join('')).toBe(GREETING + agent.assistant()[1]);
      const ttsText = events('bot-tts-text').map((m) => (m['data'] as { text: string }).text);
      expect(ttsText.join(' ')).toBe(`${GREETING} ${agent.assistant()[1]}`);
    } finally {
      speech.cleanup();
      await agent.stop();
    }
  });

  it('stops talking when the user barges in, keeping what was said', { timeout: 90_000 }, async () => {
    const agent = await startAgent();
    const speech = makeSpeechWav({
      text: 'Wait, wait, let me talk now please, I have something important to say.',
      rate: 48000,
    });
    try {
      // Barge in 1.5 s into the greeting (about 5 s of speech).
      await until(() => agent.heard.some((h) => h.loud), 30_000, 'the greeting to start');
      const greetingAt = agent.heard.find((h) => h.loud)?.at ?? 0;
      await new Promise((r) => setTimeout(r, 1500));
      const spokeAt = performance.now();
      await agent.off.sendSpeech(withSilence(speech.samples, 1));
      await until(() => agent.user().length === 1, 30_000, 'the user turn');

      // The bot went quiet soon after the user started (VAD start confirmation + one packet; 2 s allows for a
      // loaded machine) and stayed quiet until the user had finished; without the barge-in the greeting would
      // fill that window.
      const quietFrom = spokeAt + 2000;
      const quietUntil = spokeAt + speech.durationSecs * 1000;
      const talkingOver = agent.heard.filter((h) => h.loud && h.at > quietFrom && h.at < quietUntil);
      expect(talkingOver.length).toBeLessThan(10);
      expect(spokeAt - greetingAt).toBeLessThan(4000); // the barge-in did land inside the greeting

      // The context keeps only the part of the greeting that went out, then the user's turn and the answer.
      await until(() => agent.assistant().length === 2, 30_000, 'the answer');
      const [partial, answer] = agent.assistant();
      expect(partial).not.toBe(GREETING);
      expect(GREETING.startsWith(partial ?? 'x')).toBe(true);
      expect(answer).toMatch(/^I heard you speak for [\d.]+ seconds\./);
      const roles = agent.context.messages.map((m) => m.role);
      expect(roles).toEqual(['system', 'system', 'assistant', 'user', 'assistant']);
    } finally {
      speech.cleanup();
      await agent.stop();
    }
  });
});
