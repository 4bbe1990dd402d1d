/**
 * Every rule for input that comes from outside the process, in one place with one error format: the SDP
 * offer text, trickled ICE candidates, ICE server lists, and the signalling request bodies that carry them.
 *
 * Errors are the library's coded errors (docs/errors.md): a wrongly typed or shaped field is a
 * `SmallWebRTCTypeError`/`SmallWebRTCRangeError` `ERR_INVALID_ARG`, an unusable offer a `SmallWebRTCError`
 * `ERR_INVALID_SDP`, a bad candidate `ERR_INVALID_CANDIDATE`. The HTTP layer turns all three into a 400 whose
 * `detail` is the message, so the messages name the field and never echo large input.
 *
 * The offer is validated once: the request handler checks only the body around it (type, size, ids), and
 * `SmallWebRTCConnection` runs {@link checkSdpText} (through its SDP parser) when it is given the offer.
 */
import { SmallWebRTCError, SmallWebRTCRangeError, SmallWebRTCTypeError } from './errors.js';

/** Limits applied to signalling input. */
export interface SignallingLimits {
  /** Max SDP length in characters (default 128 KiB; a Chrome offer with 3 transceivers is ~6-10 KiB). */
  maxSdpLength: number;
  /** Max number of `m=` sections in an offer, 1-64 (default 16; Pipecat clients use at most 4). */
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

/** Upper bound of `maxMediaSections`: far above any real client, low enough to bound the per-offer work. */
export const MAX_MEDIA_SECTIONS_LIMIT = 64;

/**
 * Validates and completes partial limits (the request handler's `limits` option).
 * @throws SmallWebRTCRangeError `ERR_INVALID_ARG` naming the bad limit.
 */
export function checkSignallingLimits(limits: Partial<SignallingLimits> | undefined): SignallingLimits {
  if (limits !== undefined && (typeof limits !== 'object' || limits === null)) {
    throw new SmallWebRTCTypeError('ERR_INVALID_ARG', 'limits must be an object');
  }
  const out = { ...DEFAULT_SIGNALLING_LIMITS, ...(limits ?? {}) };
  const check = (name: keyof SignallingLimits, max: number): void => {
    const v = out[name];
    if (!Number.isInteger(v) || v < 1 || v > max) {
      throw new SmallWebRTCRangeError('ERR_INVALID_ARG', `limits.${name} must be an integer 1-${max}`);
    }
  };
  check('maxSdpLength', 16 * 1024 * 1024);
  check('maxMediaSections', MAX_MEDIA_SECTIONS_LIMIT);
  check('maxCandidates', 4096);
  return out;
}

function invalidSdp(message: string): SmallWebRTCError {
  return new SmallWebRTCError('ERR_INVALID_SDP', message);
}

/** The presence, type and size of an SDP field (the part of the offer a request body check needs). */
function checkSdpField(sdp: unknown, maxSdpLength: number): string {
  if (sdp === undefined || sdp === null) throw new SmallWebRTCTypeError('ERR_INVALID_ARG', 'sdp is required');
  if (typeof sdp !== 'string') throw new SmallWebRTCTypeError('ERR_INVALID_ARG', 'sdp must be a string');
  if (sdp.length === 0) throw invalidSdp('sdp must not be empty');
  if (sdp.length > maxSdpLength) throw invalidSdp(`sdp is too long (max ${maxSdpLength} characters)`);
  return sdp;
}

/**
 * The text-level rules of an SDP offer: a string of at most `maxSdpLength` characters, `v=0` first, no control
 * characters, every line `<letter>=<value>`, well-formed `m=` lines, an `o=` line, and 1 to
 * `maxMediaSections` media sections. Not a parser: the connection's SDP parser runs this first and then
 * checks what it needs (mids, ICE credentials, DTLS fingerprint), and libdatachannel parses it afterwards.
 *
 * @throws SmallWebRTCError `ERR_INVALID_SDP`; SmallWebRTCTypeError `ERR_INVALID_ARG` when `sdp` is not a string.
 */
export function checkSdpText(
  sdp: unknown,
  limits: Pick<SignallingLimits, 'maxSdpLength' | 'maxMediaSections'> = DEFAULT_SIGNALLING_LIMITS,
): string {
  const text = checkSdpField(sdp, limits.maxSdpLength);
  if (!/^v=0\r?\n/.test(text)) throw invalidSdp('sdp is not a session description (must start with v=0)');
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(text)) {
    throw invalidSdp('sdp contains control characters');
  }
  let mediaSections = 0;
  let hasOrigin = false;
  for (const line of text.split(/\r?\n/)) {
    if (line.length === 0) continue;
    if (!/^[a-z]=/.test(line)) throw invalidSdp('sdp has a malformed line (expected <letter>=<value>)');
    if (line.startsWith('m=')) {
      mediaSections++;
      if (!/^m=(audio|video|application|text|message) \d{1,5}(\/\d+)? \S+( \S+)*$/.test(line)) {
        throw invalidSdp('sdp has a malformed m= line');
      }
      if (mediaSections > limits.maxMediaSections) {
        throw invalidSdp(`sdp has too many media sections (max ${limits.maxMediaSections})`);
      }
    } else if (line.startsWith('o=')) {
      hasOrigin = true;
    }
  }
  if (!hasOrigin) throw invalidSdp('sdp has no o= line');
  if (mediaSections === 0) throw invalidSdp('sdp has no media sections');
  return text;
}

