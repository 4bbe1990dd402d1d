/**
 * Cluster mode of `startSmallWebRTCServer({ workers })` (docs/scaling.md, "Every core: cluster mode"): the
 * primary forks one worker per core on `node:cluster`; the workers share the one public port (the primary
 * accepts and hands connections out round-robin), each owns its sessions and UDP ports, and a request that
 * lands on the wrong worker is forwarded to its owner over a loopback port only the workers know.
 */
import cluster, { type Worker } from 'node:cluster';
import { randomBytes } from 'node:crypto';
import { availableParallelism } from 'node:os';

import { shutdownSmallWebRTC, type SmallWebRTCConnectionOptions } from '../connection/index.js';
import { SmallWebRTCError, SmallWebRTCRangeError } from '../errors.js';
import { getLogger, type Logger } from '../logger.js';
import { reraiseIfUnhandled, subscribeSignal, unsubscribeSignal } from '../process-lifecycle.js';
import { checkDeadline, type SmallWebRTCShutdownOptions } from './drain.js';
import { HttpError } from './http-error.js';
import { clusterMetrics } from './metrics.js';

/** How many workers: a number, or `'auto'` for one per core (`os.availableParallelism()`). */
export type SmallWebRTCWorkers = number | 'auto';

/** One worker as the primary sees it. */
export interface SmallWebRTCWorkerInfo {
  /** Its owner tag (`w<cluster worker id>`, never reused: a replacement gets a new one). */
  readonly owner: string;
  /** Its slot (0..workers-1): a replacement takes the slot, and with it the slice of the UDP port range. */
  readonly slot: number;
  readonly pid: number;
  /** Loopback URL the other workers forward its requests to. */
  readonly url: string;
}

/** What `startSmallWebRTCServer({ workers })` resolves to in the primary process. */
export interface SmallWebRTCClusterPrimary {
  readonly role: 'primary';
  /** Public base URL (the port every worker serves). */
  readonly url: string;
  readonly port: number;
  /** The workers serving now (ready ones only). */
  workers(): SmallWebRTCWorkerInfo[];
  /** Resolves when `n` workers are ready (e.g. after a replacement), or rejects after `timeoutMs`. */
  waitForWorkers(n: number, timeoutMs?: number): Promise<void>;
  /**
   * Asks every worker to close its server (disconnecting its peers) and exit; kills stragglers after 10 s.
   * Also removes the signal handling (`shutdown` option: by default SIGTERM drains every worker, then exits 0).
   */
  close(): Promise<void>;
}

/** Options of cluster mode (part of `SmallWebRTCServerOptions`). */
export interface SmallWebRTCClusterOptions {
  /**
   * Serve with several processes on `node:cluster` (docs/scaling.md): `'auto'` = one per core, or a number.
   * The script that calls `startSmallWebRTCServer` runs in every worker too (that is how `node:cluster`
   * works): in the primary the call forks the workers and resolves to a {@link SmallWebRTCClusterPrimary};
   * in each worker it serves and resolves to its `SmallWebRTCServer` (`role: 'worker'`), so callbacks such as
   * `onNewConnection` run in the worker that owns the session.
   */
  workers?: SmallWebRTCWorkers;
  /** Fork a replacement when a worker dies (default true). Its sessions are lost either way. */
  restartWorkers?: boolean;
}

/** How long past the drain deadline the primary waits for a worker to exit before it SIGKILLs it, ms. */
const DRAIN_MARGIN_MS = 5_000;

const ENV_SLOT = 'SMALL_WEBRTC_CLUSTER_SLOT';
const ENV_SIZE = 'SMALL_WEBRTC_CLUSTER_SIZE';
const ENV_SECRET = 'SMALL_WEBRTC_ROUTE_SECRET';

interface ReadyMessage {
  type: 'smallwebrtc:ready';
  owner: string;
  url: string;
  port: number;
}

