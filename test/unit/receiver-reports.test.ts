// RFC 3550 receiver statistics (src/connection/receiver-reports.ts) on synthetic sequences: wrap, loss,
// reordering, duplicates, a sender restart, jitter and LSR/DLSR. The end-to-end behaviour (real peers, the
// impairment relay, Chromium) is in test/reliability/receiver-reports.test.ts and
// test/interop/receiver-reports-chromium.test.ts.
import { describe, expect, it } from 'vitest';

import { ReceptionStats } from '../../src/connection/receiver-reports.js';

/** Feeds `seqs` 20 ms apart (timestamps 960 apart, from the sequence's position in the stream). */
function feed(seqs: number[], first = seqs[0]!): ReceptionStats {
  const s = new ReceptionStats(7, 48000, first, 0, 0);
  for (const seq of seqs.slice(1)) {
    const k = (seq - first + 65536) % 65536;
    s.update(seq, k * 960, k * 20);
  }
  return s;
}

describe('ReceptionStats (RFC 3550 A.1, A.3, A.8)', () => {
  it('counts the sequence-number wrap into the extended highest sequence number', () => {
    const b = feed([65534, 65535, 0, 1]).reportBlock(100);
    expect(b.extendedHighestSequenceNumber).toBe(65536 + 1);
    expect(b.cumulativeLost).toBe(0);
    expect(b.fractionLost).toBe(0);
    expect(b.ssrc).toBe(7);
  });

  it('reports lost packets, and the fraction lost per interval', () => {
    const s = feed([10, 11, 12, 15, 16, 17, 18, 19]); // 13, 14 lost: 2 of 10
    let b = s.reportBlock(200);
    expect(b.cumulativeLost).toBe(2);
    expect(b.fractionLost).toBe(Math.floor((2 * 256) / 10));
    // Next interval: nothing lost, the cumulative count stays.
    for (let seq = 20; seq < 30; seq++) s.update(seq, (seq - 10) * 960, (seq - 10) * 20);
    b = s.reportBlock(400);
    expect(b.cumulativeLost).toBe(2);
    expect(b.fractionLost).toBe(0);
    expect(b.extendedHighestSequenceNumber).toBe(29);
  });

  it('a late packet fills its gap; a duplicate counts as received (cumulative lost may go below 0)', () => {
    const s = feed([1, 2, 4, 5]);
    s.update(3, 2 * 960, 90); // reordered
    expect(s.reportBlock(100)).toMatchObject({ cumulativeLost: 0, extendedHighestSequenceNumber: 5 });
    s.update(5, 4 * 960, 100); // duplicate
    expect(s.reportBlock(120)).toMatchObject({ cumulativeLost: -1, fractionLost: 0 });
  });

  it('a sender that restarts its sequence is followed after two sequential packets', () => {
    const s = feed([100, 101, 102]);
    s.update(40_000, 0, 100); // a huge jump: ignored once
    expect(s.reportBlock(110).extendedHighestSequenceNumber).toBe(102);
    s.update(40_001, 960, 120); // the next one in sequence: a new stream
    s.update(40_002, 1920, 140);
    expect(s.reportBlock(150)).toMatchObject({ extendedHighestSequenceNumber: 40_002, cumulativeLost: 0 });
  });

  it('interarrival jitter: 0 for a steady stream, about the arrival wobble in ticks otherwise', () => {
    expect(feed(Array.from({ length: 100 }, (_, i) => i)).reportBlock(3000).jitter).toBe(0);
    // Arrivals alternately 10 ms early and on time: |D| = 10 ms = 480 ticks on every packet.
    const s = new ReceptionStats(7, 48000, 0, 0, 0);
    for (let i = 1; i < 200; i++) s.update(i, i * 960, i * 20 - (i % 2 === 1 ? 10 : 0));
    const j = s.reportBlock(5000).jitter!;
    expect(j).toBeGreaterThan(470);
    expect(j).toBeLessThanOrEqual(480);
  });

  it('LSR is the middle 32 bits of the last SR, DLSR the time since it arrived in 1/65536 s', () => {
    const s = feed([1, 2, 3]);
    expect(s.reportBlock(50).lastSenderReport).toBeUndefined();
    s.senderReport(0x12345678, 0x9abcdef0, 1000);
    const b = s.reportBlock(1500);
    expect(b.lastSenderReport).toBe(0x56789abc);
    expect(b.delaySinceLastSenderReport).toBe(32768);
  });
});
