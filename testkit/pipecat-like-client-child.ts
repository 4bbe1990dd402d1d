/**
 * Child-process wrapper of {@link PipecatLikeClient} for tests that need a peer to vanish without closing
 * (SIGKILL: no DTLS close_notify, no SCTP ABORT, pings stop). Run with `fork(path, { execArgv: ['--import',
 * 'tsx'] })`. IPC protocol: child -> parent `{ offer }` once ready, `{ connected: true }` once connected and
 * the channel is open; parent -> child `{ answer: { sdp } }`.
 */
import { PipecatLikeClient } from './pipecat-like-client.js';

const send = (m: unknown): void => {
  process.send?.(m);
};

const client = await PipecatLikeClient.create({ pingIntervalMs: 500 });
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
