/**
 * Typed errors with stable `code`s, shared by every module of small-webrtc.
 *
 * Callers branch on `err.code` (stable), never on messages (free text). Bad arguments are `TypeError` /
 * `RangeError` subclasses so generic handling (`instanceof TypeError`) keeps working.
 */

/** Stable error codes. Extend the union when a module needs a new one; never rename an existing code. */
export type SmallWebRTCErrorCode =
  | 'ERR_INVALID_ARG'
  | 'ERR_INVALID_SDP'
  | 'ERR_INVALID_CANDIDATE'
  | 'ERR_INVALID_STATE'
  | 'ERR_CLOSED'
  | 'ERR_MESSAGE_TOO_LARGE'
  | 'ERR_TIMEOUT'
  | 'ERR_INTERNAL'
  | 'ERR_VP8_MALFORMED'
  | (string & Record<never, never>);

/** Base error of the library: an `Error` with a stable `code`. */
export class SmallWebRTCError extends Error {
  /** Stable, machine-readable reason (see {@link SmallWebRTCErrorCode}). */
  readonly code: SmallWebRTCErrorCode;

  constructor(code: SmallWebRTCErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SmallWebRTCError';
    this.code = code;
  }
}

/** A `TypeError` with a stable `code` (a field of the wrong type or shape). */
export class SmallWebRTCTypeError extends TypeError {
  /** Stable, machine-readable reason. Usually `ERR_INVALID_ARG`. */
  readonly code: SmallWebRTCErrorCode;

  constructor(code: SmallWebRTCErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SmallWebRTCTypeError';
    this.code = code;
  }
}

/** A `RangeError` with a stable `code` (a value out of its allowed range, e.g. a message too large). */
export class SmallWebRTCRangeError extends RangeError {
  /** Stable, machine-readable reason, e.g. `ERR_MESSAGE_TOO_LARGE`. */
  readonly code: SmallWebRTCErrorCode;

  constructor(code: SmallWebRTCErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SmallWebRTCRangeError';
    this.code = code;
  }
}
