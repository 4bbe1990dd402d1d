// Jitter buffer scenarios, driven through AudioReceiver (the jitter buffer is its native core) with a
// simulated clock: packets are pushed at chosen arrival times and poll() runs every 5 ms in between.
import { describe, expect, it } from 'vitest';
import { AudioReceiver, type AudioFrame, type AudioReceiverOptions } from '../../src/media/audio-receiver.js';
import { opusPacketInfo } from '../../src/media/opus.js';
import { opusTone, packetize, prng, type StreamPacket } from '../../testkit/audio.js';

interface Arrival {
  at: number;
  packet: StreamPacket;
}

interface RunResult {
  rx: AudioReceiver;
  frames: AudioFrame[];
  /** Frames emitted by the end of each push, keyed by packet index (last push of that packet). */
  framesAfterPush: Map<number, number>;
  /** stats().lastReleaseDelayMs after each push, keyed by packet index. */
  releaseDelay: Map<number, number>;
}

function run(arrivals: Arrival[], opts: Partial<AudioReceiverOptions> = {}, tailMs = 0): RunResult {
  const rx = new AudioReceiver({ sampleRate: 48000, channels: 1, ...opts });
  const sorted = [...arrivals].sort((a, b) => a.at - b.at);
  const frames: AudioFrame[] = [];
  const framesAfterPush = new Map<number, number>();
  const releaseDelay = new Map<number, number>();
  const end = (sorted[sorted.length - 1]?.at ?? 0) + tailMs;
  let t = 0;
  for (const a of sorted) {
    for (; t < a.at; t += 5) frames.push(...rx.poll(t));
    frames.push(...rx.push(a.packet.rtp, a.at));
    framesAfterPush.set(a.packet.index, frames.length);
    releaseDelay.set(a.packet.index, rx.stats().lastReleaseDelayMs);
  }
  for (; t <= end; t += 5) frames.push(...rx.poll(t));
  return { rx, frames, framesAfterPush, releaseDelay };
}

/** Packet i arrives at i * ms + 1 (a clean link). */
function clean(packets: StreamPacket[], ms = 20): Arrival[] {
  return packets.map((p) => ({ at: p.index * ms + 1, packet: p }));
}

const FRAME = 960; // 20 ms at 48 kHz

