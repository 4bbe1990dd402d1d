// Public audio API of small-webrtc (re-exported by src/index.ts).
export {
  AudioReceiver,
  type AudioFrame,
  type AudioReceiverOptions,
  type AudioReceiverStats,
} from './audio-receiver.js';
export {
  AudioSender,
  type AudioSenderOptions,
  type AudioSenderStats,
  type AudioSenderWorkerStats,
  type WorkerQueueStats,
  type SpeakingTransition,
  type MidExtension,
} from './audio-sender.js';
export {
  OpusDecoder,
  OpusEncoder,
  opusPacketInfo,
  OPUS_SAMPLE_RATES,
  type OpusDecoderOptions,
  type OpusEncoderOptions,
  type OpusPacketInfo,
  type OpusSampleRate,
} from './opus.js';
export { Resampler, DEFAULT_RESAMPLE_QUALITY, type ResamplerOptions } from './resampler.js';
