import { SmallWebRTCError } from '../errors.js';
import { readFileSync } from 'node:fs';

import { FrameDirection, FrameProcessor, type FrameProcessorOptions } from '../pipeline/frame-processor.js';
import {
  BotStartedSpeakingFrame,
  BotStoppedSpeakingFrame,
  EndTaskFrame,
  ErrorFrame,
  type Frame,
  InputAudioRawFrame,
  InputTransportMessageFrame,
  LLMMessagesAppendFrame,
  OutputTransportMessageUrgentFrame,
  StartFrame,
  SystemFrame,
  UserStartedSpeakingFrame,
  UserStoppedSpeakingFrame,
} from '../pipeline/frames.js';
import { logger } from '../pipeline/logger.js';
import {
  RTVI_PROTOCOL_VERSION,
  type RTVIAboutBot,
  type RTVIAboutClient,
  type RTVIMessage,
  botReadyMessage,
  botStartedSpeakingMessage,
  botStoppedSpeakingMessage,
  errorMessage,
  errorResponseMessage,
  isRTVIMessage,
  serverMessage,
  serverResponseMessage,
  userStartedSpeakingMessage,
  userStoppedSpeakingMessage,
} from './messages.js';

/** This package's version, for `bot-ready.about.library_version` (read once; `0.0.0` if unreadable). */
function packageVersion(): string {
  try {
    const raw = readFileSync(new URL('../../package.json', import.meta.url), 'utf8');
    const v = (JSON.parse(raw) as { version?: unknown }).version;
    return typeof v === 'string' ? v : '0.0.0';
  } catch {
    return '0.0.0';
  }
}
const LIBRARY_VERSION = packageVersion();

/** What a client said in `client-ready`. */
export interface RTVIClientReady {
  /** The client-ready message id (echoed by bot-ready). */
  readonly id: string;
  /** The client's protocol version, if it sent one. */
  readonly version: string | undefined;
  /** The client's self-description, if any. */
  readonly about: RTVIAboutClient | undefined;
}

/** A `client-message` from the client (`PipecatClient.sendClientMessage/sendClientRequest`). */
export interface RTVIClientMessage {
  /** The message id: pass the whole object to `sendServerResponse` / `sendErrorResponse` to answer. */
  readonly msgId: string;
  /** Application message type (`t`). */
  readonly type: string;
  /** Application payload (`d`). */
  readonly data: unknown;
}

/** A client `client-message`, pushed downstream by {@link RTVIProcessor} (Pipecat's `RTVIClientMessageFrame`). */
export class RTVIClientMessageFrame extends SystemFrame {
  /** The message id (answer with `RTVIServerResponseFrame` or `RTVIProcessor.sendServerResponse`). */
  readonly msgId: string;
  /** Application message type (`t`). */
  readonly type: string;
  /** Application payload (`d`). */
  readonly data: unknown;

  constructor(message: RTVIClientMessage) {
    super();
    this.msgId = message.msgId;
    this.type = message.type;
    this.data = message.data;
  }
}

/**
 * Asks the RTVI processor it passes through (in either direction) to send a `server-message` to the client
 * (Pipecat's `RTVIServerMessageFrame`).
 */
export class RTVIServerMessageFrame extends SystemFrame {
  /** The payload the client receives in `onServerMessage`. */
  readonly data: unknown;

  constructor(data: unknown) {
    super();
    this.data = data;
  }
}

/**
 * Asks the RTVI processor it passes through to answer a client message: `server-response` with `data`, or
 * `error-response` when `error` is set (Pipecat's `RTVIServerResponseFrame`).
 */
export class RTVIServerResponseFrame extends SystemFrame {
  /** The client message being answered. */
  readonly clientMessage: RTVIClientMessage;
  /** The result (`d` of the response). */
  readonly data: unknown;
  /** If set, answer with an error-response carrying this text instead. */
  readonly error: string | undefined;

  constructor(clientMessage: RTVIClientMessage, options: { data?: unknown; error?: string } = {}) {
    super();
    this.clientMessage = clientMessage;
    this.data = options.data;
    this.error = options.error;
  }
}