describe('jitter buffer (via AudioReceiver)', () => {
  it('releases in-order packets immediately: ~0 ms added, exact output', () => {
    const pk = packetize(opusTone({ packets: 100 }));
    const { rx, frames, releaseDelay, framesAfterPush } = run(clean(pk));
    const s = rx.stats();
    expect(s.received).toBe(100);
    expect(s.lost).toBe(0);
    expect(s.concealedMs).toBe(0);
    expect(frames.length).toBe(100);
    for (const [i, d] of releaseDelay) {
      expect(d).toBe(0);
      expect(framesAfterPush.get(i)).toBe(i + 1); // the packet's frame came out in its own push
    }
    expect(frames.every((f) => f.numFrames === FRAME && f.audio.length === FRAME && !f.concealed)).toBe(true);
    expect(frames.map((f) => f.pts)).toEqual(frames.map((_, i) => i * 20));
  });

  for (const depth of [1, 2, 3, 4, 5]) {
    it(`reorder depth ${depth}: recovered without loss when the delay bound allows it`, () => {
      const pk = packetize(opusTone({ packets: 100 }));
      // Every 10th packet arrives after the `depth` packets that follow it.
      const arrivals = pk.map((p) => ({
        at: (p.index % 10 === 5 ? p.index + depth : p.index) * 20 + 1 + (p.index % 10 === 5 ? 0.5 : 0),
        packet: p,
      }));
      const { rx, frames } = run(arrivals, { minDelayMs: depth * 20 + 10, maxDelayMs: 200 });
      const s = rx.stats();
      expect(s.lost).toBe(0);
      expect(s.lateDropped).toBe(0);
      expect(s.concealedMs).toBe(0);
      expect(frames.length).toBe(100);
      expect(frames.some((f) => f.concealed)).toBe(false);
    });

    it(`reorder depth ${depth}: with default bounds the timeline stays exact and the target adapts`, () => {
      const pk = packetize(opusTone({ packets: 200 }));
      const arrivals = pk.map((p) => ({
        at: (p.index % 10 === 5 ? p.index + depth : p.index) * 20 + 1 + (p.index % 10 === 5 ? 0.5 : 0),
        packet: p,
      }));
      const { rx, frames } = run(arrivals);
      const s = rx.stats();
      // Every packet is either played, or concealed and then counted as late: nothing silently vanishes.
      expect(s.received).toBe(200 - s.lateDropped);
      expect(frames.length).toBe(200);
      // 10 % of packets are `depth` slots late: the first ones may be concealed and dropped, then the delay
      // percentile learns it and later ones are absorbed.
      expect(s.targetDelayMs).toBeGreaterThanOrEqual(depth * 20);
      expect(s.lateDropped).toBeLessThanOrEqual(2);
    });
  }

  it('drops duplicates and counts them', () => {
    const pk = packetize(opusTone({ packets: 50 }));
    const arrivals = [...clean(pk), ...pk.map((p) => ({ at: p.index * 20 + 3, packet: p }))];
    const { rx, frames } = run(arrivals);
    expect(rx.stats().duplicates).toBe(50);
    expect(rx.stats().received).toBe(50);
    expect(frames.length).toBe(50);
  });

  it('single loss: concealed with in-band FEC, then back to zero delay', () => {
    const payloads = opusTone({ packets: 100, fec: true });
    // libopus adds LBRR only where it helps: lose a packet whose successor carries it.
    const lost = payloads.findIndex((p, i) => i >= 10 && opusPacketInfo(p).hasFec) - 1;
    expect(lost).toBeGreaterThanOrEqual(9);
    const pk = packetize(payloads);
    const { rx, frames, releaseDelay } = run(clean(pk).filter((a) => a.packet.index !== lost));
    const s = rx.stats();
    expect(s.lost).toBe(1);
    expect(s.fecRecovered).toBe(1);
    expect(s.concealedMs).toBe(20);
    expect(frames.length).toBe(100);
    expect(frames.filter((f) => f.concealed).length).toBe(1);
    expect(frames[lost]?.concealed).toBe(true);
    // The next packet waited for the deadline at most; every later packet is released on arrival.
    expect(releaseDelay.get(lost + 1)).toBeLessThanOrEqual(s.targetDelayMs);
    for (let i = lost + 2; i < 100; i++) expect(releaseDelay.get(i)).toBe(0);
  });

  it('waits one packet longer while the sender uses FEC, so losses are repaired from LBRR despite jitter', () => {
    const payloads = opusTone({ packets: 40, fec: true });
    const lostSet = new Set([8, 14, 20, 26].filter((i) => opusPacketInfo(payloads[i + 1]!).hasFec));
    expect(lostSet.size).toBeGreaterThanOrEqual(3);
    const rnd = prng(11);
    let last = 0;
    const arrivals: Arrival[] = [];
    for (const p of packetize(payloads)) {
      last = Math.max(last + 0.01, p.index * 20 + 1 + rnd() * 10); // 0-10 ms of jitter
      if (!lostSet.has(p.index)) arrivals.push({ at: last, packet: p });
    }
    const { rx, frames } = run(arrivals);
    const s = rx.stats();
    expect(s.lost).toBe(lostSet.size);
    expect(s.fecRecovered).toBe(lostSet.size);
    expect(s.lateDropped).toBe(0);
    expect(s.targetDelayMs).toBeGreaterThanOrEqual(40); // 20 ms minimum + one 20 ms packet for FEC
    expect(frames.length).toBe(40);
  });

  it('single loss without FEC: PLC', () => {
    const pk = packetize(opusTone({ packets: 60, fec: false }));
    const { rx, frames } = run(clean(pk).filter((a) => a.packet.index !== 30));
    expect(rx.stats().lost).toBe(1);
    expect(rx.stats().fecRecovered).toBe(0);
    expect(rx.stats().concealedMs).toBe(20);
    expect(frames.length).toBe(60);
  });

  it('burst loss of 5: 100 ms concealed, no permanent delay afterwards', () => {
    const payloads = opusTone({ packets: 100 });
    const first = payloads.findIndex((p, i) => i >= 20 && opusPacketInfo(p).hasFec) - 5;
    expect(first).toBeGreaterThanOrEqual(15);
    const pk = packetize(payloads);
    const lostSet = new Set([first, first + 1, first + 2, first + 3, first + 4]);
    const { rx, frames, releaseDelay, framesAfterPush } = run(clean(pk).filter((a) => !lostSet.has(a.packet.index)));
    const s = rx.stats();
    expect(s.lost).toBe(5);
    expect(s.concealedMs).toBe(100);
    expect(s.fecRecovered).toBe(1); // the last of the burst comes back from the next packet's LBRR
    expect(frames.length).toBe(100);
    for (let i = first + 6; i < 100; i++) {
      expect(releaseDelay.get(i)).toBe(0);
      expect(framesAfterPush.get(i)).toBe(i + 1); // output is never behind arrival: no added delay
    }
  });

  it('late packet after its slot was concealed is dropped and counted', () => {
    const pk = packetize(opusTone({ packets: 60 }));
    const arrivals = clean(pk).map((a) => (a.packet.index === 30 ? { ...a, at: 36 * 20 + 2 } : a));
    const { rx, frames } = run(arrivals);
    const s = rx.stats();
    expect(s.lost).toBe(1);
    expect(s.lateDropped).toBe(1);
    expect(frames.length).toBe(60);
  });

  it('sequence number wrap at 65535 is seamless', () => {
    const pk = packetize(opusTone({ packets: 100 }), { seq0: 65500 });
    expect(pk.some((p) => p.seq === 65535)).toBe(true);
    expect(pk.some((p) => p.seq === 0)).toBe(true);
    const { rx, frames } = run(clean(pk).filter((a) => a.packet.seq !== 2)); // a loss right after the wrap
    expect(rx.stats().lost).toBe(1);
    expect(rx.stats().lateDropped).toBe(0);
    expect(frames.length).toBe(100);
  });

  it('timestamp wrap at 2^32 is seamless', () => {
    const pk = packetize(opusTone({ packets: 100 }), { ts0: 0x100000000 - 50 * FRAME + 17 });
    expect(pk[60]!.ts).toBeLessThan(pk[40]!.ts);
    const arrivals = clean(pk).map((a) => (a.packet.index === 50 ? { ...a, at: a.at + 25 } : a)); // reorder at the wrap
    const { rx, frames } = run(arrivals, { minDelayMs: 40 });
    expect(rx.stats().lost).toBe(0);
    expect(rx.stats().concealedMs).toBe(0);
    expect(frames.length).toBe(100);
  });

  it('SSRC change resets the stream without a gap or loss', () => {
    const a = packetize(opusTone({ packets: 50 }), { ssrc: 1, seq0: 100, ts0: 5000 });
    const b = packetize(opusTone({ packets: 50 }), { ssrc: 2, seq0: 40000, ts0: 999999999 }).map((p) => ({
      ...p,
      index: p.index + 50,
    }));
    const { rx, frames } = run(clean([...a, ...b]));
    const s = rx.stats();
    expect(s.resets).toBe(1);
    expect(s.lost).toBe(0);
    expect(s.received).toBe(100);
    expect(frames.length).toBe(100);
    expect(frames[99]?.pts).toBe(99 * 20);
  });

  for (const ms of [10, 20, 40, 60] as const) {
    it(`${ms} ms packets: exact 20 ms frames, and a loss conceals exactly one packet`, () => {
      const n = Math.round(2040 / ms); // ~2 s
      const pk = packetize(opusTone({ packets: n, frameMs: ms }), { samplesPerPacket: 48 * ms });
      const arrivals = clean(pk, ms).filter((a) => a.packet.index !== Math.floor(n / 2));
      const { rx, frames } = run(arrivals, { sampleRate: 16000 });
      const s = rx.stats();
      expect(s.lost).toBe(1);
      expect(s.concealedMs).toBe(ms);
      expect(frames.length).toBe(Math.floor((n * ms) / 20));
      expect(frames.every((f) => f.audio.length === 320)).toBe(true);
    });
  }

  it('DTX gap (timestamp jump, consecutive sequence numbers) is silence, not loss', () => {
    const payloads = opusTone({ packets: 100 });
    // Packets 0..49 then a 500 ms transmission pause: packet 50 carries ts + 25 packets.
    const pk = packetize(payloads).map((p) =>
      p.index < 50 ? p : { ...packetize([payloads[p.index]!], { seq0: 1000 + p.index, ts0: 123456 + (p.index + 25) * FRAME })[0]!, index: p.index },
    );
    const arrivals = pk.map((p) => ({ at: (p.index < 50 ? p.index : p.index + 25) * 20 + 1, packet: p }));
    const { rx, frames, releaseDelay } = run(arrivals);
    const s = rx.stats();
    expect(s.lost).toBe(0);
    expect(s.concealedMs).toBe(0);
    expect(s.silenceMs).toBeGreaterThanOrEqual(480);
    expect(s.silenceMs).toBeLessThanOrEqual(520);
    expect(frames.length).toBe(125); // the pause is rendered in real time by poll(), not dropped
    expect(releaseDelay.get(60)).toBe(0);
  });

  for (const pauseMs of [100, 500]) {
    it(`sender clock paused for ${pauseMs} ms (timestamps not advancing): re-anchors, does not drop the stream`, () => {
      const pk = packetize(opusTone({ packets: 100 }));
      // Packets 50.. arrive pauseMs later than their timestamps say (a mute that froze the RTP clock).
      const arrivals = pk.map((p) => ({ at: p.index * 20 + 1 + (p.index >= 50 ? pauseMs : 0), packet: p }));
      const { rx, frames, framesAfterPush } = run(arrivals);
      const s = rx.stats();
      expect(s.reanchors).toBe(1);
      expect(s.lateDropped).toBeLessThanOrEqual(1);
      expect(s.lost).toBe(0);
      // Real audio resumes within one packet; every later packet comes out in its own push.
      for (let i = 52; i < 100; i++) expect(framesAfterPush.get(i)! - framesAfterPush.get(i - 1)!).toBe(1);
      expect(frames.filter((f) => !f.concealed).length).toBeGreaterThanOrEqual(99);
    });
  }

  it('random jitter up to 30 ms: no permanent delay, exact timeline, loss deadline adapts', () => {
    const pk = packetize(opusTone({ packets: 500 }));
    const rnd = prng(42);
    // Monotonic arrivals (no reordering) with 0-30 ms extra delay per packet, plus 2 % loss.
    let last = 0;
    const arrivals: Arrival[] = [];
    for (const p of pk) {
      if (rnd() < 0.02 && p.index > 0 && p.index < 499) continue;
      last = Math.max(last + 0.01, p.index * 20 + 1 + rnd() * 30);
      arrivals.push({ at: last, packet: p });
    }
    const { rx, frames, releaseDelay } = run(arrivals);
    const s = rx.stats();
    expect(frames.length).toBe(500);
    expect(s.targetDelayMs).toBeGreaterThan(20);
    expect(s.targetDelayMs).toBeLessThanOrEqual(40);
    expect(s.jitterMs).toBeGreaterThan(3);
    expect(s.lateDropped).toBeLessThanOrEqual(10);
    // In order, nothing waits more than the deadline: release delay is bounded by the target, never growing.
    const delays = [...releaseDelay.values()];
    expect(Math.max(...delays)).toBeLessThanOrEqual(40);
    const tail = delays.slice(-100);
    expect(tail.filter((d) => d === 0).length).toBeGreaterThan(90);
  });

  it('keeps no extra delay after a loss even when the consumer only pushes (no poll)', () => {
    const pk = packetize(opusTone({ packets: 100 }));
    const rx = new AudioReceiver({ sampleRate: 16000, channels: 1 });
    let frames = 0;
    for (const p of pk) {
      if (p.index >= 20 && p.index < 23) continue;
      frames += rx.push(p.rtp, p.index * 20 + 1).length;
      if (p.index >= 24) {
        expect(rx.stats().lastReleaseDelayMs).toBe(0);
        expect(frames).toBe(p.index + 1);
      }
    }
    expect(rx.stats().lost).toBe(3);
  });
});
