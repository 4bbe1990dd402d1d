// Stage timestamps of the audio path, for the latency bench (bench/latency/run.ts). Nothing here is in the
// library: the bench wraps the prototypes of the classes every session uses (AudioReceiver.push/poll,
// AudioSender.write/pull/clear, RtpSinkImpl.send), so the hot path of a normal process pays nothing.
//
// A chunk is followed by the identity of its PCM array: the receiver's frame.audio is the same Int16Array in
// the InputAudioRawFrame, in the echo bot's OutputAudioRawFrame and in AudioSender.write(). Chunks whose
// array is copied on the way (a format change, a resampler) are counted as unmatched, never guessed.
import { performance } from 'node:perf_hooks';

import { RtpSinkImpl } from '../../src/connection/tracks.js';
import { AudioReceiver, type AudioFrame } from '../../src/media/audio-receiver.js';
import { AudioSender } from '../../src/media/audio-sender.js';

/** One 20 ms chunk's timeline, performance.now() ms. */
export interface Chunk {
  /** The RTP packet that completed the frame: its sequence number and arrival at the JS callback. */
  seq: number;
  arrivalMs: number;
  /** The AudioReceiver call (push or poll) that returned the frame: start and end. */
  rxCallStart: number;
  rxCallEnd: number;
  /** Start of the push of the packet that carried this audio (== rxCallStart unless it waited). */
  packetPushStart: number;
  packetPushEnd: number;
  concealed: boolean;
  /** The first processor saw the InputAudioRawFrame. */
  probeMs?: number;
  /** AudioSender.write() of the echoed audio, and the played-out cursor at which it is all sent. */
  writeMs?: number;
  endCursorMs?: number;
  /** Played-out cursor before it (its first sample). */
  startCursorMs?: number;
  /** Start of the pull() whose slot took its first sample, and the first RtpSink.send() after it. */
  firstSlotStart?: number;
  firstOutMs?: number;
  firstOutSeq?: number;
  /** Start/end of the pull() whose slots consumed the last of it. */
  slotStart?: number;
  slotEnd?: number;
  /** The first RtpSink.send() after that slot: the packet on its way, and its sequence number. */
  outMs?: number;
  outSeq?: number;
}

/** A sent packet (server side). */
export interface Sent {
  t: number;
  seq: number;
}

/** What the wrapped prototypes recorded, for the receivers/senders not in {@link ignore}. */
export const rec = {
  chunks: new WeakMap<Int16Array, Chunk>(),
  /** Every chunk in emission order (bounded by the run). */
  ordered: [] as Chunk[],
  /** Chunks written but not yet consumed by a slot, oldest first. */
  awaitingSlot: [] as Chunk[],
  /** Chunks whose slot ran but whose packet has not been sent yet. */
  awaitingSend: [] as Chunk[],
  /** Chunks whose first sample's slot ran but whose packet has not been sent yet. */
  awaitingFirstSend: [] as Chunk[],
  sent: [] as Sent[],
  /** Pulls that consumed written audio: start time, cursor after. */
  audioSlots: [] as Array<{ t: number; end: number; cursor: number }>,
  clears: [] as number[],
  writesUnmatched: 0,
};

/** Instances the bench uses on the client side (their calls are not stages of the server). */
export const ignore = new WeakSet<object>();

/** A packet pushed into a receiver whose frame is not out yet. */
interface Pushed {
  seq: number;
  ts: number;
  arrivalMs: number;
  t0: number;
  t1: number;
}

/** Per receiver: packets pushed whose frames are not out yet, in push order. */
const pendingPackets = new WeakMap<AudioReceiver, Pushed[]>();

function seqOf(p: Uint8Array): number {
  return p.length >= 4 ? ((p[2] ?? 0) << 8) | (p[3] ?? 0) : -1;
}

function tsOf(p: Uint8Array): number {
  return p.length >= 8
    ? (((p[4] ?? 0) << 24) | ((p[5] ?? 0) << 16) | ((p[6] ?? 0) << 8) | (p[7] ?? 0)) >>> 0
    : 0;
}

/**
 * Frames out of one push()/poll(): the K real (not concealed) ones are the audio of the K most recent packets
 * still pending (in RTP timestamp order); older pending packets were concealed before they arrived (late)
 * and never make a frame. On a clean link every push returns the frame of the packet it was given.
 */