/** Construction options of {@link RTVIProcessor}. */
export interface RTVIProcessorOptions extends FrameProcessorOptions {
  /**
   * Answer `client-ready` with `bot-ready` at once (default true). Pipecat's worker does this automatically
   * on `on_client_ready`; set false to call {@link RTVIProcessor.setBotReady} yourself (e.g. after loading).
   */
  autoBotReady?: boolean;
  /** `about` sent in bot-ready (default `{library: 'small-webrtc', library_version: <this package>}`). */
  about?: RTVIAboutBot;
  /**
   * Forward User/Bot Started/Stopped Speaking frames that pass through this processor as RTVI events
   * (Pipecat's RTVIObserver does this). Default true. The input transport pushes user frames downstream and
   * the output transport pushes bot frames upstream, so a processor placed right after `transport.input()`
   * sees both.
   */
  speakingEvents?: boolean;
  /** Send ErrorFrames that pass through as RTVI `error` events (default true, as Pipecat). */
  errorEvents?: boolean;
  /**
   * Forward `InputTransportMessageFrame`s that are not RTVI messages (default true). Pipecat drops them with
   * a warning; passing them on lets later processors see plain app messages.
   */
  passThroughAppMessages?: boolean;
}

/** Events of {@link RTVIProcessor} (handlers receive the processor first). */
export interface RTVIProcessorEvents {
  /** The StartFrame reached this processor. */
  on_bot_started: [];
  /** The client sent `client-ready` (bot-ready goes out right before, unless `autoBotReady: false`). */
  on_client_ready: [client: RTVIClientReady];
  /** The client sent a `client-message`; answer with `sendServerResponse` / `sendErrorResponse`. */
  on_client_message: [message: RTVIClientMessage];
  /** Any valid RTVI message from the client, before it is handled. */
  on_rtvi_message: [message: RTVIMessage];
}

/** RTVI message types that clients send and we accept without handling them here (no error-response). */
const TOLERATED = new Set([
  'ui-event',
  'ui-snapshot',
  'ui-cancel-job-group',
  'llm-function-call-result',
  'dtmf',
]);

/** Client messages waiting for the message loop; beyond this, new ones are dropped (warning). */
const MAX_PENDING_MESSAGES = 64;

/**
 * The minimal RTVI server side (Pipecat's `RTVIProcessor`): place it right after `transport.input()`.
 *
 * It consumes `InputTransportMessageFrame`s labelled `rtvi-ai` and answers through
 * `OutputTransportMessageUrgentFrame`s pushed downstream (to the output transport):
 * - `client-ready` -> optional `error-response` about the client's version, then `bot-ready` (protocol
 *   2.1.0; a 1.x client gets its own version echoed) and the `on_client_ready` event;
 * - `client-message {t, d}` -> `RTVIClientMessageFrame` downstream and the `on_client_message` event
 *   (answer with {@link RTVIProcessor.sendServerResponse});
 * - `disconnect-bot` -> `EndTaskFrame` upstream (the task ends gracefully);
 * - `send-text {content, options}` -> `LLMMessagesAppendFrame` (after an interruption when
 *   `run_immediately`, the default);
 * - `raw-audio`/`raw-audio-batch` -> `InputAudioRawFrame`s downstream;
 * - UI and function-call messages are tolerated (on_rtvi_message only); any other type ->
 *   `error-response` "Unsupported type <type>".
 *
 * Messages are handled one at a time, in order, off the frame path (a slow `on_client_message` handler
 * does not hold back audio frames).
 */
export class RTVIProcessor extends FrameProcessor<RTVIProcessorEvents> {
  readonly #autoBotReady: boolean;
  readonly #about: RTVIAboutBot;
  readonly #speakingEvents: boolean;
  readonly #errorEvents: boolean;
  readonly #passThrough: boolean;
  #clientReady: RTVIClientReady | null = null;
  #botReadyVersion: string = RTVI_PROTOCOL_VERSION;
  #botReadySent = false;
  #pending = 0;
  /** Last speaking states forwarded, so a frame seen twice (both directions) yields one event. */
  #userSpeaking = false;
  #botSpeaking = false;
  #chain: Promise<void> = Promise.resolve();

  constructor(options: RTVIProcessorOptions = {}) {
    super(options);
    this.#autoBotReady = options.autoBotReady ?? true;
    this.#about = options.about ?? { library: 'small-webrtc', library_version: LIBRARY_VERSION };
    this.#speakingEvents = options.speakingEvents ?? true;
    this.#errorEvents = options.errorEvents ?? true;
    this.#passThrough = options.passThroughAppMessages ?? true;
    this.registerEventHandler('on_bot_started');
    this.registerEventHandler('on_client_ready');
    this.registerEventHandler('on_client_message');
    this.registerEventHandler('on_rtvi_message');
  }

  /** The last `client-ready` received, or null. */
  get clientReady(): RTVIClientReady | null {
    return this.#clientReady;
  }

  /** Whether bot-ready has been sent since the last client-ready. */
  get botReadySent(): boolean {
    return this.#botReadySent;
  }

