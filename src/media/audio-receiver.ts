// AudioReceiver: Opus RTP in, exact PCM frames out (native/core/audio/audio_receiver via
// native/binding/audio_receiver_wrap.cc). One synchronous native call per packet; all per-packet work
// (RTP parse, jitter buffer, Opus decode / FEC / PLC, resampling, framing) happens in C++. JS thread.
import { native } from '../native/binding.js';
import type { NativeAudioFrame, NativeAudioReceiver, NativeAudioReceiverStats } from '../native/types.js';
import {
  checkBytes,
  checkInt,
  checkNumber,
  checkOneOf,
  checkOptions,
  closedError,
  optBool,
  optInt,
  optNumber,
} from './audio-args.js';
import { SmallWebRTCRangeError } from '../errors.js';
import { DEFAULT_RESAMPLE_QUALITY } from './resampler.js';

/** Frames one push()/poll() can hand over through the shared output buffer (more take a slower path). */
const OUTPUT_FRAMES = 64;

/** A frame of interleaved 16-bit PCM. Audio frames are whole multiples of 10 ms. */
export interface AudioFrame {
  /** Interleaved samples: numFrames * numChannels. */
  audio: Int16Array;
  /** Hz. */
  sampleRate: number;
  /** 1 or 2. */
  numChannels: number;
  /** Samples per channel (sampleRate * frameMs / 1000). */
  numFrames: number;
  /**
   * Media time of the first sample, ms: frames emitted by this receiver before this one times frameMs.
   * The output timeline is continuous (concealment and DTX silence included), across SSRC changes too.
   */
  pts: number;
  /** True when any sample was synthesized for a lost or overdue packet (PLC or FEC). */
  concealed: boolean;
}

/** Options of {@link AudioReceiver}. */
export interface AudioReceiverOptions {
  /** Output rate, Hz (8000..192000, e.g. 8000, 16000, 24000, 44100, 48000). */
  sampleRate: number;
  /** Output channels (a stereo stream is down-mixed for 1, a mono stream duplicated for 2). */
  channels: 1 | 2;
  /** Frame duration, ms. Default 20. */
  frameMs?: 10 | 20;
  /** Accept only this RTP payload type (others are counted and ignored). Default: any. */
  payloadType?: number;
  /**
   * Lower bound of the loss deadline after a packet's expected arrival, ms. Default 20. Only gaps wait for
   * it: in-order packets are released on arrival whatever this is.
   */
  minDelayMs?: number;
  /** Upper bound of that deadline, ms. Default 200. */
  maxDelayMs?: number;
  /** Longest concealment run while no packet arrives (mute, stall), ms; then output pauses. Default 1000. */
  maxConcealMs?: number;
  /** speexdsp quality 0..10 when resampling. Default 4. */
  resampleQuality?: number;
  /** Decode straight at 8/12/16/24/48 kHz (no resampler) when sampleRate is one of them. Default true. */
  decodeAtTargetRate?: boolean;
}

/** Receive-path counters. */
export type AudioReceiverStats = NativeAudioReceiverStats;

/**
 * RTP (Opus) -> adaptive jitter buffer -> decode / FEC / PLC -> resample -> exact frames.
 *
 * In-order packets are decoded the moment they arrive (no prefetch: ~0 ms added on a clean link). A gap is
 * awaited until an adaptive deadline, then concealed (FEC from the next packet when it has it, else PLC);
 * call {@link poll} every 10-20 ms so concealment (and DTX comfort noise) is emitted in real time even while
 * no packet arrives. Timestamps are the caller's monotonic milliseconds (performance.now()).
 */
export class AudioReceiver {
  #native: NativeAudioReceiver | null;
  // Output buffers the native side fills (frames of one call, and a concealed flag per frame): building the
  // frame objects here in JS is cheaper than creating them through N-API. Sized for OUTPUT_FRAMES frames;
  // a call that yields more (a long gap filled at once) gets its frames as objects from the native side.
  readonly #out: Int16Array;
  readonly #flags: Uint8Array;
  readonly #frameLen: number;
  readonly #numFrames: number;
  #pts = 0;
  /** Output rate, Hz. */
  readonly sampleRate: number;
  /** Output channels. */
  readonly channels: 1 | 2;
  /** Frame duration, ms. */
  readonly frameMs: 10 | 20;

