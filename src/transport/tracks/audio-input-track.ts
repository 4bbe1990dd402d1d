import { performance } from 'node:perf_hooks';

import type { InputTrack } from '../../connection/index.js';
import { AudioReceiver, type AudioFrame, type AudioReceiverStats } from '../../media/audio-receiver.js';
import { logger } from '../../pipeline/logger.js';
import { SmallWebRTCTypeError } from '../../errors.js';
import { mediaClock, type MediaClockClient } from './media-clock.js';

/** No RTP for this long on an enabled (unmuted) track counts as a network stall, ms (Pipecat warns at 2 s). */
const STALL_MS = 2000;

/** Construction options of {@link AudioInputTrack}. */
export interface AudioInputTrackOptions {
  /** Rate of the frames delivered, Hz (the pipeline's `audioInSampleRate`). */
  sampleRate: number;
  /** Channels of the frames delivered (1 or 2). */
  channels: 1 | 2;
  /** Lower bound of the jitter buffer's loss deadline, ms (see {@link AudioReceiverOptions}). */
  minDelayMs?: number;
  /** Upper bound of the jitter buffer's loss deadline, ms. */
  maxDelayMs?: number;
  /**
   * Receives the decoded 20 ms frames, in order, on the JS thread: from the RTP callback (frames a packet
   * completed) or from the media clock's tick (concealment and DTX silence that came due). The array is the
   * caller's to keep. Must not throw (a throw is logged and the frames are lost).
   */
  onFrames: (frames: AudioFrame[]) => void;
  /** Name used in log lines (the input transport's name). */
  name?: string;
}

/** Counters of an {@link AudioInputTrack}: the peer's mute and stall state. */
export interface AudioInputTrackStats {
  /** Frames delivered to `onFrames` (real, concealed and DTX silence). */
  framesDelivered: number;
  /** Network stalls seen on an unmuted track (no RTP for 2 s). */
  stalls: number;
  /** Whether the peer has muted its microphone (trackStatus). */
  muted: boolean;
  /** Whether the audio is currently stalled (enabled, but no RTP for 2 s). */
  stalled: boolean;
  /**
   * RTP packets dropped before the decoder for a payload type other than the negotiated Opus one (a peer may
   * send any payload type with its SSRC; Opus would only fail on them or, worse, decode noise).
   */
  payloadTypeDropped: number;
}

/**
 * The peer's microphone as PCM frames: the receive-side twin of {@link AudioOutputTrack}.
 *
 * Bound to the connection's raw {@link InputTrack} (a `restart_pc` brings a new one: {@link
 * AudioInputTrack.bind} again), it hands every RTP packet to the native {@link AudioReceiver} (jitter
 * buffer, Opus decode/FEC/PLC, the one resampling to `sampleRate`) in one synchronous call, and rides the
 * process-wide {@link mediaClock} to emit the concealment that comes due while no packet arrives. Frames are
 * exactly 20 ms at `sampleRate`/`channels` with a continuous pts. It also tells a mute (`trackStatus`) from
 * a network stall, which look the same on the wire. JS thread only; nothing is decoded while unbound.
 */
