/**
 * Frames: the typed objects that flow through a pipeline (Pipecat's `pipecat.frames.frames`).
 *
 * Every frame has a {@link FrameKind}:
 * - `system` frames ({@link SystemFrame}) are processed as soon as they reach a processor and never wait
 *   behind queued data/control frames (StartFrame, CancelFrame, InterruptionFrame, input audio, ...);
 * - `data` frames ({@link DataFrame}) and `control` frames ({@link ControlFrame}) go through the processor's
 *   ordered queue; data frames are dropped by an interruption, and so are control frames unless they are
 *   {@link Frame.uninterruptible} (EndFrame).
 *
 * Frames are plain classes with public fields: construct them with `new`, test them with `instanceof`.
 * Times are milliseconds (`pts`); audio is interleaved signed 16-bit PCM (`Int16Array`).
 *
 * One module on purpose, although it is longer than the ~600 lines other modules keep to: it is the catalogue
 * of frame types, one small class each, in Pipecat's order; split up, the system/data/control hierarchy could
 * no longer be read in one place. A new frame type goes here.
 */

import { SmallWebRTCRangeError, SmallWebRTCTypeError } from '../errors.js';

/** How a frame is scheduled inside a processor (see the module comment). */
export type FrameKind = 'system' | 'data' | 'control';

let nextFrameId = 1;
const frameNameCounters = new Map<string, number>();

/** Base class of every frame. Not constructed directly: use a concrete frame class. */
export abstract class Frame {
  /** Process-unique, increasing id. */
  readonly id: number;
  /** `ClassName#n` (per-class counter), as in Pipecat; used in logs. */
  readonly name: string;
  /** Presentation timestamp in ms (media time of the first sample/pixel), when the producer knows it. */
  pts: number | undefined = undefined;
  /** Free-form annotations carried along with the frame (Pipecat's `metadata`). */
  metadata: Record<string, unknown> = {};
  /** Name of the transport source this frame came from (`'camera'`, `'microphone'`, ...), if any. */
  transportSource: string | undefined = undefined;
  /** Name of the transport destination this frame is meant for, if any. */
  transportDestination: string | undefined = undefined;

  /** How this frame is scheduled; see {@link FrameKind}. */
  abstract get kind(): FrameKind;

  /**
   * Whether an interruption leaves this frame in a processor's queue (Pipecat's `UninterruptibleFrame`).
   * System frames are never queued, so this only matters for data/control frames.
   */
  get uninterruptible(): boolean {
    return false;
  }

  constructor() {
    this.id = nextFrameId++;
    const cls = new.target.name || 'Frame';
    const n = frameNameCounters.get(cls) ?? 0;
    frameNameCounters.set(cls, n + 1);
    this.name = `${cls}#${n}`;
  }

  /** The frame's name; handy in template strings and logs. */
  toString(): string {
    return this.name;
  }
}

/** A frame processed immediately on arrival, never queued behind data frames. */
export abstract class SystemFrame extends Frame {
  /** Always `'system'`. */
  get kind(): FrameKind {
    return 'system';
  }
}

/** A payload frame (audio, images, text, messages); processed in order and dropped by interruptions. */
export abstract class DataFrame extends Frame {
  /** Always `'data'`. */
  get kind(): FrameKind {
    return 'data';
  }
}

/** An in-band control frame (EndFrame, TTSStarted/Stopped...); processed in order with data frames. */
export abstract class ControlFrame extends Frame {
  /** Always `'control'`. */
  get kind(): FrameKind {
    return 'control';
  }
}

// ---------------------------------------------------------------------------------------------------------
// Lifecycle

