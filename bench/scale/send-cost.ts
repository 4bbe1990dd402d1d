// JS-thread CPU of one RTP send through node-datachannel (`Track.sendMessageBinary`: libdatachannel's media
// handler chain, SRTP protect and the UDP send run synchronously on the calling thread), the largest share of
// the JS thread in the scale profile (docs/performance.md). One connected pair in this process (the peer's
// receiving work runs on libdatachannel's threads, not counted), packets of a 20 ms Opus frame's size, sent
// in bursts of `burst` per event-loop turn, as the media clock sends every session's due packets.
//
// usage: node --import tsx bench/scale/send-cost.ts [packets=20000] [burst=10]
import { performance } from 'node:perf_hooks';

import { SmallWebRTCConnection } from '../../src/index.js';
import { PipecatLikeClient } from '../../testkit/pipecat-like-client.js';
import { until } from '../../testkit/wait.js';

const PACKETS = Number(process.argv[2] ?? 20000);
const BURST = Number(process.argv[3] ?? 10);
const threadCpuUsage = (
  process as unknown as { threadCpuUsage(prev?: NodeJS.CpuUsage): NodeJS.CpuUsage }
).threadCpuUsage.bind(process);

// The offerer (a PipecatLikeClient, node-datachannel) sends; the connection receives.
const off = await PipecatLikeClient.create({ video: false, screen: false });
const conn = new SmallWebRTCConnection({ bindAddress: '127.0.0.1' });
await off.negotiate(conn);
await off.waitConnected();
await conn.connect();
let received = 0;
const audio = conn.audioInputTrack();
audio?.onRtp(() => received++);
const payload = new Uint8Array(80).fill(0x55);
const runs: number[] = [];
for (let round = 0; round < 3; round++) {
  const t0 = threadCpuUsage();
  const w0 = performance.now();
  for (let i = 0; i < PACKETS; i += BURST) {
    for (let k = 0; k < BURST; k++)
      off.sendRtp('audio', { seq: (round * PACKETS + i + k) & 0xffff, timestamp: (i + k) * 960, payload });
    await new Promise((r) => setImmediate(r));
  }
  const c = threadCpuUsage(t0);
  runs.push((c.user + c.system) / PACKETS);
  console.log(
    `round ${round}: ${((c.user + c.system) / PACKETS).toFixed(1)} us JS-thread CPU per send, ${(performance.now() - w0).toFixed(0)} ms wall`,
  );
}
await until(() => received > 0, 5000, 'packets at the peer');
console.log(`peer received ${received} of ${3 * PACKETS}`);
await conn.close();
off.close();
process.exit(0);
