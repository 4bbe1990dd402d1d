// The public API of small-webrtc: every name a user can import, listed by hand. Pipecat's names (the README
// table) come first, then the documented extras (README "Public API beyond Pipecat's names"). Anything not
// listed here is internal and may change in any release. etc/public-api.txt pins this list: `npm run lint`
// fails until that file is regenerated (`node scripts/api-report.mjs`), so a change here is always visible
// in review. Internals are imported from their module paths (tests included), never from this file.

// Connection (Pipecat's SmallWebRTCConnection, IceServer, tracks).
export {
  DEFAULT_DATA_CHANNEL_RATE_LIMIT,
  SmallWebRTCConnection,
  shutdownSmallWebRTC,
} from './connection/index.js';
export type {
  DataChannelRateLimit,
  IceServer,
  InboundStats,
  InputTrack,
  InputTrackCodec,
  OutboundTrack,
  RemoteIceCandidate,
  RtpSink,
  SmallWebRTCAnswer,
  SmallWebRTCConnectionEventName,
  SmallWebRTCConnectionEvents,
  SmallWebRTCConnectionHandler,
  SmallWebRTCConnectionOptions,
} from './connection/index.js';

// Signalling: request handler (Pipecat's SmallWebRTCRequestHandler) and the HTTP server / middleware.
export {
  ConnectionMode,
  DEFAULT_DRAIN_DEADLINE_MS,
  DEFAULT_LOAD_WINDOW_MS,
  DEFAULT_MAX_EVENT_LOOP_DELAY_MS,
  DEFAULT_SIGNALLING_LIMITS,
  HttpError,
  SmallWebRTCRequestHandler,
  clusterMetrics,
  createSmallWebRTCRequestListener,
  ownerOfId,
  startSmallWebRTCServer,
} from './server/index.js';
export type {
  OfferRateLimit,
  SmallWebRTCClusterOptions,
  SmallWebRTCClusterPrimary,
  SmallWebRTCWorkerInfo,
  SmallWebRTCWorkers,
  SignallingLimits,
  SmallWebRTCAuthorize,
  SmallWebRTCConnectionCallback,
  SmallWebRTCDrainOptions,
  SmallWebRTCDrainResult,
  SmallWebRTCIceCandidate,
  SmallWebRTCLiveness,
  SmallWebRTCLoadLimits,
  SmallWebRTCLoadSample,
  SmallWebRTCMetricsOptions,
  SmallWebRTCNotReadyReason,
  SmallWebRTCOfferResult,
  SmallWebRTCSessionEndReason,
  SmallWebRTCPatchRequest,
  SmallWebRTCReadiness,
  SmallWebRTCRequest,
  SmallWebRTCRequestHandlerOptions,
  SmallWebRTCRequestListener,
  SmallWebRTCRequestListenerOptions,
  SmallWebRTCRoutingOptions,
  SmallWebRTCServer,
  SmallWebRTCServerOptions,
  SmallWebRTCShutdownOptions,
} from './server/index.js';

// Transport (Pipecat's SmallWebRTCTransport and TransportParams).
export { SmallWebRTCTransport, TransportParams } from './transport/index.js';
// The halves of a transport come from `transport.input()` / `output()`, and their media tracks from those
// halves: users name them (and read their stats), never construct them.
export type {
  SmallWebRTCInputTransport,
  SmallWebRTCOutputTransport,
  AudioInputTrack,
  AudioInputTrackStats,
  AudioOutputTrack,
  AudioStallStats,
  VideoInputSource,
  VideoInputTrack,
  VideoOutputTrack,
  VideoOutputTrackStats,
  InputTransportStats,
  OutputTransportStats,
  SmallWebRTCTransportEvents,
  SmallWebRTCTransportOptions,
  TransportParamsInit,
  VideoInParams,
} from './transport/index.js';

