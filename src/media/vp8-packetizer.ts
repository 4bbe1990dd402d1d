// VP8 RTP packetizer (native/binding/vp8_packetizer_wrap.cc): one encoded frame -> RTP packets.
import { native } from '../native/binding.js';
import type { NativeVp8Packetizer } from '../native/types.js';
import {
  checkBytes,
  checkInt,
  checkMid,
  checkOptions,
  closedError,
  optInt,
  type MidExtension,
} from './audio-args.js';

/** Options of {@link Vp8Packetizer}. */
export interface Vp8PacketizerOptions {
  /** Our SSRC. */
  ssrc: number;
  /** The negotiated VP8 payload type, 0..127. */
  payloadType: number;
  /** First sequence number. Default 0 (pick a random one for a real stream). */
  initialSequence?: number;
  /** First 15-bit picture ID. Default 0. */
  initialPictureId?: number;
  /** Largest datagram, RTP header and extensions included, bytes (64..65507). Default 1200. */
  mtu?: number;
  /** The sdes:mid header extension to stamp on every packet, or null. */
  midExtension?: MidExtension | null;
}

/**
 * Splits encoded VP8 frames into RTP packets (RFC 7741): each fits the MTU, the last one of a frame has
 * the marker bit, every packet carries a 15-bit picture ID that increments per frame, and sequence
 * numbers run on across frames.
 */
export class Vp8Packetizer {
  #native: NativeVp8Packetizer | null;

  /** @throws TypeError / RangeError (code ERR_INVALID_ARG) naming a bad option. */
  constructor(options: Vp8PacketizerOptions) {
    const o = checkOptions('options', options, false);
    this.#native = new (native().Vp8Packetizer)({
      ssrc: checkInt('ssrc', o.ssrc, 0, 0xffffffff),
      payloadType: checkInt('payloadType', o.payloadType, 0, 127),
      initialSequence: optInt('initialSequence', o.initialSequence, 0, 0xffff, 0),
      initialPictureId: optInt('initialPictureId', o.initialPictureId, 0, 0x7fff, 0),
      mtu: optInt('mtu', o.mtu, 64, 65507, 1200),
      midExtension: checkMid('midExtension', o.midExtension),
    });
  }

  #n(): NativeVp8Packetizer {
    if (this.#native === null) throw closedError('Vp8Packetizer');
    return this.#native;
  }

  /** The RTP packets of one encoded frame with RTP timestamp `timestamp` (90 kHz). */
  packetize(frame: Uint8Array, timestamp: number): Uint8Array[] {
    return this.#n().packetize(checkBytes('frame', frame), checkInt('timestamp', timestamp, 0, 0xffffffff));
  }

  /** Changes the SSRC, payload type or mid extension for the following frames. */
  setRtpParams(params: { ssrc?: number; payloadType?: number; midExtension?: MidExtension | null }): void {
    const p = checkOptions('params', params, false);
    const out: { ssrc?: number; payloadType?: number; midExtension?: MidExtension | null } = {};
    if (p.ssrc !== undefined) out.ssrc = checkInt('ssrc', p.ssrc, 0, 0xffffffff);
    if (p.payloadType !== undefined) out.payloadType = checkInt('payloadType', p.payloadType, 0, 127);
    if ('midExtension' in p) out.midExtension = checkMid('midExtension', p.midExtension);
    this.#n().setRtpParams(out);
  }

  /** Sequence number of the next packet. */
  get nextSequence(): number {
    return this.#n().nextSequence;
  }

  /** Picture ID of the next frame. */
  get pictureId(): number {
    return this.#n().pictureId;
  }

  /** VP8 bytes one packet holds with the current header. */
  get maxPayloadPerPacket(): number {
    return this.#n().maxPayloadPerPacket;
  }

  /** Frames, packets and VP8 payload bytes sent so far. */
  stats(): { frames: number; packets: number; payloadBytes: number } {
    return this.#n().stats();
  }

  /** Frees the native state; idempotent. Other methods then throw ERR_CLOSED. */
  close(): void {
    this.#native?.close();
    this.#native = null;
  }
}
