// The video receive path (native/binding/video_receiver_wrap.cc): RTP -> VP8 depacketizer (on the calling
// thread, microseconds per packet) -> decode + downscale + colour conversion on a native worker thread
// (milliseconds per frame, never on the thread that carries audio) -> images back through a latest-wins
// queue, so a slow consumer sees the newest picture and never builds latency or memory.
import { SmallWebRTCTypeError } from '../errors.js';
import { getLogger } from '../logger.js';
import { native } from '../native/binding.js';
import type { NativeDecodedFrame, NativeVideoReceiver, NativeVideoReceiverStats } from '../native/types.js';
import {
  checkBytes,
  checkInt,
  checkNumber,
  checkOptions,
  closedError,
  optBool,
  optInt,
  optNumber,
} from './audio-args.js';
import type { WorkerQueueStats } from './audio-sender.js';
import { MAX_VIDEO_DIMENSION, checkFormat, type PixelFormat, type VideoImage } from './video-frame.js';

/** One decoded picture delivered by a {@link VideoReceiver}. */
export interface DecodedVideoFrame {
  /** The picture, in the receiver's format and size. */
  image: VideoImage;
  /** RTP timestamp of the frame (90 kHz). */
  timestamp: number;
  /** SSRC of the stream. */
  ssrc: number;
  /** Whether the frame was a keyframe. */
  keyframe: boolean;
  /** Time libvpx took to decode it, us (worker thread). */
  decodeUs: number;
  /** Time the downscale + colour conversion took, us (worker thread). */
  convertUs: number;
}

/** What the images look like and how often they come. */
export interface VideoReceiverOutput {
  /** Layout of the images. Default `'RGB'` (R,G,B bytes, as Pipecat's image frames). */
  format?: PixelFormat;
  /** Downscale (aspect kept, even sides) to at most this width before converting; 0: decoded size. Default 0. */
  maxWidth?: number;
  /**
   * Images per second at most (by RTP time); frames in between are decoded (the references need them)
   * but not converted, which saves most of the cost of frames nobody reads. 0: every frame. Default 0.
   */
  fps?: number;
}

/** Options of {@link VideoReceiver}. */
export interface VideoReceiverOptions extends VideoReceiverOutput {
  /** Called on the JS thread with each image (latest wins if the thread is busy). */
  onFrame: (frame: DecodedVideoFrame) => void;
  /** The negotiated VP8 payload type, or -1 for any. Default -1. */
  payloadType?: number;
  /** The peer negotiated `nack`: missing packets are NACKed (see {@link feedback}). Default false. */
  nack?: boolean;
  /** How long a gap may hold back newer frames before a keyframe is requested instead, ms. Default 100. */
  maxWaitMs?: number;
  /** Minimum spacing of PLIs, ms. Default 500. */
  pliIntervalMs?: number;
  /** Frames waiting for the decoder at most (drop-oldest; a drop requests a keyframe). Default 4. */
  decodeQueue?: number;
  /** libvpx decoder threads. Default 1. */
  threads?: number;
}

/**
 * Counters: packets, duplicates, late, malformed; frames and keyframes assembled; delta frames dropped
 * while waiting for a keyframe; gaps given up on; sequence numbers NACKed; PLIs; frames dropped from the
 * decode queue; whether it waits for a keyframe.
 */
export type VideoReceiverStats = NativeVideoReceiverStats;

/** Counters of the worker queues (frames to decode or encode; results back). */
export interface VideoWorkerStats {
  jobs: WorkerQueueStats;
  results: WorkerQueueStats;
}

/**
 * Receives one VP8 stream: {@link push} every RTP packet, send what {@link feedback} returns as RTCP, and
 * get the pictures through `onFrame`. A frame libvpx refuses asks the sender for a keyframe.
 */
export class VideoReceiver {
  #native: NativeVideoReceiver | null;
  // The native side holds the handler weakly (docs/native-workers.md): this field keeps it alive exactly
  // as long as this object.
  readonly #handler: (frame: NativeDecodedFrame) => void;
  #decodeErrors = 0;

