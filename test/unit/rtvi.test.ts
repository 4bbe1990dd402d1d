import { readFileSync } from 'node:fs';

import { afterEach, describe, expect, it } from 'vitest';

import { setLogger, type Logger } from '../../src/logger.js';
import {
  BotStartedSpeakingFrame,
  BotStoppedSpeakingFrame,
  EndFrame,
  ErrorFrame,
  type Frame,
  FrameDirection,
  FrameProcessor,
  InputAudioRawFrame,
  InterimTranscriptionFrame,
  LLMFullResponseEndFrame,
  LLMFullResponseStartFrame,
  LLMTextFrame,
  TranscriptionFrame,
  TTSStartedFrame,
  TTSStoppedFrame,
  TTSTextFrame,
  InputTransportMessageFrame,
  InterruptionTaskFrame,
  LLMMessagesAppendFrame,
  OutputTransportMessageUrgentFrame,
  Pipeline,
  PipelineTask,
  TextFrame,
  UserStartedSpeakingFrame,
  UserStoppedSpeakingFrame,
} from '../../src/pipeline/index.js';
import {
  RTVIObserver,
  RTVI_PROTOCOL_VERSION,
  RTVIClientMessageFrame,
  RTVIProcessor,
  RTVIServerResponseFrame,
  type RTVIClientMessage,
  type RTVIProcessorOptions,
  errorMessage,
  serverMessage,
} from '../../src/rtvi/index.js';
import { Recorder, until } from './pipeline-helpers.js';

const VERSION = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

const quiet: Logger = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };
afterEach(() => setLogger(null));

/** A running task [rtvi, after]; `sent` lists the RTVI messages the output transport would send. */
async function start(options: RTVIProcessorOptions = {}): Promise<{
  rtvi: RTVIProcessor;
  before: Recorder;
  after: Recorder;
  task: PipelineTask;
  run: Promise<void>;
  sent: () => unknown[];
  fromClient: (message: unknown) => Promise<void>;
}> {
  setLogger(quiet);
  const before = new Recorder();
  const rtvi = new RTVIProcessor(options);
  const after = new Recorder();
  const task = new PipelineTask(new Pipeline([before, rtvi, after]), { idleTimeoutSecs: null });
  const run = task.run();
  await until(() => after.started);
  return {
    rtvi,
    before,
    after,
    task,
    run,
    sent: () => after.of(OutputTransportMessageUrgentFrame).map((f) => f.message),
    // What the input transport does with an app message: push it both downstream and upstream.
    fromClient: async (message) => {
      await task.queueFrame(new InputTransportMessageFrame(message));
      await task.queueFrame(new InputTransportMessageFrame(message), FrameDirection.UPSTREAM);
    },
  };
}

function clientReady(version?: string): Record<string, unknown> {
  const data: Record<string, unknown> = {
    about: {
      library: '@pipecat-ai/client-js',
      library_version: '1.13.1',
      platform_details: { browser: 'Chrome' },
    },
  };
  if (version !== undefined) data['version'] = version;
  return { id: '1a2b3c4d', label: 'rtvi-ai', type: 'client-ready', data };
}

/** The bot-ready answer to clientReady() (id 1a2b3c4d), announcing this library unless `about` is given. */
function botReady(
  version: string,
  about: Record<string, unknown> = { library: 'small-webrtc', library_version: VERSION },
): Record<string, unknown> {
  return { label: 'rtvi-ai', type: 'bot-ready', id: '1a2b3c4d', data: { version, about } };
}

