/**
 * Child-process wrapper of {@link NodeOfferer} for tests that need a peer to vanish without closing
 * (SIGKILL: no DTLS close_notify, no SCTP ABORT, pings stop). Run with `fork(path, { execArgv: ['--import',
 * 'tsx'] })`. IPC protocol: child -> parent `{ offer }` once ready, `{ connected: true }` once connected and
 * the channel is open; parent -> child `{ answer: { sdp } }`.
 */
import { NodeOfferer } from './node-offerer.js';

const send = (m: unknown): void => {
  process.send?.(m);
};

const off = await NodeOfferer.create({ pingIntervalMs: 500 });
process.on('message', (m: unknown) => {
  const answer = (m as { answer?: { sdp: string } } | null)?.answer;
  if (!answer) return;
  off.setAnswer(answer);
  off.waitConnected().then(
    () => send({ connected: true }),
    (err: unknown) => send({ error: String(err) }),
  );
});
send({ offer: off.offer });