  /** @throws TypeError / RangeError (code ERR_INVALID_ARG) naming a bad option. */
  constructor(options: VideoReceiverOptions) {
    const o = checkOptions('options', options, false);
    if (typeof o.onFrame !== 'function') {
      throw new SmallWebRTCTypeError('ERR_INVALID_ARG', 'onFrame must be a function');
    }
    const onFrame = o.onFrame as (frame: DecodedVideoFrame) => void;
    this.#handler = (r: NativeDecodedFrame): void => {
      if (r.error !== undefined) {
        this.#decodeErrors++;
        getLogger().debug(
          `VideoReceiver: frame ${r.timestamp} not decodable (${r.error}), asking for a keyframe`,
        );
        this.#native?.requestKeyframe();
        return;
      }
      try {
        onFrame(r);
      } catch (err) {
        getLogger().error('VideoReceiver onFrame handler threw', err);
      }
    };
    this.#native = new (native().VideoReceiver)({
      ...checkOutput(o),
      payloadType: optInt('payloadType', o.payloadType, -1, 127, -1),
      nack: optBool('nack', o.nack, false),
      maxWaitMs: optInt('maxWaitMs', o.maxWaitMs, 1, 10_000, 100),
      pliIntervalMs: optInt('pliIntervalMs', o.pliIntervalMs, 0, 60_000, 500),
      decodeQueue: optInt('decodeQueue', o.decodeQueue, 1, 100, 4),
      threads: optInt('threads', o.threads, 1, 8, 1),
      onFrame: this.#handler,
    });
  }

  #n(): NativeVideoReceiver {
    if (this.#native === null) throw closedError('VideoReceiver');
    return this.#native;
  }

  /**
   * Takes one RTP packet that arrived at `nowMs` (monotonic, ms); returns how many whole frames went to
   * the decoder.
   * @throws RangeError ERR_VP8_MALFORMED (with a stable `reason`) for a packet it refuses; the stream is
   *   unaffected.
   */
  push(packet: Uint8Array, nowMs: number): number {
    return this.#n().push(checkBytes('packet', packet), checkNumber('nowMs', nowMs, -1e15, 1e15));
  }

  /** Lets time pass (a gap older than maxWaitMs is given up on); returns frames sent to the decoder. */
  poll(nowMs: number): number {
    return this.#n().poll(checkNumber('nowMs', nowMs, -1e15, 1e15));
  }

  /**
   * RTCP (NACK and/or PLI) due at `nowMs`, from `senderSsrc`, or null. Before the first packet a PLI names
   * `mediaSsrc` (the SSRC the peer's SDP announced); without it the PLI waits for the first packet.
   */
  feedback(nowMs: number, senderSsrc: number, mediaSsrc?: number): Uint8Array | null {
    return this.#n().feedback(
      checkNumber('nowMs', nowMs, -1e15, 1e15),
      checkInt('senderSsrc', senderSsrc, 0, 0xffffffff),
      mediaSsrc === undefined ? undefined : checkInt('mediaSsrc', mediaSsrc, 0, 0xffffffff),
    );
  }

  /** When {@link poll}/{@link feedback} next has something to do (ms), -1 if idle (always before the first packet). */
  nextDeadlineMs(): number {
    return this.#n().nextDeadlineMs();
  }

  /** Asks the sender for a keyframe (rate-limited like every PLI). */
  requestKeyframe(): void {
    this.#n().requestKeyframe();
  }

  /**
   * Converts the next decoded frame whatever `fps` says (a snapshot). After a pause, pair it with
   * {@link requestKeyframe} so the picture does not wait for the sender's next keyframe.
   */
  requestImage(): void {
    this.#n().requestImage();
  }

  /** Changes the format, size limit or rate of the images from the next frame on. */
  setOutput(output: VideoReceiverOutput): void {
    this.#n().setOutput(checkOutput(checkOptions('output', output, false)));
  }

  /** Frames libvpx refused (each asked for a keyframe). */
  get decodeErrors(): number {
    return this.#decodeErrors;
  }

  /** Counters; see {@link VideoReceiverStats}. */
  stats(): VideoReceiverStats {
    return this.#n().stats();
  }

  /** Counters of the worker queues. */
  workerStats(): VideoWorkerStats {
    return this.#n().workerStats();
  }

  /** Stops: queued frames are dropped, no `onFrame` call happens afterwards. Idempotent. */
  close(): void {
    this.#native?.close();
    this.#native = null;
  }
}

function checkOutput(o: Record<string, unknown>): { format?: PixelFormat; maxWidth?: number; fps?: number } {
  const out: { format?: PixelFormat; maxWidth?: number; fps?: number } = {};
  if (o.format !== undefined) out.format = checkFormat('format', o.format);
  if (o.maxWidth !== undefined) out.maxWidth = optInt('maxWidth', o.maxWidth, 0, MAX_VIDEO_DIMENSION, 0);
  if (o.fps !== undefined) out.fps = optNumber('fps', o.fps, 0, 240, 0);
  return out;
}
