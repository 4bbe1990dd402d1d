import { randomInt, randomUUID } from 'node:crypto';
import { isIP } from 'node:net';
import { performance } from 'node:perf_hooks';
import nodeDataChannel from 'node-datachannel';
import type { DataChannel, Direction, PeerConnection, RtcConfig, Track } from 'node-datachannel';
import { SmallWebRTCError, SmallWebRTCRangeError, SmallWebRTCTypeError } from '../errors.js';
import { getLogger } from '../logger.js';
import { normalizeIceServers, toNodeDataChannelIceServers, type IceServer } from './ice-servers.js';
import { isRtcpPacket, rtpSsrc } from './rtcp.js';
import {
  DEFAULT_MAX_MEDIA_SECTIONS,
  SDES_MID_URI,
  answerDirection,
  directionReceives,
  directionSends,
  parseCandidate,
  parseSdp,
  rewriteHostCandidates,
  type MediaDirection,
  type ParsedSdp,
  type SdpCodec,
  type SdpMedia,
} from './sdp.js';
import { classifyInbound, signalling, type SignallingMessage } from './signalling.js';
import { InputTrackImpl, RtpSinkImpl, type InputTrack, type OutboundTrack } from './tracks.js';

/** Transceiver indexes used by Pipecat (`conn.py`): 0 audio, 1 camera, 2 screen. */
export const AUDIO_TRANSCEIVER_INDEX = 0;
/** Camera video transceiver index. */
export const VIDEO_TRANSCEIVER_INDEX = 1;
/** Screen-share video transceiver index. */
export const SCREEN_VIDEO_TRANSCEIVER_INDEX = 2;
/** Outbound app messages queued before the data channel opens (Python `MAX_MESSAGE_QUEUE_SIZE`). */
export const MAX_MESSAGE_QUEUE_SIZE = 50;
/** Seconds after the first `connected` without an open channel before queueing stops (Python). */
export const DATA_CHANNEL_TIMEOUT_SECS = 10;
/** The `a=max-message-size` we announce (bytes), as aiortc; the client will not send larger messages. */
export const LOCAL_MAX_MESSAGE_SIZE = 65536;
/** A ping younger than this keeps `isConnected()` true (Python; docs/protocol.md, "Liveness"). */
export const PING_LIVENESS_MS = 3000;
/**
 * Opus fmtp in our answer: DTX so browsers stop sending during silence (docs/performance.md, "Where the
 * CPU goes"), in-band FEC, 10 ms minimum packet time. No `stereo=1`: it makes Chrome send 96 kb/s stereo.
 */
export const OPUS_ANSWER_FMTP = 'minptime=10;useinbandfec=1;usedtx=1';

/** Options of {@link SmallWebRTCConnection}. */
export interface SmallWebRTCConnectionOptions {
  /** ICE servers: all URL strings or all {@link IceServer} objects (a mixed list is a `TypeError`). */
  iceServers?: Array<string> | Array<IceServer>;
  /** Seconds a peer may stay in `connecting` before the connection closes (default 60, as Pipecat). */
  connectionTimeoutSecs?: number;
  /**
   * Bound, in seconds, on detecting a peer that vanished without closing (default 10): nothing received (no
   * ping, RTP, RTCP or SCTP) for this long from a client that pings (the Pipecat clients ping every 1 s),
   * or ICE `disconnected` for this long. Clients that never ping are declared gone after
   * `max(livenessTimeoutSecs, 30)` s of total silence. Either way `closed` follows.
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
}

/** Events and the arguments handlers receive after the connection itself (Pipecat: `(connection, *args)`). */
export interface SmallWebRTCConnectionEvents {
  /** The peer connection was created (libdatachannel `new` state). */
  new: [];
  /** ICE/DTLS is in progress. */
  connecting: [];
  /** Connected and `connect()` was called (held back until then, as Pipecat). Again after a restart. */
  connected: [];
  /** Only before a `renegotiate({ restartPc: true })` tears the old peer down (as Pipecat). */
  disconnected: [];
  /** The connection ended (closed by us, by the peer, failed, timed out, or the peer vanished). Once. */
  closed: [];
  /** The peer connection failed (followed by `closed`). */
  failed: [];
  /** A non-signalling JSON object arrived on the data channel (while connected; earlier ones on `connect()`). */
  'app-message': [message: unknown];
  /** The first RTP packet arrived on an input track. */
  'track-started': [track: InputTrack];
  /** An input track that had started is gone (close or restart). */
  'track-ended': [track: InputTrack];
}

/** Name of a {@link SmallWebRTCConnection} event. */
export type SmallWebRTCConnectionEventName = keyof SmallWebRTCConnectionEvents;

/** A handler: receives the connection first, then the event's arguments; may be async. */
export type SmallWebRTCConnectionHandler<K extends SmallWebRTCConnectionEventName> = (
  connection: SmallWebRTCConnection,
  ...args: SmallWebRTCConnectionEvents[K]
) => unknown;

/** The answer returned to the client (`get_answer()` in Pipecat). */
export interface SmallWebRTCAnswer {
  sdp: string;
  type: 'answer';
  pc_id: string;
}

/** An ICE candidate from trickle (PATCH). `null` or an empty `candidate` means end-of-candidates. */
export interface RemoteIceCandidate {
  candidate: string;
  sdpMid?: string | null;
  sdpMLineIndex?: number | null;
}

const EVENT_NAMES: readonly SmallWebRTCConnectionEventName[] = [
  'new',
  'connecting',
  'connected',
  'disconnected',
  'closed',
  'failed',
  'app-message',
  'track-started',
  'track-ended',
];

interface Transceiver {
  index: number;
  mid: string;
  kind: 'audio' | 'video';
  direction: MediaDirection;
  track: Track;
  ssrc: number | null;
  input: InputTrackImpl | null;
  sink: RtpSinkImpl | null;
}

interface OutboundSlot {
  track: OutboundTrack | null;
  bound: RtpSinkImpl | null;
}

/** One libdatachannel peer connection and everything tied to it; replaced on `restartPc`. */
interface Peer {
  gen: number;
  pc: PeerConnection;
  transceivers: Transceiver[];
  /** Every Track / DataChannel we were given: referenced until the connection object goes (GC'd Track = crash). */
  refs: Array<Track | DataChannel>;
  mids: string[];
  dc: DataChannel | null;
  state: string;
  everConnected: boolean;
  connectedEmitted: boolean;
  remoteMaxMessageSize: number;
  lastPingMs: number | null;
  lastBytesReceived: number;
  lastBytesChangeMs: number;
  /** performance.now() of the last packet seen on any track (RTP or RTCP); SCTP bytes are counted apart. */
  lastMediaMs: number;
  outbox: string[];
  discardMode: boolean;
  timers: Set<NodeJS.Timeout>;
  localDescriptionWaiter: (() => void) | null;
  gatheringWaiter: (() => void) | null;
}

let connectionCounter = 0;

/** Connections not closed yet (for {@link shutdownSmallWebRTC}); a connection leaves the set when it closes. */
const liveConnections = new Set<SmallWebRTCConnection>();

/**
 * Closes every live {@link SmallWebRTCConnection} and releases node-datachannel's global threads, without which
 * the Node process never exits. Call it once at process shutdown (after the HTTP server stopped); no new
 * connection can be created afterwards.
 */
export async function shutdownSmallWebRTC(): Promise<void> {
  await Promise.all([...liveConnections].map((c) => c.close()));
  nodeDataChannel.cleanup();
}

const NDC_DIRECTION: Record<MediaDirection, Direction> = {
  sendrecv: 'SendRecv',
  sendonly: 'SendOnly',
  recvonly: 'RecvOnly',
  inactive: 'Inactive',
};

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

function randomSsrc(avoid: readonly number[]): number {
  for (;;) {
    const s = randomInt(1, 0xffffffff);
    if (!avoid.includes(s)) return s;
  }
}

function isH264Supported(c: SdpCodec): boolean {
  const fmtp = c.fmtp ?? '';
  const profile = /profile-level-id=([0-9a-fA-F]{6})/.exec(fmtp)?.[1]?.toLowerCase() ?? '42001f';
  return /packetization-mode=1/.test(fmtp) && profile.startsWith('42');
}

/**
 * A server-side WebRTC peer for one Pipecat client: Pipecat's `SmallWebRTCConnection` over node-datachannel.
 *
 * Lifecycle: `initialize(offer)` builds the complete (gathered) answer, `getAnswer()` returns it with the
 * `pc_id`; the client connects; `connect()` (called by the transport) releases the held-back `connected`
 * event; `renegotiate()` handles later offers (same peer, or a brand-new peer with `restartPc`); `close()` or
 * `disconnect()` end it. Everything runs on the JS thread; node-datachannel callbacks arrive there too.
 *
 * Media: each receiving transceiver is an {@link InputTrack} delivering raw RTP; transceivers 0 and 1 can
 * carry our media through an {@link OutboundTrack} bound to an `RtpSink` (we build RTP ourselves; no
 * node-datachannel media handler is set, so RTCP also arrives raw and is routed to the sink's `onRtcp`).
 */
export class SmallWebRTCConnection {
  /** `SmallWebRTCConnection#<n>`, unique in the process (Pipecat's object name). */
  readonly name: string;
  readonly #iceServers: IceServer[];
  readonly #rtcConfig: RtcConfig;
  readonly #connectionTimeoutMs: number;
  readonly #livenessTimeoutMs: number;
  readonly #gatheringTimeoutMs: number;
  readonly #dataChannelTimeoutMs: number;
  readonly #maxMediaSections: number;
  readonly #advertisedIp: string | null;
  readonly #cname = randomUUID().replace(/-/g, '').slice(0, 16);
  readonly #handlers = new Map<string, Array<(...args: unknown[]) => unknown>>();
  #pcId: string;
  #peer: Peer | null = null;
  #retired: Peer[] = [];
  #gen = 0;
  #answer: SmallWebRTCAnswer | null = null;
  #initialized = false;
  #connectInvoked = false;
  #closed = false;
  #closedEmitted = false;
  #closePromise: Promise<void> | null = null;
  #pendingAppMessages: unknown[] = [];
  #renegotiationInProgress = false;
  #renegotiationTimer: NodeJS.Timeout | null = null;
  #busy: Promise<unknown> = Promise.resolve();
  readonly #outbound: [OutboundSlot, OutboundSlot] = [
    { track: null, bound: null },
    { track: null, bound: null },
  ];

