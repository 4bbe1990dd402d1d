/**
 * RTCP receiver reports (RFC 3550 6.4.2) about the peer's audio: for every inbound audio SSRC, the fraction
 * and cumulative number of packets lost, the extended highest sequence number, the interarrival jitter, and
 * LSR/DLSR from the peer's sender reports, sent about once a second. A browser sender reads them: Chromium's
 * Opus encoder turns in-band FEC and its bitrate up or down from the loss the receiver reports, and shows them
 * in `getStats()` as the `remote-inbound-rtp` of its outbound audio (packetsLost, fractionLost,
 * roundTripTime).
 *
 * Why not libdatachannel's `RtcpReceivingSession` (node-datachannel's media handler of that name,
 * libdatachannel 0.24.5): it only answers a sender report (no report while none arrives), puts the peer's
 * SSRC as the reporter, reports no jitter and a zero DLSR, and as a media handler it consumes every incoming
 * RTCP packet, which the video sender's PLI/NACK handling and `InputTrack.onRtcp`-style consumers need raw
 * (docs/protocol.md). Nothing here runs per packet but a few integer operations on the RTP header
 * ({@link ReceptionStats.update}); the reports go out from one timer per process.
 */
import { buildRtcpRr, parseRtcp } from '../media/rtp.js';
import type { RtcpReportBlockInit } from '../native/types.js';
import { getLogger } from '../logger.js';

/** Sequence-number jump beyond which a packet starts a new sequence (RFC 3550 A.1). */
const MAX_DROPOUT = 3000;
const MAX_MISORDER = 100;
const SEQ_MOD = 0x10000;
/** How often the reports go out, ms (libwebrtc sends its compound RTCP of a video stream about this often). */
export const RECEIVER_REPORT_INTERVAL_MS = 1000;
/** A source that sent nothing for this long is no longer reported (RFC 3550 6.3.5 uses 5 intervals). */
const SOURCE_TIMEOUT_MS = 5 * RECEIVER_REPORT_INTERVAL_MS;

/** RFC 3550 receiver statistics of one inbound RTP source (A.1 sequence, A.3 loss, A.8 jitter). */
export class ReceptionStats {
  readonly ssrc: number;
  readonly clockRate: number;
  #baseSeq = 0;
  #maxSeq = 0;
  #cycles = 0;
  #badSeq = SEQ_MOD + 1;
  #received = 0;
  #expectedPrior = 0;
  #receivedPrior = 0;
  #lastArrival = 0;
  #lastTimestamp = 0;
  #jitter = 0;
  /** Middle 32 bits of the NTP time of the last SR, and when it arrived (ms). */
  #lastSr = 0;
  #lastSrAt = -1;
  /** When the last packet arrived (ms). */
  lastPacketAt = -Infinity;

  constructor(ssrc: number, clockRate: number, seq: number, timestamp: number, arrivalMs: number) {
    this.ssrc = ssrc;
    this.clockRate = clockRate;
    this.#init(seq);
    this.#lastArrival = arrivalMs;
    this.#lastTimestamp = timestamp;
    this.#received = 1;
    this.lastPacketAt = arrivalMs;
  }