describe('RTVI handshake', () => {
  it('answers client-ready 2.1.0 with exactly one bot-ready echoing the id', async () => {
    const t = await start();
    const ready: unknown[] = [];
    t.rtvi.on('on_client_ready', (_p, c) => void ready.push(c));
    await t.fromClient(clientReady('2.1.0'));
    await until(() => t.sent().length === 1 && ready.length === 1);
    expect(JSON.stringify(t.sent()[0])).toBe(JSON.stringify(botReady('2.1.0')));
    expect(ready).toEqual([
      {
        id: '1a2b3c4d',
        version: '2.1.0',
        about: {
          library: '@pipecat-ai/client-js',
          library_version: '1.13.1',
          platform_details: { browser: 'Chrome' },
        },
      },
    ]);
    expect(t.rtvi.botReadySent).toBe(true);
    // The RTVI message is consumed: not passed on in either direction.
    expect(t.after.kinds(FrameDirection.DOWNSTREAM)).not.toContain('InputTransportMessageFrame');
    expect(t.before.kinds(FrameDirection.UPSTREAM)).not.toContain('InputTransportMessageFrame');
    expect(RTVI_PROTOCOL_VERSION).toBe('2.1.0');
    await t.task.cancel();
    await t.run;
  });

  it('echoes a 1.x client version without an error', async () => {
    const t = await start();
    await t.fromClient(clientReady('1.0.0'));
    await until(() => t.sent().length >= 1);
    await new Promise((r) => setTimeout(r, 20));
    expect(t.sent()).toEqual([botReady('1.0.0')]);
    await t.task.cancel();
    await t.run;
  });

  it.each([
    [undefined, 'Client version unknown. Compatibility issues may occur.'],
    [
      '3.0.0',
      'RTVI version 3.0.0 is not compatible with server protocol 2.1.0. Compatibility issues may occur.',
    ],
    [
      '0.3.1',
      'RTVI version 0.3.1 is not compatible with server protocol 2.1.0. Compatibility issues may occur.',
    ],
    ['two', 'Invalid client version format (two). Compatibility issues may occur.'],
  ])('client version %s: error-response, then bot-ready 2.1.0 anyway', async (version, error) => {
    const t = await start();
    await t.fromClient(clientReady(version));
    await until(() => t.sent().length === 2);
    expect(t.sent()).toEqual([
      { label: 'rtvi-ai', type: 'error-response', id: '1a2b3c4d', data: { error } },
      botReady('2.1.0'),
    ]);
    await t.task.cancel();
    await t.run;
  });

  it('with autoBotReady false, waits for setBotReady() (custom about)', async () => {
    const t = await start({ autoBotReady: false });
    await expect(t.rtvi.setBotReady()).rejects.toMatchObject({ code: 'ERR_INVALID_STATE' });
    let readyEvents = 0;
    t.rtvi.on('on_client_ready', () => void readyEvents++);
    await t.fromClient(clientReady('2.1.0'));
    await until(() => readyEvents === 1);
    expect(t.sent()).toEqual([]);
    await t.rtvi.setBotReady({ library: 'my-bot', library_version: '9.9.9' });
    expect(t.sent()).toEqual([botReady('2.1.0', { library: 'my-bot', library_version: '9.9.9' })]);
    await t.task.cancel();
    await t.run;
  });
});