/** A remote ICE candidate, parsed from the `candidate:` attribute (RFC 8839 section 5.1). */
export interface ParsedCandidate {
  foundation: string;
  component: number;
  transport: 'udp' | 'tcp';
  priority: number;
  address: string;
  port: number;
  type: 'host' | 'srflx' | 'prflx' | 'relay';
}

/** Longest candidate attribute accepted (real ones are ~100-200 characters). */
export const MAX_CANDIDATE_LENGTH = 1024;

/** Longest `sdpMid` accepted (Pipecat clients use `0`-`3`). */
export const MAX_MID_LENGTH = 64;

/** RFC 8839 section 5.1: foundation, component, transport, priority, address, port, `typ` and the type. */
const CANDIDATE_RE =
  /^candidate:([A-Za-z0-9+/]{1,32}) (\d{1,3}) (udp|tcp) (\d{1,10}) ([0-9A-Za-z.:\-_%]{1,255}) (\d{1,5}) typ (host|srflx|prflx|relay)(?: .*)?$/i;

/** Parses a candidate string (with or without the `a=` prefix); returns null if it is not a valid candidate. */
export function parseCandidate(candidate: string): ParsedCandidate | null {
  if (typeof candidate !== 'string' || candidate.length > MAX_CANDIDATE_LENGTH) return null;
  const text = candidate.startsWith('a=') ? candidate.slice(2) : candidate;
  const m = CANDIDATE_RE.exec(text.trim());
  if (!m) return null;
  const port = Number(m[6]);
  const priority = Number(m[4]);
  if (port > 65535 || priority > 0xffffffff) return null;
  return {
    foundation: m[1] ?? '',
    component: Number(m[2]),
    transport: (m[3] ?? 'udp').toLowerCase() as 'udp' | 'tcp',
    priority,
    address: m[5] ?? '',
    port,
    type: (m[7] ?? 'host').toLowerCase() as ParsedCandidate['type'],
  };
}

/** An ICE candidate from trickle (PATCH). `null` or an empty `candidate` means end-of-candidates. */
export interface RemoteIceCandidate {
  candidate: string;
  sdpMid?: string | null;
  sdpMLineIndex?: number | null;
}

/** A trickled candidate that passed {@link checkRemoteCandidate}. */
export interface CheckedCandidate {
  /** The candidate line, trimmed (with or without its `a=` prefix). */
  text: string;
  parsed: ParsedCandidate;
  sdpMid: string | null;
  sdpMLineIndex: number | null;
}

/**
 * The rules for one trickled candidate, wherever it comes from (a PATCH body or `addIceCandidate`): the
 * candidate a string (`''` is end-of-candidates), else an RFC 8839 candidate; the mid a short string or
 * null; the m-line index an integer 0-1023 or null. `field` and `names` say how the caller spells them in
 * messages. Returns null for end-of-candidates.
 */