/** Options of {@link StartFrame}; every field has Pipecat's default. */
export interface StartFrameOptions {
  /** Pipeline input sample rate in Hz, used by input transports without their own (default 16000). */
  audioInSampleRate?: number;
  /** Pipeline output sample rate in Hz, used by output transports without their own (default 24000). */
  audioOutSampleRate?: number;
  /** Whether user speech may interrupt the bot (default true). */
  allowInterruptions?: boolean;
  /** Whether processors should emit MetricsFrames (default false). */
  enableMetrics?: boolean;
  /** Whether processors should emit usage metrics (default false). */
  enableUsageMetrics?: boolean;
  /** Report only the first time-to-first-byte per service (default false). */
  reportOnlyInitialTtfb?: boolean;
}

/** First frame through a pipeline: carries the pipeline-wide parameters. Pushed by `PipelineTask.run()`. */
export class StartFrame extends SystemFrame {
  /** Pipeline input sample rate, Hz. */
  readonly audioInSampleRate: number;
  /** Pipeline output sample rate, Hz. */
  readonly audioOutSampleRate: number;
  /** Whether user speech may interrupt the bot. */
  readonly allowInterruptions: boolean;
  /** Whether processors should emit metrics. */
  readonly enableMetrics: boolean;
  /** Whether processors should emit usage metrics. */
  readonly enableUsageMetrics: boolean;
  /** Report only the first TTFB per service. */
  readonly reportOnlyInitialTtfb: boolean;

  constructor(options: StartFrameOptions = {}) {
    super();
    this.audioInSampleRate = checkRate(options.audioInSampleRate ?? 16000, 'audioInSampleRate');
    this.audioOutSampleRate = checkRate(options.audioOutSampleRate ?? 24000, 'audioOutSampleRate');
    this.allowInterruptions = options.allowInterruptions ?? true;
    this.enableMetrics = options.enableMetrics ?? false;
    this.enableUsageMetrics = options.enableUsageMetrics ?? false;
    this.reportOnlyInitialTtfb = options.reportOnlyInitialTtfb ?? false;
  }
}

/**
 * Graceful end: travels behind all queued data, processors flush and stop; the task finishes when it reaches
 * the end of the pipeline. Survives interruptions.
 */
export class EndFrame extends ControlFrame {
  /** Always true: an interruption never drops an EndFrame. */
  override get uninterruptible(): boolean {
    return true;
  }
}

/** Immediate stop: overtakes queued data, processors drop what they hold. Pushed by `PipelineTask.cancel()`. */
export class CancelFrame extends SystemFrame {}

/**
 * Interrupts the bot: every processor it reaches drops its queued data frames (uninterruptible frames stay),
 * aborts its interruption signal, then pushes it on. Output transports clear queued audio.
 */
export class InterruptionFrame extends SystemFrame {}

/**
 * Pushed upstream by a processor to ask the task to interrupt the pipeline; the task answers with an
 * {@link InterruptionFrame} downstream from the start when interruptions are allowed.
 */
export class InterruptionTaskFrame extends SystemFrame {}

/** Pushed upstream to ask the task to end gracefully (the task queues an {@link EndFrame}). */
export class EndTaskFrame extends SystemFrame {}

/** Pushed upstream to ask the task to cancel (the task queues a {@link CancelFrame}). */
export class CancelTaskFrame extends SystemFrame {}

/**
 * An error, pushed upstream by the processor that hit it (`FrameProcessor.pushError`, or automatically when
 * `processFrame` throws). A fatal error reaching the task cancels it.
 */
export class ErrorFrame extends SystemFrame {
  /** Human-readable description. */
  readonly error: string;
  /** Whether the pipeline cannot continue (the task cancels itself). */
  readonly fatal: boolean;
  /** The underlying exception, if any. */
  readonly exception: unknown;
  /** Name of the processor that reported it (set by `pushError`). */
  processor: string | undefined = undefined;

  constructor(error: string, options: { fatal?: boolean; exception?: unknown } = {}) {
    super();
    this.error = error;
    this.fatal = options.fatal ?? false;
    this.exception = options.exception;
  }
}

/** An {@link ErrorFrame} that is always fatal. */
export class FatalErrorFrame extends ErrorFrame {
  constructor(error: string, options: { exception?: unknown } = {}) {
    super(error, { fatal: true, exception: options.exception });
  }
}

