/**
 * Shared fixture of the signalling-server tests: servers on an ephemeral loopback port with a silent logger,
 * and the clients a test opens, all closed by {@link ServerFixture.closeAll} (call it in afterEach).
 */
import {
  startSmallWebRTCServer,
  type SmallWebRTCServer,
  type SmallWebRTCServerOptions,
} from '../../src/server/index.js';
import type { PipecatLikeClient } from '../../testkit/pipecat-like-client.js';

/** A logger that drops everything. */
export const quiet = { debug() {}, info() {}, warn() {}, error() {} };

export interface ServerFixture {
  /** Every client pushed here is closed by closeAll(). */
  readonly clients: PipecatLikeClient[];
  /** Starts a server on 127.0.0.1, port 0, with `defaults` then `o` applied over the fixture's options. */
  serve(o?: SmallWebRTCServerOptions): Promise<SmallWebRTCServer>;
  /** Closes the clients, then the servers, started since the last call. */
  closeAll(): Promise<void>;
}

export function serverFixture(defaults: SmallWebRTCServerOptions = {}): ServerFixture {
  const servers: SmallWebRTCServer[] = [];
  const clients: PipecatLikeClient[] = [];
  return {
    clients,
    async serve(o: SmallWebRTCServerOptions = {}): Promise<SmallWebRTCServer> {
      const s = await startSmallWebRTCServer({
        port: 0,
        logger: quiet,
        connectionOptions: { bindAddress: '127.0.0.1' },
        ...defaults,
        ...o,
      });
      servers.push(s);
      return s;
    },
    async closeAll(): Promise<void> {
      for (const c of clients.splice(0)) c.close();
      await Promise.all(servers.splice(0).map((s) => s.close()));
    },
  };
}
