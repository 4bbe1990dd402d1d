/**
 * One server process of a scaled-out deployment: `startSmallWebRTCServer` with `routing: { owner }` (argv[2],
 * JSON `{ owner, maxConnections?, peers? }`) and, by default, no peers, so a request that reaches it for another owner is answered 421: behind a
 * load balancer, every 200 proves the balancer routed the request to its owner. Start with
 * `fork(path, [JSON], { execArgv: ['--import', 'tsx'] })`; IPC: `{ ready: url }` once listening, `{ exit: true }`
 * closes it. Used by test/integration/haproxy.test.ts and bench/front.
 */
import { startSmallWebRTCServer } from '../src/server/index.js';

const { owner, maxConnections, peers } = JSON.parse(process.argv[2] ?? '{}') as {
  owner: string;
  maxConnections?: number;
  /** owner -> base URL of the processes to forward to (none by default: 421). */
  peers?: Record<string, string>;
};
const server = await startSmallWebRTCServer({
  port: 0,
  routing: { owner, ...(peers ? { peers } : {}) },
  ...(maxConnections !== undefined ? { maxConnections } : {}),
  logger: { debug() {}, info() {}, warn() {}, error() {} },
  connectionOptions: { bindAddress: '127.0.0.1' },
  // Behind the balancer every client is 127.0.0.1, and dozens of offers at once on a shared 2-core machine
  // would trip the load limit (503): per-address and load admission have their own tests.
  offerRatePerAddress: null,
  maxConnectionsPerAddress: Infinity,
  load: false,
});
process.send?.({ ready: server.url });
process.on('message', (m: { exit?: boolean }) => {
  if (m.exit) void server.close().then(() => process.exit(0));
});
