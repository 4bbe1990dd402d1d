/**
 * A small HTTP signalling server on node:http (no framework), wire-compatible with the Pipecat development
 * runner (docs/protocol.md, "Endpoints"): `POST|PATCH /api/offer`, `POST /start`,
 * `POST|PATCH /sessions/:id/api/offer`, `GET /status`, CORS with preflight, a body size limit and a
 * Content-Type check. The request listener also works as express / connect middleware (`app.use(listener)`),
 * calling `next()` for routes it does not own.
 */
import { randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, resolve, sep } from 'node:path';
import { performance } from 'node:perf_hooks';

import type { Registry } from 'prom-client';

import type { IceServer } from '../connection/index.js';
import { SmallWebRTCRangeError } from '../errors.js';
import { parsePeerJson } from '../validation.js';
import {
  AddressAdmission,
  BodyBudget,
  DEFAULT_MAX_CONNECTIONS_PER_ADDRESS,
  DEFAULT_MAX_INFLIGHT_BODY_BYTES,
  DEFAULT_MAX_SESSION_CACHE_BYTES,
  DEFAULT_MAX_SESSIONS,
  DEFAULT_OFFER_RATE,
  SessionCache,
  type BodyLease,
  type OfferRateLimit,
  type SmallWebRTCAuthorize,
} from './admission.js';
import {
  LoadMonitor,
  ServerHealth,
  type SmallWebRTCLiveness,
  type SmallWebRTCLoadLimits,
  type SmallWebRTCReadiness,
} from './health.js';
import { HttpError, isHttpError } from './http-error.js';
import { MIME, applyCors, readBody, readJson, sendJson } from './http-io.js';
import { getLogger, type Logger } from '../logger.js';
import { ServerMetrics, type SmallWebRTCMetricsOptions } from './metrics.js';
import { drainSessions, type SmallWebRTCDrainOptions, type SmallWebRTCDrainResult } from './drain.js';
import {
  SmallWebRTCRequestHandler,
  type SmallWebRTCConnectionCallback,
  type SmallWebRTCRequestHandlerOptions,
} from './request-handler.js';
import { OWNER_HEADER, OwnerRouter, type SmallWebRTCRoutingOptions } from './routing.js';

