// Public video API of small-webrtc (re-exported by src/index.ts).
export {
  convertImage,
  imageBytes,
  MAX_VIDEO_DIMENSION,
  PIXEL_FORMATS,
  type PixelFormat,
  type VideoImage,
} from './video-frame.js';
export {
  Vp8Decoder,
  Vp8Encoder,
  type Vp8DecoderOptions,
  type Vp8EncodedFrame,
  type Vp8EncoderOptions,
  type Vp8ImageOptions,
} from './vp8-codec.js';
export {
  Vp8Depacketizer,
  type Vp8DepacketizerOptions,
  type Vp8DepacketizerStats,
  type Vp8Frame,
} from './vp8-depacketizer.js';
export { Vp8Packetizer, type Vp8PacketizerOptions } from './vp8-packetizer.js';
export {
  VideoSenderFeedback,
  type VideoFeedback,
  type VideoSenderFeedbackOptions,
  type VideoSenderFeedbackStats,
} from './video-sender-feedback.js';
export {
  VideoReceiver,
  type DecodedVideoFrame,
  type VideoReceiverOptions,
  type VideoReceiverOutput,
  type VideoReceiverStats,
  type VideoWorkerStats,
} from './video-receiver.js';
export {
  VideoSender,
  type EncodedVideoPackets,
  type VideoSenderOptions,
  type VideoSenderStats,
} from './video-sender.js';
