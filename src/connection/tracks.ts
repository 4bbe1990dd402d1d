import type { Track } from 'node-datachannel';
import { SmallWebRTCTypeError } from '../errors.js';
import { TypedEmitter } from '../events.js';
import { getLogger } from '../logger.js';
import { buildRtcpPli } from '../media/rtp.js';
import { ReceiverReporter } from './receiver-reports.js';
import type { SdpCodec } from './sdp.js';

/** A negotiated codec of an input track (a subset of the offer's codecs that we accepted). */
export interface InputTrackCodec {
  payloadType: number;
  name: string;
  clockRate: number;
  channels?: number;
  fmtp?: string;
}

/**
 * What the peer sends us on one receiving transceiver (index 0 audio, 1 camera, 2 screen), as raw RTP.
 *
 * Packets are handed to subscribers synchronously on the JS thread as node-datachannel delivers them; nothing
 * is buffered while nobody subscribes (docs/protocol.md, "Audio input": drop, do not queue, media nobody
 * reads).
 */
export interface InputTrack {
  /** `audio` or `video`, from the offer's m-line. */
  readonly kind: 'audio' | 'video';
  /** Transceiver index (position among the offer's audio/video m-lines): 0 audio, 1 camera, 2 screen. */
  readonly index: number;
  /** The m-line's mid. */
  readonly mid: string;
  /** The peer's enabled state from `trackStatus` messages (true until the peer says otherwise). */
  readonly enabled: boolean;
  /** Payload types accepted in our answer, in the offer's preference order. */
  readonly codecs: ReadonlyArray<InputTrackCodec>;
  /**
   * The media SSRC the peer's offer announced for this m-line (`a=ssrc`, repair SSRCs of an
   * `a=ssrc-group:FID` left out), or null; a PLI before the first packet is addressed to it.
   */
  readonly announcedSsrc: number | null;
  /**
   * Subscribes to raw RTP packets (never RTCP). `arrivalMs` is `performance.now()` at delivery to JS.
   * The packet Buffer is owned by the callee only during the call; copy it to keep it. Returns an unsubscribe
   * function. Callbacks are called synchronously, in subscription order, and not awaited; a throwing
   * callback is logged (rate-limited) and does not affect other subscribers.
   */
  onRtp(cb: (packet: Buffer, arrivalMs: number) => void): () => void;
  /** Subscribes to enabled-state changes from `trackStatus`. Returns an unsubscribe function. */
  onEnabledChanged(cb: (enabled: boolean) => void): () => void;
  /**
   * Asks the peer for a key frame with an RTCP PLI (video only; a no-op for audio or once the track is gone).
   * The PLI names the SSRC of the peer's packets; before the first one, the media SSRC its offer announced
   * (`a=ssrc`, repair SSRCs of `a=ssrc-group:FID` excluded); a no-op if neither is known.
   */
  requestKeyframe(): void;
}

/** What the transport hands to `replaceAudioTrack`/`replaceVideoTrack`: the connection binds it to a sender. */
export interface OutboundTrack {
  /** Must match the sender: `audio` for transceiver 0, `video` for transceiver 1. */
  readonly kind: 'audio' | 'video';
  /** Called when the sender can take packets (and again with a new sink after a `restartPc`). */
  bind(sink: RtpSink): void;
  /** Called when the bound sender goes away (close, restart, replace). */
  unbind(): void;
}

/** A live sender: where an {@link OutboundTrack} writes complete RTP packets. */
export interface RtpSink {
  /** The SSRC announced in our answer (`a=ssrc`) for this m-line. */
  readonly ssrc: number;
  /** Negotiated payload type (Opus: whatever the offer used, 111 Chrome / 96 aiortc). */
  readonly payloadType: number;
  /** RTP clock rate in Hz (48000 Opus, 90000 video). */
  readonly clockRate: number;
  /** Negotiated `sdes:mid` header extension id, or null if the offer had none. */
  readonly midExtensionId: number | null;
  /** The m-line's mid. */
  readonly mid: string;
  /** Sends one complete RTP packet; false if it could not be sent (not connected yet, closed). */
  send(packet: Uint8Array): boolean;
  /** Subscribes to RTCP (PLI, RR, SR...) arriving on this transceiver. Returns an unsubscribe function. */
  onRtcp(cb: (packet: Buffer) => void): () => void;
}

