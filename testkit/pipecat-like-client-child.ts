/**
 * Child-process wrapper of {@link PipecatLikeClient} for tests that need a peer to vanish without closing
 * (SIGKILL: no DTLS close_notify, no SCTP ABORT, pings stop). Run with `fork(path, { execArgv: ['--import',
 * 'tsx'] })`. Two modes:
 * - In-process signalling by IPC (no argument): child -> parent `{ offer }` once ready, `{ connected: true }`
 *   once connected and the channel is open; parent -> child `{ answer: { sdp } }`.
 * - Over HTTP (argument: the server's base URL): the child POSTs its offer to `/api/offer`, sends Opus silence
 *   every 20 ms once connected, and reports `{ connected: true, pcId }` (or `{ error }`) by IPC. It counts the
 *   server's audio RTP: `{ heard: true }` answers `{ heard: { packets, maxGapMs } }` (the largest gap between
 *   two packets since the previous `{ heard: true }`), so a test can watch a session from outside its own
 *   (possibly busy) process.
 */
import { performance } from 'node:perf_hooks';

import { PipecatLikeClient } from './pipecat-like-client.js';

const send = (m: unknown): void => {
  process.send?.(m);
};

const baseUrl = process.argv[2];
const client = await PipecatLikeClient.create({
  pingIntervalMs: 500,
  ...(baseUrl !== undefined ? { baseUrl, video: false, screen: false } : {}),
});
if (baseUrl !== undefined) {
  try {
    const r = await client.connect();
    if (r.status !== 200) throw new Error(`offer answered ${r.status}: ${JSON.stringify(r.json)}`);
    await client.waitConnected();
    let packets = 0;
    let last = performance.now();
    let maxGapMs = 0;
    client.onRtp('audio', () => {
      const now = performance.now();
      packets++;
      maxGapMs = Math.max(maxGapMs, now - last);
      last = now;
    });
    process.on('message', (m: unknown) => {
      if (!(m as { heard?: boolean } | null)?.heard) return;
      send({ heard: { packets, maxGapMs } });
      maxGapMs = 0;
    });
    client.startRtp();
    send({ connected: true, pcId: client.pcId });
  } catch (err) {
    send({ error: String(err) });
  }
} else {
  process.on('message', (m: unknown) => {
    const answer = (m as { answer?: { sdp: string } } | null)?.answer;
    if (!answer) return;
    client.setAnswer(answer);
    client.waitConnected().then(
      () => send({ connected: true }),
      (err: unknown) => send({ error: String(err) }),
    );
  });
  send({ offer: client.offer });
}
