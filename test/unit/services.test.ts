import { describe, expect, it } from 'vitest';

import {
  EndFrame,
  ErrorFrame,
  InputAudioRawFrame,
  InterruptionFrame,
  LLMContext,
  LLMContextAggregatorPair,
  LLMContextFrame,
  LLMFullResponseEndFrame,
  LLMFullResponseStartFrame,
  LLMMessagesFrame,
  LLMService,
  LLMTextFrame,
  Pipeline,
  PipelineTask,
  STTService,
  TTSAudioRawFrame,
  TTSService,
  TTSSpeakFrame,
  TTSStartedFrame,
  TTSStoppedFrame,
  TTSTextFrame,
  TranscriptionFrame,
  UserStartedSpeakingFrame,
  UserStoppedSpeakingFrame,
  matchEndOfSentence,
  type FrameProcessor,
  type LLMMessage,
} from '../../src/index.js';
import { Gate, Recorder, settle, until } from './pipeline-helpers.js';

const RATE = 16000;

/** 20 ms of input audio whose every sample is `value` (lets the test trace which frames were buffered). */
function mic(value: number): InputAudioRawFrame {
  return new InputAudioRawFrame({ audio: new Int16Array(320).fill(value), sampleRate: RATE });
}

/** Reports what it was given: the number of samples and the distinct sample values, in order. */
class ProbeSTT extends STTService {
  readonly turns: Array<{ samples: number; values: number[]; sampleRate: number }> = [];
  override runStt(audio: Int16Array, sampleRate: number): Promise<string> {
    const values: number[] = [];
    for (const v of audio) if (values.at(-1) !== v) values.push(v);
    this.turns.push({ samples: audio.length, values, sampleRate });
    return Promise.resolve(`turn ${this.turns.length}`);
  }
}

/** Yields two segments per turn, the second after a tick (a streaming recogniser). */
class StreamingSTT extends STTService {
  override async *runStt(): AsyncIterable<string> {
    yield 'first part';
    await new Promise((r) => setTimeout(r, 5));
    yield '  ';
    yield 'second part';
  }
}

/** Streams the words of a fixed answer; records the messages it was given. */
class ScriptLLM extends LLMService {
  readonly calls: LLMMessage[][] = [];
  constructor(readonly answers: string[]) {
    super();
  }
  override async *runLlm(messages: readonly LLMMessage[]): AsyncIterable<string> {
    this.calls.push([...messages]);
    const answer = this.answers[this.calls.length - 1] ?? 'ok.';
    for (const w of answer.split(/(?<= )/)) {
      await new Promise((r) => setTimeout(r, 1));
      yield w;
    }
  }
}

/** An LLM whose chunks are released one at a time by the test. */
class GatedLLM extends LLMService {
  readonly gates: Gate[] = [new Gate(), new Gate(), new Gate(), new Gate()];
  signal: AbortSignal | null = null;
  finished: 'returned' | 'completed' | null = null;
  override async *runLlm(_messages: readonly LLMMessage[], signal: AbortSignal): AsyncIterable<string> {
    this.signal = signal;
    let completed = false;
    try {
      for (let i = 0; i < this.gates.length; i++) {
        await this.gates[i]?.wait();
        yield `chunk${i} `;
      }
      completed = true;
    } finally {
      this.finished = completed ? 'completed' : 'returned';
    }
  }
}

/** One 10 ms chunk per word, its samples set to the word's length (so the test can map audio to words). */
class WordTTS extends TTSService {
  readonly spoken: string[] = [];
  constructor() {
    super({ sampleRate: 24000 });
  }
  override async *runTts(text: string, _signal?: AbortSignal): AsyncIterable<Int16Array> {
    this.spoken.push(text);
    for (const w of text.split(' ')) {
      await new Promise((r) => setTimeout(r, 1));
      yield new Int16Array(240).fill(w.length);
    }
  }
}

function run(processors: FrameProcessor[]): { task: PipelineTask; done: Promise<void>; tail: Recorder } {
  const tail = new Recorder();
  const task = new PipelineTask(new Pipeline([...processors, tail]), { idleTimeoutSecs: null });
  return { task, done: task.run(), tail };
}

