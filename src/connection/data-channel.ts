import { performance } from 'node:perf_hooks';
import type { DataChannel } from 'node-datachannel';
import { SmallWebRTCRangeError, SmallWebRTCTypeError } from '../errors.js';
import { getLogger } from '../logger.js';
import type { InboundRateLimiter } from './inbound-rate.js';
import type { InboundStats } from './inbound-stats.js';
import type { ParsedSdp } from './sdp.js';
import { classifyInbound, signalling, type SignallingMessage } from './signalling.js';

/** Outbound app messages queued before the data channel opens (Python `MAX_MESSAGE_QUEUE_SIZE`). */
export const MAX_MESSAGE_QUEUE_SIZE = 50;
/**
 * Bytes (UTF-8) of outbound app messages queued before the data channel opens: 1 MiB. The count alone would
 * let 50 messages at a peer-announced `a=max-message-size` (the peer picks it) pin far more.
 */
export const MAX_MESSAGE_QUEUE_BYTES = 1024 * 1024;

/**
 * The peer's `a=max-message-size` from the offer's data-channel m-line, in bytes: absent means 65536 (the
 * RFC 8841 default); 0 ("any size") is taken as 256 KiB.
 */
export function remoteMaxMessageSize(offer: ParsedSdp): number {
  const app = offer.media.find((m) => m.kind === 'application' && m.port !== 0);
  if (app?.maxMessageSize) return app.maxMessageSize;
  return app?.maxMessageSize === 0 ? 262144 : 65536;
}

/**
 * Serializes an app message for the data channel.
 *
 * @throws SmallWebRTCTypeError `ERR_INVALID_ARG` if it cannot be serialized to JSON (cycles, BigInt,
 *   `undefined`, a function).
 */
export function toJsonText(message: unknown): string {
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
  return text;
}

/** What {@link DataChannelLink} reports to the connection (JS thread). */
export interface DataChannelLinkOptions {
  /** Log prefix (the connection's name). */
  name: string;
  /** The peer's `a=max-message-size` (see {@link remoteMaxMessageSize}). */
  remoteMaxMessageSize: number;
  /** A `ping` keepalive arrived. */
  onPing(): void;
  /** The peer enabled or disabled the receiver at transceiver `index` (`trackStatus`). */
  onTrackStatus(index: number, enabled: boolean): void;
  /** A non-signalling JSON object arrived. */
  onAppMessage(message: Record<string, unknown>): void;
  /** The connection's counters (shared by its peers). */
  stats: InboundStats['dataChannel'];
  /** The connection's inbound byte-rate bound (shared by its peers). */
  limiter: InboundRateLimiter;
  /** The peer kept flooding past the bound's disconnect threshold (`reason` is logged already). */
  onFlood(reason: string): void;
}

/** At most one warning per this many ms about dropped messages (a flood must not flood the log). */
const DROP_LOG_INTERVAL_MS = 1000;

function isOpen(dc: DataChannel): boolean {
  try {
    return dc.isOpen();
  } catch {
    return false;
  }
}

/**
 * The data channel of one peer connection and the signalling carried on it (replaced on `restartPc`): adopts
 * the channel the client creates (the last one wins, as Python), classifies what arrives (ping, signalling,
 * app message) and sends JSON text, queued in order (up to {@link MAX_MESSAGE_QUEUE_SIZE}) until the channel
 * opens or {@link DataChannelLink.startDiscarding} gives up on it. All on the JS thread.
 */
export class DataChannelLink {
  readonly #o: DataChannelLinkOptions;
  /** Every channel we were given: referenced until the connection object goes (like Tracks). */
  readonly #refs: DataChannel[] = [];
  #dc: DataChannel | null = null;
  #outbox: string[] = [];
  /** UTF-8 bytes of the texts in #outbox. */
  #outboxBytes = 0;
  #discarding = false;
  #closed = false;
  /** performance.now() of the last drop warning, and drops not logged since. */
  #lastDropLog = -Infinity;
  #unloggedDrops = 0;
  /** The largest message the peer accepts, bytes (updated by a re-offer). */
  remoteMaxMessageSize: number;

  constructor(o: DataChannelLinkOptions) {
    this.#o = o;
    this.remoteMaxMessageSize = o.remoteMaxMessageSize;
  }

  /** Whether the adopted channel is open. */
  get isOpen(): boolean {
    return this.#dc !== null && isOpen(this.#dc);
  }

