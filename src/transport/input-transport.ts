import { performance } from 'node:perf_hooks';

import type { InputTrack } from '../connection/index.js';
import { AudioReceiver, type AudioFrame } from '../media/audio-receiver.js';
import { FrameDirection, FrameProcessor, type FrameProcessorSetup } from '../pipeline/frame-processor.js';
import {
  CancelFrame,
  EndFrame,
  type Frame,
  InputAudioRawFrame,
  InputTransportMessageFrame,
  InterruptionFrame,
  StartFrame,
  UserStartedSpeakingFrame,
  UserSpeakingFrame,
  UserStoppedSpeakingFrame,
  VADUserStartedSpeakingFrame,
  VADUserStoppedSpeakingFrame,
} from '../pipeline/frames.js';
import { logger } from '../pipeline/logger.js';
import { VADState, type VADAnalyzer } from '../vad/vad-analyzer.js';
import type { SmallWebRTCClient } from './smallwebrtc-client.js';
import type { TransportParams } from './transport-params.js';

/** How often the input polls the jitter buffer for overdue concealment, ms. */
const POLL_INTERVAL_MS = 10;
/** Input frames waiting for the VAD before the oldest are dropped (1 s of 20 ms frames). */
const MAX_PENDING_FRAMES = 50;
/** No RTP for this long on an enabled (unmuted) track counts as a network stall, ms (Pipecat warns at 2 s). */
const STALL_MS = 2000;

/** Counters of the input side, for stats pages and tests. */
export interface InputTransportStats {
  /** Frames pushed into the pipeline. */
  framesPushed: number;
  /** Frames dropped because the VAD fell more than 1 s behind. */
  framesDropped: number;
  /** Network stalls seen on an unmuted track (no RTP for 2 s). */
  stalls: number;
  /** Whether the peer has muted its microphone (trackStatus). */
  muted: boolean;
  /** Whether the audio is currently stalled (enabled, but no RTP for 2 s). */
  stalled: boolean;
}

/**
 * The input half of {@link SmallWebRTCTransport} (Pipecat's `SmallWebRTCInputTransport`).
 *
 * Audio: each RTP packet from the peer's microphone goes through the native {@link AudioReceiver} (jitter
 * buffer, Opus decode/FEC/PLC, resample) in one synchronous call and comes out as `InputAudioRawFrame`s of
 * exactly 20 ms at `audioInSampleRate`/`audioInChannels`. Nothing is subscribed (so nothing is decoded or
 * queued) before the StartFrame. A VAD, when configured, turns the audio into User/VAD started/stopped
 * speaking frames. All of it runs on the JS thread.
 */
