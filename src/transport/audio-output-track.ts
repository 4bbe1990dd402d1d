import { performance } from 'node:perf_hooks';

import type { OutboundTrack, RtpSink } from '../connection/index.js';
import { AudioSender } from '../media/audio-sender.js';
import { logger } from '../pipeline/logger.js';
import { SmallWebRTCError } from '../errors.js';

/** Construction options of {@link AudioOutputTrack}. */
export interface AudioOutputTrackOptions {
  /** Rate of the PCM the bot writes, Hz. */
  sampleRate: number;
  /** Channels of the PCM the bot writes (1 or 2). */
  channels: 1 | 2;
  /** Opus bitrate, bit/s. */
  bitrate: number;
  /** Send encoded silence while nothing is queued (Pipecat's `audio_out_auto_silence`). */
  autoSilence: boolean;
  /** Bound of the native ring, ms. Writes wait for room beyond it. */
  capacityMs?: number;
  /**
   * Audio kept queued ahead of the encoder before a write resolves, ms (back-pressure as in Pipecat: about
   * 40 ms in flight). Two 20 ms frames, so a late pacer tick that sends two slots back to back never starves.
   */
  lookaheadMs?: number;
  /** Called (on the JS thread, from the pacer tick) when audio starts or stops going out on the wire. */
  onSpeaking?: (speaking: boolean) => void;
}

interface WriteWaiter {
  /** Played-out cursor (ms of real audio sent) at which this write counts as consumed. */
  readonly endMs: number;
  readonly resolve: () => void;
}

/**
 * One process-wide pacing timer for every bound track: a single 10 ms wakeup serves all sessions instead of
 * one timer each (per-session CPU is dominated by wakeups and packet handling, see DESIGN.md §5). Timing
 * precision does not matter for the stream: RTP timestamps come from sample counts in the native sender, and
 * its pull(now) sends every due slot (skipping slots after a long stall instead of bursting).
 */
class Pacer {
  static readonly INTERVAL_MS = 10;
  readonly #tracks = new Set<AudioOutputTrack>();
  #timer: NodeJS.Timeout | null = null;

  add(track: AudioOutputTrack): void {
    this.#tracks.add(track);
    if (this.#timer === null) {
      this.#timer = setInterval(() => this.#tick(), Pacer.INTERVAL_MS);
      // The connection keeps the process alive while a peer is up; the pacer alone must not.
      this.#timer.unref();
    }
  }

  delete(track: AudioOutputTrack): void {
    this.#tracks.delete(track);
    if (this.#tracks.size === 0 && this.#timer !== null) {
      clearInterval(this.#timer);
      this.#timer = null;
    }
  }

  #tick(): void {
    const now = performance.now();
    for (const track of this.#tracks) {
      try {
        track.tick(now);
      } catch (err) {
        logger().error('audio pacer: track tick failed', err);
      }
    }
  }
}

const pacer = new Pacer();

/**
 * The bot's outgoing audio: an {@link OutboundTrack} the connection binds to the sender of transceiver 0.
 *
 * PCM of any rate and chunking goes into the native {@link AudioSender} ring; the shared pacer pulls due
 * 20 ms Opus packets from it and hands them to the bound {@link RtpSink}. {@link AudioOutputTrack.write}
 * resolves when the written audio has been consumed (all but `lookaheadMs` of it sent), which gives the
 * output transport Pipecat's back-pressure; {@link AudioOutputTrack.clear} drops everything queued within
 * one packet. All methods run on the JS thread.
 */
export class AudioOutputTrack implements OutboundTrack {
  readonly kind = 'audio' as const;
  readonly #sender: AudioSender;
  readonly #channels: number;
  readonly #sampleRate: number;
  readonly #lookaheadMs: number;
  readonly #onSpeaking: ((speaking: boolean) => void) | undefined;
  #sink: RtpSink | null = null;
  #closed = false;
  /** Played-out cursor value that the audio written so far reaches, ms. */
  #writtenEndMs = 0;
  #waiters: WriteWaiter[] = [];
  /** Writers waiting for ring space: woken on every tick. */
  #spaceWaiters: Array<() => void> = [];
  #sendFailures = 0;
  /** Last state reported to `onSpeaking` (so an unbind mid-speech can report the stop). */
  #reportedSpeaking = false;

