// The typed shape of the native addon (native/binding/*.cc). Each wrap file's exports are declared here as
// one interface, and `NativeAddon` is their intersection; src/native/binding.ts is the only place that
// loads the addon and casts it to this type. Keep these in sync with the C++ Init functions.
import type {
  RtcpPacket,
  RtcpReportBlockInit,
  RtpPacketInit,
} from '../media/rtp.js';

/** Exports of native/binding/version_wrap.cc. */
export interface NativeVersionBinding {
  /** Versions of the addon's N-API level and of the codec libraries it was linked against. */
  version(): NativeVersionInfo;
}

/** What {@link NativeVersionBinding.version} returns. */
export interface NativeVersionInfo {
  /** The N-API version the addon was built for (8). */
  readonly napi: number;
  /** libopus version string, e.g. `libopus 1.3.1`. */
  readonly opus: string;
  /** libvpx version string, e.g. `v1.12.0`. */
  readonly vpx: string;
  /** True when the codecs are linked statically (a prebuilt binary). */
  readonly staticCodecs: boolean;
}

/** A native SequenceUnwrapper / TimestampUnwrapper instance (native/core/rtp/unwrapper.h). */
export interface NativeUnwrapper {
  unwrap(value: number): number;
  reset(): void;
}

/** Exports of native/binding/rtp_wrap.cc (see src/media/rtp.ts for the documented public API). */
export interface NativeRtpBinding {
  /** Validates `packet` and writes its header fields into `out` (layout: enum RtpField in rtp_wrap.cc). */
  parseRtpInto(packet: Uint8Array, out: Uint32Array): void;
  /** Minimum length of parseRtpInto's `out`. */
  readonly RTP_FIELD_COUNT: number;
  buildRtp(init: RtpPacketInit): Uint8Array;
  parseRtcp(packet: Uint8Array): RtcpPacket[];
  buildRtcpSr(init: {
    senderSsrc: number;
    ntpSeconds: number;
    ntpFraction: number;
    rtpTimestamp: number;
    packetCount: number;
    octetCount: number;
    reports?: RtcpReportBlockInit[];
  }): Uint8Array;
  buildRtcpRr(init: { senderSsrc: number; reports?: RtcpReportBlockInit[] }): Uint8Array;
  buildRtcpNack(init: { senderSsrc: number; mediaSsrc: number; sequenceNumbers: number[] }): Uint8Array;
  buildRtcpPli(init: { senderSsrc: number; mediaSsrc: number }): Uint8Array;
  buildRtcpBye(init: { ssrcs: number[]; reason?: string }): Uint8Array;
  SequenceUnwrapper: new () => NativeUnwrapper;
  TimestampUnwrapper: new () => NativeUnwrapper;
}

/** Everything the addon exports. Other native parts add their binding interface to this intersection. */
export type NativeAddon = NativeVersionBinding &
  NativeRtpBinding &
  NativeAudioBinding &
  NativeVideoBinding;

/** A native OpusEncoder instance (native/binding/opus_wrap.cc). */
export interface NativeOpusEncoder {
  encode(pcm: Int16Array): Uint8Array;
  setBitrate(bitrate: number): void;
  setPacketLossPercent(percent: number): void;
  reset(): void;
  close(): void;
  readonly frameSamples: number;
}

/** A native OpusDecoder instance (native/binding/opus_wrap.cc). */
export interface NativeOpusDecoder {
  decode(packet: Uint8Array): Int16Array;
  decodeFec(packet: Uint8Array, samples: number): Int16Array;
  conceal(samples: number): Int16Array;
  reset(): void;
  close(): void;
}

/** A native Resampler instance (native/binding/resampler_wrap.cc). */
export interface NativeResampler {
  process(pcm: Int16Array): Int16Array[];
  flush(): Int16Array[];
  reset(): void;
  close(): void;
  readonly latencySamples: number;
  readonly bufferedSamples: number;
}

/** One decoded frame as built by native/binding/audio_receiver_wrap.cc. */
export interface NativeAudioFrame {
  audio: Int16Array;
  sampleRate: number;
  numChannels: number;
  numFrames: number;
  pts: number;
  concealed: boolean;
}

/** Counters returned by a native AudioReceiver's stats(). */
export interface NativeAudioReceiverStats {
  /** Packets accepted by the jitter buffer. */
  received: number;
  /** Sequence numbers given up on (concealed). */
  lost: number;
  /** Concealment output for lost packets (PLC + FEC), ms. */
  concealedMs: number;
  /** DTX / transmission-gap fill (comfort noise), ms. */
  silenceMs: number;
  /** Losses repaired with Opus in-band FEC. */
  fecRecovered: number;
  /** Packets that arrived after their slot had been concealed (dropped so no delay builds up). */
  lateDropped: number;
  /** Packets received twice. */
  duplicates: number;
  /** Malformed RTP or Opus. */
  invalid: number;
  /** Packets ignored for their payload type. */
  payloadTypeDropped: number;
  /** Stream restarts (SSRC change, unrelated sequence numbers). */
  resets: number;
  /** Timeline re-anchored because the sender's clock paused or jumped (timestamps behind the output). */
  reanchors: number;
  /**
   * Current loss deadline after expected arrival, ms: the 98th percentile of recent arrival delay + 5 ms,
   * within [minDelayMs, maxDelayMs], plus one packet duration while the sender uses in-band FEC.
   */
  targetDelayMs: number;
  /** RFC 3550 interarrival jitter, ms. */
  jitterMs: number;
  /** Time the last released packet waited in the buffer, ms (0 when it was in order). */
  lastReleaseDelayMs: number;
  /** Packets waiting for a gap before them. */
  bufferedPackets: number;
  /** Frames emitted so far. */
  framesOut: number;
  /** Packets libopus refused despite a valid TOC (concealed instead). */
  decodeErrors: number;
  /** Rate libopus decodes at, Hz. */
  decodeRate: number;
  /** Whether a resampler runs after the decoder. */
  resampling: boolean;
}