export class SmallWebRTCInputTransport extends FrameProcessor {
  readonly #client: SmallWebRTCClient;
  readonly #params: TransportParams;
  readonly #vad: VADAnalyzer | null;
  #receiver: AudioReceiver | null = null;
  #track: InputTrack | null = null;
  #unsubscribe: Array<() => void> = [];
  #unwatchTrack: (() => void) | null = null;
  #pollTimer: NodeJS.Timeout | null = null;
  #lastRtpMs = 0;
  #inRate = 16000;
  #channels: 1 | 2 = 1;
  #pending: AudioFrame[] = [];
  #draining = false;
  readonly #stats: InputTransportStats = {
    framesPushed: 0,
    framesDropped: 0,
    stalls: 0,
    muted: false,
    stalled: false,
  };

  constructor(client: SmallWebRTCClient, params: TransportParams, name?: string) {
    super(name !== undefined ? { name } : {});
    this.#client = client;
    this.#params = params;
    this.#vad = params.vadAnalyzer ?? null;
  }

  /** Input counters and the peer's mute/stall state. */
  get stats(): Readonly<InputTransportStats> {
    return this.#stats;
  }

  /** Native jitter buffer / decoder statistics while audio is being received, else null. */
  receiverStats(): ReturnType<AudioReceiver['stats']> | null {
    return this.#receiver?.stats() ?? null;
  }

  override async setup(setup: FrameProcessorSetup = {}): Promise<void> {
    await super.setup(setup);
    // As Pipecat (6aa2e94db): connect during setup; the StartFrame only starts the media readers.
    await this.#client.connect(this);
  }

  override async cleanup(): Promise<void> {
    await super.cleanup();
    this.#stopAudio();
    await this.#client.disconnect(this);
  }

  override async processFrame(frame: Frame, direction: FrameDirection): Promise<void> {
    if (frame instanceof StartFrame) {
      this.#inRate = this.#params.audioInSampleRate ?? frame.audioInSampleRate;
      this.#channels = this.#params.audioInChannels === 2 ? 2 : 1;
      this.#vad?.setSampleRate(this.#inRate);
      await this.#preloadVad();
      await this.pushFrame(frame, direction);
      if (this.#params.audioInEnabled) this.#startAudio();
      return;
    }
    if (frame instanceof CancelFrame) {
      this.#stopAudio();
      await this.pushFrame(frame, direction);
      await this.#client.disconnect(this);
      return;
    }
    if (frame instanceof EndFrame) {
      this.#stopAudio();
      await this.pushFrame(frame, direction);
      await this.#client.disconnect(this);
      return;
    }
    await this.pushFrame(frame, direction);
  }

  /** Pushes an inbound client message both ways, as Pipecat does (62f4708d4). */
  async pushAppMessage(message: unknown): Promise<void> {
    await this.pushFrame(new InputTransportMessageFrame(message), FrameDirection.DOWNSTREAM);
    await this.pushFrame(new InputTransportMessageFrame(message), FrameDirection.UPSTREAM);
  }

  #startAudio(): void {
    if (this.#receiver !== null) return;
    this.#receiver = new AudioReceiver({
      sampleRate: this.#inRate,
      channels: this.#channels,
      frameMs: 20,
      ...(this.#params.audioInMinDelayMs !== undefined ? { minDelayMs: this.#params.audioInMinDelayMs } : {}),
      ...(this.#params.audioInMaxDelayMs !== undefined ? { maxDelayMs: this.#params.audioInMaxDelayMs } : {}),
    });
    this.#unwatchTrack = this.#client.onAudioInputChanged((track) => this.#attach(track));
    this.#attach(this.#client.audioInput);
    this.#pollTimer = setInterval(() => this.#poll(), POLL_INTERVAL_MS);
    this.#pollTimer.unref();
  }

  #stopAudio(): void {
    this.#unwatchTrack?.();
    this.#unwatchTrack = null;
    this.#attach(null);
    if (this.#pollTimer !== null) clearInterval(this.#pollTimer);
    this.#pollTimer = null;
    this.#receiver?.close();
    this.#receiver = null;
    this.#pending = [];
  }

  /** Subscribes to the current microphone track (a restart_pc brings a new one). */
  #attach(track: InputTrack | null): void {
    if (track === this.#track) return;
    for (const u of this.#unsubscribe) u();
    this.#unsubscribe = [];
    this.#track = track;
    // A new peer is a new stream: forget the old jitter/decoder state.
    this.#receiver?.reset();
    if (track === null) return;
    this.#stats.muted = !track.enabled;
    this.#lastRtpMs = performance.now();
    this.#unsubscribe.push(
      track.onRtp((packet, arrivalMs) => this.#onRtp(packet, arrivalMs)),
      track.onEnabledChanged((enabled) => {
        this.#stats.muted = !enabled;
        this.#lastRtpMs = performance.now();
        logger().debug(`${this.name}: peer microphone ${enabled ? 'enabled' : 'muted'}`);
      }),
    );
  }

  #onRtp(packet: Buffer, arrivalMs: number): void {
    const receiver = this.#receiver;
    if (receiver === null) return;
    this.#lastRtpMs = arrivalMs;
    if (this.#stats.stalled) {
      this.#stats.stalled = false;
      logger().info(`${this.name}: audio from the peer resumed`);
    }
    this.#enqueue(receiver.push(packet, arrivalMs));
  }

  #poll(): void {
    const receiver = this.#receiver;
    if (receiver === null) return;
    const now = performance.now();
    this.#enqueue(receiver.poll(now));
    // Mute (signalled by trackStatus) and a network stall look the same on the wire; only a stall warns.
    if (
      this.#track !== null &&
      !this.#stats.muted &&
      !this.#stats.stalled &&
      now - this.#lastRtpMs > STALL_MS
    ) {
      this.#stats.stalled = true;
      this.#stats.stalls++;
      logger().warn(`${this.name}: no audio from an unmuted peer for ${STALL_MS} ms (network stall?)`);
    }
  }

  #enqueue(frames: AudioFrame[]): void {
    if (frames.length === 0) return;
    for (const f of frames) this.#pending.push(f);
    if (this.#pending.length > MAX_PENDING_FRAMES) {
      const drop = this.#pending.length - MAX_PENDING_FRAMES;
      this.#pending.splice(0, drop);
      this.#stats.framesDropped += drop;
    }
    if (!this.#draining) void this.detached(() => this.#drain());
  }

  /** Pushes pending frames in order; the VAD (async) is awaited per frame so speaking frames stay in order. */
  async #drain(): Promise<void> {
    this.#draining = true;
    try {
      for (let f = this.#pending.shift(); f !== undefined; f = this.#pending.shift()) {
        const frame = new InputAudioRawFrame({
          audio: f.audio,
          sampleRate: f.sampleRate,
          numChannels: f.numChannels,
          pts: f.pts,
        });
        frame.transportSource = 'microphone';
        if (this.#vad !== null) await this.#runVad(f);
        if (this.#params.audioInPassthrough) {
          await this.pushFrame(frame, FrameDirection.DOWNSTREAM);
          this.#stats.framesPushed++;
        }
      }
    } catch (err) {
      logger().error(`${this.name}: input audio handling failed`, err);
    } finally {
      this.#draining = false;
    }
  }

  /**
   * Loads the VAD's model (Silero: ~0.5 s) before audio flows. Loaded lazily on the first frame instead, the
   * frames arriving meanwhile pile up and then go downstream in one burst; a live bot (the echo demo) then
   * keeps that backlog as added latency for the whole session, since input and output both run at 1x.
   */
  async #preloadVad(): Promise<void> {
    const vad = this.#vad;
    if (vad === null || vad.load === undefined) return;
    try {
      await vad.load();
    } catch (err) {
      logger().error(`${this.name}: VAD model failed to load`, err);
    }
  }

  async #runVad(f: AudioFrame): Promise<void> {
    const vad = this.#vad;
    if (vad === null) return;
    const mono = f.numChannels === 1 ? f.audio : downmix(f.audio);
    const analysis = await vad.analyze(mono);
    // Pipecat pushes UserSpeakingFrame upstream with every frame while the user speaks (task activity).
    if (analysis.state === VADState.SPEAKING) {
      await this.pushFrame(new UserSpeakingFrame(), FrameDirection.UPSTREAM);
    }
    for (const t of analysis.transitions) {
      if (t.to === VADState.SPEAKING && t.from !== VADState.SPEAKING && t.from !== VADState.STOPPING) {
        await this.#userStarted();
      } else if (t.to === VADState.QUIET && t.from !== VADState.QUIET && t.from !== VADState.STARTING) {
        await this.#userStopped();
      }
    }
  }

  async #userStarted(): Promise<void> {
    const startSecs = this.#vad?.params.startSecs ?? 0;
    await this.pushFrame(new VADUserStartedSpeakingFrame({ startSecs }), FrameDirection.DOWNSTREAM);
    await this.pushFrame(new UserStartedSpeakingFrame(), FrameDirection.DOWNSTREAM);
    await this.pushFrame(new UserStartedSpeakingFrame(), FrameDirection.UPSTREAM);
    // Pipecat's base input: user speech interrupts the bot when the pipeline allows interruptions.
    if (this.allowInterruptions) await this.pushFrame(new InterruptionFrame(), FrameDirection.DOWNSTREAM);
  }

  async #userStopped(): Promise<void> {
    const stopSecs = this.#vad?.params.stopSecs ?? 0;
    await this.pushFrame(new VADUserStoppedSpeakingFrame({ stopSecs }), FrameDirection.DOWNSTREAM);
    await this.pushFrame(new UserStoppedSpeakingFrame(), FrameDirection.DOWNSTREAM);
    await this.pushFrame(new UserStoppedSpeakingFrame(), FrameDirection.UPSTREAM);
  }
}

/** Averages interleaved stereo into mono for the VAD (which takes mono). */
function downmix(stereo: Int16Array): Int16Array {
  const out = new Int16Array(stereo.length >> 1);
  for (let i = 0; i < out.length; i++) out[i] = ((stereo[2 * i] ?? 0) + (stereo[2 * i + 1] ?? 0)) >> 1;
  return out;
}