// ---------------------------------------------------------------------------------------------------------
// Audio

/** Fields of an audio frame: interleaved s16 PCM. */
export interface AudioRawFrameInit {
  /** Interleaved signed 16-bit samples; length must be a multiple of `numChannels`. */
  audio: Int16Array;
  /** Sample rate in Hz (8000..192000). */
  sampleRate: number;
  /** Interleaved channel count (1 or 2; default 1). */
  numChannels?: number;
  /** Presentation timestamp in ms, if known. */
  pts?: number;
}

function checkRate(rate: number, field: string): number {
  if (typeof rate !== 'number')
    throw new SmallWebRTCTypeError('ERR_INVALID_ARG', `${field} must be a number, got ${typeof rate}`);
  if (!Number.isInteger(rate) || rate < 8000 || rate > 192000) {
    throw new SmallWebRTCRangeError(
      'ERR_INVALID_ARG',
      `${field} must be an integer in [8000, 192000] Hz, got ${rate}`,
    );
  }
  return rate;
}

function checkAudio(init: AudioRawFrameInit): { numChannels: number; numFrames: number } {
  if (!(init.audio instanceof Int16Array))
    throw new SmallWebRTCTypeError('ERR_INVALID_ARG', 'audio must be an Int16Array');
  checkRate(init.sampleRate, 'sampleRate');
  const numChannels = init.numChannels ?? 1;
  if (!Number.isInteger(numChannels) || numChannels < 1 || numChannels > 8) {
    throw new SmallWebRTCRangeError(
      'ERR_INVALID_ARG',
      `numChannels must be an integer in [1, 8], got ${numChannels}`,
    );
  }
  if (init.audio.length % numChannels !== 0) {
    throw new SmallWebRTCRangeError(
      'ERR_INVALID_ARG',
      `audio length ${init.audio.length} is not a multiple of numChannels ${numChannels}`,
    );
  }
  return { numChannels, numFrames: init.audio.length / numChannels };
}

/** Shape shared by every raw audio frame (input and output). */
export interface AudioRawFrame {
  /** Interleaved signed 16-bit samples. */
  readonly audio: Int16Array;
  /** Sample rate, Hz. */
  readonly sampleRate: number;
  /** Interleaved channel count. */
  readonly numChannels: number;
  /** Samples per channel (`audio.length / numChannels`). */
  readonly numFrames: number;
}

/** Audio from the user (the input transport): a system frame, so it never waits behind bot output. */
export class InputAudioRawFrame extends SystemFrame implements AudioRawFrame {
  /** Interleaved signed 16-bit samples. */
  readonly audio: Int16Array;
  /** Sample rate, Hz. */
  readonly sampleRate: number;
  /** Interleaved channel count. */
  readonly numChannels: number;
  /** Samples per channel. */
  readonly numFrames: number;

  constructor(init: AudioRawFrameInit) {
    super();
    const { numChannels, numFrames } = checkAudio(init);
    this.audio = init.audio;
    this.sampleRate = init.sampleRate;
    this.numChannels = numChannels;
    this.numFrames = numFrames;
    this.pts = init.pts;
  }
}

/** Audio for the user (to the output transport): any rate and size; queued in order, dropped by interruptions. */
export class OutputAudioRawFrame extends DataFrame implements AudioRawFrame {
  /** Interleaved signed 16-bit samples. */
  readonly audio: Int16Array;
  /** Sample rate, Hz. */
  readonly sampleRate: number;
  /** Interleaved channel count. */
  readonly numChannels: number;
  /** Samples per channel. */
  readonly numFrames: number;

  constructor(init: AudioRawFrameInit) {
    super();
    const { numChannels, numFrames } = checkAudio(init);
    this.audio = init.audio;
    this.sampleRate = init.sampleRate;
    this.numChannels = numChannels;
    this.numFrames = numFrames;
    this.pts = init.pts;
  }
}

