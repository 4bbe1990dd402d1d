// AudioOutputTrack argument checks and format changes without a peer (the end-to-end path, with a peer, is in
// test/integration/transport-tracks.test.ts), plus AudioSender's RTP continuation options.
import { describe, expect, it } from 'vitest';

import { AudioSender } from '../../src/index.js';
import type { RtpSink } from '../../src/connection/index.js';
import { AudioOutputTrack, type AudioStallStats } from '../../src/transport/tracks/audio-output-track.js';
import { mediaClock } from '../../src/transport/tracks/media-clock.js';

/** An Opus sink that accepts and discards every packet (the pacing, not the network, is under test). */
function discardingSink(ssrc: number): RtpSink {
  return {
    ssrc,
    payloadType: 111,
    clockRate: 48000,
    midExtensionId: null,
    mid: '0',
    send: () => true,
    onRtcp: () => () => {},
  };
}

function track(): AudioOutputTrack {
  return new AudioOutputTrack({ sampleRate: 24000, channels: 1, bitrate: 32000, autoSilence: true });
}

describe('AudioOutputTrack.setFormat', () => {
  it('switches the PCM format it takes (no peer bound: nothing queued to wait for)', async () => {
    const t = track();
    try {
      await t.setFormat(24000, 1); // same format: no-op
      expect(t.formatChanges).toBe(0);
      await t.setFormat(44100, 2);
      expect(t.sampleRate).toBe(44100);
      expect(t.channels).toBe(2);
      expect(t.formatChanges).toBe(1);
      expect(t.playedOutMs).toBe(0);
      expect(t.stats().packetsSent).toBe(0);
      // Unbound tracks are not on the media clock.
      expect(mediaClock.has(t)).toBe(false);
      // Writes now take stereo: an odd length is refused.
      await expect(t.write(new Int16Array(3))).rejects.toThrow(RangeError);
    } finally {
      t.close();
    }
  });

  it('refuses bad formats with coded RangeErrors, and any call once closed', async () => {
    const t = track();
    for (const [rate, ch] of [
      [7999, 1],
      [192001, 1],
      [16000.5, 1],
      [16000, 3],
      [16000, 0],
    ] as const) {
      await expect(t.setFormat(rate, ch as 1)).rejects.toMatchObject({ code: 'ERR_INVALID_ARG' });
    }
    await expect(t.setFormat('16000' as never, 1)).rejects.toThrow(TypeError);
    expect(t.sampleRate).toBe(24000);
    t.close();
    await expect(t.setFormat(16000, 1)).rejects.toMatchObject({ code: 'ERR_CLOSED' });
    await expect(t.write(new Int16Array(480))).rejects.toMatchObject({ code: 'ERR_CLOSED' });
  });
});

describe('AudioSender RTP continuation', () => {
  it('starts at the given sequence number and timestamp', () => {
    const s = new AudioSender({
      sampleRate: 48000,
      channels: 1,
      ssrc: 7,
      payloadType: 111,
      initialSequence: 65535,
      initialTimestamp: 0xffffffff,
    });
    try {
      const first = s.pull(0);
      const second = s.pull(20);
      expect(first).toHaveLength(1);
      expect(second).toHaveLength(1);
      const v = (p: Uint8Array): DataView => new DataView(p.buffer, p.byteOffset, p.byteLength);
      expect(v(first[0]!).getUint16(2)).toBe(65535);
      expect(v(first[0]!).getUint32(4)).toBe(0xffffffff);
      expect(v(second[0]!).getUint16(2)).toBe(0);
      expect(v(second[0]!).getUint32(4)).toBe(959);
    } finally {
      s.close();
    }
  });

  it('refuses out-of-range starting points', () => {
    const base = { sampleRate: 48000, channels: 1 as const, ssrc: 7, payloadType: 111 };
    expect(() => new AudioSender({ ...base, initialSequence: 65536 })).toThrow(/initialSequence/);
    expect(() => new AudioSender({ ...base, initialSequence: -1 })).toThrow(RangeError);
    expect(() => new AudioSender({ ...base, initialTimestamp: 2 ** 32 })).toThrow(/initialTimestamp/);
  });
});

