import type { OutboundTrack, RtpSink } from '../../connection/index.js';
import { AudioSender, type AudioSenderStats } from '../../media/audio-sender.js';
import { checkInt, checkOneOf } from '../../media/audio-args.js';
import { logger } from '../../pipeline/logger.js';
import { SmallWebRTCError, SmallWebRTCRangeError, SmallWebRTCTypeError } from '../../errors.js';
import { mediaClock, type MediaClockClient } from './media-clock.js';

/** Construction options of {@link AudioOutputTrack}. */
export interface AudioOutputTrackOptions {
  /** Rate of the PCM the bot writes, Hz, until {@link AudioOutputTrack.setFormat} changes it. */
  sampleRate: number;
  /** Channels of the PCM the bot writes (1 or 2), until {@link AudioOutputTrack.setFormat} changes it. */
  channels: 1 | 2;
  /** Opus bitrate, bit/s. */
  bitrate: number;
  /** Send encoded silence while nothing is queued (Pipecat's `audio_out_auto_silence`). */
  autoSilence: boolean;
  /** Opus DTX: silence is not sent once the encoder enters DTX (the RTP timestamp still advances). Default false. */
  dtx?: boolean;
  /** Bound of the native ring, ms. Writes wait for room beyond it. */
  capacityMs?: number;
  /**
   * Audio kept queued ahead of the encoder before a write resolves, ms (back-pressure as in Pipecat: about
   * 40 ms in flight). Two 20 ms frames, so a late clock tick that sends two slots back to back never starves.
   */
  lookaheadMs?: number;
  /** Called (on the JS thread, from the media clock's tick) when audio starts or stops going out on the wire. */
  onSpeaking?: (speaking: boolean) => void;
  /**
   * Delay the pacer's stalls may add to a live stream before its oldest audio is dropped, ms (default
   * {@link DEFAULT_MAX_STALL_DELAY_MS}). The sender catches a stall of the JS thread up by sending the late
   * packets in the next ticks, but one longer than its catch-up window (1 s) makes it skip the oldest slots,
   * so the audio meant for them goes out later: such a stall delays whatever is queued by its excess. For
   * audio produced in real time (an echo, a speech-to-speech model, any bot that passes the user's audio on)
   * nothing ever takes that delay back, and the input side catches up at once (its frames for the stalled
   * time arrive in a burst), so without a bound the delay grows with every such stall for as long as the
   * stream goes on. Up to this much of added delay is
   * kept (nothing dropped for short stalls); beyond it, audio written after the stall is dropped oldest-first
   * until the added delay is back at the bound (counted: {@link AudioOutputTrack.stallStats}). The added delay
   * is forgotten once the track goes idle (nothing queued, no write waiting): a bot's next utterance starts
   * with the full bound. `Infinity`: never drop (stalls delay the rest of the stream).
   */
  maxStallDelayMs?: number;
  /**
   * Run the Opus encoder on the native worker pool (docs/native-workers.md) instead of the JS thread: the
   * pacer tick only takes the due frames and the packets are sent when the worker hands them back (well
   * under a millisecond later). Default true.
   */
  encodeOnWorker?: boolean;
}

/** Default {@link AudioOutputTrackOptions.maxStallDelayMs}: a voice bot keeps its echo and replies prompt. */
export const DEFAULT_MAX_STALL_DELAY_MS = 100;

/** What the pacer's stalls did to the bot's audio (see {@link AudioOutputTrackOptions.maxStallDelayMs}). */
export interface AudioStallStats {
  /** Send slots skipped while audio was queued (the JS thread was late), ms. */
  skippedMs: number;
  /** Delay the stalls add to the stream now (at most `maxStallDelayMs`; 0 once the track went idle), ms. */
  addedDelayMs: number;
  /** Stale audio dropped (oldest first) to keep the added delay at the bound, ms. */
  droppedMs: number;
  /** Writes that had audio dropped. */
  droppedWrites: number;
}

interface WriteWaiter {
  /** Played-out cursor (ms of real audio sent) at which this write counts as consumed. */
  readonly endMs: number;
  readonly resolve: () => void;
}

/** The counters of {@link AudioSenderStats} (summed across the senders a track replaced). */
const COUNTERS = [
  'packetsSent',
  'audioPackets',
  'silencePackets',
  'dtxSlots',
  'skippedSlots',
  'lateSlots',
  'droppedOnWriteSamples',
  'encodeErrors',
] as const satisfies ReadonlyArray<keyof AudioSenderStats>;

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The SSRC field of an RTP packet (bytes 8..11, big-endian); the caller checked the length. */
function ssrcOf(packet: Uint8Array): number {
  return ((packet[8]! << 24) | (packet[9]! << 16) | (packet[10]! << 8) | packet[11]!) >>> 0;
}

