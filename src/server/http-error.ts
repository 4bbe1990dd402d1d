import { SmallWebRTCError } from '../errors.js';

/**
 * An error that maps to one HTTP response: a status, a human-readable `detail` (sent as `{ "detail": ... }`,
 * the shape FastAPI uses and Pipecat clients log) and optional extra headers (e.g. `Retry-After`).
 *
 * Why the status matters: the Pipecat JS client treats every 4xx on the offer as fatal (no retry) and retries
 * 5xx / network errors up to 3 times with `restart_pc: true`. So only truly bad requests get 4xx.
 */
export class HttpError extends SmallWebRTCError {
  /** HTTP status code (400..599). */
  readonly status: number;
  /** Message for the client; never contains stack traces or internal state. */
  readonly detail: string;
  /** Extra response headers, e.g. `{ 'Retry-After': '2' }`. */
  readonly headers: Readonly<Record<string, string>>;

  /**
   * @param status HTTP status (400..599).
   * @param detail client-visible message.
   * @param headers extra response headers.
   */
  constructor(status: number, detail: string, headers: Record<string, string> = {}) {
    super('ERR_HTTP', detail);
    this.name = 'HttpError';
    this.status = status;
    this.detail = detail;
    this.headers = headers;
  }
}

/** True when `err` looks like an `HttpError` (also across module copies). */
export function isHttpError(err: unknown): err is HttpError {
  return (
    err instanceof HttpError ||
    (typeof err === 'object' &&
      err !== null &&
      (err as { code?: unknown }).code === 'ERR_HTTP' &&
      typeof (err as { status?: unknown }).status === 'number')
  );
}