describe('RTVI messages', () => {
  it('answers unsupported types with error-response "Unsupported type …" and tolerates known ones', async () => {
    const t = await start();
    await t.fromClient({ id: 'u1', label: 'rtvi-ai', type: 'append-to-context', data: {} });
    await t.fromClient({ id: 'u2', label: 'rtvi-ai', type: 'ui-event', data: { event: 'click' } });
    await t.fromClient({ id: 'u3', label: 'rtvi-ai', type: 'whatever' });
    await until(() => t.sent().length === 2);
    expect(t.sent()).toEqual([
      {
        label: 'rtvi-ai',
        type: 'error-response',
        id: 'u1',
        data: { error: 'Unsupported type append-to-context' },
      },
      { label: 'rtvi-ai', type: 'error-response', id: 'u3', data: { error: 'Unsupported type whatever' } },
    ]);
    await t.task.cancel();
    await t.run;
  });

  it('surfaces client-message as a frame and an event, and answers with server-response', async () => {
    const t = await start();
    t.rtvi.on('on_client_message', async (rtvi, msg) => {
      if (msg.type === 'add') {
        const d = msg.data as { a: number; b: number };
        await rtvi.sendServerResponse(msg, { sum: d.a + d.b });
      } else {
        await rtvi.sendErrorResponse(msg, `unknown request ${msg.type}`);
      }
    });
    await t.fromClient({
      id: 'm1',
      label: 'rtvi-ai',
      type: 'client-message',
      data: { t: 'add', d: { a: 2, b: 3 } },
    });
    await t.fromClient({ id: 'm2', label: 'rtvi-ai', type: 'client-message', data: { t: 'nope' } });
    await until(() => t.sent().length === 2);
    expect(t.sent()).toEqual([
      { label: 'rtvi-ai', type: 'server-response', id: 'm1', data: { t: 'add', d: { sum: 5 } } },
      { label: 'rtvi-ai', type: 'error-response', id: 'm2', data: { error: 'unknown request nope' } },
    ]);
    const frames = t.after.of(RTVIClientMessageFrame);
    expect(frames.map((f) => [f.msgId, f.type, f.data])).toEqual([
      ['m1', 'add', { a: 2, b: 3 }],
      ['m2', 'nope', undefined],
    ]);
    await t.task.cancel();
    await t.run;
  });

  it('answers an RTVIServerResponseFrame pushed upstream by a later processor', async () => {
    setLogger(quiet);
    class Answerer extends FrameProcessor {
      override async processFrame(frame: Frame, direction: FrameDirection): Promise<void> {
        if (frame instanceof RTVIClientMessageFrame) {
          const msg: RTVIClientMessage = { msgId: frame.msgId, type: frame.type, data: frame.data };
          await this.pushFrame(new RTVIServerResponseFrame(msg, { data: 'pong' }), FrameDirection.UPSTREAM);
          return;
        }
        await this.pushFrame(frame, direction);
      }
    }
    const rtvi = new RTVIProcessor();
    const out = new Recorder();
    const task = new PipelineTask(new Pipeline([rtvi, new Answerer(), out]), { idleTimeoutSecs: null });
    const run = task.run();
    await task.queueFrame(
      new InputTransportMessageFrame({
        id: 'p1',
        label: 'rtvi-ai',
        type: 'client-message',
        data: { t: 'ping' },
      }),
    );
    await until(() => out.of(OutputTransportMessageUrgentFrame).length === 1);
    expect(out.of(OutputTransportMessageUrgentFrame)[0]?.message).toEqual({
      label: 'rtvi-ai',
      type: 'server-response',
      id: 'p1',
      data: { t: 'ping', d: 'pong' },
    });
    await task.cancel();
    await run;
  });

  it('disconnect-bot ends the task gracefully', async () => {
    const t = await start();
    let finishedWith = '';
    t.task.on('on_pipeline_finished', (_t, f) => void (finishedWith = f.constructor.name));
    await t.fromClient({ id: 'd1', label: 'rtvi-ai', type: 'disconnect-bot', data: {} });
    await t.run;
    expect(finishedWith).toBe('EndFrame');
    expect(t.after.of(EndFrame)).toHaveLength(1);
  });

  it('send-text interrupts the bot, then appends the user message behind the interruption', async () => {
    setLogger(quiet);
    // A busy processor downstream: its queued frames are dropped by the interruption, so the appended
    // message must arrive after the InterruptionFrame has passed, not before.
    class Busy extends FrameProcessor {
      override async processFrame(frame: Frame, direction: FrameDirection): Promise<void> {
        if (frame instanceof TextFrame) {
          await new Promise<void>((resolve) =>
            this.interruptionSignal.addEventListener('abort', () => resolve()),
          );
          return;
        }
        await this.pushFrame(frame, direction);
      }
    }
    const before = new Recorder();
    const rtvi = new RTVIProcessor();
    const busy = new Busy();
    const after = new Recorder();
    const task = new PipelineTask(new Pipeline([before, rtvi, busy, after]), { idleTimeoutSecs: null });
    const run = task.run();
    await task.queueFrame(new TextFrame('long bot answer'));
    await until(() => busy.queuedFrames === 0 && after.started);
    await task.queueFrame(
      new InputTransportMessageFrame({
        id: 's1',
        label: 'rtvi-ai',
        type: 'send-text',
        data: { content: 'hello bot', options: { run_immediately: true, audio_response: true } },
      }),
    );
    await until(() => after.of(LLMMessagesAppendFrame).length === 1);
    expect(before.of(InterruptionTaskFrame)).toHaveLength(1);
    expect(after.kinds()).toEqual(['StartFrame', 'InterruptionFrame', 'LLMMessagesAppendFrame']);
    const f = after.of(LLMMessagesAppendFrame)[0];
    expect(f?.messages).toEqual([{ role: 'user', content: 'hello bot' }]);
    expect(f?.runLlm).toBe(true);
    await task.cancel();
    await run;
  });

  it('send-text without run_immediately only appends', async () => {
    const t = await start();
    await t.fromClient({
      id: 's2',
      label: 'rtvi-ai',
      type: 'send-text',
      data: { content: 'later', options: { run_immediately: false } },
    });
    await until(() => t.after.of(LLMMessagesAppendFrame).length === 1);
    expect(t.after.of(LLMMessagesAppendFrame)[0]?.runLlm).toBe(false);
    expect(t.before.of(InterruptionTaskFrame)).toHaveLength(0);
    await t.task.cancel();
    await t.run;
  });

  it('raw-audio becomes InputAudioRawFrames (s16le)', async () => {
    const t = await start();
    const pcm = Buffer.alloc(8);
    [1, -2, 300, -32768].forEach((v, i) => pcm.writeInt16LE(v, i * 2));
    await t.fromClient({
      id: 'r1',
      label: 'rtvi-ai',
      type: 'raw-audio',
      data: { base64Audio: pcm.toString('base64'), sampleRate: 16000, numChannels: 1 },
    });
    await until(() => t.after.of(InputAudioRawFrame).length === 1);
    const f = t.after.of(InputAudioRawFrame)[0];
    expect([...(f?.audio ?? [])]).toEqual([1, -2, 300, -32768]);
    expect(f?.sampleRate).toBe(16000);
    await t.task.cancel();
    await t.run;
  });

  it('passes non-RTVI app messages through in both directions', async () => {
    const t = await start();
    await t.fromClient({ type: 'my-app', value: 1 });
    await until(() => t.before.kinds(FrameDirection.UPSTREAM).includes('InputTransportMessageFrame'));
    const down = t.after.seen.filter((s) => s.direction === FrameDirection.DOWNSTREAM).map((s) => s.frame);
    const messages = down.filter((f) => f instanceof InputTransportMessageFrame).map((f) => f.message);
    expect(messages).toEqual([{ type: 'my-app', value: 1 }]);
    expect(t.sent()).toEqual([]);
    await t.task.cancel();
    await t.run;
  });
});

