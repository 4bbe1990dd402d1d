// RTP and RTCP packets (RFC 3550, RFC 8285 header extensions, RFC 4585 NACK/PLI): thin typed wrappers over
// native/core/rtp (via native/binding/rtp_wrap.cc). Parsing never trusts a length field: malformed input
// throws a RangeError with `code` 'ERR_RTP_MALFORMED' / 'ERR_RTCP_MALFORMED' and a `reason`, wrong argument
// types a TypeError with `code` 'ERR_INVALID_ARG'. Synchronous, JS thread. The one RTP/RTCP toolkit of the
// library: the connection uses it to demultiplex and to request keyframes, the media layer to parse and build.
// The addon is loaded on the first parse/build call, not at import.
import { native } from '../native/binding.js';
import type {
  NativeUnwrapper,
  RtcpByeInit,
  RtcpNackInit,
  RtcpPacket,
  RtcpPliInit,
  RtcpReceiverReportInit,
  RtcpSenderReportInit,
  RtpHeaderExtension,
  RtpPacket,
  RtpPacketInit,
} from '../native/types.js';

export type {
  RtpHeaderExtension,
  RtpPacket,
  RtpPacketInit,
  RtcpReportBlock,
  RtcpReportBlockInit,
  RtcpPacketBase,
  RtcpSenderReport,
  RtcpReceiverReport,
  RtcpNack,
  RtcpPli,
  RtcpBye,
  RtcpOther,
  RtcpPacket,
  RtcpSenderReportInit,
  RtcpReceiverReportInit,
  RtcpNackInit,
  RtcpPliInit,
  RtcpByeInit,
} from '../native/types.js';

/**
 * Whether a packet received on a track is RTCP rather than RTP (RFC 5761 section 4): with rtcp-mux, RTCP
 * packet types 192-223 occupy the second byte, which RTP avoids by never using payload types 64-95 (so 72-79
 * with the marker bit: 200-207). Packets shorter than 8 bytes are treated as neither (the caller drops them).
 * Pure TypeScript (two byte reads): it runs on every received packet, where a native call would cost more.
 */
export function isRtcpPacket(packet: Uint8Array): boolean {
  if (packet.length < 8) return false;
  const b1 = packet[1] ?? 0;
  return b1 >= 192 && b1 <= 223;
}

/** Whether a buffer looks like an RTP packet: version 2 and at least the 12-byte fixed header. */
export function isRtpPacket(packet: Uint8Array): boolean {
  return packet.length >= 12 && ((packet[0] ?? 0) & 0xc0) === 0x80 && !isRtcpPacket(packet);
}

/** The SSRC of an RTP packet (bytes 8-11, big endian). The caller checks {@link isRtpPacket} first. */
export function rtpSsrc(packet: Uint8Array): number {
  return (
    (((packet[8] ?? 0) << 24) | ((packet[9] ?? 0) << 16) | ((packet[10] ?? 0) << 8) | (packet[11] ?? 0)) >>> 0
  );
}

/**
 * Parses an RTP packet. Payload and extension data are views into `packet` (copy them to keep them
 * beyond the buffer's lifetime).
 * @throws RangeError `code: 'ERR_RTP_MALFORMED'` (`reason`: too-short, bad-version, csrc-overflow,
 *   extension-overflow, bad-padding, bad-extension-element, too-many-extensions)
 * @throws TypeError `code: 'ERR_INVALID_ARG'` when `packet` is not a Uint8Array/Buffer
 */
export function parseRtp(packet: Uint8Array): RtpPacket {
  // The native side validates and fills `fields` (layout: rtp_wrap.cc RtpField); the object is built here,
  // which is ~10x cheaper than building it through N-API.
  const f = fields ?? (fields = new Uint32Array(native().RTP_FIELD_COUNT));
  native().parseRtpInto(packet, f);
  const csrcCount = f[F_CSRC_COUNT]!;
  const csrcs: number[] = [];
  for (let i = 0; i < csrcCount; i++) csrcs.push(f[F_CSRCS + i]!);
  const extCount = f[F_EXT_COUNT]!;
  const extensions: RtpHeaderExtension[] = [];
  for (let i = 0; i < extCount; i++) {
    const at = F_EXTENSIONS + 3 * i;
    const offset = f[at + 1]!;
    extensions.push({ id: f[at]!, data: packet.subarray(offset, offset + f[at + 2]!) });
  }
  const flags = f[F_FLAGS]!;
  const payloadOffset = f[F_PAYLOAD_OFFSET]!;
  return {
    padding: (flags & 1) !== 0,
    marker: (flags & 2) !== 0,
    payloadType: f[F_PAYLOAD_TYPE]!,
    sequenceNumber: f[F_SEQUENCE]!,
    timestamp: f[F_TIMESTAMP]!,
    ssrc: f[F_SSRC]!,
    csrcs,
    extensionProfile: (flags & 4) !== 0 ? f[F_EXT_PROFILE]! : null,
    extensions,
    headerSize: f[F_HEADER_SIZE]!,
    paddingSize: f[F_PADDING_SIZE]!,
    payload: packet.subarray(payloadOffset, payloadOffset + f[F_PAYLOAD_SIZE]!),
  };
}

