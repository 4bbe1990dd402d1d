import { SmallWebRTCTypeError } from '../errors.js';
import type { SmallWebRTCConnection } from '../connection/index.js';
import type { AudioSenderStats } from '../media/audio-sender.js';
import { BaseObject } from '../pipeline/base-object.js';
import {
  ClientConnectedFrame,
  type OutputAudioRawFrame,
  type OutputImageRawFrame,
  type SpriteFrame,
} from '../pipeline/frames.js';
import { FrameDirection } from '../pipeline/frame-processor.js';
import { SmallWebRTCInputTransport } from './input-transport.js';
import { SmallWebRTCOutputTransport } from './output-transport.js';
import { SmallWebRTCClient } from './smallwebrtc-client.js';
import { TransportParams, type VideoInParams } from './transport-params.js';
import type { VideoInputSource } from './tracks/video-input-track.js';

/** Events of {@link SmallWebRTCTransport}; handlers receive the transport first (Pipecat's names). */
export interface SmallWebRTCTransportEvents {
  /** The client connected (fired again after each `restart_pc` reconnection). */
  on_client_connected: [connection: SmallWebRTCConnection];
  /** The client went away (the connection closed and we were not the side closing it). */
  on_client_disconnected: [connection: SmallWebRTCConnection];
  /** The connection closed, whoever closed it. */
  on_client_closed: [connection: SmallWebRTCConnection];
  /** A data-channel message from the client (`sender` is its pc_id). */
  on_app_message: [message: unknown, sender: string];
}

/** Construction options of {@link SmallWebRTCTransport}. */
export interface SmallWebRTCTransportOptions {
  /** The connection created by the request handler for this client. */
  webrtcConnection: SmallWebRTCConnection;
  /** Transport parameters (audio/video in/out, rates, VAD...). */
  params?: TransportParams;
  /** Name of the input processor (logs). */
  inputName?: string;
  /** Name of the output processor (logs). */
  outputName?: string;
}

/**
 * Pipecat's `SmallWebRTCTransport` over a {@link SmallWebRTCConnection}: put {@link SmallWebRTCTransport.input}
 * first in the pipeline and {@link SmallWebRTCTransport.output} after the services. Both halves share one
 * connection, connected once when the pipeline is set up and disconnected (with `peerLeft`) when both halves
 * have ended.
 *
 * ```ts
 * const transport = new SmallWebRTCTransport({ webrtcConnection, params: new TransportParams({
 *   audioInEnabled: true, audioOutEnabled: true, vadAnalyzer: new SileroVADAnalyzer() }) });
 * const pipeline = new Pipeline([transport.input(), stt, llm, tts, transport.output()]);
 * transport.eventHandler('on_client_connected', async (transport, client) => { ... });
 * ```
 */
export class SmallWebRTCTransport extends BaseObject<SmallWebRTCTransportEvents> {
  /** The parameters in use. */
  readonly params: TransportParams;
  readonly #client: SmallWebRTCClient;
  readonly #inputName: string | undefined;
  readonly #outputName: string | undefined;
  #input: SmallWebRTCInputTransport | null = null;
  #output: SmallWebRTCOutputTransport | null = null;