/**
 * The bot's outgoing audio: an {@link OutboundTrack} the connection binds to the sender of transceiver 0.
 *
 * PCM of any rate and chunking goes into the native {@link AudioSender} ring, which resamples it to 48 kHz
 * once on the way in (the only resampling on the send path); the process-wide {@link mediaClock} pulls due
 * 20 ms Opus packets from it and hands them to the bound {@link RtpSink}. {@link AudioOutputTrack.write}
 * resolves when the written audio has been consumed (all but `lookaheadMs` of it sent), which gives the
 * output transport Pipecat's back-pressure; {@link AudioOutputTrack.clear} drops everything queued within
 * one packet. {@link AudioOutputTrack.setFormat} follows the bot's PCM format (a TTS at 16 kHz, a sound at
 * 44.1 kHz) without resampling in JS. All methods run on the JS thread.
 */
export class AudioOutputTrack implements OutboundTrack, MediaClockClient {
  readonly kind = 'audio' as const;
  readonly #options: AudioOutputTrackOptions;
  #sender: AudioSender;
  #channels: 1 | 2;
  #sampleRate: number;
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
  /** Played-out audio and counters of the senders replaced by format changes. */
  #playedBaseMs = 0;
  #statsBase: AudioSenderStats | null = null;
  #formatChanges = 0;
  readonly #maxStallDelayMs: number;
  /** `performance.now()` of the previous pull (a gap of 3 slots or more may have made the sender skip). */
  #lastPullMs = Infinity;
  /** The senders' skipped-slot count when last looked at. */
  #skippedSeen = 0;
  /** Stale audio still to drop from what is written next, ms. */
  #staleDebtMs = 0;
  readonly #stall: AudioStallStats = { skippedMs: 0, addedDelayMs: 0, droppedMs: 0, droppedWrites: 0 };

  constructor(options: AudioOutputTrackOptions) {
    this.#options = options;
    this.#sampleRate = options.sampleRate;
    this.#channels = options.channels;
    this.#lookaheadMs = options.lookaheadMs ?? 40;
    this.#onSpeaking = options.onSpeaking;
    const maxStall = options.maxStallDelayMs ?? DEFAULT_MAX_STALL_DELAY_MS;
    if (typeof maxStall !== 'number' || Number.isNaN(maxStall) || maxStall < 0) {
      throw new SmallWebRTCRangeError('ERR_INVALID_ARG', 'maxStallDelayMs must be a number >= 0');
    }
    this.#maxStallDelayMs = maxStall;
    this.#sender = this.#createSender(null);
  }