/** Which part this process plays for `startSmallWebRTCServer(options)`. */
export function clusterRole(options: SmallWebRTCClusterOptions): 'single' | 'primary' | 'worker' {
  if (options.workers === undefined) return 'single';
  if (cluster.isWorker) return process.env[ENV_SLOT] !== undefined ? 'worker' : 'single';
  return 'primary';
}

function workerCount(workers: SmallWebRTCWorkers): number {
  const n = workers === 'auto' ? availableParallelism() : workers;
  if (!Number.isInteger(n) || n < 1 || n > 256)
    throw new SmallWebRTCRangeError('ERR_INVALID_ARG', "workers must be 'auto' or an integer 1-256");
  return n;
}

/**
 * The worker's share of the UDP ports: with a port range, slot `slot` of `size` gets its own slice (with
 * `enableIceUdpMux`, its own single port `portRangeBegin + slot`), so two workers never contend for one.
 */
export function workerPortRange(
  o: Omit<SmallWebRTCConnectionOptions, 'iceServers'> | undefined,
  slot: number,
  size: number,
): Omit<SmallWebRTCConnectionOptions, 'iceServers'> | undefined {
  if (o?.portRangeBegin === undefined) return o;
  const begin = o.portRangeBegin;
  const end = o.portRangeEnd ?? 65535;
  if (o.enableIceUdpMux) {
    if (begin + size - 1 > end)
      throw new SmallWebRTCRangeError(
        'ERR_INVALID_ARG',
        `enableIceUdpMux with ${size} workers needs ${size} ports`,
      );
    return { ...o, portRangeBegin: begin + slot, portRangeEnd: begin + slot };
  }
  const share = Math.floor((end - begin + 1) / size);
  if (share < 1)
    throw new SmallWebRTCRangeError('ERR_INVALID_ARG', `the UDP port range is too small for ${size} workers`);
  return { ...o, portRangeBegin: begin + slot * share, portRangeEnd: begin + (slot + 1) * share - 1 };
}

/** A worker's identity and its live view of the other workers (updated by the primary). */
export interface WorkerContext {
  owner: string;
  slot: number;
  size: number;
  secret: string;
  /** owner -> loopback URL of every other live worker (mutated in place as workers come and go). */
  peers: Record<string, string>;
  /**
   * Tells the primary this worker serves; runs `server.close()` (then exits) when the primary asks, or
   * `server.drain()` then `close()` (then exits 0) when the primary drains on a signal.
   */
  announce(
    url: string,
    port: number,
    server: { drain(o: { deadlineMs: number }): Promise<unknown>; close(): Promise<void> },
  ): void;
  /** Every worker's metrics, aggregated by the primary (HttpError 503 when it does not answer in 6 s). */
  clusterMetrics(): Promise<{ contentType: string; body: string }>;
}

interface MetricsReply {
  type: 'smallwebrtc:metrics';
  id: number;
  contentType?: string;
  body?: string;
  error?: string;
}

