// The typed shape of the native addon (native/binding/*.cc). Each wrap file's exports are declared here as
// one interface, and `NativeAddon` is their intersection; src/native/binding.ts is the only place that
// loads the addon and casts it to this type. Keep these in sync with the C++ Init functions.
// One file on purpose, although longer than the ~600 lines other modules keep to: it is declarations only
// (no logic), and the whole N-API boundary in one place is what a reviewer checks a C++ wrap change against.

// RTP/RTCP packet shapes: what rtp_wrap.cc reads from builder arguments and returns from parsers. src/media/rtp.ts
// re-exports them as the public RTP toolkit types.

/** One RFC 8285 header extension element. */
export interface RtpHeaderExtension {
  /** Local identifier (1-14 one-byte form, 1-255 two-byte form), as negotiated by `a=extmap`. */
  id: number;
  /** Element data. In a parsed packet this is a view into the packet buffer (no copy). */
  data: Uint8Array;
}

/** A parsed RTP packet. `payload` and extension data are views into the buffer given to `parseRtp`. */
export interface RtpPacket {
  /** Padding bit (padding bytes are excluded from `payload`). */
  padding: boolean;
  /** Marker bit (Opus: first packet of a talkspurt; VP8: last packet of a frame). */
  marker: boolean;
  /** Payload type, 0-127. */
  payloadType: number;
  /** 16-bit sequence number (wraps; see `SequenceUnwrapper`). */
  sequenceNumber: number;
  /** 32-bit media timestamp in clock-rate units (48 kHz for Opus, 90 kHz for video). */
  timestamp: number;
  /** Synchronisation source. */
  ssrc: number;
  /** Contributing sources (0-15). */
  csrcs: number[];
  /** The extension block's profile (0xBEDE one-byte, 0x100X two-byte), or null without an extension. */
  extensionProfile: number | null;
  /** RFC 8285 elements (empty for other profiles; padding bytes skipped). */
  extensions: RtpHeaderExtension[];
  /** Bytes before the payload (fixed header + CSRCs + extension). */
  headerSize: number;
  /** Padding bytes at the end (including the count byte), 0 without padding. */
  paddingSize: number;
  /** The payload, without padding. */
  payload: Uint8Array;
}

/** What `buildRtp` writes. */
export interface RtpPacketInit {
  /** Payload type, 0-127. */
  payloadType: number;
  /** 0-65535. */
  sequenceNumber: number;
  /** 0-2^32-1, clock-rate units. */
  timestamp: number;
  /** 0-2^32-1. */
  ssrc: number;
  /** Default false. */
  marker?: boolean;
  /** Up to 15. */
  csrcs?: number[];
  /**
   * Header extensions. Written in the one-byte form (0xBEDE) when every id is 1-14 and every length 1-16
   * bytes, else in the two-byte form (ids 1-255, lengths 0-255).
   */
  extensions?: RtpHeaderExtension[];
  /** 0 (default) or 1-255 bytes of padding. */
  paddingSize?: number;
  /** Default empty. */
  payload?: Uint8Array;
}

/** An RFC 3550 6.4.1 reception report block. */
export interface RtcpReportBlock {
  /** The source this block reports on. */
  ssrc: number;
  /** Fraction of packets lost since the previous report, fixed point /256 (0-255). */
  fractionLost: number;
  /** Packets lost since the start (signed 24-bit: duplicates can make it negative). */
  cumulativeLost: number;
  /** Cycles of the sequence number (<< 16) plus the highest sequence number received. */
  extendedHighestSequenceNumber: number;
  /** Interarrival jitter in RTP timestamp units. */
  jitter: number;
  /** Middle 32 bits of the NTP timestamp of the last SR received (0: none). */
  lastSenderReport: number;
  /** Delay since that SR, in 1/65536 s. */
  delaySinceLastSenderReport: number;
}

/** Report block fields as accepted by the builders (all but `ssrc` default to 0). */
export type RtcpReportBlockInit = Pick<RtcpReportBlock, 'ssrc'> & Partial<RtcpReportBlock>;

