// The peer's RTCP feedback about a video stream we send (native/binding/video_sender_feedback_wrap.cc):
// PLI and FIR become keyframe requests, REMB a bitrate estimate, NACKs are counted.
import { native } from '../native/binding.js';
import type { NativeVideoSenderFeedback, NativeVideoSenderFeedbackStats } from '../native/types.js';
import { checkBytes, checkInt, checkNumber, checkOptions, optInt } from './audio-args.js';

/** Options of {@link VideoSenderFeedback}. */
export interface VideoSenderFeedbackOptions {
  /** The SSRC of the video stream we send. */
  ssrc: number;
  /** Minimum spacing of keyframes sent on request, ms. Default 300. */
  minKeyframeIntervalMs?: number;
}

/** What one RTCP packet said about our stream. */
export interface VideoFeedback {
  /** A PLI, or a FIR with a new command sequence number, asked for a keyframe. */
  keyframeRequested: boolean;
  /** The receiver's REMB estimate covering our SSRC, bit/s, or null. */
  rembBps: number | null;
  /** Sequence numbers of ours NACKed. */
  nacked: number;
}

/** Counters: PLIs, FIRs, NACKed sequence numbers, REMBs, keyframes granted, the last REMB (bit/s or null). */
export type VideoSenderFeedbackStats = NativeVideoSenderFeedbackStats;

/**
 * Reads the RTCP a peer sends about our video and answers keyframe requests: {@link onRtcp} on every
 * RTCP packet, {@link takeKeyframeRequest} before encoding each frame. Requests inside
 * `minKeyframeIntervalMs` of the last granted keyframe wait (they are never lost); a repeated FIR with the
 * same sequence number is a retransmission and asks for nothing new (RFC 5104).
 */
export class VideoSenderFeedback {
  readonly #native: NativeVideoSenderFeedback;

  /** @throws TypeError / RangeError (code ERR_INVALID_ARG) naming a bad option. */
  constructor(options: VideoSenderFeedbackOptions) {
    const o = checkOptions('options', options, false);
    this.#native = new (native().VideoSenderFeedback)({
      ssrc: checkInt('ssrc', o.ssrc, 0, 0xffffffff),
      minKeyframeIntervalMs: optInt('minKeyframeIntervalMs', o.minKeyframeIntervalMs, 0, 60_000, 300),
    });
  }

  /**
   * Reads one (compound) RTCP packet from the peer; feedback about other SSRCs is ignored.
   * @throws RangeError ERR_RTCP_MALFORMED for malformed RTCP (what came before the error still counts).
   */
  onRtcp(packet: Uint8Array): VideoFeedback {
    return this.#native.onRtcp(checkBytes('packet', packet));
  }

  /** True when the frame about to be encoded at `nowMs` should be a keyframe; marks the request granted. */
  takeKeyframeRequest(nowMs: number): boolean {
    return this.#native.takeKeyframeRequest(checkNumber('nowMs', nowMs, -1e15, 1e15));
  }

  /** Asks for a keyframe ourselves (e.g. a new viewer). */
  requestKeyframe(): void {
    this.#native.requestKeyframe();
  }

  /** Follows an SSRC change of our stream. */
  setSsrc(ssrc: number): void {
    this.#native.setSsrc(checkInt('ssrc', ssrc, 0, 0xffffffff));
  }

  /** Counters; see {@link VideoSenderFeedbackStats}. */
  stats(): VideoSenderFeedbackStats {
    return this.#native.stats();
  }
}