  constructor(options: SmallWebRTCConnectionOptions = {}) {
    if (typeof options !== 'object' || options === null) {
      throw new SmallWebRTCTypeError('ERR_INVALID_ARG', 'options must be an object');
    }
    this.#iceServers = normalizeIceServers(options.iceServers);
    this.#connectionTimeoutMs =
      checkPositive('connectionTimeoutSecs', options.connectionTimeoutSecs, 60) * 1000;
    this.#livenessTimeoutMs = checkPositive('livenessTimeoutSecs', options.livenessTimeoutSecs, 10) * 1000;
    this.#gatheringTimeoutMs = checkPositive('gatheringTimeoutSecs', options.gatheringTimeoutSecs, 10) * 1000;
    this.#dataChannelTimeoutMs =
      checkPositive('dataChannelTimeoutSecs', options.dataChannelTimeoutSecs, DATA_CHANNEL_TIMEOUT_SECS) *
      1000;
    const maxSections = options.maxMediaSections ?? DEFAULT_MAX_MEDIA_SECTIONS;
    if (!Number.isInteger(maxSections) || maxSections < 1 || maxSections > 64) {
      throw new SmallWebRTCRangeError('ERR_INVALID_ARG', 'maxMediaSections must be an integer 1-64');
    }
    this.#maxMediaSections = maxSections;
    const begin = checkPort('portRangeBegin', options.portRangeBegin);
    const end = checkPort('portRangeEnd', options.portRangeEnd);
    if (begin !== undefined && end !== undefined && begin > end) {
      throw new SmallWebRTCRangeError('ERR_INVALID_ARG', 'portRangeBegin must be <= portRangeEnd');
    }
    if (
      options.bindAddress !== undefined &&
      (typeof options.bindAddress !== 'string' || isIP(options.bindAddress) === 0)
    ) {
      throw new SmallWebRTCTypeError('ERR_INVALID_ARG', 'bindAddress must be an IP address string');
    }
    if (
      options.advertisedIp !== undefined &&
      (typeof options.advertisedIp !== 'string' || isIP(options.advertisedIp) === 0)
    ) {
      throw new SmallWebRTCTypeError('ERR_INVALID_ARG', 'advertisedIp must be an IP address string');
    }
    if (options.enableIceUdpMux !== undefined && typeof options.enableIceUdpMux !== 'boolean') {
      throw new SmallWebRTCTypeError('ERR_INVALID_ARG', 'enableIceUdpMux must be a boolean');
    }
    this.#advertisedIp = options.advertisedIp ?? null;
    // a=max-message-size 65536 in our answer, as aiortc: the Pipecat JS client caps its sends at the value we
    // announce (docs/protocol.md, "The server's answer") and libdatachannel drops larger inbound ones.
    const cfg: RtcConfig = {
      iceServers: toNodeDataChannelIceServers(this.#iceServers),
      maxMessageSize: LOCAL_MAX_MESSAGE_SIZE,
    };
    if (options.bindAddress !== undefined) cfg.bindAddress = options.bindAddress;
    if (begin !== undefined) cfg.portRangeBegin = begin;
    if (end !== undefined) cfg.portRangeEnd = end;
    if (options.enableIceUdpMux) cfg.enableIceUdpMux = true;
    this.#rtcConfig = cfg;
    this.name = `SmallWebRTCConnection#${connectionCounter++}`;
    this.#pcId = this.#newPcId();
    for (const n of EVENT_NAMES) this.#handlers.set(n, []);
    liveConnections.add(this);
  }

  /** The ICE servers this connection uses (normalized copy). */
  get iceServers(): IceServer[] {
    return this.#iceServers.map((s) => ({ ...s, urls: Array.isArray(s.urls) ? [...s.urls] : s.urls }));
  }

  /** Opaque id for the client (`<name>-<uuid4 hex>`, 122 random bits); changes on `restartPc`. */
  get pcId(): string {
    return this.#pcId;
  }

  /** Whether `close()` ran or the peer went away for good. */
  get closed(): boolean {
    return this.#closed;
  }

  /** The underlying node-datachannel PeerConnection of the current peer (null before `initialize`/after close). */
  get pc(): PeerConnection | null {
    return this.#closed ? null : (this.#peer?.pc ?? null);
  }

  // ---------------------------------------------------------------------------------------------- events

  /** Adds a handler (Pipecat `@connection.event_handler(name)`). Same as {@link SmallWebRTCConnection.on}. */
  eventHandler<K extends SmallWebRTCConnectionEventName>(
    name: K,
    handler: SmallWebRTCConnectionHandler<K>,
  ): void {
    this.on(name, handler);
  }

  /** Adds a handler; it receives the connection, then the event's arguments. A throw/rejection is logged. */
  on<K extends SmallWebRTCConnectionEventName>(name: K, handler: SmallWebRTCConnectionHandler<K>): this {
    const list = this.#handlers.get(name);
    if (!list) throw new SmallWebRTCTypeError('ERR_INVALID_ARG', `unknown event ${JSON.stringify(name)}`);
    if (typeof handler !== 'function') {
      throw new SmallWebRTCTypeError('ERR_INVALID_ARG', `handler for ${name} must be a function`);
    }
    list.push(handler as (...args: unknown[]) => unknown);
    return this;
  }

  /** Removes a handler added with `on`/`eventHandler` (unknown handlers are ignored). */
  off<K extends SmallWebRTCConnectionEventName>(name: K, handler: SmallWebRTCConnectionHandler<K>): this {
    const list = this.#handlers.get(name);
    const i = list ? list.indexOf(handler as (...args: unknown[]) => unknown) : -1;
    if (list && i >= 0) list.splice(i, 1);
    return this;
  }

  #emit<K extends SmallWebRTCConnectionEventName>(name: K, ...args: SmallWebRTCConnectionEvents[K]): void {
    const list = this.#handlers.get(name);
    if (!list || list.length === 0) return;
    for (const handler of [...list]) {
      try {
        const r = handler(this, ...args);
        if (r !== null && typeof r === 'object' && typeof (r as { then?: unknown }).then === 'function') {
          (r as Promise<unknown>).then(undefined, (err: unknown) =>
            getLogger().error(`${this.name}: async handler for ${name} rejected`, err),
          );
        }
      } catch (err) {
        getLogger().error(`${this.name}: handler for ${name} threw`, err);
      }
    }
  }

