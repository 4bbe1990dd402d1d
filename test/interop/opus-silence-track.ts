// A minimal OutboundTrack for interop tests: once bound, it sends pre-encoded 20 ms Opus silence frames
// (TOC 0xF8 = CELT fullband 20 ms mono, one frame; payload 0xFF 0xFE) as real RTP, paced every 20 ms.
// The transport does real encoding later; this only proves our RTP reaches the peer and decodes there.
import type { OutboundTrack, RtpSink } from '../../src/connection/index.js';

/** The classic 3-byte Opus silence frame. */
export const OPUS_SILENCE = Uint8Array.of(0xf8, 0xff, 0xfe);

/** Builds one RTP packet (RFC 3550) with an optional one-byte-header `sdes:mid` extension (RFC 8285). */
export function buildRtpPacket(o: {
  payloadType: number;
  sequenceNumber: number;
  timestamp: number;
  ssrc: number;
  payload: Uint8Array;
  marker?: boolean;
  mid?: { id: number; mid: string } | null;
}): Uint8Array {
  let ext: Uint8Array = new Uint8Array(0);
  if (o.mid && o.mid.id >= 1 && o.mid.id <= 14) {
    const midBytes = new TextEncoder().encode(o.mid.mid);
    const elemLen = 1 + midBytes.length;
    const words = Math.ceil(elemLen / 4);
    ext = new Uint8Array(4 + words * 4);
    ext[0] = 0xbe;
    ext[1] = 0xde;
    ext[2] = (words >> 8) & 0xff;
    ext[3] = words & 0xff;
    ext[4] = (o.mid.id << 4) | (midBytes.length - 1);
    ext.set(midBytes, 5);
  }
  const packet = new Uint8Array(12 + ext.length + o.payload.length);
  const view = new DataView(packet.buffer);
  packet[0] = 0x80 | (ext.length > 0 ? 0x10 : 0);
  packet[1] = (o.marker ? 0x80 : 0) | (o.payloadType & 0x7f);
  view.setUint16(2, o.sequenceNumber & 0xffff);
  view.setUint32(4, o.timestamp >>> 0);
  view.setUint32(8, o.ssrc >>> 0);
  packet.set(ext, 12);
  packet.set(o.payload, 12 + ext.length);
  return packet;
}

/** Parses the fixed RTP header fields tests care about; null if `packet` is not RTP. */
export function parseRtpHeader(
  packet: Uint8Array,
): { payloadType: number; sequenceNumber: number; ssrc: number } | null {
  if (packet.length < 12 || packet[0]! >> 6 !== 2) return null;
  const pt = packet[1]! & 0x7f;
  if (pt >= 72 && pt <= 79) return null; // RTCP range (RFC 5761)
  const view = new DataView(packet.buffer, packet.byteOffset, packet.byteLength);
  return { payloadType: pt, sequenceNumber: view.getUint16(2), ssrc: view.getUint32(8) };
}

/** Sends `count` Opus silence packets (20 ms apart) whenever it is bound; counts what was sent. */
export class OpusSilenceTrack implements OutboundTrack {
  readonly kind = 'audio' as const;
  /** Packets handed to the sink (send() returned true). */
  sent = 0;
  /** Packets the sink refused. */
  refused = 0;
  /** Sinks this track was bound to, in order (a restart binds again). */
  readonly bindings: RtpSink[] = [];
  #timer: ReturnType<typeof setInterval> | null = null;
  #seq = Math.floor(Math.random() * 0xffff);
  #ts = Math.floor(Math.random() * 0xffffffff);
  readonly #count: number;

  /** @param count packets per binding (default 100 = 2 s). */
  constructor(count = 100) {
    this.#count = count;
  }

  bind(sink: RtpSink): void {
    this.unbind();
    this.bindings.push(sink);
    let left = this.#count;
    const mid = sink.midExtensionId !== null ? { id: sink.midExtensionId, mid: sink.mid } : null;
    this.#timer = setInterval(() => {
      if (left-- <= 0) {
        this.unbind();
        return;
      }
      const packet = buildRtpPacket({
        payloadType: sink.payloadType,
        sequenceNumber: this.#seq++,
        timestamp: this.#ts,
        ssrc: sink.ssrc,
        payload: OPUS_SILENCE,
        marker: left === this.#count - 1,
        mid,
      });
      this.#ts = (this.#ts + 960) >>> 0; // 20 ms at 48 kHz
      if (sink.send(packet)) this.sent++;
      else this.refused++;
    }, 20);
  }

  unbind(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
  }
}
