/**
 * `startSmallWebRTCServer`: the signalling listener (http-server.ts) on its own node:http server, alone or as
 * a worker of cluster mode (cluster.ts), with drain on a signal (drain.ts).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import type { Registry } from 'prom-client';

import { getLogger } from '../logger.js';
import {
  clusterRole,
  startClusterPrimary,
  workerContext,
  workerPortRange,
  type SmallWebRTCClusterOptions,
  type SmallWebRTCClusterPrimary,
  type SmallWebRTCWorkers,
} from './cluster.js';
import {
  drainOnSignals,
  type SmallWebRTCDrainOptions,
  type SmallWebRTCDrainResult,
  type SmallWebRTCShutdownOptions,
} from './drain.js';
import type { SmallWebRTCLiveness, SmallWebRTCReadiness } from './health.js';
import { createListener, type SmallWebRTCRequestListenerOptions } from './http-server.js';
import type { SmallWebRTCRequestHandler } from './request-handler.js';

/** Options of {@link startSmallWebRTCServer}. */
export interface SmallWebRTCServerOptions extends SmallWebRTCRequestListenerOptions {
  /** TCP port (default 7860 like the Pipecat runner; 0 = any free port). */
  port?: number;
  /** Listen address (default `127.0.0.1`; use `0.0.0.0` to serve other machines). */
  host?: string;
  /**
   * Drain on a signal (default: on `SIGTERM`, 10 s deadline, then exit 0; `false` to leave signals alone):
   * see {@link SmallWebRTCShutdownOptions} and docs/operations.md, "Drain".
   */
  shutdown?: SmallWebRTCShutdownOptions | false;
}

/** A running signalling server. */
export interface SmallWebRTCServer {
  /** `'server'`, or `'worker'` in a worker of cluster mode (`workers` option). */
  readonly role: 'server' | 'worker';
  /** This process's owner tag with `routing` or in cluster mode, else null. */
  readonly owner: string | null;
  /** Base URL, e.g. `http://127.0.0.1:7860`. */
  readonly url: string;
  /** Bound port. */
  readonly port: number;
  /** The node:http server (add listeners, tweak timeouts). */
  readonly server: Server;
  /** The request handler (connections, pc_id map). */
  readonly handler: SmallWebRTCRequestHandler;
  /** The `/start` body cache (its `size` and accounted `bytes`, for monitoring). */
  readonly sessionCache: { readonly size: number; readonly bytes: number };
  /** Bytes of request bodies held now (see `maxInflightBodyBytes`), for monitoring. */
  readonly inflightBodyBytes: number;
  /** The `/readyz` body: whether a new session would be admitted now, and why not. */
  readiness(): SmallWebRTCReadiness;
  /** The `/healthz` body. */
  liveness(): SmallWebRTCLiveness;
  /** The Prometheus registry of this server's metrics (`null` with `metrics: false`). */
  readonly metricsRegistry: Registry | null;
  /**
   * Drains: new offers and `/start` get 503 + `Retry-After`, `/readyz` fails, every client gets `peerLeft`
   * and its session ends, the pipeline tasks get until `deadlineMs` to finish. The HTTP server keeps
   * answering (probes, 503s) until `close()`. Idempotent.
   */
  drain(options?: SmallWebRTCDrainOptions): Promise<SmallWebRTCDrainResult>;
  /** Disconnects all connections, then stops the HTTP server. Idempotent. */
  close(): Promise<void>;
}

/**
 * Starts the signalling server on node:http. Note: `host` here is the listen address; the ESP32 candidate
 * filter address is the handler option of the same name and is only used with `esp32Mode`.
 */