// Pipeline core (Pipecat's Pipeline, PipelineTask, PipelineRunner, FrameProcessor, BaseObject) and frames.
export {
  BaseObject,
  FrameDirection,
  FrameProcessor,
  LLMAssistantAggregator,
  LLMContext,
  LLMContextAggregatorPair,
  LLMContextFrame,
  LLMUserAggregator,
  Pipeline,
  PipelineRunner,
  PipelineTask,
} from './pipeline/index.js';
export type {
  EventArgs,
  EventHandler,
  FrameClass,
  FrameObserver,
  FrameProcessorEvents,
  FrameProcessorOptions,
  FrameProcessorSetup,
  FramePushed,
  LLMContextAggregatorPairOptions,
  LLMUserAggregatorParams,
  PipelineOptions,
  PipelineParams,
  PipelineRunnerEvents,
  PipelineRunnerOptions,
  PipelineTaskEvents,
  PipelineTaskOptions,
  QueueFrameOptions,
} from './pipeline/index.js';
export {
  BotSpeakingFrame,
  BotStartedSpeakingFrame,
  BotStoppedSpeakingFrame,
  CancelFrame,
  CancelTaskFrame,
  ClientConnectedFrame,
  ControlFrame,
  DataFrame,
  EndFrame,
  EndTaskFrame,
  ErrorFrame,
  FatalErrorFrame,
  Frame,
  InputAudioRawFrame,
  InputImageRawFrame,
  InputTransportMessageFrame,
  InterimTranscriptionFrame,
  InterruptionFrame,
  InterruptionTaskFrame,
  LLMFullResponseEndFrame,
  LLMFullResponseStartFrame,
  LLMMessagesAppendFrame,
  LLMMessagesFrame,
  LLMRunFrame,
  LLMTextFrame,
  MetricsFrame,
  OutputAudioRawFrame,
  OutputImageRawFrame,
  OutputTransportMessageFrame,
  OutputTransportMessageUrgentFrame,
  SpriteFrame,
  StartFrame,
  SystemFrame,
  TTSAudioRawFrame,
  TTSSpeakFrame,
  TTSStartedFrame,
  TTSStoppedFrame,
  TTSTextFrame,
  TextFrame,
  TranscriptionFrame,
  UserImageRawFrame,
  UserImageRequestFrame,
  UserSpeakingFrame,
  UserStartedSpeakingFrame,
  UserStoppedSpeakingFrame,
  VADUserStartedSpeakingFrame,
  VADUserStoppedSpeakingFrame,
} from './pipeline/index.js';
export type {
  AudioRawFrame,
  AudioRawFrameInit,
  FrameKind,
  ImageRawFrame,
  ImageRawFrameInit,
  LLMMessage,
  StartFrameOptions,
  TranscriptionInit,
  UserImageRawFrameInit,
  UserImageRequestFrameInit,
} from './pipeline/index.js';

// RTVI (Pipecat's RTVIProcessor and RTVIObserver, the client-ready -> bot-ready handshake).
export {
  RTVIClientMessageFrame,
  RTVIObserver,
  RTVIProcessor,
  RTVIServerMessageFrame,
  RTVIServerResponseFrame,
  RTVI_PROTOCOL_VERSION,
} from './rtvi/index.js';
export type {
  RTVIAboutBot,
  RTVIAboutClient,
  RTVIBotReadyData,
  RTVIClientMessage,
  RTVIClientReady,
  RTVIMessage,
  RTVIObserverOptions,
  RTVIProcessorEvents,
  RTVIProcessorOptions,
} from './rtvi/index.js';

// VAD (Pipecat's SileroVADAnalyzer, VADParams, VADState, VADProcessor and their defaults).
export {
  BaseVADAnalyzer,
  SileroVADAnalyzer,
  VADError,
  VADParams,
  VADProcessor,
  VADState,
  VAD_CONFIDENCE,
  VAD_MIN_VOLUME,
  VAD_START_SECS,
  VAD_STOP_SECS,
} from './vad/index.js';
export type {
  BaseVADAnalyzerOptions,
  SileroInferenceThread,
  SileroVADAnalyzerOptions,
  VADAnalysis,
  VADAnalyzer,
  VADParamsInit,
  VADProcessorOptions,
  VADStats,
  VADTransition,
} from './vad/index.js';

