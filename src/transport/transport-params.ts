import { SmallWebRTCRangeError, SmallWebRTCTypeError } from '../errors.js';
import type { VADAnalyzer } from '../vad/vad-analyzer.js';

/**
 * Constructor fields of {@link TransportParams} (Pipecat's `TransportParams`, camelCase). Every field is
 * optional; omitted fields take the default documented on the class.
 */
export interface TransportParamsInit {
  /** Receive the client's microphone and push `InputAudioRawFrame`s. Default false. */
  audioInEnabled?: boolean;
  /** Push input audio downstream (false: only the VAD sees it). Default true. */
  audioInPassthrough?: boolean;
  /** Pipecat parity only: SmallWebRTC always streams input audio from the StartFrame. Default true. */
  audioInStreamOnStart?: boolean;
  /** Input sample rate in Hz; default: the pipeline's (`PipelineParams.audioInSampleRate`, 16000). */
  audioInSampleRate?: number;
  /** Input channels: 1 (mono, default) or 2 (stereo, interleaved). */
  audioInChannels?: number;
  /** Jitter buffer minimum playout delay in ms (0..1000); default: the receiver's adaptive default. */
  audioInMinDelayMs?: number;
  /** Jitter buffer maximum playout delay in ms (0..2000, >= audioInMinDelayMs); default: the receiver's. */
  audioInMaxDelayMs?: number;
  /**
   * Beyond Pipecat: while the VAD is QUIET (or there is none), consecutive 20 ms input frames of digital
   * silence (every sample within 8 LSB: a muted microphone, a DTX pause and the jitter buffer's fill for it)
   * are pushed together as one `InputAudioRawFrame` of up to this many 20 ms frames (1..50). Default 1: every
   * 20 ms frame on its own. Every sample still goes downstream, in order with a continuous `pts`; a frame
   * that is not silent first pushes the silence gathered before it. With 10, a connected but silent user
   * costs the pipeline 5 frames a second instead of 50 (docs/performance.md, "Idle sessions"). Not for a bot
   * that plays the user's audio back in real time (an echo): a gathered frame arrives up to N x 20 ms late,
   * and what it queues on the output delays the speech after it by as much.
   */
  audioInSilence20msChunks?: number;
  /** Send bot audio to the client. Default false. */
  audioOutEnabled?: boolean;
  /** Output sample rate in Hz of the audio the pipeline writes; default: the pipeline's (24000). */
  audioOutSampleRate?: number;
  /** Output channels: 1 (default) or 2. */
  audioOutChannels?: number;
  /** Opus encoder bitrate in bit/s (6000..510000). Default 32000 (clear wideband voice). */
  audioOutBitrate?: number;
  /** Output chunking: the output transport writes audio in chunks of N x 10 ms (1..50). Default 4 (40 ms). */
  audioOut10msChunks?: number;
  /** Send silence while the bot has nothing to say (true) or send nothing (false). Default true. */
  audioOutAutoSilence?: boolean;
  /**
   * Opus DTX on the bot's audio: once what is sent has been silent for about 200 ms, libopus stops producing
   * packets (one refresh every 400 ms) until sound returns; the RTP timestamp keeps counting the silent time
   * and the first packet after it has the marker bit, as browsers send DTX. Saves the encode-and-send cost
   * of silence (echoed or auto silence). Default false: browsers play the gap as silence, but aiortc (Pipecat's
   * Python client) returns the frames around it back to back, cutting the pause out (docs/performance.md).
   */
  audioOutDtx?: boolean;
  /** Seconds of silence sent after an EndFrame before stopping (0..60). Default 2. */
  audioOutEndSilenceSecs?: number;
  /**
   * Beyond Pipecat: delay the JS thread's stalls may add to the bot's audio before the oldest is dropped, ms
   * (0..3,600,000). Default 100. A stall shorter than the sender's catch-up window (1 s) is caught up by
   * sending the late packets in a burst; a longer one makes it skip the oldest slots, which delays everything
   * queued; for audio made in real time (an echo, a speech-to-speech model) that delay would otherwise grow
   * with every such stall. Stale audio is worse than
   * dropped audio for a voice bot; a large value keeps every sample and lets the delay grow
   * (docs/reliability.md, "Soak").
   */
  audioOutMaxStallDelayMs?: number;
  /** Receive the client's camera (and screen on demand) as `UserImageRawFrame`s. Default false. */
  videoInEnabled?: boolean;
  /**
   * Beyond Pipecat: how the camera and screen pictures are delivered. `fps`: pictures per second at most per
   * source (0..240, 0 = every decoded frame; the frames in between are still decoded, since later frames
   * refer to them, but not colour-converted nor pushed); `maxWidth`: downscale (aspect kept) to at most this
   * many pixels wide before the colour conversion (0..4096, 0 = the decoded size). Default `{ fps: 0,
   * maxWidth: 0 }`. Changed later per source with `SmallWebRTCTransport.captureParticipantVideo()`.
   */
  videoIn?: VideoInParams;
  /** Send bot video (`OutputImageRawFrame` / `SpriteFrame`). Default false. */
  videoOutEnabled?: boolean;
  /** Render every image at the frame rate as it arrives (true) or repeat the last image (false). Default false. */
  videoOutIsLive?: boolean;
  /** Output video width in pixels (16..4096). Default 1024. */
  videoOutWidth?: number;
  /** Output video height in pixels (16..4096). Default 768. */
  videoOutHeight?: number;
  /** Output video frame rate in frames/s (1..120). Default 30. */
  videoOutFramerate?: number;
  /** VP8 encoder target bitrate in bit/s (50000..20000000). Default 1000000. */
  videoOutBitrate?: number;
  /** Voice activity detector run by the input transport on input audio; none by default. */
  vadAnalyzer?: VADAnalyzer;
}

