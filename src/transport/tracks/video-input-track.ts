import type { InputTrack } from '../../connection/index.js';
import { SmallWebRTCTypeError } from '../../errors.js';
import type { VideoImage } from '../../media/video-frame.js';
import {
  VideoReceiver,
  type DecodedVideoFrame,
  type VideoReceiverStats,
} from '../../media/video-receiver.js';
import { logger } from '../../pipeline/logger.js';
import { mediaClock, type MediaClockClient } from './media-clock.js';

/** A stream silent this long (ms) has paused: a snapshot request then asks for a keyframe. */
export const SNAPSHOT_PAUSE_MS = 1000;

/** Where a video input comes from, named as Pipecat's `transport_source` values. */
export type VideoInputSource = 'camera' | 'screenVideo';

/** Construction options of {@link VideoInputTrack}. */
export interface VideoInputTrackOptions {
  /** `camera` (transceiver 1) or `screenVideo` (transceiver 2). */
  source: VideoInputSource;
  /**
   * Receives each picture on the JS thread (packed R,G,B). A busy thread sees only the newest one (the
   * decoder's results are latest-wins). Must not throw (a throw is logged and the picture lost).
   */
  onImage: (image: VideoImage, frame: DecodedVideoFrame) => void;
  /** Pictures per second at most (frames in between are decoded, not converted); 0: every frame. Default 0. */
  fps?: number;
  /** Downscale to at most this width before converting; 0: the decoded size. Default 0. */
  maxWidth?: number;
  /** Name used in log lines. */
  name?: string;
}

/**
 * The peer's camera or screen as pictures: the video twin of {@link AudioInputTrack}.
 *
 * Bound to the connection's raw {@link InputTrack} (a `restart_pc` brings a new one: bind again), it hands
 * every RTP packet to a native {@link VideoReceiver} (VP8 depacketizing on this thread; decode, downscale and
 * colour conversion on a worker thread) and rides the process-wide {@link mediaClock} to give up on gaps
 * and to ask for keyframes: a frame that cannot be completed becomes a PLI through the connection (at most
 * one per 500 ms). NACK is not used: the connection sends only PLIs on an input track. JS thread only;
 * nothing is decoded while unbound.
 */
export class VideoInputTrack implements MediaClockClient {
  readonly kind = 'video' as const;
  readonly source: VideoInputSource;
  readonly #receiver: VideoReceiver;
  readonly #name: string;
  #input: InputTrack | null = null;
  #unsubscribe: Array<() => void> = [];
  #closed = false;
  #malformed = 0;
  #payloadTypeDropped = 0;
  /** The bound input's VP8 payload types (empty: none negotiated, any accepted). */
  #vp8Pts: number[] = [];
  #images = 0;
  #lastRtpMs = -1;

