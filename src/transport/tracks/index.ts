// The transport's media tracks: one class per kind and direction, each owning its native media object and
// riding the one process-wide MediaClock (no timer per session). The connection hands them raw RTP (an
// InputTrack) or a sender to write RTP to (an RtpSink); the input/output transports turn them into frames.
//
//   audio-input-track.ts   peer microphone RTP -> AudioReceiver (jitter buffer, Opus, resample) -> 20 ms PCM
//   audio-output-track.ts  bot PCM at any rate -> AudioSender (resample once, Opus) -> paced RTP
//   media-clock.ts         the 10 ms clock: receive concealment polling, send pacing, bot-speaking cadence
//
//   video-input-track.ts   camera / screen RTP -> VideoReceiver (VP8 depacketize here; decode + RGB on a
//                          worker thread) -> pictures, PLI on loss
//   video-output-track.ts  bot images -> VideoSender (VP8 encode off the JS thread) -> RTP at the frame rate
//                          on the same clock, keyframe on PLI/FIR, bitrate from REMB
export {
  AudioInputTrack,
  type AudioInputTrackOptions,
  type AudioInputTrackStats,
} from './audio-input-track.js';
export {
  AudioOutputTrack,
  type AudioOutputTrackOptions,
  type AudioStallStats,
} from './audio-output-track.js';
export { MediaClock, mediaClock, type MediaClockClient } from './media-clock.js';
export { VideoInputTrack, type VideoInputSource, type VideoInputTrackOptions } from './video-input-track.js';
export {
  VideoOutputTrack,
  type VideoOutputTrackOptions,
  type VideoOutputTrackStats,
} from './video-output-track.js';
