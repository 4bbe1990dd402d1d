/**
 * The routing key of a scaled-out deployment (docs/scaling.md): every `pc_id` and `/start` session id carries
 * the owner tag of the process that holds it, so a stateless front routes `/sessions/{id}/...` by URL and
 * `PATCH /api/offer` by the `pc_id` in the body, and a process that receives another owner's request forwards
 * it there (when it knows where that is) or answers 421 naming the owner, instead of "not found".
 */
import { Agent, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';

import { OWNER_TAG_PATTERN } from '../connection/connection-options.js';
import { SmallWebRTCError, SmallWebRTCRangeError } from '../errors.js';
import { HttpError } from './http-error.js';

/** Routing options of the request listener (docs/scaling.md, "The routing key"). */
export interface SmallWebRTCRoutingOptions {
  /**
   * This process's owner tag (1-32 characters `[A-Za-z0-9_]`, unique among the processes behind one front):
   * written into every `pc_id` (`SmallWebRTCConnection#3-<owner>.<hex>`) and `/start` session id
   * (`<owner>.<uuid>`), and sent back in the `X-SmallWebRTC-Owner` header of every signalling response.
   */
  owner: string;
  /**
   * Where the other owners are: a map owner -> base URL (`http://10.0.0.7:7860`) or a function (asked per
   * request, so the answer may change). A request for an owner found here is forwarded to it; for an owner
   * not found, it is answered `421 Misdirected Request`. Default: none (every foreign request gets 421).
   */
  peers?: Readonly<Record<string, string>> | ((owner: string) => string | undefined);
  /**
   * Shared secret of the processes that forward to each other. A forwarded request carries it, and only then
   * does the owner count the request against the original client's address (`X-SmallWebRTC-Client-Address`)
   * instead of the forwarder's. Cluster mode sets a random one.
   */
  secret?: string;
  /** Milliseconds a forwarded request may take, until its response headers (default 30000). */
  forwardTimeoutMs?: number;
}

/** Response header naming the process that answered a signalling request. */
export const OWNER_HEADER = 'x-smallwebrtc-owner';
/** Request header set on a forwarded request (the forwarder's owner tag): it is never forwarded again. */
export const FORWARDED_BY_HEADER = 'x-smallwebrtc-forwarded-by';
/** Response header of a forwarded request: the process that received it and forwarded it to the owner. */
export const VIA_HEADER = 'x-smallwebrtc-via';
const CLIENT_ADDRESS_HEADER = 'x-smallwebrtc-client-address';
const SECRET_HEADER = 'x-smallwebrtc-route-secret';

/** `-<owner>.<32 hex>` at the end of a pc_id, or `<owner>.<uuid>` as a whole session id. */
const OWNER_IN_ID =
  /(?:^|-)([A-Za-z0-9_]{1,32})\.(?:[0-9a-f]{32}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/;

/**
 * The owner tag inside a `pc_id` (`SmallWebRTCConnection#3-w1.<32 hex>`) or a `/start` session id
 * (`w1.<uuid>`), or null for an id without one (Pipecat's own shape, or garbage).
 */
export function ownerOfId(id: unknown): string | null {
  if (typeof id !== 'string' || id.length > 200) return null;
  return OWNER_IN_ID.exec(id)?.[1] ?? null;
}

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'host',
  'content-length',
]);

/** Forwards misrouted requests to their owner (one keep-alive agent per listener). */
export class OwnerRouter {
  readonly owner: string;
  readonly #peers: SmallWebRTCRoutingOptions['peers'];
  readonly #secret: string | undefined;
  readonly #timeoutMs: number;
  readonly #agent = new Agent({ keepAlive: true, maxSockets: 64 });

  constructor(options: SmallWebRTCRoutingOptions) {
    if (typeof options?.owner !== 'string' || !OWNER_TAG_PATTERN.test(options.owner))
      throw new SmallWebRTCRangeError(
        'ERR_INVALID_ARG',
        'routing.owner must be 1-32 characters [A-Za-z0-9_]',
      );
    const timeout = options.forwardTimeoutMs ?? 30_000;
    if (!Number.isFinite(timeout) || timeout <= 0)
      throw new SmallWebRTCRangeError(
        'ERR_INVALID_ARG',
        'routing.forwardTimeoutMs must be a positive number',
      );
    this.owner = options.owner;
    this.#peers = options.peers;
    this.#secret = options.secret;
    this.#timeoutMs = timeout;
  }

