// AudioSender: PCM in, paced Opus RTP out (native/core/audio/audio_sender via
// native/binding/audio_sender_wrap.cc). write() copies into a bounded native ring (resampled to 48 kHz on
// the way in); pull(now) encodes and packetizes the frames due on the caller's monotonic clock. RTP
// timestamps advance by sample counts only. JS thread. With `onPackets`, the encoding runs on the native
// worker pool instead (docs/native-workers.md) and the packets arrive through that callback.
import { randomInt } from 'node:crypto';
import { native } from '../native/binding.js';
import type {
  NativeAudioSender,
  NativeAudioSenderStats,
  NativeEncodedPackets,
  NativeQueueStats,
} from '../native/types.js';
import { getLogger } from '../logger.js';
import { TypedEmitter } from '../events.js';
import { SmallWebRTCTypeError } from '../errors.js';
import {
  checkInt,
  checkInt16Array,
  checkMid,
  checkNumber,
  checkOneOf,
  checkOptions,
  closedError,
  optBool,
  optInt,
  type MidExtension,
} from './audio-args.js';
import { DEFAULT_RESAMPLE_QUALITY } from './resampler.js';

export type { MidExtension } from './audio-args.js';

const MAX_PENDING_TRANSITIONS = 64;

/** Options of {@link AudioSender}. */
export interface AudioSenderOptions {
  /** Rate of the PCM given to write(), Hz (8000..192000). */
  sampleRate: number;
  /** Interleaved channels of the PCM given to write(). */
  channels: 1 | 2;
  /** RTP SSRC (the one announced in the answer's a=ssrc). */
  ssrc: number;
  /** Negotiated Opus payload type (111 Chrome, 96 aiortc). */
  payloadType: number;
  /** Opus bitrate, bit/s. Default 32000. */
  bitrate?: number;
  /** Opus complexity 0..10. Default 5. */
  complexity?: number;
  /** Opus in-band FEC (effective once packetLossPercent > 0). Default true. */
  fec?: boolean;
  /** Opus DTX: silent frames are not sent (the RTP timestamp still advances). Default false. */
  dtx?: boolean;
  /** Packet duration, ms: one packet per slot of this length. Default 20. */
  frameMs?: 10 | 20;
  /** Bound of the queued audio, ms; write() accepts only what fits. Default 2000. */
  capacityMs?: number;
  /** Send encoded silence when nothing is queued (true), or send nothing (false). Default true. */
  autoSilence?: boolean;
  /** Channels of the Opus stream (1 or 2). Default 1. */
  encodeChannels?: 1 | 2;
  /** sdes:mid one-byte header extension to add to every packet, or null. Default null. */
  midExtension?: MidExtension | null;
  /** Expected loss percent (0..100), tunes Opus FEC; update with {@link AudioSender.setPacketLossPercent}. */
  packetLossPercent?: number;
  /** speexdsp quality 0..10 for the input resampler. Default 4. */
  resampleQuality?: number;
  /**
   * RTP sequence number of the first packet (0..65535). Default: random (RFC 3550 section 5.1). Set it to
   * continue another sender's stream (the next number after its last packet).
   */
  initialSequence?: number;
  /** RTP timestamp of the first packet (0..2^32-1). Default: random. */
  initialTimestamp?: number;
  /**
   * Encode on the native worker pool instead of the JS thread. pull() then does only the slot bookkeeping
   * (speaking transitions are still reported synchronously) and returns `[]`; the due packets arrive here,
   * on the JS thread, in order, typically well under a millisecond later. A throwing callback is logged.
   */
  onPackets?: (packets: Uint8Array[], dueMs: number[]) => void;
  /**
   * Worker mode: bound of the encode queue in pull() batches (drop-oldest; a dropped batch is a pause on the
   * wire, with the RTP timestamp still advancing). Default 8 (about 160 ms of 20 ms slots).
   */
  workerQueueBatches?: number;
}

/** Counters of one bounded queue of the native worker facility (docs/native-workers.md). */
export type WorkerQueueStats = NativeQueueStats;

/** Queue counters of an {@link AudioSender} in worker mode. */
export interface AudioSenderWorkerStats {
  /** Encode batches (the slots of one pull()): drop-oldest, `workerQueueBatches` deep. */
  jobs: WorkerQueueStats;
  /** Packet batches on their way back to the JS thread. */
  results: WorkerQueueStats;
}

/** An on-the-wire speaking transition, produced by {@link AudioSender.pull}. */
export interface SpeakingTransition {
  /** true: the first packet carrying written audio went out; false: the first slot without any. */
  speaking: boolean;
  /** The slot's due time on the caller's clock, ms. */
  atMs: number;
  /** {@link AudioSender.playedOutMs} at that moment. */
  playedOutMs: number;
}

/** Send-path counters. */
export type AudioSenderStats = NativeAudioSenderStats;

