/**
 * Minimal RTP/RTCP helpers for the connection layer (per-packet work stays tiny: two byte reads).
 */

/**
 * Whether a packet received on a track is RTCP rather than RTP (RFC 5761 §4): with rtcp-mux, RTCP packet
 * types 192-223 occupy the second byte, which RTP avoids by never using payload types 64-95 (so 72-79 with
 * the marker bit: 200-207). Packets shorter than 8 bytes are treated as neither (the caller drops them).
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
 * Builds an RTCP Picture Loss Indication (RFC 4585 §6.3.1): 12 bytes, V=2, FMT=1, PT=206 (PSFB), length 2
 * (32-bit words minus one), then the sender SSRC (ours) and the media source SSRC (the stream to refresh).
 */
export function buildPli(senderSsrc: number, mediaSsrc: number): Buffer {
  const b = Buffer.alloc(12);
  b[0] = 0x81;
  b[1] = 206;
  b.writeUInt16BE(2, 2);
  b.writeUInt32BE(senderSsrc >>> 0, 4);
  b.writeUInt32BE(mediaSsrc >>> 0, 8);
  return b;
}
