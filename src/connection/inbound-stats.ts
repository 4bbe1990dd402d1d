/**
 * What a connection's peer sent and what of it was dropped before reaching the application, counted over
 * the connection's life (all its peers, across `restartPc`). Read with `SmallWebRTCConnection.inboundStats()`.
 * Packets libdatachannel already discarded (SRTP authentication or replay failures, unknown SSRCs, datagrams
 * under 8 bytes; docs/reliability.md, "Hostile media") never reach these counters; the native receivers
 * count what they refuse themselves (`receiverStats()`: `invalid`, `payloadTypeDropped`, `malformed`...).
 */
export interface InboundStats {
  dataChannel: {
    /** Text messages received and read (pings included; not those dropped by the rate bound). */
    messages: number;
    /** Bytes of every message received, read or dropped (UTF-8 of text, binary as is). */
    bytes: number;
    /** Bytes of the messages dropped by the rate bound (`dropped.rateLimited`). */
    rateLimitedBytes: number;
    /**
     * Whether the peer was disconnected for flooding: it kept sending over the connection's
     * `dataChannelRateLimit` past `disconnectAfterBytes`.
     */
    floodDisconnected: boolean;
    /** UTF-16 units of those texts. */
    chars: number;
    pings: number;
    /** Signalling messages acted on (`trackStatus`...). */
    signalling: number;
    /** App messages handed to the connection (then to `app-message`). */
    appMessages: number;
    /** Dropped messages by reason. */
    dropped: {
      /**
       * Messages (text or binary) over the connection's `dataChannelRateLimit`, dropped unread (only their
       * length is taken).
       */
      rateLimited: number;
      /** Binary messages (the protocol is JSON text only). */
      binary: number;
      /** Longer than `MAX_INBOUND_MESSAGE_CHARS`. */
      tooLarge: number;
      /** Nesting deeper than `MAX_JSON_DEPTH` (`ERR_MESSAGE_TOO_DEEP`). */
      tooDeep: number;
      notJson: number;
      /** JSON that is not an object with a `type`. */
      notObject: number;
      /** A `signalling` envelope with an unknown or malformed message. */
      invalidSignalling: number;
      /** Handling threw (caught; never reaches node-datachannel's callback). */
      failed: number;
    };
  };
  media: {
    /** RTP packets routed to an input track. */
    rtp: number;
    /** RTCP packets routed to a sender's subscribers. */
    rtcp: number;
    /** Dropped packets by reason. */
    dropped: {
      /** Neither RTCP nor a version-2 RTP packet of at least 12 bytes. */
      notRtp: number;
      /** RTP on a transceiver without an input track (video the bot does not take, an inactive m-line). */
      noReceiver: number;
    };
  };
}

/** A zeroed {@link InboundStats}. */
export function newInboundStats(): InboundStats {
  return {
    dataChannel: {
      messages: 0,
      bytes: 0,
      rateLimitedBytes: 0,
      floodDisconnected: false,
      chars: 0,
      pings: 0,
      signalling: 0,
      appMessages: 0,
      dropped: {
        rateLimited: 0,
        binary: 0,
        tooLarge: 0,
        tooDeep: 0,
        notJson: 0,
        notObject: 0,
        invalidSignalling: 0,
        failed: 0,
      },
    },
    media: { rtp: 0, rtcp: 0, dropped: { notRtp: 0, noReceiver: 0 } },
  };
}

/** A deep copy (what callers get: the live counters keep counting). */
export function copyInboundStats(s: InboundStats): InboundStats {
  return {
    dataChannel: { ...s.dataChannel, dropped: { ...s.dataChannel.dropped } },
    media: { ...s.media, dropped: { ...s.media.dropped } },
  };
}
