import { getLogger } from '../logger.js';
import type { ConnectionConfig } from './connection-options.js';
import { DataChannelLink, remoteMaxMessageSize } from './data-channel.js';
import type { InboundRateLimiter } from './inbound-rate.js';
import type { InboundStats } from './inbound-stats.js';
import { PeerLiveness, PeerTimers } from './liveness.js';
import { PeerNegotiation } from './negotiation.js';
import type { ParsedSdp } from './sdp.js';
import type { InputTrackImpl } from './tracks.js';
import { Transceivers } from './transceivers.js';

/**
 * The collaborators of one libdatachannel peer connection, created together for an offer and retired
 * together (restart or close). Each owns one concern and its own state; nothing else lives here.
 */
export interface PeerParts {
  /** Offer/answer, trickled candidates; owns the PeerConnection. */
  readonly negotiation: PeerNegotiation;
  /** Audio/video m-lines: input tracks and sinks. */
  readonly transceivers: Transceivers;
  /** The data channel, its outbox and the signalling on it. */
  readonly channel: DataChannelLink;
  /** Timeouts and the silence watch. */
  readonly liveness: PeerLiveness;
  /** Every timer of this peer (cancelled when it goes). */
  readonly timers: PeerTimers;
}

/** What {@link createPeer} needs: the connection's identity and settings, and where events go. */
export interface CreatePeerOptions {
  /** Log prefix (the connection's name). */
  name: string;
  /** The id node-datachannel gets for the PeerConnection (the connection's current `pc_id`). */
  pcId: string;
  /** The `a=ssrc ... cname:` of our streams. */
  cname: string;
  config: ConnectionConfig;
  /** The parsed offer this peer answers. */
  offer: ParsedSdp;
  /** node-datachannel's peer-connection state changed (`new`, `connecting`, `connected`, ...). */
  onState(state: string): void;
  /** A non-signalling JSON object arrived on the data channel. */
  onAppMessage(message: Record<string, unknown>): void;
  /** The first RTP packet arrived on an input track. */
  onTrackStarted(track: InputTrackImpl): void;
  /** A liveness timeout expired: the peer is gone. */
  onGone(): void;
  /** The connection's inbound counters (shared by its peers). */
  stats: InboundStats;
  /** The connection's inbound data-channel bound (shared by its peers). */
  limiter: InboundRateLimiter;
  /** The peer flooded its data channel past the bound: it is to be disconnected. */
  onFlood(reason: string): void;
}

/**
 * Creates the PeerConnection and the collaborators around it, and wires them to each other and to the
 * connection. Every node-datachannel callback is registered before this returns, since node-datachannel only
 * reports what happens after registration; nothing is negotiated yet.
 *
 * @throws SmallWebRTCError `ERR_INTERNAL` if the PeerConnection cannot be created.
 */
export function createPeer(o: CreatePeerOptions): PeerParts {
  const { name, config } = o;
  const negotiation = new PeerNegotiation(name, o.pcId, config.rtcConfig, o.offer);
  const timers = new PeerTimers(name);
  const liveness = new PeerLiveness({
    name,
    timers,
    bytesReceived: () => negotiation.bytesReceived(),
    livenessTimeoutMs: config.livenessTimeoutMs,
    connectionTimeoutMs: config.connectionTimeoutMs,
    onGone: o.onGone,
  });
  const transceivers = new Transceivers({
    name,
    pc: negotiation.pc,
    cname: o.cname,
    onPacket: (now) => liveness.markMedia(now),
    onTrackStarted: o.onTrackStarted,
    stats: o.stats.media,
  });
  const channel = new DataChannelLink({
    name,
    remoteMaxMessageSize: remoteMaxMessageSize(o.offer),
    onPing: () => liveness.markPing(),
    onTrackStatus: (index, enabled) => transceivers.setEnabled(index, enabled),
    onAppMessage: o.onAppMessage,
    stats: o.stats.dataChannel,
    limiter: o.limiter,
    onFlood: o.onFlood,
  });
  const pc = negotiation.pc;
  pc.onStateChange((state) => o.onState(state));
  pc.onDataChannel((dc) => channel.add(dc));
  pc.onTrack((track) => {
    // Tracks we did not pre-add (none expected: every audio/video m-line is pre-added, possibly inactive).
    // Keep a reference (a collected Track crashes at close) and ignore their media.
    transceivers.keep(track);
    getLogger().debug(`${name}: remote track on mid ${track.mid()} not handled`);
  });
  return { negotiation, transceivers, channel, liveness, timers };
}

/**
 * Stops everything of a peer: sinks and input tracks end, timers are cancelled, the outbox is dropped and
 * the PeerConnection closed. Callbacks still queued for it are ignored. The caller keeps the parts referenced
 * (Tracks and DataChannels must outlive the PeerConnection's close).
 */
export function destroyPeer(peer: PeerParts): void {
  peer.transceivers.close();
  peer.timers.clear();
  peer.channel.close();
  peer.negotiation.close();
}
