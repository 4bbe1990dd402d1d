import { randomInt } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import nodeDataChannel from 'node-datachannel';
import type { Direction, PeerConnection, Track } from 'node-datachannel';
import { SmallWebRTCTypeError } from '../errors.js';
import { getLogger } from '../logger.js';
import { isRtcpPacket, rtpSsrc } from '../media/rtp.js';
import {
  SDES_MID_URI,
  answerDirection,
  directionReceives,
  directionSends,
  type MediaDirection,
  type SdpCodec,
  type SdpMedia,
} from './sdp.js';
import type { InboundStats } from './inbound-stats.js';
import { InputTrackImpl, RtpSinkImpl, type OutboundTrack } from './tracks.js';

/** Transceiver indexes used by Pipecat (`conn.py`): 0 audio, 1 camera, 2 screen. */
export const AUDIO_TRANSCEIVER_INDEX = 0;
/** Camera video transceiver index. */
export const VIDEO_TRANSCEIVER_INDEX = 1;
/** Screen-share video transceiver index. */
export const SCREEN_VIDEO_TRANSCEIVER_INDEX = 2;
/**
 * Opus fmtp in our answer: DTX so browsers stop sending during silence (docs/performance.md, "Where the
 * CPU goes"), in-band FEC, 10 ms minimum packet time. No `stereo=1`: it makes Chrome send 96 kb/s stereo.
 */
export const OPUS_ANSWER_FMTP = 'minptime=10;useinbandfec=1;usedtx=1';

const NDC_DIRECTION: Record<MediaDirection, Direction> = {
  sendrecv: 'SendRecv',
  sendonly: 'SendOnly',
  recvonly: 'RecvOnly',
  inactive: 'Inactive',
};

/** One answered audio/video m-line: the node-datachannel Track, what we receive on it and where we send. */
interface Transceiver {
  index: number;
  mid: string;
  kind: 'audio' | 'video';
  direction: MediaDirection;
  track: Track;
  ssrc: number | null;
  input: InputTrackImpl | null;
  sink: RtpSinkImpl | null;
}

function randomSsrc(avoid: readonly number[]): number {
  for (;;) {
    const s = randomInt(1, 0xffffffff);
    if (!avoid.includes(s)) return s;
  }
}

function isH264Supported(c: SdpCodec): boolean {
  const fmtp = c.fmtp ?? '';
  const profile = /profile-level-id=([0-9a-fA-F]{6})/.exec(fmtp)?.[1]?.toLowerCase() ?? '42001f';
  return /packetization-mode=1/.test(fmtp) && profile.startsWith('42');
}

/** What {@link Transceivers} reports to the connection (JS thread, from node-datachannel callbacks). */
export interface TransceiversOptions {
  /** Log prefix (the connection's name). */
  name: string;
  /** The peer connection the tracks are added to. */
  pc: PeerConnection;
  /** The `a=ssrc ... cname:` of our streams, the same for every peer of a connection. */
  cname: string;
  /** Any packet (RTP or RTCP) arrived, at `nowMs` (`performance.now()`): feeds the liveness watch. */
  onPacket(nowMs: number): void;
  /** The first RTP packet arrived on an input track. */
  onTrackStarted(track: InputTrackImpl): void;
  /** The connection's packet counters (shared by its peers). */
  stats: InboundStats['media'];
}

/**
 * The audio/video transceivers of one peer connection (replaced on `restartPc`): pre-adds our media
 * descriptions for the offer's m-lines, routes each packet (RTP to the input track, RTCP to the
 * sender's sink) and keeps a reference to every Track node-datachannel gave us (a collected Track crashes at
 * close). All on the JS thread.
 */
/**
 * Track wrappers whose native `closed` callback has not run yet. node-datachannel keeps every Track wrapper
 * in a native list that `cleanup()` walks, and removes it from there only in that callback: a wrapper
 * collected before it would leave a dangling pointer (the crash at cleanup() this project has seen). So each
 * Track is referenced here, module-wide (the connection that made it may be collected first), from its
 * creation until its `closed` callback ran (libdatachannel fires it once, when the track or its
 * PeerConnection closes); the native side finishes its own bookkeeping right after our callback returns, so
 * the reference is dropped on the next turn of the event loop.
 */
