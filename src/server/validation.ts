/**
 * Validation of signalling request bodies at the HTTP boundary (docs/protocol.md, "Offer request" and
 * "Trickle ICE (PATCH)"). Everything that reaches `SmallWebRTCConnection` has been checked here first, so bad
 * input becomes a clear 400 and never a crash deep inside libdatachannel. Unknown extra fields are ignored
 * (Pipecat clients add fields over time).
 */
import { HttpError } from './http-error.js';

/** Limits applied to signalling bodies. */
export interface SignallingLimits {
  /** Max SDP length in characters (default 128 KiB; a Chrome offer with 3 transceivers is ~6-10 KiB). */
  maxSdpLength: number;
  /** Max number of `m=` sections in an offer (default 16 as the connection's; Pipecat clients use at most 4). */
  maxMediaSections: number;
  /** Max number of candidates in one PATCH (default 64; the JS client batches 200 ms of candidates). */
  maxCandidates: number;
}

/** Default {@link SignallingLimits}. */
export const DEFAULT_SIGNALLING_LIMITS: Readonly<SignallingLimits> = Object.freeze({
  maxSdpLength: 128 * 1024,
  maxMediaSections: 16,
  maxCandidates: 64,
});

/** A validated offer request (`SmallWebRTCRequest` in Python, `rh.py` L25-48). */
export interface SmallWebRTCRequest {
  /** Offer SDP. */
  sdp: string;
  /** Always `'offer'`. */
  type: 'offer';
  /** Server-issued id of an existing connection, or null for a new one. */
  pcId: string | null;
  /** True: rebuild the server peer (client-side "recreate PC" reconnection). */
  restartPc: boolean;
  /** `request_data` or camelCase `requestData` (the JS client sends the latter); undefined if absent. */
  requestData: unknown;
}

/** One validated trickle candidate. `candidate === ''` means end-of-candidates. */
export interface SmallWebRTCIceCandidate {
  /** The `candidate:` attribute value (with any `a=` prefix removed), or '' for end-of-candidates. */
  candidate: string;
  /** Media id the candidate was gathered for, if given. */
  sdpMid: string | null;
  /** m-line index the candidate was gathered for, if given. */
  sdpMLineIndex: number | null;
}

/** A validated PATCH request (`SmallWebRTCPatchRequest`, `rh.py` L51-76). */
export interface SmallWebRTCPatchRequest {
  /** Connection id from the answer. */
  pcId: string;
  /** Candidates to add, in order. */
  candidates: SmallWebRTCIceCandidate[];
}

const MAX_PC_ID_LENGTH = 256;
const MAX_CANDIDATE_LENGTH = 1024;
const MAX_MID_LENGTH = 64;

/** Throws a 400 unless `body` is a plain JSON object. */
function asObject(body: unknown): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new HttpError(400, 'Request body must be a JSON object');
  }
  return body as Record<string, unknown>;
}

function optionalPcId(value: unknown): string | null {
  if (value === undefined || value === null || value === '') return null;
  if (typeof value !== 'string') throw new HttpError(400, 'pc_id must be a string or null');
  if (value.length > MAX_PC_ID_LENGTH) throw new HttpError(400, 'pc_id is too long');
  return value;
}

/**
 * Checks that `sdp` is a non-empty string that looks like an SDP session description with between 1 and
 * `limits.maxMediaSections` media sections. Not a full parser: libdatachannel parses it afterwards, and its
 * errors map to 400 too (`ERR_INVALID_SDP`).
 */
export function validateSdp(sdp: unknown, limits: SignallingLimits = DEFAULT_SIGNALLING_LIMITS): string {
  if (sdp === undefined || sdp === null) throw new HttpError(400, 'sdp is required');
  if (typeof sdp !== 'string') throw new HttpError(400, 'sdp must be a string');
  if (sdp.length === 0) throw new HttpError(400, 'sdp must not be empty');
  if (sdp.length > limits.maxSdpLength) {
    throw new HttpError(400, `sdp is too long (max ${limits.maxSdpLength} characters)`);
  }
  if (!/^v=0\r?\n/.test(sdp))
    throw new HttpError(400, 'sdp is not a session description (must start with v=0)');
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(sdp)) {
    throw new HttpError(400, 'sdp contains control characters');
  }
  let mediaSections = 0;
  let hasOrigin = false;
  for (const line of sdp.split(/\r?\n/)) {
    if (line.length === 0) continue;
    if (!/^[a-z]=/.test(line))
      throw new HttpError(400, 'sdp has a malformed line (expected <letter>=<value>)');
    if (line.startsWith('m=')) {
      mediaSections++;
      if (!/^m=(audio|video|application|text|message) \d+(\/\d+)? \S+( \S+)*$/.test(line)) {
        throw new HttpError(400, 'sdp has a malformed m= line');
      }
      if (mediaSections > limits.maxMediaSections) {
        throw new HttpError(400, `sdp has too many media sections (max ${limits.maxMediaSections})`);
      }
    } else if (line.startsWith('o=')) {
      hasOrigin = true;
    }
  }
  if (!hasOrigin) throw new HttpError(400, 'sdp has no o= line');
  if (mediaSections === 0) throw new HttpError(400, 'sdp has no media sections');
  return sdp;
}

