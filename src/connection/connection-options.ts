import { isIP } from 'node:net';
import type { RtcConfig } from 'node-datachannel';
import { SmallWebRTCRangeError, SmallWebRTCTypeError } from '../errors.js';
import { DEFAULT_DATA_CHANNEL_RATE_LIMIT, type DataChannelRateLimit } from './inbound-rate.js';
import { normalizeIceServers, toNodeDataChannelIceServers, type IceServer } from './ice-servers.js';
import { DEFAULT_MAX_MEDIA_SECTIONS } from './sdp.js';

/** Default seconds a peer may take to complete ICE and DTLS before it is closed (see the option). */
export const DEFAULT_CONNECTION_TIMEOUT_SECS = 15;
/**
 * Default bound on detecting a vanished peer (see the option): 5 s. The Pipecat clients ping every 1 s and
 * send RTP and RTCP besides, so a live client is never silent for more than about a second; Pipecat itself
 * calls a peer not connected after 3 s without a ping (`is_connected()`), and only aioice's consent checks
 * (5 s x 6 failures, about 30 s) ever close it. 5 s is Pipecat's 3 s plus two more ping intervals: a Wi-Fi
 * roam or a short loss of a few seconds survives, while a killed tab or a dropped phone frees its session
 * (and stops the bot and its paid services) within 5 s instead of 10 or 30.
 */
export const DEFAULT_LIVENESS_TIMEOUT_SECS = 5;
/** Silence after which a client that never pings is declared gone (aioice's consent failure time), s. */
export const NON_PINGING_SILENCE_SECS = 30;
/** Seconds after the first `connected` without an open channel before queueing stops (Python). */
export const DATA_CHANNEL_TIMEOUT_SECS = 10;
/** The `a=max-message-size` we announce (bytes), as aiortc; the client will not send larger messages. */
export const LOCAL_MAX_MESSAGE_SIZE = 65536;

/** Options of {@link SmallWebRTCConnection}. */
export interface SmallWebRTCConnectionOptions {
  /** ICE servers: all URL strings or all {@link IceServer} objects (a mixed list is a `TypeError`). */
  iceServers?: Array<string> | Array<IceServer>;
  /**
   * Seconds a peer may take to complete ICE and DTLS (stay in `connecting`) before the connection closes
   * (default 15; Pipecat waits 60). A peer that never connects holds a capacity slot until then; a real client
   * connects in well under a second on a LAN and in a few seconds through TURN, so 15 s frees the slots of
   * abandoned or hostile offers quickly without cutting slow mobile networks off.
   */
  connectionTimeoutSecs?: number;
  /**
   * Bound, in seconds, on detecting a peer that vanished without closing (default 5, see
   * {@link DEFAULT_LIVENESS_TIMEOUT_SECS} for why): nothing received (no ping, RTP, RTCP or SCTP) for this
   * long from a client that pings (the Pipecat clients ping every 1 s), or ICE `disconnected` for this long.
   * Clients that never ping are declared gone after `max(livenessTimeoutSecs, 30)` s of total silence.
   * Either way `closed` follows. Raise it for clients on links known to drop out for longer.
   */
  livenessTimeoutSecs?: number;
  /** Local address to bind ICE sockets to (e.g. `127.0.0.1` for loopback tests, or one interface). */
  bindAddress?: string;
  /** First UDP port ICE may use (inclusive). With `enableIceUdpMux`, the single shared port. */
  portRangeBegin?: number;
  /** Last UDP port ICE may use (inclusive). */
  portRangeEnd?: number;
  /** Share one UDP port (`portRangeBegin`) among all peer connections (libjuice mux mode). */
  enableIceUdpMux?: boolean;
  /**
   * Public IP announced instead of the gathered host addresses (1:1 NAT, Docker with published UDP ports).
   * Only `typ host` candidates are rewritten; ports are kept, so publish the same port range.
   */
  advertisedIp?: string;
  /** Seconds to wait for ICE gathering before answering with the candidates found so far (default 10). */
  gatheringTimeoutSecs?: number;
  /** Most m-lines accepted in an offer (default 16); more is `ERR_INVALID_SDP` before libdatachannel runs. */
  maxMediaSections?: number;
  /**
   * Seconds after the first `connected` without an open data channel before queued app messages are dropped
   * and later ones discarded (default 10, Python `DATA_CHANNEL_TIMEOUT_SECS`; a client may have no channel).
   */
  dataChannelTimeoutSecs?: number;
  /**
   * Owner tag written into every `pc_id` (`SmallWebRTCConnection#3-<ownerTag>.<uuid hex>`), so that a front can
   * route a `PATCH` or re-offer to the process that holds the peer (docs/scaling.md, "The routing key"). 1-32
   * characters `[A-Za-z0-9_]`. Default none: `SmallWebRTCConnection#3-<uuid hex>`, as Pipecat.
   */
  ownerTag?: string;
  /**
   * Bound of what the peer may send on its data channel (all its channels and restarts; docs/reliability.md,
   * "Hostile media"): `bytesPerSecond` sustained (default 1 MiB/s), `burstBytes` at once (default 4 MiB,
   * at least 65536), and `disconnectAfterBytes` (default 4 MiB): messages over the rate are dropped and
   * counted (`inboundStats().dataChannel.dropped.rateLimited`), and a peer that has had that many bytes dropped
   * without slowing down is disconnected (logged, `inboundStats().dataChannel.floodDisconnected`). Fields left
   * out keep their default; `bytesPerSecond: Infinity` turns the bound off, `disconnectAfterBytes: Infinity`
   * only drops. See {@link DEFAULT_DATA_CHANNEL_RATE_LIMIT} for why the defaults.
   */
  dataChannelRateLimit?: Partial<DataChannelRateLimit>;
}