/** Fields every parsed RTCP packet has. */
export interface RtcpPacketBase {
  /** RTCP packet type (200 SR, 201 RR, 202 SDES, 203 BYE, 204 APP, 205 RTPFB, 206 PSFB, ...). */
  packetType: number;
  /** The 5-bit count / feedback-message-type field. */
  fmt: number;
  /** Byte offset of this packet in the compound buffer. */
  offset: number;
  /** Its size in bytes. */
  size: number;
}

/** Sender report. */
export interface RtcpSenderReport extends RtcpPacketBase {
  kind: 'sr';
  senderSsrc: number;
  /** NTP timestamp, seconds since 1900. */
  ntpSeconds: number;
  /** NTP timestamp fraction, 1/2^32 s. */
  ntpFraction: number;
  /** The same instant in RTP timestamp units. */
  rtpTimestamp: number;
  /** Packets sent. */
  packetCount: number;
  /** Payload bytes sent. */
  octetCount: number;
  reports: RtcpReportBlock[];
}

/** Receiver report. */
export interface RtcpReceiverReport extends RtcpPacketBase {
  kind: 'rr';
  senderSsrc: number;
  reports: RtcpReportBlock[];
}

/** Generic NACK (RTPFB FMT 1), PID/BLP pairs expanded. */
export interface RtcpNack extends RtcpPacketBase {
  kind: 'nack';
  senderSsrc: number;
  mediaSsrc: number;
  /** Every sequence number reported lost. */
  sequenceNumbers: number[];
}

/** Picture loss indication (PSFB FMT 1): the sender should send a keyframe. */
export interface RtcpPli extends RtcpPacketBase {
  kind: 'pli';
  senderSsrc: number;
  mediaSsrc: number;
}

/** Goodbye. */
export interface RtcpBye extends RtcpPacketBase {
  kind: 'bye';
  ssrcs: number[];
  /** Optional reason text ('' when absent). */
  reason: string;
}

/** Any other packet (SDES, APP, XR, other feedback): header fields only. */
export interface RtcpOther extends RtcpPacketBase {
  kind: 'other';
}

/** One packet of a (compound) RTCP buffer, discriminated by `kind`. */
export type RtcpPacket = RtcpSenderReport | RtcpReceiverReport | RtcpNack | RtcpPli | RtcpBye | RtcpOther;

/** What `buildRtcpSr` writes: a sender report (RFC 3550 6.4.1). */
export interface RtcpSenderReportInit {
  senderSsrc: number;
  /** NTP timestamp, seconds since 1900. */
  ntpSeconds: number;
  /** NTP timestamp fraction, 1/2^32 s. */
  ntpFraction: number;
  /** The same instant in RTP timestamp units. */
  rtpTimestamp: number;
  /** Packets sent. */
  packetCount: number;
  /** Payload bytes sent. */
  octetCount: number;
  /** Up to 31 report blocks. */
  reports?: RtcpReportBlockInit[];
}

/** What `buildRtcpRr` writes: a receiver report (RFC 3550 6.4.2). */
export interface RtcpReceiverReportInit {
  senderSsrc: number;
  /** Up to 31 report blocks. */
  reports?: RtcpReportBlockInit[];
}

/** What `buildRtcpNack` writes: a generic NACK (RFC 4585 6.2.1). */
export interface RtcpNackInit {
  senderSsrc: number;
  mediaSsrc: number;
  /** Lost sequence numbers, any order, 1 to 32767 of them. */
  sequenceNumbers: number[];
}

/** What `buildRtcpPli` writes: a picture loss indication (RFC 4585 6.3.1). */
export interface RtcpPliInit {
  /** Our SSRC. */
  senderSsrc: number;
  /** The stream whose sender should send a keyframe. */
  mediaSsrc: number;
}

/** What `buildRtcpBye` writes: a goodbye (RFC 3550 6.6). */
export interface RtcpByeInit {
  /** Up to 31 SSRCs. */
  ssrcs: number[];
  /** Optional reason, at most 255 UTF-8 bytes. */
  reason?: string;
}

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
  buildRtcpSr(init: RtcpSenderReportInit): Uint8Array;
  buildRtcpRr(init: RtcpReceiverReportInit): Uint8Array;
  buildRtcpNack(init: RtcpNackInit): Uint8Array;
  buildRtcpPli(init: RtcpPliInit): Uint8Array;
  buildRtcpBye(init: RtcpByeInit): Uint8Array;
  SequenceUnwrapper: new () => NativeUnwrapper;
  TimestampUnwrapper: new () => NativeUnwrapper;
}