/** A native AudioReceiver instance (native/binding/audio_receiver_wrap.cc). */
export interface NativeAudioReceiver {
  /** Frames written into the setOutput() buffers, or the frames themselves when they do not fit. */
  push(packet: Uint8Array, arrivalMs: number): number | NativeAudioFrame[];
  poll(nowMs: number): number | NativeAudioFrame[];
  setOutput(pcm: Int16Array, concealedFlags: Uint8Array): void;
  nextDeadlineMs(): number;
  stats(): NativeAudioReceiverStats;
  reset(): void;
  close(): void;
}

/** Counters returned by a native AudioSender's stats(). */
export interface NativeAudioSenderStats {
  /** RTP packets produced. */
  packetsSent: number;
  /** Packets carrying written audio. */
  audioPackets: number;
  /** Auto-silence packets. */
  silencePackets: number;
  /** Slots not sent because Opus DTX had nothing to transmit. */
  dtxSlots: number;
  /** Slots skipped after a stall (timestamp advanced, no packet). */
  skippedSlots: number;
  /** Input samples per channel refused by write() because the ring was full. */
  droppedOnWriteSamples: number;
  /** Encoder or packetizer failures. */
  encodeErrors: number;
  /** Sequence number of the next packet. */
  nextSequence: number;
  /** RTP timestamp of the next slot. */
  nextTimestamp: number;
}

/** A native AudioSender instance (native/binding/audio_sender_wrap.cc). */
export interface NativeAudioSender {
  write(pcm: Int16Array): number;
  pull(nowMs: number): Uint8Array[];
  lastTransitions(): Array<{ speaking: boolean; atMs: number; playedOutMs: number }> | null;
  clear(): number;
  setRtpParams(p: {
    ssrc?: number;
    payloadType?: number;
    midExtension?: { id: number; mid: string } | null;
  }): void;
  setPacketLossPercent(percent: number): void;
  setBitrate(bitrate: number): void;
  stats(): NativeAudioSenderStats;
  close(): void;
  readonly queuedMs: number;
  readonly playedOutMs: number;
  readonly speaking: boolean;
}

/** Exports of the audio wraps (opus_wrap.cc, resampler_wrap.cc, audio_receiver_wrap.cc, audio_sender_wrap.cc). */
export interface NativeAudioBinding {
  OpusEncoder: new (options: {
    sampleRate?: number;
    channels?: number;
    bitrate?: number;
    complexity?: number;
    fec?: boolean;
    dtx?: boolean;
    packetLossPercent?: number;
    frameMs?: number;
  }) => NativeOpusEncoder;
  OpusDecoder: new (options: { sampleRate?: number; channels?: number }) => NativeOpusDecoder;
  opusPacketInfo(packet: Uint8Array): { samples48k: number; frameSamples48k: number; hasFec: boolean };
  Resampler: new (options: {
    inRate: number;
    outRate: number;
    inChannels?: number;
    outChannels?: number;
    quality?: number;
    frameSamples?: number;
  }) => NativeResampler;
  AudioReceiver: new (options: {
    sampleRate: number;
    channels: number;
    frameMs?: number;
    payloadType?: number;
    minDelayMs?: number;
    maxDelayMs?: number;
    maxConcealMs?: number;
    resampleQuality?: number;
    decodeAtTargetRate?: boolean;
  }) => NativeAudioReceiver;
  AudioSender: new (options: {
    sampleRate: number;
    channels: number;
    ssrc: number;
    payloadType: number;
    bitrate?: number;
    complexity?: number;
    fec?: boolean;
    dtx?: boolean;
    frameMs?: number;
    capacityMs?: number;
    autoSilence?: boolean;
    encodeChannels?: number;
    midExtension?: { id: number; mid: string } | null;
    packetLossPercent?: number;
    resampleQuality?: number;
    initialSequence?: number;
    initialTimestamp?: number;
  }) => NativeAudioSender;
}

/** Pixel layouts of a raw image, named by their byte order in memory (I420: Y, U, V planes back to back). */
export type NativePixelFormat = 'RGB' | 'RGBA' | 'BGRA' | 'I420';

