import { describe, expect, it, vi } from 'vitest';
import { native } from '../../src/native/binding.js';

describe('native addon', () => {
  it('loads through src/native/binding.ts and reports the linked codec versions', () => {
    const v = native().version();
    expect(v.napi).toBe(8);
    expect(v.opus).toMatch(/^libopus \d+\.\d+/);
    expect(v.vpx).toMatch(/^v?\d+\.\d+/);
    expect(typeof v.staticCodecs).toBe('boolean');
  });

  it('explains what is wrong when the addon cannot be loaded', async () => {
    const prev = process.env.SMALL_WEBRTC_ADDON_PATH;
    process.env.SMALL_WEBRTC_ADDON_PATH = '/nonexistent/small_webrtc.node';
    try {
      vi.resetModules(); // a fresh module instance: the cached addon of the first test is not reused
      const mod = await import('../../src/native/binding.js');
      const { SmallWebRTCError } = await import('../../src/errors.js'); // the same fresh module graph
      expect(() => mod.native()).toThrow(/Likely causes and fixes/);
      try {
        mod.native();
      } catch (err) {
        expect(err).toBeInstanceOf(mod.NativeAddonLoadError);
        expect(err).toBeInstanceOf(SmallWebRTCError);
        expect((err as { code?: string }).code).toBe('ERR_NATIVE_ADDON_LOAD');
      }
    } finally {
      if (prev === undefined) delete process.env.SMALL_WEBRTC_ADDON_PATH;
      else process.env.SMALL_WEBRTC_ADDON_PATH = prev;
    }
  });
});