  /** @throws TypeError / RangeError (ERR_INVALID_ARG) naming a bad option. */
  constructor(options: VideoInputTrackOptions) {
    if (options === null || typeof options !== 'object' || typeof options.onImage !== 'function') {
      throw new SmallWebRTCTypeError(
        'ERR_INVALID_ARG',
        'VideoInputTrack: options.onImage must be a function',
      );
    }
    if (options.source !== 'camera' && options.source !== 'screenVideo') {
      throw new SmallWebRTCTypeError(
        'ERR_INVALID_ARG',
        "VideoInputTrack: source must be 'camera' or 'screenVideo'",
      );
    }
    this.source = options.source;
    this.#name = options.name ?? `${options.source} input`;
    const onImage = options.onImage;
    this.#receiver = new VideoReceiver({
      format: 'RGB',
      fps: options.fps ?? 0,
      maxWidth: options.maxWidth ?? 0,
      onFrame: (frame) => {
        this.#images++;
        try {
          onImage(frame.image, frame);
        } catch (err) {
          logger().error(`${this.#name}: onImage failed`, err);
        }
      },
    });
  }

  /** The raw track currently bound, or null. */
  get input(): InputTrack | null {
    return this.#input;
  }

  /** Pictures delivered so far. */
  get images(): number {
    return this.#images;
  }

  /** Packets refused as malformed VP8 (counted, never thrown into the RTP callback). */
  get malformed(): number {
    return this.#malformed;
  }

  /**
   * RTP packets dropped before the depacketizer for a payload type other than the negotiated VP8 one(s): a
   * peer may send any payload type with its SSRC (H264 answered beside VP8, RTX, garbage); read as VP8 they
   * would be refused as malformed at best, and at worst restart the stream or corrupt a frame.
   */
  get payloadTypeDropped(): number {
    return this.#payloadTypeDropped;
  }

  /**
   * The counters monitoring reads (frames received, decoder refusals, keyframe requests sent); null once
   * closed (read it before closing).
   */
  counters(): { framesIn: number; decodeErrors: number; keyframeRequests: number } | null {
    if (this.#closed) return null;
    const s = this.#receiver.stats();
    return { framesIn: s.frames, decodeErrors: this.#receiver.decodeErrors, keyframeRequests: s.plis };
  }

  /** Native receiver statistics; null once closed. */
  receiverStats(): VideoReceiverStats | null {
    return this.#closed ? null : this.#receiver.stats();
  }

  /** Changes the picture rate / width limit from the next frame on. */
  setOutput(o: { fps?: number; maxWidth?: number }): void {
    if (!this.#closed) this.#receiver.setOutput(o);
  }

  /**
   * The next picture is delivered whatever `fps` says (a snapshot: Pipecat's `UserImageRequestFrame`). When
   * the decoder has no reference to decode it from (no frame yet, or waiting for a keyframe after loss) or
   * the stream has paused (no RTP for {@link SNAPSHOT_PAUSE_MS}), a keyframe is requested too, so the
   * picture does not wait for the sender's next keyframe; a stream that flows needs none (its frames are all
   * decoded, only their conversion is skipped). Before the first packet the PLI goes to the SSRC the peer's
   * offer announced (none announced: it goes out with the first packet, unless that is a keyframe). PLIs
   * are rate-limited (one per 500 ms). Returns whether a keyframe was requested.
   */
  requestImage(nowMs = performance.now()): boolean {
    if (this.#closed) return false;
    this.#receiver.requestImage();
    const s = this.#receiver.stats();
    const paused = this.#lastRtpMs < 0 || nowMs - this.#lastRtpMs >= SNAPSHOT_PAUSE_MS;
    if (!paused && !s.waitingForKeyframe && s.frames > 0) return false;
    this.#receiver.requestKeyframe();
    this.#sendFeedback(nowMs);
    return true;
  }

  /** Subscribes to `input` (null unbinds). Binding the current input again is a no-op. */
  bind(input: InputTrack | null): void {
    if (this.#closed || input === this.#input) return;
    for (const u of this.#unsubscribe) u();
    this.#unsubscribe = [];
    this.#input = input;
    if (input === null) {
      mediaClock.delete(this);
      return;
    }
    this.#vp8Pts = input.codecs.filter((c) => c.name.toUpperCase() === 'VP8').map((c) => c.payloadType);
    this.#unsubscribe.push(input.onRtp((packet, arrivalMs) => this.#onRtp(packet, arrivalMs)));
    mediaClock.add(this);
  }

  /** Unbinds and frees the native receiver (no picture is delivered afterwards). Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.bind(null);
    this.#closed = true;
    this.#receiver.close();
  }

  /** Media clock tick (JS thread): gives up on old gaps and sends the PLI that came due. */
  tick(nowMs: number): void {
    if (this.#closed || this.#input === null) return;
    const deadline = this.#receiver.nextDeadlineMs();
    if (deadline < 0 || deadline > nowMs) return;
    this.#receiver.poll(nowMs);
    this.#sendFeedback(nowMs);
  }

  #onRtp(packet: Buffer, arrivalMs: number): void {
    if (this.#closed) return;
    const pts = this.#vp8Pts;
    if (pts.length > 0) {
      const pt = (packet[1] ?? 0) & 0x7f;
      if (pt !== pts[0] && !pts.includes(pt)) {
        this.#payloadTypeDropped++;
        return;
      }
    }
    this.#lastRtpMs = arrivalMs;
    try {
      this.#receiver.push(packet, arrivalMs);
    } catch (err) {
      // A packet we cannot use (ERR_VP8_MALFORMED): counted, never thrown into
      // node-datachannel's callback.
      if (this.#malformed++ % 1000 === 0) logger().debug(`${this.#name}: RTP packet refused`, err);
      return;
    }
    this.#sendFeedback(arrivalMs);
  }

  // The receiver decides when a keyframe is needed (rate-limited); the connection builds and sends the PLI.
  #sendFeedback(nowMs: number): void {
    const announced = this.#input?.announcedSsrc ?? null;
    const rtcp = this.#receiver.feedback(nowMs, 0, announced ?? undefined);
    if (rtcp !== null) this.#input?.requestKeyframe();
  }
}