/**
 * {@link SmallWebRTCConnectionOptions} validated once, with defaults applied and times in milliseconds: what
 * the connection and its collaborators read. Frozen; shared by every peer of a connection (restarts too).
 */
export interface ConnectionConfig {
  /** Normalized ICE servers (what `SmallWebRTCConnection.iceServers` copies out). */
  readonly iceServers: readonly IceServer[];
  /** The node-datachannel configuration each new PeerConnection gets (copied per peer). */
  readonly rtcConfig: Readonly<RtcConfig>;
  readonly connectionTimeoutMs: number;
  readonly livenessTimeoutMs: number;
  readonly gatheringTimeoutMs: number;
  readonly dataChannelTimeoutMs: number;
  readonly maxMediaSections: number;
  /** Address written over the host candidates of our answer, or null to announce what was gathered. */
  readonly advertisedIp: string | null;
  /** Owner tag written into every pc_id, or null. */
  readonly ownerTag: string | null;
  /** The inbound data-channel bound, every field set. */
  readonly dataChannelRateLimit: Readonly<DataChannelRateLimit>;
}

/** What an owner tag may contain (it sits between `-` and `.` in a pc_id and before `.` in a session id). */
export const OWNER_TAG_PATTERN = /^[A-Za-z0-9_]{1,32}$/;

function checkPositive(name: string, v: unknown, dflt: number): number {
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) {
    throw new SmallWebRTCRangeError('ERR_INVALID_ARG', `${name} must be a positive number of seconds`);
  }
  return v;
}

function checkPort(name: string, v: unknown): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > 65535) {
    throw new SmallWebRTCRangeError('ERR_INVALID_ARG', `${name} must be an integer port 1-65535`);
  }
  return v;
}

function checkIp(name: string, v: unknown): void {
  if (v !== undefined && (typeof v !== 'string' || isIP(v) === 0)) {
    throw new SmallWebRTCTypeError('ERR_INVALID_ARG', `${name} must be an IP address string`);
  }
}

function resolveRateLimit(v: unknown): Readonly<DataChannelRateLimit> {
  if (v === undefined) return DEFAULT_DATA_CHANNEL_RATE_LIMIT;
  if (typeof v !== 'object' || v === null) {
    throw new SmallWebRTCTypeError('ERR_INVALID_ARG', 'dataChannelRateLimit must be an object');
  }
  const o = v as Partial<Record<keyof DataChannelRateLimit, unknown>>;
  const field = (k: keyof DataChannelRateLimit, min: number): number => {
    const x = o[k];
    if (x === undefined) return DEFAULT_DATA_CHANNEL_RATE_LIMIT[k];
    if (typeof x !== 'number' || Number.isNaN(x) || x < min) {
      throw new SmallWebRTCRangeError(
        'ERR_INVALID_ARG',
        `dataChannelRateLimit.${k} must be a number >= ${min} (Infinity allowed)`,
      );
    }
    return x;
  };
  return Object.freeze({
    bytesPerSecond: field('bytesPerSecond', 1),
    // One message of the largest size we accept must fit, or such a message could never pass.
    burstBytes: field('burstBytes', LOCAL_MAX_MESSAGE_SIZE),
    disconnectAfterBytes: field('disconnectAfterBytes', 0),
  });
}