  /**
   * Sends `bot-ready` answering the last `client-ready` (with `about`, default the constructor's). Call it
   * yourself only with `autoBotReady: false`; before any client-ready it throws a RangeError.
   */
  async setBotReady(about: RTVIAboutBot = this.#about): Promise<void> {
    const ready = this.#clientReady;
    if (ready === null)
      throw new SmallWebRTCError('ERR_INVALID_STATE', 'setBotReady(): no client-ready received yet');
    this.#botReadySent = true;
    await this.pushTransportMessage(botReadyMessage(ready.id, { version: this.#botReadyVersion, about }));
  }

  /** Sends a `server-message` to the client. */
  async sendServerMessage(data: unknown): Promise<void> {
    await this.pushTransportMessage(serverMessage(data));
  }

  /** Answers a client message with a `server-response` `{t, d: data}`. */
  async sendServerResponse(clientMessage: RTVIClientMessage, data: unknown): Promise<void> {
    await this.pushTransportMessage(serverResponseMessage(clientMessage.msgId, clientMessage.type, data));
  }

  /** Answers a client message with an `error-response`. */
  async sendErrorResponse(clientMessage: RTVIClientMessage, error: string): Promise<void> {
    await this.pushTransportMessage(errorResponseMessage(clientMessage.msgId, error));
  }

  /** Sends an `error` event (`fatal: true` makes the client disconnect). */
  async sendError(error: string, fatal = false): Promise<void> {
    await this.pushTransportMessage(errorMessage(error, fatal));
  }

  /**
   * Asks the task to interrupt the bot (an InterruptionTaskFrame upstream) and waits until the resulting
   * InterruptionFrame has passed this processor, so what is pushed next is not dropped by it.
   */
  async interruptBot(): Promise<void> {
    await this.pushInterruptionTaskFrameAndWait();
  }

  /** Pushes `message` downstream as an `OutputTransportMessageUrgentFrame` (sent as soon as it arrives). */
  async pushTransportMessage(message: RTVIMessage): Promise<void> {
    await this.pushFrame(new OutputTransportMessageUrgentFrame(message), FrameDirection.DOWNSTREAM);
  }

  override async processFrame(frame: Frame, direction: FrameDirection): Promise<void> {
    if (frame instanceof InputTransportMessageFrame) {
      if (isRTVIMessage(frame.message)) {
        // Only handle each client message once (the input transport pushes it both ways).
        if (direction === FrameDirection.DOWNSTREAM) this.#enqueue(frame.message);
        return;
      }
      if (this.#passThrough) await this.pushFrame(frame, direction);
      return;
    }
    if (frame instanceof StartFrame) {
      await this.pushFrame(frame, direction);
      // Not awaited: a slow handler must not hold back the system frames (input audio) behind it.
      void this.callEventHandler('on_bot_started');
      return;
    }
    if (frame instanceof RTVIServerMessageFrame) {
      await this.sendServerMessage(frame.data);
      return;
    }
    if (frame instanceof RTVIServerResponseFrame) {
      if (frame.error !== undefined) await this.sendErrorResponse(frame.clientMessage, frame.error);
      else await this.sendServerResponse(frame.clientMessage, frame.data);
      return;
    }
    if (this.#errorEvents && frame instanceof ErrorFrame) {
      await this.sendError(frame.error, frame.fatal);
    } else if (this.#speakingEvents) {
      const event = this.#speakingEvent(frame);
      if (event !== null) await this.pushTransportMessage(event);
    }
    await this.pushFrame(frame, direction);
  }

  #enqueue(message: RTVIMessage): void {
    if (this.#pending >= MAX_PENDING_MESSAGES) {
      logger().warn(`${this.name}: ${this.#pending} RTVI messages pending, dropping ${message.type}`);
      return;
    }
    this.#pending++;
    this.#chain = this.#chain.then(async () => {
      try {
        await this.#handle(message);
      } catch (err) {
        logger().warn(`${this.name}: exception processing RTVI ${message.type}`, err);
        if (typeof message.id === 'string') {
          const text = err instanceof Error ? err.message : String(err);
          await this.pushTransportMessage(
            errorResponseMessage(message.id, `Exception processing message: ${text}`),
          ).catch(() => undefined); // the chain must never reject, or later messages would be skipped
        }
      } finally {
        this.#pending--;
      }
    });
  }

  async #handle(message: RTVIMessage): Promise<void> {
    const id = typeof message.id === 'string' ? message.id : '';
    await this.callEventHandler('on_rtvi_message', message);
    const data = isObject(message.data) ? message.data : {};
    switch (message.type) {
      case 'client-ready':
        await this.#onClientReady(id, data);
        return;
      case 'disconnect-bot':
        await this.pushFrame(new EndTaskFrame(), FrameDirection.UPSTREAM);
        return;
      case 'client-message': {
        if (typeof data['t'] !== 'string') {
          await this.pushTransportMessage(
            errorResponseMessage(id, 'Invalid message: client-message needs a string t'),
          );
          return;
        }
        const msg: RTVIClientMessage = { msgId: id, type: data['t'], data: data['d'] };
        await this.pushFrame(new RTVIClientMessageFrame(msg), FrameDirection.DOWNSTREAM);
        await this.callEventHandler('on_client_message', msg);
        return;
      }
      case 'send-text':
        await this.#onSendText(id, data);
        return;
      case 'raw-audio':
      case 'raw-audio-batch':
        await this.#onRawAudio(id, data);
        return;
      default:
        if (TOLERATED.has(message.type)) {
          logger().debug(`${this.name}: RTVI ${message.type} received (not handled by small-webrtc)`);
          return;
        }
        await this.pushTransportMessage(errorResponseMessage(id, `Unsupported type ${message.type}`));
    }
  }

