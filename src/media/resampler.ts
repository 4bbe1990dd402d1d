// Streaming resampler (speexdsp, via native/binding/resampler_wrap.cc) with exact output framing: every
// returned chunk holds exactly `frameSamples` samples per channel (never an empty or over-long one; what
// does not fill a frame waits in a small FIFO). Synchronous, JS thread.
import { native } from '../native/binding.js';
import type { NativeResampler } from '../native/types.js';
import { checkInt, checkInt16Array, checkOneOf, checkOptions, closedError, optInt } from './audio-args.js';

/** Default speexdsp quality: 4 (speexdsp's own default; ~10 us per 20 ms 48k->16k mono on this machine). */
export const DEFAULT_RESAMPLE_QUALITY = 4;

/** Options of {@link Resampler}. */
export interface ResamplerOptions {
  /** Input rate, Hz (1000..384000). */
  inRate: number;
  /** Output rate, Hz (1000..384000). */
  outRate: number;
  /** Input channels (1 or 2). Default 1. */
  inChannels?: 1 | 2;
  /** Output channels (1 or 2). Stereo->mono averages L and R; mono->stereo duplicates. Default inChannels. */
  outChannels?: 1 | 2;
  /** speexdsp quality 0..10. Default {@link DEFAULT_RESAMPLE_QUALITY}. */
  quality?: number;
  /** Output chunk size in samples per channel. Default 10 ms at outRate (rounded up). */
  frameSamples?: number;
}

/** Any rate to any rate, mono/stereo up- and down-mix, exact fixed-size output chunks. */
export class Resampler {
  #native: NativeResampler | null;
  /** Input rate, Hz. */
  readonly inRate: number;
  /** Output rate, Hz. */
  readonly outRate: number;
  /** Input channels. */
  readonly inChannels: 1 | 2;
  /** Output channels. */
  readonly outChannels: 1 | 2;
  /** Samples per channel in every returned chunk. */
  readonly frameSamples: number;

  /** @throws TypeError / RangeError (code ERR_INVALID_ARG) naming a bad option. */
  constructor(options: ResamplerOptions) {
    const o = checkOptions('options', options, false);
    this.inRate = checkInt('inRate', o.inRate, 1000, 384000);
    this.outRate = checkInt('outRate', o.outRate, 1000, 384000);
    this.inChannels =
      o.inChannels === undefined ? 1 : checkOneOf('inChannels', o.inChannels, [1, 2] as const);
    this.outChannels =
      o.outChannels === undefined
        ? this.inChannels
        : checkOneOf('outChannels', o.outChannels, [1, 2] as const);
    this.frameSamples = optInt(
      'frameSamples',
      o.frameSamples,
      1,
      this.outRate * 10,
      Math.ceil(this.outRate / 100),
    );
    this.#native = new (native().Resampler)({
      inRate: this.inRate,
      outRate: this.outRate,
      inChannels: this.inChannels,
      outChannels: this.outChannels,
      quality: optInt('quality', o.quality, 0, 10, DEFAULT_RESAMPLE_QUALITY),
      frameSamples: this.frameSamples,
    });
  }

  #n(): NativeResampler {
    if (this.#native === null) throw closedError('Resampler');
    return this.#native;
  }

  /**
   * Converts interleaved input (any length, a multiple of inChannels) and returns every complete output
   * chunk (each exactly frameSamples * outChannels samples); possibly none.
   */
  process(pcm: Int16Array): Int16Array[] {
    return this.#n().process(checkInt16Array('pcm', pcm));
  }

  /** Drains the filter and returns the rest as whole chunks (the last zero-padded); then starts afresh. */
  flush(): Int16Array[] {
    return this.#n().flush();
  }

  /** Filter delay in output samples. */
  get latencySamples(): number {
    return this.#n().latencySamples;
  }

  /** Output samples per channel waiting for a complete chunk. */
  get bufferedSamples(): number {
    return this.#n().bufferedSamples;
  }

  /** Drops filter memory and buffered output (after a discontinuity). */
  reset(): void {
    this.#n().reset();
  }

  /** Frees the resampler; idempotent. Other methods then throw ERR_CLOSED. */
  close(): void {
    this.#native?.close();
    this.#native = null;
  }
}