function checkCandidateFields(
  candidate: unknown,
  mid: unknown,
  index: unknown,
  field: string,
  names: { mid: string; index: string },
): CheckedCandidate | null {
  if (typeof candidate !== 'string') {
    throw new SmallWebRTCTypeError('ERR_INVALID_ARG', `${field}.candidate must be a string`);
  }
  if (mid !== undefined && mid !== null && (typeof mid !== 'string' || mid.length > MAX_MID_LENGTH)) {
    throw new SmallWebRTCTypeError('ERR_INVALID_ARG', `${field}.${names.mid} must be a short string or null`);
  }
  if (
    index !== undefined &&
    index !== null &&
    (typeof index !== 'number' || !Number.isInteger(index) || index < 0 || index > 1023)
  ) {
    throw new SmallWebRTCTypeError(
      'ERR_INVALID_ARG',
      `${field}.${names.index} must be a non-negative integer or null`,
    );
  }
  const text = candidate.trim();
  if (text === '') return null;
  if (text.length > MAX_CANDIDATE_LENGTH) {
    throw new SmallWebRTCError('ERR_INVALID_CANDIDATE', `${field}.candidate is too long`);
  }
  const parsed = parseCandidate(text);
  if (parsed === null) {
    throw new SmallWebRTCError('ERR_INVALID_CANDIDATE', `${field}.candidate is not an ICE candidate`);
  }
  return {
    text,
    parsed,
    sdpMid: typeof mid === 'string' ? mid : null,
    sdpMLineIndex: typeof index === 'number' ? index : null,
  };
}

/**
 * Checks the argument of `SmallWebRTCConnection.addIceCandidate`. Returns null for end-of-candidates (`null`,
 * or an empty `candidate`: RFC 8840, Firefox), which libdatachannel does not need.
 *
 * @throws SmallWebRTCTypeError `ERR_INVALID_ARG` for wrong field types; SmallWebRTCError
 *   `ERR_INVALID_CANDIDATE` for a line that is not an ICE candidate.
 */
export function checkRemoteCandidate(c: RemoteIceCandidate | null): CheckedCandidate | null {
  if (c === null || c === undefined) return null;
  if (typeof c !== 'object') {
    throw new SmallWebRTCTypeError('ERR_INVALID_ARG', 'candidate must be an object or null');
  }
  return checkCandidateFields(c.candidate, c.sdpMid, c.sdpMLineIndex, 'candidate', {
    mid: 'sdpMid',
    index: 'sdpMLineIndex',
  });
}

/**
 * Checks an offer argument of `SmallWebRTCConnection.initialize` / `renegotiate` (`{ sdp, type: 'offer' }`)
 * and returns its SDP text (whose content the connection's SDP parser validates).
 *
 * @throws SmallWebRTCTypeError `ERR_INVALID_ARG` (wrong shape); SmallWebRTCError `ERR_INVALID_SDP` (not an
 *   offer). `what` names the calling method in the message.
 */
export function checkOffer(offer: unknown, what: string): string {
  if (typeof offer !== 'object' || offer === null) {
    throw new SmallWebRTCTypeError('ERR_INVALID_ARG', `${what}: offer must be an object {sdp, type}`);
  }
  const { sdp, type } = offer as { sdp?: unknown; type?: unknown };
  if (typeof sdp !== 'string') {
    throw new SmallWebRTCTypeError('ERR_INVALID_ARG', `${what}: offer.sdp must be a string`);
  }
  if (type !== 'offer') throw new SmallWebRTCError('ERR_INVALID_SDP', `${what}: offer.type must be "offer"`);
  return sdp;
}

/**
 * An ICE server as in the W3C `RTCIceServer` / aiortc `RTCIceServer` (Pipecat's `IceServer`): one or more
 * `stun:`, `stuns:`, `turn:` or `turns:` URLs sharing one set of credentials.
 */
export interface IceServer {
  /** `stun:host[:port]`, `turn:host[:port][?transport=udp|tcp]`, `turns:host[:port][?transport=tcp]`. */
  urls: string | string[];
  /** TURN username (required for `turn:`/`turns:`). */
  username?: string;
  /** TURN password (required for `turn:`/`turns:`). */
  credential?: string;
}

/** One ICE server URL, split into what node-datachannel's object form needs. */
export interface ParsedIceUrl {
  turn: boolean;
  /** `stuns:` or `turns:` (over TLS). */
  secure: boolean;
  hostname: string;
  port: number;
  relayType?: 'TurnUdp' | 'TurnTcp' | 'TurnTls';
}

