// OpusEncoder / OpusDecoder / opusPacketInfo: round trip at every libopus rate, packet durations, FEC and
// PLC, channel mapping, bad input.
import { describe, expect, it } from 'vitest';
import { OPUS_SAMPLE_RATES, OpusDecoder, OpusEncoder, opusPacketInfo } from '../../src/media/opus.js';
import { channel, concat, prng, rms, sine, zeroCrossingFrequency } from '../../testkit/audio.js';

describe('Opus codec', () => {
  for (const rate of OPUS_SAMPLE_RATES) {
    it(`round trip at ${rate} Hz, mono and stereo`, () => {
      for (const ch of [1, 2] as const) {
        const enc = new OpusEncoder({ sampleRate: rate, channels: ch, bitrate: 48000 });
        const dec = new OpusDecoder({ sampleRate: rate, channels: ch });
        expect(enc.frameSamples).toBe(rate / 50);
        const pcm = sine(rate, ch, 600, 0.5, 10000);
        const out: Int16Array[] = [];
        for (let i = 0; i < 25; i++) {
          const pk = enc.encode(pcm.subarray(i * enc.frameSamples * ch, (i + 1) * enc.frameSamples * ch));
          expect(opusPacketInfo(pk).samples48k).toBe(960);
          const d = dec.decode(pk);
          expect(d.length).toBe(enc.frameSamples * ch);
          out.push(d);
        }
        const x = channel(concat(out), ch, ch - 1).subarray(rate / 10);
        expect(Math.abs(zeroCrossingFrequency(x, rate) - 600)).toBeLessThan(6);
        expect(rms(x)).toBeGreaterThan(5000);
      }
    });
  }

  it('reads packet durations 10/20/40/60 ms from the TOC', () => {
    for (const ms of [10, 20, 40, 60] as const) {
      const enc = new OpusEncoder({ frameMs: ms });
      const pk = enc.encode(sine(48000, 1, 440, ms / 1000));
      expect(opusPacketInfo(pk).samples48k).toBe(48 * ms);
      expect(new OpusDecoder({ sampleRate: 16000 }).decode(pk).length).toBe(16 * ms);
    }
  });

  it('recovers a lost packet from in-band FEC, conceals without it', () => {
    const enc = new OpusEncoder({ fec: true, packetLossPercent: 20, bitrate: 32000 });
    const pcm = sine(48000, 1, 440, 0.4, 8000);
    const pks = Array.from({ length: 20 }, (_, i) => enc.encode(pcm.subarray(i * 960, (i + 1) * 960)));
    const withFec = pks.findIndex((p, i) => i > 3 && opusPacketInfo(p).hasFec);
    expect(withFec).toBeGreaterThan(3);
    const dec = new OpusDecoder({ sampleRate: 48000 });
    for (let i = 0; i < withFec - 1; i++) dec.decode(pks[i]!);
    const fec = dec.decodeFec(pks[withFec]!, 960);
    expect(fec.length).toBe(960);
    expect(rms(fec)).toBeGreaterThan(2000);
    const plc = new OpusDecoder({ sampleRate: 48000 });
    plc.decode(pks[0]!);
    expect(plc.conceal(960).length).toBe(960);
    expect(() => plc.conceal(100)).toThrow(RangeError); // not a multiple of 2.5 ms
  });

  it('maps channels: mono stream to 2 or 6 outputs, stereo stream to mono', () => {
    const mono = new OpusEncoder({ channels: 1 }).encode(sine(48000, 1, 440, 0.02));
    const six = new OpusDecoder({ sampleRate: 24000, channels: 6 }).decode(mono);
    expect(six.length).toBe(480 * 6);
    for (let i = 0; i < 480; i++) for (let c = 1; c < 6; c++) expect(six[i * 6 + c]).toBe(six[i * 6]);
    const stereo = new OpusEncoder({ channels: 2 }).encode(sine(48000, 2, 440, 0.02));
    expect(new OpusDecoder({ channels: 1 }).decode(stereo).length).toBe(960);
  });

  it('rejects garbage packets and bad arguments with typed errors, never crashes', () => {
    const dec = new OpusDecoder();
    const rnd = prng(3);
    let decoded = 0;
    for (let i = 0; i < 2000; i++) {
      const junk = new Uint8Array(1 + Math.floor(rnd() * 400));
      for (let j = 0; j < junk.length; j++) junk[j] = Math.floor(rnd() * 256);
      try {
        decoded += dec.decode(junk).length;
      } catch (e) {
        expect(e).toBeInstanceOf(RangeError);
        expect((e as { code?: string }).code).toBe('ERR_INVALID_ARG');
      }
    }
    expect(decoded % 1).toBe(0);
    expect(() => dec.decode(new Uint8Array(0))).toThrow(RangeError);
    expect(() => dec.decode('abc' as never)).toThrow(TypeError);
    expect(() => opusPacketInfo(new Uint8Array([0xff, 0xff]))).toThrow(RangeError);
    expect(() => new OpusDecoder({ sampleRate: 44100 as never })).toThrow(/sampleRate/);
    expect(() => new OpusDecoder({ channels: 9 })).toThrow(/channels/);
    expect(() => new OpusEncoder({ bitrate: 1 })).toThrow(/bitrate/);
    expect(() => new OpusEncoder({ complexity: 11 })).toThrow(/complexity/);
    expect(() => new OpusEncoder({ frameMs: 30 as never })).toThrow(/frameMs/);
    const enc = new OpusEncoder();
    expect(() => enc.encode(new Int16Array(100))).toThrow(RangeError);
    expect(() => enc.encode(new Uint8Array(1920) as never)).toThrow(TypeError);
    enc.close();
    enc.close();
    expect(() => enc.encode(new Int16Array(960))).toThrow(expect.objectContaining({ code: 'ERR_CLOSED' }));
  });
});