  /** The owner of `id` when it is another process, else null (ours, or an id without a tag: served here). */
  foreignOwner(id: unknown): string | null {
    const owner = ownerOfId(id);
    return owner !== null && owner !== this.owner ? owner : null;
  }

  /** The original client's address of a request forwarded with the right secret, else null. */
  forwardedClientAddress(req: IncomingMessage): string | null {
    if (this.#secret === undefined || req.headers[SECRET_HEADER] !== this.#secret) return null;
    const a = req.headers[CLIENT_ADDRESS_HEADER];
    return typeof a === 'string' && a.length > 0 && a.length <= 64 ? a : null;
  }

  #peerUrl(owner: string): string | undefined {
    const p = this.#peers;
    if (p === undefined) return undefined;
    if (typeof p === 'function') return p(owner);
    return Object.prototype.hasOwnProperty.call(p, owner) ? p[owner] : undefined;
  }

  /**
   * Sends `req` to `owner` and relays its response. `body`: the already-read body (else the request
   * stream is piped). 421 when the owner is unknown here or the request was forwarded already (no loops);
   * 503 + Retry-After when the owner does not answer.
   */
  async forward(
    req: IncomingMessage,
    res: ServerResponse,
    owner: string,
    what: string,
    clientAddress: string,
    body?: Buffer,
  ): Promise<void> {
    const target = req.headers[FORWARDED_BY_HEADER] === undefined ? this.#peerUrl(owner) : undefined;
    if (target === undefined) {
      if (body === undefined) req.resume();
      throw new HttpError(
        421,
        `${what} belongs to owner '${owner}', not to this process ('${this.owner}'), and '${owner}' is not reachable from here: route it to '${owner}' (docs/scaling.md)`,
      );
    }
    const url = new URL(req.url ?? '/', target);
    const headers: Record<string, string | string[]> = {};
    for (const [k, v] of Object.entries(req.headers))
      if (v !== undefined && !HOP_BY_HOP.has(k)) headers[k] = v;
    headers[FORWARDED_BY_HEADER] = this.owner;
    headers[CLIENT_ADDRESS_HEADER] = clientAddress;
    if (this.#secret !== undefined) headers[SECRET_HEADER] = this.#secret;
    if (body !== undefined) headers['content-length'] = String(body.length);
    else if (req.headers['content-length'] !== undefined)
      headers['content-length'] = req.headers['content-length'];
    else if (req.headers['transfer-encoding'] !== undefined) headers['transfer-encoding'] = 'chunked';
    await new Promise<void>((done, fail) => {
      const up = httpRequest(url, { method: req.method, headers, agent: this.#agent });
      const timer = setTimeout(
        () => up.destroy(new SmallWebRTCError('ERR_HTTP', 'forwarding timed out')),
        this.#timeoutMs,
      );
      timer.unref();
      up.on('response', (upRes) => {
        clearTimeout(timer);
        const out: Record<string, string | string[]> = {};
        for (const [k, v] of Object.entries(upRes.headers))
          if (v !== undefined && !HOP_BY_HOP.has(k)) out[k] = v;
        out[VIA_HEADER] = this.owner;
        if (upRes.headers['content-length'] !== undefined)
          out['content-length'] = upRes.headers['content-length'];
        res.writeHead(upRes.statusCode ?? 502, out);
        upRes.pipe(res);
        upRes.on('end', () => done());
        upRes.on('error', () => {
          res.destroy();
          done();
        });
      });
      up.on('error', (err) => {
        clearTimeout(timer);
        if (res.headersSent) {
          res.destroy();
          done();
          return;
        }
        fail(
          new HttpError(
            503,
            `${what} belongs to owner '${owner}', which did not answer (${(err as NodeJS.ErrnoException).code ?? err.message})`,
            { 'Retry-After': '2' },
          ),
        );
      });
      if (body !== undefined) up.end(body);
      else req.pipe(up);
    });
  }

  /** Closes the idle forwarding sockets. */
  close(): void {
    this.#agent.destroy();
  }
}
