/**
 * RTCP receiver reports about the peer's audio (src/connection/receiver-reports.ts): a node-datachannel client
 * reaches the server through the userspace impairment relay (testkit/impair-relay.ts), which drops 10% of what
 * the client sends. The client sends numbered RTP packets and a sender report every 500 ms, and reads the
 * receiver reports the server sends back on its audio track: they must come about once a second, report on
 * the client's SSRC, and their cumulative loss must be exactly what the server did not receive (and near the
 * 10% injected), their extended highest sequence number the highest that arrived, their LSR one of the
 * client's SRs and their DLSR no longer than the time since it was sent.
 */
import { performance } from 'node:perf_hooks';

import nodeDataChannel from 'node-datachannel';
import { afterAll, describe, expect, it } from 'vitest';

import { buildRtcpSr, parseRtcp } from '../../src/media/rtp.js';
import type { RtcpReportBlock } from '../../src/native/types.js';
import { OPUS_SILENCE } from '../../testkit/rtp.js';
import { sleep, until } from '../../testkit/wait.js';
import { startRelaySession, type RelaySession } from './relay-session.js';

const sessions: RelaySession[] = [];
afterAll(async () => {
  for (const s of sessions) await s.stop();
  nodeDataChannel.cleanup();
});

const FIRST_SEQ = 65_400; // wraps past 65535 mid-run
const PACKETS = 350;
const LOSS = 0.1;

describe('RTCP receiver reports', () => {
  it('report the loss injected by the relay, the highest sequence number, jitter and LSR/DLSR, about once a second', async () => {
    const s = await startRelaySession();
    sessions.push(s);
    const ssrc = s.off.ssrcs.audio;
    const reports: Array<{ at: number; senderSsrc: number; block: RtcpReportBlock }> = [];
    s.off.onRtcp('audio', (buf) => {
      try {
        for (const p of parseRtcp(buf))
          if (p.kind === 'rr' || p.kind === 'sr')
            for (const block of p.reports)
              if (block.ssrc === ssrc)
                reports.push({ at: performance.now(), senderSsrc: p.senderSsrc, block });
      } catch (err) {
        console.error('bad RTCP from the server', err);
      }
    });

    s.relay.impair('toServer', { loss: LOSS });
    s.relay.resetCounters();
    const rtpBefore = s.conn.inboundStats().media.rtp;
    // The client's SRs: NTP seconds counting up from an arbitrary origin, the middle 32 bits remembered.
    const srs = new Map<number, number>(); // LSR value -> performance.now() when sent
    const sendSr = (k: number): void => {
      const ntpSeconds = 3_900_000_000 + k;
      const ntpFraction = 0x8000_0000;
      srs.set((((ntpSeconds & 0xffff) << 16) | (ntpFraction >>> 16)) >>> 0, performance.now());
      const sr = buildRtcpSr({
        senderSsrc: ssrc,
        ntpSeconds,
        ntpFraction,
        rtpTimestamp: k * 24_000,
        packetCount: k * 25,
        octetCount: k * 25 * OPUS_SILENCE.length,
      });
      s.off.tracks.audio.sendMessageBinary(Buffer.from(sr));
    };
    // Paced by the send count, not by timer ticks, so a late timer sends a short burst and keeps 50/s.
    const t0 = performance.now();
    let sent = 0;
    let srCount = 0;
    while (sent < PACKETS) {
      const due = Math.min(PACKETS, Math.floor((performance.now() - t0) / 20) + 1);
      for (; sent < due; sent++) {
        const seq = (FIRST_SEQ + sent) % 65536;
        s.off.sendRtp('audio', { seq, timestamp: (sent * 960) >>> 0, payload: OPUS_SILENCE });
      }
      if (performance.now() - t0 >= srCount * 500) sendSr(srCount++);
      await sleep(10);
    }
    const sendMs = performance.now() - t0;
    // The report that follows the last packet.
    const after = performance.now() + 200;
    await until(() => reports.some((r) => r.at > after), 5_000, 'a receiver report after the last packet');
    await sleep(100);

    const received = s.conn.inboundStats().media.rtp - rtpBefore;
    const last = reports.at(-1)!.block;
    const highest = last.extendedHighestSequenceNumber;
    // Extended: FIRST_SEQ + k crosses 65535, so the cycle count is 1.
    expect(highest).toBeGreaterThan(65536);
    expect(highest).toBeLessThanOrEqual(FIRST_SEQ + PACKETS - 1);
    expect(highest).toBeGreaterThanOrEqual(FIRST_SEQ + PACKETS - 10);
    const expected = highest - FIRST_SEQ + 1;
    expect(last.cumulativeLost).toBe(expected - received);
    const lossRate = last.cumulativeLost / expected;
    const dropped = s.relay.counters.toServer.droppedLoss;
    console.log(
      `receiver reports: ${reports.length} in ${(sendMs / 1000).toFixed(1)} s; relay dropped ${dropped} datagrams; ` +
        `last RR: cumulative lost ${last.cumulativeLost} of ${expected} (${(100 * lossRate).toFixed(1)} %), ` +
        `fractions ${reports.map((r) => r.block.fractionLost).join(' ')}, jitter ${last.jitter} ticks, ` +
        `LSR ${last.lastSenderReport.toString(16)} DLSR ${(last.delaySinceLastSenderReport / 65.536).toFixed(0)} ms`,
    );
    expect(lossRate).toBeGreaterThan(LOSS / 2);
    expect(lossRate).toBeLessThan(LOSS * 2);
    // The relay also drops some of the client's RTCP and STUN: at least as many datagrams as RTP lost.
    expect(dropped).toBeGreaterThanOrEqual(last.cumulativeLost);
    // About once a second while packets flow (a loaded machine delays timers, never doubles them).
    const during = reports.filter((r) => r.at > t0 && r.at <= t0 + sendMs);
    expect(during.length).toBeGreaterThanOrEqual(Math.floor(sendMs / 1000) - 2);
    expect(during.length).toBeLessThanOrEqual(Math.ceil(sendMs / 1000) + 1);
    // Fraction lost per interval: the mean over the run near the injected loss.
    const fractions = during.map((r) => r.block.fractionLost / 256);
    const meanFraction = fractions.reduce((a, b) => a + b, 0) / fractions.length;
    expect(meanFraction).toBeGreaterThan(LOSS / 3);
    expect(meanFraction).toBeLessThan(LOSS * 3);
    // LSR: one of our SRs; DLSR: at most the time since it was sent (plus rounding).
    const sentAt = srs.get(last.lastSenderReport);
    expect(sentAt, `LSR ${last.lastSenderReport.toString(16)} is not one of ours`).toBeDefined();
    const reportAt = reports.at(-1)!.at;
    expect(last.delaySinceLastSenderReport / 65.536).toBeLessThanOrEqual(reportAt - sentAt! + 1);
    expect(last.delaySinceLastSenderReport).toBeGreaterThan(0);
    // Jitter in 48 kHz ticks: a finite value, under a second.
    expect(last.jitter).toBeGreaterThanOrEqual(0);
    expect(last.jitter).toBeLessThan(48_000);
    // The reporter is the server's audio sender.
    expect(reports.every((r) => r.senderSsrc === reports[0]!.senderSsrc && r.senderSsrc !== ssrc)).toBe(true);
  }, 60_000);
});
