// RTP for tests and benchmarks, built on the product's own toolkit (src/media/rtp.ts, native parsing and
// building) rather than on hand-written headers: a peer's packets are read the way the product reads them,
// and what tests send is what the product would send. Only test conveniences live here.
import { buildRtp, parseRtp, type RtpHeaderExtension, type RtpPacket } from '../src/media/rtp.js';

export {
  buildRtcpPli,
  buildRtcpRr,
  buildRtp,
  parseRtcp,
  parseRtp,
  type RtpPacket,
  type RtpPacketInit,
} from '../src/media/rtp.js';

/** The classic 3-byte Opus silence frame: TOC 0xF8 (CELT fullband 20 ms, mono, one frame), then 0xFF 0xFE. */
export const OPUS_SILENCE = Uint8Array.of(0xf8, 0xff, 0xfe);

/** Samples per 20 ms Opus packet at the 48 kHz RTP clock. */
export const OPUS_TICKS_PER_20MS = 960;

/**
 * The RFC 8285 `sdes:mid` element for a negotiated extension id, or none: without an id (the peer did not
 * negotiate it) and, as browsers send it, only in the one-byte form (ids 1-14).
 */
export function midExtension(id: number | null, mid: string): RtpHeaderExtension[] {
  if (id === null || id < 1 || id > 14) return [];
  return [{ id, data: new TextEncoder().encode(mid) }];
}

/** What a test peer needs to address RTP to the other side (an `RtpSink` of the connection has these). */
export interface RtpTarget {
  ssrc: number;
  payloadType: number;
  mid?: string;
  midExtensionId?: number | null;
}

/**
 * One RTP packet to `target` (its SSRC and payload type, plus the `sdes:mid` extension when it negotiated
 * one).
 */
export function rtpTo(
  target: RtpTarget,
  p: { sequenceNumber: number; timestamp: number; payload: Uint8Array; marker?: boolean },
): Uint8Array {
  return buildRtp({
    payloadType: target.payloadType,
    sequenceNumber: p.sequenceNumber & 0xffff,
    timestamp: p.timestamp >>> 0,
    ssrc: target.ssrc,
    marker: p.marker ?? false,
    payload: p.payload,
    extensions: midExtension(target.midExtensionId ?? null, target.mid ?? ''),
  });
}

/**
 * Parses a packet received on a media track; null when it is not RTP: shorter than the fixed header, not
 * version 2, RTCP multiplexed on the same port (second byte 192-223, RFC 5761), or malformed.
 */
export function parseRtpOrNull(packet: Uint8Array): RtpPacket | null {
  if (packet.length < 12 || (packet[0] ?? 0) >> 6 !== 2) return null;
  const b1 = packet[1] ?? 0;
  if (b1 >= 192 && b1 <= 223) return null;
  try {
    return parseRtp(packet);
  } catch {
    return null;
  }
}

/** What {@link countRtp} counts. */
export interface RtpCount {
  count: number;
  payloadTypes: Set<number>;
  ssrcs: Set<number>;
}

/** An empty {@link RtpCount}. */
export function newRtpCount(): RtpCount {
  return { count: 0, payloadTypes: new Set(), ssrcs: new Set() };
}

/**
 * Counts the RTP packets an input track receives into `into` (several tracks may share one count): packets
 * {@link parseRtpOrNull} refuses are not counted.
 */
export function countRtp(
  track: { onRtp(cb: (packet: Buffer) => void): unknown } | null | undefined,
  into: RtpCount,
): RtpCount {
  track?.onRtp((packet) => {
    const h = parseRtpOrNull(packet);
    if (!h) return;
    into.count++;
    into.payloadTypes.add(h.payloadType);
    into.ssrcs.add(h.ssrc);
  });
  return into;
}
