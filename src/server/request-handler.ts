/**
 * `SmallWebRTCRequestHandler`: the signalling brain behind `POST`/`PATCH /api/offer`, a port of Pipecat's
 * `request_handler.py` (docs/protocol.md, "HTTP signalling"). Framework-free: it takes parsed JSON bodies and
 * returns the answer or throws an {@link HttpError}; `http-server.ts` puts it on node:http.
 */
import { errorCode, SmallWebRTCRangeError, SmallWebRTCTypeError } from '../errors.js';
import {
  SmallWebRTCConnection,
  type IceServer,
  type SmallWebRTCAnswer,
  type SmallWebRTCConnectionOptions,
} from '../connection/index.js';
import { getLogger, type Logger } from '../logger.js';
import { HttpError, isHttpError } from './http-error.js';
import { mungeSdpForEsp32 } from './esp32.js';
import {
  checkSignallingLimits,
  normalizeIceServers,
  parseOfferRequest,
  parsePatchRequest,
  type SignallingLimits,
} from '../validation.js';

/** How many simultaneous peers a handler serves (Python `ConnectionMode`). */
export enum ConnectionMode {
  /** One active connection; other offers get 400 (docs/protocol.md, "Connections, modes and limits"). */
  SINGLE = 'single',
  /** Any number of connections, bounded by `maxConnections` (Python's default, unbounded there). */
  MULTIPLE = 'multiple',
}

/**
 * Called once per brand-new connection (not on renegotiation or restart), before the answer is returned,
 * as Python awaits `webrtc_connection_callback`. Keep it short: start the bot without awaiting it. Errors are
 * logged and swallowed (the client still gets its answer).
 */
export type SmallWebRTCConnectionCallback = (
  connection: SmallWebRTCConnection,
  requestData: unknown,
) => void | Promise<void>;

/** Options of {@link SmallWebRTCRequestHandler}. */
export interface SmallWebRTCRequestHandlerOptions {
  /** ICE servers for new connections (URL strings or `IceServer` objects, not mixed). Default none. */
  iceServers?: string[] | IceServer[];
  /** SINGLE or MULTIPLE (default MULTIPLE). */
  connectionMode?: ConnectionMode;
  /**
   * Max simultaneous connections (default 100). Beyond it a new offer gets `503` + `Retry-After`, which the
   * JS client retries. Renegotiation of existing connections is never refused.
   */
  maxConnections?: number;
  /** `Retry-After` seconds sent with 503 (default 2, the JS client's own retry delay). */
  retryAfterSecs?: number;
  /** ESP32 answer munging (docs/protocol.md, "ESP32 answer munging"). Default false. */
  esp32Mode?: boolean;
  /** With `esp32Mode`: keep only host candidates of this address in the answer. */
  host?: string | null;
  /** Extra options for every new `SmallWebRTCConnection` (ports, bind address, timeouts...). */
  connectionOptions?: Omit<SmallWebRTCConnectionOptions, 'iceServers'>;
  /** Body limits (SDP size, media sections, candidates per PATCH). */
  limits?: Partial<SignallingLimits>;
  /** Logger (default: the library logger, see `setLogger`; level from `SMALL_WEBRTC_LOG`). */
  logger?: Logger;
}

/**
 * Validates an `iceServers` list with the connection's rules (src/validation.ts) and keeps it as given:
 * `/start` reports it back to clients in the form it was configured in.
 */
function checkIceServers(list: unknown): string[] | IceServer[] {
  const normalized = normalizeIceServers(list);
  return Array.isArray(list) ? (list.slice() as string[] | IceServer[]) : normalized;
}

/**
 * Runs one of the body validators, turning its coded errors into the 400 the client sees (the message names
 * the field and is safe to send).
 */
function parseBody<T>(parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    if (CLIENT_ERROR_CODES.has(errorCode(err) ?? '')) throw new HttpError(400, shortMessage(err));
    throw err;
  }
}

/** Most pc_ids (current + pre-restart) remembered per connection. */
const MAX_IDS_PER_CONNECTION = 8;

/** Error codes from `SmallWebRTCConnection` that mean "the client sent something unusable". */
const CLIENT_ERROR_CODES = new Set(['ERR_INVALID_SDP', 'ERR_INVALID_ARG', 'ERR_INVALID_CANDIDATE']);

function shortMessage(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  return msg.length > 300 ? `${msg.slice(0, 300)}...` : msg;
}