/**
 * Validates the constructor options (in the order the fields are documented, so the first bad one is
 * reported) and derives the per-peer node-datachannel configuration.
 *
 * @throws SmallWebRTCTypeError / SmallWebRTCRangeError `ERR_INVALID_ARG` naming the offending option.
 */
export function resolveConnectionOptions(options: SmallWebRTCConnectionOptions): ConnectionConfig {
  if (typeof options !== 'object' || options === null) {
    throw new SmallWebRTCTypeError('ERR_INVALID_ARG', 'options must be an object');
  }
  const iceServers = normalizeIceServers(options.iceServers);
  const connectionTimeoutMs =
    checkPositive('connectionTimeoutSecs', options.connectionTimeoutSecs, DEFAULT_CONNECTION_TIMEOUT_SECS) *
    1000;
  const livenessTimeoutMs =
    checkPositive('livenessTimeoutSecs', options.livenessTimeoutSecs, DEFAULT_LIVENESS_TIMEOUT_SECS) * 1000;
  const gatheringTimeoutMs = checkPositive('gatheringTimeoutSecs', options.gatheringTimeoutSecs, 10) * 1000;
  const dataChannelTimeoutMs =
    checkPositive('dataChannelTimeoutSecs', options.dataChannelTimeoutSecs, DATA_CHANNEL_TIMEOUT_SECS) * 1000;
  const maxMediaSections = options.maxMediaSections ?? DEFAULT_MAX_MEDIA_SECTIONS;
  if (!Number.isInteger(maxMediaSections) || maxMediaSections < 1 || maxMediaSections > 64) {
    throw new SmallWebRTCRangeError('ERR_INVALID_ARG', 'maxMediaSections must be an integer 1-64');
  }
  const begin = checkPort('portRangeBegin', options.portRangeBegin);
  const end = checkPort('portRangeEnd', options.portRangeEnd);
  if (begin !== undefined && end !== undefined && begin > end) {
    throw new SmallWebRTCRangeError('ERR_INVALID_ARG', 'portRangeBegin must be <= portRangeEnd');
  }
  checkIp('bindAddress', options.bindAddress);
  checkIp('advertisedIp', options.advertisedIp);
  if (options.enableIceUdpMux !== undefined && typeof options.enableIceUdpMux !== 'boolean') {
    throw new SmallWebRTCTypeError('ERR_INVALID_ARG', 'enableIceUdpMux must be a boolean');
  }
  if (
    options.ownerTag !== undefined &&
    (typeof options.ownerTag !== 'string' || !OWNER_TAG_PATTERN.test(options.ownerTag))
  ) {
    throw new SmallWebRTCRangeError('ERR_INVALID_ARG', 'ownerTag must be 1-32 characters [A-Za-z0-9_]');
  }
  const dataChannelRateLimit = resolveRateLimit(options.dataChannelRateLimit);
  // a=max-message-size 65536 in our answer, as aiortc: the Pipecat JS client caps its sends at the value we
  // announce (docs/protocol.md, "The server's answer") and libdatachannel drops larger inbound ones.
  const rtcConfig: RtcConfig = {
    iceServers: toNodeDataChannelIceServers(iceServers),
    maxMessageSize: LOCAL_MAX_MESSAGE_SIZE,
  };
  if (options.bindAddress !== undefined) rtcConfig.bindAddress = options.bindAddress;
  if (begin !== undefined) rtcConfig.portRangeBegin = begin;
  if (end !== undefined) rtcConfig.portRangeEnd = end;
  if (options.enableIceUdpMux) rtcConfig.enableIceUdpMux = true;
  return Object.freeze({
    iceServers,
    rtcConfig,
    connectionTimeoutMs,
    livenessTimeoutMs,
    gatheringTimeoutMs,
    dataChannelTimeoutMs,
    maxMediaSections,
    advertisedIp: options.advertisedIp ?? null,
    ownerTag: options.ownerTag ?? null,
    dataChannelRateLimit,
  });
}
