// Opus encoder and decoder (libopus, via native/binding/opus_wrap.cc). Synchronous, JS thread; each call
// costs tens of microseconds (see bench/micro). Used directly for tests, tools and custom pipelines; the
// media path uses AudioReceiver / AudioSender, which own their codecs natively.
import { native } from '../native/binding.js';
import type { NativeOpusDecoder, NativeOpusEncoder } from '../native/types.js';
import {
  checkBytes,
  checkInt,
  checkInt16Array,
  checkOneOf,
  checkOptions,
  closedError,
  optBool,
  optInt,
} from './audio-args.js';

/** Sample rates libopus encodes and decodes at directly (Hz). */
export const OPUS_SAMPLE_RATES = [8000, 12000, 16000, 24000, 48000] as const;

/** A rate libopus works at natively. */
export type OpusSampleRate = (typeof OPUS_SAMPLE_RATES)[number];

/** Options of {@link OpusEncoder}. */
export interface OpusEncoderOptions {
  /** Input rate in Hz (8000/12000/16000/24000/48000). Default 48000. */
  sampleRate?: OpusSampleRate;
  /** 1 or 2 interleaved input channels. Default 1. */
  channels?: 1 | 2;
  /** Target bitrate, bit/s (6000..510000). Default 32000. */
  bitrate?: number;
  /** 0 (fastest) .. 10 (best). Default 5. */
  complexity?: number;
  /** In-band FEC (LBRR); libopus only spends bits on it when `packetLossPercent` > 0. Default true. */
  fec?: boolean;
  /** Discontinuous transmission: silence encodes to 1-2 byte packets that are not meant to be sent. */
  dtx?: boolean;
  /** Expected loss, percent (0..100): tunes FEC. Default 0. */
  packetLossPercent?: number;
  /** Frame duration, ms. Default 20. */
  frameMs?: 10 | 20 | 40 | 60;
}

/** Opus encoder in VOIP mode: one call per frame of exactly {@link OpusEncoder.frameSamples} samples. */
export class OpusEncoder {
  #native: NativeOpusEncoder | null;
  /** Input rate, Hz. */
  readonly sampleRate: OpusSampleRate;
  /** Interleaved input channels. */
  readonly channels: 1 | 2;

  /** @throws TypeError / RangeError (code ERR_INVALID_ARG) naming a bad option. */
  constructor(options: OpusEncoderOptions = {}) {
    const o = checkOptions('options', options, true);
    this.sampleRate =
      o.sampleRate === undefined ? 48000 : checkOneOf('sampleRate', o.sampleRate, OPUS_SAMPLE_RATES);
    this.channels = o.channels === undefined ? 1 : checkOneOf('channels', o.channels, [1, 2] as const);
    this.#native = new (native().OpusEncoder)({
      sampleRate: this.sampleRate,
      channels: this.channels,
      bitrate: optInt('bitrate', o.bitrate, 6000, 510000, 32000),
      complexity: optInt('complexity', o.complexity, 0, 10, 5),
      fec: optBool('fec', o.fec, true),
      dtx: optBool('dtx', o.dtx, false),
      packetLossPercent: optInt('packetLossPercent', o.packetLossPercent, 0, 100, 0),
      frameMs: o.frameMs === undefined ? 20 : checkOneOf('frameMs', o.frameMs, [10, 20, 40, 60] as const),
    });
  }

  #n(): NativeOpusEncoder {
    if (this.#native === null) throw closedError('OpusEncoder');
    return this.#native;
  }

  /** Samples per channel one {@link encode} call takes (sampleRate * frameMs / 1000). */
  get frameSamples(): number {
    return this.#n().frameSamples;
  }

  /** Encodes exactly `frameSamples * channels` interleaved samples into one Opus packet. */
  encode(pcm: Int16Array): Uint8Array {
    return this.#n().encode(checkInt16Array('pcm', pcm));
  }

  /** Changes the target bitrate (bit/s). */
  setBitrate(bitrate: number): void {
    this.#n().setBitrate(checkInt('bitrate', bitrate, 6000, 510000));
  }

  /** Updates the expected-loss hint (percent), e.g. from RTCP receiver reports. */
  setPacketLossPercent(percent: number): void {
    this.#n().setPacketLossPercent(checkInt('packetLossPercent', percent, 0, 100));
  }

  /** Forgets the encoder's history. */
  reset(): void {
    this.#n().reset();
  }

  /** Frees the encoder; idempotent. Other methods then throw ERR_CLOSED. */
  close(): void {
    this.#native?.close();
    this.#native = null;
  }
}

/** Options of {@link OpusDecoder}. */
export interface OpusDecoderOptions {
  /** Output rate in Hz (8000/12000/16000/24000/48000). Default 48000. */
  sampleRate?: OpusSampleRate;
  /** Output channels 1..8 (libopus mixes mono/stereo streams; channel i gets decoded channel i % 2). */
  channels?: number;
}

/** Opus decoder: decode, in-band FEC recovery and packet loss concealment. */
export class OpusDecoder {
  #native: NativeOpusDecoder | null;
  /** Output rate, Hz. */
  readonly sampleRate: OpusSampleRate;
  /** Interleaved output channels. */
  readonly channels: number;

  /** @throws TypeError / RangeError (code ERR_INVALID_ARG) naming a bad option. */
  constructor(options: OpusDecoderOptions = {}) {
    const o = checkOptions('options', options, true);
    this.sampleRate =
      o.sampleRate === undefined ? 48000 : checkOneOf('sampleRate', o.sampleRate, OPUS_SAMPLE_RATES);
    this.channels = optInt('channels', o.channels, 1, 8, 1);
    this.#native = new (native().OpusDecoder)({ sampleRate: this.sampleRate, channels: this.channels });
  }

  #n(): NativeOpusDecoder {
    if (this.#native === null) throw closedError('OpusDecoder');
    return this.#native;
  }

  /** Decodes one packet (2.5-120 ms) to interleaved PCM. @throws RangeError for a malformed packet. */
  decode(packet: Uint8Array): Int16Array {
    return this.#n().decode(checkBytes('packet', packet));
  }

  /**
   * Recovers the packet before `packet` from its in-band FEC: `samples` per channel (a multiple of 2.5 ms,
   * normally the lost packet's duration); libopus conceals what the FEC does not cover.
   */
  decodeFec(packet: Uint8Array, samples: number): Int16Array {
    return this.#n().decodeFec(checkBytes('packet', packet), checkInt('samples', samples, 1, 5760));
  }

  /** Packet loss concealment for `samples` per channel (a multiple of 2.5 ms). */
  conceal(samples: number): Int16Array {
    return this.#n().conceal(checkInt('samples', samples, 1, 5760));
  }

  /** Forgets the stream state (e.g. on an SSRC change). */
  reset(): void {
    this.#n().reset();
  }

  /** Frees the decoder; idempotent. Other methods then throw ERR_CLOSED. */
  close(): void {
    this.#native?.close();
    this.#native = null;
  }
}

/** What {@link opusPacketInfo} reports about one Opus packet. */
export interface OpusPacketInfo {
  /** Duration in samples at 48 kHz (120..5760). */
  samples48k: number;
  /** Duration of each frame inside the packet, samples at 48 kHz. */
  frameSamples48k: number;
  /** Whether the packet carries in-band FEC (LBRR) for its predecessor. */
  hasFec: boolean;
}

/** Reads an Opus packet's TOC. @throws RangeError (ERR_INVALID_ARG) when it is not a valid Opus packet. */
export function opusPacketInfo(packet: Uint8Array): OpusPacketInfo {
  return native().opusPacketInfo(checkBytes('packet', packet));
}
