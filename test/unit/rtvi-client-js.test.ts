// The RTVI handshake against the real @pipecat-ai/client-js (1.13.1) PipecatClient. Only the network hop is
// replaced: an in-memory Transport subclass moves JSON text both ways exactly as the small-webrtc
// transport's data channel does (JSON.stringify out; JSON.parse in, rtvi-ai label filter, {id,type,data}).
import {
  PipecatClient,
  RTVIMessage,
  Transport,
  type PipecatClientOptions,
  type Tracks,
  type TransportState,
} from '@pipecat-ai/client-js';
import { afterEach, describe, expect, it, vi } from 'vitest';

import { setLogger, type Logger } from '../../src/logger.js';
import {
  type Frame,
  FrameDirection,
  FrameProcessor,
  InputTransportMessageFrame,
  OutputTransportMessageFrame,
  OutputTransportMessageUrgentFrame,
  Pipeline,
  PipelineTask,
} from '../../src/pipeline/index.js';
import { RTVIProcessor } from '../../src/rtvi/index.js';
import { until } from './pipeline-helpers.js';

const quiet: Logger = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };
afterEach(() => {
  setLogger(null);
  vi.unstubAllGlobals();
});

type MessageHandler = (ev: RTVIMessage) => void;

/** The server side of the loopback: what the output transport would write on the data channel. */
class WireOut extends FrameProcessor {
  toClient: ((text: string) => void) | null = null;

  override async processFrame(frame: Frame, direction: FrameDirection): Promise<void> {
    if (frame instanceof OutputTransportMessageUrgentFrame || frame instanceof OutputTransportMessageFrame) {
      this.toClient?.(JSON.stringify(frame.message));
      return;
    }
    await this.pushFrame(frame, direction);
  }
}

/** A client Transport whose "data channel" is a pair of in-process functions. */
class LoopbackTransport extends Transport {
  #state: TransportState = 'disconnected';
  #handler: MessageHandler = () => {};
  readonly sent: unknown[] = [];

  constructor(private readonly toServer: (text: string) => void) {
    super();
  }

  /** Text arriving from the server, handled like small-webrtc-transport's handleMessage. */
  fromServer(text: string): void {
    const obj = JSON.parse(text) as { label?: string; id: string; type: string; data: unknown };
    if (obj.label === 'rtvi-ai') this.#handler({ id: obj.id, type: obj.type, data: obj.data } as RTVIMessage);
  }

  initialize(_options: PipecatClientOptions, messageHandler: MessageHandler): void {
    this.#handler = messageHandler;
    this.#state = 'initialized';
  }
  async initDevices(): Promise<void> {
    this.#state = 'initialized';
  }
  _validateConnectionParams(connectParams?: unknown): unknown {
    return connectParams;
  }
  async _connect(): Promise<void> {
    this.#state = 'connected';
  }
  async _disconnect(): Promise<void> {
    this.#state = 'disconnected';
  }
  sendReadyMessage(): void {
    this.#state = 'ready';
    this.sendMessage(RTVIMessage.clientReady());
  }
  get state(): TransportState {
    return this.#state;
  }
  set state(state: TransportState) {
    this.#state = state;
  }
  async getAllMics(): Promise<MediaDeviceInfo[]> {
    return [];
  }
  async getAllCams(): Promise<MediaDeviceInfo[]> {
    return [];
  }
  async getAllSpeakers(): Promise<MediaDeviceInfo[]> {
    return [];
  }
  updateMic(): void {}
  updateCam(): void {}
  updateSpeaker(): void {}
  get selectedMic(): Record<string, never> {
    return {};
  }
  get selectedCam(): Record<string, never> {
    return {};
  }
  get selectedSpeaker(): Record<string, never> {
    return {};
  }
  enableMic(): void {}
  enableCam(): void {}
  enableScreenShare(): void {}
  get isCamEnabled(): boolean {
    return false;
  }
  get isMicEnabled(): boolean {
    return false;
  }
  get isSharingScreen(): boolean {
    return false;
  }
  sendMessage(message: RTVIMessage): void {
    const text = JSON.stringify(message);
    this.sent.push(JSON.parse(text));
    this.toServer(text);
  }
  tracks(): Tracks {
    return { local: {} };
  }
}

describe('RTVI with the real @pipecat-ai/client-js', () => {
  it('connect() resolves on our bot-ready; requests, server messages and disconnect-bot work', async () => {
    setLogger(quiet);
    // client-js reads `window?.navigator` for its `about` (a browser library); an empty window suffices.
    vi.stubGlobal('window', {});
    const rtvi = new RTVIProcessor();
    const wire = new WireOut();
    const task = new PipelineTask(new Pipeline([rtvi, wire]), { idleTimeoutSecs: null });
    const run = task.run();

    const transport = new LoopbackTransport((text) => {
      // The input transport turns data-channel JSON into InputTransportMessageFrames.
      void task.queueFrame(new InputTransportMessageFrame(JSON.parse(text)));
    });
    wire.toClient = (text) => transport.fromServer(text);
    const serverMessages: unknown[] = [];
    const client = new PipecatClient({
      transport,
      enableMic: false,
      enableCam: false,
      callbacks: { onServerMessage: (data: unknown) => void serverMessages.push(data) },
    });

    rtvi.on('on_client_message', async (p, msg) => {
      if (msg.type === 'echo') await p.sendServerResponse(msg, { echoed: msg.data });
      else await p.sendErrorResponse(msg, 'no such request');
    });

    const ready = (await client.connect()) as { version: string; about: { library: string } };
    expect(ready.version).toBe('2.1.0');
    expect(ready.about.library).toBe('small-webrtc');
    expect(rtvi.clientReady?.about?.library).toBe('@pipecat-ai/client-js');
    expect(rtvi.clientReady?.version).toBe('2.1.0');
    const clientReady = transport.sent[0] as { id: string; label: string; type: string };
    expect(clientReady).toMatchObject({ label: 'rtvi-ai', type: 'client-ready' });

    await expect(client.sendClientRequest('echo', { n: 1 })).resolves.toEqual({ echoed: { n: 1 } });
    await expect(client.sendClientRequest('other', {})).rejects.toBeDefined();

    await rtvi.sendServerMessage({ hello: 'client' });
    await until(() => serverMessages.length === 1);
    expect(serverMessages).toEqual([{ hello: 'client' }]);

    client.disconnectBot();
    await run; // disconnect-bot -> EndTaskFrame -> EndFrame -> the task finishes
    expect(task.hasFinished()).toBe(true);
    await client.disconnect();
  });
});
