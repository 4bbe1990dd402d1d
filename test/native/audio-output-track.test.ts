// AudioOutputTrack argument checks and format changes without a peer (the end-to-end path, with a peer, is in
// test/integration/transport-tracks.test.ts), plus AudioSender's RTP continuation options.
import { describe, expect, it } from 'vitest';

import { AudioSender } from '../../src/index.js';
import { AudioOutputTrack } from '../../src/transport/tracks/audio-output-track.js';
import { mediaClock } from '../../src/transport/tracks/media-clock.js';

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
