import { describe, expect, it } from 'vitest';

import { TransportParams, type TransportParamsInit } from '../../src/transport/transport-params.js';
import { SileroVADAnalyzer } from '../../src/vad/silero-vad-analyzer.js';

describe('TransportParams', () => {
  it('has Pipecat defaults (and ours for the added fields)', () => {
    const p = new TransportParams();
    expect({ ...p }).toEqual({
      audioInEnabled: false,
      audioInPassthrough: true,
      audioInStreamOnStart: true,
      audioInSampleRate: undefined,
      audioInChannels: 1,
      audioInMinDelayMs: undefined,
      audioInMaxDelayMs: undefined,
      audioInSilence20msChunks: 1,
      audioOutEnabled: false,
      audioOutSampleRate: undefined,
      audioOutChannels: 1,
      audioOutBitrate: 32000,
      audioOut10msChunks: 4,
      audioOutAutoSilence: true,
      audioOutDtx: false,
      audioOutEndSilenceSecs: 2,
      audioOutMaxStallDelayMs: 100,
      videoInEnabled: false,
      videoIn: { fps: 0, maxWidth: 0 },
      videoOutEnabled: false,
      videoOutIsLive: false,
      videoOutWidth: 1024,
      videoOutHeight: 768,
      videoOutFramerate: 30,
      videoOutBitrate: 1_000_000,
      vadAnalyzer: undefined,
    });
    expect(p.resolveAudioInSampleRate(16000)).toBe(16000);
    expect(p.resolveAudioOutSampleRate(24000)).toBe(24000);
  });

  it('keeps given values, including a VAD analyzer, and resolves rates against the pipeline', () => {
    const vad = new SileroVADAnalyzer();
    const p = new TransportParams({
      audioInEnabled: true,
      audioOutEnabled: true,
      audioInSampleRate: 8000,
      audioOutSampleRate: 48000,
      audioInChannels: 2,
      audioOutBitrate: 64000,
      audioOutEndSilenceSecs: 0,
      audioInMinDelayMs: 20,
      audioInMaxDelayMs: 200,
      vadAnalyzer: vad,
    });
    expect(p.audioInEnabled).toBe(true);
    expect(p.audioInChannels).toBe(2);
    expect(p.vadAnalyzer).toBe(vad);
    expect(p.resolveAudioInSampleRate(16000)).toBe(8000);
    expect(p.resolveAudioOutSampleRate(24000)).toBe(48000);
    expect(p.audioOutEndSilenceSecs).toBe(0);
    const q = p.with({ audioOutBitrate: 24000 });
    expect(q.audioOutBitrate).toBe(24000);
    expect(q.vadAnalyzer).toBe(vad);
    expect(q.audioInMaxDelayMs).toBe(200);
    expect(p.audioOutBitrate).toBe(64000);
  });

  it('is frozen', () => {
    const p = new TransportParams({ audioInEnabled: true });
    expect(Object.isFrozen(p)).toBe(true);
    expect(() => {
      (p as unknown as { audioInEnabled: boolean }).audioInEnabled = false;
    }).toThrow(TypeError);
  });

  const ranges: Array<[keyof TransportParamsInit, number]> = [
    ['audioInSampleRate', 4000],
    ['audioInSampleRate', 16000.5],
    ['audioOutSampleRate', 400000],
    ['audioInChannels', 3],
    ['audioOutChannels', 0],
    ['audioOutBitrate', 1000],
    ['audioOutBitrate', 600000],
    ['audioInSilence20msChunks', 0],
    ['audioInSilence20msChunks', 51],
    ['audioInSilence20msChunks', 1.5],
    ['audioOut10msChunks', 0],
    ['audioOut10msChunks', 2.5],
    ['audioOutEndSilenceSecs', -1],
    ['audioOutEndSilenceSecs', Number.NaN],
    ['videoOutWidth', 0],
    ['videoOutHeight', 5000],
    ['videoOutFramerate', 0],
    ['videoOutBitrate', 10],
    ['audioInMinDelayMs', -5],
    ['audioInMaxDelayMs', 5000],
  ];
  it.each(ranges)('rejects %s = %s with a RangeError naming the field', (field, value) => {
    expect(() => new TransportParams({ [field]: value })).toThrow(RangeError);
    expect(() => new TransportParams({ [field]: value })).toThrow(new RegExp(`TransportParams\\.${field}`));
    expect(() => new TransportParams({ [field]: value })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARG' }),
    );
  });

  it('rejects wrong types and unknown fields with a TypeError naming the field', () => {
    const bad =
      (init: unknown): (() => TransportParams) =>
      () =>
        new TransportParams(init as TransportParamsInit);
    expect(bad({ audioInEnabled: 'yes' })).toThrow(/audioInEnabled/);
    expect(bad({ audioInEnabled: 'yes' })).toThrow(TypeError);
    expect(bad({ audioOutSampleRate: '24000' })).toThrow(TypeError);
    expect(bad({ vadAnalyzer: {} })).toThrow(/vadAnalyzer/);
    expect(bad({ audioInEnable: true })).toThrow(/unknown field audioInEnable/);
    expect(bad(null)).toThrow(TypeError);
    expect(bad({ audioInMinDelayMs: 100, audioInMaxDelayMs: 50 })).toThrow(/audioInMaxDelayMs/);
  });

  it('videoIn: fps and maxWidth validated, defaults 0, frozen, kept by with()', () => {
    const p = new TransportParams({ videoIn: { fps: 1.5 } });
    expect(p.videoIn).toEqual({ fps: 1.5, maxWidth: 0 });
    expect(Object.isFrozen(p.videoIn)).toBe(true);
    expect(p.with({ videoOutEnabled: true }).videoIn).toEqual({ fps: 1.5, maxWidth: 0 });
    expect(new TransportParams({ videoIn: { maxWidth: 320 } }).videoIn).toEqual({ fps: 0, maxWidth: 320 });
    const bad = (v: unknown) => () => new TransportParams({ videoIn: v } as TransportParamsInit);
    expect(bad({ fps: -1 })).toThrow(RangeError);
    expect(bad({ fps: 241 })).toThrow(/videoIn\.fps/);
    expect(bad({ maxWidth: 10.5 })).toThrow(/videoIn\.maxWidth must be an integer/);
    expect(bad({ maxWidth: '320' })).toThrow(TypeError);
    expect(bad({ width: 320 })).toThrow(/unknown field width/);
    expect(bad(5)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG' }));
  });
});
