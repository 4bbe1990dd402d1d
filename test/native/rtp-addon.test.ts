import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { native } from '../../src/native/binding.js';

const cmakeAddon = join(import.meta.dirname, '..', '..', 'build-cmake', 'Release', 'small_webrtc.node');

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
        const e = err as InstanceType<typeof mod.NativeAddonLoadError>;
        expect(e.platform).toBe(`${process.platform}-${process.arch}`);
        const prebuilds = join(import.meta.dirname, '..', '..', 'prebuilds');
        expect(e.prebuiltPlatforms).toEqual(existsSync(prebuilds) ? readdirSync(prebuilds).sort() : []);
        expect(e.systemPackages).toEqual(mod.BUILD_FROM_SOURCE_DEBIAN_PACKAGES);
        // The message names the packages to install and the command that rebuilds.
        expect(e.message).toContain(`apt-get install ${e.systemPackages.join(' ')}`);
        expect(e.message).toContain('npm rebuild small-webrtc');
      }
    } finally {
      if (prev === undefined) delete process.env.SMALL_WEBRTC_ADDON_PATH;
      else process.env.SMALL_WEBRTC_ADDON_PATH = prev;
    }
  });

  // The developer build (cmake-js, `npm run build:cmake`) compiles the same source list into the same addon.
  it.skipIf(!existsSync(cmakeAddon))('the cmake-js build loads through SMALL_WEBRTC_ADDON_PATH too', async () => {
    const prev = process.env.SMALL_WEBRTC_ADDON_PATH;
    process.env.SMALL_WEBRTC_ADDON_PATH = cmakeAddon;
    try {
      vi.resetModules();
      const mod = await import('../../src/native/binding.js');
      const addon = mod.native();
      expect(addon.version().staticCodecs).toBe(false);
      const rtp = addon.buildRtp({ payloadType: 111, sequenceNumber: 9, timestamp: 960, ssrc: 3 });
      const out = new Uint32Array(addon.RTP_FIELD_COUNT);
      addon.parseRtpInto(rtp, out);
      expect(out[2]).toBe(9); // sequence number
      expect(typeof addon.AudioReceiver).toBe('function');
    } finally {
      if (prev === undefined) delete process.env.SMALL_WEBRTC_ADDON_PATH;
      else process.env.SMALL_WEBRTC_ADDON_PATH = prev;
    }
  });
});