/** In a worker of our cluster: its owner tag, slot and the peer map the primary keeps current. */
export function workerContext(prefix: string | undefined): WorkerContext {
  const slot = Number(process.env[ENV_SLOT]);
  const size = Number(process.env[ENV_SIZE]);
  const owner = `${prefix !== undefined ? `${prefix}_` : ''}w${cluster.worker!.id}`;
  const peers: Record<string, string> = {};
  const pending = new Map<number, (m: MetricsReply) => void>();
  let nextId = 0;
  process.on('message', (m: MetricsReply | null) => {
    if (m?.type === 'smallwebrtc:metrics') pending.get(m.id)?.(m);
  });
  return {
    clusterMetrics() {
      const id = nextId++;
      return new Promise((resolvePromise, reject) => {
        const timer = setTimeout(() => answer({ type: 'smallwebrtc:metrics', id, error: 'timeout' }), 6000);
        const answer = (m: MetricsReply): void => {
          clearTimeout(timer);
          pending.delete(id);
          if (m.body !== undefined && m.contentType !== undefined)
            resolvePromise({ contentType: m.contentType, body: m.body });
          else
            reject(
              new HttpError(503, `cluster metrics unavailable (${m.error ?? 'no answer'})`, {
                'Retry-After': '1',
              }),
            );
        };
        pending.set(id, answer);
        process.send?.({ type: 'smallwebrtc:metrics', id });
      });
    },
    owner,
    slot,
    size,
    secret: process.env[ENV_SECRET] ?? '',
    peers,
    announce(url, port, server) {
      process.on(
        'message',
        (m: { type?: string; peers?: Record<string, string>; deadlineMs?: number } | null) => {
          if (m?.type === 'smallwebrtc:peers' && m.peers) {
            for (const k of Object.keys(peers)) delete peers[k];
            for (const [k, v] of Object.entries(m.peers)) if (k !== owner) peers[k] = v;
          } else if (m?.type === 'smallwebrtc:close') {
            server.close().finally(() => process.exit(0));
          } else if (m?.type === 'smallwebrtc:drain') {
            // drain() and close() are idempotent: a worker that got the signal too drains once.
            server
              .drain({ deadlineMs: m.deadlineMs ?? 10_000 })
              .then(() => server.close())
              .then(() => shutdownSmallWebRTC())
              .catch(() => {})
              .finally(() => process.exit(0));
          }
        },
      );
      process.send?.({ type: 'smallwebrtc:ready', owner, url, port } satisfies ReadyMessage);
    },
  };
}