/** Everything the addon exports. Other native parts add their binding interface to this intersection. */
export type NativeAddon = NativeVersionBinding &
  NativeRtpBinding &
  NativeAudioBinding &
  NativeVideoBinding &
  NativeWorkerBinding;

/** Counters of one bounded queue of the worker facility (native/core/work/bounded_queue.h). */
export interface NativeQueueStats {
  /** Items accepted. */
  queued: number;
  /** Items removed unprocessed by the queue's overflow policy (drop-oldest or latest-wins). */
  dropped: number;
  /** Items removed unprocessed by close or shutdown. */
  cancelled: number;
  /** Items processed (jobs run, results delivered). */
  completed: number;
  /** Jobs that threw (also counted in completed). */
  failed: number;
  /** Items waiting now. */
  depth: number;
  /** Largest depth seen. */
  maxDepth: number;
  /** Sum over processed items of the time they waited, microseconds. */
  queueTimeTotalUs: number;
  /** Longest wait, microseconds. */
  queueTimeMaxUs: number;
  /** Wait of the last processed item, microseconds. */
  queueTimeLastUs: number;
}

/** The two queues of an owner of worker jobs: its job lane and its result mailbox. */
export interface NativeWorkerStats {
  jobs: NativeQueueStats;
  results: NativeQueueStats;
}

/** What workerPoolInfo() returns (native/binding/worker_wrap.cc). */
export interface NativeWorkerPoolInfo {
  /** Whether this thread's pool has started (on the first owner of worker jobs). */
  started: boolean;
  /** Worker threads (running, or that would start: SMALL_WEBRTC_WORKER_THREADS or cores - 1). */
  threads: number;
  /** Whether this thread's video pool has started (on the first video decoder or encoder). */
  videoStarted: boolean;
  /** Video worker threads (sw-video-N; as many as `threads`). */
  videoThreads: number;
  /**
   * How much higher the video threads' nice value is than the process's (SMALL_WEBRTC_VIDEO_WORKER_NICE,
   * 0..19, default 10): when the cores are short, video slows down before audio does.
   */
  videoNice: number;
  /** Owners' JS-side receivers alive in the process (returns to 0 once every owner is closed or collected). */
  liveReceivers: number;
  /** Result mailboxes alive in the process (idem, once their last job has finished). */
  liveMailboxes: number;
}

/** Exports of native/binding/worker_wrap.cc. */
export interface NativeWorkerBinding {
  workerPoolInfo(): NativeWorkerPoolInfo;
}

/** One batch of packets encoded on a worker thread, as given to an AudioSender's onPackets. */
export interface NativeEncodedPackets {
  /** RTP packets, in sending order. */
  packets: Uint8Array[];
  /** For each packet, the due time of its slot on the clock given to pull(), ms. */
  dueMs: number[];
}

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
  /** Slots skipped after a stall of over a second (timestamp advanced, no packet). */
  skippedSlots: number;
  /** Slots deferred to a later pull() to catch up after a stall (sent late, in bursts of up to 3). */
  lateSlots: number;
  /** Input samples per channel refused by write() because the ring was full. */
  droppedOnWriteSamples: number;
  /** Encoder or packetizer failures. */
  encodeErrors: number;
  /**
   * Bytes of storage the ring holds now: it grows with the queued audio (never allocated up front for
   * `capacityMs`) and is freed once the queue drains (above 1 s of 48 kHz stereo, 192 KB).
   */
  ringBytes: number;
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
  /** Queue counters in worker mode, null otherwise. */
  workerStats(): NativeWorkerStats | null;
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
    /** Worker mode: encode off the JS thread and deliver here (held weakly: the caller keeps it alive). */
    onPackets?: (batch: NativeEncodedPackets) => void;
    /** Worker mode: bound of the job queue, in pull() batches (drop-oldest). Default 8. */
    workerQueueBatches?: number;
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
  feedback(nowMs: number, senderSsrc: number, mediaSsrc?: number): Uint8Array | null;
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