/** Audio produced by a TTS service. */
export class TTSAudioRawFrame extends OutputAudioRawFrame {}

// ---------------------------------------------------------------------------------------------------------
// Images

/** Fields of an image frame. */
export interface ImageRawFrameInit {
  /** Pixel bytes; for `'RGB'`, `width * height * 3` bytes, row-major, packed R,G,B. */
  image: Uint8Array;
  /** `[width, height]` in pixels. */
  size: readonly [number, number];
  /** Pixel format; `'RGB'` (packed 24-bit) is what the transports produce and accept. */
  format?: string;
  /** Presentation timestamp in ms, if known. */
  pts?: number;
}

function checkImage(init: ImageRawFrameInit): void {
  if (!(init.image instanceof Uint8Array))
    throw new SmallWebRTCTypeError('ERR_INVALID_ARG', 'image must be a Uint8Array');
  const [w, h] = init.size ?? [];
  if (!Number.isInteger(w) || !Number.isInteger(h) || (w as number) <= 0 || (h as number) <= 0) {
    throw new SmallWebRTCRangeError(
      'ERR_INVALID_ARG',
      `size must be [width, height] of positive integers, got ${String(init.size)}`,
    );
  }
  if ((init.format ?? 'RGB') === 'RGB' && init.image.length !== (w as number) * (h as number) * 3) {
    throw new SmallWebRTCRangeError(
      'ERR_INVALID_ARG',
      `image has ${init.image.length} bytes, expected ${w}x${h}x3 for format RGB`,
    );
  }
}

/** Shape shared by every raw image frame. */
export interface ImageRawFrame {
  /** Pixel bytes. */
  readonly image: Uint8Array;
  /** `[width, height]` in pixels. */
  readonly size: readonly [number, number];
  /** Pixel format (`'RGB'`). */
  readonly format: string;
}

/** An image from the user's camera or screen (system frame: never waits behind bot output). */
export class InputImageRawFrame extends SystemFrame implements ImageRawFrame {
  /** Pixel bytes. */
  readonly image: Uint8Array;
  /** `[width, height]` in pixels. */
  readonly size: readonly [number, number];
  /** Pixel format. */
  readonly format: string;

  constructor(init: ImageRawFrameInit) {
    super();
    checkImage(init);
    this.image = init.image;
    this.size = [init.size[0], init.size[1]];
    this.format = init.format ?? 'RGB';
    this.pts = init.pts;
  }
}

/** Fields of {@link UserImageRequestFrame}. */
export interface UserImageRequestFrameInit {
  /** The participant whose picture is wanted (for SmallWebRTC: the connection's pc_id). */
  userId: string;
  /** Text carried over to the answering image (e.g. the question to ask a vision model about it). */
  text?: string;
  /** Carried over to the answering image: whether the context aggregator should append it. */
  appendToContext?: boolean;
  /** `'camera'` (default) or `'screenVideo'`. */
  videoSource?: string;
  /** Name of the function call that asked for the picture, if any. */
  functionName?: string;
  /** Tool call id of that function call, if any. */
  toolCallId?: string;
  /** Called by whoever consumes the answering image (not by the transport), if set. */
  resultCallback?: (...args: unknown[]) => unknown;
}

/**
 * Asks the input transport for a picture of a user (Pipecat's `UserImageRequestFrame`): the next picture
 * of `videoSource` from that user is pushed downstream once more as a {@link UserImageRawFrame} carrying
 * this request, its `text` and `appendToContext`. Usually pushed upstream (from an LLM function call) so it
 * reaches the input transport, which passes it on.
 */
