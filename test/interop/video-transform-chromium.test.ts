// End to end: the demo page (real @pipecat-ai/client-js + small-webrtc-transport) in headless Chromium, its
// fake camera playing a Y4M written here (four flat colour quadrants), against the REAL video-transform bot
// (examples/video-transform.ts) behind our HTTP server. Checks that the camera reaches the pipeline as
// UserImageRawFrames of the file's size with its colours, that the bot's video comes back (getStats
// framesDecoded) with the colours inverted (a canvas read of the page's <video>), and that the page's effect
// menu message switches the effect.
import nodeDataChannel from 'node-datachannel';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { runVideoTransformBot, type VideoTransformProcessor } from '../../examples/video-transform.js';
import { type SmallWebRTCConnection } from '../../src/index.js';
import { startSmallWebRTCServer, type SmallWebRTCServer } from '../../src/server/index.js';
import { chromiumAvailable, openChromiumPage, type ChromiumPage } from '../../testkit/chromium.js';
import { until } from '../../testkit/wait.js';
import {
  QUADRANT_COLOURS,
  invertRgb,
  quadrantsRgb,
  writeY4m,
  type Rgb,
  type Y4mFile,
} from '../../testkit/y4m.js';
import { CameraTap, worst } from '../helpers/camera-tap.js';
import { DEMO_STATIC_DIR, buildDemoBundle, demoEval, gotoDemo } from '../helpers/demo-page.js';

const W = 320;
const H = 240;
/** Largest per-channel error accepted after two VP8 encodes and four colour conversions. */
const TOLERANCE = 24;

/** Draws the page's bot <video> into a canvas and reads the quadrant centres (in the page). */
async function botVideoColours(
  chrome: ChromiumPage,
): Promise<{ width: number; height: number; colours: Rgb[] }> {
  return chrome.page.evaluate(() => {
    const v = document.getElementById('bot-video') as HTMLVideoElement;
    const width = v.videoWidth;
    const height = v.videoHeight;
    const canvas = document.createElement('canvas');
    canvas.width = width;
    canvas.height = height;
    const g = canvas.getContext('2d', { willReadFrequently: true })!;
    g.drawImage(v, 0, 0, width, height);
    const colours: Array<[number, number, number]> = [];
    for (const [fx, fy] of [
      [0.25, 0.25],
      [0.75, 0.25],
      [0.25, 0.75],
      [0.75, 0.75],
    ] as const) {
      const d = g.getImageData(Math.floor(width * fx), Math.floor(height * fy), 1, 1).data;
      colours.push([d[0]!, d[1]!, d[2]!]);
    }
    return { width, height, colours };
  });
}

describe.skipIf(!chromiumAvailable())(
  'video-transform bot <-> demo page with a fake camera (Chromium)',
  () => {
    let y4m: Y4mFile;
    let server: SmallWebRTCServer;
    let chrome: ChromiumPage;
    const tap = new CameraTap();
    const processors: VideoTransformProcessor[] = [];
    const sessions: Array<Promise<void>> = [];
    const failures: string[] = [];

    beforeAll(async () => {
      buildDemoBundle();
      const picture = quadrantsRgb(W, H);
      y4m = writeY4m({ width: W, height: H, fps: 30, frames: 2, draw: () => picture });
      server = await startSmallWebRTCServer({
        port: 0,
        staticDir: DEMO_STATIC_DIR,
        connectionOptions: { bindAddress: '127.0.0.1' },
        onNewConnection: (connection: SmallWebRTCConnection) => {
          sessions.push(
            runVideoTransformBot(connection, {
              width: W,
              height: H,
              taps: [tap],
              onProcessor: (p) => processors.push(p),
            }).catch((err: unknown) => void failures.push(String(err))),
          );
        },
      });
      chrome = await openChromiumPage({ extraArgs: [`--use-file-for-fake-video-capture=${y4m.path}`] });
    }, 60_000);

    afterAll(async () => {
      await chrome?.close();
      await server?.close();
      await Promise.all(sessions);
      y4m?.cleanup();
      nodeDataChannel.cleanup();
    });

    it('camera frames reach the pipeline at the file size; the bot video comes back inverted', async () => {
      await gotoDemo(chrome.page, `${server.url}/?raw=1&cam=1`);
      await demoEval(chrome.page, (d) => d.connect('/api/offer'));
      expect(await demoEval(chrome.page, (d) => ({ botReady: d.botReady, errors: d.errors }))).toEqual({
        botReady: true,
        errors: [],
      });

      // The camera in the pipeline: UserImageRawFrames from 'camera', the file's size, the file's colours.
      await until(() => tap.seen.filter((s) => s.size[0] === W).length >= 5, 20_000, 'camera frames');
      const full = tap.seen.filter((s) => s.size[0] === W);
      expect(full[0]!.size).toEqual([W, H]);
      expect(new Set(tap.seen.map((s) => s.source))).toEqual(new Set(['camera']));
      expect(worst(full[full.length - 1]!.colours, QUADRANT_COLOURS)).toBeLessThanOrEqual(TOLERANCE);

      // The bot's video in the browser: decoded frames, the bot's size, then the inverted colours on screen.
      await until(
        async () => ((await demoEval(chrome.page, (d) => d.videoStats()))?.inbound?.framesDecoded ?? 0) > 30,
        20_000,
        'bot video frames decoded in Chromium',
      );
      const stats = (await demoEval(chrome.page, (d) => d.videoStats()))!;
      expect(stats.inbound).toMatchObject({ frameWidth: W, frameHeight: H, codec: 'video/VP8' });
      expect(stats.outbound?.codec).toBe('video/VP8');
      const inverted = QUADRANT_COLOURS.map(invertRgb);
      let seen = await botVideoColours(chrome);
      await until(
        async () => {
          seen = await botVideoColours(chrome);
          return worst(seen.colours, inverted) <= TOLERANCE;
        },
        10_000,
        () => `inverted quadrants on screen, saw ${JSON.stringify(seen)}`,
      );
      expect(seen).toMatchObject({ width: W, height: H });
      expect(processors[0]!.framesTransformed).toBeGreaterThan(30);
      // The page's audio comes back too (the bot echoes the fake microphone).
      expect(await demoEval(chrome.page, (d) => d.remoteTrack !== null)).toBe(true);
    }, 60_000);

    it("the page's effect message switches the bot to the untouched picture", async () => {
      await demoEval(chrome.page, (d) => d.sendClientMessage('set-effect', { effect: 'none' }));
      await until(() => processors[0]!.effect === 'none', 10_000, 'effect none');
      let seen = await botVideoColours(chrome);
      await until(
        async () => {
          seen = await botVideoColours(chrome);
          return worst(seen.colours, QUADRANT_COLOURS) <= TOLERANCE;
        },
        10_000,
        () => `original quadrants on screen, saw ${JSON.stringify(seen)}`,
      );
      await demoEval(chrome.page, (d) => d.disconnect());
      expect(failures).toEqual([]);
    }, 30_000);
  },
);
