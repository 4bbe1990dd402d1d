// The signalling server's options every bench server uses: loopback only, no TURN/STUN, the test pages, and
// every limit that would stop a bench before it measures what it is after lifted.
import { fileURLToPath } from 'node:url';

import type { SmallWebRTCServerOptions } from '../../src/index.js';

/** Options for `startSmallWebRTCServer` on 127.0.0.1 with bench limits and `onNewConnection`. */
export function benchServerOptions(
  onNewConnection: NonNullable<SmallWebRTCServerOptions['onNewConnection']>,
): SmallWebRTCServerOptions {
  return {
    port: 0,
    host: '127.0.0.1',
    staticDir: fileURLToPath(new URL('../../testkit/pages/', import.meta.url)),
    iceServers: [],
    connectionOptions: { bindAddress: '127.0.0.1' },
    maxConnections: 10_000,
    // Every client comes from 127.0.0.1: the per-address limits would stop the run at 10 sessions.
    maxConnectionsPerAddress: Infinity,
    offerRatePerAddress: null,
    // The benches measure past the point where load-aware admission would send new sessions elsewhere.
    load: false,
    logger: { debug() {}, info() {}, warn() {}, error: (m: string) => console.error(m) },
    onNewConnection,
  };
}