  /** What the pacer's stalls did to this track's audio (a copy). */
  get stallStats(): AudioStallStats {
    return { ...this.#stall };
  }

  /** Whether this track's Opus encoding runs on the native worker pool. */
  get encodesOnWorker(): boolean {
    return this.#sender.encodesOnWorker;
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
    return this.#playedBaseMs + this.#sender.playedOutMs;
  }

  /** Whether audio is going out on the wire right now. */
  get speaking(): boolean {
    return this.#sender.speaking;
  }

  /** How often {@link AudioOutputTrack.setFormat} replaced the encoder for a new input format. */
  get formatChanges(): number {
    return this.#formatChanges;
  }

  /**
   * Native sender statistics: the counters summed over format changes, `nextSequence`/`nextTimestamp` of
   * the current sender (which continues the stream).
   */
  stats(): AudioSenderStats {
    const now = this.#sender.stats();
    const base = this.#statsBase;
    if (base === null) return now;
    const sum = { ...now };
    for (const k of COUNTERS) sum[k] = now[k] + base[k];
    return sum;
  }

  bind(sink: RtpSink): void {
    if (this.#closed) return;
    this.#sink = sink;
    this.#applySink();
    mediaClock.add(this);
  }

  unbind(): void {
    this.#sink = null;
    mediaClock.delete(this);
    // Nobody will consume queued audio until a new sender binds: release the writers.
    this.#releaseAll();
    // The audio stopped going out on the wire. The sender reports no transition for that (it is no longer
    // pulled), so without this a peer going away (or a restart_pc) mid-speech would leave the bot speaking
    // forever as far as the output transport knows.
    if (this.#reportedSpeaking) this.#reportSpeaking(false);
  }

  /**
   * Makes {@link AudioOutputTrack.write} take PCM at `sampleRate`/`channels` from now on. The audio already
   * queued was written at the old format, so this first waits until it has gone out (or `signal` aborts, or
   * the track is unbound: then the rest is dropped), then replaces the native encoder. The RTP stream goes
   * on (same SSRC, the next sequence number and slot timestamp), so the peer sees one stream; only the Opus
   * encoder restarts, at a point where nothing was queued. A no-op when the format is already the current
   * one.
   * @throws RangeError (ERR_INVALID_ARG) for a rate outside 8000..192000 Hz or channels other than 1 or 2;
   *   SmallWebRTCError (ERR_CLOSED) once closed.
   */
  async setFormat(sampleRate: number, channels: 1 | 2, signal?: AbortSignal): Promise<void> {
    checkInt('sampleRate', sampleRate, 8000, 192000);
    checkOneOf('channels', channels, [1, 2] as const);
    if (this.#closed) throw new SmallWebRTCError('ERR_CLOSED', 'audio output track is closed');
    if (sampleRate === this.#sampleRate && channels === this.#channels) return;
    await this.drain(signal);
    // Worker mode: the last batches may still be encoding or on their way back; closing the old sender
    // would drop them (the end of what was said before the change).
    for (let i = 0; i < 40 && !this.#sender.workerIdle && !signal?.aborted; i++) await sleep(5);
    if (this.#closed || (sampleRate === this.#sampleRate && channels === this.#channels)) return;
    // Writers still waiting were counted on the old sender's cursor: release them (their audio is out, or
    // was dropped by the interruption/unbind that ended the wait).
    this.#releaseAll();
    const old = this.#sender;
    const stats = this.stats();
    this.#playedBaseMs += old.playedOutMs;
    this.#sampleRate = sampleRate;
    this.#channels = channels;
    // The old sender was pulled on every tick while bound, so its next sequence number (SRTP drops a
    // repeated one as a replay) and next slot's timestamp are where the stream goes on.
    this.#sender = this.#createSender({
      initialSequence: stats.nextSequence,
      initialTimestamp: stats.nextTimestamp,
    });
    this.#statsBase = stats;
    old.close();
    this.#applySink();
    this.#writtenEndMs = this.playedOutMs;
    this.#formatChanges++;
  }

  /**
   * Queues interleaved PCM at the track's format; resolves once it has been consumed by the encoder (all but
   * the lookahead sent), or dropped by {@link AudioOutputTrack.clear}/unbind/close. `signal` aborting ends the
   * wait early (the audio stays queued unless cleared).
   */
  async write(pcm: Int16Array, signal?: AbortSignal): Promise<void> {
    if (this.#closed) throw new SmallWebRTCError('ERR_CLOSED', 'audio output track is closed');
    if (!(pcm instanceof Int16Array)) {
      throw new SmallWebRTCTypeError('ERR_INVALID_ARG', 'pcm must be an Int16Array');
    }
    if (pcm.length % this.#channels !== 0) {
      throw new SmallWebRTCRangeError(
        'ERR_INVALID_ARG',
        `pcm length ${pcm.length} is not a multiple of ${this.#channels} channels`,
      );
    }
    let rest = this.#dropStale(pcm);
    while (rest.length > 0) {
      if (this.#sink === null || signal?.aborted || this.#closed) return;
      const accepted = this.#sender.write(rest);
      this.#writtenEndMs =
        Math.max(this.#writtenEndMs, this.playedOutMs) +
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

  /**
   * Drops the stale head of `pcm` while a stall left audio to drop (see `maxStallDelayMs`); returns the rest.
   */
  #dropStale(pcm: Int16Array): Int16Array {
    if (this.#staleDebtMs <= 0) return pcm;
    const frames = pcm.length / this.#channels;
    const dropFrames = Math.min(frames, Math.ceil((this.#staleDebtMs * this.#sampleRate) / 1000));
    if (dropFrames <= 0) return pcm;
    const ms = (dropFrames / this.#sampleRate) * 1000;
    this.#staleDebtMs = Math.max(0, this.#staleDebtMs - ms);
    this.#stall.droppedMs += ms;
    this.#stall.droppedWrites++;
    return pcm.subarray(dropFrames * this.#channels);
  }

  /**
   * After a pull that came late enough for the sender to skip slots: the skipped time is delay added to
   * whatever was queued; beyond `maxStallDelayMs` of it, the excess becomes stale audio to drop.
   */
  #noteStall(wasLive: boolean): void {
    const skipped = this.stats().skippedSlots;
    const newMs = (skipped - this.#skippedSeen) * this.#sender.frameMs;
    this.#skippedSeen = skipped;
    if (newMs <= 0 || !wasLive) return;
    this.#stall.skippedMs += newMs;
    const added = this.#stall.addedDelayMs + newMs;
    const excess = Math.max(0, added - this.#maxStallDelayMs);
    this.#stall.addedDelayMs = added - excess;
    this.#staleDebtMs += excess;
  }

  /** Drops all queued audio within one packet; returns the ms dropped. Pending writes resolve. */
  clear(): number {
    const dropped = this.#sender.clear();
    this.#writtenEndMs = this.playedOutMs;
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

  /** Media clock tick (JS thread): sends due packets, reports on-the-wire transitions, wakes writers. */
  tick(nowMs: number): void {
    if (this.#sink === null || this.#closed) return;
    // Idle (nothing queued, nobody waiting to write): no audio is late, whatever the stalls did before.
    const live = this.#sender.queuedMs > 0 || this.#waiters.length > 0 || this.#spaceWaiters.length > 0;
    if (!live) {
      this.#stall.addedDelayMs = 0;
      this.#staleDebtMs = 0;
    }
    const gapMs = nowMs - this.#lastPullMs;
    this.#lastPullMs = nowMs;
    // Worker mode: pull() returns nothing and the packets reach #send() from the worker's callback.
    this.#send(this.#sender.pull(nowMs));
    // The sender skips only when more than three slots are due: no need to ask it after a short gap.
    if (gapMs >= 2 * this.#sender.frameMs) this.#noteStall(live);
    for (const t of this.#sender.takeTransitions()) {
      // After an unbind reported a stop, the sender's own stop for that utterance is a duplicate.
      if (t.speaking !== this.#reportedSpeaking) this.#reportSpeaking(t.speaking);
    }
    // Rebound (same track on a restarted peer) while audio was still queued: the sender never stopped, so
    // no start transition will come; report the start that the unbind's stop calls for. Conversely, a sender
    // replaced by setFormat() mid-speech never reports its stop: the new one's first silent slot does (a
    // sender's first pull always runs its first slot, so `speaking` is already that slot's state here).
    if (this.#sender.speaking !== this.#reportedSpeaking) this.#reportSpeaking(this.#sender.speaking);
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

  #createSender(rtp: { initialSequence: number; initialTimestamp: number } | null): AudioSender {
    return new AudioSender({
      sampleRate: this.#sampleRate,
      channels: this.#channels,
      // Real values arrive with bind(); until then nothing is sent.
      ssrc: this.#sink?.ssrc ?? 1,
      payloadType: this.#sink?.payloadType ?? 111,
      bitrate: this.#options.bitrate,
      autoSilence: this.#options.autoSilence,
      dtx: this.#options.dtx ?? false,
      capacityMs: this.#options.capacityMs ?? 1000,
      ...(rtp ?? {}),
      ...((this.#options.encodeOnWorker ?? true)
        ? { onPackets: (packets: Uint8Array[]) => this.#send(packets) }
        : {}),
    });
  }

  #applySink(): void {
    const sink = this.#sink;
    if (sink === null) return;
    this.#sender.setRtpParams({
      ssrc: sink.ssrc,
      payloadType: sink.payloadType,
      midExtension: sink.midExtensionId !== null ? { id: sink.midExtensionId, mid: sink.mid } : null,
    });
  }

  /** Hands packets to the bound sink (JS thread: the clock tick, or the worker's result callback). */
  #send(packets: Uint8Array[]): void {
    const sink = this.#sink;
    // Packets encoded before an unbind/close are dropped: they belong to a peer that is gone.
    if (sink === null || this.#closed) return;
    for (const packet of packets) {
      // Worker mode: a batch encoded before a rebind (restart_pc) still carries the old SSRC.
      if (packet.length >= 12 && ssrcOf(packet) !== sink.ssrc) continue;
      if (!sink.send(packet) && this.#sendFailures++ % 500 === 0) {
        logger().debug(`audio output: sender not ready (${this.#sendFailures} packet(s) not sent)`);
      }
    }
  }

  #reportSpeaking(speaking: boolean): void {
    this.#reportedSpeaking = speaking;
    try {
      this.#onSpeaking?.(speaking);
    } catch (err) {
      // A throwing listener must not stop the clock tick from waking this track's writers.
      logger().error('audio output: onSpeaking listener failed', err);
    }
  }

  #consumed(endMs: number): boolean {
    // An empty ring means everything written went out, whatever the resampler's few samples of latency.
    return this.playedOutMs >= endMs || this.#sender.queuedMs <= 0;
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
