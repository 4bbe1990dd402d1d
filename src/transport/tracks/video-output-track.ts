import { randomInt } from 'node:crypto';

import type { OutboundTrack, RtpSink } from '../../connection/index.js';
import { SmallWebRTCTypeError } from '../../errors.js';
import { checkImage, type VideoImage } from '../../media/video-frame.js';
import { VideoSender, type VideoSenderStats } from '../../media/video-sender.js';
import { logger } from '../../pipeline/logger.js';
import { mediaClock, type MediaClockClient } from './media-clock.js';

/**
 * libvpx realtime speed of the bot's video (`VP8E_SET_CPUUSED`; negative: always this speed, 16 fastest).
 * -12 instead of the codec's -6 default: at 640x480 1.5 Mbit/s the encode costs about 27 % less CPU per frame
 * for the same PSNR (bench/video/speed-probe.ts); WebRTC itself runs -12 on low-power CPUs.
 */
export const VIDEO_OUT_CPU_USED = -12;

/** Construction options of {@link VideoOutputTrack}. */
export interface VideoOutputTrackOptions {
  /** Encoded size, pixels (`videoOutWidth` x `videoOutHeight`); images of another size are scaled. */
  width: number;
  height: number;
  /** Frames per second sent (`videoOutFramerate`). */
  framerate: number;
  /** Bitrate cap, bit/s (`videoOutBitrate`); the receiver's REMB estimate moves the target below it. */
  bitrate: number;
  /**
   * `videoOutIsLive`: true sends each image once, as soon as it is set unless the previous frame left less than
   * 3/4 of a frame period ago (then at the next clock tick that allows it, the newest image winning); false
   * repeats the current image (or cycles the sprite) every frame period.
   */
  live: boolean;
  /** Name used in log lines. */
  name?: string;
}

/** Counters of a {@link VideoOutputTrack}. */
export interface VideoOutputTrackStats {
  /** Images handed to the encoder. */
  framesSent: number;
  /** Encoded frames whose packets went out. */
  framesOut: number;
  /** Packets the connection refused (not connected yet, closed). */
  sendFailures: number;
  /** The encoder's feedback counters (PLI, FIR, REMB, bitrate), null while unbound. */
  sender: VideoSenderStats | null;
}

/**
 * The bot's video: the video twin of {@link AudioOutputTrack}. Images set with {@link setImage} /
 * {@link setSprite} are sent at `framerate` on the process-wide {@link mediaClock}: a native
 * {@link VideoSender} encodes them on a worker thread (never on this thread) and the packets go to the bound
 * sender. PLI/FIR from the peer make the next frame a keyframe; REMB sets the bitrate below the cap.
 * JS thread only.
 */
export class VideoOutputTrack implements OutboundTrack, MediaClockClient {
  readonly kind = 'video' as const;
  readonly #o: VideoOutputTrackOptions;
  readonly #periodMs: number;
  #sink: RtpSink | null = null;
  #sender: VideoSender | null = null;
  #unsubscribe: (() => void) | null = null;
  #images: VideoImage[] = [];
  #next = 0;
  #fresh = false;
  #nextFrameMs = 0;
  /** When the last live frame went to the encoder (performance.now() ms). */
  #lastSentMs = -Infinity;
  #closed = false;
  readonly #stats: Omit<VideoOutputTrackStats, 'sender'> = { framesSent: 0, framesOut: 0, sendFailures: 0 };
  /** The counters of the senders this track had before the current one. */
  readonly #retired = { encodeErrors: 0, keyframeRequests: 0 };

  constructor(options: VideoOutputTrackOptions) {
    if (options === null || typeof options !== 'object') {
      throw new SmallWebRTCTypeError('ERR_INVALID_ARG', 'VideoOutputTrack: options must be an object');
    }
    this.#o = options;
    this.#periodMs = 1000 / options.framerate;
  }

  /** Whether a sender is bound (the peer is connected and takes video). */
  get bound(): boolean {
    return this.#sink !== null;
  }

  /**
   * The counters monitoring reads, over every sender this track had (a `restart_pc` binds a new one): frames
   * sent, encoder failures, keyframe requests (PLI, FIR) from the peer.
   */
  counters(): { framesOut: number; encodeErrors: number; keyframeRequests: number } {
    const live = this.#sender;
    const s = live?.stats();
    return {
      framesOut: this.#stats.framesOut,
      encodeErrors: this.#retired.encodeErrors + (live?.encodeErrors ?? 0),
      keyframeRequests: this.#retired.keyframeRequests + (s ? s.plis + s.firs : 0),
    };
  }