  /** A channel from node-datachannel's `onDataChannel`: kept alive, and adopted unless the peer is gone. */
  add(dc: DataChannel): void {
    this.#refs.push(dc);
    if (this.#closed) return;
    try {
      this.#adopt(dc);
    } catch (err) {
      getLogger().error(`${this.#o.name}: cannot adopt data channel`, err);
    }
  }

  /**
   * Sends JSON text now if the channel is open, else queues it.
   *
   * @throws SmallWebRTCRangeError `ERR_MESSAGE_TOO_LARGE` above the peer's `a=max-message-size`.
   */
  send(text: string): void {
    const size = Buffer.byteLength(text, 'utf8');
    if (size > this.remoteMaxMessageSize) {
      throw new SmallWebRTCRangeError(
        'ERR_MESSAGE_TOO_LARGE',
        `message is ${size} bytes; the peer accepts at most ${this.remoteMaxMessageSize}`,
      );
    }
    if (this.#closed) {
      getLogger().debug(`${this.#o.name}: message dropped (peer gone)`);
      return;
    }
    const dc = this.#dc;
    if (dc && isOpen(dc)) {
      this.#flush();
      this.#rawSend(dc, text);
      return;
    }
    if (this.#discarding) {
      getLogger().warn(`${this.#o.name}: no open data channel; message discarded`);
      return;
    }
    if (this.#outbox.length >= MAX_MESSAGE_QUEUE_SIZE || this.#outboxBytes + size > MAX_MESSAGE_QUEUE_BYTES) {
      getLogger().warn(
        `${this.#o.name}: outbox full (${MAX_MESSAGE_QUEUE_SIZE} messages or ${MAX_MESSAGE_QUEUE_BYTES} bytes); message discarded`,
      );
      return;
    }
    this.#outbox.push(text);
    this.#outboxBytes += size;
  }

  /** Sends a signalling message (`{"type":"signalling","message":...}`), queued like any message. */
  sendSignalling(message: SignallingMessage): void {
    this.send(JSON.stringify(signalling(message)));
  }

  /**
   * No channel opened in time after the peer connected (a media-only client): queued messages are dropped and
   * later ones discarded. A no-op once a channel is open.
   */
  startDiscarding(timeoutMs: number): void {
    if (this.isOpen) return;
    getLogger().warn(
      `${this.#o.name}: no data channel ${timeoutMs} ms after connecting; discarding app messages`,
    );
    this.#outbox = [];
    this.#outboxBytes = 0;
    this.#discarding = true;
  }

  /**
   * Waits, until `deadlineMs` (`performance.now()` time) at most, for what was sent to leave: the channel may
   * still be arriving on a just-connected peer, and `bufferedAmount` only covers libdatachannel's queue, not
   * usrsctp's, so a short grace (200 ms, about one RTT on bad paths) follows. Gives up early once `current()`
   * is false (peer replaced, connection closed) or while the peer connection is not connected.
   */
  async drain(deadlineMs: number, current: () => boolean, pcConnected: () => boolean): Promise<void> {
    const sleep = (ms: number): Promise<unknown> => new Promise((r) => setTimeout(r, ms));
    const live = (): boolean => current() && !this.#closed && performance.now() < deadlineMs;
    while (live() && pcConnected() && (this.#outbox.length > 0 || !this.isOpen)) await sleep(10);
    const dc = this.#dc;
    if (!dc || !isOpen(dc) || this.#outbox.length > 0) return;
    while (live() && isOpen(dc) && dc.bufferedAmount() > 0) await sleep(10);
    if (live()) await sleep(Math.min(200, Math.max(0, deadlineMs - performance.now())));
  }

  /** The peer is gone: queued messages are dropped and the channel's callbacks ignored from now on. */
  close(): void {
    this.#closed = true;
    this.#outbox = [];
    this.#outboxBytes = 0;
  }

  #adopt(dc: DataChannel): void {
    let label = '';
    try {
      label = dc.getLabel();
    } catch {
      // ignore
    }
    if (label !== 'chat') getLogger().info(`${this.#o.name}: adopting data channel ${JSON.stringify(label)}`);
    this.#dc = dc; // the last channel wins, as Python
    dc.onMessage((msg) => {
      if (this.#closed) return;
      const stats = this.#o.stats;
      // Inside node-datachannel's callback a throw would abort the process: nothing may escape.
      try {
        if (!this.#admit(msg)) return;
      } catch (err) {
        stats.dropped.failed++;
        getLogger().error(`${this.#o.name}: data-channel message handling failed`, err);
        return;
      }
      if (typeof msg !== 'string') {
        stats.dropped.binary++;
        this.#dropped('binary message');
        return;
      }
      stats.messages++;
      stats.chars += msg.length;
      // Inside node-datachannel's callback a throw would abort the process: nothing may escape.
      try {
        this.#onText(msg);
      } catch (err) {
        stats.dropped.failed++;
        getLogger().error(`${this.#o.name}: data-channel message handling failed`, err);
      }
    });
    dc.onOpen(() => {
      if (!this.#closed && this.#dc === dc) this.#flush();
    });
    dc.onClosed(() => {
      if (this.#dc === dc) getLogger().debug(`${this.#o.name}: data channel closed`);
    });
    // Channels created by the remote arrive already open; flush now (Python fix bab3366ad).
    if (dc.isOpen()) this.#flush();
  }

  /**
   * The rate bound, before anything reads the message: false when it is dropped (counted, logged at most once
   * a second) or the peer is cut off for flooding.
   */
  #admit(msg: string | Buffer | ArrayBuffer): boolean {
    const stats = this.#o.stats;
    const bytes = typeof msg === 'string' ? Buffer.byteLength(msg, 'utf8') : msg.byteLength;
    stats.bytes += bytes;
    const decision = this.#o.limiter.admit(bytes, performance.now());
    if (decision === 'accept') return true;
    stats.dropped.rateLimited++;
    stats.rateLimitedBytes += bytes;
    const { bytesPerSecond, burstBytes, disconnectAfterBytes } = this.#o.limiter.limit;
    const bound = `${bytesPerSecond} bytes/s, burst ${burstBytes}`;
    if (decision === 'drop') {
      this.#dropped(`over the inbound rate (${bound})`);
      return false;
    }
    this.#closed = true;
    stats.floodDisconnected = true;
    const reason =
      `data-channel flood: ${this.#o.limiter.episodeDroppedBytes} bytes over the inbound rate (${bound}) ` +
      `without slowing down (disconnectAfterBytes ${disconnectAfterBytes}); disconnecting the peer`;
    getLogger().warn(`${this.#o.name}: ${reason}`, {
      event: 'data_channel_flood',
      droppedMessages: stats.dropped.rateLimited,
      droppedBytes: stats.rateLimitedBytes,
      bytesPerSecond,
      burstBytes,
      disconnectAfterBytes,
    });
    this.#o.onFlood(reason);
    return false;
  }

  #onText(text: string): void {
    const m = classifyInbound(text);
    const stats = this.#o.stats;
    switch (m.kind) {
      case 'ping':
        stats.pings++;
        this.#o.onPing();
        return;
      case 'invalid':
        stats.dropped[m.drop]++;
        this.#dropped(m.reason);
        return;
      case 'signalling':
        stats.signalling++;
        if (m.message.type === 'trackStatus') {
          this.#o.onTrackStatus(m.message.receiver_index, m.message.enabled);
        } else {
          getLogger().debug(`${this.#o.name}: ignoring signalling ${m.message.type} from the client`);
        }
        return;
      case 'app':
        stats.appMessages++;
        this.#o.onAppMessage(m.message);
        return;
    }
  }

  /** Logs a dropped message: the first at once, then at most one line per DROP_LOG_INTERVAL_MS. */
  #dropped(reason: string): void {
    const now = performance.now();
    if (now - this.#lastDropLog < DROP_LOG_INTERVAL_MS) {
      this.#unloggedDrops++;
      return;
    }
    const more =
      this.#unloggedDrops > 0 ? ` (and ${this.#unloggedDrops} more dropped since the last warning)` : '';
    this.#lastDropLog = now;
    this.#unloggedDrops = 0;
    getLogger().warn(`${this.#o.name}: ignoring data-channel message: ${reason}${more}`);
  }

  #rawSend(dc: DataChannel, text: string): void {
    try {
      dc.sendMessage(text);
    } catch (err) {
      getLogger().warn(`${this.#o.name}: data-channel send failed`, err);
    }
  }

  #flush(): void {
    const dc = this.#dc;
    if (!dc || this.#outbox.length === 0) return;
    const queued = this.#outbox;
    this.#outbox = [];
    this.#outboxBytes = 0;
    for (const text of queued) this.#rawSend(dc, text);
  }
}