describe('STTService', () => {
  it('transcribes the audio of a turn (with pre-roll) and pushes a TranscriptionFrame after the stop', async () => {
    const stt = new ProbeSTT({ userId: 'alice', language: 'en', prerollSecs: 0.04 });
    const { task, done, tail } = run([stt]);
    // 5 silent frames before the VAD start: only the last 40 ms (2 frames) are kept as pre-roll.
    for (let i = 1; i <= 5; i++) await task.queueFrame(mic(i));
    await task.queueFrame(new UserStartedSpeakingFrame());
    for (let i = 0; i < 10; i++) await task.queueFrame(mic(100 + i));
    await task.queueFrame(new UserStoppedSpeakingFrame());
    await task.queueFrame(mic(7)); // after the turn: not part of it
    await until(() => tail.of(TranscriptionFrame).length === 1);
    expect(stt.turns).toEqual([
      {
        samples: 12 * 320,
        values: [4, 5, 100, 101, 102, 103, 104, 105, 106, 107, 108, 109],
        sampleRate: RATE,
      },
    ]);
    const t = tail.of(TranscriptionFrame)[0];
    expect(t?.text).toBe('turn 1');
    expect(t?.userId).toBe('alice');
    expect(t?.language).toBe('en');
    // Audio passes through; the transcription follows the stop.
    expect(tail.of(InputAudioRawFrame)).toHaveLength(16);
    const kinds = tail.kinds().filter((k) => k !== 'InputAudioRawFrame' && k !== 'StartFrame');
    expect(kinds).toEqual(['UserStartedSpeakingFrame', 'UserStoppedSpeakingFrame', 'TranscriptionFrame']);

    // A second turn is transcribed on its own.
    await task.queueFrame(new UserStartedSpeakingFrame());
    for (let i = 0; i < 3; i++) await task.queueFrame(mic(200));
    await task.queueFrame(new UserStoppedSpeakingFrame());
    await until(() => tail.of(TranscriptionFrame).length === 2);
    expect(stt.turns[1]?.values).toEqual([7, 200]); // pre-roll: the frame heard since turn 1
    expect(tail.of(TranscriptionFrame)[1]?.text).toBe('turn 2');
    await task.queueFrame(new EndFrame());
    await done;
  });

  it('pushes one frame per non-blank streamed segment, and validates its options', async () => {
    const { task, done, tail } = run([new StreamingSTT({ audioPassthrough: false })]);
    await task.queueFrame(new UserStartedSpeakingFrame());
    await task.queueFrame(mic(1));
    await task.queueFrame(new UserStoppedSpeakingFrame());
    await until(() => tail.of(TranscriptionFrame).length === 2);
    expect(tail.of(TranscriptionFrame).map((f) => f.text)).toEqual(['first part', 'second part']);
    expect(tail.of(InputAudioRawFrame)).toHaveLength(0);
    expect(() => new ProbeSTT({ prerollSecs: 5 })).toThrow(RangeError);
    expect(() => new ProbeSTT({ maxTurnSecs: 0 })).toThrow(/maxTurnSecs/);
    await task.queueFrame(new EndFrame());
    await done;
  });
  it('lets a pending transcription through before an EndFrame', async () => {
    class SlowSTT extends STTService {
      override async runStt(): Promise<string> {
        await new Promise((r) => setTimeout(r, 50));
        return 'late';
      }
    }
    const { task, done, tail } = run([new SlowSTT()]);
    await task.queueFrames([new UserStartedSpeakingFrame(), mic(1), new UserStoppedSpeakingFrame()]);
    await task.queueFrame(new EndFrame());
    await done;
    const kinds = tail.kinds();
    expect(kinds.indexOf('TranscriptionFrame')).toBeGreaterThan(0);
    expect(kinds.indexOf('TranscriptionFrame')).toBeLessThan(kinds.indexOf('EndFrame'));
  });

  it('caps a turn at maxTurnSecs', async () => {
    const stt = new ProbeSTT({ maxTurnSecs: 1, prerollSecs: 0 });
    const { task, done, tail } = run([stt]);
    await task.queueFrame(new UserStartedSpeakingFrame());
    for (let i = 0; i < 60; i++) await task.queueFrame(mic(i < 50 ? 1 : 2)); // 1.2 s
    await task.queueFrame(new UserStoppedSpeakingFrame());
    await until(() => tail.of(TranscriptionFrame).length === 1);
    expect(stt.turns[0]).toEqual({ samples: 16000, values: [1], sampleRate: RATE });
    await task.queueFrame(new EndFrame());
    await done;
  });
});