/** Events of an input track (the subscriptions of {@link InputTrack}). */
interface InputTrackEvents {
  rtp: [packet: Buffer, arrivalMs: number];
  enabled: [enabled: boolean];
}

/** Events of an RTP sink (the subscriptions of {@link RtpSink}). */
interface RtpSinkEvents {
  rtcp: [packet: Buffer];
}

/**
 * Subscribes `cb` to `name` and returns the unsubscribe function of the track APIs. Media events are not
 * awaited: they are raised from node-datachannel callbacks on the media path.
 */
function subscribe<E extends { [K in keyof E]: unknown[] }, K extends keyof E & string>(
  events: TypedEmitter<E>,
  name: K,
  what: string,
  cb: (...args: E[K]) => void,
): () => void {
  if (typeof cb !== 'function')
    throw new SmallWebRTCTypeError('ERR_INVALID_ARG', `${what}: cb must be a function`);
  events.on(name, cb);
  let subscribed = true;
  return () => {
    if (subscribed) events.off(name, cb);
    subscribed = false;
  };
}

/** Internal implementation of {@link InputTrack}; the connection feeds it. */
export class InputTrackImpl implements InputTrack {
  readonly kind: 'audio' | 'video';
  readonly index: number;
  readonly mid: string;
  readonly codecs: ReadonlyArray<InputTrackCodec>;
  #enabled = true;
  #remoteSsrc: number | null = null;
  readonly announcedSsrc: number | null;
  #ended = false;
  /** Whether an RTP packet has been seen (drives `track-started`). */
  started = false;
  readonly #events: TypedEmitter<InputTrackEvents>;
  readonly #track: Track;
  readonly #senderSsrc: number;
  /** RTCP receiver reports about the peer's audio (docs/protocol.md, "RTCP"); null for video. */
  readonly #reporter: ReceiverReporter | null;

  constructor(o: {
    kind: 'audio' | 'video';
    index: number;
    mid: string;
    codecs: readonly SdpCodec[];
    track: Track;
    senderSsrc: number;
    /** The media SSRC the peer's offer announced for this m-line, if any. */
    announcedSsrc?: number | null;
  }) {
    this.kind = o.kind;
    this.index = o.index;
    this.mid = o.mid;
    this.codecs = Object.freeze(
      o.codecs.map((c) => {
        const codec: InputTrackCodec = { payloadType: c.payloadType, name: c.name, clockRate: c.clockRate };
        if (c.channels !== undefined) codec.channels = c.channels;
        if (c.fmtp !== undefined) codec.fmtp = c.fmtp;
        return Object.freeze(codec);
      }),
    );
    this.#track = o.track;
    this.#senderSsrc = o.senderSsrc;
    this.announcedSsrc = o.announcedSsrc ?? null;
    this.#events = new TypedEmitter(`input track ${o.mid}`);
    this.#reporter =
      o.kind === 'audio'
        ? new ReceiverReporter({
            senderSsrc: o.senderSsrc,
            clockRate: o.codecs[0]?.clockRate || 48000,
            out: o.track,
            name: `input track ${o.mid}`,
          })
        : null;
    this.#events.register('rtp', { awaited: false });
    this.#events.register('enabled', { awaited: false });
  }

  get enabled(): boolean {
    return this.#enabled;
  }

  /** The SSRC of the peer's stream on this track, once an RTP packet arrived (null before). */
  get remoteSsrc(): number | null {
    return this.#remoteSsrc;
  }