export class UserImageRequestFrame extends SystemFrame {
  /** The participant whose picture is wanted. */
  readonly userId: string;
  /** Text for the answering image. */
  readonly text: string | undefined;
  /** Whether the answering image should be appended to the LLM context. */
  readonly appendToContext: boolean | undefined;
  /** The video source asked for; undefined means `'camera'`. */
  readonly videoSource: string | undefined;
  /** The function call that asked, if any. */
  readonly functionName: string | undefined;
  /** Its tool call id, if any. */
  readonly toolCallId: string | undefined;
  /** Callback for the consumer of the image, if any. */
  readonly resultCallback: ((...args: unknown[]) => unknown) | undefined;

  constructor(init: UserImageRequestFrameInit) {
    super();
    if (init === null || typeof init !== 'object' || typeof init.userId !== 'string') {
      throw new SmallWebRTCTypeError('ERR_INVALID_ARG', 'UserImageRequestFrame: userId must be a string');
    }
    if (init.videoSource !== undefined && typeof init.videoSource !== 'string') {
      throw new SmallWebRTCTypeError(
        'ERR_INVALID_ARG',
        'UserImageRequestFrame: videoSource must be a string',
      );
    }
    this.userId = init.userId;
    this.text = init.text;
    this.appendToContext = init.appendToContext;
    this.videoSource = init.videoSource;
    this.functionName = init.functionName;
    this.toolCallId = init.toolCallId;
    this.resultCallback = init.resultCallback;
  }
}

/** Fields of {@link UserImageRawFrame}. */
export interface UserImageRawFrameInit extends ImageRawFrameInit {
  /** The participant the image belongs to (for SmallWebRTC: the pc_id). */
  userId: string;
  /** Text attached by an image request (e.g. a vision prompt). */
  text?: string;
  /** Whether an LLM context aggregator should append the image to the context. */
  appendToContext?: boolean;
  /** The request this image answers, if any. */
  request?: UserImageRequestFrame;
}

/** A user's camera/screen image as delivered by the input transport (Pipecat's `UserImageRawFrame`). */
export class UserImageRawFrame extends InputImageRawFrame {
  /** The participant the image belongs to. */
  readonly userId: string;
  /** Text attached by an image request. */
  readonly text: string | undefined;
  /** Whether to append the image to the LLM context. */
  readonly appendToContext: boolean | undefined;
  /** The request this image answers, if any. */
  readonly request: UserImageRequestFrame | undefined;

  constructor(init: UserImageRawFrameInit) {
    super(init);
    this.userId = init.userId;
    this.text = init.text;
    this.appendToContext = init.appendToContext;
    this.request = init.request;
  }
}

/** An image for the output transport's video track. */
export class OutputImageRawFrame extends DataFrame implements ImageRawFrame {
  /** Pixel bytes. */
  readonly image: Uint8Array;
  /** `[width, height]` in pixels. */
  readonly size: readonly [number, number];
  /** Pixel format. */
  readonly format: string;

  constructor(init: ImageRawFrameInit) {
    super();
    checkImage(init);
    this.image = init.image;
    this.size = [init.size[0], init.size[1]];
    this.format = init.format ?? 'RGB';
    this.pts = init.pts;
  }
}

/** A sequence of images the output transport cycles through at its frame rate (an animation). */
export class SpriteFrame extends DataFrame {
  /** The images, shown in order and repeated. */
  readonly images: readonly OutputImageRawFrame[];

  constructor(images: readonly OutputImageRawFrame[]) {
    super();
    if (
      !Array.isArray(images) ||
      images.length === 0 ||
      !images.every((i) => i instanceof OutputImageRawFrame)
    ) {
      throw new SmallWebRTCTypeError(
        'ERR_INVALID_ARG',
        'images must be a non-empty array of OutputImageRawFrame',
      );
    }
    this.images = [...images];
  }
}

// ---------------------------------------------------------------------------------------------------------
// Transport messages

/**
 * A message received from the client (a data-channel JSON object such as an RTVI message). The input
 * transport pushes it both upstream and downstream.
 */
export class InputTransportMessageFrame extends SystemFrame {
  /** The decoded JSON message. */
  readonly message: unknown;

