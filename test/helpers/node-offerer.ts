/**
 * An in-process node-datachannel peer that offers like the Pipecat web client (`@pipecat-ai/small-webrtc-
 * transport`; docs/protocol.md, "The client's offer"): transceiver 0 audio sendrecv (mid 0, Opus PT 111), 1
 * camera video sendrecv (mid 1, VP8 96 + H264 102), 2 screen video sendonly (mid 2, VP8 96, optional), then
 * the `chat` data channel (mid 3). After the channel opens it sends `trackStatus` for each transceiver and
 * (optionally) `ping: <ms>` every 1 s.
 *
 * API (used by test/integration/connection*.test.ts and the server tests):
 * ```ts
 * const off = await NodeOfferer.create({ screen?: true, candidatesInOffer?: false, pingIntervalMs?: 1000,
 *                                        audioPayloadType?: 111, bindAddress?: '127.0.0.1',
 *                                        dataChannel?: true, maxMessageSize?: number });
 * off.offer                       // { sdp, type: 'offer' } (no candidates unless candidatesInOffer: true)
 * off.candidates                  // [{ candidate, sdpMid }] gathered candidates (for PATCH / addIceCandidate)
 * off.setAnswer(answer)           // apply { sdp } (extra fields ignored)
 * await off.waitConnected()       // PC connected AND channel open (no channel: dataChannel: false)
 * off.sendJson(obj) / off.sendText(text) / off.sendBinary(bytes)
 * await off.waitForMessage((m) => boolean, ms?)   // parsed JSON objects received on `chat`
 * off.messages / off.texts        // parsed JSON objects / raw texts received (each bounded to 1000)
 * await off.waitUntil(() => boolean, ms?, what?)  // poll helper woken by offerer events
 * off.sendTrackStatus(index, enabled)
 * off.startPings(ms) / off.stopPings()
 * await off.reoffer()             // a new offer on the same PC (renegotiation), returns { sdp, type }
 * off.sendRtp('audio' | 'video' | 'screen', { seq, timestamp, payload, marker? }) -> boolean
 * off.onRtp('audio' | 'video' | 'screen', (buf) => void)   // RTP received on that transceiver
 * off.onRtcp('audio' | 'video' | 'screen', (buf) => void)  // RTCP received on that transceiver
 * off.ssrcs                       // { audio, video, screen } our SSRCs
 * off.pc / off.dc / off.tracks    // the raw node-datachannel objects (kept referenced)
 * off.close()                     // graceful close (the server sees its peer close)
 * ```
 * The caller owns `nodeDataChannel.cleanup()` (call it once in afterAll of the test file).
 * For a peer that must vanish without closing (SIGKILL), see `node-offerer-child.ts`.
 */
import nodeDataChannel from 'node-datachannel';
import type { DataChannel, PeerConnection, Track } from 'node-datachannel';

import { rtpTo } from '../../testkit/rtp.js';

/** Options of {@link NodeOfferer.create}. */
export interface NodeOffererOptions {
  /** Add the screen-share transceiver (default true, as the default DailyMediaManager). */
  screen?: boolean;
  /**
   * Keep our gathered candidates in the offer (default false). Without them, as with the Pipecat web client
   * (`waitForICEGathering: false`), the server can only reach us after we applied its answer. With them the
   * offerer is racy (an artefact of libdatachannel v0.24.5 as offerer, not of the server; browsers and aiortc
   * are not affected): the server starts connectivity checks and its DTLS ClientHello as soon as it has our
   * offer, and `setRemoteDescription(answer)` (src/peerconnection.cpp) hands libjuice the answer's ICE
   * credentials BEFORE `processRemoteDescription` stores the answer. ICE then connects on libjuice's thread
   * inside that window (peer-reflexive pair from the server's checks), the DTLS server role verifies the
   * client certificate, `checkFingerprint` finds no remote description yet and fails ("certificate verify
   * failed" / "unknown CA"), the PC goes failed -> closed, `closeTransports` drops the ICE transport, and the
   * answer's own candidates, which libdatachannel adds at the end of the same call, throw "Got a remote
   * candidate without ICE transport" (or, when the handshake loses the race a little later, the call returns
   * and the PC just fails). A loaded machine widens the window: at load ~7, 4 of 560 offerers with candidates
   * failed (with or without an inactive m-line in the answer), 0 of 500 without. Without candidates in the
   * offer the server cannot reach us before the answer's candidates are added, and those are added only
   * after the answer is stored: no window.
   */
  candidatesInOffer?: boolean;
  /** Same as `candidatesInOffer: false` (kept for readability of trickle tests). */
  trickle?: boolean;
  /** Ping interval in ms once the channel is open; 0 = no pings (default 1000). */
  pingIntervalMs?: number;
  /** Send trackStatus for each transceiver when the channel opens (default true). */
  sendTrackStatusOnOpen?: boolean;
  /** Opus payload type (default 111, as Chrome; aiortc uses 96). */
  audioPayloadType?: number;
  /** Local bind address (default 127.0.0.1). */
  bindAddress?: string;
  /** Rewrite the offer's `a=max-message-size` to this value (default: leave libdatachannel's 262144). */
  maxMessageSize?: number;
  /** Create the `chat` data channel (default true); false gives a media-only offer. */
  dataChannel?: boolean;
}