const unclosedTracks = new Set<Track>();

function guardTrack(track: Track): Track {
  unclosedTracks.add(track);
  try {
    track.onClosed(() => {
      setImmediate(() => unclosedTracks.delete(track));
    });
  } catch (err) {
    // Already destroyed: it simply stays referenced.
    getLogger().debug('track onClosed failed', err);
  }
  return track;
}

export class Transceivers {
  readonly #o: TransceiversOptions;
  readonly #list: Transceiver[] = [];
  /** Every Track added or reported: referenced until the connection object goes. */
  readonly #refs: Track[] = [];
  #closed = false;

  constructor(o: TransceiversOptions) {
    this.#o = o;
  }

  /** The mids of the m-lines we answered with a media track (inactive ones excluded). */
  get mids(): string[] {
    return this.#list.map((t) => t.mid);
  }

  /** Keeps a Track we did not add (a remote track we do not handle) alive with the others. */
  keep(track: Track): void {
    this.#refs.push(guardTrack(track));
  }

  /**
   * Pre-adds our media descriptions for the offer's audio/video m-lines (before setRemoteDescription, so the
   * answer carries our codecs, directions, SSRCs and the offer's sdes:mid extension id). `all` is the whole
   * offer (for the transceiver index) when `media` is only the m-lines new in a re-offer.
   */
  add(media: readonly SdpMedia[], all: readonly SdpMedia[] = media): void {
    const { pc, name, cname } = this.#o;
    for (const m of media) {
      if (m.kind !== 'audio' && m.kind !== 'video') continue;
      if (m.port === 0 || m.mid === null) continue;
      const index = all.filter((x) => x.kind === 'audio' || x.kind === 'video').indexOf(m);
      const desired: MediaDirection = index < 2 ? 'sendrecv' : 'recvonly';
      let direction = answerDirection(desired, m.direction);
      // Video is decoded and encoded as VP8 only: H264 is answered beside VP8 (the first, VP8, is what we
      // send and what browsers then send us), never alone, so an H264-only offer gets an inactive m-line.
      const offersVp8 = m.codecs.some((c) => c.name.toUpperCase() === 'VP8');
      const codecs =
        m.kind === 'audio'
          ? m.codecs.filter((c) => c.name.toLowerCase() === 'opus' && c.clockRate === 48000)
          : m.codecs.filter(
              (c) =>
                offersVp8 &&
                (c.name.toUpperCase() === 'VP8' || (c.name.toUpperCase() === 'H264' && isH264Supported(c))),
            );
      if (codecs.length === 0) {
        // Left to libdatachannel, the m-line would be accepted with the offer's codecs (PCMU, VP9...) that we
        // cannot decode. Answer it inactive with the offer's first payload type instead (valid SDP, no media).
        const offered = [...new Set(m.codecs.map((c) => c.name))].join(', ') || 'none';
        const why = m.kind === 'video' ? 'video needs VP8' : 'audio needs Opus';
        getLogger().warn(
          `${name}: no supported codec on mid ${m.mid} (${m.kind}; offered ${offered}; ${why}); answering inactive`,
        );
        const pt = m.codecs[0];
        if (!pt) continue;
        const channels = pt.channels !== undefined ? `/${pt.channels}` : '';
        const rtpmap = `${pt.name}/${pt.clockRate}${channels}`;
        let inactive;
        if (m.kind === 'audio') {
          inactive = new nodeDataChannel.Audio(m.mid, 'Inactive');
          inactive.addAudioCodec(pt.payloadType, rtpmap);
        } else {
          inactive = new nodeDataChannel.Video(m.mid, 'Inactive');
          inactive.addVideoCodec(pt.payloadType, rtpmap);
        }
        this.#refs.push(guardTrack(pc.addTrack(inactive)));
        continue;
      }
      const desc =
        m.kind === 'audio'
          ? new nodeDataChannel.Audio(m.mid, NDC_DIRECTION[direction])
          : new nodeDataChannel.Video(m.mid, NDC_DIRECTION[direction]);
      for (const c of codecs) {
        if (desc instanceof nodeDataChannel.Audio) desc.addOpusCodec(c.payloadType, OPUS_ANSWER_FMTP);
        else if (c.name.toUpperCase() === 'VP8')
          (desc as InstanceType<typeof nodeDataChannel.Video>).addVP8Codec(c.payloadType);
        else (desc as InstanceType<typeof nodeDataChannel.Video>).addH264Codec(c.payloadType, c.fmtp);
      }
      const midExt = m.extmaps.find((e) => e.uri === SDES_MID_URI);
      if (midExt && midExt.id >= 1 && midExt.id <= 14)
        desc.parseSdpLine(`a=extmap:${midExt.id} ${SDES_MID_URI}`);
      let ssrc: number | null = null;
      if (index < 2 && directionSends(direction)) {
        ssrc = randomSsrc(m.ssrcs);
        const stream = `small-webrtc-${cname}`;
        desc.addSSRC(ssrc, cname, stream, `${m.kind}-${m.mid}`);
      }
      if (!directionSends(direction) && !directionReceives(direction)) direction = 'inactive';
      const track = guardTrack(pc.addTrack(desc));
      this.#refs.push(track);
      const first = codecs[0] as SdpCodec;
      const t: Transceiver = {
        index,
        mid: m.mid,
        kind: m.kind,
        direction,
        track,
        ssrc,
        input: directionReceives(direction)
          ? new InputTrackImpl({
              kind: m.kind,
              index,
              mid: m.mid,
              codecs,
              track,
              senderSsrc: ssrc ?? this.#list.find((x) => x.ssrc !== null)?.ssrc ?? 1,
              announcedSsrc: m.ssrcs.find((x) => !m.repairSsrcs.includes(x)) ?? null,
            })
          : null,
        sink:
          ssrc !== null
            ? new RtpSinkImpl({
                ssrc,
                payloadType: first.payloadType,
                clockRate: first.clockRate,
                midExtensionId: midExt?.id ?? null,
                mid: m.mid,
                track,
              })
            : null,
      };
      track.onMessage((msg) => this.#onTrackMessage(t, msg));
      this.#list.push(t);
    }
  }

  /** The input track of transceiver `index`, or null if we do not receive there. */
  input(index: number): InputTrackImpl | null {
    return this.#list.find((x) => x.index === index)?.input ?? null;
  }

  /** Where to send on transceiver `index` if it carries `kind` and we send there, else null. */
  sink(index: number, kind: 'audio' | 'video'): RtpSinkImpl | null {
    const t = this.#list.find((x) => x.index === index);
    return t && t.kind === kind ? t.sink : null;
  }

  /** Applies the peer's `trackStatus` for transceiver `index` (unknown indexes are ignored). */
  setEnabled(index: number, enabled: boolean): void {
    this.input(index)?.setEnabled(enabled);
  }

  /**
   * The peer is gone (restart or close): sinks refuse further sends, input tracks end and drop their
   * subscribers. Returns the input tracks that had started (the connection reports them `track-ended`).
   */
  close(): InputTrackImpl[] {
    this.#closed = true;
    const ended: InputTrackImpl[] = [];
    for (const t of this.#list) {
      t.sink?.kill();
      if (t.input) {
        t.input.end();
        if (t.input.started) ended.push(t.input);
      }
    }
    // Closing each Track is what makes node-datachannel drop its onMessage callback: closing the
    // PeerConnection closes the native tracks but leaves their wrappers' callbacks registered (as global
    // handles), and ours reaches this object and, through it, the whole connection, its transport and
    // pipeline. Without this every closed session stayed in memory (about 33 kB of JS heap and 60 kB of RSS
    // each, test/reliability/churn.test.ts). The wrappers stay referenced by `guardTrack` until closed.
    for (const track of this.#refs) {
      try {
        track.close();
      } catch (err) {
        getLogger().debug(`${this.#o.name}: track close failed`, err);
      }
    }
    return ended;
  }

  /** One packet from a track (JS thread): RTCP to the sink's subscribers, RTP to the input track. */
  #onTrackMessage(t: Transceiver, msg: Buffer): void {
    if (this.#closed) return;
    const now = performance.now();
    this.#o.onPacket(now);
    const stats = this.#o.stats;
    if (isRtcpPacket(msg)) {
      stats.rtcp++;
      t.sink?.deliverRtcp(msg);
      t.input?.deliverRtcp(msg, now);
      return;
    }
    if (msg.length < 12 || ((msg[0] ?? 0) & 0xc0) !== 0x80) {
      stats.dropped.notRtp++;
      return;
    }
    const input = t.input;
    if (!input) {
      stats.dropped.noReceiver++;
      return;
    }
    stats.rtp++;
    if (!input.started) {
      input.started = true;
      input.deliver(msg, rtpSsrc(msg), now);
      this.#o.onTrackStarted(input);
      return;
    }
    input.deliver(msg, rtpSsrc(msg), now);
  }
}

interface OutboundSlot {
  track: OutboundTrack | null;
  bound: RtpSinkImpl | null;
}

/**
 * What the application sends: the {@link OutboundTrack}s set with `replaceAudioTrack` (transceiver 0) and
 * `replaceVideoTrack` (transceiver 1). They outlive peers: unbound when a peer goes, bound again to the
 * matching sink of the next one (`restartPc`).
 */
export class OutboundSenders {
  readonly #name: string;
  readonly #slots: [OutboundSlot, OutboundSlot] = [
    { track: null, bound: null },
    { track: null, bound: null },
  ];

