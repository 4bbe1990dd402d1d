// RTP and RTCP packets (RFC 3550, RFC 8285 header extensions, RFC 4585 NACK/PLI): thin typed wrappers over
// native/core/rtp (via native/binding/rtp_wrap.cc). Parsing never trusts a length field: malformed input
// throws a RangeError with `code` 'ERR_RTP_MALFORMED' / 'ERR_RTCP_MALFORMED' and a `reason`, wrong argument
// types a TypeError with `code` 'ERR_INVALID_ARG'. Synchronous, JS thread.
import { native } from '../native/binding.js';
import type { NativeUnwrapper } from '../native/types.js';

/** One RFC 8285 header extension element. */
export interface RtpHeaderExtension {
  /** Local identifier (1-14 one-byte form, 1-255 two-byte form), as negotiated by `a=extmap`. */
  id: number;
  /** Element data. In a parsed packet this is a view into the packet buffer (no copy). */
  data: Uint8Array;
}

/** A parsed RTP packet. `payload` and extension data are views into the buffer given to {@link parseRtp}. */
export interface RtpPacket {
  /** Padding bit (padding bytes are excluded from `payload`). */
  padding: boolean;
  /** Marker bit (Opus: first packet of a talkspurt; VP8: last packet of a frame). */
  marker: boolean;
  /** Payload type, 0-127. */
  payloadType: number;
  /** 16-bit sequence number (wraps; see {@link SequenceUnwrapper}). */
  sequenceNumber: number;
  /** 32-bit media timestamp in clock-rate units (48 kHz for Opus, 90 kHz for video). */
  timestamp: number;
  /** Synchronisation source. */
  ssrc: number;
  /** Contributing sources (0-15). */
  csrcs: number[];
  /** The extension block's profile (0xBEDE one-byte, 0x100X two-byte), or null without an extension. */
  extensionProfile: number | null;
  /** RFC 8285 elements (empty for other profiles; padding bytes skipped). */
  extensions: RtpHeaderExtension[];
  /** Bytes before the payload (fixed header + CSRCs + extension). */
  headerSize: number;
  /** Padding bytes at the end (including the count byte), 0 without padding. */
  paddingSize: number;
  /** The payload, without padding. */
  payload: Uint8Array;
}

/** What {@link buildRtp} writes. */
export interface RtpPacketInit {
  /** Payload type, 0-127. */
  payloadType: number;
  /** 0-65535. */
  sequenceNumber: number;
  /** 0-2^32-1, clock-rate units. */
  timestamp: number;
  /** 0-2^32-1. */
  ssrc: number;
  /** Default false. */
  marker?: boolean;
  /** Up to 15. */
  csrcs?: number[];
  /**
   * Header extensions. Written in the one-byte form (0xBEDE) when every id is 1-14 and every length 1-16
   * bytes, else in the two-byte form (ids 1-255, lengths 0-255).
   */
  extensions?: RtpHeaderExtension[];
  /** 0 (default) or 1-255 bytes of padding. */
  paddingSize?: number;
  /** Default empty. */
  payload?: Uint8Array;
}

/** An RFC 3550 6.4.1 reception report block. */
export interface RtcpReportBlock {
  /** The source this block reports on. */
  ssrc: number;
  /** Fraction of packets lost since the previous report, fixed point /256 (0-255). */
  fractionLost: number;
  /** Packets lost since the start (signed 24-bit: duplicates can make it negative). */
  cumulativeLost: number;
  /** Cycles of the sequence number (<< 16) plus the highest sequence number received. */
  extendedHighestSequenceNumber: number;
  /** Interarrival jitter in RTP timestamp units. */
  jitter: number;
  /** Middle 32 bits of the NTP timestamp of the last SR received (0: none). */
  lastSenderReport: number;
  /** Delay since that SR, in 1/65536 s. */
  delaySinceLastSenderReport: number;
}

/** Report block fields as accepted by the builders (all but `ssrc` default to 0). */
export type RtcpReportBlockInit = Pick<RtcpReportBlock, 'ssrc'> & Partial<RtcpReportBlock>;

/** Fields every parsed RTCP packet has. */
export interface RtcpPacketBase {
  /** RTCP packet type (200 SR, 201 RR, 202 SDES, 203 BYE, 204 APP, 205 RTPFB, 206 PSFB, ...). */
  packetType: number;
  /** The 5-bit count / feedback-message-type field. */
  fmt: number;
  /** Byte offset of this packet in the compound buffer. */
  offset: number;
  /** Its size in bytes. */
  size: number;
}

/** Sender report. */
export interface RtcpSenderReport extends RtcpPacketBase {
  kind: 'sr';
  senderSsrc: number;
  /** NTP timestamp, seconds since 1900. */
  ntpSeconds: number;
  /** NTP timestamp fraction, 1/2^32 s. */
  ntpFraction: number;
  /** The same instant in RTP timestamp units. */
  rtpTimestamp: number;
  /** Packets sent. */
  packetCount: number;
  /** Payload bytes sent. */
  octetCount: number;
  reports: RtcpReportBlock[];
}

/** Receiver report. */
export interface RtcpReceiverReport extends RtcpPacketBase {
  kind: 'rr';
  senderSsrc: number;
  reports: RtcpReportBlock[];
}

/** Generic NACK (RTPFB FMT 1), PID/BLP pairs expanded. */
export interface RtcpNack extends RtcpPacketBase {
  kind: 'nack';
  senderSsrc: number;
  mediaSsrc: number;
  /** Every sequence number reported lost. */
  sequenceNumbers: number[];
}

/** Picture loss indication (PSFB FMT 1): the sender should send a keyframe. */
export interface RtcpPli extends RtcpPacketBase {
  kind: 'pli';
  senderSsrc: number;
  mediaSsrc: number;
}

/** Goodbye. */
export interface RtcpBye extends RtcpPacketBase {
  kind: 'bye';
  ssrcs: number[];
  /** Optional reason text ('' when absent). */
  reason: string;
}

/** Any other packet (SDES, APP, XR, other feedback): header fields only. */
export interface RtcpOther extends RtcpPacketBase {
  kind: 'other';
}

/** One packet of a (compound) RTCP buffer, discriminated by `kind`. */
export type RtcpPacket = RtcpSenderReport | RtcpReceiverReport | RtcpNack | RtcpPli | RtcpBye | RtcpOther;

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
export function buildRtcpSr(init: {
  senderSsrc: number;
  ntpSeconds: number;
  ntpFraction: number;
  rtpTimestamp: number;
  packetCount: number;
  octetCount: number;
  reports?: RtcpReportBlockInit[];
}): Uint8Array {
  return native().buildRtcpSr(init);
}

/** Builds a receiver report (RR); up to 31 report blocks. */
export function buildRtcpRr(init: { senderSsrc: number; reports?: RtcpReportBlockInit[] }): Uint8Array {
  return native().buildRtcpRr(init);
}

/** Builds a generic NACK for the given lost sequence numbers (any order; wrap-aware packing). */
export function buildRtcpNack(init: {
  senderSsrc: number;
  mediaSsrc: number;
  sequenceNumbers: number[];
}): Uint8Array {
  return native().buildRtcpNack(init);
}

/** Builds a picture loss indication (asks `mediaSsrc`'s sender for a keyframe). */
export function buildRtcpPli(init: { senderSsrc: number; mediaSsrc: number }): Uint8Array {
  return native().buildRtcpPli(init);
}

/** Builds a BYE for up to 31 SSRCs with an optional reason (at most 255 UTF-8 bytes). */
export function buildRtcpBye(init: { ssrcs: number[]; reason?: string }): Uint8Array {
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
