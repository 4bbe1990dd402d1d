/**
 * Shared pieces of the transport tests: a session (client, connection, transport, pipeline), a frame recorder
 * and test tones (the peer's paced Opus sending and decoding of what the bot sends back are
 * PipecatLikeClient.sendSpeech/listenToAudio).
 */
import nodeDataChannel from 'node-datachannel';
import { onTestFinished, vi } from 'vitest';

import {
  FrameDirection,
  FrameProcessor,
  InputAudioRawFrame,
  OutputAudioRawFrame,
  Pipeline,
  PipelineTask,
  SmallWebRTCConnection,
  SmallWebRTCTransport,
  type Frame,
  type TransportParams,
} from '../../src/index.js';
import { concat, rms, zeroCrossingFrequency } from '../../testkit/audio.js';
import { PipecatLikeClient } from '../../testkit/pipecat-like-client.js';
import { until } from '../../testkit/wait.js';

export { concat, rms };

/** Records every frame that passes, in both directions; input audio stops here (only what tests push goes on). */
export class Tap extends FrameProcessor {
  readonly down: Frame[] = [];
  readonly up: Frame[] = [];
  override async processFrame(frame: Frame, direction: FrameDirection): Promise<void> {
    (direction === FrameDirection.DOWNSTREAM ? this.down : this.up).push(frame);
    if (frame instanceof InputAudioRawFrame) return;
    await this.pushFrame(frame, direction);
  }
}

/** A mono sine of `ms` milliseconds at `rate` Hz. */
export function tone(freq: number, rate: number, ms: number, amplitude = 8000): Int16Array {
  const n = Math.round((rate * ms) / 1000);
  const out = new Int16Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.round(amplitude * Math.sin((2 * Math.PI * freq * i) / rate));
  return out;
}

/** Frequency of a clean tone from its zero crossings, Hz. */
export function dominantFrequency(pcm: Int16Array, rate: number): number {
  return zeroCrossingFrequency(pcm, rate);
}

/** A transport session: an in-process client, the connection it talks to, and a running pipeline. */
export interface Session {
  off: PipecatLikeClient;
  conn: SmallWebRTCConnection;
  transport: SmallWebRTCTransport;
  tap: Tap;
  task: PipelineTask;
  running: Promise<void>;
  events: string[];
  /** Cancels the pipeline, closes the client and waits for the pipeline to end. */
  stop(): Promise<void>;
}

/** Every client of these tests: node-datachannel objects must stay referenced until cleanup(). */
const clients: PipecatLikeClient[] = [];

/** Keeps `client` referenced until {@link closeClients} (sessions keep theirs already). */
export function keepClient(client: PipecatLikeClient): PipecatLikeClient {
  clients.push(client);
  return client;
}

/** For afterAll: closes every kept client, then runs node-datachannel's cleanup(). */
export function closeClients(): void {
  for (const c of clients) c.close();
  nodeDataChannel.cleanup();
}

/**
 * Starts a transport on a connection negotiated with a new client, in a pipeline
 * `input -> ...middle -> Tap -> output` (interruptions allowed, as by default); resolves once the client is connected and `on_client_connected` fired. `events`
 * records the transport's client events and app messages (`message:<json>:<sender is the pc_id>`).
 */
export async function startSession(
  params: TransportParams,
  pipelineParams: { audioOutSampleRate?: number } = {},
  middle: FrameProcessor[] = [],
): Promise<Session> {
  const off = await PipecatLikeClient.create({ trickle: false });
  clients.push(off);
  const conn = new SmallWebRTCConnection({ bindAddress: '127.0.0.1' });
  await off.negotiate(conn);
  const transport = new SmallWebRTCTransport({ webrtcConnection: conn, params });
  const events: string[] = [];
  transport.eventHandler('on_client_connected', () => void events.push('connected'));
  transport.eventHandler('on_client_disconnected', () => void events.push('disconnected'));
  transport.eventHandler('on_client_closed', () => void events.push('closed'));
  transport.eventHandler('on_app_message', (_t, message, sender) => {
    events.push(`message:${JSON.stringify(message)}:${sender === conn.pcId}`);
  });
  const tap = new Tap();
  const task = new PipelineTask(new Pipeline([transport.input(), ...middle, tap, transport.output()]), {
    params: { allowInterruptions: true, ...pipelineParams },
  });
  const running = task.run();
  await off.waitConnected();
  await until(() => events.includes('connected'), 10_000, 'on_client_connected');
  const stop = async (): Promise<void> => {
    await task.cancel();
    off.close();
    await running;
  };
  return { off, conn, transport, tap, task, running, events, stop };
}

/** Records intervals created from now on (by delay) and which of them were cleared, until the test ends. */
export function trackIntervals(): { live: (delayMs: number) => number } {
  const created = new Map<unknown, number>();
  const realSet = globalThis.setInterval;
  const realClear = globalThis.clearInterval;
  const set = vi.spyOn(globalThis, 'setInterval').mockImplementation(((fn: () => void, ms?: number) => {
    const t = realSet(fn, ms);
    created.set(t, ms ?? 0);
    return t;
  }) as typeof setInterval);
  const clear = vi.spyOn(globalThis, 'clearInterval').mockImplementation(((t?: NodeJS.Timeout) => {
    created.delete(t);
    realClear(t);
  }) as typeof clearInterval);
  onTestFinished(() => {
    set.mockRestore();
    clear.mockRestore();
  });
  return { live: (delayMs) => [...created.values()].filter((d) => d === delayMs).length };
}

/**
 * Queues `pcm` into the pipeline at `tap` as OutputAudioRawFrames of `chunk` samples, as a TTS service pushes
 * its audio: each queueFrame awaited in turn, or with `wait: false` all queued at once, nothing awaited.
 */
export async function queueBotAudio(
  tap: FrameProcessor,
  pcm: Int16Array,
  o: { sampleRate: number; chunk: number; numChannels?: number; wait?: boolean },
): Promise<void> {
  for (let i = 0; i < pcm.length; i += o.chunk) {
    const frame = new OutputAudioRawFrame({
      audio: pcm.subarray(i, i + o.chunk),
      sampleRate: o.sampleRate,
      ...(o.numChannels !== undefined ? { numChannels: o.numChannels } : {}),
    });
    if (o.wait === false) void tap.queueFrame(frame);
    else await tap.queueFrame(frame);
  }
}
