import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import nodeDataChannel from 'node-datachannel';
import type { PeerConnection } from 'node-datachannel';
import { SmallWebRTCError, SmallWebRTCTypeError } from '../errors.js';
import { TypedEmitter } from '../events.js';
import { getLogger } from '../logger.js';
import {
  resolveConnectionOptions,
  type ConnectionConfig,
  type SmallWebRTCConnectionOptions,
} from './connection-options.js';
import {
  CONNECTION_EVENT_NAMES,
  type SmallWebRTCConnectionEventName,
  type SmallWebRTCConnectionEvents,
} from './connection-events.js';
import { MAX_MESSAGE_QUEUE_BYTES, MAX_MESSAGE_QUEUE_SIZE, toJsonText } from './data-channel.js';
import type { IceServer } from './ice-servers.js';
import { InboundRateLimiter } from './inbound-rate.js';
import { copyInboundStats, newInboundStats, type InboundStats } from './inbound-stats.js';
import { SerialQueue, checkOffer, checkRemoteCandidate, type RemoteIceCandidate } from './negotiation.js';
import { createPeer, destroyPeer, type PeerParts } from './peer.js';
import { parseSdp, rewriteHostCandidates, type ParsedSdp } from './sdp.js';
import type { InputTrack, OutboundTrack } from './tracks.js';
import {
  AUDIO_TRANSCEIVER_INDEX,
  OutboundSenders,
  SCREEN_VIDEO_TRANSCEIVER_INDEX,
  VIDEO_TRANSCEIVER_INDEX,
} from './transceivers.js';

// The connection's public names, wherever they are defined (the facade is the one import for callers).
export {
  DATA_CHANNEL_TIMEOUT_SECS,
  LOCAL_MAX_MESSAGE_SIZE,
  type SmallWebRTCConnectionOptions,
} from './connection-options.js';
export type { SmallWebRTCConnectionEventName, SmallWebRTCConnectionEvents } from './connection-events.js';
export { MAX_MESSAGE_QUEUE_BYTES, MAX_MESSAGE_QUEUE_SIZE } from './data-channel.js';
export { PING_LIVENESS_MS } from './liveness.js';
export type { RemoteIceCandidate } from './negotiation.js';
export {
  AUDIO_TRANSCEIVER_INDEX,
  OPUS_ANSWER_FMTP,
  SCREEN_VIDEO_TRANSCEIVER_INDEX,
  VIDEO_TRANSCEIVER_INDEX,
} from './transceivers.js';

/** A handler: receives the connection first, then the event's arguments; may be async. */
export type SmallWebRTCConnectionHandler<K extends SmallWebRTCConnectionEventName> = (
  connection: SmallWebRTCConnection,
  ...args: SmallWebRTCConnectionEvents[K]
) => unknown;

/** The emitter's view of the events: the connection first, as handlers receive it. */
type ConnectionEmitterEvents = {
  [K in SmallWebRTCConnectionEventName]: [SmallWebRTCConnection, ...SmallWebRTCConnectionEvents[K]];
};

/** The answer returned to the client (`get_answer()` in Pipecat). */
export interface SmallWebRTCAnswer {
  sdp: string;
  type: 'answer';
  pc_id: string;
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
 *
 * This class is the facade: the work is done per peer connection (`createPeer` in `peer.ts`) by
 * `PeerNegotiation` (SDP), `Transceivers` (media tracks), `DataChannelLink` (data channel and signalling)
 * and `PeerLiveness` (timeouts), configured by `resolveConnectionOptions`; the outbound tracks, which
 * outlive a peer, by `OutboundSenders`. The connection keeps the state that spans peers (pc_id, answer,
 * held-back `connected`, app messages before `connect()`, renegotiation cooldown) and emits the events.
 */
export class SmallWebRTCConnection {
  /** `SmallWebRTCConnection#<n>`, unique in the process (Pipecat's object name). */
  readonly name: string;
  readonly #config: ConnectionConfig;
  readonly #cname = randomUUID().replace(/-/g, '').slice(0, 16);
  readonly #events: TypedEmitter<ConnectionEmitterEvents>;
  readonly #senders: OutboundSenders;
  readonly #signalling = new SerialQueue();
  #pcId: string;
  #peer: PeerParts | null = null;
  /** The peer whose `connected` was emitted (held back until `connect()`; once per peer). */
  #announced: PeerParts | null = null;
  /** The last few retired peers: their Tracks/DataChannels stay referenced (a collected Track crashes). */
  #retired: PeerParts[] = [];
  #answer: SmallWebRTCAnswer | null = null;
  #initialized = false;
  #connectInvoked = false;
  #closed = false;
  #closedEmitted = false;
  #closePromise: Promise<void> | null = null;
  #disconnecting: Promise<void> | null = null;
  /** App messages that arrived before `connect()`, replayed after `connected` (Python, at most 50). */
  #pendingAppMessages: unknown[] = [];
  /** UTF-8 JSON sizes of #pendingAppMessages (same order) and their sum, bounded by MAX_MESSAGE_QUEUE_BYTES. */
  #pendingAppSizes: number[] = [];
  #pendingAppBytes = 0;
  #renegotiationInProgress = false;
  #renegotiationTimer: NodeJS.Timeout | null = null;
  /** What the peers sent and what of it was dropped (all peers of this connection). */
  readonly #inbound = newInboundStats();
  /** The bound of what the peers may send on the data channel (all peers of this connection). */
  readonly #limiter: InboundRateLimiter;