/**
 * Validates a POST /api/offer body. Accepts both `request_data` and `requestData` (docs/protocol.md, "Offer
 * request"); ignores unknown fields.
 */
export function parseOfferRequest(
  body: unknown,
  limits: SignallingLimits = DEFAULT_SIGNALLING_LIMITS,
): SmallWebRTCRequest {
  const obj = asObject(body);
  if (obj.type !== 'offer') {
    throw new HttpError(400, typeof obj.type === 'string' ? "type must be 'offer'" : 'type is required');
  }
  const sdp = validateSdp(obj.sdp, limits);
  const pcId = optionalPcId(obj.pc_id);
  const restart = obj.restart_pc;
  if (restart !== undefined && restart !== null && typeof restart !== 'boolean') {
    throw new HttpError(400, 'restart_pc must be a boolean or null');
  }
  // null counts as absent (Python: `request_data or requestData or <cached /start body>`).
  const requestData = obj.request_data ?? obj.requestData ?? undefined;
  return { sdp, type: 'offer', pcId, restartPc: restart === true, requestData };
}

/** A loose shape check of an ICE candidate attribute (RFC 8839 §5.1): foundation, component, transport... */
const CANDIDATE_RE =
  /^candidate:\S{1,32} \d{1,5} (udp|tcp) \d{1,10} \S{1,255} \d{1,5} typ (host|srflx|prflx|relay)( .*)?$/i;

/**
 * Validates a PATCH /api/offer body (docs/protocol.md, "Trickle ICE (PATCH)"):
 * `{ pc_id, candidates: [{ candidate, sdp_mid, sdp_mline_index }] }`.
 */
export function parsePatchRequest(
  body: unknown,
  limits: SignallingLimits = DEFAULT_SIGNALLING_LIMITS,
): SmallWebRTCPatchRequest {
  const obj = asObject(body);
  const pcId = optionalPcId(obj.pc_id);
  if (pcId === null) throw new HttpError(400, 'pc_id is required');
  const list = obj.candidates;
  if (!Array.isArray(list)) throw new HttpError(400, 'candidates must be an array');
  if (list.length > limits.maxCandidates) {
    throw new HttpError(400, `too many candidates (max ${limits.maxCandidates})`);
  }
  const candidates = list.map((entry: unknown, i): SmallWebRTCIceCandidate => {
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
      throw new HttpError(400, `candidates[${i}] must be an object`);
    }
    const c = entry as Record<string, unknown>;
    if (typeof c.candidate !== 'string')
      throw new HttpError(400, `candidates[${i}].candidate must be a string`);
    const text = c.candidate.startsWith('a=') ? c.candidate.slice(2) : c.candidate;
    if (text.length > MAX_CANDIDATE_LENGTH)
      throw new HttpError(400, `candidates[${i}].candidate is too long`);
    if (text !== '' && !CANDIDATE_RE.test(text)) {
      throw new HttpError(400, `candidates[${i}].candidate is not an ICE candidate`);
    }
    // Accept snake_case (Pipecat wire format) and camelCase (RTCIceCandidateInit) names.
    const mid = c.sdp_mid !== undefined ? c.sdp_mid : c.sdpMid;
    if (mid !== undefined && mid !== null && (typeof mid !== 'string' || mid.length > MAX_MID_LENGTH)) {
      throw new HttpError(400, `candidates[${i}].sdp_mid must be a short string or null`);
    }
    const index = c.sdp_mline_index !== undefined ? c.sdp_mline_index : c.sdpMLineIndex;
    if (
      index !== undefined &&
      index !== null &&
      (typeof index !== 'number' || !Number.isInteger(index) || index < 0 || index > 1023)
    ) {
      throw new HttpError(400, `candidates[${i}].sdp_mline_index must be a non-negative integer or null`);
    }
    return {
      candidate: text,
      sdpMid: typeof mid === 'string' ? mid : null,
      sdpMLineIndex: typeof index === 'number' ? index : null,
    };
  });
  return { pcId, candidates };
}

/**
 * ESP32 answer munging (docs/protocol.md, "ESP32 answer munging"; Pipecat `smallwebrtc_sdp_munging`): drop
 * every line mentioning `sha-384` or `sha-512` (the ESP32 stack only does sha-256), and when `host` is set
 * keep only `a=candidate` lines that contain `host` and no `raddr` (host candidates of that address). Python
 * uses `host` as a regex; we match it literally (a subset for IP addresses, and no regex injection). Lines
 * are re-joined with CRLF.
 */
export function mungeSdpForEsp32(sdp: string, host: string | null | undefined): string {
  const lines = sdp.split(/\r?\n/).filter((line) => line.length > 0);
  const kept = lines.filter((line) => {
    if (line.includes('sha-384') || line.includes('sha-512')) return false;
    if (host && line.startsWith('a=candidate')) return line.includes(host) && !line.includes('raddr');
    return true;
  });
  return kept.join('\r\n') + '\r\n';
}