describe('AudioOutputTrack after a stalled pacer', () => {
  /**
   * A live stream (an echo: one 20 ms frame written per 20 ms, the writes awaited in order as the output
   * transport does) on a simulated clock, with a 1.5 s stall of the JS thread in the middle: the pacer's
   * tick comes back 1.5 s late (the sender catches the last second up and skips the 0.5 s before it) and the
   * input side catches up at once (75 frames in a burst). Returns the audio waiting (frames not yet written + the send ring) before
   * and 2 s after the stall, and the track's stall counters.
   */
  async function stalledEcho(maxStallDelayMs: number): Promise<{
    beforeMs: number;
    afterMs: number;
    stall: AudioStallStats;
  }> {
    const sink = discardingSink(1234);
    const t = new AudioOutputTrack({
      sampleRate: 16000,
      channels: 1,
      bitrate: 32000,
      autoSilence: true,
      encodeOnWorker: false,
      maxStallDelayMs,
    });
    t.bind(sink);
    mediaClock.delete(t); // ticked by hand below, on the simulated clock
    const queue: Int16Array[] = [];
    let pumping = false;
    const pump = async (): Promise<void> => {
      if (pumping) return;
      pumping = true;
      // A write still waiting when the test closes the track rejects with ERR_CLOSED: the end of the run.
      while (queue.length > 0) await t.write(queue.shift()!).catch(() => undefined);
      pumping = false;
    };
    const push = (): void => {
      queue.push(new Int16Array(320).fill(3000));
      void pump();
    };
    const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
    let now = 1000;
    const live = async (ms: number): Promise<void> => {
      for (let i = 0; i < ms / 10; i++) {
        t.tick(now);
        if (i % 2 === 0) push();
        await settle();
        now += 10;
      }
    };
    const waitingMs = (): number => queue.length * 20 + t.queuedMs;
    try {
      await live(1000);
      const beforeMs = waitingMs();
      now += 1500;
      t.tick(now);
      for (let i = 0; i < 75; i++) push();
      await settle();
      await live(2000);
      return { beforeMs, afterMs: waitingMs(), stall: t.stallStats };
    } finally {
      queue.length = 0;
      t.close();
    }
  }

  it('keeps at most maxStallDelayMs of the delay a stall adds to a live stream, dropping the oldest (counted)', async () => {
    const bounded = await stalledEcho(100);
    // The sender skipped about 500 ms of slots; 100 ms of that delay is kept, the rest of the burst that came
    // for them is dropped (the caught-up second is sent late, in bursts, not kept as delay).
    expect(bounded.stall.skippedMs).toBeGreaterThanOrEqual(460);
    expect(bounded.stall.addedDelayMs).toBe(100);
    expect(bounded.stall.droppedMs).toBeCloseTo(bounded.stall.skippedMs - 100, 0);
    // (The ring's level swings by up to two 20 ms frames between the two samples.)
    expect(bounded.afterMs - bounded.beforeMs).toBeLessThanOrEqual(100 + 60);
    // Without the bound (the previous behaviour) every millisecond of the stall stays in the stream.
    const unbounded = await stalledEcho(3_600_000);
    expect(unbounded.stall.droppedMs).toBe(0);
    expect(unbounded.afterMs - unbounded.beforeMs).toBeGreaterThanOrEqual(420);
  });

  it('forgets the added delay once the track goes idle: the next utterance keeps all of its audio', async () => {
    const t = new AudioOutputTrack({
      sampleRate: 16000,
      channels: 1,
      bitrate: 32000,
      autoSilence: true,
      encodeOnWorker: false,
      maxStallDelayMs: 0,
      capacityMs: 5000,
    });
    const sink = discardingSink(1);
    t.bind(sink);
    mediaClock.delete(t);
    try {
      let now = 0;
      t.tick(now);
      void t.write(new Int16Array(48000)); // 3 s queued
      now += 1300; // a stall while speaking: about 300 ms skipped, all of it over a 0 ms bound
      t.tick(now);
      expect(t.stallStats.skippedMs).toBeGreaterThanOrEqual(260);
      // The stall's debt is taken from what is written next, not from the audio already queued.
      expect(t.queuedMs).toBeGreaterThan(2900);
      // Idle: the queued audio plays out (the late second caught up, then in real time).
      for (let i = 0; i < 320; i++) t.tick((now += 10));
      expect(t.queuedMs).toBe(0);
      t.tick((now += 10));
      expect(t.stallStats.addedDelayMs).toBe(0);
      // Nothing left to drop: a new utterance is queued whole.
      void t.write(new Int16Array(3200));
      expect(t.stallStats.droppedMs).toBe(0);
      expect(t.queuedMs).toBeGreaterThan(150);
    } finally {
      t.close();
    }
  });
});