const URL_RE =
  /^(stuns?|turns?):(?:\/\/)?(\[[0-9A-Fa-f:.]+\]|[^:?#/@[\]\s]+)(?::(\d{1,5}))?(?:\?([^#\s]*))?$/i;

/**
 * Parses one ICE server URL (`field` names it in errors).
 * @throws SmallWebRTCTypeError `ERR_INVALID_ARG` for a malformed URL, port or transport.
 */
export function parseIceUrl(url: string, field: string): ParsedIceUrl {
  const m = URL_RE.exec(url.trim());
  if (!m) {
    throw new SmallWebRTCTypeError(
      'ERR_INVALID_ARG',
      `${field}: invalid ICE server URL ${JSON.stringify(url)}`,
    );
  }
  const scheme = (m[1] ?? '').toLowerCase();
  const hostname = (m[2] ?? '').replace(/^\[|\]$/g, '');
  const secure = scheme === 'stuns' || scheme === 'turns';
  const port = m[3] !== undefined ? Number(m[3]) : secure ? 5349 : 3478;
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new SmallWebRTCTypeError('ERR_INVALID_ARG', `${field}: invalid port in ${JSON.stringify(url)}`);
  }
  const transport = /(?:^|&)transport=([a-z]+)/i.exec(m[4] ?? '')?.[1]?.toLowerCase();
  if (transport !== undefined && transport !== 'udp' && transport !== 'tcp') {
    throw new SmallWebRTCTypeError(
      'ERR_INVALID_ARG',
      `${field}: unsupported transport=${transport} in ${url}`,
    );
  }
  if (scheme.startsWith('stun')) return { turn: false, secure, hostname, port };
  // turns: is TURN over TLS (TCP); RFC 7065 has no DTLS variant in libjuice, so transport=udp maps to TLS too.
  const relayType = scheme === 'turns' ? 'TurnTls' : transport === 'tcp' ? 'TurnTcp' : 'TurnUdp';
  return { turn: true, secure, hostname, port, relayType };
}

/**
 * Refuses what the prebuilt node-datachannel would silently ignore: TURN over TCP/TLS and `stuns:`. It builds
 * libdatachannel v0.24.5 with libjuice (`USE_NICE` OFF), whose `src/impl/icetransport.cpp` skips every TURN
 * server that is not `TurnUdp`; libjuice's `juice_turn_server_t` has no transport field (README, "TURN").
 * @throws SmallWebRTCRangeError `ERR_UNSUPPORTED_ICE_SERVER`.
 */
function checkUsableIceUrl(p: ParsedIceUrl, url: string, field: string): void {
  if (p.relayType === 'TurnTcp' || p.relayType === 'TurnTls' || (!p.turn && p.secure)) {
    throw new SmallWebRTCRangeError(
      'ERR_UNSUPPORTED_ICE_SERVER',
      `${field}: ${url} needs ${p.turn ? 'TURN' : 'STUN'} over TCP/TLS, which node-datachannel's ICE backend ` +
        '(libjuice, UDP only) cannot use; use a turn: URL over UDP',
    );
  }
}

/**
 * Validates an `iceServers` option and returns it normalized to `IceServer[]` (URLs as arrays).
 *
 * Mirrors Pipecat (`SmallWebRTCConnection.__init__`): a list of URL strings or a list of `IceServer` objects;
 * a mixed list is a `TypeError`. Every URL is checked here so a typo fails at construction, not at gathering
 * time, and TURN URLs need a username and credential.
 * @throws SmallWebRTCTypeError `ERR_INVALID_ARG` naming the bad entry; SmallWebRTCRangeError
 * `ERR_UNSUPPORTED_ICE_SERVER` for TURN over TCP/TLS or `stuns:` (unusable with libjuice, never ignored).
 */
export function normalizeIceServers(input: unknown): IceServer[] {
  if (input === undefined || input === null) return [];
  if (!Array.isArray(input)) throw new SmallWebRTCTypeError('ERR_INVALID_ARG', 'iceServers must be an array');
  const strings = input.filter((s) => typeof s === 'string').length;
  if (strings !== 0 && strings !== input.length) {
    throw new SmallWebRTCTypeError(
      'ERR_INVALID_ARG',
      'iceServers must be all URL strings or all IceServer objects, not a mix',
    );
  }
  const out: IceServer[] = [];
  input.forEach((item: unknown, i: number) => {
    if (typeof item === 'string') {
      checkUsableIceUrl(parseIceUrl(item, `iceServers[${i}]`), item, `iceServers[${i}]`);
      out.push({ urls: item });
      return;
    }
    if (typeof item !== 'object' || item === null) {
      throw new SmallWebRTCTypeError(
        'ERR_INVALID_ARG',
        `iceServers[${i}] must be a string or an IceServer object`,
      );
    }
    const { urls, username, credential } = item as Record<string, unknown>;
    const list = typeof urls === 'string' ? [urls] : urls;
    if (!Array.isArray(list) || list.length === 0 || !list.every((u) => typeof u === 'string')) {
      throw new SmallWebRTCTypeError(
        'ERR_INVALID_ARG',
        `iceServers[${i}].urls must be a string or a non-empty array of strings`,
      );
    }
    if (username !== undefined && username !== null && typeof username !== 'string') {
      throw new SmallWebRTCTypeError('ERR_INVALID_ARG', `iceServers[${i}].username must be a string`);
    }
    if (credential !== undefined && credential !== null && typeof credential !== 'string') {
      throw new SmallWebRTCTypeError('ERR_INVALID_ARG', `iceServers[${i}].credential must be a string`);
    }
    for (const u of list as string[]) {
      const parsed = parseIceUrl(u, `iceServers[${i}].urls`);
      checkUsableIceUrl(parsed, u, `iceServers[${i}].urls`);
      if (parsed.turn && (typeof username !== 'string' || typeof credential !== 'string')) {
        throw new SmallWebRTCTypeError(
          'ERR_INVALID_ARG',
          `iceServers[${i}]: TURN URL ${u} needs username and credential`,
        );
      }
    }
    const server: IceServer = { urls: [...(list as string[])] };
    if (typeof username === 'string') server.username = username;
    if (typeof credential === 'string') server.credential = credential;
    out.push(server);
  });
  return out;
}

/** A validated offer request (Pipecat's `SmallWebRTCRequest`). */
export interface SmallWebRTCRequest {
  /** Offer SDP (its content is validated by the connection it is given to). */
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

/** A validated PATCH request (Pipecat's `SmallWebRTCPatchRequest`). */
export interface SmallWebRTCPatchRequest {
  /** Connection id from the answer. */
  pcId: string;
  /** Candidates to add, in order. */
  candidates: SmallWebRTCIceCandidate[];
}

const MAX_PC_ID_LENGTH = 256;

function badBody(message: string): SmallWebRTCTypeError {
  return new SmallWebRTCTypeError('ERR_INVALID_ARG', message);
}

/** `body` as a plain JSON object. */
function asObject(body: unknown): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw badBody('Request body must be a JSON object');
  }
  return body as Record<string, unknown>;
}