/**
 * PCM (any rate, any write size) -> bounded ring -> 48 kHz Opus frames -> RTP packets, paced by pull().
 *
 * Pacing: call pull(performance.now()) every 10-20 ms; it returns one packet per frame slot that came due.
 * At most 3 slots per pull; after a stall the overdue slots go out 3 per pull until the stream is back on
 * its grid (`stats().lateSlots`), so a stall of the caller does not stay in the stream as added delay. Only a
 * stall of over a second skips the oldest slots (`skippedSlots`): no packet, no audio consumed, the RTP
 * timestamp still advances with consecutive sequence numbers, so the receiver sees a pause.
 * Marker bit: first packet, first packet after slots that sent nothing, first audio packet after silence.
 * Speaking transitions are delivered to {@link onSpeakingChanged} listeners synchronously inside pull().
 */
export class AudioSender {
  #native: NativeAudioSender | null;
  /** `speaking` transitions, not awaited: raised from pull() on the pacing path. */
  readonly #events = new TypedEmitter<{ speaking: [t: SpeakingTransition] }>('AudioSender');
  /**
   * Worker mode: the callback the native side holds weakly (a strong native reference would keep this
   * object alive forever if it were dropped without close()); this field keeps it alive exactly as long as
   * the sender.
   */
  #deliver: ((batch: NativeEncodedPackets) => void) | null = null;
  #pending: SpeakingTransition[] = [];
  /** Input rate, Hz. */
  readonly sampleRate: number;
  /** Input channels. */
  readonly channels: 1 | 2;
  /** Packet duration, ms. */
  readonly frameMs: 10 | 20;

