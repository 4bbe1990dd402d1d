// Public names of the transport layer (Pipecat's SmallWebRTCTransport and its parameters).
export { TransportParams, type TransportParamsInit, type VideoInParams } from './transport-params.js';
export {
  SmallWebRTCTransport,
  type SmallWebRTCTransportEvents,
  type SmallWebRTCTransportOptions,
} from './smallwebrtc-transport.js';
export { SmallWebRTCInputTransport, type InputTransportStats } from './input-transport.js';
export { SmallWebRTCOutputTransport, type OutputTransportStats } from './output-transport.js';
export {
  AudioInputTrack,
  AudioOutputTrack,
  MediaClock,
  mediaClock,
  VideoInputTrack,
  VideoOutputTrack,
  type VideoOutputTrackOptions,
  type VideoOutputTrackStats,
  type VideoInputSource,
  type VideoInputTrackOptions,
  type AudioInputTrackOptions,
  type AudioInputTrackStats,
  type AudioOutputTrackOptions,
  type AudioStallStats,
  type MediaClockClient,
} from './tracks/index.js';