describe('LLMService', () => {
  it('pushes start, one text frame per chunk, end; for context and messages frames', async () => {
    const llm = new ScriptLLM(['Hello there.', 'Again.']);
    const { task, done, tail } = run([llm]);
    const context = new LLMContext([{ role: 'user', content: 'hi' }]);
    await task.queueFrame(new LLMContextFrame(context));
    await until(() => tail.of(LLMFullResponseEndFrame).length === 1);
    expect(tail.kinds().filter((k) => k !== 'StartFrame')).toEqual([
      'LLMFullResponseStartFrame',
      'LLMTextFrame',
      'LLMTextFrame',
      'LLMFullResponseEndFrame',
    ]);
    expect(tail.of(LLMTextFrame).map((f) => f.text)).toEqual(['Hello ', 'there.']);
    expect(llm.calls[0]).toEqual([{ role: 'user', content: 'hi' }]);
    // The service gets a snapshot: later context changes do not alter what it was given.
    context.addMessage({ role: 'assistant', content: 'x' });
    expect(llm.calls[0]).toHaveLength(1);
    await task.queueFrame(new LLMMessagesFrame([{ role: 'system', content: 's' }]));
    await until(() => tail.of(LLMFullResponseEndFrame).length === 2);
    expect(llm.calls[1]).toEqual([{ role: 'system', content: 's' }]);
    await task.queueFrame(new EndFrame());
    await done;
  });

  it('stops pushing when interrupted mid-stream and tells the provider to stop', async () => {
    const llm = new GatedLLM();
    const { task, done, tail } = run([llm]);
    await task.queueFrame(new LLMContextFrame(new LLMContext([{ role: 'user', content: 'go' }])));
    llm.gates[0]?.open();
    llm.gates[1]?.open();
    await until(() => tail.of(LLMTextFrame).length === 2);
    expect(llm.signal?.aborted).toBe(false);
    await task.queueFrame(new InterruptionFrame());
    await until(() => tail.of(InterruptionFrame).length === 1);
    expect(llm.signal?.aborted).toBe(true);
    // The provider would go on: nothing of it reaches the pipeline any more.
    llm.gates[2]?.open();
    llm.gates[3]?.open();
    await until(() => llm.finished !== null);
    await settle(20);
    expect(llm.finished).toBe('returned');
    expect(tail.of(LLMTextFrame).map((f) => f.text)).toEqual(['chunk0 ', 'chunk1 ']);
    expect(tail.of(LLMFullResponseEndFrame)).toHaveLength(0);
    // The service is usable again after the interruption.
    llm.gates.splice(0, 4, new Gate(), new Gate(), new Gate(), new Gate());
    for (const g of llm.gates) g.open();
    await task.queueFrame(new LLMContextFrame(new LLMContext()));
    await until(() => tail.of(LLMFullResponseEndFrame).length === 1);
    expect(tail.of(LLMTextFrame)).toHaveLength(6);
    await task.queueFrame(new EndFrame());
    await done;
  });

  it('closes the response and reports a provider error upstream', async () => {
    class FailingLLM extends LLMService {
      // eslint-disable-next-line require-yield
      override async *runLlm(): AsyncIterable<string> {
        throw new Error('quota exceeded');
      }
    }
    const head = new Recorder();
    const { task, done, tail } = run([head, new FailingLLM()]);
    await task.queueFrame(new LLMContextFrame(new LLMContext()));
    await until(() => head.of(ErrorFrame).length === 1);
    expect(head.of(ErrorFrame)[0]?.error).toMatch(/quota exceeded/);
    expect(tail.kinds().filter((k) => k !== 'StartFrame')).toEqual([
      'LLMFullResponseStartFrame',
      'LLMFullResponseEndFrame',
    ]);
    await task.queueFrame(new EndFrame());
    await done;
  });
});

