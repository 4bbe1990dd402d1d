// Interop: aiortc (Debian python3-aiortc) sends its camera as VP8 (aiortc's own encoder) to the REAL
// video-transform bot (examples/video-transform.ts) behind our HTTP server, over loopback, and decodes the VP8
// the bot sends back (aiortc's own decoder). The camera is a picture of four flat colour quadrants: the
// pipeline must get it at its size and colours, and aiortc must get it back inverted.
import nodeDataChannel from 'node-datachannel';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { runVideoTransformBot } from '../../examples/video-transform.js';
import { startSmallWebRTCServer, type SmallWebRTCServer } from '../../src/server/index.js';
import { AiortcClient, aiortcAvailable } from '../../testkit/aiortc-process.js';
import { until } from '../../testkit/wait.js';
import { QUADRANT_COLOURS, invertRgb, type Rgb } from '../../testkit/y4m.js';
import { CameraTap, worst } from '../helpers/camera-tap.js';

const W = 320;
const H = 240;
/** Largest per-channel error accepted after two VP8 encodes and four colour conversions. */
const TOLERANCE = 24;

describe.skipIf(!aiortcAvailable())('aiortc camera <-> the video-transform bot (VP8 both ways)', () => {
  let server: SmallWebRTCServer;
  const tap = new CameraTap();
  const sessions: Array<Promise<void>> = [];
  const failures: string[] = [];

  beforeAll(async () => {
    server = await startSmallWebRTCServer({
      port: 0,
      connectionOptions: { bindAddress: '127.0.0.1' },
      onNewConnection: (connection) => {
        sessions.push(
          runVideoTransformBot(connection, { width: W, height: H, taps: [tap] }).catch(
            (err: unknown) => void failures.push(String(err)),
          ),
        );
      },
    });
  });

  afterAll(async () => {
    await server?.close();
    await Promise.all(sessions);
    nodeDataChannel.cleanup();
  });

  it("aiortc's VP8 camera reaches the pipeline; the inverted picture reaches aiortc", async () => {
    const client = new AiortcClient(server.url, { duration: 40, camera: [W, H] });
    try {
      await client.waitFor('connected', 20_000);
      await until(() => tap.seen.length >= 5, 20_000, 'camera frames in the pipeline');
      const last = tap.seen[tap.seen.length - 1]!;
      expect(last.size).toEqual([W, H]);
      expect(last.source).toBe('camera');
      expect(worst(last.colours, QUADRANT_COLOURS)).toBeLessThanOrEqual(TOLERANCE);

      const inverted = QUADRANT_COLOURS.map(invertRgb);
      const good = await client.waitFor(
        'video-frame',
        20_000,
        (e) => worst(e.colours as Rgb[], inverted) <= TOLERANCE && (e.count as number) > 10,
      );
      expect(good).toMatchObject({ width: W, height: H });
      client.kill();
      await client.exited;
      expect(failures).toEqual([]);
    } finally {
      client.kill();
    }
  }, 60_000);
});