/** Rate and size of the input pictures ({@link TransportParamsInit.videoIn}). */
export interface VideoInParams {
  /** Pictures per second at most per source; 0: every frame. Default 0. */
  fps?: number;
  /** Downscale to at most this width before colour conversion; 0: the decoded size. Default 0. */
  maxWidth?: number;
}

const KNOWN_FIELDS: ReadonlySet<string> = new Set([
  'audioInEnabled',
  'audioInPassthrough',
  'audioInStreamOnStart',
  'audioInSampleRate',
  'audioInChannels',
  'audioInMinDelayMs',
  'audioInMaxDelayMs',
  'audioInSilence20msChunks',
  'audioOutEnabled',
  'audioOutSampleRate',
  'audioOutChannels',
  'audioOutBitrate',
  'audioOut10msChunks',
  'audioOutAutoSilence',
  'audioOutDtx',
  'audioOutEndSilenceSecs',
  'audioOutMaxStallDelayMs',
  'videoInEnabled',
  'videoIn',
  'videoOutEnabled',
  'videoOutIsLive',
  'videoOutWidth',
  'videoOutHeight',
  'videoOutFramerate',
  'videoOutBitrate',
  'vadAnalyzer',
]);

function bool(init: TransportParamsInit, field: keyof TransportParamsInit, fallback: boolean): boolean {
  const v = init[field];
  if (v === undefined) return fallback;
  if (typeof v !== 'boolean')
    throw new SmallWebRTCTypeError(
      'ERR_INVALID_ARG',
      `TransportParams.${field} must be a boolean, got ${typeof v}`,
    );
  return v;
}