  /** The RTVI event for a speaking-state frame, only on an actual state change. */
  #speakingEvent(frame: Frame): RTVIMessage | null {
    if (frame instanceof UserStartedSpeakingFrame && !this.#userSpeaking) {
      this.#userSpeaking = true;
      return userStartedSpeakingMessage();
    }
    if (frame instanceof UserStoppedSpeakingFrame && this.#userSpeaking) {
      this.#userSpeaking = false;
      return userStoppedSpeakingMessage();
    }
    if (frame instanceof BotStartedSpeakingFrame && !this.#botSpeaking) {
      this.#botSpeaking = true;
      return botStartedSpeakingMessage();
    }
    if (frame instanceof BotStoppedSpeakingFrame && this.#botSpeaking) {
      this.#botSpeaking = false;
      return botStoppedSpeakingMessage();
    }
    return null;
  }

  async #onClientReady(id: string, data: Record<string, unknown>): Promise<void> {
    const version = typeof data['version'] === 'string' ? data['version'] : undefined;
    const about = isObject(data['about']) ? (data['about'] as RTVIAboutClient) : undefined;
    let versionError: string | null = null;
    let answerVersion = RTVI_PROTOCOL_VERSION;
    if (version === undefined) {
      versionError = 'Client version unknown.';
    } else if (!/^\d+\.\d+\.\d+$/.test(version)) {
      versionError = `Invalid client version format (${version}).`;
    } else {
      const major = Number(version.split('.')[0]);
      if (major === 1)
        answerVersion = version; // a 1.x client gets its own version back
      else if (major !== 2) {
        versionError = `RTVI version ${version} is not compatible with server protocol ${RTVI_PROTOCOL_VERSION}.`;
      }
    }
    if (versionError !== null) {
      versionError += ' Compatibility issues may occur.';
      logger().warn(`${this.name}: ${versionError}`);
      await this.pushTransportMessage(errorResponseMessage(id, versionError));
    }
    this.#clientReady = { id, version, about };
    this.#botReadyVersion = answerVersion;
    this.#botReadySent = false;
    if (this.#autoBotReady) await this.setBotReady();
    await this.callEventHandler('on_client_ready', this.#clientReady);
  }

  async #onSendText(id: string, data: Record<string, unknown>): Promise<void> {
    if (typeof data['content'] !== 'string') {
      await this.pushTransportMessage(
        errorResponseMessage(id, 'Invalid message: send-text needs a string content'),
      );
      return;
    }
    const options = isObject(data['options']) ? data['options'] : {};
    const runImmediately = options['run_immediately'] !== false;
    if (runImmediately) await this.interruptBot();
    await this.pushFrame(
      new LLMMessagesAppendFrame([{ role: 'user', content: data['content'] }], { runLlm: runImmediately }),
    );
  }

  async #onRawAudio(id: string, data: Record<string, unknown>): Promise<void> {
    const batch = Array.isArray(data['base64AudioBatch']) ? data['base64AudioBatch'] : [data['base64Audio']];
    const sampleRate = data['sampleRate'];
    const numChannels = data['numChannels'];
    if (typeof sampleRate !== 'number' || typeof numChannels !== 'number') {
      await this.pushTransportMessage(
        errorResponseMessage(id, 'Invalid message: raw-audio needs sampleRate and numChannels'),
      );
      return;
    }
    for (const b64 of batch) {
      if (typeof b64 !== 'string' || b64.length === 0) continue;
      const bytes = Buffer.from(b64, 'base64');
      // s16le PCM; copy into an aligned Int16Array (a Buffer's offset may be odd).
      const audio = new Int16Array(bytes.length >> 1);
      for (let i = 0; i < audio.length; i++) audio[i] = bytes.readInt16LE(i * 2);
      await this.pushFrame(new InputAudioRawFrame({ audio, sampleRate, numChannels }));
    }
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