  constructor(options: SmallWebRTCConnectionOptions = {}) {
    this.#config = resolveConnectionOptions(options);
    this.#limiter = new InboundRateLimiter(this.#config.dataChannelRateLimit, performance.now());
    this.name = `SmallWebRTCConnection#${connectionCounter++}`;
    this.#senders = new OutboundSenders(this.name);
    this.#pcId = this.#newPcId();
    this.#events = new TypedEmitter(this.name);
    for (const n of CONNECTION_EVENT_NAMES) this.#events.register(n, { awaited: false });
    liveConnections.add(this);
  }

  /** The ICE servers this connection uses (normalized copy). */
  get iceServers(): IceServer[] {
    return this.#config.iceServers.map((s) => ({ ...s, urls: Array.isArray(s.urls) ? [...s.urls] : s.urls }));
  }

  /**
   * Opaque id for the client (`<name>-<uuid4 hex>`, 122 random bits; `<name>-<ownerTag>.<uuid4 hex>` with the
   * `ownerTag` option); changes on `restartPc`.
   */
  get pcId(): string {
    return this.#pcId;
  }

  /**
   * What the peer sent on the data channel and as RTP/RTCP, and what of it was dropped before reaching the
   * application (by reason), over the connection's life. A copy; also readable after close. Packets
   * libdatachannel discarded itself (SRTP failures and replays, unknown SSRCs) are not seen here; the native
   * receivers count their own refusals (`receiverStats()`).
   */
  inboundStats(): InboundStats {
    return copyInboundStats(this.#inbound);
  }

  /** Whether `close()` ran or the peer went away for good. */
  get closed(): boolean {
    return this.#closed;
  }

  /** The underlying node-datachannel PeerConnection of the current peer (null before `initialize`/after close). */
  get pc(): PeerConnection | null {
    return this.#closed ? null : (this.#peer?.negotiation.pc ?? null);
  }

  // ---------------------------------------------------------------------------------------------- events

  /** Adds a handler (Pipecat `@connection.event_handler(name)`). Same as {@link SmallWebRTCConnection.on}. */
  eventHandler<K extends SmallWebRTCConnectionEventName>(
    name: K,
    handler: SmallWebRTCConnectionHandler<K>,
  ): void {
    this.on(name, handler);
  }

  /**
   * Adds a handler; it receives the connection, then the event's arguments. Handlers are called in order as
   * the event happens and are not awaited (a connection never waits for application code); a throw or
   * rejection is logged.
   *
   * @throws SmallWebRTCTypeError `ERR_INVALID_ARG` for an unknown event name or a non-function handler.
   */
  on<K extends SmallWebRTCConnectionEventName>(name: K, handler: SmallWebRTCConnectionHandler<K>): this {
    this.#events.on(name, handler as never);
    return this;
  }

  /** Removes a handler added with `on`/`eventHandler` (unknown handlers are ignored). */
  off<K extends SmallWebRTCConnectionEventName>(name: K, handler: SmallWebRTCConnectionHandler<K>): this {
    this.#events.off(name, handler as never);
    return this;
  }

  #emit<K extends SmallWebRTCConnectionEventName>(name: K, ...args: SmallWebRTCConnectionEvents[K]): void {
    void this.#events.emit(name, ...([this, ...args] as unknown as ConnectionEmitterEvents[K]));
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
    this.#assertOpen('initialize');
    const sdp = checkOffer(offer, 'initialize');
    if (this.#initialized) throw new SmallWebRTCError('ERR_INVALID_STATE', 'initialize() was already called');
    const parsed = parseSdp(sdp, this.#config.maxMediaSections);
    this.#initialized = true;
    await this.#signalling.run(() => this.#startPeer(parsed, sdp));
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
    // The state callback may still be queued behind this call: ask the peer connection.
    if (peer.negotiation.liveState() === 'connected') this.#onState(peer, 'connected');
  }

  /**
   * Handles a later offer from the same client. Without `restartPc`: a second offer on the existing peer
   * (same `pc_id`). With `restartPc`: emits `disconnected`, tears the old peer down silently (no `closed`),
   * and answers with a new peer and a new `pc_id`; handlers and outbound tracks carry over.
   */
  async renegotiate(offer: { sdp: string; type: string; restartPc?: boolean }): Promise<void> {
    this.#assertOpen('renegotiate');
    const sdp = checkOffer(offer, 'renegotiate');
    const restart = offer.restartPc ?? false;
    if (typeof restart !== 'boolean')
      throw new SmallWebRTCTypeError('ERR_INVALID_ARG', 'restartPc must be a boolean');
    if (!this.#initialized)
      throw new SmallWebRTCError('ERR_INVALID_STATE', 'renegotiate() before initialize()');
    const parsed = parseSdp(sdp, this.#config.maxMediaSections);
    await this.#signalling.run(async () => {
      this.#assertOpen('renegotiate');
      if (restart || !this.#peer) {
        getLogger().info(`${this.name}: restarting peer connection ${this.#pcId}`);
        this.#emit('disconnected');
        this.#retirePeer();
        this.#pcId = this.#newPcId();
        this.#pendingAppMessages = [];
        this.#pendingAppSizes = [];
        this.#pendingAppBytes = 0;
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
    const checked = checkRemoteCandidate(c);
    if (!checked) return;
    const peer = this.#peer;
    if (!peer) throw new SmallWebRTCError('ERR_INVALID_STATE', 'addIceCandidate() before initialize()');
    peer.negotiation.addRemoteCandidate(checked);
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
    const text = toJsonText(message);
    const peer = this.#peer;
    if (this.#closed || !peer) {
      getLogger().debug(`${this.name}: message dropped (connection closed or not initialized)`);
      return;
    }
    peer.channel.send(text);
  }

  /**
   * Pipecat's liveness: `connect()` was called AND (the last `ping` is younger than 3 s if the client ever
   * pinged, else the peer connection is `connected`).
   */
  isConnected(): boolean {
    const peer = this.#peer;
    if (this.#closed || !this.#connectInvoked || !peer) return false;
    return peer.liveness.isAlive(peer.negotiation.state);
  }

  /** The input track of transceiver 0 (microphone), or null if the offer has none we receive. */
  audioInputTrack(): InputTrack | null {
    return this.#peer?.transceivers.input(AUDIO_TRANSCEIVER_INDEX) ?? null;
  }

  /** The input track of transceiver 1 (camera), or null. */
  videoInputTrack(): InputTrack | null {
    return this.#peer?.transceivers.input(VIDEO_TRANSCEIVER_INDEX) ?? null;
  }

  /** The input track of transceiver 2 (screen share), or null. */
  screenVideoInputTrack(): InputTrack | null {
    return this.#peer?.transceivers.input(SCREEN_VIDEO_TRANSCEIVER_INDEX) ?? null;
  }

  /** Sets what we send on transceiver 0 (audio); null stops sending. Rebound automatically after a restart. */
  replaceAudioTrack(track: OutboundTrack | null): void {
    if (this.#senders.replace(0, 'audio', track) && !this.#closed) {
      this.#senders.bind(this.#peer?.transceivers ?? null);
    }
  }

  /** Sets what we send on transceiver 1 (camera video); null stops sending. */
  replaceVideoTrack(track: OutboundTrack | null): void {
    if (this.#senders.replace(1, 'video', track) && !this.#closed) {
      this.#senders.bind(this.#peer?.transceivers ?? null);
    }
  }

  /**
   * Asks the client to re-offer on the same peer (`renegotiate` signalling message), at most once per 2 s
   * window and never while a renegotiation is in progress (Python `ask_to_renegotiate`).
   */
  askToRenegotiate(): void {
    if (this.#closed || this.#renegotiationInProgress) return;
    this.#renegotiationInProgress = true;
    this.#armRenegotiationCooldown();
    const peer = this.#peer;
    if (!peer) {
      getLogger().debug(`${this.name}: message dropped (connection closed or not initialized)`);
      return;
    }
    peer.channel.sendSignalling({ type: 'renegotiate' });
  }

  /**
   * Graceful end: sends `peerLeft`, waits (at most 1 s) for the data channel's send buffer to drain, then
   * closes. Idempotent.
   */
  disconnect(): Promise<void> {
    if (this.#closed) return this.#closePromise ?? Promise.resolve();
    // One peerLeft however many callers (a draining server and the bot's transport both end the session).
    this.#disconnecting ??= (async () => {
      const peer = this.#peer;
      if (peer) {
        try {
          await this.#sendPeerLeftAndDrain(peer);
        } catch (err) {
          getLogger().debug(`${this.name}: peerLeft not delivered`, err);
        }
      }
      await this.close();
    })();
    return this.#disconnecting;
  }

  /**
   * Sends `peerLeft` (queued like any message if the channel is not open yet) and waits, at most ~1 s in
   * total, for it to leave (see `DataChannelLink.drain`). Closing the channel first is not used:
   * node-datachannel peers may then drop the last message (their close and message callbacks race on
   * different thread-safe functions).
   */
  async #sendPeerLeftAndDrain(peer: PeerParts): Promise<void> {
    peer.channel.sendSignalling({ type: 'peerLeft' });
    await peer.channel.drain(
      performance.now() + 1000,
      () => !this.#closed && this.#peer === peer,
      () => {
        try {
          return peer.negotiation.pc.state() === 'connected';
        } catch {
          return false;
        }
      },
    );
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
      this.#pendingAppSizes = [];
      this.#pendingAppBytes = 0;
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
    const tag = this.#config.ownerTag;
    return `${this.name}-${tag === null ? '' : `${tag}.`}${randomUUID().replace(/-/g, '')}`;
  }

  #assertOpen(what: string): void {
    if (this.#closed) throw new SmallWebRTCError('ERR_CLOSED', `${what}(): connection is closed`);
  }

  /** Whether `peer` is still the connection's live peer (callbacks of retired peers are ignored). */
  #isCurrent(peer: PeerParts): boolean {
    return this.#peer === peer && !this.#closed;
  }

  async #startPeer(parsed: ParsedSdp, sdp: string): Promise<void> {
    const peer = createPeer({
      name: this.name,
      pcId: this.#pcId,
      cname: this.#cname,
      config: this.#config,
      offer: parsed,
      onState: (state) => this.#onState(peer, state),
      onAppMessage: (message) => this.#onAppMessage(message),
      onTrackStarted: (track) => this.#emit('track-started', track),
      onGone: () => void this.close(),
      stats: this.#inbound,
      limiter: this.#limiter,
      // A flooding peer is cut off at once (no peerLeft: its channel is what it abuses); logged by the link.
      onFlood: () => void this.close(),
    });
    this.#peer = peer;
    try {
      peer.transceivers.add(parsed.media);
    } catch (err) {
      destroyPeer(peer);
      if (this.#peer === peer) this.#peer = null;
      throw err instanceof SmallWebRTCError
        ? err
        : new SmallWebRTCError('ERR_INVALID_SDP', `cannot prepare answer: ${String(err)}`, { cause: err });
    }
    let answer: string;
    try {
      answer = await peer.negotiation.answer(sdp, this.#config.gatheringTimeoutMs, () =>
        this.#isCurrent(peer),
      );
    } catch (err) {
      if (err instanceof SmallWebRTCError && err.code === 'ERR_INVALID_SDP') {
        destroyPeer(peer);
        if (this.#peer === peer) this.#peer = null;
      }
      throw err;
    }
    this.#setAnswer(answer);
    this.#senders.bind(peer.transceivers);
    peer.liveness.watch();
  }

  async #renegotiateSamePeer(peer: PeerParts, parsed: ParsedSdp, sdp: string): Promise<void> {
    try {
      peer.transceivers.add(peer.negotiation.freshMedia(parsed, peer.transceivers.mids), parsed.media);
    } catch (err) {
      throw new SmallWebRTCError('ERR_INVALID_SDP', `cannot prepare answer: ${String(err)}`, { cause: err });
    }
    const app = parsed.media.find((m) => m.kind === 'application' && m.port !== 0);
    if (app?.maxMessageSize) peer.channel.remoteMaxMessageSize = app.maxMessageSize;
    this.#setAnswer(await peer.negotiation.reanswer(parsed, sdp, () => this.#isCurrent(peer)));
  }

  #setAnswer(sdp: string): void {
    const ip = this.#config.advertisedIp;
    this.#answer = { sdp: ip ? rewriteHostCandidates(sdp, ip) : sdp, type: 'answer', pc_id: this.#pcId };
  }

  #onAppMessage(message: unknown): void {
    if (this.isConnected()) {
      this.#emit('app-message', message);
      return;
    }
    // Sized by its JSON text (what the peer sent, at most our a=max-message-size), only while queued.
    const size = Buffer.byteLength(JSON.stringify(message) ?? '', 'utf8');
    while (
      this.#pendingAppMessages.length > 0 &&
      (this.#pendingAppMessages.length >= MAX_MESSAGE_QUEUE_SIZE ||
        this.#pendingAppBytes + size > MAX_MESSAGE_QUEUE_BYTES)
    ) {
      this.#pendingAppBytes -= this.#pendingAppSizes.shift() ?? 0;
      this.#pendingAppMessages.shift();
      getLogger().warn(`${this.name}: too many app messages before connect(); dropping the oldest`);
    }
    this.#pendingAppMessages.push(message);
    this.#pendingAppSizes.push(size);
    this.#pendingAppBytes += size;
  }

  #emitConnected(peer: PeerParts): void {
    if (this.#announced === peer || !this.#connectInvoked || this.#closed) return;
    this.#announced = peer;
    getLogger().info(`${this.name}: connected ${this.#pcId}`);
    this.#emit('connected');
    const pending = this.#pendingAppMessages;
    this.#pendingAppMessages = [];
    this.#pendingAppSizes = [];
    this.#pendingAppBytes = 0;
    for (const message of pending) this.#emit('app-message', message);
  }

  #onState(peer: PeerParts, state: string): void {
    if (!this.#isCurrent(peer)) {
      getLogger().debug(`${this.name}: peer state ${state} ignored (retired peer or closed connection)`);
      return;
    }
    getLogger().debug(`${this.name}: peer state ${state}`);
    // connect() may have read `connected` from pc.state() before the queued `connecting` callback ran;
    // libdatachannel never goes from connected back to connecting, so that late callback is stale.
    if (state === 'connecting' && peer.liveness.everConnected) return;
    peer.negotiation.state = state;
    switch (state) {
      case 'new':
        this.#emit('new');
        break;
      case 'connecting':
        this.#emit('connecting');
        peer.liveness.connecting();
        break;
      case 'connected':
        if (peer.liveness.connected()) {
          const ms = this.#config.dataChannelTimeoutMs;
          peer.timers.after(ms, () => peer.channel.startDiscarding(ms));
        }
        this.#emitConnected(peer);
        break;
      case 'disconnected':
        peer.liveness.disconnected();
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

  #armRenegotiationCooldown(): void {
    if (this.#renegotiationTimer) clearTimeout(this.#renegotiationTimer);
    this.#renegotiationTimer = setTimeout(() => {
      this.#renegotiationInProgress = false;
      this.#renegotiationTimer = null;
    }, 2000);
    this.#renegotiationTimer.unref();
  }

  /** Tears the current peer down without emitting `closed` (restart or close); keeps references alive. */
  #retirePeer(): void {
    const peer = this.#peer;
    this.#senders.unbindAll();
    if (!peer) return;
    this.#peer = null;
    for (const input of peer.transceivers.close()) this.#emit('track-ended', input);
    destroyPeer(peer);
    this.#retired.push(peer);
    if (this.#retired.length > 4) this.#retired.shift();
  }
}
