// VP8 decoder and encoder (libvpx, via native/binding/vp8_codec_wrap.cc). Synchronous: each call runs on
// the calling thread and costs milliseconds per frame at 640x480 (see bench/video), so the media path
// runs them off the thread that carries audio.
import { SmallWebRTCTypeError } from '../errors.js';
import { native } from '../native/binding.js';
import type { NativeVp8Decoder, NativeVp8Encoder } from '../native/types.js';
import { checkBytes, checkInt, checkOptions, closedError, optBool, optInt } from './audio-args.js';
import {
  MAX_VIDEO_DIMENSION,
  checkFormat,
  checkImage,
  type PixelFormat,
  type VideoImage,
} from './video-frame.js';

/** Options of {@link Vp8Decoder}. */
export interface Vp8DecoderOptions {
  /** libvpx decoder threads, 1..8. Default 1. */
  threads?: number;
}

/** What {@link Vp8Decoder.image} converts the last decoded frame to. */
export interface Vp8ImageOptions {
  /** Output layout. Default `'RGB'` (R,G,B bytes, as Pipecat's image frames). */
  format?: PixelFormat;
  /**
   * Downscale (keeping the aspect ratio, even sides) so the image is at most this wide, before the colour
   * conversion; 0 keeps the decoded size. Never upscales. Default 0.
   */
  maxWidth?: number;
  /**
   * A Buffer to write the picture into (its length must be exactly the output's byte count, see
   * `imageBytes`); the returned image's `data` is then this buffer. Recycling buffers saves the allocation
   * of a frame-sized buffer per frame, which costs more than the conversion itself. Default: a new Buffer.
   */
  into?: Buffer;
}

/**
 * VP8 decoder: {@link decode} one whole frame (as assembled by a {@link Vp8Depacketizer}), then read the
 * picture with {@link image} in the layout and size wanted. Decoding every frame keeps the reference
 * frames right; converting only the frames someone reads saves the conversion cost of the others.
 */
export class Vp8Decoder {
  #native: NativeVp8Decoder | null;

  /** @throws TypeError / RangeError (code ERR_INVALID_ARG) naming a bad option. */
  constructor(options: Vp8DecoderOptions = {}) {
    const o = checkOptions('options', options, true);
    this.#native = new (native().Vp8Decoder)({ threads: optInt('threads', o.threads, 1, 8, 1) });
  }

  #n(): NativeVp8Decoder {
    if (this.#native === null) throw closedError('Vp8Decoder');
    return this.#native;
  }

  /**
   * Decodes one frame. Returns the decoded size, or null when the frame shows nothing (an invisible
   * reference frame).
   * @throws SmallWebRTCError ERR_CODEC when libvpx refuses the data (corrupt, or a delta frame whose
   *   references are missing): ask the sender for a keyframe.
   */
  decode(frame: Uint8Array): { width: number; height: number } | null {
    return this.#n().decode(checkBytes('frame', frame));
  }

  /**
   * The last decoded picture, converted.
   * @throws SmallWebRTCError ERR_INVALID_STATE before the first decoded frame; RangeError ERR_INVALID_ARG
   *   when `into` has the wrong length.
   */
  image(options: Vp8ImageOptions = {}): VideoImage {
    const o = checkOptions('options', options, true);
    const format = o.format === undefined ? 'RGB' : checkFormat('format', o.format);
    const maxWidth = optInt('maxWidth', o.maxWidth, 0, MAX_VIDEO_DIMENSION, 0);
    if (o.into === undefined) return this.#n().image(format, maxWidth);
    if (!Buffer.isBuffer(o.into)) throw new SmallWebRTCTypeError('ERR_INVALID_ARG', 'into must be a Buffer');
    return this.#n().image(format, maxWidth, o.into);
  }

  /** Frames decoded so far. */
  get frames(): number {
    return this.#n().frames;
  }

  /** Forgets the reference frames (a new stream): the next frame must be a keyframe. */
  reset(): void {
    this.#n().reset();
  }

