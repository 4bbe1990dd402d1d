// The video send path (native/binding/video_sender_wrap.cc): raw images -> scale + I420 + VP8 encode + RTP
// packetization on a native worker thread (milliseconds per frame, never on the thread that carries
// audio), packets back through a bounded queue. Frames waiting to be encoded are latest-wins: when the
// encoder is behind, the newest image replaces the waiting one, so latency never builds up.
import { SmallWebRTCTypeError } from '../errors.js';
import { getLogger } from '../logger.js';
import { native } from '../native/binding.js';
import type {
  NativeEncodedVideoPackets,
  NativeVideoSender,
  NativeVideoSenderStats,
} from '../native/types.js';
import {
  checkBytes,
  checkInt,
  checkMid,
  checkNumber,
  checkOptions,
  closedError,
  optBool,
  optInt,
  type MidExtension,
} from './audio-args.js';
import { MAX_VIDEO_DIMENSION, checkImage, type VideoImage } from './video-frame.js';
import type { VideoWorkerStats } from './video-receiver.js';

/** One encoded frame's RTP packets, ready to send in order. */
export interface EncodedVideoPackets {
  packets: Uint8Array[];
  keyframe: boolean;
  /** RTP timestamp (90 kHz). */
  timestamp: number;
  /** VP8 bytes of the frame. */
  frameBytes: number;
  /** Time spent converting, encoding and packetizing, us (worker thread). */
  encodeUs: number;
}

/** Options of {@link VideoSender}. */
export interface VideoSenderOptions {
  /** Called on the JS thread with each encoded frame's packets. */
  onPackets: (packets: EncodedVideoPackets) => void;
  /** Encoded size, pixels; images of another size are scaled to it. */
  width: number;
  height: number;
  /** Frames per second the caller sends (rate control budget). Default 30. */
  fps?: number;
  /** Starting target bitrate, bit/s. Default 1000000. */
  bitrate?: number;
  /** Cap for the target when the receiver's REMB estimate moves it. Default `bitrate`. */
  maxBitrate?: number;
  /** Frames between automatic keyframes. Default 3000. */
  keyframeInterval?: number;
  /** libvpx speed -16..16. Default -6 (realtime). */
  cpuUsed?: number;
  /** libvpx encoder threads. Default 1. */
  threads?: number;
  /** Our SSRC and the negotiated VP8 payload type. */
  ssrc: number;
  payloadType: number;
  /** First sequence number, picture ID and RTP timestamp. Default 0 (use random values for a real stream). */
  initialSequence?: number;
  initialPictureId?: number;
  initialTimestamp?: number;
  /** Largest datagram (RTP header included), bytes. Default 1200. */
  mtu?: number;
  /** The sdes:mid header extension, or null. */
  midExtension?: MidExtension | null;
  /** Minimum spacing of keyframes sent on PLI/FIR, ms. Default 300. */
  minKeyframeIntervalMs?: number;
}

/** Counters: PLIs, FIRs, NACKed sequence numbers, REMBs, keyframes granted, bitrates, frames replaced. */
export type VideoSenderStats = NativeVideoSenderStats;

/**
 * Sends one VP8 stream: {@link send} an image per frame period, pass the peer's RTCP to {@link onRtcp}
 * (PLI/FIR -> keyframe, REMB -> bitrate within `maxBitrate`), and send the packets `onPackets` receives.
 */
export class VideoSender {
  #native: NativeVideoSender | null;
  // Held here because the native side holds it weakly (docs/native-workers.md).
  readonly #handler: (r: NativeEncodedVideoPackets) => void;
  #encodeErrors = 0;
  readonly width: number;
  readonly height: number;

