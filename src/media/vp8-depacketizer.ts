// VP8 RTP depacketizer with its loss signalling (native/binding/vp8_depacketizer_wrap.cc). Synchronous and
// cheap (microseconds per packet): it runs on the thread that receives the RTP.
import { native } from '../native/binding.js';
import type { NativeVp8Depacketizer, NativeVp8DepacketizerStats, NativeVp8Frame } from '../native/types.js';
import {
  checkBytes,
  checkInt,
  checkNumber,
  checkOptions,
  closedError,
  optBool,
  optInt,
} from './audio-args.js';

/** Options of {@link Vp8Depacketizer}. */
export interface Vp8DepacketizerOptions {
  /** The negotiated VP8 payload type (packets with another one are refused), or -1 for any. Default -1. */
  payloadType?: number;
  /** Packets buffered at most while a gap is open. Default 1024. */
  maxPackets?: number;
  /** Largest frame accepted, bytes. Default 4 MiB. */
  maxFrameBytes?: number;
  /**
   * How long a missing packet may hold back newer frames before it is given up on (the stream then waits
   * for a keyframe and a PLI is sent), ms. Leave room for a NACK round trip when `nack` is on. Default 100.
   */
  maxWaitMs?: number;
  /** The peer negotiated `a=rtcp-fb:<pt> nack`: ask for missing packets. Default false. */
  nack?: boolean;
  /** Spacing of repeated NACKs for one packet, ms (about one round trip). Default 40. */
  nackIntervalMs?: number;
  /** NACKs per missing packet before giving up on it. Default 3. */
  maxNackRetries?: number;
  /** Missing packets tracked at most; a bigger gap asks for a keyframe instead. Default 250. */
  maxNackList?: number;
  /** Minimum spacing of PLIs, ms. Default 500. */
  pliIntervalMs?: number;
}

/** One whole VP8 frame, ready for a {@link Vp8Decoder}. */
export type Vp8Frame = NativeVp8Frame;

/**
 * Counters of a {@link Vp8Depacketizer}: packets accepted, duplicates, late (behind the last emitted
 * frame), malformed; frames and keyframes emitted; delta frames dropped while waiting for a keyframe;
 * buffered packets discarded; gaps given up on; stream restarts (SSRC change, sequence jump); packets
 * buffered now; whether it waits for a keyframe; sequence numbers NACKed, recovered, given up; PLIs sent;
 * missing packets tracked now.
 */
export type Vp8DepacketizerStats = NativeVp8DepacketizerStats;

/**
 * Reassembles VP8 frames from RTP packets (RFC 7741) in any order, handing them out in decode order and
 * only when decodable (the stream starts at a keyframe and, after a loss it could not repair, waits for
 * the next one). It also decides the loss feedback: the sequence numbers to NACK and when a PLI is due
 * (rate-limited); send what {@link feedback} returns to the peer.
 */
export class Vp8Depacketizer {
  #native: NativeVp8Depacketizer | null;

  /** @throws TypeError / RangeError (code ERR_INVALID_ARG) naming a bad option. */
  constructor(options: Vp8DepacketizerOptions = {}) {
    const o = checkOptions('options', options, true);
    this.#native = new (native().Vp8Depacketizer)({
      payloadType: optInt('payloadType', o.payloadType, -1, 127, -1),
      maxPackets: optInt('maxPackets', o.maxPackets, 1, 65536, 1024),
      maxFrameBytes: optInt('maxFrameBytes', o.maxFrameBytes, 1, 64 << 20, 4 << 20),
      maxWaitMs: optInt('maxWaitMs', o.maxWaitMs, 1, 10_000, 100),
      nack: optBool('nack', o.nack, false),
      nackIntervalMs: optInt('nackIntervalMs', o.nackIntervalMs, 1, 10_000, 40),
      maxNackRetries: optInt('maxNackRetries', o.maxNackRetries, 0, 100, 3),
      maxNackList: optInt('maxNackList', o.maxNackList, 1, 10_000, 250),
      pliIntervalMs: optInt('pliIntervalMs', o.pliIntervalMs, 0, 60_000, 500),
    });
  }

  #n(): NativeVp8Depacketizer {
    if (this.#native === null) throw closedError('Vp8Depacketizer');
    return this.#native;
  }

  /**
   * Takes one RTP packet that arrived at `nowMs` (any monotonic clock, ms) and returns how many frames are
   * ready for {@link pop}.
   * @throws RangeError with code ERR_VP8_MALFORMED and a stable `reason` (e.g. `truncated-descriptor`,
   *   `bad-keyframe-start-code`, `not-rtp`, `payload-type-mismatch`) when the packet is refused; the stream
   *   is unaffected.
   */
  push(packet: Uint8Array, nowMs: number): number {
    return this.#n().push(checkBytes('packet', packet), checkNumber('nowMs', nowMs, -1e15, 1e15));
  }

  /** Lets time pass without a packet (gaps older than maxWaitMs are given up on); returns frames ready. */
  poll(nowMs: number): number {
    return this.#n().poll(checkNumber('nowMs', nowMs, -1e15, 1e15));
  }

  /** The next frame in decode order, or null. */
  pop(): Vp8Frame | null {
    return this.#n().pop();
  }

  /**
   * The RTCP feedback due at `nowMs` (a generic NACK and/or a PLI about the stream, from `senderSsrc`), or
   * null when nothing is due. Call it after pushes and at {@link nextDeadlineMs}. Before the first packet a
   * PLI (after {@link requestKeyframe}) names `mediaSsrc`, the SSRC the peer announced in its SDP; without
   * it the PLI waits for the first packet.
   */
  feedback(nowMs: number, senderSsrc: number, mediaSsrc?: number): Uint8Array | null {
    return this.#n().feedback(
      checkNumber('nowMs', nowMs, -1e15, 1e15),
      checkInt('senderSsrc', senderSsrc, 0, 0xffffffff),
      mediaSsrc === undefined ? undefined : checkInt('mediaSsrc', mediaSsrc, 0, 0xffffffff),
    );
  }

  /** When {@link poll} or {@link feedback} next has something to do (ms on the caller's clock), -1 if idle. */
  nextDeadlineMs(): number {
    return this.#n().nextDeadlineMs();
  }

  /** Asks the sender for a keyframe (a decode error, a snapshot after a pause); rate-limited like PLIs. */
  requestKeyframe(): void {
    this.#n().requestKeyframe();
  }

  /** Counters; see {@link Vp8DepacketizerStats}. */
  stats(): Vp8DepacketizerStats {
    return this.#n().stats();
  }

  /** Forgets the stream; the next frame out will be a keyframe. */
  reset(): void {
    this.#n().reset();
  }

  /** Frees the native state; idempotent. Other methods then throw ERR_CLOSED. */
  close(): void {
    this.#native?.close();
    this.#native = null;
  }
}