function num(
  init: TransportParamsInit,
  field: keyof TransportParamsInit,
  fallback: number,
  min: number,
  max: number,
  integer: boolean,
  unit: string,
): number;
function num(
  init: TransportParamsInit,
  field: keyof TransportParamsInit,
  fallback: undefined,
  min: number,
  max: number,
  integer: boolean,
  unit: string,
): number | undefined;
function num(
  init: TransportParamsInit,
  field: keyof TransportParamsInit,
  fallback: number | undefined,
  min: number,
  max: number,
  integer: boolean,
  unit: string,
): number | undefined {
  const v = init[field];
  if (v === undefined || v === null) return fallback;
  if (typeof v !== 'number')
    throw new SmallWebRTCTypeError(
      'ERR_INVALID_ARG',
      `TransportParams.${field} must be a number, got ${typeof v}`,
    );
  if (!Number.isFinite(v) || (integer && !Number.isInteger(v)) || v < min || v > max) {
    const what = integer ? 'an integer' : 'a number';
    throw new SmallWebRTCRangeError(
      'ERR_INVALID_ARG',
      `TransportParams.${field} must be ${what} in [${min}, ${max}] ${unit}, got ${v}`,
    );
  }
  return v;
}

function channels(init: TransportParamsInit, field: 'audioInChannels' | 'audioOutChannels'): 1 | 2 {
  const v = num(init, field, 1, 1, 2, true, 'channels');
  return v === 2 ? 2 : 1;
}

function videoIn(init: TransportParamsInit): Readonly<Required<VideoInParams>> {
  const v: unknown = init.videoIn;
  if (v === undefined || v === null) return Object.freeze({ fps: 0, maxWidth: 0 });
  if (typeof v !== 'object' || Array.isArray(v)) {
    throw new SmallWebRTCTypeError(
      'ERR_INVALID_ARG',
      'TransportParams.videoIn must be an object { fps?, maxWidth? }',
    );
  }
  const o = v as Record<string, unknown>;
  for (const key of Object.keys(o)) {
    if (key !== 'fps' && key !== 'maxWidth') {
      throw new SmallWebRTCTypeError('ERR_INVALID_ARG', `TransportParams.videoIn: unknown field ${key}`);
    }
  }
  const field = (name: 'fps' | 'maxWidth', max: number, integer: boolean, unit: string): number => {
    const x = o[name];
    if (x === undefined) return 0;
    if (typeof x !== 'number') {
      throw new SmallWebRTCTypeError(
        'ERR_INVALID_ARG',
        `TransportParams.videoIn.${name} must be a number, got ${typeof x}`,
      );
    }
    if (!Number.isFinite(x) || (integer && !Number.isInteger(x)) || x < 0 || x > max) {
      throw new SmallWebRTCRangeError(
        'ERR_INVALID_ARG',
        `TransportParams.videoIn.${name} must be ${integer ? 'an integer' : 'a number'} in [0, ${max}] ${unit}, got ${x}`,
      );
    }
    return x;
  };
  return Object.freeze({
    fps: field('fps', 240, false, 'frames/s'),
    maxWidth: field('maxWidth', 4096, true, 'px'),
  });
}

function vad(init: TransportParamsInit): VADAnalyzer | undefined {
  const v: unknown = init.vadAnalyzer;
  if (v === undefined || v === null) return undefined;
  const a = v as Partial<Record<'analyze' | 'setSampleRate', unknown>>;
  if (typeof v !== 'object' || typeof a.analyze !== 'function' || typeof a.setSampleRate !== 'function') {
    throw new SmallWebRTCTypeError(
      'ERR_INVALID_ARG',
      'TransportParams.vadAnalyzer must implement VADAnalyzer (analyze, setSampleRate)',
    );
  }
  return v as VADAnalyzer;
}

/**
 * Transport configuration (Pipecat's `TransportParams`, fields in camelCase), validated once and frozen.
 *
 * ```ts
 * new TransportParams({ audioInEnabled: true, audioOutEnabled: true, vadAnalyzer: new SileroVADAnalyzer() })
 * ```
 *
 * A wrong type is a `TypeError`, a value out of range a `RangeError`; both name the field. Unknown fields
 * (typos such as `audioInEnable`) are a `TypeError` too, where Pipecat would silently ignore them.
 *
 * Differences from Pipecat: `audioOutBitrate` is honoured (Opus encoder bitrate; Pipecat's aiortc path
 * ignores it and sends 96 kb/s) and defaults to 32000; `audioOutChannels: 2` is sent as stereo Opus;
 * `audioInMinDelayMs`/`audioInMaxDelayMs` bound the jitter buffer; `vadAnalyzer` is kept here (Pipecat
 * moved VAD to the user aggregator) because the seed's documented usage passes it to the transport;
 * `videoIn` (picture rate and width before colour conversion) is ours.
 * Not carried over: `audioInFilter`, `audioOutMixer`, `audioOutDestinations`, `videoOutCodec`,
 * `videoOutColorFormat`, `videoOutDestinations` (no SmallWebRTC implementation in Pipecat either).
 */