  constructor(message: unknown) {
    super();
    this.message = message;
  }
}

/** A message for the client, sent by the output transport in order with the audio queued before it. */
export class OutputTransportMessageFrame extends DataFrame {
  /** A JSON-serialisable message. */
  readonly message: unknown;

  constructor(message: unknown) {
    super();
    this.message = message;
  }
}

/** A message for the client, sent as soon as the output transport sees it (system frame). */
export class OutputTransportMessageUrgentFrame extends SystemFrame {
  /** A JSON-serialisable message. */
  readonly message: unknown;

  constructor(message: unknown) {
    super();
    this.message = message;
  }
}

/** Pushed downstream by the input transport when a client connects (after `on_client_connected`). */
export class ClientConnectedFrame extends SystemFrame {}

// ---------------------------------------------------------------------------------------------------------
// Speaking state

/** The user started speaking (after VAD start confirmation); may trigger an interruption. */
export class UserStartedSpeakingFrame extends SystemFrame {
  /** Whether this frame was emulated (e.g. from a transcription without VAD), as in Pipecat. */
  readonly emulated: boolean;

  constructor(options: { emulated?: boolean } = {}) {
    super();
    this.emulated = options.emulated ?? false;
  }
}

/** The user stopped speaking (after VAD stop confirmation). */
export class UserStoppedSpeakingFrame extends SystemFrame {
  /** Whether this frame was emulated. */
  readonly emulated: boolean;

  constructor(options: { emulated?: boolean } = {}) {
    super();
    this.emulated = options.emulated ?? false;
  }
}

/** Pushed periodically while the user speaks; keeps the task's idle timer alive. */
export class UserSpeakingFrame extends SystemFrame {}

/** The raw VAD detected the start of speech (before any turn logic). */
export class VADUserStartedSpeakingFrame extends SystemFrame {
  /** The VAD's start confirmation time, seconds. */
  readonly startSecs: number;
  /** Wall-clock time of the detection, ms since epoch. */
  readonly timestamp: number;

  constructor(options: { startSecs?: number; timestamp?: number } = {}) {
    super();
    this.startSecs = options.startSecs ?? 0;
    this.timestamp = options.timestamp ?? Date.now();
  }
}

/** The raw VAD detected the end of speech. */
export class VADUserStoppedSpeakingFrame extends SystemFrame {
  /** The VAD's stop confirmation time, seconds. */
  readonly stopSecs: number;
  /** Wall-clock time of the detection, ms since epoch. */
  readonly timestamp: number;

  constructor(options: { stopSecs?: number; timestamp?: number } = {}) {
    super();
    this.stopSecs = options.stopSecs ?? 0;
    this.timestamp = options.timestamp ?? Date.now();
  }
}

/** The bot's audio started going out on the wire (pushed by the output transport, up- and downstream). */
export class BotStartedSpeakingFrame extends SystemFrame {}

/** The bot's audio stopped going out on the wire (pushed by the output transport, up- and downstream). */
export class BotStoppedSpeakingFrame extends SystemFrame {}

/** Pushed periodically while the bot's audio goes out; keeps the task's idle timer alive. */
export class BotSpeakingFrame extends SystemFrame {}

/** A TTS service started producing audio for an utterance. */
export class TTSStartedFrame extends ControlFrame {}

/** A TTS service finished an utterance; output transports pad the trailing partial chunk with silence. */
export class TTSStoppedFrame extends ControlFrame {}

// ---------------------------------------------------------------------------------------------------------
// Text and LLM

/** A piece of text (LLM output, TTS input...). */
export class TextFrame extends DataFrame {
  /** The text. */
  readonly text: string;

  constructor(text: string) {
    super();
    if (typeof text !== 'string') throw new SmallWebRTCTypeError('ERR_INVALID_ARG', 'text must be a string');
    this.text = text;
  }
}

/** Text produced by an LLM. */
export class LLMTextFrame extends TextFrame {}

