// AudioSender: RTP timestamps from sample counts, pacing on a simulated clock, stall handling, clear(),
// played-out cursor, speaking transitions, capacity bound, RTP parameters and bad input.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { AudioSender, type SpeakingTransition } from '../../src/media/audio-sender.js';
import { OpusDecoder } from '../../src/media/opus.js';
import { parseRtp, type RtpPacket } from '../../src/media/rtp.js';
import { rms, sine, sineFitResidual } from '../../testkit/audio.js';
import { expectCoded } from '../../testkit/errors.js';

function sender(extra: Partial<ConstructorParameters<typeof AudioSender>[0]> = {}): AudioSender {
  return new AudioSender({ sampleRate: 24000, channels: 1, ssrc: 0xdeadbeef, payloadType: 111, ...extra });
}

/** Pulls every `stepMs` from `from` to `to` (exclusive) and returns the parsed packets with pull times. */
function drive(tx: AudioSender, from: number, to: number, stepMs: number): Array<{ t: number; p: RtpPacket }> {
  const out: Array<{ t: number; p: RtpPacket }> = [];
  for (let t = from; t < to; t += stepMs) for (const raw of tx.pull(t)) out.push({ t, p: parseRtp(raw) });
  return out;
}

describe('AudioSender', () => {
  it('stamps RTP from sample counts: +960 per 20 ms packet, +1 sequence, across wraps', () => {
    const tx = sender();
    tx.write(sine(24000, 1, 440, 3, 8000));
    const pk = drive(tx, 0, 3000, 20);
    expect(pk.length).toBe(150);
    for (let i = 1; i < pk.length; i++) {
      const a = pk[i - 1]!.p;
      const b = pk[i]!.p;
      expect((b.timestamp - a.timestamp + 0x100000000) % 0x100000000).toBe(960);
      expect((b.sequenceNumber - a.sequenceNumber + 0x10000) % 0x10000).toBe(1);
      expect(b.ssrc).toBe(0xdeadbeef);
      expect(b.payloadType).toBe(111);
      expect(b.marker).toBe(false);
    }
    expect(pk[0]!.p.marker).toBe(true);
  });

  it('10 ms frames advance by 480', () => {
    const tx = sender({ frameMs: 10 });
    const pk = drive(tx, 0, 200, 10);
    expect(pk.length).toBe(20);
    expect((pk[1]!.p.timestamp - pk[0]!.p.timestamp + 0x100000000) % 0x100000000).toBe(480);
  });

  it('paces one packet per 20 ms whatever the pull cadence (jittery 3-17 ms pulls)', () => {
    const tx = sender();
    tx.write(sine(24000, 1, 440, 2, 8000));
    let t = 0;
    let total = 0;
    const perWindow: number[] = [];
    let seed = 1;
    while (t < 1000) {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      t += 3 + (seed % 15);
      const n = tx.pull(t).length;
      total += n;
      expect(n).toBeLessThanOrEqual(1); // never a burst: the cadence is always faster than 20 ms
      perWindow.push(n);
    }
    // Slots due at 0, 20, ..., floor(t/20)*20.
    expect(total).toBe(Math.floor(t / 20) + 1);
  });

  it('a stall is caught up: overdue slots go out 3 per pull, timestamps contiguous, back on the grid', () => {
    const tx = sender();
    tx.write(sine(24000, 1, 440, 2, 8000));
    expect(tx.pull(0).length).toBe(1);
    expect(tx.pull(45).length).toBe(2); // slots 20 and 40
    const before = parseRtp(tx.pull(60)[0]!);
    // 300 ms stall: slots 80..360 are due at 360 (15 slots): 3 now, then 3 per pull until caught up.
    const counts: number[] = [];
    const packets: RtpPacket[] = [];
    for (const t of [360, 361, 362, 363, 364, 365]) {
      const got = tx.pull(t);
      counts.push(got.length);
      packets.push(...got.map((p) => parseRtp(p)));
    }
    expect(counts).toEqual([3, 3, 3, 3, 3, 0]);
    // Consecutive sequence numbers and timestamps: no pause, no loss, the audio goes out late and in order.
    let prev = before;
    for (const p of packets) {
      expect((p.sequenceNumber - prev.sequenceNumber + 0x10000) % 0x10000).toBe(1);
      expect((p.timestamp - prev.timestamp + 0x100000000) % 0x100000000).toBe(960);
      expect(p.marker).toBe(false);
      prev = p;
    }
    expect(tx.stats().skippedSlots).toBe(0);
    expect(tx.stats().lateSlots).toBe(12 + 9 + 6 + 3);
    expect(tx.playedOutMs).toBeCloseTo(80 + 15 * 20, 0);
    // Pacing continues on the original grid.
    expect(tx.pull(379).length).toBe(0);
    expect(tx.pull(380).length).toBe(1);
  });

  it('a stall of over a second skips the oldest slots (a pause: timestamp jump, marker), then catches up', () => {
    const tx = sender();
    tx.write(sine(24000, 1, 440, 2, 8000));
    const before = parseRtp(tx.pull(0)[0]!);
    // 1.5 s stall: slots 20..1500 (75) are due; 25 are skipped, 50 (one second) are caught up.
    const first = tx.pull(1500).map((p) => parseRtp(p));
    expect(first.length).toBe(3);
    expect(tx.stats().skippedSlots).toBe(25);
    expect((first[0]!.timestamp - before.timestamp + 0x100000000) % 0x100000000).toBe(960 * 26);
    expect(first[0]!.marker).toBe(true); // first packet after a transmission gap
    let n = 3;
    for (let t = 1501; n < 50; t++) n += tx.pull(t).length;
    expect(n).toBe(50);
    expect(tx.pull(1519).length).toBe(0);
    expect(tx.pull(1520).length).toBe(1);
  });

  it('a live source (20 ms written as it arrives) keeps its delay through repeated stalls', () => {
    // An echo bot under load: every 2 s the JS thread stalls for 200 ms, so both the writes and the pulls
    // pause, and the audio that arrived meanwhile is written at once afterwards. What is queued must come
    // back to what it was before the stalls; with stalls skipped instead of caught up (the behaviour before)
    // it grew by 190 ms per stall, to 3.8 s over this run.
    const tx = sender({ sampleRate: 48000, capacityMs: 10_000 });
    const frame = sine(48000, 1, 440, 0.02, 8000);
    let written = 0; // ms of audio written
    const queued: number[] = [];
    for (let t = 0; t < 40_000; t += 10) {
      const stalled = t % 2000 >= 1800;
      if (stalled) continue;
      // Everything that arrived up to now (in 20 ms frames) is written, then the pacer runs.
      while (written <= t) {
        tx.write(frame);
        written += 20;
      }
      tx.pull(t);
      if (t % 2000 === 1790) queued.push(tx.queuedMs);
    }
    expect(queued.length).toBe(20);
    expect(Math.max(...queued)).toBeLessThanOrEqual(queued[0]! + 20);
    expect(tx.stats().skippedSlots).toBe(0);
    expect(tx.stats().lateSlots).toBeGreaterThan(0);
  });

  it('a just-in-time writer (20 ms written before each pull) gets a continuous stream, no holes', () => {
    const tx = sender({ bitrate: 64000 });
    const dec = new OpusDecoder({ sampleRate: 48000 });
    const tone = sine(24000, 1, 440, 1, 8000);
    const parts: Int16Array[] = [];
    for (let k = 0; k < 50; k++) {
      tx.write(tone.subarray(k * 480, (k + 1) * 480));
      for (const p of tx.pull(k * 20)) parts.push(dec.decode(parseRtp(p).payload));
    }
    expect(parts.length).toBe(50);
    expect(tx.stats().audioPackets).toBe(50);
    const x = Float64Array.from(parts.flatMap((p) => Array.from(p)));
    // Least-squares fit of a 440 Hz sine per 20 ms window: a hole or a click leaves a large residual.
    for (let s0 = 960; s0 + 960 <= x.length; s0 += 960) expect(sineFitResidual(x, s0, 960, 440, 48000)).toBeLessThan(400);
  });

  it('clear() drops queued audio within one packet and reports the ms dropped', () => {
    const tx = sender({ sampleRate: 48000 });
    const dec = new OpusDecoder({ sampleRate: 48000 });
    tx.write(sine(48000, 1, 440, 1, 10000));
    const levels: number[] = [];
    for (let t = 0; t < 200; t += 20) for (const p of tx.pull(t)) levels.push(rms(dec.decode(parseRtp(p).payload)));
    expect(tx.queuedMs).toBeCloseTo(800, -1);
    const dropped = tx.clear();
    // Everything but a 10 ms fade-out (kept so the cut does not click) is dropped.
    expect(dropped).toBeGreaterThan(780);
    expect(dropped).toBeLessThanOrEqual(790);
    expect(tx.queuedMs).toBe(10);
    const after: number[] = [];
    let firstAfter: Int16Array = new Int16Array(0);
    for (let t = 200; t < 300; t += 20) {
      for (const p of tx.pull(t)) {
        const pcm = dec.decode(parseRtp(p).payload);
        if (after.length === 0) firstAfter = pcm;
        after.push(rms(pcm));
      }
    }
    expect(levels[5]).toBeGreaterThan(5000);
    // The first packet after clear() only holds the codec's 6.5 ms look-ahead and the 10 ms fade; then silence.
    expect(firstAfter.length).toBe(960);
    expect(rms(firstAfter.subarray(720))).toBeLessThan(levels[5]! * 0.05);
    for (const l of after.slice(1)) expect(l).toBeLessThan(50);
    expect(tx.speaking).toBe(false);
  });

  it('tracks the played-out cursor and on-the-wire speaking transitions', () => {
    const tx = sender();
    const seen: SpeakingTransition[] = [];
    const off = tx.onSpeakingChanged((t) => seen.push(t));
    tx.onSpeakingChanged(() => {
      throw new Error('a throwing listener must not break pull()');
    });
    expect(tx.pull(0).length).toBe(1); // silence: no transition (was not speaking)
    expect(tx.speaking).toBe(false);
    tx.write(sine(24000, 1, 440, 0.1, 8000)); // 100 ms
    for (let t = 20; t <= 200; t += 20) tx.pull(t);
    expect(seen.map((s) => s.speaking)).toEqual([true, false]);
    expect(seen[0]!.atMs).toBe(20);
    expect(seen[1]!.atMs).toBeGreaterThanOrEqual(120);
    expect(seen[1]!.atMs).toBeLessThanOrEqual(140);
    expect(tx.playedOutMs).toBeGreaterThan(98);
    expect(tx.playedOutMs).toBeLessThanOrEqual(100);
    expect(tx.takeTransitions().map((s) => s.speaking)).toEqual([true, false]);
    expect(tx.takeTransitions()).toEqual([]);
    off();
    tx.write(sine(24000, 1, 440, 0.04, 8000));
    tx.pull(220);
    expect(seen.length).toBe(2);
  });

  it('marks the first packet of each talkspurt', () => {
    const tx = sender();
    const pk = () => tx.pull(t).map((p) => parseRtp(p));
    let t = 0;
    const marks: boolean[] = [];
    for (; t < 100; t += 20) marks.push(...pk().map((p) => p.marker)); // silence
    tx.write(sine(24000, 1, 440, 0.06, 8000));
    for (; t < 200; t += 20) marks.push(...pk().map((p) => p.marker));
    expect(marks).toEqual([true, false, false, false, false, true, false, false, false, false]);
  });

  it('autoSilence off: nothing sent while empty, timestamps keep counting slots', () => {
    const tx = sender({ autoSilence: false });
    expect(tx.pull(0)).toEqual([]);
    expect(tx.pull(20)).toEqual([]);
    tx.write(sine(24000, 1, 440, 0.04, 8000));
    const a = parseRtp(tx.pull(40)[0]!);
    const b = parseRtp(tx.pull(60)[0]!);
    expect(tx.pull(80)).toEqual([]);
    expect(a.marker).toBe(true);
    expect((b.timestamp - a.timestamp + 0x100000000) % 0x100000000).toBe(960);
    tx.write(sine(24000, 1, 440, 0.02, 8000));
    const c = parseRtp(tx.pull(100)[0]!);
    expect((c.timestamp - b.timestamp + 0x100000000) % 0x100000000).toBe(960 * 2);
    expect((c.sequenceNumber - b.sequenceNumber + 0x10000) % 0x10000).toBe(1);
    expect(c.marker).toBe(true);
  });

  it('DTX: silence is not sent, audio is', () => {
    const tx = sender({ dtx: true });
    let sent = 0;
    for (let t = 0; t < 1000; t += 20) sent += tx.pull(t).length;
    // libopus still sends a refresh frame every 400 ms while in DTX, and a few frames before entering it.
    expect(sent).toBeLessThanOrEqual(15);
    expect(tx.stats().dtxSlots).toBeGreaterThanOrEqual(35);
    tx.write(sine(24000, 1, 440, 0.2, 8000));
    let audio = 0;
    for (let t = 1000; t < 1200; t += 20) audio += tx.pull(t).length;
    expect(audio).toBe(10);
  });

  it('digital silence past a 200 ms hangover is the CELT silence frame, not an encode; audio after it is intact', () => {
    // At 48 kHz (no resampler, whose filter would carry a faint tail of the tone into the next write).
    const tx = sender({ sampleRate: 48000 });
    const celtSilence = [0xf8, 0xff, 0xfe];
    // 1 s of a tone, 1 s of nothing written (auto-silence), 0.4 s of written zeros (an echoed muted user),
    // then the tone again.
    tx.write(sine(48000, 1, 440, 1, 8000));
    const pk = drive(tx, 0, 2000, 20);
    tx.write(new Int16Array(48000 * 0.4));
    tx.write(sine(48000, 1, 440, 0.6, 8000));
    pk.push(...drive(tx, 2000, 3000, 20));
    expect(pk.length).toBe(150);
    const isSilenceFrame = (p: RtpPacket): boolean =>
      p.payload.length === 3 && [...p.payload].every((b, i) => b === celtSilence[i]);
    const kinds = pk.map(({ p }) => (isSilenceFrame(p) ? 'S' : 'E')).join('');
    // Slots 50..59 (the hangover) are still encoded; from slot 60 until the tone comes back at slot 120 (the
    // written zeros included), the fixed frame.
    expect(kinds).toBe('E'.repeat(60) + 'S'.repeat(60) + 'E'.repeat(30));
    for (let i = 1; i < pk.length; i++) {
      const a = pk[i - 1]!.p;
      const b = pk[i]!.p;
      expect((b.timestamp - a.timestamp + 0x100000000) % 0x100000000).toBe(960);
      expect((b.sequenceNumber - a.sequenceNumber + 0x10000) % 0x10000).toBe(1);
    }
    // One decoder through the whole stream: the silence frames decode to zeros, and the tone after them is a
    // clean 440 Hz sine again (the encoder resumes from the hangover's settled silence).
    const dec = new OpusDecoder({ sampleRate: 48000, channels: 1 });
    const pcm = pk.map(({ p }) => dec.decode(p.payload));
    for (let i = 62; i < 120; i++) expect(rms(pcm[i]!)).toBe(0);
    const tail = new Int16Array(pcm.slice(125, 150).flatMap((f) => [...f]));
    expect(rms(tail)).toBeGreaterThan(3000);
    for (let s0 = 0; s0 + 960 <= tail.length; s0 += 960)
      expect(sineFitResidual(tail, s0, 960, 440, 48000)).toBeLessThan(400);
  });

  it('DTX: past the hangover digital silence sends one CELT silence frame per 400 ms, then audio resumes with a marker', () => {
    const tx = sender({ dtx: true });
    tx.write(sine(24000, 1, 440, 0.4, 8000));
    const pk = drive(tx, 0, 2000, 20); // slots 0..99: 20 of tone, then silence
    const silenceSlots = pk.filter(({ p }) => p.payload.length === 3 && p.payload[0] === 0xf8);
    // Slots 30 (end of the hangover), 50, 70, 90: 400 ms apart; each after slots sent as nothing has a marker.
    expect(silenceSlots.map(({ t }) => t)).toEqual([600, 1000, 1400, 1800]);
    for (const { p } of silenceSlots.slice(1)) expect(p.marker).toBe(true);
    expect(pk.length).toBeLessThanOrEqual(20 + 10 + 4);
    const last = pk[pk.length - 1]!.p;
    tx.write(sine(24000, 1, 440, 0.2, 8000));
    const resumed = drive(tx, 2000, 2200, 20);
    expect(resumed.length).toBe(10);
    const first = resumed[0]!.p;
    expect(first.marker).toBe(true);
    expect(first.payload.length).toBeGreaterThan(3);
    // The timestamp kept counting the unsent slots (1800 ms -> 2000 ms: 10 slots), the sequence did not.
    expect((first.timestamp - last.timestamp + 0x100000000) % 0x100000000).toBe(960 * 10);
    expect((first.sequenceNumber - last.sequenceNumber + 0x10000) % 0x10000).toBe(1);
  });

  it('bounds the ring by capacityMs and accepts writes of any size and rate', () => {
    const tx = sender({ sampleRate: 44100, channels: 2, capacityMs: 500 });
    const pcm = sine(44100, 2, 440, 2, 8000);
    const accepted = tx.write(pcm);
    expect(accepted % 2).toBe(0);
    expect(accepted / 2).toBeGreaterThan(44100 * 0.49);
    expect(accepted / 2).toBeLessThanOrEqual(44100 * 0.5);
    expect(tx.queuedMs).toBeLessThanOrEqual(500);
    expect(tx.queuedMs).toBeGreaterThan(480);
    expect(tx.stats().droppedOnWriteSamples).toBeGreaterThan(0);
    const small = sender({ sampleRate: 8000 });
    for (let i = 0; i < 100; i++) small.write(sine(8000, 1, 440, 0.001, 8000)); // 8-sample writes
    expect(small.queuedMs).toBeGreaterThan(99);
    expect(small.queuedMs).toBeLessThanOrEqual(100);
  });

  it('allocates its ring as audio is queued, not for capacityMs up front, and frees it once drained', () => {
    // The maximum capacity (600 s of 48 kHz stereo) was reserved at construction: 115 MB of address space
    // per sender, whatever was queued. Ten such senders now cost about nothing until audio is written.
    const vmKiB = (): number => Number(/VmSize:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1]);
    const before = vmKiB();
    const big = Array.from({ length: 10 }, () =>
      sender({ sampleRate: 48000, channels: 2, encodeChannels: 2, capacityMs: 600_000 }),
    );
    const grownMiB = (vmKiB() - before) / 1024;
    expect(grownMiB).toBeLessThan(100); // was 1,150 MiB
    for (const tx of big) expect(tx.stats().ringBytes).toBeLessThan(64 * 1024);
    const tx = big[0]!;
    // 10 s queued: the ring holds it (48 kHz stereo s16 = 192 kB/s), within a factor 2 of growth slack.
    expect(tx.write(sine(48000, 2, 440, 10, 8000))).toBe(480_000 * 2);
    expect(tx.stats().ringBytes).toBeGreaterThanOrEqual(10 * 192_000);
    expect(tx.stats().ringBytes).toBeLessThanOrEqual(2 * 10 * 192_000 + 65_536);
    // Drained (and one silent slot after): the storage is given back.
    drive(tx, 0, 10_100, 20);
    expect(tx.queuedMs).toBe(0);
    expect(tx.stats().ringBytes).toBeLessThanOrEqual(192_000);
    for (const s of big) s.close();
  });

  it('adds the sdes:mid header extension and changes RTP parameters on setRtpParams', () => {
    const tx = sender({ midExtension: { id: 3, mid: '0' } });
    const a = parseRtp(tx.pull(0)[0]!);
    expect(a.extensionProfile).toBe(0xbede);
    expect(a.extensions).toHaveLength(1);
    expect(a.extensions[0]!.id).toBe(3);
    expect(Buffer.from(a.extensions[0]!.data).toString()).toBe('0');
    tx.setRtpParams({ ssrc: 77, payloadType: 96, midExtension: null });
    const b = parseRtp(tx.pull(20)[0]!);
    expect(b.ssrc).toBe(77);
    expect(b.payloadType).toBe(96);
    expect(b.extensionProfile).toBeNull();
    expect(b.marker).toBe(true);
    expect((b.timestamp - a.timestamp + 0x100000000) % 0x100000000).toBe(960);
    tx.setRtpParams({ midExtension: { id: 14, mid: 'audio' } });
    expect(Buffer.from(parseRtp(tx.pull(40)[0]!).extensions[0]!.data).toString()).toBe('audio');
    expect(() => tx.setRtpParams({ ssrc: -1 })).toThrow(RangeError);
    expect(() => tx.setRtpParams({ payloadType: 200 })).toThrow(RangeError);
    expect(() => tx.setRtpParams({ midExtension: { id: 15, mid: '0' } })).toThrow(RangeError);
    expect(() => tx.setRtpParams({ midExtension: { id: 1, mid: 'x'.repeat(17) } })).toThrow(RangeError);
    expect(parseRtp(tx.pull(60)[0]!).ssrc).toBe(77); // a rejected call changed nothing
  });

  it('rejects bad options and arguments with TypeError/RangeError naming the field', () => {
    const bad: Array<[unknown, ErrorConstructor, RegExp]> = [
      [null, TypeError, /options/],
      [{ sampleRate: 0, channels: 1, ssrc: 1, payloadType: 111 }, RangeError, /sampleRate/],
      [{ sampleRate: -8000, channels: 1, ssrc: 1, payloadType: 111 }, RangeError, /sampleRate/],
      [{ sampleRate: 16000, channels: 0, ssrc: 1, payloadType: 111 }, RangeError, /channels/],
      [{ sampleRate: 16000, channels: 1, ssrc: 2 ** 32, payloadType: 111 }, RangeError, /ssrc/],
      [{ sampleRate: 16000, channels: 1, ssrc: 1, payloadType: 128 }, RangeError, /payloadType/],
      [{ sampleRate: 16000, channels: 1, ssrc: 1 }, TypeError, /payloadType/],
      [{ sampleRate: 16000, channels: 1, ssrc: 1, payloadType: 111, bitrate: 100 }, RangeError, /bitrate/],
      [{ sampleRate: 16000, channels: 1, ssrc: 1, payloadType: 111, frameMs: 15 }, RangeError, /frameMs/],
      [{ sampleRate: 16000, channels: 1, ssrc: 1, payloadType: 111, capacityMs: 0 }, RangeError, /capacityMs/],
      [{ sampleRate: 16000, channels: 1, ssrc: 1, payloadType: 111, fec: 'yes' }, TypeError, /fec/],
      [{ sampleRate: 16000, channels: 1, ssrc: 1, payloadType: 111, midExtension: { id: 0, mid: '0' } }, RangeError, /id/],
    ];
    for (const [o, type, msg] of bad) {
      expectCoded(() => new AudioSender(o as never), type, 'ERR_INVALID_ARG', { message: msg, label: JSON.stringify(o) });
    }
    const tx = sender({ channels: 2 });
    expect(() => tx.write(new Float32Array(4) as never)).toThrow(TypeError);
    expect(() => tx.write(new Int16Array(3))).toThrow(RangeError); // not a whole number of stereo frames
    expect(() => tx.pull(Number.NaN)).toThrow(RangeError);
    expect(() => tx.pull('0' as never)).toThrow(TypeError);
    expect(() => tx.setPacketLossPercent(101)).toThrow(RangeError);
    expect(() => tx.onSpeakingChanged(5 as never)).toThrow(TypeError);
    tx.close();
    tx.close();
    expect(() => tx.pull(0)).toThrow(expect.objectContaining({ code: 'ERR_CLOSED' }));
    expect(() => tx.queuedMs).toThrow(expect.objectContaining({ code: 'ERR_CLOSED' }));
  });
});