  /** @throws TypeError / RangeError (code ERR_INVALID_ARG) naming a bad option. */
  constructor(options: AudioSenderOptions) {
    this.#events.register('speaking', { awaited: false });
    const o = checkOptions('options', options, false);
    this.sampleRate = checkInt('sampleRate', o.sampleRate, 8000, 192000);
    this.channels = checkOneOf('channels', o.channels, [1, 2] as const);
    this.frameMs = o.frameMs === undefined ? 20 : checkOneOf('frameMs', o.frameMs, [10, 20] as const);
    const onPackets = o.onPackets;
    if (onPackets !== undefined && typeof onPackets !== 'function') {
      throw new SmallWebRTCTypeError('ERR_INVALID_ARG', 'onPackets must be a function');
    }
    const workerQueueBatches = optInt('workerQueueBatches', o.workerQueueBatches, 1, 1000, 8);
    if (onPackets !== undefined) {
      this.#deliver = (batch: NativeEncodedPackets): void => {
        try {
          onPackets(batch.packets, batch.dueMs);
        } catch (err) {
          getLogger().error('AudioSender onPackets callback threw', err);
        }
      };
    }
    this.#native = new (native().AudioSender)({
      sampleRate: this.sampleRate,
      channels: this.channels,
      ssrc: checkInt('ssrc', o.ssrc, 0, 0xffffffff),
      payloadType: checkInt('payloadType', o.payloadType, 0, 127),
      bitrate: optInt('bitrate', o.bitrate, 6000, 510000, 32000),
      complexity: optInt('complexity', o.complexity, 0, 10, 5),
      fec: optBool('fec', o.fec, true),
      dtx: optBool('dtx', o.dtx, false),
      frameMs: this.frameMs,
      capacityMs: optInt('capacityMs', o.capacityMs, 20, 600000, 2000),
      autoSilence: optBool('autoSilence', o.autoSilence, true),
      encodeChannels:
        o.encodeChannels === undefined ? 1 : checkOneOf('encodeChannels', o.encodeChannels, [1, 2] as const),
      midExtension: checkMid('midExtension', o.midExtension),
      packetLossPercent: optInt('packetLossPercent', o.packetLossPercent, 0, 100, 0),
      resampleQuality: optInt('resampleQuality', o.resampleQuality, 0, 10, DEFAULT_RESAMPLE_QUALITY),
      // RFC 3550 section 5.1: random initial sequence number and timestamp.
      initialSequence: optInt('initialSequence', o.initialSequence, 0, 0xffff, randomInt(0, 0x10000)),
      initialTimestamp: optInt(
        'initialTimestamp',
        o.initialTimestamp,
        0,
        0xffffffff,
        randomInt(0, 0x100000000 - 1),
      ),
      ...(this.#deliver !== null ? { onPackets: this.#deliver, workerQueueBatches } : {}),
    });
  }

  /** Whether encoding runs on the native worker pool (constructed with `onPackets`). */
  get encodesOnWorker(): boolean {
    return this.#deliver !== null;
  }

  /**
   * True when no batch is waiting, encoding or on its way back to `onPackets` (always true inline): what a
   * caller checks before replacing this sender, so the end of the stream is not dropped by close().
   */
  get workerIdle(): boolean {
    const w = this.#n().workerStats();
    if (w === null) return true;
    const j = w.jobs;
    return j.depth === 0 && j.completed + j.dropped + j.cancelled === j.queued && w.results.depth === 0;
  }

  #n(): NativeAudioSender {
    if (this.#native === null) throw closedError('AudioSender');
    return this.#native;
  }

  /**
   * Queues interleaved PCM (length a multiple of channels). Returns how many interleaved samples were
   * accepted: fewer than given when the ring (capacityMs) is full; the caller retries the rest later.
   */
  write(pcm: Int16Array): number {
    return this.#n().write(checkInt16Array('pcm', pcm));
  }

  /**
   * Returns the RTP packets due at `nowMs` (monotonic ms), then notifies speaking transitions. In worker
   * mode it returns `[]` and the packets go to `onPackets`.
   */
  pull(nowMs: number): Uint8Array[] {
    const n = this.#n();
    const packets = n.pull(checkNumber('nowMs', nowMs, -1e15, 1e15));
    const transitions = n.lastTransitions();
    if (transitions !== null) {
      for (const t of transitions) {
        // Bounded: a caller that never takes them keeps only the latest MAX_PENDING_TRANSITIONS.
        if (this.#pending.length >= MAX_PENDING_TRANSITIONS) this.#pending.shift();
        this.#pending.push(t);
        void this.#events.emit('speaking', t);
      }
    }
    return packets;
  }

  /**
   * Returns (and forgets) the speaking transitions produced by pull() since the last call, oldest first
   * (at most the latest 64). An alternative to {@link onSpeakingChanged} for pacer loops.
   */
  takeTransitions(): SpeakingTransition[] {
    if (this.#pending.length === 0) return [];
    const out = this.#pending;
    this.#pending = [];
    return out;
  }

  /**
   * Subscribes to on-the-wire speaking transitions (started: first packet with audio; stopped: first slot
   * without). Called synchronously from pull(); a throwing listener is logged and ignored. Returns an
   * unsubscribe function.
   */
  onSpeakingChanged(cb: (t: SpeakingTransition) => void): () => void {
    this.#events.on('speaking', cb);
    let subscribed = true;
    return () => {
      if (subscribed) this.#events.off('speaking', cb);
      subscribed = false;
    };
  }

  /**
   * Barge-in: drops the queued audio and returns how many ms were dropped. The next 10 ms are kept and
   * faded out to zero (a hard cut clicks), so the next packet ends the speech and the one after is silent:
   * effective within one packet. queuedMs is 10 right after, playedOutMs keeps counting what was sent.
   */
  clear(): number {
    return this.#n().clear();
  }

  /** Changes SSRC, payload type and/or the mid extension (e.g. after a reconnect); omitted fields stay. */
  setRtpParams(p: { ssrc?: number; payloadType?: number; midExtension?: MidExtension | null }): void {
    const o = checkOptions('params', p, false);
    const next: { ssrc?: number; payloadType?: number; midExtension?: MidExtension | null } = {};
    if (o.ssrc !== undefined) next.ssrc = checkInt('ssrc', o.ssrc, 0, 0xffffffff);
    if (o.payloadType !== undefined) next.payloadType = checkInt('payloadType', o.payloadType, 0, 127);
    if (o.midExtension !== undefined) next.midExtension = checkMid('midExtension', o.midExtension);
    this.#n().setRtpParams(next);
  }

  /** Updates the Opus loss hint (percent), e.g. from RTCP receiver reports' fraction lost. */
  setPacketLossPercent(percent: number): void {
    this.#n().setPacketLossPercent(checkInt('packetLossPercent', percent, 0, 100));
  }

  /** Changes the Opus bitrate, bit/s. */
  setBitrate(bitrate: number): void {
    this.#n().setBitrate(checkInt('bitrate', bitrate, 6000, 510000));
  }

  /** Queued audio not yet sent, ms. */
  get queuedMs(): number {
    return this.#n().queuedMs;
  }

  /** Written (non-silence) audio already sent on the wire, ms: the played-out cursor. */
  get playedOutMs(): number {
    return this.#n().playedOutMs;
  }

  /** Whether the last slot sent written audio (on-the-wire state). */
  get speaking(): boolean {
    return this.#n().speaking;
  }

  /** Counters. */
  stats(): AudioSenderStats {
    return this.#n().stats();
  }

  /** Worker mode: counters of the encode queue and of the result queue; null when encoding inline. */
  workerStats(): AudioSenderWorkerStats | null {
    return this.#n().workerStats();
  }

  /**
   * Frees the native state and drops listeners; idempotent. Other methods then throw ERR_CLOSED. In worker
   * mode, queued batches are cancelled and no onPackets call happens after close().
   */
  close(): void {
    this.#native?.close();
    this.#native = null;
    this.#deliver = null;
    this.#events.removeAllHandlers();
  }
}