  /** @throws TypeError / RangeError (code ERR_INVALID_ARG) naming a bad option. */
  constructor(options: AudioReceiverOptions) {
    const o = checkOptions('options', options, false);
    this.sampleRate = checkInt('sampleRate', o.sampleRate, 8000, 192000);
    this.channels = checkOneOf('channels', o.channels, [1, 2] as const);
    this.frameMs = o.frameMs === undefined ? 20 : checkOneOf('frameMs', o.frameMs, [10, 20] as const);
    if ((this.sampleRate * this.frameMs) % 1000 !== 0) {
      throw new SmallWebRTCRangeError(
        'ERR_INVALID_ARG',
        `sampleRate ${this.sampleRate} does not give whole ${this.frameMs} ms frames`,
      );
    }
    const minDelayMs = optNumber('minDelayMs', o.minDelayMs, 0, 10000, 20);
    const maxDelayMs = optNumber('maxDelayMs', o.maxDelayMs, 0, 10000, Math.max(200, minDelayMs));
    if (minDelayMs > maxDelayMs) {
      throw new SmallWebRTCRangeError(
        'ERR_INVALID_ARG',
        `minDelayMs (${minDelayMs}) must be <= maxDelayMs (${maxDelayMs})`,
      );
    }
    this.#native = new (native().AudioReceiver)({
      sampleRate: this.sampleRate,
      channels: this.channels,
      frameMs: this.frameMs,
      payloadType: optInt('payloadType', o.payloadType, 0, 127, -1),
      minDelayMs,
      maxDelayMs,
      maxConcealMs: optNumber('maxConcealMs', o.maxConcealMs, 20, 60000, 1000),
      resampleQuality: optInt('resampleQuality', o.resampleQuality, 0, 10, DEFAULT_RESAMPLE_QUALITY),
      decodeAtTargetRate: optBool('decodeAtTargetRate', o.decodeAtTargetRate, true),
    });
    this.#numFrames = (this.sampleRate * this.frameMs) / 1000;
    this.#frameLen = this.#numFrames * this.channels;
    this.#out = new Int16Array(OUTPUT_FRAMES * this.#frameLen);
    this.#flags = new Uint8Array(OUTPUT_FRAMES);
    this.#native.setOutput(this.#out, this.#flags);
  }

  #frames(result: number | NativeAudioFrame[]): AudioFrame[] {
    if (typeof result !== 'number') {
      this.#pts += result.length * this.frameMs;
      return result;
    }
    const frames: AudioFrame[] = [];
    const len = this.#frameLen;
    for (let i = 0; i < result; i++) {
      frames.push({
        audio: this.#out.slice(i * len, (i + 1) * len),
        sampleRate: this.sampleRate,
        numChannels: this.channels,
        numFrames: this.#numFrames,
        pts: this.#pts,
        concealed: this.#flags[i] === 1,
      });
      this.#pts += this.frameMs;
    }
    return frames;
  }

  #n(): NativeAudioReceiver {
    if (this.#native === null) throw closedError('AudioReceiver');
    return this.#native;
  }

  /**
   * Feeds one RTP packet (with its arrival time, ms) and returns the whole frames it completed: usually
   * one per 20 ms of audio, none while a gap is awaited, several when a gap is resolved. Malformed packets
   * are counted in stats().invalid and yield no frames (never a throw: the network is untrusted).
   * @throws TypeError when `packet` is not a Uint8Array or `arrivalMs` not a finite number.
   */
  push(packet: Uint8Array, arrivalMs: number): AudioFrame[] {
    const n = this.#n();
    return this.#frames(
      n.push(checkBytes('packet', packet), checkNumber('arrivalMs', arrivalMs, -1e15, 1e15)),
    );
  }

  /** Emits the concealment due at `nowMs` (loss deadlines passed, or DTX with nothing arriving). */
  poll(nowMs: number): AudioFrame[] {
    return this.#frames(this.#n().poll(checkNumber('nowMs', nowMs, -1e15, 1e15)));
  }

  /** When {@link poll} would next produce output (ms, caller clock); Infinity when nothing is pending. */
  nextDeadlineMs(): number {
    return this.#n().nextDeadlineMs();
  }

  /** Counters and the current adaptive delay. */
  stats(): AudioReceiverStats {
    return this.#n().stats();
  }

  /** Forgets the stream and any partial frame (e.g. after a renegotiation); counters are kept. */
  reset(): void {
    this.#n().reset();
  }

  /** Frees the native state; idempotent. Other methods then throw ERR_CLOSED. */
  close(): void {
    this.#native?.close();
    this.#native = null;
  }
}
