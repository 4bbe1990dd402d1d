import { describe, expect, it } from 'vitest';

import {
  EndFrame,
  InterimTranscriptionFrame,
  InterruptionFrame,
  LLMContext,
  LLMContextAggregatorPair,
  LLMContextFrame,
  LLMFullResponseEndFrame,
  LLMFullResponseStartFrame,
  LLMMessagesAppendFrame,
  LLMRunFrame,
  LLMTextFrame,
  Pipeline,
  PipelineTask,
  TranscriptionFrame,
  TTSTextFrame,
  UserStartedSpeakingFrame,
  UserStoppedSpeakingFrame,
} from '../../src/pipeline/index.js';
import { Recorder, until } from './pipeline-helpers.js';

function setup(aggregationTimeoutSecs = 0.05): {
  context: LLMContext;
  llm: Recorder;
  tail: Recorder;
  task: PipelineTask;
  run: Promise<void>;
} {
  const context = new LLMContext([{ role: 'system', content: 'be brief' }]);
  const pair = new LLMContextAggregatorPair(context, { user: { aggregationTimeoutSecs } });
  const llm = new Recorder(); // stands in for the LLM service: records what reaches it
  const tail = new Recorder();
  const task = new PipelineTask(new Pipeline([pair.user(), llm, pair.assistant(), tail]), {
    idleTimeoutSecs: null,
  });
  return { context, llm, tail, task, run: task.run() };
}

describe('LLM context aggregators', () => {
  it('commits the user turn on UserStoppedSpeaking and runs the LLM once', async () => {
    const t = setup(5); // long timeout: the stop frame must trigger the commit, not the timer
    await t.task.queueFrame(new UserStartedSpeakingFrame());
    await t.task.queueFrames([
      new InterimTranscriptionFrame({ text: 'hel', userId: 'u' }),
      new TranscriptionFrame({ text: 'hello', userId: 'u' }),
      new TranscriptionFrame({ text: 'there', userId: 'u' }),
    ]);
    await until(() => t.llm.of(TranscriptionFrame).length === 0 && t.llm.kinds().length >= 2);
    await new Promise((r) => setTimeout(r, 20));
    expect(t.llm.of(LLMContextFrame)).toHaveLength(0);
    await t.task.queueFrame(new UserStoppedSpeakingFrame());
    await until(() => t.llm.of(LLMContextFrame).length === 1);
    expect(t.context.messages).toEqual([
      { role: 'system', content: 'be brief' },
      { role: 'user', content: 'hello there' },
    ]);
    expect(t.llm.of(TranscriptionFrame)).toHaveLength(0); // consumed
    await t.task.queueFrame(new EndFrame());
    await t.run;
  });

  it('commits a transcription that arrives after the stop, after the aggregation timeout', async () => {
    const t = setup(0.05);
    await t.task.queueFrame(new UserStartedSpeakingFrame());
    await t.task.queueFrame(new UserStoppedSpeakingFrame());
    await t.task.queueFrame(new TranscriptionFrame({ text: 'late words', userId: 'u' }));
    await until(() => t.llm.of(LLMContextFrame).length === 1);
    expect(t.context.messages.at(-1)).toEqual({ role: 'user', content: 'late words' });
    await t.task.queueFrame(new EndFrame());
    await t.run;
  });

  it('records the assistant response (TTS words preferred), partial on interruption', async () => {
    const t = setup();
    await t.task.queueFrames([
      new LLMFullResponseStartFrame(),
      new LLMTextFrame('Hi'),
      new LLMTextFrame(' there.'),
      new LLMFullResponseEndFrame(),
    ]);
    await until(() => t.context.messages.length === 2);
    expect(t.context.messages[1]).toEqual({ role: 'assistant', content: 'Hi there.' });
    await t.task.queueFrames([
      new LLMFullResponseStartFrame(),
      new TTSTextFrame('One'),
      new LLMTextFrame('One two'),
    ]);
    await until(() => t.tail.of(LLMTextFrame).length === 3);
    await t.task.queueFrame(new InterruptionFrame());
    await until(() => t.context.messages.length === 3);
    expect(t.context.messages[2]).toEqual({ role: 'assistant', content: 'One' });
    await t.task.queueFrame(new EndFrame());
    await t.run;
  });

  it('applies LLMMessagesAppendFrame and LLMRunFrame', async () => {
    const t = setup();
    await t.task.queueFrame(new LLMMessagesAppendFrame([{ role: 'user', content: 'a' }]));
    await t.task.queueFrame(new LLMMessagesAppendFrame([{ role: 'user', content: 'b' }], { runLlm: true }));
    await t.task.queueFrame(new LLMRunFrame());
    await until(() => t.llm.of(LLMContextFrame).length === 2);
    expect(t.context.messages.map((m) => m.content)).toEqual(['be brief', 'a', 'b']);
    expect(() => new LLMContextAggregatorPair(t.context, { user: { aggregationTimeoutSecs: -1 } })).toThrow(
      RangeError,
    );
    await t.task.queueFrame(new EndFrame());
    await t.run;
  });
});
