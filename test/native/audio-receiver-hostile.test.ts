// AudioReceiver under hostile or unusual input: a caller clock with negative values, and a long random mix
// of valid Opus RTP, garbage, truncated and oversized packets, far-future / far-past sequence numbers and
// timestamps, SSRC churn, duplicates and arbitrary (even backwards) arrival times. The receiver must never
// crash, must keep its buffer bounded, must only ever yield whole frames, and must throw typed errors only
// for bad arguments (never for bad network data).
import { describe, expect, it } from 'vitest';
import { AudioReceiver, type AudioFrame } from '../../src/media/audio-receiver.js';
import { buildRtp } from '../../src/media/rtp.js';
import { opusTone, packetize, prng } from '../../testkit/audio.js';

/** Feeds a jittered, lossy stream arriving at `t0 + i * 20 + jitter` (whole ms) and returns every frame. */
function run(t0: number): { frames: AudioFrame[]; rx: AudioReceiver } {
  const rx = new AudioReceiver({ sampleRate: 16000, channels: 1 });
  const pk = packetize(opusTone({ packets: 150 }));
  const rnd = prng(11);
  const order = pk.filter((p) => p.index % 17 !== 5); // some losses
  const arrivals = order.map((p) => ({ p, at: t0 + p.index * 20 + Math.floor(rnd() * 60) }));
  arrivals.sort((a, b) => a.at - b.at);
  const frames: AudioFrame[] = [];
  let now = t0;
  for (const { p, at } of arrivals) {
    for (; now < at; now += 10) frames.push(...rx.poll(now));
    frames.push(...rx.push(p.rtp, at));
  }
  for (let end = now + 500; now < end; now += 10) frames.push(...rx.poll(now));
  return { frames, rx };
}

