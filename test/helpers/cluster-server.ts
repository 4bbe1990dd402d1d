/**
 * A cluster-mode server as a user would run it: one script, `startSmallWebRTCServer({ workers })`, that is the
 * primary and (re-run by node:cluster) every worker. Start with
 * `fork(path, [JSON { workers, restartWorkers }], { execArgv: ['--import', 'tsx'] })`.
 *
 * IPC with the primary only: `{ ready: url, workers }` once every worker serves; `{ workers: true, wait?: n }`
 * -> `{ workers }` (after `n` workers are ready when `wait` is given); `{ exit: true }` -> closes the cluster,
 * `{ bye: true }`.
 *
 * With `lingerMs`, every session counts as a running pipeline task until `lingerMs` after it closed (a bot
 * cleaning up), so a drain lasts that long; `deadlineMs` is the `shutdown` drain deadline.
 */
import { markTaskRunning } from '../../src/process-lifecycle.js';
import { startSmallWebRTCServer } from '../../src/server/index.js';

const opts = JSON.parse(process.argv[2] ?? '{}') as {
  workers?: number;
  restartWorkers?: boolean;
  lingerMs?: number;
  deadlineMs?: number;
};
const quiet = { debug() {}, info() {}, warn() {}, error() {} };

const s = await startSmallWebRTCServer({
  port: 0,
  workers: opts.workers ?? 2,
  restartWorkers: opts.restartWorkers ?? true,
  logger: quiet,
  connectionOptions: { bindAddress: '127.0.0.1' },
  // Every test client comes from 127.0.0.1: the per-address limits would cap them, which is not tested here.
  offerRatePerAddress: null,
  maxConnectionsPerAddress: Infinity,
  // Twelve offers at once on a 2-core machine shared with other jobs push the event-loop p99 past the load
  // limit and would be answered 503 (load admission, tested in server-health); routing is what is tested here.
  load: false,
  ...(opts.deadlineMs !== undefined ? { shutdown: { deadlineMs: opts.deadlineMs } } : {}),
  ...(opts.lingerMs !== undefined
    ? {
        onNewConnection: (connection) => {
          const done = markTaskRunning(connection);
          connection.on('closed', () => setTimeout(done, opts.lingerMs));
        },
      }
    : {}),
});

if (s.role === 'primary') {
  const primary = s;
  process.send?.({ ready: primary.url, workers: primary.workers() });
  process.on('message', (m: { workers?: boolean; wait?: number; exit?: boolean }) => {
    if (m.workers) {
      void (m.wait ? primary.waitForWorkers(m.wait) : Promise.resolve())
        .catch(() => {})
        .then(() => process.send?.({ workers: primary.workers() }));
    } else if (m.exit) {
      void primary.close().then(() => {
        process.send?.({ bye: true });
        process.disconnect();
      });
    }
  });
}