  // ------------------------------------------------------------------------------------------ signalling

  /**
   * Answers the client's first offer: validates and parses it, creates the peer with tracks pre-added for the
   * offer's mids/payload types, applies the offer and waits for ICE gathering, so `getAnswer()` carries all
   * our candidates (there is no server-to-client trickle in this protocol).
   *
   * @throws SmallWebRTCError `ERR_INVALID_SDP` (bad offer), `ERR_INVALID_STATE` (called twice), `ERR_CLOSED`;
   *   `SmallWebRTCTypeError` `ERR_INVALID_ARG` for a wrongly shaped argument.
   */
  async initialize(offer: { sdp: string; type: string }): Promise<void> {
    const sdp = this.#checkOffer(offer, 'initialize');
    if (this.#initialized) throw new SmallWebRTCError('ERR_INVALID_STATE', 'initialize() was already called');
    const parsed = parseSdp(sdp, this.#maxMediaSections);
    this.#initialized = true;
    await this.#serial(() => this.#startPeer(parsed, sdp));
  }

  /** The answer for the last offer, `{ sdp, type: 'answer', pc_id }`, or null before `initialize`. */
  getAnswer(): SmallWebRTCAnswer | null {
    return this.#answer ? { ...this.#answer } : null;
  }

  /**
   * Marks the connection as used by a pipeline. If the peer is already connected, emits `connected` and replays
   * app messages that arrived before; otherwise `connected` fires when the peer connects.
   */
  async connect(): Promise<void> {
    this.#assertOpen('connect');
    this.#connectInvoked = true;
    const peer = this.#peer;
    if (!peer) return;
    let live = peer.state;
    try {
      live = peer.pc.state(); // the state callback may still be queued behind this call
    } catch {
      // closed underneath: the queued callbacks will tell
    }
    if (live === 'connected') this.#onState(peer, 'connected');
  }

  /**
   * Handles a later offer from the same client. Without `restartPc`: a second offer on the existing peer
   * (same `pc_id`). With `restartPc`: emits `disconnected`, tears the old peer down silently (no `closed`),
   * and answers with a new peer and a new `pc_id`; handlers and outbound tracks carry over.
   */
  async renegotiate(offer: { sdp: string; type: string; restartPc?: boolean }): Promise<void> {
    const sdp = this.#checkOffer(offer, 'renegotiate');
    const restart = offer.restartPc ?? false;
    if (typeof restart !== 'boolean')
      throw new SmallWebRTCTypeError('ERR_INVALID_ARG', 'restartPc must be a boolean');
    if (!this.#initialized)
      throw new SmallWebRTCError('ERR_INVALID_STATE', 'renegotiate() before initialize()');
    const parsed = parseSdp(sdp, this.#maxMediaSections);
    await this.#serial(async () => {
      this.#assertOpen('renegotiate');
      if (restart || !this.#peer) {
        getLogger().info(`${this.name}: restarting peer connection ${this.#pcId}`);
        this.#emit('disconnected');
        this.#retirePeer();
        this.#pcId = this.#newPcId();
        this.#pendingAppMessages = [];
        await this.#startPeer(parsed, sdp);
      } else {
        await this.#renegotiateSamePeer(this.#peer, parsed, sdp);
      }
      this.#armRenegotiationCooldown();
    });
  }

  /**
   * Adds a trickled remote candidate (PATCH). `null` or an empty candidate is end-of-candidates (ignored:
   * libdatachannel needs no explicit end). mDNS `.local` candidates are skipped (the browser's connectivity
   * checks still reach us, as peer-reflexive candidates). Candidates apply to the single bundled transport.
   *
   * @throws SmallWebRTCError `ERR_INVALID_CANDIDATE` (garbage), `ERR_INVALID_STATE` (before initialize),
   *   `ERR_CLOSED`; `SmallWebRTCTypeError` `ERR_INVALID_ARG` for wrong field types.
   */
  async addIceCandidate(c: RemoteIceCandidate | null): Promise<void> {
    this.#assertOpen('addIceCandidate');
    if (c === null || c === undefined) return;
    if (typeof c !== 'object')
      throw new SmallWebRTCTypeError('ERR_INVALID_ARG', 'candidate must be an object or null');
    if (typeof c.candidate !== 'string') {
      throw new SmallWebRTCTypeError('ERR_INVALID_ARG', 'candidate.candidate must be a string');
    }
    if (c.sdpMid !== undefined && c.sdpMid !== null && typeof c.sdpMid !== 'string') {
      throw new SmallWebRTCTypeError('ERR_INVALID_ARG', 'candidate.sdpMid must be a string or null');
    }
    if (
      c.sdpMLineIndex !== undefined &&
      c.sdpMLineIndex !== null &&
      (typeof c.sdpMLineIndex !== 'number' || !Number.isInteger(c.sdpMLineIndex) || c.sdpMLineIndex < 0)
    ) {
      throw new SmallWebRTCTypeError(
        'ERR_INVALID_ARG',
        'candidate.sdpMLineIndex must be a non-negative integer or null',
      );
    }
    const text = c.candidate.trim();
    if (text === '') return; // end-of-candidates (RFC 8840; Firefox)
    const parsed = parseCandidate(text);
    if (!parsed) throw new SmallWebRTCError('ERR_INVALID_CANDIDATE', 'not a valid ICE candidate');
    const peer = this.#peer;
    if (!peer) throw new SmallWebRTCError('ERR_INVALID_STATE', 'addIceCandidate() before initialize()');
    if (parsed.address.toLowerCase().endsWith('.local')) {
      getLogger().debug(`${this.name}: skipping mDNS candidate ${parsed.address}`);
      return;
    }
    if (isIP(parsed.address) === 0) {
      getLogger().debug(`${this.name}: skipping candidate with non-IP address ${parsed.address}`);
      return;
    }
    let mid = typeof c.sdpMid === 'string' && peer.mids.includes(c.sdpMid) ? c.sdpMid : undefined;
    if (mid === undefined && typeof c.sdpMLineIndex === 'number') mid = peer.mids[c.sdpMLineIndex];
    mid ??= peer.mids[0] ?? '0';
    const line = text.startsWith('a=') ? text.slice(2) : text;
    try {
      peer.pc.addRemoteCandidate(line, mid);
    } catch (err) {
      throw new SmallWebRTCError('ERR_INVALID_CANDIDATE', `candidate rejected: ${String(err)}`, {
        cause: err,
      });
    }
  }

  /**
   * Sends a JSON message on the data channel, or queues it (up to 50, in order) until the channel opens.
   * Queueing stops 10 s after the peer first connected without an open channel (docs/protocol.md,
   * "Outgoing queue"). After close, messages are dropped (logged at debug), like Python's transport
   * does while closing.
   *
   * @throws SmallWebRTCTypeError `ERR_INVALID_ARG` if the message cannot be serialized to JSON;
   *   SmallWebRTCRangeError `ERR_MESSAGE_TOO_LARGE` above the peer's `a=max-message-size` (default 65536).
   */
  sendAppMessage(message: unknown): void {
    let text: string | undefined;
    try {
      text = JSON.stringify(message);
    } catch (err) {
      throw new SmallWebRTCTypeError('ERR_INVALID_ARG', `message is not JSON-serializable: ${String(err)}`, {
        cause: err,
      });
    }
    if (typeof text !== 'string')
      throw new SmallWebRTCTypeError('ERR_INVALID_ARG', 'message is not JSON-serializable');
    this.#sendText(text);
  }

  /**
   * Pipecat's liveness: `connect()` was called AND (the last `ping` is younger than 3 s if the client ever
   * pinged, else the peer connection is `connected`).
   */
  isConnected(): boolean {
    const peer = this.#peer;
    if (this.#closed || !this.#connectInvoked || !peer) return false;
    if (peer.lastPingMs !== null) return performance.now() - peer.lastPingMs < PING_LIVENESS_MS;
    return peer.state === 'connected';
  }

  /** The input track of transceiver 0 (microphone), or null if the offer has none we receive. */
  audioInputTrack(): InputTrack | null {
    return this.#inputAt(AUDIO_TRANSCEIVER_INDEX);
  }

  /** The input track of transceiver 1 (camera), or null. */
  videoInputTrack(): InputTrack | null {
    return this.#inputAt(VIDEO_TRANSCEIVER_INDEX);
  }

  /** The input track of transceiver 2 (screen share), or null. */
  screenVideoInputTrack(): InputTrack | null {
    return this.#inputAt(SCREEN_VIDEO_TRANSCEIVER_INDEX);
  }

  /** Sets what we send on transceiver 0 (audio); null stops sending. Rebound automatically after a restart. */
  replaceAudioTrack(track: OutboundTrack | null): void {
    this.#replaceOutbound(0, 'audio', track);
  }

  /** Sets what we send on transceiver 1 (camera video); null stops sending. */
  replaceVideoTrack(track: OutboundTrack | null): void {
    this.#replaceOutbound(1, 'video', track);
  }

  /**
   * Asks the client to re-offer on the same peer (`renegotiate` signalling message), at most once per 2 s
   * window and never while a renegotiation is in progress (Python `ask_to_renegotiate`).
   */
  askToRenegotiate(): void {
    if (this.#closed || this.#renegotiationInProgress) return;
    this.#renegotiationInProgress = true;
    this.#armRenegotiationCooldown();
    this.#sendSignalling({ type: 'renegotiate' });
  }

  /**
   * Graceful end: sends `peerLeft`, waits (at most 1 s) for the data channel's send buffer to drain, then
   * closes. Idempotent.
   */
  async disconnect(): Promise<void> {
    if (this.#closed) return this.#closePromise ?? undefined;
    const peer = this.#peer;
    if (peer) {
      try {
        await this.#sendPeerLeftAndDrain(peer);
      } catch (err) {
        getLogger().debug(`${this.name}: peerLeft not delivered`, err);
      }
    }
    await this.close();
  }

  /**
   * Sends `peerLeft` (queued like any message if the channel is not open yet) and waits, at most ~1 s in
   * total, for it to leave: the channel may still be arriving on a just-connected peer, and `bufferedAmount`
   * only covers libdatachannel's queue, not usrsctp's, so a short grace (200 ms, about one RTT on bad paths)
   * follows. Closing the channel first is not used: node-datachannel peers may then drop the last message
   * (their close and message callbacks race on different thread-safe functions).
   */
  async #sendPeerLeftAndDrain(peer: Peer): Promise<void> {
    this.#sendSignalling({ type: 'peerLeft' });
    const deadline = performance.now() + 1000;
    const sleep = (ms: number): Promise<unknown> => new Promise((r) => setTimeout(r, ms));
    const live = (): boolean => !this.#closed && this.#peer === peer && performance.now() < deadline;
    const pcConnected = (): boolean => {
      try {
        return peer.pc.state() === 'connected';
      } catch {
        return false;
      }
    };
    while (live() && pcConnected() && (peer.outbox.length > 0 || !peer.dc || !this.#isOpen(peer.dc))) {
      await sleep(10);
    }
    const dc = peer.dc;
    if (!dc || !this.#isOpen(dc) || peer.outbox.length > 0) return;
    while (live() && this.#isOpen(dc) && dc.bufferedAmount() > 0) await sleep(10);
    if (live()) await sleep(Math.min(200, Math.max(0, deadline - performance.now())));
  }

  /** Closes the peer and releases everything; emits `closed` once. Idempotent; later calls return the same promise. */
  close(): Promise<void> {
    if (this.#closePromise) return this.#closePromise;
    this.#closed = true;
    liveConnections.delete(this);
    this.#closePromise = (async () => {
      try {
        this.#retirePeer();
      } catch (err) {
        // Never reject: close() is called fire-and-forget from node-datachannel callbacks and timers.
        getLogger().error(`${this.name}: error while closing`, err);
      }
      if (this.#renegotiationTimer) clearTimeout(this.#renegotiationTimer);
      this.#renegotiationTimer = null;
      this.#pendingAppMessages = [];
      if (!this.#closedEmitted) {
        this.#closedEmitted = true;
        getLogger().info(`${this.name}: closed ${this.#pcId}`);
        this.#emit('closed');
      }
    })();
    return this.#closePromise;
  }

  // ------------------------------------------------------------------------------------------- internals

  #newPcId(): string {
    return `${this.name}-${randomUUID().replace(/-/g, '')}`;
  }

  #assertOpen(what: string): void {
    if (this.#closed) throw new SmallWebRTCError('ERR_CLOSED', `${what}(): connection is closed`);
  }

  #checkOffer(offer: unknown, what: string): string {
    this.#assertOpen(what);
    if (typeof offer !== 'object' || offer === null) {
      throw new SmallWebRTCTypeError('ERR_INVALID_ARG', `${what}: offer must be an object {sdp, type}`);
    }
    const { sdp, type } = offer as { sdp?: unknown; type?: unknown };
    if (typeof sdp !== 'string')
      throw new SmallWebRTCTypeError('ERR_INVALID_ARG', `${what}: offer.sdp must be a string`);
    if (type !== 'offer')
      throw new SmallWebRTCError('ERR_INVALID_SDP', `${what}: offer.type must be "offer"`);
    return sdp;
  }

  /** Runs signalling jobs one at a time (an offer must finish before the next is applied). */
  #serial<T>(job: () => Promise<T>): Promise<T> {
    const run = this.#busy.then(job, job);
    this.#busy = run.catch(() => undefined);
    return run;
  }

  #inputAt(index: number): InputTrack | null {
    const t = this.#peer?.transceivers.find((x) => x.index === index);
    return t?.input ?? null;
  }

  #timer(peer: Peer, ms: number, fn: () => void, repeat = false): NodeJS.Timeout {
    const wrapped = (): void => {
      if (!repeat) peer.timers.delete(t);
      if (peer.gen !== this.#gen || this.#closed) return;
      try {
        fn();
      } catch (err) {
        getLogger().error(`${this.name}: timer failed`, err);
      }
    };
    const t = repeat ? setInterval(wrapped, ms) : setTimeout(wrapped, ms);
    t.unref();
    peer.timers.add(t);
    return t;
  }

  #clearTimer(peer: Peer, t: NodeJS.Timeout | null): void {
    if (!t) return;
    clearTimeout(t);
    peer.timers.delete(t);
  }

  async #startPeer(parsed: ParsedSdp, sdp: string): Promise<void> {
    const gen = ++this.#gen;
    let pc: PeerConnection;
    try {
      pc = new nodeDataChannel.PeerConnection(this.#pcId, { ...this.#rtcConfig });
    } catch (err) {
      throw new SmallWebRTCError('ERR_INTERNAL', `cannot create peer connection: ${String(err)}`, {
        cause: err,
      });
    }
    const app = parsed.media.find((m) => m.kind === 'application' && m.port !== 0);
    const peer: Peer = {
      gen,
      pc,
      transceivers: [],
      refs: [],
      mids: parsed.media.map((m) => m.mid ?? ''),
      dc: null,
      state: 'new',
      everConnected: false,
      connectedEmitted: false,
      remoteMaxMessageSize: app?.maxMessageSize
        ? app.maxMessageSize
        : app?.maxMessageSize === 0
          ? 262144
          : 65536,
      lastPingMs: null,
      lastBytesReceived: 0,
      lastBytesChangeMs: performance.now(),
      lastMediaMs: 0,
      outbox: [],
      discardMode: false,
      timers: new Set(),
      localDescriptionWaiter: null,
      gatheringWaiter: null,
    };
    this.#peer = peer;
    // Callbacks first: node-datachannel only reports what happens after registration.
    pc.onStateChange((state) => this.#onState(peer, state));
    pc.onGatheringStateChange((state) => {
      if (state === 'complete' && peer.gatheringWaiter) peer.gatheringWaiter();
    });
    pc.onLocalDescription(() => {
      if (peer.localDescriptionWaiter) peer.localDescriptionWaiter();
    });
    pc.onDataChannel((dc) => {
      peer.refs.push(dc);
      if (peer.gen !== this.#gen || this.#closed) return;
      try {
        this.#adoptChannel(peer, dc);
      } catch (err) {
        getLogger().error(`${this.name}: cannot adopt data channel`, err);
      }
    });
    pc.onTrack((track) => {
      // Tracks we did not pre-add (none expected: every audio/video m-line is pre-added, possibly inactive).
      // Keep a reference (a collected Track crashes at close) and ignore their media.
      peer.refs.push(track);
      getLogger().debug(`${this.name}: remote track on mid ${track.mid()} not handled`);
    });
    try {
      this.#addTransceivers(peer, parsed.media);
    } catch (err) {
      this.#destroyPeer(peer);
      if (this.#peer === peer) this.#peer = null;
      throw err instanceof SmallWebRTCError
        ? err
        : new SmallWebRTCError('ERR_INVALID_SDP', `cannot prepare answer: ${String(err)}`, { cause: err });
    }
    const gathered = new Promise<void>((resolve) => {
      peer.gatheringWaiter = resolve;
    });
    try {
      pc.setRemoteDescription(sdp, 'offer');
    } catch (err) {
      this.#destroyPeer(peer);
      if (this.#peer === peer) this.#peer = null;
      throw new SmallWebRTCError('ERR_INVALID_SDP', `offer rejected: ${String(err)}`, { cause: err });
    }
    await this.#waitFor(peer, gathered, this.#gatheringTimeoutMs, () => pc.gatheringState() === 'complete');
    if (this.#closed || peer.gen !== this.#gen)
      throw new SmallWebRTCError('ERR_CLOSED', 'closed while answering');
    const local = pc.localDescription();
    if (!local || local.type !== 'answer') {
      throw new SmallWebRTCError('ERR_INTERNAL', 'libdatachannel produced no answer');
    }
    this.#setAnswer(local.sdp);
    this.#bindOutbound();
    this.#armConnectionWatch(peer);
  }

  async #renegotiateSamePeer(peer: Peer, parsed: ParsedSdp, sdp: string): Promise<void> {
    const known = new Set(peer.transceivers.map((t) => t.mid));
    const fresh = parsed.media.filter(
      (m) => m.mid !== null && !known.has(m.mid) && !peer.mids.includes(m.mid),
    );
    try {
      this.#addTransceivers(peer, fresh, parsed.media);
    } catch (err) {
      throw new SmallWebRTCError('ERR_INVALID_SDP', `cannot prepare answer: ${String(err)}`, { cause: err });
    }
    peer.mids = parsed.media.map((m) => m.mid ?? '');
    const app = parsed.media.find((m) => m.kind === 'application' && m.port !== 0);
    if (app?.maxMessageSize) peer.remoteMaxMessageSize = app.maxMessageSize;
    const described = new Promise<void>((resolve) => {
      peer.localDescriptionWaiter = resolve;
    });
    try {
      peer.pc.setRemoteDescription(sdp, 'offer');
    } catch (err) {
      peer.localDescriptionWaiter = null;
      throw new SmallWebRTCError('ERR_INVALID_SDP', `offer rejected: ${String(err)}`, { cause: err });
    }
    await this.#waitFor(peer, described, 5000, () => peer.pc.signalingState() === 'stable');
    peer.localDescriptionWaiter = null;
    const local = peer.pc.localDescription();
    if (!local || local.type !== 'answer')
      throw new SmallWebRTCError('ERR_INTERNAL', 'no answer to the new offer');
    this.#setAnswer(local.sdp);
  }

  #setAnswer(sdp: string): void {
    const out = this.#advertisedIp ? rewriteHostCandidates(sdp, this.#advertisedIp) : sdp;
    this.#answer = { sdp: out, type: 'answer', pc_id: this.#pcId };
  }

  /** Resolves when `promise` settles, `check()` becomes true (polled every 20 ms), or after `timeoutMs`. */
  async #waitFor(peer: Peer, promise: Promise<void>, timeoutMs: number, check: () => boolean): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    let done = false;
    void promise.then(() => {
      done = true;
    });
    while (!done && performance.now() < deadline && !this.#closed && peer.gen === this.#gen) {
      try {
        if (check()) return;
      } catch {
        return;
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    if (!done && performance.now() >= deadline) {
      getLogger().warn(`${this.name}: gave up waiting after ${timeoutMs} ms (answering with what we have)`);
    }
  }

  /**
   * Pre-adds our media descriptions for the offer's audio/video m-lines (before setRemoteDescription, so the
   * answer carries our codecs, directions, SSRCs and the offer's sdes:mid extension id).
   */
  #addTransceivers(peer: Peer, media: readonly SdpMedia[], all: readonly SdpMedia[] = media): void {
    for (const m of media) {
      if (m.kind !== 'audio' && m.kind !== 'video') continue;
      if (m.port === 0 || m.mid === null) continue;
      const index = all.filter((x) => x.kind === 'audio' || x.kind === 'video').indexOf(m);
      const desired: MediaDirection = index < 2 ? 'sendrecv' : 'recvonly';
      let direction = answerDirection(desired, m.direction);
      const codecs =
        m.kind === 'audio'
          ? m.codecs.filter((c) => c.name.toLowerCase() === 'opus' && c.clockRate === 48000)
          : m.codecs.filter(
              (c) =>
                c.name.toUpperCase() === 'VP8' || (c.name.toUpperCase() === 'H264' && isH264Supported(c)),
            );
      if (codecs.length === 0) {
        // Left to libdatachannel, the m-line would be accepted with the offer's codecs (PCMU, VP9...) that we
        // cannot decode. Answer it inactive with the offer's first payload type instead (valid SDP, no media).
        getLogger().warn(`${this.name}: no supported codec on mid ${m.mid} (${m.kind}); answering inactive`);
        const pt = m.codecs[0];
        if (!pt) continue;
        const channels = pt.channels !== undefined ? `/${pt.channels}` : '';
        const rtpmap = `${pt.name}/${pt.clockRate}${channels}`;
        let inactive;
        if (m.kind === 'audio') {
          inactive = new nodeDataChannel.Audio(m.mid, 'Inactive');
          inactive.addAudioCodec(pt.payloadType, rtpmap);
        } else {
          inactive = new nodeDataChannel.Video(m.mid, 'Inactive');
          inactive.addVideoCodec(pt.payloadType, rtpmap);
        }
        peer.refs.push(peer.pc.addTrack(inactive));
        continue;
      }
      const desc =
        m.kind === 'audio'
          ? new nodeDataChannel.Audio(m.mid, NDC_DIRECTION[direction])
          : new nodeDataChannel.Video(m.mid, NDC_DIRECTION[direction]);
      for (const c of codecs) {
        if (desc instanceof nodeDataChannel.Audio) desc.addOpusCodec(c.payloadType, OPUS_ANSWER_FMTP);
        else if (c.name.toUpperCase() === 'VP8')
          (desc as InstanceType<typeof nodeDataChannel.Video>).addVP8Codec(c.payloadType);
        else (desc as InstanceType<typeof nodeDataChannel.Video>).addH264Codec(c.payloadType, c.fmtp);
      }
      const midExt = m.extmaps.find((e) => e.uri === SDES_MID_URI);
      if (midExt && midExt.id >= 1 && midExt.id <= 14)
        desc.parseSdpLine(`a=extmap:${midExt.id} ${SDES_MID_URI}`);
      let ssrc: number | null = null;
      if (index < 2 && directionSends(direction)) {
        ssrc = randomSsrc(m.ssrcs);
        const stream = `small-webrtc-${this.#cname}`;
        desc.addSSRC(ssrc, this.#cname, stream, `${m.kind}-${m.mid}`);
      }
      if (!directionSends(direction) && !directionReceives(direction)) direction = 'inactive';
      const track = peer.pc.addTrack(desc);
      peer.refs.push(track);
      const first = codecs[0] as SdpCodec;
      const t: Transceiver = {
        index,
        mid: m.mid,
        kind: m.kind,
        direction,
        track,
        ssrc,
        input: directionReceives(direction)
          ? new InputTrackImpl({
              kind: m.kind,
              index,
              mid: m.mid,
              codecs,
              track,
              senderSsrc: ssrc ?? peer.transceivers.find((x) => x.ssrc !== null)?.ssrc ?? 1,
            })
          : null,
        sink:
          ssrc !== null
            ? new RtpSinkImpl({
                ssrc,
                payloadType: first.payloadType,
                clockRate: first.clockRate,
                midExtensionId: midExt?.id ?? null,
                mid: m.mid,
                track,
              })
            : null,
      };
      track.onMessage((msg) => this.#onTrackMessage(peer, t, msg));
      peer.transceivers.push(t);
    }
  }

  /** One packet from a track (JS thread): RTCP to the sink's subscribers, RTP to the input track. */
  #onTrackMessage(peer: Peer, t: Transceiver, msg: Buffer): void {
    if (peer.gen !== this.#gen || this.#closed) return;
    const now = performance.now();
    peer.lastMediaMs = now;
    if (isRtcpPacket(msg)) {
      t.sink?.deliverRtcp(msg);
      return;
    }
    const input = t.input;
    if (!input || msg.length < 12 || ((msg[0] ?? 0) & 0xc0) !== 0x80) return;
    if (!input.started) {
      input.started = true;
      input.deliver(msg, rtpSsrc(msg), now);
      this.#emit('track-started', input);
      return;
    }
    input.deliver(msg, rtpSsrc(msg), now);
  }

  #adoptChannel(peer: Peer, dc: DataChannel): void {
    let label = '';
    try {
      label = dc.getLabel();
    } catch {
      // ignore
    }
    if (label !== 'chat') getLogger().info(`${this.name}: adopting data channel ${JSON.stringify(label)}`);
    peer.dc = dc; // the last channel wins, as Python
    dc.onMessage((msg) => {
      if (peer.gen !== this.#gen || this.#closed) return;
      if (typeof msg !== 'string') {
        getLogger().debug(`${this.name}: binary data-channel message ignored`);
        return;
      }
      this.#onChannelText(peer, msg);
    });
    dc.onOpen(() => {
      if (peer.gen === this.#gen && !this.#closed && peer.dc === dc) this.#flushOutbox(peer);
    });
    dc.onClosed(() => {
      if (peer.dc === dc) getLogger().debug(`${this.name}: data channel closed`);
    });
    // Channels created by the remote arrive already open; flush now (Python fix bab3366ad).
    if (dc.isOpen()) this.#flushOutbox(peer);
  }

  #onChannelText(peer: Peer, text: string): void {
    const m = classifyInbound(text);
    switch (m.kind) {
      case 'ping':
        peer.lastPingMs = performance.now();
        return;
      case 'invalid':
        getLogger().warn(`${this.name}: ignoring data-channel message: ${m.reason}`);
        return;
      case 'signalling':
        this.#onSignalling(peer, m.message);
        return;
      case 'app':
        if (this.isConnected()) {
          this.#emit('app-message', m.message);
        } else {
          if (this.#pendingAppMessages.length >= MAX_MESSAGE_QUEUE_SIZE) {
            this.#pendingAppMessages.shift();
            getLogger().warn(`${this.name}: too many app messages before connect(); dropping the oldest`);
          }
          this.#pendingAppMessages.push(m.message);
        }
        return;
    }
  }

  #onSignalling(peer: Peer, message: SignallingMessage): void {
    if (message.type === 'trackStatus') {
      const t = peer.transceivers.find((x) => x.index === message.receiver_index);
      t?.input?.setEnabled(message.enabled);
      return;
    }
    getLogger().debug(`${this.name}: ignoring signalling ${message.type} from the client`);
  }

  #sendSignalling(message: SignallingMessage): void {
    this.#sendText(JSON.stringify(signalling(message)));
  }

  #sendText(text: string): void {
    const peer = this.#peer;
    if (this.#closed || !peer) {
      getLogger().debug(`${this.name}: message dropped (connection closed or not initialized)`);
      return;
    }
    const size = Buffer.byteLength(text, 'utf8');
    if (size > peer.remoteMaxMessageSize) {
      throw new SmallWebRTCRangeError(
        'ERR_MESSAGE_TOO_LARGE',
        `message is ${size} bytes; the peer accepts at most ${peer.remoteMaxMessageSize}`,
      );
    }
    const dc = peer.dc;
    if (dc && this.#isOpen(dc)) {
      this.#flushOutbox(peer);
      this.#rawSend(dc, text);
      return;
    }
    if (peer.discardMode) {
      getLogger().warn(`${this.name}: no open data channel; message discarded`);
      return;
    }
    if (peer.outbox.length >= MAX_MESSAGE_QUEUE_SIZE) {
      getLogger().warn(`${this.name}: outbox full (${MAX_MESSAGE_QUEUE_SIZE}); message discarded`);
      return;
    }
    peer.outbox.push(text);
  }

  #isOpen(dc: DataChannel): boolean {
    try {
      return dc.isOpen();
    } catch {
      return false;
    }
  }

  #rawSend(dc: DataChannel, text: string): void {
    try {
      dc.sendMessage(text);
    } catch (err) {
      getLogger().warn(`${this.name}: data-channel send failed`, err);
    }
  }

  #flushOutbox(peer: Peer): void {
    const dc = peer.dc;
    if (!dc || peer.outbox.length === 0) return;
    const queued = peer.outbox;
    peer.outbox = [];
    for (const text of queued) this.#rawSend(dc, text);
  }

  #emitConnected(peer: Peer): void {
    if (peer.connectedEmitted || !this.#connectInvoked || this.#closed) return;
    peer.connectedEmitted = true;
    getLogger().info(`${this.name}: connected ${this.#pcId}`);
    this.#emit('connected');
    const pending = this.#pendingAppMessages;
    this.#pendingAppMessages = [];
    for (const message of pending) this.#emit('app-message', message);
  }

  #connectingTimer: NodeJS.Timeout | null = null;
  #disconnectedTimer: NodeJS.Timeout | null = null;

  #onState(peer: Peer, state: string): void {
    if (peer.gen !== this.#gen || this.#closed) {
      getLogger().debug(`${this.name}: peer state ${state} ignored (retired peer or closed connection)`);
      return;
    }
    getLogger().debug(`${this.name}: peer state ${state}`);
    // connect() may have read `connected` from pc.state() before the queued `connecting` callback ran;
    // libdatachannel never goes from connected back to connecting, so that late callback is stale.
    if (state === 'connecting' && peer.everConnected) return;
    peer.state = state;
    switch (state) {
      case 'new':
        this.#emit('new');
        break;
      case 'connecting':
        this.#emit('connecting');
        this.#clearTimer(peer, this.#connectingTimer);
        this.#connectingTimer = this.#timer(peer, this.#connectionTimeoutMs, () => {
          getLogger().warn(`${this.name}: still connecting after ${this.#connectionTimeoutMs} ms; closing`);
          void this.close();
        });
        break;
      case 'connected':
        this.#clearTimer(peer, this.#connectingTimer);
        this.#clearTimer(peer, this.#disconnectedTimer);
        this.#connectingTimer = null;
        this.#disconnectedTimer = null;
        if (!peer.everConnected) {
          peer.everConnected = true;
          peer.lastBytesChangeMs = performance.now();
          this.#timer(peer, this.#dataChannelTimeoutMs, () => {
            if (peer.dc && this.#isOpen(peer.dc)) return;
            getLogger().warn(
              `${this.name}: no data channel ${this.#dataChannelTimeoutMs} ms after connecting; discarding app messages`,
            );
            peer.outbox = [];
            peer.discardMode = true;
          });
        }
        this.#emitConnected(peer);
        break;
      case 'disconnected':
        // libdatachannel: ICE-only loss may recover; DTLS/SCTP loss is followed by `closed`. Bound the wait.
        this.#clearTimer(peer, this.#disconnectedTimer);
        this.#disconnectedTimer = this.#timer(peer, this.#livenessTimeoutMs, () => {
          getLogger().info(`${this.name}: disconnected for ${this.#livenessTimeoutMs} ms; closing`);
          void this.close();
        });
        break;
      case 'failed':
        getLogger().info(`${this.name}: peer connection failed; closing`);
        this.#emit('failed');
        void this.close();
        break;
      case 'closed':
        // The remote closed (DTLS close_notify / SCTP shutdown) or libdatachannel closed the PC itself
        // (ICE or DTLS failure). Logged so a surprise `closed` can be told apart from a liveness timeout.
        getLogger().info(`${this.name}: peer connection closed underneath; closing`);
        void this.close();
        break;
      default:
        break;
    }
  }

  /**
   * Periodic liveness check (docs/protocol.md, "Liveness"; libjuice's own consent checks took ~30 s
   * here). The peer is gone when nothing at all has been received (no ping, no RTP/RTCP, no SCTP) for
   * `livenessTimeoutSecs`, if it ever pinged; clients that never ping get `max(livenessTimeoutSecs, 30)` s,
   * since an idle non-pinging peer may legitimately send nothing but STUN consent checks for a while. Requiring total silence (not only ping
   * silence) keeps a throttled background tab that still sends media from being dropped.
   *
   * Our own event-loop stalls (GC, a loaded machine) are not the peer's silence: after a stall the timers
   * phase runs this check before the poll phase delivers the media callbacks that queued up meanwhile, so a
   * tick that fires more than 2 periods late gives no verdict and the next one (which sees the backlog)
   * decides. Only one tick in a row is skipped, so a permanently lagging loop still closes dead peers.
   */
  #armConnectionWatch(peer: Peer): void {
    const silentLimit = Math.max(this.#livenessTimeoutMs, 30_000);
    const periodMs = Math.min(500, this.#livenessTimeoutMs / 4);
    let lastTickMs = performance.now();
    let skipped = false;
    this.#timer(
      peer,
      periodMs,
      () => {
        const now = performance.now();
        const late = now - lastTickMs > 2 * periodMs;
        lastTickMs = now;
        if (!peer.everConnected) return;
        let bytes = peer.lastBytesReceived;
        try {
          bytes = peer.pc.bytesReceived();
        } catch {
          // closed underneath: the state callback will tell
        }
        if (bytes !== peer.lastBytesReceived) {
          peer.lastBytesReceived = bytes;
          peer.lastBytesChangeMs = now;
        }
        // bytesReceived() counts SCTP payload only; media is tracked in #onTrackMessage.
        const silentMs = now - Math.max(peer.lastBytesChangeMs, peer.lastMediaMs);
        const limit = peer.lastPingMs !== null ? this.#livenessTimeoutMs : silentLimit;
        if (silentMs > limit && late && !skipped) {
          skipped = true;
          getLogger().debug(`${this.name}: liveness check ran late (event loop stalled); deferring verdict`);
          return;
        }
        skipped = false;
        if (silentMs > limit) {
          getLogger().info(`${this.name}: nothing received for ${Math.round(silentMs)} ms; peer gone`);
          void this.close();
        }
      },
      true,
    );
  }

  #armRenegotiationCooldown(): void {
    if (this.#renegotiationTimer) clearTimeout(this.#renegotiationTimer);
    this.#renegotiationTimer = setTimeout(() => {
      this.#renegotiationInProgress = false;
      this.#renegotiationTimer = null;
    }, 2000);
    this.#renegotiationTimer.unref();
  }

  #replaceOutbound(slotIndex: 0 | 1, kind: 'audio' | 'video', track: OutboundTrack | null): void {
    if (track !== null) {
      if (
        typeof track !== 'object' ||
        typeof (track as OutboundTrack).bind !== 'function' ||
        typeof (track as OutboundTrack).unbind !== 'function'
      ) {
        throw new SmallWebRTCTypeError(
          'ERR_INVALID_ARG',
          'track must be an OutboundTrack (bind/unbind) or null',
        );
      }
      if (track.kind !== kind) {
        throw new SmallWebRTCTypeError('ERR_INVALID_ARG', `track.kind must be "${kind}" for this sender`);
      }
    }
    const slot = this.#outbound[slotIndex];
    if (slot.track === track) return;
    this.#unbindSlot(slot);
    slot.track = track;
    if (!this.#closed) this.#bindOutbound();
  }

  #unbindSlot(slot: OutboundSlot): void {
    if (slot.track && slot.bound) {
      try {
        slot.track.unbind();
      } catch (err) {
        getLogger().error(`${this.name}: OutboundTrack.unbind threw`, err);
      }
    }
    slot.bound = null;
  }

  #bindOutbound(): void {
    const peer = this.#peer;
    if (!peer) return;
    for (const index of [0, 1] as const) {
      const slot = this.#outbound[index];
      const t = peer.transceivers.find((x) => x.index === index);
      const sink = t && t.kind === (index === 0 ? 'audio' : 'video') ? t.sink : null;
      if (!slot.track || !sink || slot.bound === sink) continue;
      this.#unbindSlot(slot);
      try {
        slot.track.bind(sink);
        slot.bound = sink;
      } catch (err) {
        getLogger().error(`${this.name}: OutboundTrack.bind threw`, err);
      }
    }
  }

  /** Tears the current peer down without emitting `closed` (restart or close); keeps references alive. */
  #retirePeer(): void {
    const peer = this.#peer;
    this.#gen++;
    this.#connectingTimer = null;
    this.#disconnectedTimer = null;
    for (const slot of this.#outbound) this.#unbindSlot(slot);
    if (!peer) return;
    this.#peer = null;
    for (const t of peer.transceivers) {
      t.sink?.kill();
      if (t.input) {
        t.input.end();
        if (t.input.started) this.#emit('track-ended', t.input);
      }
    }
    this.#destroyPeer(peer);
    this.#retired.push(peer);
    if (this.#retired.length > 4) this.#retired.shift();
  }

  #destroyPeer(peer: Peer): void {
    for (const t of peer.timers) clearTimeout(t);
    peer.timers.clear();
    peer.outbox = [];
    peer.gatheringWaiter?.();
    peer.localDescriptionWaiter?.();
    try {
      peer.pc.close();
    } catch (err) {
      getLogger().debug(`${this.name}: pc.close failed`, err);
    }
  }
}
