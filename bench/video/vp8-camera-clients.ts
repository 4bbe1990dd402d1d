// Audio-impact bench, video side (a child process of bench/video/audio-impact.ts): `--sessions` Pipecat-like
// node-datachannel clients (testkit/pipecat-like-client.ts: microphone, camera, `chat`) against the
// video-transform server at `--url`. Each sends a real 30 fps VP8 camera at `--size` (the product's encoder
// and packetizer) and Opus silence on the microphone, and counts the video frames it gets back (RTP marker
// bits; not decoded, so the client stays cheap). The camera is a loop of 90 frames of the moving test picture
// (testkit/video-image.ts), encoded once per process with a keyframe at the start of each loop, so the
// server decodes, transforms and re-encodes a real stream while the clients spend no encoder time. The
// sessions' frames are spread evenly over the frame period, as independent cameras are.
// IPC: child -> parent `{ connected: n }`, `{ ready }`, `{ result }` after `{ stop }`, `{ error }`; parent ->
// child `{ start }`, `{ stop }`, `{ close }`.
import nodeDataChannel from 'node-datachannel';

import { Vp8Encoder } from '../../src/media/vp8-codec.js';
import { Vp8Packetizer } from '../../src/media/vp8-packetizer.js';
import { PipecatLikeClient } from '../../testkit/pipecat-like-client.js';
import { testImage } from '../../testkit/video-image.js';
import { until } from '../../testkit/wait.js';

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : def;
}
const URL_BASE = arg('url', '');
const SESSIONS = Number(arg('sessions', '10'));
const [WIDTH, HEIGHT] = arg('size', '640x480').split('x').map(Number) as [number, number];
const LOOP = 90;
const FRAME_MS = 1000 / 30;

const send = (m: object): void => {
  process.send?.(m);
};

// The camera loop, encoded once.
const encoder = new Vp8Encoder({ width: WIDTH, height: HEIGHT, bitrate: 1_000_000 });
const loopFrames: Uint8Array[] = [];
for (let i = 0; i < LOOP; i++) {
  const f = encoder.encode(testImage(WIDTH, HEIGHT, i), i === 0);
  if (f === null) throw new Error(`the encoder gave no frame ${i}`);
  loopFrames.push(Uint8Array.from(f.data));
}
encoder.close();

interface Camera {
  client: PipecatLikeClient;
  packetizer: Vp8Packetizer;
  sent: number;
  /** Video frames received (packets with the marker bit) since `start`. */
  received: number;
}
const cameras: Camera[] = [];
let measuring = false;
let t0 = performance.now();

try {
  for (let i = 0; i < SESSIONS; i++) {
    const client = await PipecatLikeClient.create({ baseUrl: URL_BASE, video: true, screen: false });
    const r = await client.connect();
    if (r.status !== 200) throw new Error(`offer failed: ${r.status} ${JSON.stringify(r.json)}`);
    await client.waitConnected(30_000);
    await until(() => client.tracks.video?.isOpen() === true, 10_000, 'camera track open');
    const cam: Camera = {
      client,
      packetizer: new Vp8Packetizer({
        ssrc: client.ssrcs.video,
        payloadType: 96,
        initialSequence: (Math.random() * 0xffff) | 0,
      }),
      sent: 0,
      received: 0,
    };
    client.onRtp('video', (b) => {
      if (measuring && b.length > 1 && (b[1]! & 0x80) !== 0) cam.received++;
    });
    client.startRtp();
    cameras.push(cam);
    send({ connected: i + 1 });
  }
} catch (err) {
  send({ error: err instanceof Error ? err.message : String(err) });
}

// Session k sends frame n at start + (n + k / SESSIONS) frame periods.
const start = performance.now();
function tick(): void {
  const now = performance.now();
  cameras.forEach((cam, k) => {
    while (start + (cam.sent + k / SESSIONS) * FRAME_MS <= now) {
      const frame = loopFrames[cam.sent % LOOP]!;
      try {
        for (const p of cam.packetizer.packetize(frame, (cam.sent * 3000) >>> 0)) {
          cam.client.tracks.video?.sendMessageBinary(Buffer.from(p.buffer, p.byteOffset, p.byteLength));
        }
      } catch {
        // the track closed under us: the session is over
      }
      cam.sent++;
    }
  });
}
const timer = setInterval(tick, 5);
send({ ready: true });

process.on('disconnect', () => process.exit(0));
process.on('message', (m: unknown) => {
  const msg = m as { start?: boolean; stop?: boolean; close?: boolean };
  if (msg.start) {
    for (const c of cameras) c.received = 0;
    t0 = performance.now();
    measuring = true;
  }
  if (msg.stop) {
    measuring = false;
    const s = (performance.now() - t0) / 1000;
    send({ result: { sessions: cameras.length, fpsReceived: cameras.map((c) => c.received / s) } });
  }
  if (msg.close) {
    clearInterval(timer);
    for (const c of cameras) {
      c.packetizer.close();
      c.client.close();
    }
    setTimeout(() => {
      nodeDataChannel.cleanup();
      process.exit(0);
    }, 300);
  }
});