  constructor(options: AudioOutputTrackOptions) {
    this.#sampleRate = options.sampleRate;
    this.#channels = options.channels;
    this.#lookaheadMs = options.lookaheadMs ?? 40;
    this.#onSpeaking = options.onSpeaking;
    this.#sender = new AudioSender({
      sampleRate: options.sampleRate,
      channels: options.channels,
      // Real values arrive with bind(); until then nothing is sent.
      ssrc: 1,
      payloadType: 111,
      bitrate: options.bitrate,
      autoSilence: options.autoSilence,
      capacityMs: options.capacityMs ?? 1000,
    });
  }

  /** Rate of the PCM {@link AudioOutputTrack.write} takes, Hz. */
  get sampleRate(): number {
    return this.#sampleRate;
  }

  /** Channels of the PCM {@link AudioOutputTrack.write} takes. */
  get channels(): number {
    return this.#channels;
  }

  /** Whether a sender is bound (the peer is connected and we can send). */
  get bound(): boolean {
    return this.#sink !== null;
  }

  /** Audio queued in the native ring, ms. */
  get queuedMs(): number {
    return this.#sender.queuedMs;
  }

  /** Real (non-silence) audio sent so far, ms. */
  get playedOutMs(): number {
    return this.#sender.playedOutMs;
  }

  /** Whether audio is going out on the wire right now. */
  get speaking(): boolean {
    return this.#sender.speaking;
  }

  /** Native sender statistics (packets, silence, skipped slots...). */
  stats(): ReturnType<AudioSender['stats']> {
    return this.#sender.stats();
  }

  bind(sink: RtpSink): void {
    if (this.#closed) return;
    this.#sink = sink;
    this.#sender.setRtpParams({
      ssrc: sink.ssrc,
      payloadType: sink.payloadType,
      midExtension: sink.midExtensionId !== null ? { id: sink.midExtensionId, mid: sink.mid } : null,
    });
    pacer.add(this);
  }

  unbind(): void {
    this.#sink = null;
    pacer.delete(this);
    // Nobody will consume queued audio until a new sender binds: release the writers.
    this.#releaseAll();
    // The audio stopped going out on the wire. The sender reports no transition for that (it is no longer
    // pulled), so without this a peer going away (or a restart_pc) mid-speech would leave the bot speaking
    // forever as far as the output transport knows.
    if (this.#reportedSpeaking) this.#reportSpeaking(false);
  }

  /**
   * Queues interleaved PCM at the track's rate; resolves once it has been consumed by the encoder (all but
   * the lookahead sent), or dropped by {@link AudioOutputTrack.clear}/unbind/close. `signal` aborting ends the
   * wait early (the audio stays queued unless cleared).
   */
  async write(pcm: Int16Array, signal?: AbortSignal): Promise<void> {
    if (this.#closed) throw new SmallWebRTCError('ERR_CLOSED', 'audio output track is closed');
    if (!(pcm instanceof Int16Array)) throw new TypeError('pcm must be an Int16Array');
    if (pcm.length % this.#channels !== 0) {
      throw new RangeError(`pcm length ${pcm.length} is not a multiple of ${this.#channels} channels`);
    }
    let rest = pcm;
    while (rest.length > 0) {
      if (this.#sink === null || signal?.aborted || this.#closed) return;
      const accepted = this.#sender.write(rest);
      this.#writtenEndMs =
        Math.max(this.#writtenEndMs, this.#sender.playedOutMs) +
        (accepted / this.#channels / this.#sampleRate) * 1000;
      rest = rest.subarray(accepted);
      if (rest.length > 0) await this.#waitForSpace(signal);
    }
    const endMs = this.#writtenEndMs - this.#lookaheadMs;
    if (this.#consumed(endMs)) return;
    await new Promise<void>((resolve) => {
      const onAbort = (): void => this.#resolveWaiter(waiter);
      const waiter: WriteWaiter = {
        endMs,
        resolve: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      this.#waiters.push(waiter);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Drops all queued audio within one packet; returns the ms dropped. Pending writes resolve. */
  clear(): number {
    const dropped = this.#sender.clear();
    this.#writtenEndMs = this.#sender.playedOutMs;
    this.#releaseAll();
    return dropped;
  }

  /** Resolves once everything queued has gone out (or the track was unbound/closed). */
  async drain(signal?: AbortSignal): Promise<void> {
    while (this.#sink !== null && !this.#closed && this.#sender.queuedMs > 0 && !signal?.aborted) {
      await this.#waitForSpace(signal);
    }
  }

  /** Stops pacing and frees the native sender. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.unbind();
    this.#sender.close();
  }

  /** Pacer tick (JS thread): sends due packets, reports on-the-wire transitions, wakes writers. */
  tick(nowMs: number): void {
    const sink = this.#sink;
    if (sink === null || this.#closed) return;
    const packets = this.#sender.pull(nowMs);
    for (const packet of packets) {
      if (!sink.send(packet) && this.#sendFailures++ % 500 === 0) {
        logger().debug(`audio output: sender not ready (${this.#sendFailures} packet(s) not sent)`);
      }
    }
    for (const t of this.#sender.takeTransitions()) {
      // After an unbind reported a stop, the sender's own stop for that utterance is a duplicate.
      if (t.speaking !== this.#reportedSpeaking) this.#reportSpeaking(t.speaking);
    }
    // Rebound (same track on a restarted peer) while audio was still queued: the sender never stopped, so
    // no start transition will come; report the start that the unbind's stop calls for.
    if (this.#sender.speaking && !this.#reportedSpeaking) this.#reportSpeaking(true);
    if (this.#waiters.length > 0) {
      const still: WriteWaiter[] = [];
      for (const w of this.#waiters) {
        if (this.#consumed(w.endMs)) w.resolve();
        else still.push(w);
      }
      this.#waiters = still;
    }
    if (this.#spaceWaiters.length > 0) {
      const wake = this.#spaceWaiters;
      this.#spaceWaiters = [];
      for (const w of wake) w();
    }
  }

  #reportSpeaking(speaking: boolean): void {
    this.#reportedSpeaking = speaking;
    try {
      this.#onSpeaking?.(speaking);
    } catch (err) {
      // A throwing listener must not stop the pacer from waking this track's writers.
      logger().error('audio output: onSpeaking listener failed', err);
    }
  }

  #consumed(endMs: number): boolean {
    // An empty ring means everything written went out, whatever the resampler's few samples of latency.
    return this.#sender.playedOutMs >= endMs || this.#sender.queuedMs <= 0;
  }

  #resolveWaiter(waiter: WriteWaiter): void {
    const i = this.#waiters.indexOf(waiter);
    if (i >= 0) this.#waiters.splice(i, 1);
    waiter.resolve();
  }

  #waitForSpace(signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = (): void => {
        signal?.removeEventListener('abort', done);
        resolve();
      };
      this.#spaceWaiters.push(done);
      signal?.addEventListener('abort', done, { once: true });
    });
  }

  #releaseAll(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w.resolve();
    const space = this.#spaceWaiters;
    this.#spaceWaiters = [];
    for (const w of space) w();
  }
}