/**
 * Maps pc_ids to connections and turns offers / trickle candidates into `SmallWebRTCConnection` calls,
 * mirroring Pipecat's `SmallWebRTCRequestHandler` (docs/protocol.md, "Connections, modes and limits"), plus a
 * connection cap and boundary validation.
 *
 * All methods run on the JS thread; offers for the same connection are serialized.
 */
export class SmallWebRTCRequestHandler {
  #iceServers: string[] | IceServer[];
  readonly #mode: ConnectionMode;
  readonly #maxConnections: number;
  readonly #retryAfterSecs: number;
  readonly #esp32Mode: boolean;
  readonly #host: string | null;
  readonly #connectionOptions: Omit<SmallWebRTCConnectionOptions, 'iceServers'>;
  readonly #limits: SignallingLimits;
  readonly #logger: Logger | undefined;
  /** pc_id -> connection; after a restart both the old and the new pc_id point at the same object. */
  readonly #pcs = new Map<string, SmallWebRTCConnection>();
  /** The pc_ids mapped to each connection, oldest first (bounded, see #mapId). */
  readonly #ids = new WeakMap<SmallWebRTCConnection, string[]>();
  /** Live connections (the values of #pcs, deduplicated) in creation order. */
  readonly #connections = new Set<SmallWebRTCConnection>();
  /** New connections being initialized (counted against the limits so concurrent offers cannot overshoot). */
  #pending = 0;
  /** Per-connection tail of the offer chain, so two offers for one peer never interleave. */
  readonly #chains = new WeakMap<SmallWebRTCConnection, Promise<unknown>>();
  #closed = false;
  #closing: Promise<void> | null = null;

  /** @param options see {@link SmallWebRTCRequestHandlerOptions}. */
  constructor(options: SmallWebRTCRequestHandlerOptions = {}) {
    this.#iceServers = checkIceServers(options.iceServers ?? []);
    const mode = options.connectionMode ?? ConnectionMode.MULTIPLE;
    if (mode !== ConnectionMode.SINGLE && mode !== ConnectionMode.MULTIPLE) {
      throw new SmallWebRTCTypeError(
        'ERR_INVALID_ARG',
        'connectionMode must be ConnectionMode.SINGLE or ConnectionMode.MULTIPLE',
      );
    }
    this.#mode = mode;
    const max = options.maxConnections ?? 100;
    if (!(Number.isInteger(max) && max >= 1) && max !== Infinity) {
      throw new SmallWebRTCRangeError(
        'ERR_INVALID_ARG',
        'maxConnections must be a positive integer or Infinity',
      );
    }
    this.#maxConnections = max;
    const retry = options.retryAfterSecs ?? 2;
    if (!Number.isInteger(retry) || retry < 0)
      throw new SmallWebRTCRangeError('ERR_INVALID_ARG', 'retryAfterSecs must be an integer >= 0');
    this.#retryAfterSecs = retry;
    this.#esp32Mode = options.esp32Mode ?? false;
    this.#host = options.host ?? null;
    this.#connectionOptions = { ...(options.connectionOptions ?? {}) };
    this.#limits = checkSignallingLimits(options.limits);
    this.#logger = options.logger;
  }

  /** ICE servers used for new connections (a copy). */
  get iceServers(): string[] | IceServer[] {
    return [...this.#iceServers] as string[] | IceServer[];
  }

  /** The logger in effect (looked up at log time so a later `setLogger()` applies). */
  get #log(): Logger {
    return this.#logger ?? getLogger();
  }

  /** SINGLE or MULTIPLE. */
  get connectionMode(): ConnectionMode {
    return this.#mode;
  }

  /** Number of live connections. */
  get connectionCount(): number {
    return this.#connections.size;
  }

  /** Live connections plus new ones being answered: what the `maxConnections` cap counts. */
  get sessionCount(): number {
    return this.#connections.size + this.#pending;
  }

  /** The cap on simultaneous connections (`Infinity` for none). */
  get maxConnections(): number {
    return this.#maxConnections;
  }

  /** Whether `close()` was called (every offer is refused from then on). */
  get closed(): boolean {
    return this.#closed;
  }

  /** The connection a pc_id maps to (current or pre-restart id), if any. */
  getConnection(pcId: string): SmallWebRTCConnection | undefined {
    return this.#pcs.get(pcId);
  }