  constructor(options: SmallWebRTCTransportOptions) {
    super();
    if (options === null || typeof options !== 'object')
      throw new SmallWebRTCTypeError('ERR_INVALID_ARG', 'options must be an object');
    if (options.webrtcConnection === null || typeof options.webrtcConnection !== 'object') {
      throw new SmallWebRTCTypeError('ERR_INVALID_ARG', 'webrtcConnection must be a SmallWebRTCConnection');
    }
    if (options.params !== undefined && !(options.params instanceof TransportParams)) {
      throw new SmallWebRTCTypeError('ERR_INVALID_ARG', 'params must be a TransportParams');
    }
    this.params = options.params ?? new TransportParams();
    this.#inputName = options.inputName;
    this.#outputName = options.outputName;
    for (const name of [
      'on_client_connected',
      'on_client_disconnected',
      'on_client_closed',
      'on_app_message',
    ] as const) {
      this.registerEventHandler(name);
    }
    this.#client = new SmallWebRTCClient(options.webrtcConnection, this.params)
      .on('on_client_connected', async (connection) => {
        await this.callEventHandler('on_client_connected', connection);
        await this.#input?.pushFrame(new ClientConnectedFrame(), FrameDirection.DOWNSTREAM);
      })
      .on('on_client_disconnected', (connection) =>
        this.callEventHandler('on_client_disconnected', connection),
      )
      .on('on_client_closed', (connection) => this.callEventHandler('on_client_closed', connection))
      .on('on_app_message', async (message, sender) => {
        await this.#input?.pushAppMessage(message);
        await this.callEventHandler('on_app_message', message, sender);
      })
      .on('on_bot_speaking', (speaking) => this.#output?.handleBotSpeaking(speaking));
  }

  /** The connection this transport runs on. */
  get connection(): SmallWebRTCConnection {
    return this.#client.connection;
  }

  /** The input processor (created once). */
  input(): SmallWebRTCInputTransport {
    this.#input ??= new SmallWebRTCInputTransport(this.#client, this.params, this.#inputName);
    return this.#input;
  }

  /** The output processor (created once). */
  output(): SmallWebRTCOutputTransport {
    this.#output ??= new SmallWebRTCOutputTransport(this.#client, this.params, this.#outputName);
    return this.#output;
  }

  /** Queues audio for the client through the output processor (a no-op if `output()` was never created). */
  async sendAudio(frame: OutputAudioRawFrame): Promise<void> {
    await this.#output?.queueFrame(frame, FrameDirection.DOWNSTREAM);
  }

  /** Queues an image or sprite through the output processor (a no-op if `output()` was never created). */
  async sendImage(frame: OutputImageRawFrame | SpriteFrame): Promise<void> {
    await this.#output?.queueFrame(frame, FrameDirection.DOWNSTREAM);
  }

  /**
   * Pipecat's `capture_participant_video`: sets the picture rate and width limit of one source (`camera`
   * by default, or `screenVideo`) from its next frame on; fields left out keep their value (initially
   * `TransportParams.videoIn`). Both sources are captured from the StartFrame when `videoInEnabled`.
   * @throws TypeError / RangeError (ERR_INVALID_ARG) for an unknown source or a bad value.
   */
  captureParticipantVideo(videoSource: VideoInputSource = 'camera', options: VideoInParams = {}): void {
    this.input().captureParticipantVideo(videoSource, options);
  }

  /**
   * Audio waiting in the output sender, ms (0 without audio output): `getStats().outputQueuedMs` without
   * building the rest of the stats, for callers that need it per frame (the echo bot's backlog check).
   */
  get outputQueuedMs(): number {
    return this.#client.audioOutput?.queuedMs ?? 0;
  }

  /**
   * Live statistics of this session: the input jitter buffer/decoder, the output sender, and both halves'
   * counters. Cheap enough to call every second for a stats page.
   */
  getStats(): {
    input: ReturnType<SmallWebRTCInputTransport['receiverStats']>;
    inputCounters: SmallWebRTCInputTransport['stats'] | null;
    output: AudioSenderStats | null;
    outputCounters: SmallWebRTCOutputTransport['stats'] | null;
    outputQueuedMs: number;
    outputSampleRate: number | null;
  } {
    const out = this.#client.audioOutput;
    return {
      input: this.#input?.receiverStats() ?? null,
      inputCounters: this.#input?.stats ?? null,
      output: out?.stats() ?? null,
      outputCounters: this.#output?.stats ?? null,
      outputQueuedMs: this.outputQueuedMs,
      outputSampleRate: out?.sampleRate ?? null,
    };
  }
}