  /** Counters. */
  get stats(): VideoOutputTrackStats {
    return { ...this.#stats, sender: this.#sender?.stats() ?? null };
  }

  /**
   * Shows `image` from the next frame period on (any format; scaled to the track's size).
   * @throws RangeError ERR_INVALID_ARG when its bytes do not match its size and format.
   */
  setImage(image: VideoImage): void {
    this.#images = [checkImage('image', image)];
    this.#next = 0;
    this.#fresh = true;
    // Live: a picture that may go out now goes out now, not at the next clock tick (up to 10 ms later) or the
    // next frame slot (up to a frame period later): every millisecond here is camera-to-screen lag.
    if (this.#o.live) this.#sendLive(performance.now());
  }

  /** Cycles through `images`, one per frame period (Pipecat's SpriteFrame). */
  setSprite(images: readonly VideoImage[]): void {
    if (images.length === 0)
      throw new SmallWebRTCTypeError('ERR_INVALID_ARG', 'a sprite needs at least one image');
    this.#images = images.map((i, n) => checkImage(`images[${n}]`, i));
    this.#next = 0;
    this.#fresh = true;
  }

  bind(sink: RtpSink): void {
    if (this.#closed) return;
    this.unbind();
    this.#sink = sink;
    // A new sender per binding: a new peer gets a stream of its own (random sequence, picture ID, timestamp).
    const sender = new VideoSender({
      width: this.#o.width,
      height: this.#o.height,
      fps: Math.max(1, Math.min(120, Math.round(this.#o.framerate))),
      bitrate: this.#o.bitrate,
      maxBitrate: this.#o.bitrate,
      cpuUsed: VIDEO_OUT_CPU_USED,
      ssrc: sink.ssrc,
      payloadType: sink.payloadType,
      midExtension: sink.midExtensionId !== null ? { id: sink.midExtensionId, mid: sink.mid } : null,
      initialSequence: randomInt(0, 0x10000),
      initialPictureId: randomInt(0, 0x8000),
      initialTimestamp: randomInt(0, 0x100000000),
      onPackets: (p) => {
        const target = this.#sink;
        if (target === null) return;
        this.#stats.framesOut++;
        for (const packet of p.packets) if (!target.send(packet)) this.#stats.sendFailures++;
      },
    });
    this.#sender = sender;
    this.#unsubscribe = sink.onRtcp((packet) => {
      try {
        sender.onRtcp(packet);
      } catch (err) {
        logger().debug(`${this.#o.name ?? 'video output'}: RTCP refused`, err);
      }
    });
    this.#nextFrameMs = 0;
    this.#lastSentMs = -Infinity;
    this.#fresh = this.#images.length > 0;
    mediaClock.add(this);
  }

  unbind(): void {
    mediaClock.delete(this);
    this.#unsubscribe?.();
    this.#unsubscribe = null;
    if (this.#sender) {
      const s = this.#sender.stats();
      this.#retired.encodeErrors += this.#sender.encodeErrors;
      this.#retired.keyframeRequests += s.plis + s.firs;
    }
    this.#sender?.close();
    this.#sender = null;
    this.#sink = null;
  }

  /** Unbinds and drops the images. Idempotent. */
  close(): void {
    this.unbind();
    this.#closed = true;
    this.#images = [];
  }

  /**
   * Live: sends the fresh image if the last frame left at least 3/4 of a frame period ago. Pictures that
   * arrive at the frame rate with some jitter thus go out as they come, and faster ones are thinned to the
   * frame rate (newest wins) without ever waiting a whole period.
   */
  #sendLive(nowMs: number): void {
    const sender = this.#sender;
    if (sender === null || !this.#fresh || this.#images.length === 0) return;
    if (nowMs < this.#lastSentMs + this.#periodMs * 0.75) return;
    this.#fresh = false;
    this.#lastSentMs = nowMs;
    sender.send(this.#images[0]!, nowMs);
    this.#stats.framesSent++;
  }

  /** Media clock tick: one frame per frame period (live: only a new image; else the current one again). */
  tick(nowMs: number): void {
    if (this.#o.live) {
      this.#sendLive(nowMs);
      return;
    }
    const sender = this.#sender;
    if (sender === null || this.#images.length === 0 || nowMs < this.#nextFrameMs) return;
    // A late tick does not send a burst: the schedule restarts from now.
    this.#nextFrameMs = Math.max(this.#nextFrameMs + this.#periodMs, nowMs);
    this.#fresh = false;
    const image = this.#images[this.#next % this.#images.length]!;
    this.#next = (this.#next + 1) % this.#images.length;
    sender.send(image, nowMs);
    this.#stats.framesSent++;
  }
}