/** A raw image as it crosses the native boundary (native/binding/vp8_codec_wrap.cc). */
export interface NativeImage {
  data: Uint8Array;
  width: number;
  height: number;
  format: NativePixelFormat;
}

/** One assembled VP8 frame as built by native/binding/vp8_depacketizer_wrap.cc. */
export interface NativeVp8Frame {
  data: Uint8Array;
  timestamp: number;
  ssrc: number;
  keyframe: boolean;
  width: number;
  height: number;
  pictureId: number;
  firstSequence: number;
  lastSequence: number;
  packets: number;
  firstArrivalMs: number;
  lastArrivalMs: number;
}

/** Counters returned by a native Vp8Depacketizer's stats() (documented on Vp8DepacketizerStats). */
export interface NativeVp8DepacketizerStats {
  packets: number;
  duplicates: number;
  late: number;
  malformed: number;
  frames: number;
  keyframes: number;
  framesDropped: number;
  packetsDropped: number;
  gapsLost: number;
  resets: number;
  bufferedPackets: number;
  waitingForKeyframe: boolean;
  nacked: number;
  recovered: number;
  nackGiveUps: number;
  plis: number;
  nackList: number;
}

/** A native Vp8Depacketizer instance (native/binding/vp8_depacketizer_wrap.cc). */
export interface NativeVp8Depacketizer {
  push(packet: Uint8Array, nowMs: number): number;
  poll(nowMs: number): number;
  pop(): NativeVp8Frame | null;
  feedback(nowMs: number, senderSsrc: number): Uint8Array | null;
  nextDeadlineMs(): number;
  requestKeyframe(): void;
  stats(): NativeVp8DepacketizerStats;
  reset(): void;
  close(): void;
}

/** A native Vp8Packetizer instance (native/binding/vp8_packetizer_wrap.cc). */
export interface NativeVp8Packetizer {
  packetize(frame: Uint8Array, timestamp: number): Uint8Array[];
  setRtpParams(p: {
    ssrc?: number;
    payloadType?: number;
    midExtension?: { id: number; mid: string } | null;
  }): void;
  stats(): { frames: number; packets: number; payloadBytes: number };
  close(): void;
  readonly nextSequence: number;
  readonly pictureId: number;
  readonly maxPayloadPerPacket: number;
}

/** A native Vp8Decoder instance (native/binding/vp8_codec_wrap.cc). */
export interface NativeVp8Decoder {
  decode(frame: Uint8Array): { width: number; height: number } | null;
  image(format: NativePixelFormat, maxWidth: number, into?: Uint8Array): NativeImage;
  reset(): void;
  close(): void;
  readonly frames: number;
}

/** A native Vp8Encoder instance (native/binding/vp8_codec_wrap.cc). */
export interface NativeVp8Encoder {
  encode(image: NativeImage, keyframe: boolean): { data: Uint8Array; keyframe: boolean } | null;
  setBitrate(bitrate: number): void;
  close(): void;
  readonly frames: number;
}

/** Counters returned by a native VideoSenderFeedback's stats(). */
export interface NativeVideoSenderFeedbackStats {
  plis: number;
  firs: number;
  nacked: number;
  rembs: number;
  keyframesGranted: number;
  lastRembBps: number | null;
}

/** A native VideoSenderFeedback instance (native/binding/video_sender_feedback_wrap.cc). */
export interface NativeVideoSenderFeedback {
  onRtcp(packet: Uint8Array): { keyframeRequested: boolean; rembBps: number | null; nacked: number };
  takeKeyframeRequest(nowMs: number): boolean;
  requestKeyframe(): void;
  setSsrc(ssrc: number): void;
  stats(): NativeVideoSenderFeedbackStats;
}

/** Exports of the video wraps (vp8_depacketizer_wrap.cc, vp8_packetizer_wrap.cc, vp8_codec_wrap.cc, video_sender_feedback_wrap.cc). */
export interface NativeVideoBinding {
  Vp8Depacketizer: new (options: {
    payloadType?: number;
    maxPackets?: number;
    maxFrameBytes?: number;
    maxWaitMs?: number;
    nack?: boolean;
    nackIntervalMs?: number;
    maxNackRetries?: number;
    maxNackList?: number;
    pliIntervalMs?: number;
  }) => NativeVp8Depacketizer;
  Vp8Packetizer: new (options: {
    ssrc: number;
    payloadType: number;
    initialSequence?: number;
    initialPictureId?: number;
    mtu?: number;
    midExtension?: { id: number; mid: string } | null;
  }) => NativeVp8Packetizer;
  Vp8Decoder: new (options: { threads?: number }) => NativeVp8Decoder;
  Vp8Encoder: new (options: {
    width: number;
    height: number;
    fps?: number;
    bitrate?: number;
    keyframeInterval?: number;
    cpuUsed?: number;
    threads?: number;
    minQuantizer?: number;
    maxQuantizer?: number;
  }) => NativeVp8Encoder;
  convertImage(image: NativeImage, format: NativePixelFormat, width: number, height: number): NativeImage;
  VideoSenderFeedback: new (options: { ssrc: number; minKeyframeIntervalMs?: number }) => NativeVideoSenderFeedback;
}
