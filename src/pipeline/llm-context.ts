import { SmallWebRTCRangeError, SmallWebRTCTypeError } from '../errors.js';
import { FrameDirection, FrameProcessor, type FrameProcessorOptions } from './frame-processor.js';
import {
  CancelFrame,
  DataFrame,
  EndFrame,
  type Frame,
  InterimTranscriptionFrame,
  InterruptionFrame,
  LLMFullResponseEndFrame,
  LLMFullResponseStartFrame,
  type LLMMessage,
  LLMMessagesAppendFrame,
  LLMMessagesFrame,
  LLMRunFrame,
  LLMTextFrame,
  TranscriptionFrame,
  TTSTextFrame,
  UserStartedSpeakingFrame,
  UserStoppedSpeakingFrame,
} from './frames.js';

/**
 * The conversation an LLM service completes (Pipecat's `LLMContext`): OpenAI-style messages plus optional
 * provider-specific tools. Shared by the user and assistant aggregators of a pair.
 */
export class LLMContext {
  #messages: LLMMessage[];
  /** Provider-specific tool definitions, if any. */
  tools: unknown;

  constructor(messages: LLMMessage[] = [], tools?: unknown) {
    if (!Array.isArray(messages))
      throw new SmallWebRTCTypeError('ERR_INVALID_ARG', 'messages must be an array');
    this.#messages = [...messages];
    this.tools = tools;
  }

  /** The messages, oldest first (a live view: copy it before handing it to code that keeps it). */
  get messages(): readonly LLMMessage[] {
    return this.#messages;
  }

  /** Appends one message. */
  addMessage(message: LLMMessage): void {
    this.#messages.push(message);
  }

  /** Appends messages in order. */
  addMessages(messages: readonly LLMMessage[]): void {
    this.#messages.push(...messages);
  }

  /** Replaces all messages. */
  setMessages(messages: readonly LLMMessage[]): void {
    this.#messages = [...messages];
  }
}

/** Asks the LLM service downstream to run a completion on `context` (Pipecat's `LLMContextFrame`). */
export class LLMContextFrame extends DataFrame {
  /** The context to complete. */
  readonly context: LLMContext;

  constructor(context: LLMContext) {
    super();
    this.context = context;
  }
}

/** Options of {@link LLMUserAggregator}. */
export interface LLMUserAggregatorParams extends FrameProcessorOptions {
  /**
   * Seconds to wait, after a final transcription arrives while the user is not speaking, for more text
   * before running the LLM (STT results often trail the VAD's stop). Default 0.5.
   */
  aggregationTimeoutSecs?: number;
}

/**
 * Collects the user's final transcriptions for a turn, appends them to the context as one `user` message
 * and pushes an {@link LLMContextFrame} (Pipecat's `LLMUserAggregator`, without turn analyzers). A turn
 * ends on `UserStoppedSpeakingFrame` when text is already there, else `aggregationTimeoutSecs` after the
 * last final transcription, unless the user starts speaking again. Also applies `LLMMessagesAppendFrame`
 * (runs the LLM when `runLlm`), `LLMMessagesFrame` (replace and run) and `LLMRunFrame`.
 * Transcription frames are consumed; everything else passes through.
 */
export class LLMUserAggregator extends FrameProcessor {
  readonly #context: LLMContext;
  readonly #timeoutMs: number;
  #parts: string[] = [];
  #speaking = false;
  #timer: ReturnType<typeof setTimeout> | null = null;

  constructor(context: LLMContext, params: LLMUserAggregatorParams = {}) {
    super(params);
    if (!(context instanceof LLMContext))
      throw new SmallWebRTCTypeError('ERR_INVALID_ARG', 'context must be an LLMContext');
    const secs = params.aggregationTimeoutSecs ?? 0.5;
    if (typeof secs !== 'number' || !Number.isFinite(secs) || secs < 0 || secs > 60) {
      throw new SmallWebRTCRangeError(
        'ERR_INVALID_ARG',
        `aggregationTimeoutSecs must be in [0, 60] s, got ${secs}`,
      );
    }
    this.#context = context;
    this.#timeoutMs = secs * 1000;
  }

  /** The shared context. */
  get context(): LLMContext {
    return this.#context;
  }