/** The primary: forks the workers, keeps every worker's peer map current, replaces dead workers. */
export async function startClusterPrimary(
  options: SmallWebRTCClusterOptions & {
    host?: string;
    logger?: Logger;
    shutdown?: SmallWebRTCShutdownOptions | false;
  },
): Promise<SmallWebRTCClusterPrimary> {
  const log = (): Logger => options.logger ?? getLogger();
  const size = workerCount(options.workers ?? 'auto');
  const shutdown = options.shutdown === false ? null : (options.shutdown ?? {});
  const deadlineMs = shutdown ? checkDeadline(shutdown.deadlineMs) : 0;
  const secret = randomBytes(16).toString('hex');
  const restart = options.restartWorkers ?? true;
  /** Ready workers by owner. */
  const ready = new Map<string, SmallWebRTCWorkerInfo & { worker: Worker }>();
  const waiters = new Set<() => void>();
  let port = 0;
  let closing = false;
  let startupError: Error | null = null;

  const broadcast = (): void => {
    const peers = Object.fromEntries([...ready.values()].map((w) => [w.owner, w.url]));
    for (const w of ready.values())
      if (w.worker.isConnected()) w.worker.send({ type: 'smallwebrtc:peers', peers });
    for (const wake of [...waiters]) wake();
  };

  const fork = (slot: number): void => {
    const worker = cluster.fork({ [ENV_SLOT]: String(slot), [ENV_SIZE]: String(size), [ENV_SECRET]: secret });
    let owner: string | null = null;
    worker.on('message', (m: ReadyMessage | MetricsReply | null) => {
      if (m?.type === 'smallwebrtc:metrics') {
        const reply = (r: Omit<MetricsReply, 'type' | 'id'>): void => {
          if (worker.isConnected()) worker.send({ type: 'smallwebrtc:metrics', id: m.id, ...r });
        };
        clusterMetrics().then(reply, (err: unknown) =>
          reply({ error: err instanceof Error ? err.message : String(err) }),
        );
        return;
      }
      if (m?.type !== 'smallwebrtc:ready') return;
      owner = m.owner;
      port = m.port;
      ready.set(owner, { owner, slot, pid: worker.process.pid ?? 0, url: m.url, worker });
      log().info(`cluster: worker ${owner} (pid ${worker.process.pid}) serves slot ${slot}`);
      broadcast();
    });
    worker.on('exit', (code, signal) => {
      if (owner !== null) ready.delete(owner);
      if (closing) return;
      log().warn(
        `cluster: worker ${owner ?? `slot ${slot}`} exited (${signal ?? code}); its sessions are lost` +
          (restart && owner !== null ? ', forking a replacement' : ''),
      );
      if (owner === null) {
        // It died before serving (a bad option, a port in use): do not loop forking.
        startupError ??= new SmallWebRTCError(
          'ERR_INVALID_STATE',
          `cluster worker for slot ${slot} exited before serving (${signal ?? code})`,
        );
      } else if (restart) fork(slot);
      broadcast();
    });
  };

  const waitForWorkers = (n: number, timeoutMs = 30_000): Promise<void> =>
    new Promise((resolvePromise, reject) => {
      const check = (): void => {
        if (startupError) {
          cleanup();
          reject(startupError);
        } else if (ready.size >= n) {
          cleanup();
          resolvePromise();
        }
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(
          new SmallWebRTCError('ERR_INVALID_STATE', `cluster: ${n} workers not ready in ${timeoutMs} ms`),
        );
      }, timeoutMs);
      const cleanup = (): void => {
        clearTimeout(timer);
        waiters.delete(check);
      };
      waiters.add(check);
      check();
    });

  /** Sends `message` to every worker (no more replacements) and waits for all to exit, SIGKILL after `killMs`. */
  const stopWorkers = async (message: object, killMs: number): Promise<number> => {
    closing = true;
    let killed = 0;
    const all = Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined);
    await Promise.all(
      all.map(
        (w) =>
          new Promise<void>((done) => {
            if (w.isDead()) return done();
            const kill = setTimeout(() => {
              killed++;
              w.process.kill('SIGKILL');
            }, killMs);
            w.once('exit', () => {
              clearTimeout(kill);
              done();
            });
            if (w.isConnected()) w.send(message);
            else w.process.kill('SIGTERM');
          }),
      ),
    );
    return killed;
  };

  // A signal (SIGTERM: Kubernetes signals PID 1, the primary) drains every worker over IPC, then exits 0.
  let signalled = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (signalled) {
      log().warn(`cluster: ${signal} again while draining: killing the workers and exiting now`);
      for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGKILL');
      stopSignals();
      reraiseIfUnhandled(signal);
      return;
    }
    signalled = true;
    log().info(`cluster: ${signal} received: draining ${ready.size} worker(s) (deadline ${deadlineMs} ms)`);
    const started = Date.now();
    // The workers exit on their own after the deadline; the margin covers their close and cleanup.
    void stopWorkers({ type: 'smallwebrtc:drain', deadlineMs }, deadlineMs + DRAIN_MARGIN_MS).then(
      (killed) => {
        const line = `cluster: workers drained in ${Date.now() - started} ms`;
        if (killed > 0) log().warn(`${line} (${killed} killed after the deadline)`);
        else log().info(line);
        if (shutdown?.exit ?? true) process.exit(0);
      },
    );
  };
  const signals = shutdown ? (shutdown.signals ?? ['SIGTERM']) : [];
  const stopSignals = (): void => {
    for (const s of signals) unsubscribeSignal(s, onSignal);
  };
  for (const s of signals) subscribeSignal(s, onSignal);

  for (let slot = 0; slot < size; slot++) fork(slot);
  const primary: SmallWebRTCClusterPrimary = {
    role: 'primary',
    get url(): string {
      const h = options.host ?? '127.0.0.1';
      return `http://${h.includes(':') ? `[${h}]` : h === '0.0.0.0' ? '127.0.0.1' : h}:${port}`;
    },
    get port(): number {
      return port;
    },
    workers: () => [...ready.values()].map(({ owner, slot, pid, url }) => ({ owner, slot, pid, url })),
    waitForWorkers,
    async close() {
      stopSignals();
      await stopWorkers({ type: 'smallwebrtc:close' }, 10_000);
    },
  };
  try {
    await waitForWorkers(size);
  } catch (err) {
    await primary.close();
    throw err;
  }
  return primary;
}