function optionalPcId(value: unknown): string | null {
  if (value === undefined || value === null || value === '') return null;
  if (typeof value !== 'string') throw badBody('pc_id must be a string or null');
  if (value.length > MAX_PC_ID_LENGTH) throw badBody('pc_id is too long');
  return value;
}

/**
 * Validates a POST /api/offer body (docs/protocol.md, "Offer request"):
 * `{ sdp, type: 'offer', pc_id?, restart_pc?, request_data? | requestData? }`
 * (unknown fields are ignored: Pipecat clients add fields over time). The SDP is checked for presence, type
 * and `limits.maxSdpLength` here; its content once, by the connection it is given to.
 * @throws SmallWebRTCTypeError `ERR_INVALID_ARG`, SmallWebRTCError `ERR_INVALID_SDP`.
 */
export function parseOfferRequest(
  body: unknown,
  limits: SignallingLimits = DEFAULT_SIGNALLING_LIMITS,
): SmallWebRTCRequest {
  const obj = asObject(body);
  if (obj.type !== 'offer') {
    throw badBody(typeof obj.type === 'string' ? "type must be 'offer'" : 'type is required');
  }
  const sdp = checkSdpField(obj.sdp, limits.maxSdpLength);
  const pcId = optionalPcId(obj.pc_id);
  const restart = obj.restart_pc;
  if (restart !== undefined && restart !== null && typeof restart !== 'boolean') {
    throw badBody('restart_pc must be a boolean or null');
  }
  // null counts as absent (Python: `request_data or requestData or <cached /start body>`).
  const requestData = obj.request_data ?? obj.requestData ?? undefined;
  return { sdp, type: 'offer', pcId, restartPc: restart === true, requestData };
}

