/**
 * Typed errors with stable `code`s, shared by every module of small-webrtc, and the one catalog of those codes.
 *
 * Callers branch on `err.code` (stable), never on messages (free text). Bad arguments are `TypeError` /
 * `RangeError` subclasses so generic handling (`instanceof TypeError`) keeps working. The native addon throws
 * plain `TypeError`/`RangeError`/`Error` objects carrying a `code` from the same catalog (its constants live in
 * `native/binding/errors.h`; a test checks the two lists agree). `docs/errors.md` documents every code.
 */

/**
 * Every error code the library throws (TypeScript and native addon), with what it means. Codes are stable:
 * add new ones here (and in `docs/errors.md`), never rename or reuse one.
 */
export const ERROR_CODES = {
  /** An argument or option has the wrong type, shape or value (`TypeError` or `RangeError`). */
  ERR_INVALID_ARG: 'an argument or option has the wrong type, shape or value',
  /** A session description (offer/answer) is malformed, too large or unusable. */
  ERR_INVALID_SDP: 'a session description is malformed, too large or unusable',
  /** A trickled ICE candidate is malformed or names an unknown media section. */
  ERR_INVALID_CANDIDATE: 'an ICE candidate is malformed or names an unknown media section',
  /** The call is not valid in the object's current state (e.g. before negotiation, or twice). */
  ERR_INVALID_STATE: "the call is not valid in the object's current state",
  /** The object (connection, track, codec, analyzer, ...) was closed; the call has no effect. */
  ERR_CLOSED: 'the object was closed',
  /** A message is larger than the transport accepts (data channel, signalling). */
  ERR_MESSAGE_TOO_LARGE: 'a message is larger than the transport accepts',
  /** JSON from a peer nests arrays/objects deeper than the library accepts (`MAX_JSON_DEPTH`). */
  ERR_MESSAGE_TOO_DEEP: 'JSON from a peer nests deeper than the library accepts',
  /** An unexpected failure inside the library or node-datachannel; the `cause` holds the original error. */
  ERR_INTERNAL: 'an unexpected failure inside the library or one of its dependencies',
  /** An RTP packet failed a structural check (the error's `reason` names the check). Native. */
  ERR_RTP_MALFORMED: 'an RTP packet failed a structural check',
  /** An RTCP compound packet failed a structural check (the error's `reason` names the check). Native. */
  ERR_RTCP_MALFORMED: 'an RTCP packet failed a structural check',
  /** A VP8 RTP payload failed a structural check (the error's `reason` names the check). Native. */
  ERR_VP8_MALFORMED: 'a VP8 RTP payload failed a structural check',
  /** The audio codec (libopus) or resampler (speexdsp) reported a failure on well-formed input. Native. */
  ERR_CODEC: 'the audio codec or resampler reported a failure',
  /** An output buffer passed to the native addon is too small for the result. Native. */
  ERR_BUFFER_TOO_SMALL: 'an output buffer is too small for the result',
  /** The voice activity detector cannot run: onnxruntime-node or the Silero model cannot be loaded. */
  ERR_VAD_UNAVAILABLE: 'the voice activity detector cannot be loaded',
  /** An ICE server URL the networking library cannot use (TURN over TCP/TLS, `stuns:`, with libjuice). */
  ERR_UNSUPPORTED_ICE_SERVER: 'an ICE server URL the networking library cannot use',
  /** An HTTP signalling error; `HttpError.status` holds the status and `detail` the client-visible text. */
  ERR_HTTP: 'an HTTP signalling request was rejected',
  /** The native addon (small_webrtc.node) cannot be loaded; the message lists causes and fixes. */
  ERR_NATIVE_ADDON_LOAD: 'the native addon cannot be loaded',
} as const;

/** Stable error codes: the keys of {@link ERROR_CODES}. */
export type SmallWebRTCErrorCode = keyof typeof ERROR_CODES;

/** True when `code` is one of the library's error codes. */
export function isSmallWebRTCErrorCode(code: unknown): code is SmallWebRTCErrorCode {
  return typeof code === 'string' && Object.prototype.hasOwnProperty.call(ERROR_CODES, code);
}

/**
 * The `code` of any thrown value (a library error, a native addon error, a Node.js system error), or
 * `undefined` when it has none.
 */
export function errorCode(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' ? code : undefined;
}

/** Base error of the library: an `Error` with a stable `code`. */
export class SmallWebRTCError extends Error {
  /** Stable, machine-readable reason (see {@link ERROR_CODES}). */
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
