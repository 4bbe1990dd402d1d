/**
 * One server process of a scaled-out deployment: `startSmallWebRTCServer` with `routing: { owner }` (argv[2],
 * JSON `{ owner, maxConnections? }`) and no peers, so a request that reaches it for another owner is answered 421: behind a
 * load balancer, every 200 proves the balancer routed the request to its owner. Start with
 * `fork(path, [JSON], { execArgv: ['--import', 'tsx'] })`; IPC: `{ ready: url }` once listening.
 */
import { startSmallWebRTCServer } from '../../src/server/index.js';

const { owner, maxConnections } = JSON.parse(process.argv[2] ?? '{}') as {
  owner: string;
  maxConnections?: number;
};
const server = await startSmallWebRTCServer({
  port: 0,
  routing: { owner },
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
