import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';

import { downmixToMono } from '../media/pcm.js';
import {
  FrameDirection,
  FrameProcessor,
  type FrameProcessorSetup,
  type QueueFrameOptions,
} from '../pipeline/frame-processor.js';
import {
  BotSpeakingFrame,
  BotStartedSpeakingFrame,
  BotStoppedSpeakingFrame,
  CancelFrame,
  EndFrame,
  type Frame,
  InterruptionFrame,
  OutputAudioRawFrame,
  OutputImageRawFrame,
  OutputTransportMessageFrame,
  OutputTransportMessageUrgentFrame,
  SpriteFrame,
  StartFrame,
} from '../pipeline/frames.js';
import { logger } from '../pipeline/logger.js';
import type { SmallWebRTCClient } from './smallwebrtc-client.js';
import type { PixelFormat, VideoImage } from '../media/video-frame.js';
import type { VideoOutputTrack } from './tracks/video-output-track.js';
import type { AudioOutputTrack } from './tracks/audio-output-track.js';
import { mediaClock, type MediaClockClient } from './tracks/media-clock.js';
import type { TransportParams } from './transport-params.js';

/**
 * Silence after the last audio before the bot counts as stopped, ms. The wire goes quiet for a slot whenever
 * a TTS service is a little late; Pipecat uses 0.35 s for the same purpose (BOT_VAD_STOP_SECS).
 */
const BOT_STOP_MS = 350;
/** While the bot speaks, a BotSpeakingFrame goes both ways this often (Pipecat's activity signal), ms. */
const BOT_SPEAKING_INTERVAL_MS = 200;

/** Counters of the output side. */
export interface OutputTransportStats {
  /** Audio frames written to the wire. */
  framesWritten: number;
  /** Audio frames dropped because no client was connected. */
  framesDropped: number;
  /** Audio dropped by interruptions, ms. */
  interruptedMs: number;
  /** Interruptions handled. */
  interruptions: number;
}

/**
 * The output half of {@link SmallWebRTCTransport} (Pipecat's `SmallWebRTCOutputTransport`).
 *
 * `OutputAudioRawFrame`s of any rate, channel count and size go to the native sender, which paces 20 ms Opus
 * packets on its own; the frame's `processFrame` resolves when its audio is consumed (Pipecat's
 * back-pressure, about 40 ms in flight), so an {@link InterruptionFrame} (a system frame, handled at once)
 * only has to clear the sender's queue, which takes effect within one packet. Bot Started/Stopped Speaking
 * frames come from what actually went out on the wire.
 */