export function startSmallWebRTCServer(
  options: SmallWebRTCServerOptions & SmallWebRTCClusterOptions & { workers: SmallWebRTCWorkers },
): Promise<SmallWebRTCServer | SmallWebRTCClusterPrimary>;
export function startSmallWebRTCServer(options?: SmallWebRTCServerOptions): Promise<SmallWebRTCServer>;
export async function startSmallWebRTCServer(
  options: SmallWebRTCServerOptions & SmallWebRTCClusterOptions = {},
): Promise<SmallWebRTCServer | SmallWebRTCClusterPrimary> {
  const role = clusterRole(options);
  if (role === 'primary') return startClusterPrimary(options);
  if (role === 'single') return startOne(options, null);
  // A worker of cluster mode: its own owner tag and UDP ports, the other workers as forwarding peers.
  const ctx = workerContext(options.routing?.owner);
  const userPeers = options.routing?.peers;
  const server = await startOne(
    {
      ...options,
      routing: {
        ...options.routing,
        owner: ctx.owner,
        secret: ctx.secret,
        peers: (owner) =>
          ctx.peers[owner] ??
          (typeof userPeers === 'function'
            ? userPeers(owner)
            : userPeers && Object.prototype.hasOwnProperty.call(userPeers, owner)
              ? userPeers[owner]
              : undefined),
      },
      connectionOptions: workerPortRange(options.connectionOptions, ctx.slot, ctx.size),
    },
    ctx,
  );
  return server;
}

async function listen(server: Server, port: number, host: string, exclusive: boolean): Promise<number> {
  await new Promise<void>((resolvePromise, reject) => {
    server.once('error', reject);
    server.listen({ port, host, exclusive }, () => {
      server.off('error', reject);
      resolvePromise();
    });
  });
  return (server.address() as AddressInfo).port;
}

async function startOne(
  options: SmallWebRTCServerOptions,
  worker: ReturnType<typeof workerContext> | null,
): Promise<SmallWebRTCServer> {
  const listenHost = options.host ?? '127.0.0.1';
  const listener = createListener(
    { ...options, host: options.esp32Mode ? options.host : null },
    worker ? () => worker.clusterMetrics() : null,
  );
  const server = createServer(listener);
  // Bound slow clients: a whole request must arrive within 30 s.
  server.requestTimeout = 30_000;
  server.headersTimeout = 15_000;
  const port = await listen(server, options.port ?? 7860, listenHost, false);
  // In cluster mode, a loopback port of this worker alone, where the other workers forward its sessions.
  const internal = worker ? createServer(listener) : null;
  const internalPort = internal ? await listen(internal, 0, '127.0.0.1', true) : 0;
  const urlHost = listenHost.includes(':')
    ? `[${listenHost}]`
    : listenHost === '0.0.0.0'
      ? '127.0.0.1'
      : listenHost;
  let closing: Promise<void> | null = null;
  let stopSignals: (() => void) | null = null;
  const result: SmallWebRTCServer = {
    role: worker ? 'worker' : 'server',
    owner: options.routing?.owner ?? null,
    url: `http://${urlHost}:${port}`,
    port,
    server,
    handler: listener.handler,
    sessionCache: listener.sessionCache,
    get inflightBodyBytes(): number {
      return listener.inflightBodyBytes;
    },
    readiness: () => listener.readiness(),
    liveness: () => listener.liveness(),
    metricsRegistry: listener.metricsRegistry,
    drain: (o) => listener.drain(o),
    close() {
      closing ??= (async () => {
        stopSignals?.();
        await listener.close();
        await Promise.all(
          [server, internal].map(
            (srv) =>
              new Promise<void>((done) => {
                if (!srv) return done();
                srv.close(() => done());
                srv.closeAllConnections();
              }),
          ),
        );
      })();
      return closing;
    },
  };
  worker?.announce(`http://127.0.0.1:${internalPort}`, port, result);
  if (options.shutdown !== false) {
    try {
      stopSignals = drainOnSignals(result, options.shutdown ?? {}, () => options.logger ?? getLogger());
    } catch (err) {
      await result.close();
      throw err;
    }
  }
  return result;
}
