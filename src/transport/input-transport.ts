import type { InputTrack } from '../connection/index.js';
import { attachMediaStats } from '../connection/media-stats.js';
import type { AudioFrame, AudioReceiverStats } from '../media/audio-receiver.js';
import { FrameDirection, FrameProcessor, type FrameProcessorSetup } from '../pipeline/frame-processor.js';
import {
  CancelFrame,
  EndFrame,
  type Frame,
  InputAudioRawFrame,
  InputTransportMessageFrame,
  StartFrame,
  UserImageRawFrame,
  UserImageRequestFrame,
} from '../pipeline/frames.js';
import { SmallWebRTCTypeError } from '../errors.js';
import { logger } from '../pipeline/logger.js';
import { VADState } from '../vad/vad-analyzer.js';
import { VADController } from '../vad/vad-controller.js';
import type { SmallWebRTCClient } from './smallwebrtc-client.js';
import { AudioInputTrack, type AudioInputTrackStats } from './tracks/audio-input-track.js';
import { VideoInputTrack, type VideoInputSource } from './tracks/video-input-track.js';
import type { VideoImage } from '../media/video-frame.js';
import type { TransportParams, VideoInParams } from './transport-params.js';

/** Input frames waiting for the VAD before the oldest are dropped (1 s of 20 ms frames). */
const MAX_PENDING_FRAMES = 50;
/** Queued among the audio frames when the microphone source changes: the VAD starts over there. */
const VAD_RESET = Symbol('vad-reset');
/** Peak (int16) up to which a frame is digital silence (`audioInSilence20msChunks`; the VAD's skipSilence). */
const SILENT_PEAK = 8;

function isDigitalSilence(pcm: Int16Array): boolean {
  for (let i = 0; i < pcm.length; i++) {
    const x = pcm[i]!;
    if (x > SILENT_PEAK || x < -SILENT_PEAK) return false;
  }
  return true;
}

/** Counters of the input side, for stats pages and tests. */
export interface InputTransportStats {
  /** Frames pushed into the pipeline. */
  framesPushed: number;
  /** Frames dropped because the VAD fell more than 1 s behind. */
  framesDropped: number;
  /** Network stalls seen on an unmuted track (no RTP for 2 s). */
  stalls: number;
  /** Whether the peer has muted its microphone (trackStatus). */
  muted: boolean;
  /** Whether the audio is currently stalled (enabled, but no RTP for 2 s). */
  stalled: boolean;
}

/**
 * The input half of {@link SmallWebRTCTransport} (Pipecat's `SmallWebRTCInputTransport`).
 *
 * Audio: an {@link AudioInputTrack} turns the peer's microphone RTP into `InputAudioRawFrame`s of exactly
 * 20 ms at `audioInSampleRate`/`audioInChannels` (jitter buffer, Opus decode/FEC/PLC and the one resampling
 * are native; concealment rides the process-wide media clock). Nothing is subscribed (so nothing is decoded
 * or queued) before the StartFrame. With `TransportParams.vadAnalyzer`, the {@link VADController} that
 * {@link VADProcessor} also uses turns the audio into User/VAD started/stopped speaking frames here, ahead of
 * each frame. Video (with `videoInEnabled`): one {@link VideoInputTrack} per source (camera: transceiver 1,
 * screen: transceiver 2) turns VP8 RTP into `UserImageRawFrame`s (`userId` = pc_id, format 'RGB',
 * `transportSource` 'camera' / 'screenVideo'); decoding and colour conversion run on a native worker thread,
 * and a pipeline slower than the camera sees the newest picture (at most one waits per source). The rest
 * runs on the JS thread.
 */
