/**
 * One server process of a scaled-out deployment: `startSmallWebRTCServer` with `routing: { owner }` (argv[2],
 * JSON `{ owner, maxConnections?, peers?, demo? }`) and, by default, no peers, so a request that reaches it for
 * another owner is answered 421: behind a load balancer, every 200 proves the balancer routed the request to its
 * owner. Start with `fork(path, [JSON], { execArgv: ['--import', 'tsx'] })`; IPC: `{ ready: url }` once
 * listening, `{ exit: true }` closes it. Used by test/integration/haproxy.test.ts and bench/front.
 *
 * `demo: '<staticDir>'` serves the demo page from that directory (built by the caller) and runs the echo bot
 * of `npm run demo` (examples/echo-bot.ts) on every session, for real browser clients; the server's
 * structured session log lines (`session_start` / `session_end`, docs/operations.md) are then sent to the
 * parent as `{ log: { event, pcId, ... } }`.
 */
import { runEchoBot } from '../examples/echo-bot.js';
import { startSmallWebRTCServer } from '../src/server/index.js';

const { owner, maxConnections, peers, demo } = JSON.parse(process.argv[2] ?? '{}') as {
  owner: string;
  maxConnections?: number;
  /** owner -> base URL of the processes to forward to (none by default: 421). */
  peers?: Record<string, string>;
  /** The demo page's static directory: serve it and run the echo bot on every session. */
  demo?: string;
};
const quiet = (): void => {};
/** Forwards the structured session lines (the `details` object with an `event`) to the parent. */
const forwardSessionLog = (_message: string, ...details: unknown[]): void => {
  const d = details[0] as { event?: unknown } | undefined;
  if (d && typeof d.event === 'string') process.send?.({ log: d });
};
const server = await startSmallWebRTCServer({
  port: 0,
  routing: { owner, ...(peers ? { peers } : {}) },
  ...(maxConnections !== undefined ? { maxConnections } : {}),
  logger: { debug: quiet, info: demo ? forwardSessionLog : quiet, warn: quiet, error: quiet },
  connectionOptions: { bindAddress: '127.0.0.1' },
  // Behind the balancer every client is 127.0.0.1, and dozens of offers at once on a shared 2-core machine
  // would trip the load limit (503): per-address and load admission have their own tests.
  offerRatePerAddress: null,
  maxConnectionsPerAddress: Infinity,
  load: false,
  ...(demo
    ? {
        staticDir: demo,
        onNewConnection: (connection: Parameters<typeof runEchoBot>[0]) => {
          runEchoBot(connection).catch((err: unknown) => console.error(`echo bot ${owner}:`, err));
        },
      }
    : {}),
});
process.send?.({ ready: server.url });
process.on('message', (m: { exit?: boolean }) => {
  if (m.exit) void server.close().then(() => process.exit(0));
});
