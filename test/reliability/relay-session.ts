/**
 * A transport session whose client reaches the server only through an {@link ImpairRelay} (both sides'
 * candidates are rewritten to the relay), plus a recorder of the input audio frames with their arrival time.
 * Shared by the fault tests.
 */
import { performance } from 'node:perf_hooks';

import {
  FrameDirection,
  FrameProcessor,
  InputAudioRawFrame,
  Pipeline,
  PipelineTask,
  SmallWebRTCConnection,
  SmallWebRTCTransport,
  TransportParams,
  type Frame,
} from '../../src/index.js';
import { rms } from '../../testkit/audio.js';
import {
  candidateAddress,
  ImpairRelay,
  rewriteCandidateLine,
  rewriteCandidates,
} from '../../testkit/impair-relay.js';
import { PipecatLikeClient, type PipecatLikeClientOptions } from '../../testkit/pipecat-like-client.js';
import { until } from '../../testkit/wait.js';

/** One input audio frame as the pipeline saw it. */
export interface HeardInput {
  /** performance.now() when the frame reached the recorder, ms. */
  at: number;
  rms: number;
}

/** Records the input audio frames (and app messages) and stops them there. */
export class InputRecorder extends FrameProcessor {
  readonly frames: HeardInput[] = [];
  override async processFrame(frame: Frame, direction: FrameDirection): Promise<void> {
    if (frame instanceof InputAudioRawFrame) {
      this.frames.push({ at: performance.now(), rms: rms(frame.audio) });
      return;
    }
    await this.pushFrame(frame, direction);
  }
}

/** A session through a relay. */
export interface RelaySession {
  relay: ImpairRelay;
  off: PipecatLikeClient;
  conn: SmallWebRTCConnection;
  transport: SmallWebRTCTransport;
  recorder: InputRecorder;
  task: PipelineTask;
  /** Transport events (`connected`, `disconnected`, `closed`) and app messages (`message:<json>`). */
  events: string[];
  /** Connection state events. */
  states: string[];
  stop(): Promise<void>;
}

/**
 * Starts a relay (with `impairment` on both directions from the first datagram when given), a client and a
 * transport (audio in at 16 kHz, audio out) talking through it; resolves once the client is connected.
 */
export async function startRelaySession(
  o: {
    clientOpts?: PipecatLikeClientOptions;
    relaySeed?: number;
    impairment?: Parameters<ImpairRelay['impair']>[1];
    connectTimeoutMs?: number;
  } = {},
): Promise<RelaySession> {
  const relay = await ImpairRelay.start({ seed: o.relaySeed ?? 11 });
  if (o.impairment) relay.impair('both', o.impairment);
  const off = await PipecatLikeClient.create({ video: false, screen: false, ...o.clientOpts });
  const conn = new SmallWebRTCConnection({ bindAddress: '127.0.0.1' });
  const states: string[] = [];
  for (const e of ['connecting', 'connected', 'disconnected', 'closed', 'failed'] as const) {
    conn.on(e, () => states.push(e));
  }
  await conn.initialize(off.offer);
  const answer = conn.getAnswer();
  const server = answer ? candidateAddress(answer.sdp) : null;
  if (!answer || !server) throw new Error('the answer has no candidate');
  relay.setServer(server);
  off.setAnswer({ sdp: rewriteCandidates(answer.sdp, relay.clientSide) });
  for (const c of off.candidates) {
    await conn.addIceCandidate({
      candidate: rewriteCandidateLine(c.candidate, relay.serverSide),
      sdpMid: c.sdpMid,
    });
  }
  const transport = new SmallWebRTCTransport({
    webrtcConnection: conn,
    params: new TransportParams({ audioInEnabled: true, audioInSampleRate: 16000, audioOutEnabled: true }),
  });
  const events: string[] = [];
  transport.eventHandler('on_client_connected', () => void events.push('connected'));
  transport.eventHandler('on_client_disconnected', () => void events.push('disconnected'));
  transport.eventHandler('on_client_closed', () => void events.push('closed'));
  transport.eventHandler(
    'on_app_message',
    (_t, message) => void events.push(`message:${JSON.stringify(message)}`),
  );
  const recorder = new InputRecorder();
  const task = new PipelineTask(new Pipeline([transport.input(), recorder, transport.output()]));
  const running = task.run();
  await off.waitConnected(o.connectTimeoutMs ?? 20_000);
  await until(() => events.includes('connected'), o.connectTimeoutMs ?? 20_000, 'on_client_connected');
  const stop = async (): Promise<void> => {
    await task.cancel();
    off.close();
    await running;
    relay.close();
  };
  return { relay, off, conn, transport, recorder, task, events, states, stop };
}