export class TransportParams {
  /** Receive the client's microphone. Default false. */
  readonly audioInEnabled: boolean;
  /** Push input audio downstream. Default true. */
  readonly audioInPassthrough: boolean;
  /** Pipecat parity only (SmallWebRTC ignores it). Default true. */
  readonly audioInStreamOnStart: boolean;
  /** Input sample rate in Hz, or undefined for the pipeline's (16000 by default). */
  readonly audioInSampleRate: number | undefined;
  /** Input channels (1 or 2). Default 1. */
  readonly audioInChannels: 1 | 2;
  /** See {@link TransportParamsInit.audioInSilence20msChunks}. Default 1. */
  readonly audioInSilence20msChunks: number;
  /** Jitter buffer minimum delay, ms, or undefined for the receiver's default. */
  readonly audioInMinDelayMs: number | undefined;
  /** Jitter buffer maximum delay, ms, or undefined for the receiver's default. */
  readonly audioInMaxDelayMs: number | undefined;
  /** Send bot audio. Default false. */
  readonly audioOutEnabled: boolean;
  /** Output sample rate in Hz, or undefined for the pipeline's (24000 by default). */
  readonly audioOutSampleRate: number | undefined;
  /** Output channels (1 or 2). Default 1. */
  readonly audioOutChannels: 1 | 2;
  /** Opus bitrate, bit/s. Default 32000. */
  readonly audioOutBitrate: number;
  /** Output write chunk, in 10 ms units. Default 4. */
  readonly audioOut10msChunks: number;
  /** Silence while idle (true) or nothing (false). Default true. */
  readonly audioOutAutoSilence: boolean;
  /** See {@link TransportParamsInit.audioOutDtx}. */
  readonly audioOutDtx: boolean;
  /** Silence after EndFrame, seconds. Default 2. */
  readonly audioOutEndSilenceSecs: number;
  /** See {@link TransportParamsInit.audioOutMaxStallDelayMs}. Default 100. */
  readonly audioOutMaxStallDelayMs: number;
  /** Receive camera/screen video. Default false. */
  readonly videoInEnabled: boolean;
  /** Input picture rate and width limit (0: unlimited). Default `{ fps: 0, maxWidth: 0 }`. */
  readonly videoIn: Readonly<Required<VideoInParams>>;
  /** Send bot video. Default false. */
  readonly videoOutEnabled: boolean;
  /** Live video (queue every image) vs. repeat the last one. Default false. */
  readonly videoOutIsLive: boolean;
  /** Output width, px. Default 1024. */
  readonly videoOutWidth: number;
  /** Output height, px. Default 768. */
  readonly videoOutHeight: number;
  /** Output frame rate, frames/s. Default 30. */
  readonly videoOutFramerate: number;
  /** VP8 target bitrate, bit/s. Default 1000000. */
  readonly videoOutBitrate: number;
  /** The input transport's VAD, if any. */
  readonly vadAnalyzer: VADAnalyzer | undefined;

