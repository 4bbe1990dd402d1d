import { setTimeout as sleep } from 'node:timers/promises';

import { Resampler } from '../media/resampler.js';
import { FrameDirection, FrameProcessor, type FrameProcessorSetup } from '../pipeline/frame-processor.js';
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
  #stopTimer: NodeJS.Timeout | null = null;
  #speakingTimer: NodeJS.Timeout | null = null;
  /** Converts frames whose rate/channels differ from the output track's, keyed `rate/channels`. */
  #converters = new Map<string, Resampler>();
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
    this.#clearStopTimer();
    this.#clearSpeakingTimer();
    for (const r of this.#converters.values()) r.close();
    this.#converters.clear();
    await this.#release();
  }

  /** Called by the client (pacer tick, JS thread) on on-the-wire transitions of the bot's audio. */
  handleBotSpeaking(speaking: boolean): void {
    if (speaking) {
      this.#clearStopTimer();
      if (!this.#botSpeaking) {
        this.#botSpeaking = true;
        void this.detached(() => this.#pushBoth(() => new BotStartedSpeakingFrame()));
        // Keeps the task's idle timer (and anything else watching activity) fed while audio goes out.
        this.#speakingTimer = setInterval(() => {
          void this.detached(() => this.#pushBoth(() => new BotSpeakingFrame()));
        }, BOT_SPEAKING_INTERVAL_MS);
        this.#speakingTimer.unref();
      }
      return;
    }
    if (!this.#botSpeaking || this.#stopTimer !== null) return;
    this.#stopTimer = setTimeout(() => {
      this.#stopTimer = null;
      this.#botSpeaking = false;
      this.#clearSpeakingTimer();
      void this.detached(() => this.#pushBoth(() => new BotStoppedSpeakingFrame()));
    }, BOT_STOP_MS);
    this.#stopTimer.unref();
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
      if (this.#params.videoOutEnabled) {
        logger().debug(`${this.name}: video output is not available yet, ${frame.name} dropped`);
      }
      return;
    }
    await this.pushFrame(frame, direction);
  }

  /** Writes one frame's audio; false when it could not be sent (no client), as Pipecat's write_audio_frame. */
  async #writeAudio(frame: OutputAudioRawFrame): Promise<boolean> {
    const track = this.#client.audioOutput;
    if (!this.#params.audioOutEnabled || track === null || !this.#client.canSend) {
      this.#stats.framesDropped++;
      return false;
    }
    const pcm = this.#convert(frame, track.sampleRate, track.channels);
    if (pcm.length > 0) await track.write(pcm, this.interruptionSignal);
    this.#stats.framesWritten++;
    return true;
  }

  /** Brings a frame to the track's rate and channel count (streaming, one converter per input format). */
  #convert(frame: OutputAudioRawFrame, rate: number, channels: number): Int16Array {
    if (frame.sampleRate === rate && frame.numChannels === channels) return frame.audio;
    const key = `${frame.sampleRate}/${frame.numChannels}`;
    let r = this.#converters.get(key);
    if (r === undefined) {
      r = new Resampler({
        inRate: frame.sampleRate,
        outRate: rate,
        inChannels: frame.numChannels === 2 ? 2 : 1,
        outChannels: channels === 2 ? 2 : 1,
      });
      this.#converters.set(key, r);
    }
    return concat(r.process(frame.audio));
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

  #clearStopTimer(): void {
    if (this.#stopTimer !== null) clearTimeout(this.#stopTimer);
    this.#stopTimer = null;
  }

  #clearSpeakingTimer(): void {
    if (this.#speakingTimer !== null) clearInterval(this.#speakingTimer);
    this.#speakingTimer = null;
  }

  async #release(): Promise<void> {
    this.#clearStopTimer();
    this.#clearSpeakingTimer();
    await this.#client.disconnect(this);
  }
}

/** Joins the resampler's fixed-size chunks into one buffer (usually one or two chunks). */
function concat(chunks: Int16Array[]): Int16Array {
  if (chunks.length === 1) return chunks[0] as Int16Array;
  let n = 0;
  for (const c of chunks) n += c.length;
  const out = new Int16Array(n);
  let o = 0;
  for (const c of chunks) {
    out.set(c, o);
    o += c.length;
  }
  return out;
}