describe('TTSService', () => {
  it('finds sentence ends in streamed text', () => {
    expect(matchEndOfSentence('Hello there')).toBe(0);
    expect(matchEndOfSentence('Hello there.')).toBe(0); // "." may be a decimal point: wait for more
    expect(matchEndOfSentence('Hello there. How')).toBe('Hello there.'.length);
    expect(matchEndOfSentence('Really?! Yes')).toBe('Really?!'.length);
    expect(matchEndOfSentence('It costs 3.5 dollars')).toBe(0);
    expect(matchEndOfSentence('Ask Dr. Smith. Now')).toBe('Ask Dr. Smith.'.length);
    expect(matchEndOfSentence('He said "stop." Then')).toBe('He said "stop."'.length);
    expect(matchEndOfSentence('line one\nline two')).toBe('line one\n'.length);
    expect(matchEndOfSentence('\nleading')).toBe(0);
    expect(matchEndOfSentence('你好。再见')).toBe(3);
  });

  it('speaks sentence by sentence: started, audio, stopped, text; the rest at the end of the response', async () => {
    const tts = new WordTTS();
    const { task, done, tail } = run([tts]);
    await task.queueFrames([
      new LLMFullResponseStartFrame(),
      new LLMTextFrame('Hello'),
      new LLMTextFrame(' there. How are'),
      new LLMTextFrame(' you? Fine'),
      new LLMFullResponseEndFrame(),
    ]);
    await until(() => tail.of(LLMFullResponseEndFrame).length === 1);
    expect(tts.spoken).toEqual(['Hello there.', 'How are you?', 'Fine']);
    const seq = tail.seen
      .map((s) => s.frame)
      .filter((f) => !(f.constructor.name === 'StartFrame'))
      .map((f) =>
        f instanceof TTSAudioRawFrame
          ? `audio${f.audio[0]}`
          : f instanceof TTSTextFrame
            ? `text:${f.text}`
            : f.constructor.name,
      );
    expect(seq).toEqual([
      'LLMFullResponseStartFrame',
      'TTSStartedFrame',
      'audio5',
      'audio6',
      'TTSStoppedFrame',
      'text:Hello there.',
      'TTSStartedFrame',
      'audio3',
      'audio3',
      'audio4',
      'TTSStoppedFrame',
      'text:How are you?',
      'TTSStartedFrame',
      'audio4',
      'TTSStoppedFrame',
      'text:Fine',
      'LLMFullResponseEndFrame',
    ]);
    for (const a of tail.of(TTSAudioRawFrame)) expect(a.sampleRate).toBe(24000);
    expect(tail.of(LLMTextFrame)).toHaveLength(0); // consumed
    // TTSSpeakFrame: spoken at once, whole.
    await task.queueFrame(new TTSSpeakFrame('Say this'));
    await until(() => tail.of(TTSTextFrame).length === 4);
    expect(tts.spoken.at(-1)).toBe('Say this');
    expect(tail.of(TTSStartedFrame)).toHaveLength(4);
    expect(tail.of(TTSStoppedFrame)).toHaveLength(4);
    await task.queueFrame(new EndFrame());
    await done;
  });

  it('drops pending text on interruption', async () => {
    const tts = new WordTTS();
    const { task, done, tail } = run([tts]);
    await task.queueFrames([new LLMFullResponseStartFrame(), new LLMTextFrame('half a sentence')]);
    await until(() => tail.of(LLMFullResponseStartFrame).length === 1);
    await settle();
    await task.queueFrame(new InterruptionFrame());
    await task.queueFrames([new LLMTextFrame('New one'), new EndFrame()]);
    await done;
    expect(tts.spoken).toEqual(['New one']);
  });
});

describe('services with the context aggregators', () => {
  it('builds the conversation over two turns, keeping what was said before an interruption', async () => {
    const context = new LLMContext([{ role: 'system', content: 'sys' }]);
    const pair = new LLMContextAggregatorPair(context, { user: { aggregationTimeoutSecs: 0.02 } });
    const stt = new ProbeSTT();
    const llm = new ScriptLLM([
      'First answer. Done.',
      'Second answer has words. More words. Even more words.',
    ]);
    // Turn 2's TTS blocks after its first sentence until the test interrupts, as a slow audio output would.
    const gate = new Gate();
    class SlowTTS extends WordTTS {
      override async *runTts(text: string, signal: AbortSignal): AsyncIterable<Int16Array> {
        if (text === 'More words.') await gate.wait(signal);
        yield* super.runTts(text);
      }
    }
    const tts = new SlowTTS();
    const { task, done, tail } = run([stt, pair.user(), llm, tts, pair.assistant()]);

    // Turn 1: the user speaks, the bot answers in full.
    await task.queueFrame(new UserStartedSpeakingFrame());
    await task.queueFrame(mic(1));
    await task.queueFrame(new UserStoppedSpeakingFrame());
    await until(() => context.messages.length === 3, 5000, 'first answer');
    expect(context.messages).toEqual([
      { role: 'system', content: 'sys' },
      { role: 'user', content: 'turn 1' },
      { role: 'assistant', content: 'First answer. Done.' },
    ]);
    expect(llm.calls[0]).toEqual(context.messages.slice(0, 2));

    // Turn 2: the bot is interrupted after its first sentence went out.
    await task.queueFrame(new UserStartedSpeakingFrame());
    await task.queueFrame(mic(2));
    await task.queueFrame(new UserStoppedSpeakingFrame());
    await until(() => tail.of(TTSTextFrame).some((f) => f.text === 'Second answer has words.'));
    await settle();
    await task.queueFrame(new UserStartedSpeakingFrame());
    await task.queueFrame(new InterruptionFrame());
    await until(() => context.messages.length === 5, 5000, 'partial answer');
    expect(context.messages.slice(3)).toEqual([
      { role: 'user', content: 'turn 2' },
      { role: 'assistant', content: 'Second answer has words.' },
    ]);
    gate.open();
    await task.queueFrame(mic(3));
    await task.queueFrame(new UserStoppedSpeakingFrame());
    await until(() => context.messages.length === 7, 5000, 'third answer');
    expect(context.messages[5]).toEqual({ role: 'user', content: 'turn 3' });
    expect(llm.calls[2]?.slice(3)).toEqual([
      { role: 'user', content: 'turn 2' },
      { role: 'assistant', content: 'Second answer has words.' },
      { role: 'user', content: 'turn 3' },
    ]);
    expect(tts.spoken).not.toContain('Even more words.');
    await task.queueFrame(new EndFrame());
    await done;
  });
});