  onRtp(cb: (packet: Buffer, arrivalMs: number) => void): () => void {
    return subscribe(this.#events, 'rtp', 'onRtp', cb);
  }

  onEnabledChanged(cb: (enabled: boolean) => void): () => void {
    return subscribe(this.#events, 'enabled', 'onEnabledChanged', cb);
  }

  requestKeyframe(): void {
    const mediaSsrc = this.#remoteSsrc ?? this.announcedSsrc;
    if (this.kind !== 'video' || this.#ended || mediaSsrc === null) return;
    try {
      if (this.#track.isOpen()) {
        const pli = buildRtcpPli({ senderSsrc: this.#senderSsrc, mediaSsrc });
        // node-datachannel's Track.sendMessageBinary takes a Buffer: a view of the same bytes, no copy.
        this.#track.sendMessageBinary(Buffer.from(pli.buffer, pli.byteOffset, pli.byteLength));
      }
    } catch (err) {
      getLogger().debug(`requestKeyframe on mid ${this.mid} failed`, err);
    }
  }

  /** @internal Applies a `trackStatus` from the peer. */
  setEnabled(enabled: boolean): void {
    if (enabled === this.#enabled) return;
    this.#enabled = enabled;
    if (!this.#ended) void this.#events.emit('enabled', enabled);
  }

  /** @internal One RTP packet from node-datachannel (JS thread). */
  deliver(packet: Buffer, ssrc: number, arrivalMs: number): void {
    if (this.#ended) return;
    this.#remoteSsrc = ssrc;
    this.#reporter?.rtp(packet, ssrc, arrivalMs);
    void this.#events.emit('rtp', packet, arrivalMs);
  }

  /** @internal One RTCP packet from the peer (its sender reports feed our receiver reports). */
  deliverRtcp(packet: Buffer, arrivalMs: number): void {
    if (!this.#ended) this.#reporter?.rtcp(packet, arrivalMs);
  }

  /** @internal Receiver reports sent about this track's sources (0 for video). */
  get receiverReportsSent(): number {
    return this.#reporter?.sent ?? 0;
  }

  /** @internal The peer behind this track is gone; subscribers are no longer called. */
  end(): void {
    this.#ended = true;
    this.#reporter?.close();
    this.#events.removeAllHandlers();
  }
}

/** Internal implementation of {@link RtpSink} over a node-datachannel Track (no media handler: raw RTP). */
export class RtpSinkImpl implements RtpSink {
  readonly ssrc: number;
  readonly payloadType: number;
  readonly clockRate: number;
  readonly midExtensionId: number | null;
  readonly mid: string;
  readonly #track: Track;
  readonly #events: TypedEmitter<RtpSinkEvents>;
  #dead = false;

  constructor(o: {
    ssrc: number;
    payloadType: number;
    clockRate: number;
    midExtensionId: number | null;
    mid: string;
    track: Track;
  }) {
    this.ssrc = o.ssrc;
    this.payloadType = o.payloadType;
    this.clockRate = o.clockRate;
    this.midExtensionId = o.midExtensionId;
    this.mid = o.mid;
    this.#track = o.track;
    this.#events = new TypedEmitter(`rtp sink ${o.mid}`);
    this.#events.register('rtcp', { awaited: false });
  }

  send(packet: Uint8Array): boolean {
    if (this.#dead || packet.length < 12) return false;
    try {
      if (!this.#track.isOpen()) return false;
      const buf = Buffer.isBuffer(packet)
        ? packet
        : Buffer.from(packet.buffer, packet.byteOffset, packet.byteLength);
      return this.#track.sendMessageBinary(buf);
    } catch {
      return false;
    }
  }

  onRtcp(cb: (packet: Buffer) => void): () => void {
    return subscribe(this.#events, 'rtcp', 'onRtcp', cb);
  }

  /** @internal RTCP that arrived on this transceiver's track. */
  deliverRtcp(packet: Buffer): void {
    if (!this.#dead) void this.#events.emit('rtcp', packet);
  }

  /** @internal The sender is gone; `send` returns false and subscribers are no longer called from now on. */
  kill(): void {
    this.#dead = true;
    this.#events.removeAllHandlers();
  }
}