type Kind = 'audio' | 'video' | 'screen';

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** A Pipecat-web-client-like offerer over node-datachannel. */
export class NodeOfferer {
  readonly pc: PeerConnection;
  /** The `chat` channel, or null when created with `dataChannel: false`. */
  readonly dc: DataChannel | null;
  readonly tracks: { audio: Track; video: Track; screen: Track | null };
  readonly ssrcs: { audio: number; video: number; screen: number };
  readonly messages: Array<Record<string, unknown>> = [];
  readonly texts: string[] = [];
  offer: { sdp: string; type: 'offer' } = { sdp: '', type: 'offer' };
  candidates: Array<{ candidate: string; sdpMid: string }> = [];
  state = 'new';
  channelOpen = false;
  channelClosed = false;
  #pingTimer: NodeJS.Timeout | null = null;
  readonly #rtpSubs: Record<Kind, Array<(b: Buffer) => void>> = { audio: [], video: [], screen: [] };
  readonly #rtcpSubs: Record<Kind, Array<(b: Buffer) => void>> = { audio: [], video: [], screen: [] };
  readonly #opts: Required<Omit<NodeOffererOptions, 'maxMessageSize'>> & { maxMessageSize?: number };
  readonly #dcOrThrow = (): DataChannel => {
    if (!this.dc) throw new Error('NodeOfferer created with dataChannel: false');
    return this.dc;
  };
  readonly #waiters = new Set<() => void>();

  private constructor(opts: NodeOffererOptions) {
    this.#opts = {
      screen: opts.screen ?? true,
      trickle: opts.trickle ?? false,
      candidatesInOffer: opts.trickle ? false : (opts.candidatesInOffer ?? false),
      pingIntervalMs: opts.pingIntervalMs ?? 1000,
      sendTrackStatusOnOpen: opts.sendTrackStatusOnOpen ?? true,
      audioPayloadType: opts.audioPayloadType ?? 111,
      bindAddress: opts.bindAddress ?? '127.0.0.1',
      dataChannel: opts.dataChannel ?? true,
      ...(opts.maxMessageSize !== undefined ? { maxMessageSize: opts.maxMessageSize } : {}),
    };
    this.pc = new nodeDataChannel.PeerConnection('pipecat-like-client', {
      iceServers: [],
      bindAddress: this.#opts.bindAddress,
    });
    this.pc.onStateChange((s) => {
      this.state = s;
      this.#wake();
    });
    const rnd = (): number => 1 + Math.floor(Math.random() * 0xfffffffe);
    this.ssrcs = { audio: rnd(), video: rnd(), screen: rnd() };
    const audio = new nodeDataChannel.Audio('0', 'SendRecv');
    audio.addOpusCodec(this.#opts.audioPayloadType, 'minptime=10;useinbandfec=1');
    audio.parseSdpLine('a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level');
    audio.parseSdpLine('a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid');
    audio.addSSRC(this.ssrcs.audio, 'clientcname', 'client-stream', 'mic');
    const video = new nodeDataChannel.Video('1', 'SendRecv');
    video.addVP8Codec(96);
    video.addH264Codec(102, 'level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f');
    video.parseSdpLine('a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid');
    video.addSSRC(this.ssrcs.video, 'clientcname', 'client-stream', 'cam');
    const audioTrack = this.pc.addTrack(audio);
    const videoTrack = this.pc.addTrack(video);
    let screenTrack: Track | null = null;
    if (this.#opts.screen) {
      const screen = new nodeDataChannel.Video('2', 'SendOnly');
      screen.addVP8Codec(96);
      screen.parseSdpLine('a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid');
      screen.addSSRC(this.ssrcs.screen, 'clientcname', 'client-screen', 'screen');
      screenTrack = this.pc.addTrack(screen);
    }
    this.tracks = { audio: audioTrack, video: videoTrack, screen: screenTrack };
    for (const kind of ['audio', 'video', 'screen'] as const) {
      const t = this.tracks[kind];
      t?.onMessage((buf) => {
        const rtcp = buf.length >= 2 && (buf[1] ?? 0) >= 192 && (buf[1] ?? 0) <= 223;
        for (const cb of rtcp ? this.#rtcpSubs[kind] : this.#rtpSubs[kind]) cb(buf);
      });
    }
    if (!this.#opts.dataChannel) {
      this.dc = null;
      return;
    }
    const dc = this.pc.createDataChannel('chat');
    this.dc = dc;
    dc.onOpen(() => {
      this.channelOpen = true;
      if (this.#opts.sendTrackStatusOnOpen) {
        this.sendTrackStatus(0, true);
        this.sendTrackStatus(1, true);
        if (this.#opts.screen) this.sendTrackStatus(2, false);
      }
      if (this.#opts.pingIntervalMs > 0) this.startPings(this.#opts.pingIntervalMs);
      this.#wake();
    });
    dc.onClosed(() => {
      this.channelClosed = true;
      this.stopPings();
      this.#wake();
    });
    dc.onMessage((msg) => {
      if (typeof msg !== 'string') return;
      if (this.texts.length < 1000) this.texts.push(msg);
      try {
        const parsed: unknown = JSON.parse(msg);
        if (parsed && typeof parsed === 'object' && this.messages.length < 1000) {
          this.messages.push(parsed as Record<string, unknown>);
        }
      } catch {
        // not JSON: kept in texts only
      }
      this.#wake();
    });
  }

  /** Creates the offerer and waits until its offer (with all candidates gathered) is ready. */
  static async create(opts: NodeOffererOptions = {}): Promise<NodeOfferer> {
    const o = new NodeOfferer(opts);
    o.pc.setLocalDescription();
    for (let i = 0; i < 200 && o.pc.gatheringState() !== 'complete'; i++) await sleep(25);
    const local = o.pc.localDescription();
    if (!local) throw new Error('offerer produced no offer');
    o.#setOffer(local.sdp);
    return o;
  }

  #setOffer(raw: string): void {
    let sdp = raw;
    if (this.#opts.maxMessageSize !== undefined) {
      sdp = sdp.replace(/a=max-message-size:\d+/g, `a=max-message-size:${this.#opts.maxMessageSize}`);
    }
    const lines = sdp.split('\r\n');
    let mid = '';
    const cands: Array<{ candidate: string; sdpMid: string }> = [];
    for (const l of lines) {
      if (l.startsWith('a=mid:')) mid = l.slice(6);
      if (l.startsWith('a=candidate:') && !cands.some((c) => c.candidate === l.slice(2))) {
        cands.push({ candidate: l.slice(2), sdpMid: mid });
      }
    }
    this.candidates = cands;
    if (!this.#opts.candidatesInOffer) {
      sdp = lines.filter((l) => !l.startsWith('a=candidate:') && l !== 'a=end-of-candidates').join('\r\n');
    }
    this.offer = { sdp, type: 'offer' };
  }

  /** Applies the server's answer (`{ sdp }`; extra fields such as `pc_id` are ignored, like the browser). */
  setAnswer(answer: { sdp: string }): void {
    try {
      this.pc.setRemoteDescription(answer.sdp, 'answer');
    } catch (err) {
      // "without ICE transport" = the PC closed inside this call: see `candidatesInOffer` for the race.
      const hint = this.#opts.candidatesInOffer ? ' (candidatesInOffer: true is racy, see its docs)' : '';
      throw new Error(
        `offerer setRemoteDescription failed (state ${this.state}/${this.pc.state()}, ice ${this.pc.iceState()}, ` +
          `gathering ${this.pc.gatheringState()}, signaling ${this.pc.signalingState()})${hint}: ${String(err)}`,
      );
    }
  }

  /** Resolves when the PC is connected and the channel open; rejects after `timeoutMs`. */
  async waitConnected(timeoutMs = 20_000): Promise<void> {
    await this.waitUntil(
      () => this.state === 'connected' && (this.channelOpen || !this.dc),
      timeoutMs,
      'connected + open',
    );
  }

  /** Waits until `pred()` is true (re-checked on every event and every 50 ms). */
  async waitUntil(pred: () => boolean, timeoutMs = 10_000, what = 'condition'): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!pred()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise<void>((r) => {
        const wake = (): void => {
          this.#waiters.delete(wake);
          clearTimeout(t);
          r();
        };
        const t = setTimeout(wake, 50);
        this.#waiters.add(wake);
      });
    }
  }

  /** Waits for a received JSON object matching `pred` (already received ones count). */
  async waitForMessage(
    pred: (m: Record<string, unknown>) => boolean,
    timeoutMs = 10_000,
  ): Promise<Record<string, unknown>> {
    let found: Record<string, unknown> | undefined;
    await this.waitUntil(
      () => {
        found = this.messages.find(pred);
        return found !== undefined;
      },
      timeoutMs,
      'message',
    );
    return found as Record<string, unknown>;
  }

  #wake(): void {
    for (const w of [...this.#waiters]) w();
  }

  sendText(text: string): boolean {
    return this.#dcOrThrow().sendMessage(text);
  }

  sendBinary(data: Uint8Array): boolean {
    return this.#dcOrThrow().sendMessageBinary(data);
  }

  sendJson(obj: unknown): boolean {
    return this.#dcOrThrow().sendMessage(JSON.stringify(obj));
  }

  sendTrackStatus(index: number, enabled: boolean): void {
    this.sendJson({ type: 'signalling', message: { type: 'trackStatus', receiver_index: index, enabled } });
  }

  startPings(ms: number): void {
    this.stopPings();
    this.#pingTimer = setInterval(() => {
      try {
        if (this.dc?.isOpen()) this.dc.sendMessage(`ping: ${Date.now()}`);
      } catch {
        // closed
      }
    }, ms);
    this.#pingTimer.unref();
  }

  stopPings(): void {
    if (this.#pingTimer) clearInterval(this.#pingTimer);
    this.#pingTimer = null;
  }

  /** Creates a new offer on the same PC (what the client does on a server `renegotiate` request). */
  async reoffer(): Promise<{ sdp: string; type: 'offer' }> {
    this.pc.setLocalDescription('offer');
    for (let i = 0; i < 200; i++) {
      const d = this.pc.localDescription();
      if (d && d.type === 'offer' && this.pc.signalingState() === 'have-local-offer') {
        this.#setOffer(d.sdp);
        return this.offer;
      }
      await sleep(10);
    }
    throw new Error('no re-offer');
  }

  /** Sends one RTP packet (12-byte header + payload) with our SSRC on a transceiver. */
  sendRtp(
    kind: Kind,
    p: { seq: number; timestamp: number; payload: Uint8Array; marker?: boolean; pt?: number },
  ): boolean {
    const track = this.tracks[kind];
    if (!track) return false;
    const pt = p.pt ?? (kind === 'audio' ? this.#opts.audioPayloadType : 96);
    const packet = rtpTo(
      { ssrc: this.ssrcs[kind], payloadType: pt },
      { sequenceNumber: p.seq, timestamp: p.timestamp, payload: p.payload, marker: p.marker ?? false },
    );
    return track.isOpen() && track.sendMessageBinary(Buffer.from(packet));
  }

  onRtp(kind: Kind, cb: (b: Buffer) => void): void {
    this.#rtpSubs[kind].push(cb);
  }

  onRtcp(kind: Kind, cb: (b: Buffer) => void): void {
    this.#rtcpSubs[kind].push(cb);
  }

  /** Graceful close (DTLS close_notify / SCTP shutdown reach the server). */
  close(): void {
    this.stopPings();
    try {
      this.pc.close();
    } catch {
      // already closed
    }
  }
}
