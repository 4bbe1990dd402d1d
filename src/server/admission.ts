/**
 * What an anonymous HTTP caller may make the server keep, and for how long: the `/start` session cache
 * (bounded by bytes and by count) and the per-client-address admission of new peer connections (a token
 * bucket for the rate, a live count for the concurrency). Everything here runs on the JS thread.
 */
import type { IncomingMessage } from 'node:http';

import { SmallWebRTCRangeError } from '../errors.js';
import { HttpError } from './http-error.js';

/** Default total bytes of cached `/start` bodies (16 MiB: 64 bodies at the 256 KiB body limit). */
export const DEFAULT_MAX_SESSION_CACHE_BYTES = 16 * 1024 * 1024;
/** Default most cached `/start` bodies (whatever their size). */
export const DEFAULT_MAX_SESSIONS = 1000;
/** Default most live (not yet closed) peer connections created from one client address. */
export const DEFAULT_MAX_CONNECTIONS_PER_ADDRESS = 10;
/** Default rate of new peer connections (and `/start` calls) per client address: a token bucket. */
export const DEFAULT_OFFER_RATE: OfferRateLimit = { burst: 20, perSecond: 2 };
/** Default bytes of request bodies held at once, over all requests being read or answered (32 MiB). */
export const DEFAULT_MAX_INFLIGHT_BODY_BYTES = 32 * 1024 * 1024;
/** Most client addresses whose rate buckets are remembered (oldest forgotten first): about 1 MiB at most. */
const MAX_TRACKED_ADDRESSES = 10_000;

/** A token bucket: `burst` requests at once, refilled at `perSecond`. */
export interface OfferRateLimit {
  /** Requests allowed back to back from one address (>= 1). */
  burst: number;
  /** Tokens added per second (> 0). */
  perSecond: number;
}

/**
 * Decides whether a request may use `/start`, `POST`/`PATCH /api/offer` or the `/sessions/...` routes, before
 * its body is read. Resolve `true` to admit; `false` answers 403 `{"detail":"Forbidden"}`. Throw an
 * `HttpError` (e.g. `new HttpError(401, 'Missing token', { 'WWW-Authenticate': 'Bearer' })`) to choose the
 * answer; any other throw is logged and answered 500. Anything but `true` refuses (fail closed).
 */
export type SmallWebRTCAuthorize = (req: IncomingMessage) => boolean | Promise<boolean>;

/**
 * `/start` bodies kept for `/sessions/:id/...` offers, as serialized JSON bytes (a `Buffer`, so what is counted
 * is what is held: the bytes plus a fixed per-entry overhead). Bounded by `maxBytes` and `maxEntries`; the
 * least recently used entries go first.
 */
export class SessionCache {
  readonly #maxBytes: number;
  readonly #maxEntries: number;
  /** sessionId -> serialized body; Map order = recency (oldest first). */
  readonly #entries = new Map<string, Buffer>();
  #bytes = 0;

  /**
   * @param maxBytes total accounted bytes (>= 1024).
   * @param maxEntries most entries (>= 1).
   */
  constructor(maxBytes: number, maxEntries: number) {
    if (!Number.isInteger(maxBytes) || maxBytes < 1024) {
      throw new SmallWebRTCRangeError('ERR_INVALID_ARG', 'maxSessionCacheBytes must be an integer >= 1024');
    }
    if (!Number.isInteger(maxEntries) || maxEntries < 1) {
      throw new SmallWebRTCRangeError('ERR_INVALID_ARG', 'maxSessions must be a positive integer');
    }
    this.#maxBytes = maxBytes;
    this.#maxEntries = maxEntries;
  }

  /** Accounted bytes: the serialized bodies plus {@link SessionCache.ENTRY_OVERHEAD} per entry. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Number of cached sessions. */
  get size(): number {
    return this.#entries.size;
  }

  /** Bytes counted per entry on top of its body (the id string, the Map slot, the Buffer object). */
  static readonly ENTRY_OVERHEAD = 256;