  constructor(init: TransportParamsInit = {}) {
    if (init === null || typeof init !== 'object' || Array.isArray(init)) {
      throw new SmallWebRTCTypeError('ERR_INVALID_ARG', 'TransportParams expects an object of fields');
    }
    for (const key of Object.keys(init)) {
      if (!KNOWN_FIELDS.has(key))
        throw new SmallWebRTCTypeError('ERR_INVALID_ARG', `TransportParams: unknown field ${key}`);
    }
    this.audioInEnabled = bool(init, 'audioInEnabled', false);
    this.audioInPassthrough = bool(init, 'audioInPassthrough', true);
    this.audioInStreamOnStart = bool(init, 'audioInStreamOnStart', true);
    this.audioInSampleRate = num(init, 'audioInSampleRate', undefined, 8000, 192000, true, 'Hz');
    this.audioInChannels = channels(init, 'audioInChannels');
    this.audioInMinDelayMs = num(init, 'audioInMinDelayMs', undefined, 0, 1000, false, 'ms');
    this.audioInMaxDelayMs = num(init, 'audioInMaxDelayMs', undefined, 0, 2000, false, 'ms');
    this.audioInSilence20msChunks = num(init, 'audioInSilence20msChunks', 1, 1, 50, true, '(x 20 ms)');
    if (
      this.audioInMinDelayMs !== undefined &&
      this.audioInMaxDelayMs !== undefined &&
      this.audioInMaxDelayMs < this.audioInMinDelayMs
    ) {
      throw new SmallWebRTCRangeError(
        'ERR_INVALID_ARG',
        `TransportParams.audioInMaxDelayMs (${this.audioInMaxDelayMs}) must be >= audioInMinDelayMs (${this.audioInMinDelayMs})`,
      );
    }
    this.audioOutEnabled = bool(init, 'audioOutEnabled', false);
    this.audioOutSampleRate = num(init, 'audioOutSampleRate', undefined, 8000, 192000, true, 'Hz');
    this.audioOutChannels = channels(init, 'audioOutChannels');
    this.audioOutBitrate = num(init, 'audioOutBitrate', 32000, 6000, 510000, true, 'bit/s');
    this.audioOut10msChunks = num(init, 'audioOut10msChunks', 4, 1, 50, true, '(x 10 ms)');
    this.audioOutAutoSilence = bool(init, 'audioOutAutoSilence', true);
    this.audioOutDtx = bool(init, 'audioOutDtx', false);
    this.audioOutEndSilenceSecs = num(init, 'audioOutEndSilenceSecs', 2, 0, 60, false, 's');
    this.audioOutMaxStallDelayMs = num(init, 'audioOutMaxStallDelayMs', 100, 0, 3_600_000, false, 'ms');
    this.videoInEnabled = bool(init, 'videoInEnabled', false);
    this.videoIn = videoIn(init);
    this.videoOutEnabled = bool(init, 'videoOutEnabled', false);
    this.videoOutIsLive = bool(init, 'videoOutIsLive', false);
    this.videoOutWidth = num(init, 'videoOutWidth', 1024, 16, 4096, true, 'px');
    this.videoOutHeight = num(init, 'videoOutHeight', 768, 16, 4096, true, 'px');
    this.videoOutFramerate = num(init, 'videoOutFramerate', 30, 1, 120, false, 'frames/s');
    this.videoOutBitrate = num(init, 'videoOutBitrate', 1_000_000, 50_000, 20_000_000, true, 'bit/s');
    this.vadAnalyzer = vad(init);
    Object.freeze(this);
  }

  /** Input sample rate to use: this one, else the pipeline's (from the StartFrame). */
  resolveAudioInSampleRate(pipelineRate: number): number {
    return this.audioInSampleRate ?? pipelineRate;
  }

  /** Output sample rate to use: this one, else the pipeline's (from the StartFrame). */
  resolveAudioOutSampleRate(pipelineRate: number): number {
    return this.audioOutSampleRate ?? pipelineRate;
  }

  /** A copy with some fields replaced (validated like the constructor). */
  with(changes: TransportParamsInit): TransportParams {
    const current: TransportParamsInit = {};
    for (const key of KNOWN_FIELDS) {
      const v = (this as unknown as Record<string, unknown>)[key];
      if (v !== undefined) (current as Record<string, unknown>)[key] = v;
    }
    return new TransportParams({ ...current, ...changes });
  }
}
