// End to end: the demo page (real @pipecat-ai/client-js + small-webrtc-transport) in headless Chromium
// against examples/voice-agent.ts (`runVoiceAgent` with its offline services) behind our HTTP server. The fake
// microphone plays espeak-ng speech once, after a pause; the page must get bot-ready, hear the greeting, get
// the user transcription event for its turn, and hear the answer.
import { describe, expect, it } from 'vitest';

import { runVoiceAgent } from '../../examples/voice-agent.js';
import type { LLMContext } from '../../src/index.js';
import { chromiumAvailable } from '../../testkit/chromium.js';
import { useDemo } from '../helpers/demo-page.js';
import { until } from '../../testkit/wait.js';

describe.skipIf(!chromiumAvailable())('demo page <-> the voice agent example (Chromium)', () => {
  const contexts: LLMContext[] = [];
  const runs: Array<Promise<void>> = [];

  // The greeting takes ~5 s from connect: the user speaks after it (7 s of lead silence), once.
  const rig = useDemo({
    speech: {
      text: 'Hello, can you hear me? I would like to talk to the voice agent.',
      rate: 48000,
      padSilenceSecs: [7, 2],
    },
    noLoop: true,
    onNewConnection: (connection) => {
      runs.push(
        runVoiceAgent(connection, { onSession: ({ context }) => void contexts.push(context) }).catch(
          (err: unknown) => console.error('voice agent failed', err),
        ),
      );
    },
    afterClose: () => Promise.all(runs),
  });

  it('greets, transcribes the turn (as its duration) and answers, heard in the page', async () => {
    expect(await rig.connect()).toEqual({ state: 'ready', botReady: true, errors: [] });
    const transcripts = (): Promise<Array<{ text: string; final: boolean }>> =>
      rig.demo((d) =>
        d.events
          .filter((e) => e.type === 'UserTranscript')
          .map((e) => e.data as { text: string; final: boolean }),
      );
    await until(async () => (await transcripts()).length >= 1, 40_000, 'the user transcript event');
    const [first] = await transcripts();
    expect(first?.final).toBe(true);
    const secs = Number(/^\(spoke for ([\d.]+) seconds\)$/.exec(first?.text ?? '')?.[1]);
    expect(secs).toBeGreaterThan(rig.wav.speechSecs - 0.8);
    expect(secs).toBeLessThan(rig.wav.speechSecs + 1.5);

    // The answer is spoken: the bot starts speaking again after the transcript, and the page hears it.
    const context = contexts[0];
    if (context === undefined) throw new Error('no session');
    await until(
      () => context.messages.filter((m) => m.role === 'assistant').length >= 2,
      30_000,
      'the answer in the context',
    );
    const page = await rig.demo((d) => ({
      botStarted: d.events.filter((e) => e.type === 'BotStartedSpeaking').length,
      loud: d.remoteAudioRms.filter((r) => r > 0.01).length,
      errors: d.errors,
    }));
    console.log(
      `[voice-agent-chromium] ${JSON.stringify(page)}; context: ${JSON.stringify(context.messages)}`,
    );
    expect(page.errors).toEqual([]);
    expect(page.botStarted).toBeGreaterThanOrEqual(2);
    // Greeting (~5 s) plus answer (~6 s) at 100 ms per meter value: well over 5 s of audible bot speech.
    expect(page.loud).toBeGreaterThan(50);
    await rig.demo((d) => d.disconnect());
  }, 90_000);
});