function emitted(r: AudioReceiver, frames: AudioFrame[], t0: number, t1: number): void {
  if (frames.length === 0) return;
  const pending = pendingPackets.get(r) ?? [];
  const real = frames.filter((f) => !f.concealed).length;
  const mine = pending.splice(Math.max(0, pending.length - real)).sort((x, y) => (x.ts - y.ts) | 0);
  pending.length = 0;
  let i = 0;
  for (const f of frames) {
    const p = f.concealed ? undefined : mine[i++];
    const c: Chunk = {
      seq: p?.seq ?? -1,
      arrivalMs: p?.arrivalMs ?? t0,
      rxCallStart: t0,
      rxCallEnd: t1,
      packetPushStart: p?.t0 ?? t0,
      packetPushEnd: p?.t1 ?? t1,
      concealed: f.concealed,
    };
    rec.chunks.set(f.audio, c);
    rec.ordered.push(c);
  }
}

let installed = false;

/** Wraps the prototypes (once per process). */
export function installStageHooks(): void {
  if (installed) return;
  installed = true;
  const push = AudioReceiver.prototype.push;
  AudioReceiver.prototype.push = function (this: AudioReceiver, packet, arrivalMs) {
    if (ignore.has(this)) return push.call(this, packet, arrivalMs);
    const t0 = performance.now();
    const frames = push.call(this, packet, arrivalMs);
    const t1 = performance.now();
    let pending = pendingPackets.get(this);
    if (pending === undefined) pendingPackets.set(this, (pending = []));
    pending.push({ seq: seqOf(packet), ts: tsOf(packet), arrivalMs, t0, t1 });
    emitted(this, frames, t0, t1);
    return frames;
  };
  const poll = AudioReceiver.prototype.poll;
  AudioReceiver.prototype.poll = function (this: AudioReceiver, nowMs) {
    if (ignore.has(this)) return poll.call(this, nowMs);
    const t0 = performance.now();
    const frames = poll.call(this, nowMs);
    if (frames.length > 0) emitted(this, frames, t0, performance.now());
    return frames;
  };

  const write = AudioSender.prototype.write;
  AudioSender.prototype.write = function (this: AudioSender, pcm) {
    if (ignore.has(this)) return write.call(this, pcm);
    const t = performance.now();
    const startCursor = this.playedOutMs + this.queuedMs;
    const accepted = write.call(this, pcm);
    const c = rec.chunks.get(pcm);
    if (c === undefined) rec.writesUnmatched++;
    else if (c.writeMs === undefined) {
      c.writeMs = t;
      c.startCursorMs = startCursor;
      c.endCursorMs = this.playedOutMs + this.queuedMs;
      rec.awaitingSlot.push(c);
    }
    return accepted;
  };
  const pull = AudioSender.prototype.pull;
  AudioSender.prototype.pull = function (this: AudioSender, nowMs) {
    if (ignore.has(this)) return pull.call(this, nowMs);
    const before = this.playedOutMs;
    const t0 = performance.now();
    const packets = pull.call(this, nowMs);
    const t1 = performance.now();
    const after = this.playedOutMs;
    if (after > before) {
      rec.audioSlots.push({ t: t0, end: t1, cursor: after });
      for (const c of rec.awaitingSlot) {
        if ((c.startCursorMs ?? Infinity) >= after) break;
        if (c.firstSlotStart === undefined) {
          c.firstSlotStart = t0;
          rec.awaitingFirstSend.push(c);
        }
      }
      while (rec.awaitingSlot.length > 0 && (rec.awaitingSlot[0]?.endCursorMs ?? Infinity) <= after) {
        const c = rec.awaitingSlot.shift()!;
        c.slotStart = t0;
        c.slotEnd = t1;
        rec.awaitingSend.push(c);
      }
    }
    return packets;
  };
  const clear = AudioSender.prototype.clear;
  AudioSender.prototype.clear = function (this: AudioSender) {
    if (!ignore.has(this)) {
      rec.clears.push(performance.now());
      rec.awaitingSlot.length = 0;
    }
    return clear.call(this);
  };

  const send = RtpSinkImpl.prototype.send;
  RtpSinkImpl.prototype.send = function (this: RtpSinkImpl, packet) {
    const ok = send.call(this, packet);
    const t = performance.now();
    const seq = seqOf(packet);
    rec.sent.push({ t, seq });
    for (const c of rec.awaitingSend) {
      c.outMs = t;
      c.outSeq = seq;
    }
    rec.awaitingSend.length = 0;
    for (const c of rec.awaitingFirstSend) {
      c.firstOutMs = t;
      c.firstOutSeq = seq;
    }
    rec.awaitingFirstSend.length = 0;
    return ok;
  };
}

/** Forgets everything recorded so far (chunk identities stay weak). */
export function resetStages(): void {
  rec.ordered = [];
  rec.awaitingSlot = [];
  rec.awaitingSend = [];
  rec.awaitingFirstSend = [];
  rec.sent = [];
  rec.audioSlots = [];
  rec.clears = [];
  rec.writesUnmatched = 0;
}