  constructor(name: string) {
    this.#name = name;
  }

  /**
   * Sets the track of slot `index` (`kind` is the sender's); the old one is unbound. The caller binds the
   * new one with {@link OutboundSenders.bind} if a peer is up.
   *
   * @returns whether the slot changed.
   * @throws SmallWebRTCTypeError `ERR_INVALID_ARG` for something that is not an OutboundTrack of `kind`.
   */
  replace(index: 0 | 1, kind: 'audio' | 'video', track: OutboundTrack | null): boolean {
    if (track !== null) {
      if (
        typeof track !== 'object' ||
        typeof (track as OutboundTrack).bind !== 'function' ||
        typeof (track as OutboundTrack).unbind !== 'function'
      ) {
        throw new SmallWebRTCTypeError(
          'ERR_INVALID_ARG',
          'track must be an OutboundTrack (bind/unbind) or null',
        );
      }
      if (track.kind !== kind) {
        throw new SmallWebRTCTypeError('ERR_INVALID_ARG', `track.kind must be "${kind}" for this sender`);
      }
    }
    const slot = this.#slots[index];
    if (slot.track === track) return false;
    this.#unbind(slot);
    slot.track = track;
    return true;
  }

  /** Binds each track to the sink of its transceiver in `transceivers`, if it is not bound there already. */
  bind(transceivers: Transceivers | null): void {
    if (!transceivers) return;
    for (const index of [0, 1] as const) {
      const slot = this.#slots[index];
      const sink = transceivers.sink(index, index === 0 ? 'audio' : 'video');
      if (!slot.track || !sink || slot.bound === sink) continue;
      this.#unbind(slot);
      try {
        slot.track.bind(sink);
        slot.bound = sink;
      } catch (err) {
        getLogger().error(`${this.#name}: OutboundTrack.bind threw`, err);
      }
    }
  }

  /** Unbinds every track (its peer is going); the tracks stay set for the next peer. */
  unbindAll(): void {
    for (const slot of this.#slots) this.#unbind(slot);
  }

  #unbind(slot: OutboundSlot): void {
    if (slot.track && slot.bound) {
      try {
        slot.track.unbind();
      } catch (err) {
        getLogger().error(`${this.#name}: OutboundTrack.unbind threw`, err);
      }
    }
    slot.bound = null;
  }
}