describe('RTVI events', () => {
  it('forwards speaking state changes once each, with the exact event shapes', async () => {
    const t = await start();
    // Frames from different entry points are not ordered relative to each other: wait between steps.
    await t.task.queueFrame(new UserStartedSpeakingFrame());
    await t.task.queueFrame(new UserStartedSpeakingFrame()); // duplicate: no second event
    await t.task.queueFrame(new UserStoppedSpeakingFrame());
    await until(() => t.after.of(UserStoppedSpeakingFrame).length === 1);
    // The output transport pushes bot speaking frames upstream (and downstream).
    await t.after.pushFrame(new BotStartedSpeakingFrame(), FrameDirection.UPSTREAM);
    await t.after.pushFrame(new BotStartedSpeakingFrame(), FrameDirection.UPSTREAM); // duplicate
    await t.after.pushFrame(new BotStoppedSpeakingFrame(), FrameDirection.UPSTREAM);
    await until(() => t.before.of(BotStoppedSpeakingFrame).length === 1);
    expect(t.sent()).toEqual([
      { label: 'rtvi-ai', type: 'user-started-speaking' },
      { label: 'rtvi-ai', type: 'user-stopped-speaking' },
      { label: 'rtvi-ai', type: 'bot-started-speaking' },
      { label: 'rtvi-ai', type: 'bot-stopped-speaking' },
    ]);
    // The frames themselves still flow.
    expect(t.after.of(UserStartedSpeakingFrame)).toHaveLength(2);
    expect(t.before.of(BotStartedSpeakingFrame)).toHaveLength(2);
    await t.task.cancel();
    await t.run;
  });

  it('sends ErrorFrames passing through as RTVI error events, and builds server-message', async () => {
    const t = await start();
    const err = new ErrorFrame('tts failed', { fatal: false });
    await t.after.pushFrame(err, FrameDirection.UPSTREAM);
    await until(() => t.sent().length === 1);
    expect(t.sent()).toEqual([
      { label: 'rtvi-ai', type: 'error', data: { error: 'tts failed', fatal: false } },
    ]);
    await t.rtvi.sendServerMessage({ hello: 'world' });
    expect(t.sent()[1]).toEqual({ label: 'rtvi-ai', type: 'server-message', data: { hello: 'world' } });
    expect(serverMessage(1)).toEqual({ label: 'rtvi-ai', type: 'server-message', data: 1 });
    expect(errorMessage('bad', true)).toEqual({
      label: 'rtvi-ai',
      type: 'error',
      data: { error: 'bad', fatal: true },
    });
    await t.task.cancel();
    await t.run;
  });
});