  /** @throws TypeError / RangeError (code ERR_INVALID_ARG) naming a bad option. */
  constructor(options: VideoSenderOptions) {
    const o = checkOptions('options', options, false);
    if (typeof o.onPackets !== 'function')
      throw new SmallWebRTCTypeError('ERR_INVALID_ARG', 'onPackets must be a function');
    const onPackets = o.onPackets as (p: EncodedVideoPackets) => void;
    this.width = checkInt('width', o.width, 2, MAX_VIDEO_DIMENSION);
    this.height = checkInt('height', o.height, 2, MAX_VIDEO_DIMENSION);
    this.#handler = (r: NativeEncodedVideoPackets): void => {
      if (r.error !== undefined) {
        this.#encodeErrors++;
        getLogger().warn(`VideoSender: frame ${r.timestamp} not encoded: ${r.error}`);
        return;
      }
      try {
        onPackets(r);
      } catch (err) {
        getLogger().error('VideoSender onPackets handler threw', err);
      }
    };
    const bitrate = optInt('bitrate', o.bitrate, 10_000, 50_000_000, 1_000_000);
    this.#native = new (native().VideoSender)({
      width: this.width,
      height: this.height,
      fps: optInt('fps', o.fps, 1, 120, 30),
      bitrate,
      maxBitrate: optInt('maxBitrate', o.maxBitrate, 10_000, 50_000_000, bitrate),
      keyframeInterval: optInt('keyframeInterval', o.keyframeInterval, 1, 100_000, 3000),
      cpuUsed: optInt('cpuUsed', o.cpuUsed, -16, 16, -6),
      threads: optInt('threads', o.threads, 1, 8, 1),
      ssrc: checkInt('ssrc', o.ssrc, 0, 0xffffffff),
      payloadType: checkInt('payloadType', o.payloadType, 0, 127),
      initialSequence: optInt('initialSequence', o.initialSequence, 0, 0xffff, 0),
      initialPictureId: optInt('initialPictureId', o.initialPictureId, 0, 0x7fff, 0),
      initialTimestamp: optInt('initialTimestamp', o.initialTimestamp, 0, 0xffffffff, 0),
      mtu: optInt('mtu', o.mtu, 64, 65507, 1200),
      midExtension: checkMid('midExtension', o.midExtension),
      minKeyframeIntervalMs: optInt('minKeyframeIntervalMs', o.minKeyframeIntervalMs, 0, 60_000, 300),
      onPackets: this.#handler,
    });
  }

  #n(): NativeVideoSender {
    if (this.#native === null) throw closedError('VideoSender');
    return this.#native;
  }

  /**
   * Queues `image` (any format and size; scaled to the sender's size) for encoding at `nowMs` (monotonic
   * ms; it also sets the RTP timestamp). `keyframe` forces a keyframe. A frame still waiting is replaced.
   * @throws RangeError ERR_INVALID_ARG when the image's bytes do not match its size and format.
   */
  send(image: VideoImage, nowMs: number, keyframe = false): void {
    this.#n().send(
      checkImage('image', image),
      checkNumber('nowMs', nowMs, -1e15, 1e15),
      optBool('keyframe', keyframe, false),
    );
  }

  /**
   * Reads the peer's RTCP about our stream (PLI/FIR: keyframe; REMB: new target bitrate).
   * @throws RangeError ERR_RTCP_MALFORMED for malformed RTCP (what came before the error still counts).
   */
  onRtcp(packet: Uint8Array): { keyframeRequested: boolean; rembBps: number | null; nacked: number } {
    return this.#n().onRtcp(checkBytes('packet', packet));
  }

  /** Makes the next frame a keyframe (spaced by minKeyframeIntervalMs). */
  requestKeyframe(): void {
    this.#n().requestKeyframe();
  }

  /** Changes the bitrate cap (bit/s); the target follows the receiver's estimate below it. */
  setMaxBitrate(bitrate: number): void {
    this.#n().setMaxBitrate(checkInt('maxBitrate', bitrate, 10_000, 50_000_000));
  }

  /** Frames the encoder could not encode (logged). */
  get encodeErrors(): number {
    return this.#encodeErrors;
  }

  /** Counters; see {@link VideoSenderStats}. */
  stats(): VideoSenderStats {
    return this.#n().stats();
  }

  /** Counters of the worker queues (frames to encode, packets back). */
  workerStats(): VideoWorkerStats {
    return this.#n().workerStats();
  }

  /** Stops: a waiting frame is dropped, no `onPackets` call happens afterwards. Idempotent. */
  close(): void {
    this.#native?.close();
    this.#native = null;
  }
}