  /**
   * Caches `body` under `id`, evicting the oldest entries until it fits.
   * @throws HttpError 413 when the body alone exceeds the whole cache.
   */
  set(id: string, body: unknown): void {
    const data = Buffer.from(JSON.stringify(body ?? {}));
    const cost = data.length + SessionCache.ENTRY_OVERHEAD;
    if (cost > this.#maxBytes) throw new HttpError(413, 'Session body too large to keep');
    this.delete(id);
    while (
      this.#entries.size > 0 &&
      (this.#bytes + cost > this.#maxBytes || this.#entries.size >= this.#maxEntries)
    ) {
      this.delete(this.#entries.keys().next().value as string);
    }
    this.#entries.set(id, data);
    this.#bytes += cost;
  }

  /** Whether `id` is cached. */
  has(id: string): boolean {
    return this.#entries.has(id);
  }

  /** The cached body of `id` (parsed again: callers get their own copy) and marks it recently used. */
  get(id: string): unknown {
    const data = this.#entries.get(id);
    if (data === undefined) return undefined;
    this.#entries.delete(id);
    this.#entries.set(id, data);
    return JSON.parse(data.toString('utf8')) as unknown;
  }

  /** Drops `id`. */
  delete(id: string): void {
    const data = this.#entries.get(id);
    if (data === undefined) return;
    this.#entries.delete(id);
    this.#bytes -= data.length + SessionCache.ENTRY_OVERHEAD;
  }
}

/**
 * Per-client-address admission of new peer connections: a token bucket for the rate (429 with `Retry-After`
 * the seconds until the next token) and a count of live connections for the concurrency (429 with
 * `Retry-After: retryAfterSecs`). Renegotiations and trickle `PATCH`es of existing connections are not
 * counted: only brand-new connections hold capacity.
 */
export class AddressAdmission {
  readonly #maxLive: number;
  readonly #rate: OfferRateLimit | null;
  readonly #retryAfterSecs: number;
  /** address -> live connections created from it (entries removed at zero). */
  readonly #live = new Map<string, number>();
  /** address -> token bucket (Map order = last use, oldest first; bounded by MAX_TRACKED_ADDRESSES). */
  readonly #buckets = new Map<string, { tokens: number; atMs: number }>();

  /**
   * @param maxLive most live connections per address (positive integer or Infinity).
   * @param rate token bucket per address, or null for no rate limit.
   * @param retryAfterSecs `Retry-After` of the concurrency 429.
   */
  constructor(maxLive: number, rate: OfferRateLimit | null, retryAfterSecs: number) {
    if (!(Number.isInteger(maxLive) && maxLive >= 1) && maxLive !== Infinity) {
      throw new SmallWebRTCRangeError(
        'ERR_INVALID_ARG',
        'maxConnectionsPerAddress must be a positive integer or Infinity',
      );
    }
    if (rate !== null) {
      if (
        typeof rate !== 'object' ||
        !Number.isFinite(rate.burst) ||
        rate.burst < 1 ||
        !Number.isFinite(rate.perSecond) ||
        rate.perSecond <= 0
      ) {
        throw new SmallWebRTCRangeError(
          'ERR_INVALID_ARG',
          'offerRatePerAddress must be null or { burst >= 1, perSecond > 0 }',
        );
      }
    }
    this.#maxLive = maxLive;
    this.#rate = rate === null ? null : { burst: rate.burst, perSecond: rate.perSecond };
    this.#retryAfterSecs = retryAfterSecs;
  }

  /** Live connections counted for `address`. */
  liveCount(address: string): number {
    return this.#live.get(address) ?? 0;
  }

  /**
   * Takes one token from `address`'s bucket.
   * @returns a function that gives the token back (once), for a request refused before it cost anything.
   * @throws HttpError 429 with `Retry-After` when the bucket is empty.
   */
  takeToken(address: string, nowMs: number = performance.now()): () => void {
    if (this.#rate === null) return () => {};
    const { burst, perSecond } = this.#rate;
    const b = this.#buckets.get(address) ?? { tokens: burst, atMs: nowMs };
    b.tokens = Math.min(burst, b.tokens + ((nowMs - b.atMs) / 1000) * perSecond);
    b.atMs = nowMs;
    this.#buckets.delete(address);
    this.#buckets.set(address, b);
    while (this.#buckets.size > MAX_TRACKED_ADDRESSES) {
      this.#buckets.delete(this.#buckets.keys().next().value as string);
    }
    if (b.tokens < 1) {
      const wait = Math.max(1, Math.ceil((1 - b.tokens) / perSecond));
      throw new HttpError(429, 'Too many requests from this address, retry later', {
        'Retry-After': String(wait),
      });
    }
    b.tokens -= 1;
    let refunded = false;
    return () => {
      if (refunded) return;
      refunded = true;
      b.tokens = Math.min(burst, b.tokens + 1);
    };
  }

  /**
   * Reserves one live-connection slot for `address`; call the returned release exactly once when the
   * connection closes (or was never created). Idempotent release.
   * @throws HttpError 429 with `Retry-After` when the address already holds `maxConnectionsPerAddress`.
   */
  reserve(address: string): () => void {
    const n = this.#live.get(address) ?? 0;
    if (n >= this.#maxLive) {
      throw new HttpError(429, 'Too many connections from this address, retry later', {
        'Retry-After': String(this.#retryAfterSecs),
      });
    }
    this.#live.set(address, n + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.#live.get(address) ?? 1) - 1;
      if (left <= 0) this.#live.delete(address);
      else this.#live.set(address, left);
    };
  }
}

/** The bytes one request's body holds against a {@link BodyBudget}; released once, when the response ends. */
export interface BodyLease {
  /** Counts `n` more bytes; false (nothing counted) when the budget has no room. */
  take(n: number): boolean;
  /** Gives every byte of this lease back. Idempotent. */
  release(): void;
}

/**
 * Bytes of request bodies held at once by the whole listener: a body is counted as it arrives and until its
 * response ends (the parsed offer is kept while the connection answers it, up to the gathering timeout). Many
 * slow uploads at once could otherwise pin `maxBodyBytes` each, without bound.
 */
export class BodyBudget {
  readonly #max: number;
  #used = 0;

  /** @param max total bytes (an integer, at least the per-request body limit). */
  constructor(max: number, bodyLimit: number) {
    if (!Number.isInteger(max) || max < bodyLimit) {
      throw new SmallWebRTCRangeError(
        'ERR_INVALID_ARG',
        'maxInflightBodyBytes must be an integer >= maxBodyBytes',
      );
    }
    this.#max = max;
  }

  /** Bytes counted now. */
  get used(): number {
    return this.#used;
  }

  /** A lease for one request. */
  lease(): BodyLease {
    let held = 0;
    let released = false;
    return {
      take: (n: number): boolean => {
        if (released || this.#used + n > this.#max) return false;
        this.#used += n;
        held += n;
        return true;
      },
      release: (): void => {
        if (released) return;
        released = true;
        this.#used -= held;
        held = 0;
      },
    };
  }
}