/** What a native VideoReceiver hands its onFrame handler (native/binding/video_receiver_wrap.cc). */
export type NativeDecodedFrame =
  | {
      image: NativeImage;
      timestamp: number;
      ssrc: number;
      keyframe: boolean;
      decodeUs: number;
      convertUs: number;
      error?: undefined;
    }
  | { error: string; timestamp: number; ssrc: number; image?: undefined };

/** Counters returned by a native VideoReceiver's stats(). */
export interface NativeVideoReceiverStats {
  packets: number;
  duplicates: number;
  late: number;
  malformed: number;
  frames: number;
  keyframes: number;
  framesDropped: number;
  gapsLost: number;
  nacked: number;
  plis: number;
  /** Frames the decode queue dropped (a slow decoder); a keyframe is requested each time. */
  decodeQueueDropped: number;
  /** Delta frames not decoded after such a drop, until the next keyframe (they would decode corrupt). */
  skippedUntilKeyframe: number;
  waitingForKeyframe: boolean;
}

/** A native VideoReceiver instance (native/binding/video_receiver_wrap.cc). */
export interface NativeVideoReceiver {
  push(packet: Uint8Array, nowMs: number): number;
  poll(nowMs: number): number;
  feedback(nowMs: number, senderSsrc: number, mediaSsrc?: number): Uint8Array | null;
  nextDeadlineMs(): number;
  requestKeyframe(): void;
  requestImage(): void;
  setOutput(output: { format?: NativePixelFormat; maxWidth?: number; fps?: number }): void;
  stats(): NativeVideoReceiverStats;
  workerStats(): NativeWorkerStats;
  close(): void;
}

/** What a native VideoSender hands its onPackets handler (native/binding/video_sender_wrap.cc). */
export type NativeEncodedVideoPackets =
  | {
      packets: Uint8Array[];
      keyframe: boolean;
      timestamp: number;
      frameBytes: number;
      encodeUs: number;
      error?: undefined;
    }
  | { error: string; timestamp: number; packets?: undefined };

/** Counters returned by a native VideoSender's stats(). */
export interface NativeVideoSenderStats {
  plis: number;
  firs: number;
  nacked: number;
  rembs: number;
  keyframesRequested: number;
  targetBitrate: number;
  maxBitrate: number;
  framesReplaced: number;
}

/** A native VideoSender instance (native/binding/video_sender_wrap.cc). */
export interface NativeVideoSender {
  send(image: NativeImage, nowMs: number, keyframe?: boolean): boolean;
  onRtcp(packet: Uint8Array): { keyframeRequested: boolean; rembBps: number | null; nacked: number };
  requestKeyframe(): void;
  setMaxBitrate(bitrate: number): void;
  stats(): NativeVideoSenderStats;
  workerStats(): NativeWorkerStats;
  close(): void;
}

/** Exports of the video wraps (vp8_depacketizer_wrap.cc, vp8_packetizer_wrap.cc, vp8_codec_wrap.cc, video_sender_feedback_wrap.cc, video_receiver_wrap.cc, video_sender_wrap.cc). */
export interface NativeVideoBinding {
  VideoReceiver: new (options: {
    payloadType?: number;
    maxPackets?: number;
    maxWaitMs?: number;
    nack?: boolean;
    pliIntervalMs?: number;
    format?: NativePixelFormat;
    maxWidth?: number;
    fps?: number;
    threads?: number;
    decodeQueue?: number;
    onFrame: (frame: NativeDecodedFrame) => void;
  }) => NativeVideoReceiver;
  VideoSender: new (options: {
    width: number;
    height: number;
    fps?: number;
    bitrate?: number;
    maxBitrate?: number;
    keyframeInterval?: number;
    cpuUsed?: number;
    threads?: number;
    ssrc: number;
    payloadType: number;
    initialSequence?: number;
    initialPictureId?: number;
    initialTimestamp?: number;
    mtu?: number;
    midExtension?: { id: number; mid: string } | null;
    minKeyframeIntervalMs?: number;
    onPackets: (result: NativeEncodedVideoPackets) => void;
  }) => NativeVideoSender;
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