// Service base classes (Pipecat's STTService, LLMService, TTSService) and their helpers.
export { LLMService, STTService, TTSService, matchEndOfSentence } from './services/index.js';
export type { STTServiceOptions, StreamOrPromise, TTSServiceOptions } from './services/index.js';

// Errors: the classes and the one catalog of codes (docs/errors.md).
export {
  ERROR_CODES,
  SmallWebRTCError,
  SmallWebRTCRangeError,
  SmallWebRTCTypeError,
  isSmallWebRTCErrorCode,
} from './errors.js';
export type { SmallWebRTCErrorCode } from './errors.js';
export { NativeAddonLoadError } from './native/binding.js';

// Options of the one event model that BaseObject subclasses (and the connection) use.
export type { EventOptions } from './events.js';

// Logging.
export { consoleLogger, getLogger, setLogger, type Logger, type LogLevelName } from './logger.js';

// Extras: the native media toolkit (Opus, resampling, jitter-buffered receive, paced send) for raw tracks.
export {
  AudioReceiver,
  AudioSender,
  OPUS_SAMPLE_RATES,
  OpusDecoder,
  OpusEncoder,
  Resampler,
} from './media/audio.js';
export type {
  AudioFrame,
  AudioReceiverOptions,
  AudioReceiverStats,
  AudioSenderOptions,
  AudioSenderStats,
  AudioSenderWorkerStats,
  MidExtension,
  OpusDecoderOptions,
  OpusEncoderOptions,
  OpusSampleRate,
  ResamplerOptions,
  SpeakingTransition,
  WorkerQueueStats,
} from './media/audio.js';

// Extras: the native video toolkit (VP8 RTP (de)packetizing, libvpx decode/encode, image conversion, sender
// feedback), the building blocks the video tracks are made of, and the receiver/sender that run the codec on
// native worker threads.
export {
  MAX_VIDEO_DIMENSION,
  PIXEL_FORMATS,
  VideoReceiver,
  VideoSender,
  VideoSenderFeedback,
  Vp8Decoder,
  Vp8Depacketizer,
  Vp8Encoder,
  Vp8Packetizer,
  convertImage,
  imageBytes,
} from './media/video.js';
export type {
  DecodedVideoFrame,
  EncodedVideoPackets,
  PixelFormat,
  VideoFeedback,
  VideoReceiverOptions,
  VideoReceiverOutput,
  VideoReceiverStats,
  VideoSenderOptions,
  VideoSenderStats,
  VideoWorkerStats,
  VideoImage,
  VideoSenderFeedbackOptions,
  VideoSenderFeedbackStats,
  Vp8DecoderOptions,
  Vp8DepacketizerOptions,
  Vp8DepacketizerStats,
  Vp8EncodedFrame,
  Vp8EncoderOptions,
  Vp8Frame,
  Vp8ImageOptions,
  Vp8PacketizerOptions,
} from './media/video.js';

// Extras: the RTP/RTCP toolkit, for `InputTrack.onRtp` / `onRtcp` consumers.
export {
  SequenceUnwrapper,
  TimestampUnwrapper,
  buildRtcpBye,
  buildRtcpNack,
  buildRtcpPli,
  buildRtcpRr,
  buildRtcpSr,
  buildRtp,
  concatRtcp,
  parseRtcp,
  parseRtp,
} from './media/rtp.js';
export type {
  RtcpBye,
  RtcpByeInit,
  RtcpNack,
  RtcpNackInit,
  RtcpOther,
  RtcpPacket,
  RtcpPacketBase,
  RtcpPli,
  RtcpPliInit,
  RtcpReceiverReport,
  RtcpReceiverReportInit,
  RtcpReportBlock,
  RtcpReportBlockInit,
  RtcpSenderReport,
  RtcpSenderReportInit,
  RtpHeaderExtension,
  RtpPacket,
  RtpPacketInit,
} from './media/rtp.js';