describe('AudioReceiver: caller clock and hostile input', () => {
  it('behaves the same on a caller clock with negative times (the delay statistics index by time)', () => {
    // Shifting the clock by a multiple of the 500 ms anchor bucket must change nothing. Before the fix a
    // negative time indexed the anchor ring with a negative modulo: an out-of-bounds write that corrupted
    // the buffer's state (silenceMs became Infinity, the output timeline diverged).
    const a = run(1_000_000);
    const b = run(-1_000_000);
    const sa = a.rx.stats();
    const sb = b.rx.stats();
    expect(Number.isFinite(sb.silenceMs) && Number.isFinite(sb.concealedMs)).toBe(true);
    expect(sb).toEqual(sa);
    expect(b.frames.length).toBe(a.frames.length);
    for (let i = 0; i < a.frames.length; i++) {
      expect(b.frames[i]!.concealed).toBe(a.frames[i]!.concealed);
      expect(b.frames[i]!.audio).toEqual(a.frames[i]!.audio);
    }
    a.rx.close();
    b.rx.close();
  });

  it('timestamps racing ahead of the arrival clock cannot make it synthesize audio faster than real time', () => {
    // 200 packets arriving within ~1 ms whose timestamps each jump ~980 ms (DTX-like fill when consecutive,
    // loss concealment when every other sequence number is missing). Before the fix each packet produced
    // ~1 s of comfort noise / PLC at once: 195 s of audio (and ~0.4 s of CPU) for 1 ms of input, 10x that
    // with maxConcealMs 10000. Now synthesized output is bounded by real time plus one burst of
    // maxConcealMs + maxDelayMs; the packets' own 20 ms each still come out.
    const payload = opusTone({ packets: 1 })[0]!;
    for (const every of [1, 2]) {
      const rx = new AudioReceiver({ sampleRate: 16000, channels: 1 });
      const pk = (seq: number, ts: number): Uint8Array =>
        buildRtp({ payloadType: 111, sequenceNumber: seq, timestamp: ts >>> 0, ssrc: 5, payload });
      let frames = rx.push(pk(0, 0), 0).length;
      let now = 0;
      for (let s = every; s < 200 * every; s += every) {
        now = 1 + s * 0.005;
        frames += rx.push(pk(s, s * 47040), now).length;
        frames += rx.poll(now).length;
      }
      const seconds = frames * 0.02;
      expect(seconds).toBeGreaterThanOrEqual(every === 1 ? 3.9 : 1.9); // the packets themselves
      expect(seconds).toBeLessThan(200 * 0.02 + 1.2 + 0.1); // + at most one burst (1000 + 200 ms)
      rx.close();
    }
  });

  it('with the synthesis budget spent, nextDeadlineMs() is when it allows the next step, not a past time', () => {
    const payload = opusTone({ packets: 1 })[0]!;
    const rx = new AudioReceiver({ sampleRate: 16000, channels: 1 });
    const pk = (seq: number, ts: number): Uint8Array =>
      buildRtp({ payloadType: 111, sequenceNumber: seq, timestamp: ts >>> 0, ssrc: 5, payload });
    for (let i = 0; i < 10; i++) {
      if (i !== 3) rx.push(pk(i, i * 960), i * 20); // seq 3 lost (concealed)
      rx.poll(i * 20 + 10);
    }
    rx.push(pk(10, 10 * 960 + 47040), 200); // DTX-like 980 ms fill spends most of the budget
    rx.push(pk(3, 48000 * 100), 201); // the lost one, late, with a far-future timestamp: deadlines move back
    rx.poll(202); // conceals what the budget allows, then stops
    // Before: the (past) loss deadline, so a poll timer would spin until the budget refilled.
    expect(rx.nextDeadlineMs()).toBeGreaterThan(202);
    expect(rx.poll(rx.nextDeadlineMs()).length).toBeGreaterThan(0); // and then it does continue
    rx.close();
  });

  it('random, truncated, huge and out-of-order packets: no crash, bounded buffer, whole frames only', () => {
    const rnd = prng(2024);
    const int = (n: number): number => Math.floor(rnd() * n);
    const payloads = opusTone({ packets: 40, fec: true });
    for (const opts of [
      { sampleRate: 16000, channels: 1 as const },
      { sampleRate: 44100, channels: 2 as const, frameMs: 10 as const, maxConcealMs: 5000 },
    ]) {
      const rx = new AudioReceiver(opts);
      const frameLen = ((opts.sampleRate * (opts.frameMs ?? 20)) / 1000) * opts.channels;
      let seq = 1000;
      let ts = 5000;
      let ssrc = 1;
      let now = 0;
      let maxBuffered = 0;
      for (let i = 0; i < 3000; i++) {
        const kind = int(12);
        let packet: Uint8Array;
        if (kind === 0) {
          packet = new Uint8Array(int(40)).map(() => int(256)); // garbage, often shorter than a header
        } else if (kind === 1) {
          packet = new Uint8Array(2000 + int(70000)); // huge
          packet[0] = 0x80;
        } else {
          // A valid header around a valid, truncated or corrupted Opus payload, with hostile numbering.
          const r = int(20);
          if (r === 0) seq = int(0x10000); // jump anywhere
          else if (r === 1) seq = (seq + 60 + int(3000)) & 0xffff; // far future, inside the restart bound
          else if (r === 2) seq = (seq - int(200)) & 0xffff; // late / duplicate
          else seq = (seq + 1) & 0xffff;
          const t = int(10);
          if (t === 0) ts = int(0x100000000);
          else if (t === 1) ts = (ts - 960 * int(100)) >>> 0; // timestamp going back
          else if (t === 2) ts = (ts + 48 * 60000 + int(0x7fffffff)) >>> 0; // huge forward gap
          else ts = (ts + 960) >>> 0;
          if (int(200) === 0) ssrc = int(0x100000000);
          let payload = payloads[int(payloads.length)]!;
          if (kind === 2) payload = payload.subarray(0, int(payload.length)); // truncated (maybe empty)
          if (kind === 3) payload = payload.map((b) => (int(4) === 0 ? int(256) : b)); // bit rot
          if (kind === 4) payload = new Uint8Array([int(256), int(256), int(256)]); // odd TOC / code 3
          packet = buildRtp({ payloadType: 111, sequenceNumber: seq, timestamp: ts, ssrc, payload });
          if (kind === 5) packet = packet.subarray(0, int(packet.length)); // truncated RTP
        }
        // Arrival times: mostly advancing, sometimes jumping back or far ahead.
        const a = int(30);
        if (a === 0) now -= int(5000);
        else if (a === 1) now += int(100000);
        else now += int(25);
        const frames = [...rx.push(packet, now), ...rx.poll(now + int(30))];
        for (const f of frames) {
          expect(f.audio.length).toBe(frameLen);
          expect(Number.isFinite(f.pts)).toBe(true);
        }
        const s = rx.stats();
        maxBuffered = Math.max(maxBuffered, s.bufferedPackets);
        expect(s.bufferedPackets).toBeLessThanOrEqual(64);
        expect(Number.isFinite(s.concealedMs) && Number.isFinite(s.silenceMs)).toBe(true);
        expect(Number.isFinite(rx.nextDeadlineMs()) || rx.nextDeadlineMs() === Infinity).toBe(true);
      }
      const s = rx.stats();
      expect(s.invalid).toBeGreaterThan(100);
      expect(s.received).toBeGreaterThan(100);
      expect(s.resets).toBeGreaterThan(0);
      expect(maxBuffered).toBeGreaterThan(1); // the hostile numbering did make it hold packets
      // Bad arguments (not bad data) are the only throws, and typed.
      expect(() => rx.push(new Uint8Array(20), -2e15)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG' }));
      rx.close();
    }
  }, 60_000);
});