/**
 * Validates a PATCH /api/offer body (docs/protocol.md, "Trickle ICE (PATCH)"):
 * `{ pc_id, candidates: [{ candidate, sdp_mid, sdp_mline_index }] }`
 * (camelCase `sdpMid` / `sdpMLineIndex` accepted too).
 * @throws SmallWebRTCTypeError `ERR_INVALID_ARG`, SmallWebRTCError `ERR_INVALID_CANDIDATE`.
 */
export function parsePatchRequest(
  body: unknown,
  limits: SignallingLimits = DEFAULT_SIGNALLING_LIMITS,
): SmallWebRTCPatchRequest {
  const obj = asObject(body);
  const pcId = optionalPcId(obj.pc_id);
  if (pcId === null) throw badBody('pc_id is required');
  const list = obj.candidates;
  if (!Array.isArray(list)) throw badBody('candidates must be an array');
  if (list.length > limits.maxCandidates) throw badBody(`too many candidates (max ${limits.maxCandidates})`);
  const candidates = list.map((entry: unknown, i): SmallWebRTCIceCandidate => {
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
      throw badBody(`candidates[${i}] must be an object`);
    }
    const c = entry as Record<string, unknown>;
    // Pipecat's wire names are snake_case; camelCase (RTCIceCandidateInit) is accepted too.
    const mid = c.sdp_mid !== undefined ? c.sdp_mid : c.sdpMid;
    const index = c.sdp_mline_index !== undefined ? c.sdp_mline_index : c.sdpMLineIndex;
    const checked = checkCandidateFields(c.candidate, mid, index, `candidates[${i}]`, {
      mid: 'sdp_mid',
      index: 'sdp_mline_index',
    });
    if (checked === null) return { candidate: '', sdpMid: null, sdpMLineIndex: null };
    const text = checked.text.startsWith('a=') ? checked.text.slice(2) : checked.text;
    return { candidate: text, sdpMid: checked.sdpMid, sdpMLineIndex: checked.sdpMLineIndex };
  });
  return { pcId, candidates };
}

/**
 * Deepest nesting of arrays and objects accepted in JSON from a peer (data-channel messages, request bodies).
 * Pipecat's messages nest 3-6 levels; 64 leaves room for any application payload. `JSON.parse` itself is
 * iterative in V8 and copes with any depth, but the value it returns is not: `JSON.stringify`,
 * `structuredClone` and every recursive walk throw `RangeError: Maximum call stack size exceeded` from about
 * 5,000 levels, and a 64 KiB data-channel message holds 32,000 (`[[[...]]]`). Thrown inside node-datachannel's
 * message callback, that error aborted the whole server process.
 */
export const MAX_JSON_DEPTH = 64;

/**
 * Whether `text` has at most `max` `[` and `{` in all (then it cannot nest deeper than `max`): found with
 * `indexOf`, which is far faster than a character loop, so the common message skips the scan.
 */
function fewOpeners(text: string, max: number): boolean {
  let n = 0;
  for (const c of ['[', '{']) {
    for (let i = text.indexOf(c); i !== -1; i = text.indexOf(c, i + 1)) if (++n > max) return false;
  }
  return true;
}

/**
 * Parses JSON text from a peer after checking, in one pass over the text (no recursion, no allocation), that
 * its arrays and objects nest at most `maxDepth` levels (brackets inside strings do not count).
 *
 * @throws SmallWebRTCRangeError `ERR_MESSAGE_TOO_DEEP` when the text nests deeper than `maxDepth`.
 * @throws SyntaxError from `JSON.parse` when the text is not JSON.
 */
export function parsePeerJson(text: string, maxDepth = MAX_JSON_DEPTH): unknown {
  if (fewOpeners(text, maxDepth)) return JSON.parse(text) as unknown;
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x5b || c === 0x7b) {
      if (++depth > maxDepth) {
        throw new SmallWebRTCRangeError(
          'ERR_MESSAGE_TOO_DEEP',
          `JSON nests deeper than ${maxDepth} levels (at character ${i})`,
        );
      }
    } else if (c === 0x5d || c === 0x7d) {
      depth--;
    }
  }
  return JSON.parse(text) as unknown;
}