export class SmallWebRTCInputTransport extends FrameProcessor {
  readonly #client: SmallWebRTCClient;
  readonly #params: TransportParams;
  readonly #vad: VADController | null;
  #audio: AudioInputTrack | null = null;
  /** The last track's counters, kept readable after it closed. */
  #audioStats: Readonly<AudioInputTrackStats> = {
    framesDelivered: 0,
    stalls: 0,
    muted: false,
    stalled: false,
    payloadTypeDropped: 0,
  };
  #unwatchTrack: (() => void) | null = null;
  /** Detaches the receiver's counters from the connection's monitoring totals (keeping its last reading). */
  #detachStats: (() => void) | null = null;
  readonly #detachVideoStats: Array<() => void> = [];
  #video: VideoInputTrack[] = [];
  #unwatchVideo: (() => void) | null = null;
  /** The newest picture per source not yet pushed (latest wins while a push is in progress). */
  #pendingImages = new Map<VideoInputSource, VideoImage>();
  #pushingImages = false;
  #imagesPushed = 0;
  /** Picture rate and width per source (`videoIn`, then `captureParticipantVideo`). */
  #videoOut: Record<VideoInputSource, Required<VideoInParams>>;
  /** Image requests waiting for the next picture of their source, oldest first. */
  #imageRequests: UserImageRequestFrame[] = [];
  /** Per pending picture: the requests it answers (taken when the picture arrived). */
  #pendingAnswers = new Map<VideoInputSource, UserImageRequestFrame[]>();
  #inRate = 16000;
  #channels: 1 | 2 = 1;
  #pending: Array<AudioFrame | typeof VAD_RESET> = [];
  /** Digital silence gathered while QUIET, pushed as one frame (`audioInSilence20msChunks`). */
  #silence: AudioFrame[] = [];
  #draining = false;
  #framesPushed = 0;
  #framesDropped = 0;

  constructor(client: SmallWebRTCClient, params: TransportParams, name?: string) {
    super(name !== undefined ? { name } : {});
    this.#client = client;
    this.#params = params;
    this.#vad = params.vadAnalyzer !== undefined ? new VADController(params.vadAnalyzer, this) : null;
    this.#videoOut = { camera: { ...params.videoIn }, screenVideo: { ...params.videoIn } };
  }

  /** Input counters and the peer's mute/stall state. */
  get stats(): Readonly<InputTransportStats> {
    const a = this.#audioStats;
    return {
      framesPushed: this.#framesPushed,
      framesDropped: this.#framesDropped,
      stalls: a.stalls,
      muted: a.muted,
      stalled: a.stalled,
    };
  }

  /** The microphone track while audio input runs (between the StartFrame and the end), else null. */
  get audioTrack(): AudioInputTrack | null {
    return this.#audio;
  }

  /** The camera and screen tracks while video input runs, else empty. */
  get videoTracks(): readonly VideoInputTrack[] {
    return this.#video;
  }

  /** `UserImageRawFrame`s pushed into the pipeline. */
  get imagesPushed(): number {
    return this.#imagesPushed;
  }

  /** Native jitter buffer / decoder statistics while audio is being received, else null. */
  receiverStats(): AudioReceiverStats | null {
    return this.#audio?.receiverStats() ?? null;
  }

  override async setup(setup: FrameProcessorSetup = {}): Promise<void> {
    await super.setup(setup);
    // As Pipecat (6aa2e94db): connect during setup; the StartFrame only starts the media readers.
    await this.#client.connect(this);
  }

  override async cleanup(): Promise<void> {
    await super.cleanup();
    this.#stopAudio();
    this.#stopVideo();
    await this.#client.disconnect(this);
  }

  override async processFrame(frame: Frame, direction: FrameDirection): Promise<void> {
    if (frame instanceof StartFrame) {
      this.#inRate = this.#params.audioInSampleRate ?? frame.audioInSampleRate;
      this.#channels = this.#params.audioInChannels === 2 ? 2 : 1;
      await this.#vad?.start(this.#inRate);
      await this.pushFrame(frame, direction);
      if (this.#params.audioInEnabled) this.#startAudio();
      if (this.#params.videoInEnabled) this.#startVideo();
      return;
    }
    if (frame instanceof CancelFrame) {
      this.#stopAudio();
      this.#stopVideo();
      await this.pushFrame(frame, direction);
      await this.#client.disconnect(this);
      return;
    }
    if (frame instanceof EndFrame) {
      this.#stopAudio();
      this.#stopVideo();
      await this.pushFrame(frame, direction);
      await this.#client.disconnect(this);
      return;
    }
    if (frame instanceof UserImageRequestFrame) this.requestParticipantImage(frame);
    await this.pushFrame(frame, direction);
  }

  /**
   * Pipecat's `request_participant_image`: the next picture of `frame.videoSource` (default camera) is pushed
   * once more as a `UserImageRawFrame` carrying the request, its `text` and `appendToContext`, whatever
   * `videoIn.fps` says. When that source's decoder has no reference (nothing received yet, or a keyframe is
   * awaited after loss) or its stream has paused for a second or more, a keyframe is requested too, so the
   * picture does not wait for the sender's next keyframe. A request for another user than this connection's
   * pc_id, or for an unknown source, or without `videoInEnabled`, is logged and left unanswered.
   */
  requestParticipantImage(frame: UserImageRequestFrame): void {
    const source = frame.videoSource ?? 'camera';
    if (!this.#params.videoInEnabled) {
      logger().warn(`${this.name}: ${frame.name} ignored, videoInEnabled is false`);
      return;
    }
    if (source !== 'camera' && source !== 'screenVideo') {
      logger().warn(`${this.name}: ${frame.name} for unknown video source ${source} ignored`);
      return;
    }
    if (frame.userId !== this.#client.connection.pcId) {
      logger().debug(`${this.name}: ${frame.name} for user ${frame.userId}, not ours; ignored`);
      return;
    }
    this.#imageRequests.push(frame);
    for (const t of this.#video) if (t.source === source) t.requestImage();
  }

  /**
   * Pipecat's `capture_participant_video` / `capture_participant_media`: changes the picture rate and width
   * limit of one source from its next frame on (fields left out keep their value; see
   * `TransportParams.videoIn`).
   * @throws TypeError / RangeError (ERR_INVALID_ARG) for an unknown source or a bad value.
   */
  captureParticipantVideo(videoSource: VideoInputSource = 'camera', options: VideoInParams = {}): void {
    if (videoSource !== 'camera' && videoSource !== 'screenVideo') {
      throw new SmallWebRTCTypeError(
        'ERR_INVALID_ARG',
        `captureParticipantVideo: videoSource must be 'camera' or 'screenVideo', got ${String(videoSource)}`,
      );
    }
    const next = { ...this.#videoOut[videoSource] };
    // TransportParams validates the values (same ranges and messages as videoIn).
    const checked = this.#params.with({ videoIn: { ...next, ...options } }).videoIn;
    this.#videoOut[videoSource] = { ...checked };
    for (const t of this.#video) if (t.source === videoSource) t.setOutput(checked);
  }

  /** Pushes an inbound client message both ways, as Pipecat does (62f4708d4). */
  async pushAppMessage(message: unknown): Promise<void> {
    await this.pushFrame(new InputTransportMessageFrame(message), FrameDirection.DOWNSTREAM);
    await this.pushFrame(new InputTransportMessageFrame(message), FrameDirection.UPSTREAM);
  }

  #startAudio(): void {
    if (this.#audio !== null) return;
    const track = new AudioInputTrack({
      sampleRate: this.#inRate,
      channels: this.#channels,
      ...(this.#params.audioInMinDelayMs !== undefined ? { minDelayMs: this.#params.audioInMinDelayMs } : {}),
      ...(this.#params.audioInMaxDelayMs !== undefined ? { maxDelayMs: this.#params.audioInMaxDelayMs } : {}),
      onFrames: (frames) => this.#enqueue(frames),
      name: this.name,
    });
    this.#audio = track;
    this.#audioStats = track.stats;
    // Read by the server's /metrics and session log at scrape time only (never per packet).
    this.#detachStats = attachMediaStats(this.#client.connection, () => {
      const s = track.receiverStats();
      return s === null
        ? null
        : {
            packetsIn: s.received,
            packetsLost: s.lost,
            concealedSecs: s.concealedMs / 1000,
            jitterBufferDelaySecs: s.targetDelayMs / 1000,
          };
    });
    // A restart_pc brings a new microphone track: the same AudioInputTrack rebinds to it, and the VAD starts
    // over (in order with the frames already queued: the old peer's last frames are analysed first).
    this.#unwatchTrack = this.#client.onAudioInputChanged((source: InputTrack | null) => {
      track.bind(source);
      if (source !== null && this.#vad !== null) this.#enqueue([VAD_RESET]);
    });
    track.bind(this.#client.audioInput);
  }

  #stopAudio(): void {
    this.#unwatchTrack?.();
    this.#unwatchTrack = null;
    this.#detachStats?.(); // before close: takes the receiver's last reading
    this.#detachStats = null;
    if (this.#audio !== null) this.#audioStats = { ...this.#audio.stats };
    this.#audio?.close();
    this.#audio = null;
    this.#pending = [];
    this.#silence = [];
  }

  #startVideo(): void {
    if (this.#video.length > 0) return;
    for (const source of ['camera', 'screenVideo'] as const) {
      const track = new VideoInputTrack({
        source,
        fps: this.#videoOut[source].fps,
        maxWidth: this.#videoOut[source].maxWidth,
        name: `${this.name} ${source}`,
        onImage: (image) => this.#enqueueImage(source, image),
      });
      track.bind(this.#client.videoInput(source));
      this.#video.push(track);
      // Read by the server's /metrics and session log at scrape time only.
      this.#detachVideoStats.push(
        attachMediaStats(this.#client.connection, () => {
          const c = track.counters();
          return c === null
            ? null
            : {
                videoFramesIn: c.framesIn,
                videoDecodeErrors: c.decodeErrors,
                videoKeyframeRequestsSent: c.keyframeRequests,
              };
        }),
      );
    }
    // A restart_pc brings new tracks: the same VideoInputTracks rebind to them.
    this.#unwatchVideo = this.#client.onVideoInputChanged((source, input) => {
      for (const t of this.#video) if (t.source === source) t.bind(input);
    });
  }

  #stopVideo(): void {
    this.#unwatchVideo?.();
    this.#unwatchVideo = null;
    for (const detach of this.#detachVideoStats.splice(0)) detach(); // before close: the last readings
    for (const t of this.#video) t.close();
    this.#video = [];
    this.#pendingImages.clear();
    this.#pendingAnswers.clear();
  }

  #enqueueImage(source: VideoInputSource, image: VideoImage): void {
    this.#pendingImages.set(source, image);
    // The requests made before this picture arrived are answered with it (a newer picture replacing it
    // before the push answers them instead).
    if (this.#imageRequests.some((r) => (r.videoSource ?? 'camera') === source)) {
      const answers = this.#pendingAnswers.get(source) ?? [];
      this.#imageRequests = this.#imageRequests.filter((r) => {
        if ((r.videoSource ?? 'camera') !== source) return true;
        answers.push(r);
        return false;
      });
      this.#pendingAnswers.set(source, answers);
    }
    if (!this.#pushingImages) void this.detached(() => this.#pushImages());
  }

  async #pushImages(): Promise<void> {
    this.#pushingImages = true;
    try {
      for (const [source, image] of this.#pendingImages) {
        this.#pendingImages.delete(source);
        const requests = this.#pendingAnswers.get(source) ?? [];
        this.#pendingAnswers.delete(source);
        // As Pipecat: each request gets an extra frame with the same picture. The regular frame's pixels may
        // be rewritten in place downstream (the video-transform example does), so the answers get a copy
        // made before it is pushed.
        const answers = requests.map((request) => {
          const answer = new UserImageRawFrame({
            userId: request.userId,
            image: Uint8Array.prototype.slice.call(image.data),
            size: [image.width, image.height],
            format: 'RGB',
            ...(request.text !== undefined ? { text: request.text } : {}),
            ...(request.appendToContext !== undefined ? { appendToContext: request.appendToContext } : {}),
            request,
          });
          answer.transportSource = source;
          return answer;
        });
        const frame = new UserImageRawFrame({
          userId: this.#client.connection.pcId,
          image: image.data,
          size: [image.width, image.height],
          format: 'RGB',
        });
        frame.transportSource = source;
        await this.pushFrame(frame, FrameDirection.DOWNSTREAM);
        this.#imagesPushed++;
        for (const answer of answers) {
          await this.pushFrame(answer, FrameDirection.DOWNSTREAM);
          this.#imagesPushed++;
        }
      }
    } catch (err) {
      logger().error(`${this.name}: input video handling failed`, err);
    } finally {
      this.#pushingImages = false;
    }
  }

  #enqueue(frames: Array<AudioFrame | typeof VAD_RESET>): void {
    for (const f of frames) this.#pending.push(f);
    if (this.#pending.length > MAX_PENDING_FRAMES) {
      const drop = this.#pending.length - MAX_PENDING_FRAMES;
      const dropped = this.#pending.splice(0, drop);
      // A dropped reset still happens: it goes back to the front of what is kept.
      if (dropped.includes(VAD_RESET)) this.#pending.unshift(VAD_RESET);
      this.#framesDropped += dropped.filter((f) => f !== VAD_RESET).length;
    }
    if (!this.#draining) void this.detached(() => this.#drain());
  }

  /** Pushes pending frames in order; the VAD (async) is awaited per frame so speaking frames stay in order. */
  async #drain(): Promise<void> {
    this.#draining = true;
    const gather = this.#params.audioInSilence20msChunks;
    try {
      for (let f = this.#pending.shift(); f !== undefined; f = this.#pending.shift()) {
        if (f === VAD_RESET) {
          await this.#pushSilence();
          await this.#vad?.reset();
          continue;
        }
        if (gather > 1 && f.audio.length > 0 && this.#vadQuiet() && isDigitalSilence(f.audio)) {
          this.#silence.push(f);
          if (this.#silence.length >= gather) await this.#pushSilence();
          continue;
        }
        await this.#pushSilence();
        await this.#pushAudio(f.audio, f);
      }
    } catch (err) {
      logger().error(`${this.name}: input audio handling failed`, err);
    } finally {
      this.#draining = false;
    }
  }

  /** Whether the VAD is QUIET (or there is none): digital silence cannot change anything there. */
  #vadQuiet(): boolean {
    return this.#vad === null || this.#vad.analyzer.state === VADState.QUIET;
  }

  /** The gathered silence as one frame (the first frame's pts, every sample in order). */
  async #pushSilence(): Promise<void> {
    const frames = this.#silence;
    if (frames.length === 0) return;
    this.#silence = [];
    const first = frames[0]!;
    if (frames.length === 1) return this.#pushAudio(first.audio, first);
    const audio = new Int16Array(frames.reduce((n, f) => n + f.audio.length, 0));
    let o = 0;
    for (const f of frames) {
      audio.set(f.audio, o);
      o += f.audio.length;
    }
    await this.#pushAudio(audio, first);
  }

  async #pushAudio(audio: Int16Array, f: AudioFrame): Promise<void> {
    const frame = new InputAudioRawFrame({
      audio,
      sampleRate: f.sampleRate,
      numChannels: f.numChannels,
      pts: f.pts,
    });
    frame.transportSource = 'microphone';
    if (this.#vad !== null) await this.#vad.processAudio(audio, f.sampleRate, f.numChannels);
    if (this.#params.audioInPassthrough) {
      await this.pushFrame(frame, FrameDirection.DOWNSTREAM);
      this.#framesPushed++;
    }
  }
}