describe('RTVIObserver', () => {
  it('reports transcriptions and LLM/TTS output from anywhere in the pipeline, once per frame', async () => {
    setLogger(quiet);
    const rtvi = new RTVIProcessor();
    const stt = new Recorder(); // stands in for STT/LLM/TTS: frames are queued into the pipeline after it
    const mid = new Recorder();
    const out = new Recorder();
    const task = new PipelineTask(new Pipeline([rtvi, stt, mid, out]), {
      idleTimeoutSecs: null,
      observers: [new RTVIObserver(rtvi)],
    });
    const pushedEvents: string[] = [];
    task.addObserver({
      onPushFrame: (e) => void pushedEvents.push(`${e.source.name}>${e.destination.name}`),
    });
    const run = task.run();
    await until(() => out.started);
    await task.queueFrames([
      new InterimTranscriptionFrame({ text: 'hel', userId: 'u1', timestamp: 't0' }),
      new TranscriptionFrame({ text: 'hello', userId: 'u1', timestamp: 't1' }),
      new LLMFullResponseStartFrame(),
      new LLMTextFrame('Hi!'),
      new LLMFullResponseEndFrame(),
      new TTSStartedFrame(),
      new TTSTextFrame('Hi!'),
      new TTSStoppedFrame(),
    ]);
    await until(() => out.of(TTSStoppedFrame).length === 1);
    await until(() => out.of(OutputTransportMessageUrgentFrame).length === 8);
    expect(out.of(OutputTransportMessageUrgentFrame).map((f) => f.message)).toEqual([
      {
        label: 'rtvi-ai',
        type: 'user-transcription',
        data: { text: 'hel', user_id: 'u1', timestamp: 't0', final: false },
      },
      {
        label: 'rtvi-ai',
        type: 'user-transcription',
        data: { text: 'hello', user_id: 'u1', timestamp: 't1', final: true },
      },
      { label: 'rtvi-ai', type: 'bot-llm-started' },
      { label: 'rtvi-ai', type: 'bot-llm-text', data: { text: 'Hi!' } },
      { label: 'rtvi-ai', type: 'bot-llm-stopped' },
      { label: 'rtvi-ai', type: 'bot-tts-started' },
      { label: 'rtvi-ai', type: 'bot-tts-text', data: { text: 'Hi!' } },
      { label: 'rtvi-ai', type: 'bot-tts-stopped' },
    ]);
    // Observers see every hop, including the task's own edges.
    expect(pushedEvents).toContain(`${stt.name}>${mid.name}`);
    await task.cancel();
    await run;
  });
});
