// Public surface of the connection layer.
export {
  SmallWebRTCConnection,
  shutdownSmallWebRTC,
  AUDIO_TRANSCEIVER_INDEX,
  VIDEO_TRANSCEIVER_INDEX,
  SCREEN_VIDEO_TRANSCEIVER_INDEX,
  MAX_MESSAGE_QUEUE_SIZE,
  MAX_MESSAGE_QUEUE_BYTES,
  DATA_CHANNEL_TIMEOUT_SECS,
  PING_LIVENESS_MS,
  OPUS_ANSWER_FMTP,
  LOCAL_MAX_MESSAGE_SIZE,
} from './smallwebrtc-connection.js';
export type {
  SmallWebRTCConnectionOptions,
  SmallWebRTCConnectionEvents,
  SmallWebRTCConnectionEventName,
  SmallWebRTCConnectionHandler,
  SmallWebRTCAnswer,
  RemoteIceCandidate,
} from './smallwebrtc-connection.js';
export type { InboundStats } from './inbound-stats.js';
export { DEFAULT_DATA_CHANNEL_RATE_LIMIT } from './inbound-rate.js';
export type { DataChannelRateLimit } from './inbound-rate.js';
export type { InputTrack, InputTrackCodec, OutboundTrack, RtpSink } from './tracks.js';
export { normalizeIceServers, toNodeDataChannelIceServers } from './ice-servers.js';
export type { IceServer, NodeDataChannelIceServer } from './ice-servers.js';
export {
  parseSdp,
  answerDirection,
  rewriteHostCandidates,
  parseCandidate,
  DEFAULT_MAX_MEDIA_SECTIONS,
  MAX_SDP_LENGTH,
  SDES_MID_URI,
} from './sdp.js';
export type { MediaDirection, SdpCodec, SdpMedia, ParsedSdp, ParsedCandidate } from './sdp.js';
export { SIGNALLING_TYPE, signalling, classifyInbound } from './signalling.js';
export type {
  TrackStatusMessage,
  RenegotiateMessage,
  PeerLeftMessage,
  SignallingMessage,
  SignallingEnvelope,
  InboundMessage,
  InboundDropReason,
} from './signalling.js';
