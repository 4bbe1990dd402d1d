import type { FrameObserver, FramePushed } from '../pipeline/frame-processor.js';
import {
  InterimTranscriptionFrame,
  LLMFullResponseEndFrame,
  LLMFullResponseStartFrame,
  LLMTextFrame,
  TranscriptionFrame,
  TTSStartedFrame,
  TTSStoppedFrame,
  TTSTextFrame,
} from '../pipeline/frames.js';
import { logger } from '../pipeline/logger.js';
import { RTVI_MESSAGE_LABEL, type RTVIMessage, userTranscriptionMessage } from './messages.js';
import type { RTVIProcessor } from './rtvi-processor.js';

/** Which RTVI events {@link RTVIObserver} sends (all default true). */
export interface RTVIObserverOptions {
  /** `user-transcription` from (Interim)TranscriptionFrames. */
  userTranscription?: boolean;
  /** `bot-llm-started` / `bot-llm-text` / `bot-llm-stopped` from LLM response frames. */
  botLlm?: boolean;
  /** `bot-tts-started` / `bot-tts-text` / `bot-tts-stopped` from TTS frames. */
  botTts?: boolean;
}

/** How many recent frame ids are remembered to report each frame once (frames are seen once per hop). */
const SEEN_IDS = 256;

/**
 * Sends RTVI events for frames anywhere in the pipeline (Pipecat's `RTVIObserver`), through the given
 * {@link RTVIProcessor}: `new PipelineTask(pipeline, { observers: [new RTVIObserver(rtvi)] })`.
 *
 * Speaking events (user/bot started/stopped) are sent by the RTVIProcessor itself (`speakingEvents`), since
 * those frames pass through it; this observer covers the frames that do not: transcriptions (produced after
 * the STT, downstream of the processor) and the LLM/TTS output.
 */
export class RTVIObserver implements FrameObserver {
  readonly #rtvi: RTVIProcessor;
  readonly #user: boolean;
  readonly #llm: boolean;
  readonly #tts: boolean;
  readonly #seen = new Set<number>();

  constructor(rtvi: RTVIProcessor, options: RTVIObserverOptions = {}) {
    this.#rtvi = rtvi;
    this.#user = options.userTranscription ?? true;
    this.#llm = options.botLlm ?? true;
    this.#tts = options.botTts ?? true;
  }

  /** Maps one pushed frame to at most one RTVI event. */
  onPushFrame(event: FramePushed): void {
    const message = this.#messageFor(event);
    if (message === null) return;
    if (this.#seen.has(event.frame.id)) return;
    this.#seen.add(event.frame.id);
    if (this.#seen.size > SEEN_IDS) {
      const oldest = this.#seen.values().next().value;
      if (oldest !== undefined) this.#seen.delete(oldest);
    }
    this.#rtvi
      .pushTransportMessage(message)
      .catch((err: unknown) => logger().error(`RTVIObserver: could not send ${message.type}`, err));
  }

  #messageFor({ frame }: FramePushed): RTVIMessage | null {
    if (this.#user && frame instanceof TranscriptionFrame) {
      return userTranscriptionMessage({
        text: frame.text,
        user_id: frame.userId,
        timestamp: frame.timestamp,
        final: !(frame instanceof InterimTranscriptionFrame),
      });
    }
    if (this.#llm) {
      if (frame instanceof LLMFullResponseStartFrame) return event('bot-llm-started');
      if (frame instanceof LLMFullResponseEndFrame) return event('bot-llm-stopped');
      if (frame instanceof LLMTextFrame) return event('bot-llm-text', { text: frame.text });
    }
    if (this.#tts) {
      if (frame instanceof TTSStartedFrame) return event('bot-tts-started');
      if (frame instanceof TTSStoppedFrame) return event('bot-tts-stopped');
      if (frame instanceof TTSTextFrame) return event('bot-tts-text', { text: frame.text });
    }
    return null;
  }
}

function event(type: string, data?: unknown): RTVIMessage {
  const m: RTVIMessage = { label: RTVI_MESSAGE_LABEL, type };
  if (data !== undefined) m.data = data;
  return m;
}
