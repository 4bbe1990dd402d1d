/**
 * TransportParams.audioOutDtx: the bot's silence is not sent (Opus DTX), its sound is, and the RTP stream stays
 * well-formed across the gap (consecutive sequence numbers, a timestamp that counted the silent time, the
 * marker bit on the first packet after it), so the client's receiver plays the next sound at once. The same
 * session without DTX sends a packet every 20 ms through the silence. Real node-datachannel peers on loopback.
 */
import { afterAll, describe, expect, it } from 'vitest';

import { TransportParams } from '../../src/index.js';
import { closeClients, queueBotAudio, startSession, tone } from '../helpers/transport-session.js';
import { until } from '../../testkit/wait.js';

afterAll(closeClients);

interface Packet {
  at: number;
  seq: number;
  ts: number;
  marker: boolean;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function silenceThenTone(dtx: boolean): Promise<{ silent: Packet[]; after: Packet[]; loud: number }> {
  const s = await startSession(
    new TransportParams({ audioOutEnabled: true, audioOutSampleRate: 24000, audioOutDtx: dtx }),
  );
  try {
    const packets: Packet[] = [];
    s.off.onRtp('audio', (buf) => {
      const v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
      packets.push({
        at: performance.now(),
        seq: v.getUint16(2),
        ts: v.getUint32(4),
        marker: (v.getUint8(1) & 0x80) !== 0,
      });
    });
    const listener = s.off.listenToAudio();
    // Auto silence only (nothing queued): 0.5 s to settle into DTX, then 1.5 s observed.
    await sleep(500);
    const from = performance.now();
    await sleep(1500);
    const silent = packets.filter((p) => p.at >= from);
    const mark = packets.length;
    await queueBotAudio(s.tap, tone(440, 24000, 600), { sampleRate: 24000, chunk: 480, wait: false });
    await until(() => listener.loud() >= 10, 10_000, 'the tone heard by the client');
    const after = packets.slice(Math.max(0, mark - 1));
    listener.close();
    return { silent, after, loud: listener.loud() };
  } finally {
    await s.stop();
  }
}

describe('SmallWebRTCTransport audioOutDtx', () => {
  it('sends no packets through silence, then the next sound with a marker and a timestamp that kept counting', async () => {
    const dtx = await silenceThenTone(true);
    const plain = await silenceThenTone(false);
    console.log(
      `[dtx] packets in 1.5 s of silence: ${dtx.silent.length} with DTX, ${plain.silent.length} without`,
    );
    expect(plain.silent.length).toBeGreaterThan(60); // one per 20 ms
    expect(dtx.silent.length).toBeLessThanOrEqual(6); // libopus' refresh frame every 400 ms
    // The first packet after the longest gap: next sequence number, marker, timestamp advanced by the gap.
    const a = dtx.after;
    let gapAt = 1;
    for (let i = 1; i < a.length; i++)
      if (a[i]!.at - a[i - 1]!.at > a[gapAt]!.at - a[gapAt - 1]!.at) gapAt = i;
    const prev = a[gapAt - 1]!;
    const next = a[gapAt]!;
    expect(next.at - prev.at).toBeGreaterThan(100); // packets are 20 ms apart; refresh frames 400 ms
    expect((next.seq - prev.seq + 0x10000) % 0x10000).toBe(1);
    expect(next.marker).toBe(true);
    const tsMs = ((next.ts - prev.ts + 0x100000000) % 0x100000000) / 48;
    expect(Math.abs(tsMs - (next.at - prev.at))).toBeLessThan(100);
    expect(dtx.loud).toBeGreaterThanOrEqual(10);
  });
});