/** Options of {@link createSmallWebRTCRequestListener}. */
export interface SmallWebRTCRequestListenerOptions extends SmallWebRTCRequestHandlerOptions {
  /** Use this handler instead of creating one from the handler options. */
  handler?: SmallWebRTCRequestHandler;
  /** Called for every brand-new connection with the request data (see `SmallWebRTCConnectionCallback`). */
  onNewConnection?: SmallWebRTCConnectionCallback;
  /**
   * Allowed CORS origins: `'same-origin'` (default: only pages served by this server, i.e. an `Origin` whose
   * host is the request's `Host`), `'*'` (any origin, like the Pipecat runner; the demo uses it) or an explicit
   * list. A `POST`/`PATCH`/`PUT`/`DELETE` from a disallowed origin gets 403 before its body is read.
   */
  allowedOrigins?: '*' | 'same-origin' | string[];
  /**
   * Admission hook for `/start`, `POST`/`PATCH /api/offer` and `/sessions/...`, run before the body is read
   * (see {@link SmallWebRTCAuthorize}; 403 when it does not resolve `true`). Default: everyone is admitted.
   */
  authorize?: SmallWebRTCAuthorize;
  /**
   * The client address that per-address limits count (default `req.socket.remoteAddress`). Behind a reverse
   * proxy, return the address it reports (e.g. from `X-Forwarded-For`, trusting only your proxy).
   */
  clientAddress?: (req: IncomingMessage) => string;
  /**
   * Most live peer connections created from one client address (default 10, `Infinity` for none); beyond
   * it a new offer gets 429 with `Retry-After`. A connection stops counting when it closes.
   */
  maxConnectionsPerAddress?: number;
  /**
   * Rate of new peer connections and `/start` calls per client address, a token bucket (default
   * `{ burst: 20, perSecond: 2 }`; `null` for none); beyond it 429 with `Retry-After`.
   */
  offerRatePerAddress?: OfferRateLimit | null;
  /** Total bytes of cached `/start` bodies (default 16 MiB); the least recently used go first. */
  maxSessionCacheBytes?: number;
  /** Max request body in bytes (default 256 KiB); larger bodies get 413. */
  maxBodyBytes?: number;
  /**
   * Bytes of request bodies held at once over all requests, from their arrival until their response ends
   * (default 32 MiB, at least `maxBodyBytes`); a body that does not fit gets 503 with `Retry-After`.
   */
  maxInflightBodyBytes?: number;
  /**
   * ICE servers returned in `/start`'s `iceConfig` when the client sets `enableDefaultIceServers` and no
   * `iceServers` are configured. Default: Google's public STUN server, as the Pipecat runner does.
   */
  defaultIceServers?: IceServer[];
  /** Max cached `/start` sessions (default 1000; the least recently used is evicted). */
  maxSessions?: number;
  /** Serve files from this directory for GET/HEAD requests no route matched (`/` -> `index.html`). */
  staticDir?: string;
  /** Called for requests no route (nor `staticDir`) matched, unless express's `next` is given. */
  fallback?: (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;
  /**
   * Path of the liveness probe (`GET`/`HEAD`, 200 with a JSON body while the event loop answers; default
   * `/healthz`, `null` to turn it off). On by default: it reveals nothing but load figures and a balancer or
   * Kubernetes needs it without configuration; change the path if your app owns `/healthz`.
   */
  healthzPath?: string | null;
  /**
   * Path of the readiness probe (200 when a new session would be admitted, 503 with the reasons when the
   * server is draining, at `maxConnections` or over a load limit; default `/readyz`, `null` to turn it off).
   */
  readyzPath?: string | null;
  /**
   * Load-aware admission (see {@link SmallWebRTCLoadLimits}; on by default with its defaults, `false` to
   * turn it off): over a limit, new offers and `/start` get 503 + `Retry-After` and `/readyz` fails. When the
   * option is absent, the environment variable `SMALL_WEBRTC_LOAD_SHEDDING=off` turns it off.
   */
  load?: SmallWebRTCLoadLimits | false;
  /**
   * Scale-out routing (docs/scaling.md): this process's owner tag goes into every `pc_id` and session id, and
   * a request for another owner's `pc_id` or session is forwarded to it (`peers`) or answered 421 naming the
   * owner. Default none. Not applied to a `handler` passed in (give its connections the same `ownerTag`).
   */
  routing?: SmallWebRTCRoutingOptions;
  /**
   * Prometheus metrics (docs/operations.md, "Metrics"): served at `/metrics` by default, behind the
   * `authorize` hook when one is set (see {@link SmallWebRTCMetricsOptions}); `false` turns them off.
   */
  metrics?: SmallWebRTCMetricsOptions | false;
}

/** A node:http / express-compatible request listener with its handler attached. */
export interface SmallWebRTCRequestListener {
  (req: IncomingMessage, res: ServerResponse, next?: (err?: unknown) => void): void;
  /** The request handler (pc_id map, connections). */
  readonly handler: SmallWebRTCRequestHandler;
  /** The `/start` body cache (its `size` and accounted `bytes`, for monitoring). */
  readonly sessionCache: { readonly size: number; readonly bytes: number };
  /** Bytes of request bodies held now (see `maxInflightBodyBytes`), for monitoring. */
  readonly inflightBodyBytes: number;
  /** The `/readyz` body: whether a new session would be admitted now, and why not. */
  readiness(): SmallWebRTCReadiness;
  /** The `/healthz` body. */
  liveness(): SmallWebRTCLiveness;
  /** The Prometheus registry of this listener's metrics (`null` with `metrics: false`). */
  readonly metricsRegistry: Registry | null;
  /**
   * Drains (docs/operations.md, "Drain"): new offers and `/start` get 503 + `Retry-After` and `/readyz`
   * fails from now on, every client gets `peerLeft` and its session ends, and the running pipeline tasks get
   * until `deadlineMs` to finish. Idempotent (later calls return the first drain's result).
   */
  drain(options?: SmallWebRTCDrainOptions): Promise<SmallWebRTCDrainResult>;
  /** Closes the handler (disconnects all connections) and stops the load monitor. */
  close(): Promise<void>;
}

const DEFAULT_MAX_BODY_BYTES = 256 * 1024;
const GOOGLE_STUN: IceServer[] = [{ urls: ['stun:stun.l.google.com:19302'] }];

function toIceConfigServers(list: string[] | IceServer[]): IceServer[] {
  return list.map((s) => (typeof s === 'string' ? { urls: [s] } : { ...s }));
}

/**
 * Creates a request listener serving the Pipecat signalling routes. Use it with `http.createServer(listener)`
 * or as express / connect middleware (`app.use(listener)`; unmatched routes call `next()`).
 */
export function createSmallWebRTCRequestListener(
  options: SmallWebRTCRequestListenerOptions = {},
): SmallWebRTCRequestListener {
  return createListener(options, null);
}

/** The listener; `metricsSource`: where `/metrics` comes from in a cluster worker (the primary's aggregate). */
export function createListener(
  options: SmallWebRTCRequestListenerOptions,
  metricsSource: (() => Promise<{ contentType: string; body: string }>) | null,
): SmallWebRTCRequestListener {
  const log = (): Logger => options.logger ?? getLogger();
  const router = options.routing ? new OwnerRouter(options.routing) : null;
  const handler =
    options.handler ??
    new SmallWebRTCRequestHandler(
      router
        ? { ...options, connectionOptions: { ...options.connectionOptions, ownerTag: router.owner } }
        : options,
    );
  const maxBody = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  if (!Number.isInteger(maxBody) || maxBody < 1024)
    throw new SmallWebRTCRangeError('ERR_INVALID_ARG', 'maxBodyBytes must be an integer >= 1024');
  const allowed: '*' | 'same-origin' | ReadonlySet<string> =
    options.allowedOrigins === undefined || options.allowedOrigins === 'same-origin'
      ? 'same-origin'
      : options.allowedOrigins === '*'
        ? '*'
        : new Set(options.allowedOrigins);
  const defaultIce = options.defaultIceServers ?? GOOGLE_STUN;
  const staticRoot = options.staticDir !== undefined ? resolve(options.staticDir) : null;
  /** sessionId -> cached /start `body`, bounded by bytes and count. */
  const sessions = new SessionCache(
    options.maxSessionCacheBytes ?? DEFAULT_MAX_SESSION_CACHE_BYTES,
    options.maxSessions ?? DEFAULT_MAX_SESSIONS,
  );
  const admission = new AddressAdmission(
    options.maxConnectionsPerAddress ?? DEFAULT_MAX_CONNECTIONS_PER_ADDRESS,
    options.offerRatePerAddress === undefined ? DEFAULT_OFFER_RATE : options.offerRatePerAddress,
    options.retryAfterSecs ?? 2,
  );
  const bodyBudget = new BodyBudget(options.maxInflightBodyBytes ?? DEFAULT_MAX_INFLIGHT_BODY_BYTES, maxBody);
  /** Each request's share of the body budget (released when its response closes). */
  const leases = new WeakMap<IncomingMessage, BodyLease>();
  const clientAddress = (req: IncomingMessage): string =>
    router?.forwardedClientAddress(req) ??
    options.clientAddress?.(req) ??
    req.socket.remoteAddress ??
    'unknown';
  const probePath = (value: string | null | undefined, fallback: string): string | null => {
    const path = value === undefined ? fallback : value;
    if (path !== null && (typeof path !== 'string' || !path.startsWith('/')))
      throw new SmallWebRTCRangeError(
        'ERR_INVALID_ARG',
        `probe paths must start with '/' (got ${String(path)})`,
      );
    return path;
  };
  const healthzPath = probePath(options.healthzPath, '/healthz');
  const readyzPath = probePath(options.readyzPath, '/readyz');
  // SMALL_WEBRTC_LOAD_SHEDDING=off changes only the default (an explicit `load` option wins): for a test
  // suite or a benchmark on a shared machine, where the machine's load is not this process's load.
  const loadDefault = process.env['SMALL_WEBRTC_LOAD_SHEDDING'] === 'off' ? false : {};
  const loadOption = options.load ?? loadDefault;
  const load = loadOption === false ? null : new LoadMonitor(loadOption);
  const health = new ServerHealth(
    {
      sessions: () => handler.sessionCount,
      maxSessions: () => handler.maxConnections,
      closed: () => handler.closed,
    },
    load,
    options.retryAfterSecs ?? 2,
  );
  load?.start();
  const metrics =
    options.metrics === false
      ? null
      : new ServerMetrics(
          options.metrics ?? {},
          {
            connectionCount: () => handler.connectionCount,
            health,
            closed: () => handler.closed,
          },
          options.authorize,
          log,
        );
  if (metrics && metricsSource) metrics.source = metricsSource;
  let draining: Promise<SmallWebRTCDrainResult> | null = null;
  /** When each request arrived (the start of a session's setup time). */
  const arrivals = new WeakMap<IncomingMessage, number>();

  /** Runs `authorize` (fail closed). The unread body is drained, not stored. */
  async function authorize(req: IncomingMessage): Promise<void> {
    if (!options.authorize) return;
    let ok: unknown;
    try {
      ok = await options.authorize(req);
    } catch (err) {
      req.resume();
      if (isHttpError(err)) throw err;
      log().error(`authorize failed: ${err instanceof Error ? err.message : String(err)}`);
      throw new HttpError(500, 'Internal server error');
    }
    if (ok !== true) {
      req.resume();
      throw new HttpError(403, 'Forbidden');
    }
  }

  async function offer(req: IncomingMessage, body: unknown, res: ServerResponse): Promise<void> {
    const pcId = (body as { pc_id?: unknown } | null)?.pc_id;
    if (typeof pcId === 'string' && handler.getConnection(pcId) !== undefined) {
      // Renegotiation / restart of a live connection: it already holds its slot.
      sendJson(res, 200, await handler.handleWebRequest(body, options.onNewConnection));
      return;
    }
    // Draining or overloaded: 503 before anything is spent, so the client (or the balancer) tries elsewhere.
    health.admitNewSession();
    const address = clientAddress(req);
    const refund = admission.takeToken(address);
    let release: () => void;
    try {
      release = admission.reserve(address);
    } catch (err) {
      refund(); // refused without creating anything: only the concurrency limit applies
      throw err;
    }
    try {
      const answer = await handler.handleWebRequest(body, options.onNewConnection);
      const connection = handler.getConnection(answer.pc_id);
      // The slot is held until the connection closes (by the client, the connect deadline or liveness).
      if (connection) connection.on('closed', release);
      else release();
      if (connection) metrics?.sessionStarted(connection, arrivals.get(req) ?? performance.now());
      sendJson(res, 200, answer);
    } catch (err) {
      release();
      // A malformed body or offer (4xx) is refused before a peer connection exists: it does not count against
      // the rate, which guards connection churn (a client's bad requests are cheap and answered in ms).
      if (isHttpError(err) && err.status >= 400 && err.status < 500) refund();
      throw err;
    }
  }

  async function patch(body: unknown, res: ServerResponse): Promise<void> {
    sendJson(res, 200, await handler.handlePatchRequest(body));
  }

  async function start(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // Python treats an unparseable /start body as {} (run.py L681-766).
    let parsed: unknown = {};
    try {
      health.admitNewSession();
      admission.takeToken(clientAddress(req));
      const raw = await readBody(req, maxBody, leases.get(req));
      if (raw.length > 0) parsed = parsePeerJson(raw.toString('utf8'));
    } catch (err) {
      if (isHttpError(err) && (err.status === 413 || err.status === 429 || err.status === 503)) throw err;
      parsed = {};
    }
    const obj = typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? parsed : {};
    const { transport, enableDefaultIceServers, body } = obj as Record<string, unknown>;
    if (transport !== undefined && transport !== 'webrtc') {
      throw new HttpError(
        400,
        `Transport '${String(transport).slice(0, 40)}' is not supported (only 'webrtc')`,
      );
    }
    const sessionId = router ? `${router.owner}.${randomUUID()}` : randomUUID();
    sessions.set(sessionId, body ?? {});
    const configured = handler.iceServers;
    const iceServers =
      configured.length > 0 ? toIceConfigServers(configured) : enableDefaultIceServers ? defaultIce : null;
    sendJson(res, 200, iceServers ? { sessionId, iceConfig: { iceServers } } : { sessionId });
  }

  async function sessionRoute(
    req: IncomingMessage,
    res: ServerResponse,
    sessionId: string,
    rest: string,
  ): Promise<void> {
    const owner = router?.foreignOwner(sessionId);
    if (router && owner) {
      await router.forward(req, res, owner, `session ${sessionId}`, clientAddress(req));
      return;
    }
    if (!sessions.has(sessionId)) {
      req.resume();
      throw new HttpError(404, 'Invalid or not-yet-ready session_id');
    }
    // LRU touch (in get): an active session survives eviction.
    const cached = sessions.get(sessionId);
    if (!rest.endsWith('api/offer')) {
      req.resume();
      res.writeHead(200, { 'Content-Length': '0' });
      res.end();
      return;
    }
    if (req.method === 'POST') {
      const body = await readJson(req, maxBody, leases.get(req));
      if (typeof body === 'object' && body !== null && !Array.isArray(body)) {
        const b = body as Record<string, unknown>;
        // request_data = body request_data, or requestData, or the cached /start body (docs/protocol.md,
        // "Endpoints").
        if ((b.request_data ?? b.requestData ?? null) === null) {
          await offer(req, { ...b, request_data: cached }, res);
          return;
        }
      }
      await offer(req, body, res);
    } else if (req.method === 'PATCH') {
      await patch(await readJson(req, maxBody, leases.get(req)), res);
    } else {
      throw new HttpError(405, 'Method not allowed');
    }
  }

  async function serveStatic(req: IncomingMessage, res: ServerResponse, pathname: string): Promise<boolean> {
    if (staticRoot === null || (req.method !== 'GET' && req.method !== 'HEAD')) return false;
    let decoded: string;
    try {
      decoded = decodeURIComponent(pathname);
    } catch {
      return false;
    }
    if (decoded.includes('\0')) return false;
    let file = resolve(staticRoot, '.' + decoded);
    if (file !== staticRoot && !file.startsWith(staticRoot + sep)) return false; // path traversal
    let info = await stat(file).catch(() => null);
    if (info?.isDirectory()) {
      file = resolve(file, 'index.html');
      info = await stat(file).catch(() => null);
    }
    if (!info?.isFile()) return false;
    res.writeHead(200, {
      'Content-Type': MIME[extname(file).toLowerCase()] ?? 'application/octet-stream',
      'Content-Length': String(info.size),
      'Cache-Control': 'no-cache',
    });
    if (req.method === 'HEAD') {
      res.end();
      return true;
    }
    await new Promise<void>((done) => {
      const stream = createReadStream(file);
      stream.on('error', () => {
        res.destroy();
        done();
      });
      stream.on('end', () => done());
      stream.pipe(res);
    });
    return true;
  }

  async function route(
    req: IncomingMessage,
    res: ServerResponse,
    next?: (err?: unknown) => void,
  ): Promise<void> {
    const cors = applyCors(req, res, allowed);
    if (cors.preflightHandled) return;
    let pathname: string;
    try {
      pathname = new URL(req.url ?? '/', 'http://localhost').pathname;
    } catch {
      throw new HttpError(400, 'Bad request URL');
    }
    const method = req.method ?? 'GET';
    if (metrics && (await metrics.serve(req, res, pathname))) return;
    if ((method === 'GET' || method === 'HEAD') && (pathname === healthzPath || pathname === readyzPath)) {
      req.resume();
      if (pathname === healthzPath) sendJson(res, 200, health.liveness());
      else {
        const report = health.readiness();
        sendJson(res, report.ready ? 200 : 503, report);
      }
      return;
    }
    const session = /^\/sessions\/([^/]+)\/(.*)$/.exec(pathname);
    if (pathname === '/api/offer' || pathname === '/start' || session) {
      if (router) res.setHeader(OWNER_HEADER, router.owner);
      // A cross-site page must not spend this server's capacity through its visitors' browsers.
      if (!cors.allowed && method !== 'GET' && method !== 'HEAD') {
        req.resume();
        throw new HttpError(403, 'Disallowed CORS origin');
      }
      await authorize(req);
    }
    if (pathname === '/api/offer') {
      if (method !== 'POST' && method !== 'PATCH') throw new HttpError(405, 'Method not allowed');
      const body = await readJson(req, maxBody, leases.get(req));
      const pcId = (body as { pc_id?: unknown } | null)?.pc_id;
      const owner = router?.foreignOwner(pcId);
      if (router && owner) {
        const raw = Buffer.from(JSON.stringify(body));
        return router.forward(req, res, owner, `pc_id ${String(pcId)}`, clientAddress(req), raw);
      }
      return method === 'POST' ? offer(req, body, res) : patch(body, res);
    }
    if (pathname === '/start' && method === 'POST') return start(req, res);
    if (pathname === '/status' && method === 'GET') {
      sendJson(res, 200, { status: 'ready', transports: ['webrtc'] });
      return;
    }
    if (session && ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'].includes(method)) {
      return sessionRoute(req, res, session[1]!, session[2]!);
    }
    if (await serveStatic(req, res, pathname)) return;
    if (next) {
      next();
      return;
    }
    if (options.fallback) {
      await options.fallback(req, res);
      return;
    }
    throw new HttpError(404, 'Not Found');
  }

  const listener = (req: IncomingMessage, res: ServerResponse, next?: (err?: unknown) => void): void => {
    const lease = bodyBudget.lease();
    leases.set(req, lease);
    res.once('close', () => lease.release());
    if (metrics && req.method === 'POST' && /(^|\/)api\/offer(\?|$)/.test(req.url ?? '')) {
      arrivals.set(req, performance.now());
      res.once('finish', () => {
        // A request forwarded to its owner (routing) is counted there, not twice in an aggregate.
        if (router && res.getHeader(OWNER_HEADER) !== router.owner) return;
        metrics.offerAnswered(res.statusCode);
      });
    }
    route(req, res, next).catch((err: unknown) => {
      if (isHttpError(err)) {
        if (err.status >= 500) log().warn(`${req.method} ${req.url} -> ${err.status} ${err.detail}`);
        else log().debug(`${req.method} ${req.url} -> ${err.status} ${err.detail}`);
        // After a 413 the unread rest of the body is not worth keeping the socket for.
        const extra: Record<string, string> = err.status === 413 ? { Connection: 'close' } : {};
        sendJson(res, err.status, { detail: err.detail }, { ...err.headers, ...extra });
      } else {
        log().error(`${req.method} ${req.url} failed: ${err instanceof Error ? err.message : String(err)}`);
        sendJson(res, 500, { detail: 'Internal server error' });
      }
    });
  };
  // defineProperty, not Object.assign: assign would copy the getter's value once.
  Object.defineProperty(listener, 'inflightBodyBytes', { get: () => bodyBudget.used, enumerable: true });
  return Object.assign(listener as typeof listener & { readonly inflightBodyBytes: number }, {
    handler,
    sessionCache: sessions,
    readiness: () => health.readiness(),
    liveness: () => health.liveness(),
    metricsRegistry: metrics?.registry ?? null,
    drain: (o: SmallWebRTCDrainOptions = {}) => (draining ??= drainSessions(health, handler, o, log())),
    close: () => {
      load?.stop();
      router?.close();
      metrics?.close();
      return handler.close();
    },
  });
}