  override async processFrame(frame: Frame, direction: FrameDirection): Promise<void> {
    if (frame instanceof UserStartedSpeakingFrame) {
      this.#speaking = true;
      this.#clearTimer();
      await this.pushFrame(frame, direction);
    } else if (frame instanceof UserStoppedSpeakingFrame) {
      this.#speaking = false;
      await this.pushFrame(frame, direction);
      if (this.#parts.length > 0) await this.#commit();
    } else if (frame instanceof InterimTranscriptionFrame) {
      // Interim results never enter the context.
    } else if (frame instanceof TranscriptionFrame) {
      const text = frame.text.trim();
      if (text.length > 0) this.#parts.push(text);
      if (!this.#speaking && this.#parts.length > 0) this.#armTimer();
    } else if (frame instanceof LLMMessagesAppendFrame) {
      this.#context.addMessages(frame.messages);
      if (frame.runLlm) await this.pushFrame(new LLMContextFrame(this.#context));
    } else if (frame instanceof LLMMessagesFrame) {
      this.#context.setMessages(frame.messages);
      await this.pushFrame(new LLMContextFrame(this.#context));
    } else if (frame instanceof LLMRunFrame) {
      await this.pushFrame(new LLMContextFrame(this.#context));
    } else {
      if (frame instanceof EndFrame || frame instanceof CancelFrame) this.#clearTimer();
      await this.pushFrame(frame, direction);
    }
  }

  override async cleanup(): Promise<void> {
    this.#clearTimer();
    await super.cleanup();
  }

  async #commit(): Promise<void> {
    this.#clearTimer();
    const content = this.#parts.join(' ');
    this.#parts = [];
    this.#context.addMessage({ role: 'user', content });
    await this.pushFrame(new LLMContextFrame(this.#context), FrameDirection.DOWNSTREAM);
  }

  #armTimer(): void {
    this.#clearTimer();
    // Detached: the commit must not belong to the transcription's run (an unrelated interruption would
    // otherwise drop the LLMContextFrame it pushes).
    this.#timer = this.detached(() =>
      setTimeout(() => {
        this.#timer = null;
        if (!this.#speaking && this.#parts.length > 0) void this.#commit();
      }, this.#timeoutMs),
    );
  }

  #clearTimer(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
  }
}

/**
 * Collects the bot's response text and appends it to the context as one `assistant` message (Pipecat's
 * `LLMAssistantAggregator`). Place it after `transport.output()` so it records what was actually sent.
 * A response is committed on `LLMFullResponseEndFrame`, and partially on an interruption, EndFrame or
 * CancelFrame. TTS text (spoken words) is preferred over LLM text when both flow.
 */
export class LLMAssistantAggregator extends FrameProcessor {
  readonly #context: LLMContext;
  #llmText = '';
  #ttsWords: string[] = [];

  constructor(context: LLMContext, options: FrameProcessorOptions = {}) {
    super(options);
    if (!(context instanceof LLMContext))
      throw new SmallWebRTCTypeError('ERR_INVALID_ARG', 'context must be an LLMContext');
    this.#context = context;
  }

  /** The shared context. */
  get context(): LLMContext {
    return this.#context;
  }

  override async processFrame(frame: Frame, direction: FrameDirection): Promise<void> {
    if (frame instanceof LLMFullResponseStartFrame) {
      this.#commit();
    } else if (frame instanceof TTSTextFrame) {
      this.#ttsWords.push(frame.text);
    } else if (frame instanceof LLMTextFrame) {
      this.#llmText += frame.text;
    } else if (
      frame instanceof LLMFullResponseEndFrame ||
      frame instanceof InterruptionFrame ||
      frame instanceof EndFrame ||
      frame instanceof CancelFrame
    ) {
      this.#commit();
    }
    await this.pushFrame(frame, direction);
  }

  #commit(): void {
    const content = (this.#ttsWords.length > 0 ? this.#ttsWords.join(' ') : this.#llmText).trim();
    this.#llmText = '';
    this.#ttsWords = [];
    if (content.length > 0) this.#context.addMessage({ role: 'assistant', content });
  }
}

/** Options of {@link LLMContextAggregatorPair}. */
export interface LLMContextAggregatorPairOptions {
  /** Options of the user aggregator. */
  user?: LLMUserAggregatorParams;
  /** Options of the assistant aggregator. */
  assistant?: FrameProcessorOptions;
}

/**
 * A user and an assistant aggregator sharing one context (Pipecat's `LLMContextAggregatorPair`):
 * `Pipeline([transport.input(), stt, pair.user(), llm, tts, transport.output(), pair.assistant()])`.
 */
export class LLMContextAggregatorPair {
  readonly #user: LLMUserAggregator;
  readonly #assistant: LLMAssistantAggregator;

  constructor(context: LLMContext, options: LLMContextAggregatorPairOptions = {}) {
    this.#user = new LLMUserAggregator(context, options.user);
    this.#assistant = new LLMAssistantAggregator(context, options.assistant);
  }

  /** The user aggregator (place it after the STT service). */
  user(): LLMUserAggregator {
    return this.#user;
  }

  /** The assistant aggregator (place it after the output transport). */
  assistant(): LLMAssistantAggregator {
    return this.#assistant;
  }
}