// Indices into the parseRtpInto() output (must match enum RtpField in native/binding/rtp_wrap.cc).
const F_FLAGS = 0;
const F_PAYLOAD_TYPE = 1;
const F_SEQUENCE = 2;
const F_TIMESTAMP = 3;
const F_SSRC = 4;
const F_HEADER_SIZE = 5;
const F_PADDING_SIZE = 6;
const F_PAYLOAD_OFFSET = 7;
const F_PAYLOAD_SIZE = 8;
const F_EXT_PROFILE = 9;
const F_CSRC_COUNT = 10;
const F_EXT_COUNT = 11;
const F_CSRCS = 12;
const F_EXTENSIONS = F_CSRCS + 15;
/** Reused output of parseRtpInto (JS thread only; read before the next call). */
let fields: Uint32Array | null = null;

/**
 * Builds an RTP packet.
 * @throws TypeError / RangeError `code: 'ERR_INVALID_ARG'` naming the offending field
 */
export function buildRtp(init: RtpPacketInit): Uint8Array {
  return native().buildRtp(init);
}

/**
 * Parses a (compound) RTCP buffer into its packets.
 * @throws RangeError `code: 'ERR_RTCP_MALFORMED'` (`reason`: empty, too-short, bad-version,
 *   length-overflow, bad-padding, body-too-short)
 */
export function parseRtcp(packet: Uint8Array): RtcpPacket[] {
  return native().parseRtcp(packet);
}

/** Builds a sender report (SR). */
export function buildRtcpSr(init: RtcpSenderReportInit): Uint8Array {
  return native().buildRtcpSr(init);
}

/** Builds a receiver report (RR); up to 31 report blocks. */
export function buildRtcpRr(init: RtcpReceiverReportInit): Uint8Array {
  return native().buildRtcpRr(init);
}

/** Builds a generic NACK for the given lost sequence numbers (any order; wrap-aware packing). */
export function buildRtcpNack(init: RtcpNackInit): Uint8Array {
  return native().buildRtcpNack(init);
}

/** Builds a picture loss indication (asks `mediaSsrc`'s sender for a keyframe). */
export function buildRtcpPli(init: RtcpPliInit): Uint8Array {
  return native().buildRtcpPli(init);
}

/** Builds a BYE for up to 31 SSRCs with an optional reason (at most 255 UTF-8 bytes). */
export function buildRtcpBye(init: RtcpByeInit): Uint8Array {
  return native().buildRtcpBye(init);
}

/** Concatenates RTCP packets into one compound packet (RFC 3550 6.1). */
export function concatRtcp(packets: readonly Uint8Array[]): Uint8Array {
  let size = 0;
  for (const p of packets) size += p.byteLength;
  const out = new Uint8Array(size);
  let offset = 0;
  for (const p of packets) {
    out.set(p, offset);
    offset += p.byteLength;
  }
  return out;
}

/**
 * Turns 16-bit RTP sequence numbers into monotonic integers: each value lands at the position nearest the
 * previous one, so wraps (65535 -> 0) count forward and reordering across a wrap stays ordered.
 */
export class SequenceUnwrapper {
  readonly #core: NativeUnwrapper = new (native().SequenceUnwrapper)();

  /** Unwraps `sequenceNumber` (0-65535); the first call returns it unchanged. */
  unwrap(sequenceNumber: number): number {
    return this.#core.unwrap(sequenceNumber);
  }

  /** Forgets the history (e.g. on an SSRC change). */
  reset(): void {
    this.#core.reset();
  }
}

/** Like {@link SequenceUnwrapper}, for 32-bit RTP timestamps. */
export class TimestampUnwrapper {
  readonly #core: NativeUnwrapper = new (native().TimestampUnwrapper)();

  /** Unwraps `timestamp` (0-2^32-1); the first call returns it unchanged. */
  unwrap(timestamp: number): number {
    return this.#core.unwrap(timestamp);
  }

  /** Forgets the history. */
  reset(): void {
    this.#core.reset();
  }
}