/** Text a TTS service is speaking (aligned with its audio). */
export class TTSTextFrame extends TextFrame {}

/** Text a TTS service should speak as-is. */
export class TTSSpeakFrame extends DataFrame {
  /** The text to speak. */
  readonly text: string;

  constructor(text: string) {
    super();
    if (typeof text !== 'string') throw new SmallWebRTCTypeError('ERR_INVALID_ARG', 'text must be a string');
    this.text = text;
  }
}

/** Fields of a transcription frame. */
export interface TranscriptionInit {
  /** The transcribed text. */
  text: string;
  /** The speaker's id. */
  userId: string;
  /** ISO-8601 time of the transcription (default: now). */
  timestamp?: string;
  /** BCP-47 language, if known. */
  language?: string;
  /** The STT service's raw result. */
  result?: unknown;
}

/** A final transcription of user speech (from an STT service). */
export class TranscriptionFrame extends TextFrame {
  /** The speaker's id. */
  readonly userId: string;
  /** ISO-8601 time of the transcription. */
  readonly timestamp: string;
  /** BCP-47 language, if known. */
  readonly language: string | undefined;
  /** The STT service's raw result. */
  readonly result: unknown;

  constructor(init: TranscriptionInit) {
    super(init.text);
    this.userId = init.userId;
    this.timestamp = init.timestamp ?? new Date().toISOString();
    this.language = init.language;
    this.result = init.result;
  }
}

/** A partial transcription that may still change. */
export class InterimTranscriptionFrame extends TranscriptionFrame {}

/** One message of an LLM conversation (OpenAI chat format, which Pipecat's contexts use). */
export interface LLMMessage {
  /** `'system' | 'user' | 'assistant' | 'tool'` (or a provider-specific role). */
  role: string;
  /** Text, or provider-specific content parts. */
  content: string | unknown[];
  /** Provider-specific extra fields (tool calls, names...). */
  [extra: string]: unknown;
}

/** Replaces the LLM context's messages (and usually triggers a completion). */
export class LLMMessagesFrame extends DataFrame {
  /** The messages. */
  readonly messages: LLMMessage[];

  constructor(messages: LLMMessage[]) {
    super();
    if (!Array.isArray(messages))
      throw new SmallWebRTCTypeError('ERR_INVALID_ARG', 'messages must be an array');
    this.messages = messages;
  }
}

/** Appends messages to the LLM context; runs the LLM when `runLlm` is true. */
export class LLMMessagesAppendFrame extends DataFrame {
  /** The messages to append. */
  readonly messages: LLMMessage[];
  /** Whether to run a completion after appending (default false). */
  readonly runLlm: boolean;

  constructor(messages: LLMMessage[], options: { runLlm?: boolean } = {}) {
    super();
    if (!Array.isArray(messages))
      throw new SmallWebRTCTypeError('ERR_INVALID_ARG', 'messages must be an array');
    this.messages = messages;
    this.runLlm = options.runLlm ?? false;
  }
}

/** Runs the LLM on the current context (e.g. to have the bot speak first). */
export class LLMRunFrame extends DataFrame {}

/** An LLM response begins. */
export class LLMFullResponseStartFrame extends ControlFrame {}

/** An LLM response ended. */
export class LLMFullResponseEndFrame extends ControlFrame {}

// ---------------------------------------------------------------------------------------------------------
// Metrics

/** Metrics (processing time, TTFB, usage...) as `{ processor, value, ... }` records. */
export class MetricsFrame extends SystemFrame {
  /** The metric records. */
  readonly data: readonly Record<string, unknown>[];

  constructor(data: readonly Record<string, unknown>[]) {
    super();
    this.data = data;
  }
}

/** Whether `frame` is one of the frames a full system queue may shed (live media: newer frames follow). */
export function isDroppableMediaFrame(frame: Frame): boolean {
  return frame instanceof InputAudioRawFrame || frame instanceof InputImageRawFrame;
}