  #init(seq: number): void {
    this.#baseSeq = seq;
    this.#maxSeq = seq;
    this.#badSeq = SEQ_MOD + 1;
    this.#cycles = 0;
    this.#received = 0;
    this.#expectedPrior = 0;
    this.#receivedPrior = 0;
  }

  /** One RTP packet of this source (sequence number, RTP timestamp, arrival time in ms). */
  update(seq: number, timestamp: number, arrivalMs: number): void {
    this.lastPacketAt = arrivalMs;
    const udelta = (seq - this.#maxSeq + SEQ_MOD) % SEQ_MOD;
    if (udelta < MAX_DROPOUT) {
      if (seq < this.#maxSeq) this.#cycles += SEQ_MOD; // wrapped
      this.#maxSeq = seq;
    } else if (udelta <= SEQ_MOD - MAX_MISORDER) {
      // A very large jump: two sequential packets mean the sender restarted its sequence.
      if (seq !== this.#badSeq) {
        this.#badSeq = (seq + 1) % SEQ_MOD;
        return;
      }
      this.#init(seq);
    }
    // else: a duplicate or a reordered packet (counted as received, as RFC 3550 does).
    this.#received++;
    // Interarrival jitter (A.8): D = (arrival difference) - (timestamp difference), in timestamp units.
    const dTs = (timestamp - this.#lastTimestamp) | 0;
    const d = ((arrivalMs - this.#lastArrival) * this.clockRate) / 1000 - dTs;
    this.#jitter += (Math.abs(d) - this.#jitter) / 16;
    this.#lastArrival = arrivalMs;
    this.#lastTimestamp = timestamp;
  }

  /** A sender report of this source (its NTP timestamp), arrived at `arrivalMs`. */
  senderReport(ntpSeconds: number, ntpFraction: number, arrivalMs: number): void {
    this.#lastSr = (((ntpSeconds & 0xffff) << 16) | (ntpFraction >>> 16)) >>> 0;
    this.#lastSrAt = arrivalMs;
  }

  /** The report block for a report sent at `nowMs` (starts the next fraction-lost interval). */
  reportBlock(nowMs: number): RtcpReportBlockInit {
    const extendedMax = this.#cycles + this.#maxSeq;
    const expected = extendedMax - this.#baseSeq + 1;
    const lost = Math.max(-0x800000, Math.min(0x7fffff, expected - this.#received));
    const expectedInterval = expected - this.#expectedPrior;
    const receivedInterval = this.#received - this.#receivedPrior;
    this.#expectedPrior = expected;
    this.#receivedPrior = this.#received;
    const lostInterval = expectedInterval - receivedInterval;
    const fractionLost =
      expectedInterval <= 0 || lostInterval <= 0
        ? 0
        : Math.min(255, Math.floor((lostInterval * 256) / expectedInterval));
    const block: RtcpReportBlockInit = {
      ssrc: this.ssrc,
      fractionLost,
      cumulativeLost: lost,
      extendedHighestSequenceNumber: extendedMax >>> 0,
      jitter: Math.min(0xffffffff, Math.floor(this.#jitter)),
    };
    if (this.#lastSrAt >= 0) {
      block.lastSenderReport = this.#lastSr;
      block.delaySinceLastSenderReport = Math.min(
        0xffffffff,
        Math.round(((nowMs - this.#lastSrAt) * 65536) / 1000),
      );
    }
    return block;
  }
}

/** Where a reporter sends its RTCP: a raw-RTP track (node-datachannel, no media handler). */
export interface RtcpOut {
  isOpen(): boolean;
  sendMessageBinary(buffer: Buffer): boolean;
}

/**
 * The receiver-report state of one inbound track: one {@link ReceptionStats} per SSRC seen (at most 4; a
 * source silent for 5 s is dropped), SRs taken from the peer's RTCP, and a report sent by the process-wide
 * timer while the track is registered.
 */
export class ReceiverReporter {
  readonly #sources = new Map<number, ReceptionStats>();
  readonly #senderSsrc: number;
  readonly #clockRate: number;
  readonly #out: RtcpOut;
  readonly #name: string;
  #closed = false;
  /** Reports sent (for tests and stats). */
  sent = 0;

  constructor(o: { senderSsrc: number; clockRate: number; out: RtcpOut; name: string }) {
    this.#senderSsrc = o.senderSsrc;
    this.#clockRate = o.clockRate;
    this.#out = o.out;
    this.#name = o.name;
  }

  /** One RTP packet (its header read here: sequence number and timestamp). */
  rtp(packet: Uint8Array, ssrc: number, arrivalMs: number): void {
    if (this.#closed || packet.length < 12) return;
    const seq = ((packet[2]! << 8) | packet[3]!) >>> 0;
    const ts = ((packet[4]! << 24) | (packet[5]! << 16) | (packet[6]! << 8) | packet[7]!) >>> 0;
    const s = this.#sources.get(ssrc);
    if (s) {
      s.update(seq, ts, arrivalMs);
      return;
    }
    if (this.#sources.size >= 4) this.#expire(arrivalMs, true);
    this.#sources.set(ssrc, new ReceptionStats(ssrc, this.#clockRate, seq, ts, arrivalMs));
    register(this);
  }

  /** An RTCP packet from the peer: the SRs of the sources we report on are remembered (LSR/DLSR). */
  rtcp(packet: Uint8Array, arrivalMs: number): void {
    // Only a compound packet with an SR (which comes first in it, RFC 3550 6.1) is parsed.
    if (this.#closed || this.#sources.size === 0 || packet.length < 28 || packet[1] !== 200) return;
    try {
      for (const p of parseRtcp(packet)) {
        if (p.kind === 'sr')
          this.#sources.get(p.senderSsrc)?.senderReport(p.ntpSeconds, p.ntpFraction, arrivalMs);
      }
    } catch {
      // a malformed compound packet: the SR (if any) is ignored
    }
  }

  /** Report blocks of the live sources as of `nowMs` (each call starts a new fraction-lost interval). */
  blocks(nowMs: number): RtcpReportBlockInit[] {
    this.#expire(nowMs, false);
    return [...this.#sources.values()].map((s) => s.reportBlock(nowMs));
  }

  /** Sends one receiver report now (nothing when no source is live or the track is not open). */
  send(nowMs: number): void {
    if (this.#closed) return;
    const reports = this.blocks(nowMs);
    if (reports.length === 0) {
      unregister(this);
      return;
    }
    try {
      if (!this.#out.isOpen()) return;
      const rr = buildRtcpRr({ senderSsrc: this.#senderSsrc, reports });
      if (this.#out.sendMessageBinary(Buffer.from(rr.buffer, rr.byteOffset, rr.byteLength))) this.sent++;
    } catch (err) {
      getLogger().debug(`${this.#name}: receiver report not sent`, err);
    }
  }

  /** Stops reporting (idempotent). */
  close(): void {
    this.#closed = true;
    this.#sources.clear();
    unregister(this);
  }

  #expire(nowMs: number, oldest: boolean): void {
    let stalest: ReceptionStats | null = null;
    for (const s of this.#sources.values()) {
      if (nowMs - s.lastPacketAt > SOURCE_TIMEOUT_MS) this.#sources.delete(s.ssrc);
      else if (!stalest || s.lastPacketAt < stalest.lastPacketAt) stalest = s;
    }
    if (oldest && stalest && this.#sources.size >= 4) this.#sources.delete(stalest.ssrc);
  }
}

// One timer per process for every reporter (not one per session).
const reporters = new Set<ReceiverReporter>();
let enabled = true;

/**
 * Turns the sending of receiver reports on or off for the whole process (default on; the statistics are kept
 * either way). Internal, not exported by the package: the bench and a test compare a browser's FEC with and
 * without our reports in one run.
 */
export function setReceiverReportsEnabled(on: boolean): void {
  enabled = on;
}
let timer: NodeJS.Timeout | null = null;

function register(r: ReceiverReporter): void {
  if (reporters.has(r)) return;
  reporters.add(r);
  if (timer === null) {
    timer = setInterval(() => {
      if (!enabled) return;
      const now = performance.now();
      for (const x of reporters) x.send(now);
    }, RECEIVER_REPORT_INTERVAL_MS);
    timer.unref();
  }
}

function unregister(r: ReceiverReporter): void {
  reporters.delete(r);
  if (reporters.size === 0 && timer !== null) {
    clearInterval(timer);
    timer = null;
  }
}
