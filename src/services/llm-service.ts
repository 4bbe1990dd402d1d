import {
  FrameDirection,
  FrameProcessor,
  LLMContext,
  LLMContextFrame,
  LLMFullResponseEndFrame,
  LLMFullResponseStartFrame,
  LLMMessagesFrame,
  LLMTextFrame,
  type Frame,
  type LLMMessage,
} from '../pipeline/index.js';
import { untilAborted } from './iterate.js';

/**
 * Base of a streaming LLM service (Pipecat's `LLMService`). On an {@link LLMContextFrame} (what the user
 * context aggregator pushes) or an {@link LLMMessagesFrame} it calls {@link LLMService.runLlm} and pushes
 * `LLMFullResponseStartFrame`, one {@link LLMTextFrame} per yielded chunk, then `LLMFullResponseEndFrame`.
 * Other frames pass through.
 *
 * Interruptions: the completion belongs to the frame run that started it, so when an InterruptionFrame
 * arrives (the user spoke) the wait for the next chunk ends at once, the provider's iterator is told to stop
 * (`return()`), the `signal` given to `runLlm` aborts (pass it to `fetch`), and nothing more is pushed, not
 * even the end frame: the assistant aggregator keeps what had been said. A provider error is logged and
 * pushed upstream as a non-fatal ErrorFrame, after an `LLMFullResponseEndFrame` closing the response.
 *
 * Subclass it to plug in a real service:
 * ```ts
 * class MyLLM extends LLMService {
 *   async *runLlm(messages: readonly LLMMessage[], signal: AbortSignal) {
 *     for await (const delta of myApi.stream(messages, { signal })) yield delta;
 *   }
 * }
 * ```
 */
export abstract class LLMService extends FrameProcessor {
  /**
   * Streams the completion of `messages` (OpenAI chat format, oldest first; a snapshot the service may
   * keep) as text chunks. `signal` aborts on interruption or cancellation.
   */
  abstract runLlm(messages: readonly LLMMessage[], signal: AbortSignal): AsyncIterable<string>;

  override async processFrame(frame: Frame, direction: FrameDirection): Promise<void> {
    if (frame instanceof LLMContextFrame) {
      await this.#generate(frame.context);
    } else if (frame instanceof LLMMessagesFrame) {
      await this.#generate(new LLMContext(frame.messages));
    } else {
      await this.pushFrame(frame, direction);
    }
  }

  async #generate(context: LLMContext): Promise<void> {
    // The run's signal: aborted by an interruption or cancellation that happens while this run lasts.
    const signal = this.interruptionSignal;
    if (signal.aborted) return;
    const messages = context.messages.map((m) => ({ ...m }));
    await this.pushFrame(new LLMFullResponseStartFrame());
    try {
      for await (const text of untilAborted(this.runLlm(messages, signal), signal)) {
        if (typeof text !== 'string' || text.length === 0) continue;
        await this.pushFrame(new LLMTextFrame(text));
      }
    } catch (err) {
      if (signal.aborted) return;
      await this.pushFrame(new LLMFullResponseEndFrame());
      const message = err instanceof Error ? err.message : String(err);
      await this.pushError(`${this.name}: completion failed: ${message}`, { exception: err });
      return;
    }
    if (signal.aborted) return;
    await this.pushFrame(new LLMFullResponseEndFrame());
  }
}