export class SmallWebRTCOutputTransport extends FrameProcessor {
  readonly #client: SmallWebRTCClient;
  readonly #params: TransportParams;
  #botSpeaking = false;
  /** When the pending stop takes effect (`performance.now()` ms), or null: the stop hysteresis. */
  #stopAtMs: number | null = null;
  /** When the next BotSpeakingFrame is due, ms. */
  #nextSpeakingAtMs = 0;
  /** Registered on the media clock while the bot speaks (the cadence and the hysteresis ride on it). */
  readonly #clockClient: MediaClockClient = { tick: (nowMs) => this.#tick(nowMs) };
  readonly #stats: OutputTransportStats = {
    framesWritten: 0,
    framesDropped: 0,
    interruptedMs: 0,
    interruptions: 0,
  };

  constructor(client: SmallWebRTCClient, params: TransportParams, name?: string) {
    super(name !== undefined ? { name } : {});
    this.#client = client;
    this.#params = params;
  }

  /** Output counters. */
  get stats(): Readonly<OutputTransportStats> {
    return this.#stats;
  }

  /** The bot's audio track while connected with `audioOutEnabled`, else null. */
  get audioTrack(): AudioOutputTrack | null {
    return this.#client.audioOutput;
  }

  /** The bot's video track while connected with `videoOutEnabled`, else null. */
  get videoTrack(): VideoOutputTrack | null {
    return this.#client.videoOutput;
  }

  /** Whether the bot's audio is going out on the wire (with the 350 ms stop hysteresis). */
  get botSpeaking(): boolean {
    return this.#botSpeaking;
  }

  override async setup(setup: FrameProcessorSetup = {}): Promise<void> {
    await super.setup(setup);
    await this.#client.connect(this);
  }

  override async cleanup(): Promise<void> {
    await super.cleanup();
    this.#stopClock();
    await this.#release();
  }

  /**
   * Called by the client (from the output track's media clock tick, JS thread) on on-the-wire transitions of
   * the bot's audio. A start pushes BotStartedSpeaking at once; a stop takes effect after BOT_STOP_MS without
   * a new start. In between, a BotSpeakingFrame goes both ways every BOT_SPEAKING_INTERVAL_MS. Both ride the
   * process-wide media clock: no timer of this session's own.
   */
  handleBotSpeaking(speaking: boolean): void {
    const now = performance.now();
    if (speaking) {
      this.#stopAtMs = null;
      if (!this.#botSpeaking) {
        this.#botSpeaking = true;
        void this.detached(() => this.#pushBoth(() => new BotStartedSpeakingFrame()));
        // Keeps the task's idle timer (and anything else watching activity) fed while audio goes out.
        this.#nextSpeakingAtMs = now + BOT_SPEAKING_INTERVAL_MS;
        mediaClock.add(this.#clockClient);
      }
      return;
    }
    if (!this.#botSpeaking || this.#stopAtMs !== null) return;
    this.#stopAtMs = now + BOT_STOP_MS;
    // Also after the output released the clock (EndFrame/CancelFrame): the stop is still reported.
    mediaClock.add(this.#clockClient);
  }

  #tick(nowMs: number): void {
    if (!this.#botSpeaking) {
      this.#stopClock();
      return;
    }
    if (this.#stopAtMs !== null && nowMs >= this.#stopAtMs) {
      this.#botSpeaking = false;
      this.#stopClock();
      void this.detached(() => this.#pushBoth(() => new BotStoppedSpeakingFrame()));
      return;
    }
    if (nowMs >= this.#nextSpeakingAtMs) {
      // A late tick sends one frame, not a catch-up burst.
      this.#nextSpeakingAtMs = Math.max(this.#nextSpeakingAtMs + BOT_SPEAKING_INTERVAL_MS, nowMs);
      void this.detached(() => this.#pushBoth(() => new BotSpeakingFrame()));
    }
  }

  /**
   * With `videoOutIsLive`, an `OutputImageRawFrame` goes to the video track as it arrives instead of
   * waiting in the queue behind audio frames, whose writes are paced in real time: in the video-transform
   * bot an echoed microphone delayed every picture by the echo's backlog (1.5 s of camera-to-screen lag
   * at 320x240, 39 ms without audio). Pipecat gets the same effect from its separate audio and video
   * queues. Other frames, and every image when not live, keep their order.
   */
  override async queueFrame(
    frame: Frame,
    direction: FrameDirection = FrameDirection.DOWNSTREAM,
    options: QueueFrameOptions = {},
  ): Promise<void> {
    if (
      this.#params.videoOutIsLive &&
      direction === FrameDirection.DOWNSTREAM &&
      frame instanceof OutputImageRawFrame &&
      !options.signal?.aborted
    ) {
      this.#writeImage(frame);
      return;
    }
    await super.queueFrame(frame, direction, options);
  }

  override async processFrame(frame: Frame, direction: FrameDirection): Promise<void> {
    if (direction === FrameDirection.UPSTREAM) {
      await this.pushFrame(frame, direction);
      return;
    }
    if (frame instanceof StartFrame) {
      this.#client.setOutputSampleRate(frame.audioOutSampleRate);
      await this.pushFrame(frame, direction);
      return;
    }
    if (frame instanceof InterruptionFrame) {
      this.#interrupt();
      await this.pushFrame(frame, direction);
      return;
    }
    if (frame instanceof CancelFrame) {
      this.#interrupt();
      await this.pushFrame(frame, direction);
      await this.#release();
      return;
    }
    if (frame instanceof EndFrame) {
      await this.#endOfStream();
      await this.pushFrame(frame, direction);
      await this.#release();
      return;
    }
    if (frame instanceof OutputTransportMessageUrgentFrame || frame instanceof OutputTransportMessageFrame) {
      this.#client.sendMessage(frame.message);
      return;
    }
    if (frame instanceof OutputAudioRawFrame) {
      if (await this.#writeAudio(frame)) await this.pushFrame(frame, direction);
      return;
    }
    if (frame instanceof OutputImageRawFrame || frame instanceof SpriteFrame) {
      this.#writeImage(frame);
      return;
    }
    await this.pushFrame(frame, direction);
  }

  /**
   * Hands an image (or a sprite) to the video track, which sends it at videoOutFramerate (scaled to
   * videoOutWidth x videoOutHeight when its size differs). An image the encoder cannot take (a format other
   * than RGB/RGBA/BGRA/I420, or bytes that do not match its size) is logged and dropped.
   */
  #writeImage(frame: OutputImageRawFrame | SpriteFrame): void {
    const track = this.#client.videoOutput;
    if (!this.#params.videoOutEnabled || track === null) return;
    const image = (f: OutputImageRawFrame): VideoImage => ({
      data: f.image,
      width: f.size[0],
      height: f.size[1],
      format: f.format as PixelFormat,
    });
    try {
      if (frame instanceof SpriteFrame) track.setSprite(frame.images.map(image));
      else track.setImage(image(frame));
    } catch (err) {
      logger().error(`${this.name}: ${frame.name} dropped`, err);
    }
  }

  /**
   * Writes one frame's audio; false when it could not be sent (no client), as Pipecat's write_audio_frame.
   * The frame goes to the track at its own rate and channel count: the native sender resamples it to 48 kHz
   * once (a frame in a new format waits for the audio queued before it, see AudioOutputTrack.setFormat).
   */
  async #writeAudio(frame: OutputAudioRawFrame): Promise<boolean> {
    const track = this.#client.audioOutput;
    if (!this.#params.audioOutEnabled || track === null || !this.#client.canSend) {
      this.#stats.framesDropped++;
      return false;
    }
    const signal = this.interruptionSignal;
    const channels = frame.numChannels === 2 ? 2 : 1;
    if (frame.sampleRate !== track.sampleRate || channels !== track.channels) {
      await track.setFormat(frame.sampleRate, channels, signal);
    }
    // More than two channels (rare: the frame type allows up to 8) are averaged to mono here; the native
    // sender takes mono or stereo.
    const pcm = frame.numChannels > 2 ? downmixToMono(frame.audio, frame.numChannels) : frame.audio;
    if (pcm.length > 0) await track.write(pcm, signal);
    this.#stats.framesWritten++;
    return true;
  }

  #interrupt(): void {
    const track = this.#client.audioOutput;
    if (track === null) return;
    const dropped = track.clear();
    this.#stats.interruptions++;
    this.#stats.interruptedMs += dropped;
  }

  /** EndFrame: let queued audio play out, then `audioOutEndSilenceSecs` of silence (Pipecat's end silence). */
  async #endOfStream(): Promise<void> {
    const track = this.#client.audioOutput;
    if (track === null || !this.#params.audioOutEnabled) return;
    await track.drain();
    const silenceMs = this.#params.audioOutEndSilenceSecs * 1000;
    if (silenceMs <= 0 || !this.#client.canSend) return;
    if (this.#params.audioOutAutoSilence) {
      // The sender already sends silence while idle: just keep the peer up that long.
      await sleep(silenceMs, undefined, { ref: false });
    } else {
      const samples = Math.round((silenceMs / 1000) * track.sampleRate) * track.channels;
      await track.write(new Int16Array(samples));
      await track.drain();
    }
  }

  async #pushBoth(make: () => Frame): Promise<void> {
    await this.pushFrame(make(), FrameDirection.DOWNSTREAM);
    await this.pushFrame(make(), FrameDirection.UPSTREAM);
  }

  #stopClock(): void {
    this.#stopAtMs = null;
    mediaClock.delete(this.#clockClient);
  }

  async #release(): Promise<void> {
    this.#stopClock();
    await this.#client.disconnect(this);
  }
}