  /** Replaces the ICE servers for future connections (Python `update_ice_servers`). */
  updateIceServers(iceServers: string[] | IceServer[]): void {
    this.#iceServers = checkIceServers(iceServers);
  }

  /**
   * Handles an offer body (`{ sdp, type, pc_id?, restart_pc?, request_data? | requestData? }`).
   * Known `pc_id` -> renegotiate that connection (with `restart_pc`: a new peer and pc_id behind the same
   * object); absent or unknown `pc_id` -> a new connection, `onNewConnection(connection, requestData)`.
   * @returns the answer `{ sdp, type: 'answer', pc_id }`.
   * @throws HttpError 400 (bad body / SDP, SINGLE-mode conflicts), 503 (capacity, shutting down), 500.
   */
  async handleWebRequest(
    body: unknown,
    onNewConnection?: SmallWebRTCConnectionCallback,
  ): Promise<SmallWebRTCAnswer> {
    const request = parseBody(() => parseOfferRequest(body, this.#limits));
    if (this.#closed) throw this.#unavailable('Server is shutting down');
    if (this.#mode === ConnectionMode.SINGLE) this.#checkSingleConnection(request.pcId);
    const existing = request.pcId !== null ? this.#pcs.get(request.pcId) : undefined;
    const answer = existing
      ? await this.#serialize(existing, () => this.#renegotiate(existing, request.sdp, request.restartPc))
      : await this.#createConnection(request.sdp, request.requestData, onNewConnection);
    return this.#esp32Mode ? { ...answer, sdp: mungeSdpForEsp32(answer.sdp, this.#host) } : answer;
  }

  /**
   * Handles a trickle body (`{ pc_id, candidates: [{ candidate, sdp_mid, sdp_mline_index }] }`). An empty
   * candidate string is end-of-candidates (Firefox). All candidates go to the single bundled transport.
   * @throws HttpError 404 `Peer connection not found`, 400 bad body / candidate.
   */
  async handlePatchRequest(body: unknown): Promise<{ status: 'success' }> {
    const request = parseBody(() => parsePatchRequest(body, this.#limits));
    const connection = this.#pcs.get(request.pcId);
    if (!connection) throw new HttpError(404, 'Peer connection not found');
    for (const c of request.candidates) {
      try {
        await connection.addIceCandidate(
          c.candidate === ''
            ? null
            : { candidate: c.candidate, sdpMid: c.sdpMid, sdpMLineIndex: c.sdpMLineIndex },
        );
      } catch (err) {
        if (CLIENT_ERROR_CODES.has(errorCode(err) ?? '')) {
          throw new HttpError(400, `Invalid ICE candidate: ${shortMessage(err)}`);
        }
        if (errorCode(err) === 'ERR_CLOSED') throw new HttpError(404, 'Peer connection not found');
        this.#log.error(`addIceCandidate failed for ${request.pcId}: ${shortMessage(err)}`);
        throw new HttpError(500, 'Internal server error');
      }
    }
    return { status: 'success' };
  }

  /**
   * Disconnects every connection (each sends `peerLeft`), clears the map and refuses further
   * offers with 503. Idempotent; resolves when all connections are closed.
   */
  close(): Promise<void> {
    if (this.#closing) return this.#closing;
    this.#closed = true;
    const all = [...this.#connections];
    this.#connections.clear();
    this.#pcs.clear();
    this.#closing = Promise.allSettled(all.map((c) => c.disconnect())).then((results) => {
      for (const r of results) {
        if (r.status === 'rejected')
          this.#log.warn(`disconnect failed during close: ${shortMessage(r.reason)}`);
      }
    });
    return this.#closing;
  }

  #unavailable(detail: string): HttpError {
    return new HttpError(503, detail, { 'Retry-After': String(this.#retryAfterSecs) });
  }

  /** SINGLE mode (Pipecat `request_handler.py` `_check_single_connection_constraints`). */
  #checkSingleConnection(pcId: string | null): void {
    const existing = this.#connections.values().next().value;
    if (!existing && this.#pending === 0) return;
    if (pcId === null)
      throw new HttpError(400, 'Cannot create new connection with existing connection active');
    // Unlike Python, any pc_id this connection ever had is accepted (no stale-key mismatch after a restart).
    if (!existing || this.#pcs.get(pcId) !== existing) {
      throw new HttpError(400, 'PC ID mismatch with existing connection');
    }
  }

  async #serialize<T>(connection: SmallWebRTCConnection, job: () => Promise<T>): Promise<T> {
    const previous = this.#chains.get(connection) ?? Promise.resolve();
    const run = previous.then(job, job);
    this.#chains.set(
      connection,
      run.catch(() => {}),
    );
    return run;
  }

  async #renegotiate(
    connection: SmallWebRTCConnection,
    sdp: string,
    restartPc: boolean,
  ): Promise<SmallWebRTCAnswer> {
    this.#log.info(`renegotiating ${connection.pcId}${restartPc ? ' (restart)' : ''}`);
    try {
      await connection.renegotiate({ sdp, type: 'offer', restartPc });
    } catch (err) {
      throw this.#mapError(err, 'renegotiate');
    }
    const answer = this.#answerOf(connection);
    // After a restart the connection has a new pc_id; map it too (the old key keeps pointing here).
    if (this.#connections.has(connection)) this.#mapId(connection, answer.pc_id);
    return answer;
  }

  async #createConnection(
    sdp: string,
    requestData: unknown,
    onNewConnection: SmallWebRTCConnectionCallback | undefined,
  ): Promise<SmallWebRTCAnswer> {
    if (this.#connections.size + this.#pending >= this.#maxConnections) {
      throw this.#unavailable('Too many connections, retry later');
    }
    this.#pending++;
    let connection: SmallWebRTCConnection | null = null;
    let closedEarly = false;
    try {
      // The offer's content is validated once, by the connection, with this handler's section limit.
      connection = new SmallWebRTCConnection({
        maxMediaSections: this.#limits.maxMediaSections,
        ...this.#connectionOptions,
        iceServers: this.#iceServers,
      });
      const conn = connection;
      conn.on('closed', () => {
        closedEarly = true;
        this.#forget(conn);
      });
      try {
        await conn.initialize({ sdp, type: 'offer' });
      } catch (err) {
        throw this.#mapError(err, 'initialize');
      }
      const answer = this.#answerOf(conn);
      if (this.#closed) throw this.#unavailable('Server is shutting down');
      if (!closedEarly) {
        this.#connections.add(conn);
        this.#mapId(conn, answer.pc_id);
      }
      this.#pending--;
      connection = null; // owned by the map from here on
      this.#log.info(`new connection ${answer.pc_id}`);
      if (onNewConnection) {
        try {
          await onNewConnection(conn, requestData);
        } catch (err) {
          this.#log.error(`connection callback failed for ${answer.pc_id}: ${shortMessage(err)}`);
        }
      }
      // A restart cannot have happened yet, but the callback may have closed it; the answer stays valid.
      return answer;
    } catch (err) {
      if (connection) {
        this.#pending--;
        connection.close().catch(() => {});
      }
      throw err;
    }
  }

  #answerOf(connection: SmallWebRTCConnection): SmallWebRTCAnswer {
    const answer = connection.getAnswer();
    if (!answer) {
      this.#log.error('connection produced no answer');
      throw new HttpError(500, 'Internal server error');
    }
    return { sdp: answer.sdp, type: 'answer', pc_id: answer.pc_id };
  }

  /**
   * Maps `pcId` to `connection`, keeping at most {@link MAX_IDS_PER_CONNECTION} ids per connection: a client
   * that restarts forever must not grow the map without bound (the oldest ids are dropped first).
   */
  #mapId(connection: SmallWebRTCConnection, pcId: string): void {
    const ids = this.#ids.get(connection) ?? [];
    if (!ids.includes(pcId)) ids.push(pcId);
    while (ids.length > MAX_IDS_PER_CONNECTION) this.#pcs.delete(ids.shift()!);
    this.#ids.set(connection, ids);
    this.#pcs.set(pcId, connection);
  }

  #forget(connection: SmallWebRTCConnection): void {
    this.#connections.delete(connection);
    for (const [id, c] of this.#pcs) if (c === connection) this.#pcs.delete(id);
  }

  #mapError(err: unknown, what: string): HttpError {
    if (isHttpError(err)) return err;
    if (CLIENT_ERROR_CODES.has(errorCode(err) ?? '')) {
      this.#log.warn(`${what} rejected the offer: ${shortMessage(err)}`);
      return new HttpError(400, `Invalid offer: ${shortMessage(err)}`);
    }
    this.#log.error(`${what} failed: ${shortMessage(err)}`);
    return new HttpError(500, 'Internal server error');
  }
}