  /** Frees the decoder; idempotent. Other methods then throw ERR_CLOSED. */
  close(): void {
    this.#native?.close();
    this.#native = null;
  }
}

/** Options of {@link Vp8Encoder}. */
export interface Vp8EncoderOptions {
  /** Encoded width, pixels (2..16384). Inputs of another size are scaled to it. */
  width: number;
  /** Encoded height, pixels. */
  height: number;
  /** Frames per second the caller feeds (1..120); the rate control budgets bits per frame from it. Default 30. */
  fps?: number;
  /** Target bitrate, bit/s (10000..50000000). Default 1000000. */
  bitrate?: number;
  /** Frames between automatic keyframes (keyframes on request come sooner). Default 3000. */
  keyframeInterval?: number;
  /** libvpx speed, -16..16 (negative: always this speed). Default -6 (realtime). */
  cpuUsed?: number;
  /** libvpx encoder threads, 1..8. Default 1. */
  threads?: number;
  /** Quantizer range, 0..63. Defaults 2 and 56. */
  minQuantizer?: number;
  maxQuantizer?: number;
}

/** One encoded VP8 frame. */
export interface Vp8EncodedFrame {
  data: Uint8Array;
  keyframe: boolean;
}

/** VP8 encoder in realtime CBR mode: one {@link encode} call per frame, no lag. */
export class Vp8Encoder {
  #native: NativeVp8Encoder | null;
  /** Encoded size, pixels. */
  readonly width: number;
  readonly height: number;
  #bitrate: number;

  /** @throws TypeError / RangeError (code ERR_INVALID_ARG) naming a bad option. */
  constructor(options: Vp8EncoderOptions) {
    const o = checkOptions('options', options, false);
    this.width = checkInt('width', o.width, 2, MAX_VIDEO_DIMENSION);
    this.height = checkInt('height', o.height, 2, MAX_VIDEO_DIMENSION);
    this.#bitrate = optInt('bitrate', o.bitrate, 10_000, 50_000_000, 1_000_000);
    const minQuantizer = optInt('minQuantizer', o.minQuantizer, 0, 63, 2);
    this.#native = new (native().Vp8Encoder)({
      width: this.width,
      height: this.height,
      fps: optInt('fps', o.fps, 1, 120, 30),
      bitrate: this.#bitrate,
      keyframeInterval: optInt('keyframeInterval', o.keyframeInterval, 1, 100_000, 3000),
      cpuUsed: optInt('cpuUsed', o.cpuUsed, -16, 16, -6),
      threads: optInt('threads', o.threads, 1, 8, 1),
      minQuantizer,
      maxQuantizer: optInt('maxQuantizer', o.maxQuantizer, minQuantizer, 63, Math.max(56, minQuantizer)),
    });
  }

  #n(): NativeVp8Encoder {
    if (this.#native === null) throw closedError('Vp8Encoder');
    return this.#native;
  }

  /**
   * Encodes one image (any {@link PixelFormat}; scaled when its size differs from the encoder's).
   * `keyframe` forces a keyframe (e.g. the receiver sent a PLI). Returns null when the rate control
   * skipped the frame.
   * @throws SmallWebRTCRangeError ERR_INVALID_ARG when the image's bytes do not match its size and format.
   */
  encode(image: VideoImage, keyframe = false): Vp8EncodedFrame | null {
    return this.#n().encode(checkImage('image', image), optBool('keyframe', keyframe, false));
  }

  /** Target bitrate, bit/s. */
  get bitrate(): number {
    return this.#bitrate;
  }

  /** Changes the target bitrate at run time (bit/s), e.g. following the receiver's estimate. */
  setBitrate(bitrate: number): void {
    this.#n().setBitrate(checkInt('bitrate', bitrate, 10_000, 50_000_000));
    this.#bitrate = bitrate;
  }

  /** Frames produced so far. */
  get frames(): number {
    return this.#n().frames;
  }

  /** Frees the encoder; idempotent. Other methods then throw ERR_CLOSED. */
  close(): void {
    this.#native?.close();
    this.#native = null;
  }
}