export class AudioInputTrack implements MediaClockClient {
  readonly kind = 'audio' as const;
  readonly #receiver: AudioReceiver;
  readonly #onFrames: (frames: AudioFrame[]) => void;
  readonly #name: string;
  #source: InputTrack | null = null;
  #unsubscribe: Array<() => void> = [];
  #lastRtpMs = 0;
  #closed = false;
  #errors = 0;
  readonly #stats: AudioInputTrackStats = {
    framesDelivered: 0,
    stalls: 0,
    muted: false,
    stalled: false,
    payloadTypeDropped: 0,
  };
  /** The bound source's Opus payload type (-1: none negotiated, any accepted). */
  #opusPt = -1;

  /** @throws TypeError / RangeError (ERR_INVALID_ARG) naming a bad option. */
  constructor(options: AudioInputTrackOptions) {
    if (options === null || typeof options !== 'object' || typeof options.onFrames !== 'function') {
      throw new SmallWebRTCTypeError(
        'ERR_INVALID_ARG',
        'AudioInputTrack: options.onFrames must be a function',
      );
    }
    this.#receiver = new AudioReceiver({
      sampleRate: options.sampleRate,
      channels: options.channels,
      frameMs: 20,
      ...(options.minDelayMs !== undefined ? { minDelayMs: options.minDelayMs } : {}),
      ...(options.maxDelayMs !== undefined ? { maxDelayMs: options.maxDelayMs } : {}),
    });
    this.#onFrames = options.onFrames;
    this.#name = options.name ?? 'audio input';
  }

  /** Rate of the delivered frames, Hz. */
  get sampleRate(): number {
    return this.#receiver.sampleRate;
  }

  /** Channels of the delivered frames. */
  get channels(): number {
    return this.#receiver.channels;
  }

  /** The raw track currently bound, or null. */
  get source(): InputTrack | null {
    return this.#source;
  }

  /** Mute/stall state and counters (a live object: read it, do not keep it for later comparison). */
  get stats(): Readonly<AudioInputTrackStats> {
    return this.#stats;
  }

  /** Native jitter buffer / decoder statistics; null once closed. */
  receiverStats(): AudioReceiverStats | null {
    return this.#closed ? null : this.#receiver.stats();
  }

  /**
   * Subscribes to `source` (null unbinds). A different source is a new stream: the jitter buffer and decoder
   * forget the old one (the frames' pts stays continuous). Binding the current source again is a no-op.
   */
  bind(source: InputTrack | null): void {
    if (this.#closed || source === this.#source) return;
    for (const u of this.#unsubscribe) u();
    this.#unsubscribe = [];
    this.#source = source;
    this.#receiver.reset();
    if (source === null) {
      mediaClock.delete(this);
      return;
    }
    this.#stats.muted = !source.enabled;
    this.#opusPt = source.codecs.find((c) => c.name.toLowerCase() === 'opus')?.payloadType ?? -1;
    this.#lastRtpMs = performance.now();
    this.#unsubscribe.push(
      source.onRtp((packet, arrivalMs) => this.#onRtp(packet, arrivalMs)),
      source.onEnabledChanged((enabled) => {
        this.#stats.muted = !enabled;
        this.#lastRtpMs = performance.now();
        logger().debug(`${this.#name}: peer microphone ${enabled ? 'enabled' : 'muted'}`);
      }),
    );
    mediaClock.add(this);
  }

  /** Same as `bind(null)`. */
  unbind(): void {
    this.bind(null);
  }

  /** Unbinds and frees the native receiver. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.unbind();
    this.#closed = true;
    this.#receiver.close();
  }

  /** Media clock tick (JS thread): emits the concealment due now and watches for a network stall. */
  tick(nowMs: number): void {
    if (this.#closed || this.#source === null) return;
    this.#deliver(this.#receiver.poll(nowMs));
    // Mute (signalled by trackStatus) and a network stall look the same on the wire; only a stall warns.
    const s = this.#stats;
    if (!s.muted && !s.stalled && nowMs - this.#lastRtpMs > STALL_MS) {
      s.stalled = true;
      s.stalls++;
      logger().warn(`${this.#name}: no audio from an unmuted peer for ${STALL_MS} ms (network stall?)`);
    }
  }

  #onRtp(packet: Buffer, arrivalMs: number): void {
    if (this.#closed) return;
    if (this.#opusPt >= 0 && ((packet[1] ?? 0) & 0x7f) !== this.#opusPt) {
      this.#stats.payloadTypeDropped++;
      return;
    }
    this.#lastRtpMs = arrivalMs;
    if (this.#stats.stalled) {
      this.#stats.stalled = false;
      logger().info(`${this.#name}: audio from the peer resumed`);
    }
    this.#deliver(this.#receiver.push(packet, arrivalMs));
  }

  #deliver(frames: AudioFrame[]): void {
    if (frames.length === 0) return;
    this.#stats.framesDelivered += frames.length;
    try {
      this.#onFrames(frames);
    } catch (err) {
      if (this.#errors++ % 1000 === 0) logger().error(`${this.#name}: onFrames failed`, err);
    }
  }
}
