/**
 * An in-process node-datachannel peer that offers like the Pipecat web client (`@pipecat-ai/small-webrtc-
 * transport` 1.10; docs/protocol.md, "The client's offer"): transceiver 0 audio sendrecv (mid 0, Opus PT 111), 1 camera video sendrecv (mid 1, VP8 96 +
 * H264 102, optional), 2 screen video sendonly (mid 2, VP8 96, optional), then the `chat` data channel. After the
 * channel opens it sends `trackStatus` for each transceiver and (optionally) `ping: <ms>` every 1 s. The one
 * client of the tests and the benchmarks, with two ways to signal:
 *
 * - In process, against a `SmallWebRTCConnection`: `client.offer` -> `connection.initialize()`, then
 *   `client.setAnswer(connection.getAnswer())`; trickle with `client.candidates` -> `addIceCandidate()`.
 * - Over HTTP, against our signalling server (`baseUrl`): `connect()` POSTs the offer to `/api/offer` and PATCHes
 *   the candidates after the answer (like the web client with `waitForICEGathering: false`); `renegotiate()`
 *   re-offers with the `pc_id`; `restart()` swaps in a new peer connection with `restart_pc: true`, like the web
 *   client's reconnect.
 *
 * ```ts
 * const client = await PipecatLikeClient.create({ baseUrl?, video?: true, screen?: true, candidatesInOffer?: false,
 *                                                pingIntervalMs?: 1000, audioPayloadType?: 111, dataChannel?: true });
 * client.offer / client.candidates / client.setAnswer(answer) / await client.reoffer()     // in process
 * await client.connect({ trickle?, autoPatch?, pcId?, extra? }) / client.patchCandidates() // over HTTP
 * await client.renegotiate() / await client.restart()                                      // over HTTP
 * client.useEndpoint(baseUrl, offerPath?)   // later requests go elsewhere (through a front, another process)
 * await client.waitConnected()      // PC connected and `chat` open (without a channel: connected)
 * client.sendJson(obj) / client.sendText(text) / client.sendBinary(bytes) / client.sendTrackStatus(i, on)
 * client.messages / client.texts / await client.waitForMessage((m) => boolean)   // what `chat` received
 * await client.waitUntil(() => boolean, ms?, what?)  // poll helper woken by the client's events
 * client.sendRtp(kind, { seq, timestamp, payload, marker? }) / client.startRtp() (Opus silence every 20 ms)
 * client.onRtp(kind, cb) / client.onRtcp(kind, cb)   // what the server sends, per transceiver
 * client.close()                    // graceful (DTLS close_notify / SCTP shutdown reach the server)
 * ```
 * Every PeerConnection/Track/DataChannel stays referenced (also after close or restart, see `retired`) until
 * the test file calls `nodeDataChannel.cleanup()` once in afterAll: a collected, closed wrapper makes cleanup()
 * crash the process. For a peer that must vanish without closing (SIGKILL), see `pipecat-like-client-child.ts`.
 */
import { performance } from 'node:perf_hooks';

import nodeDataChannel from 'node-datachannel';
import type { DataChannel, PeerConnection, Track } from 'node-datachannel';

import type { SmallWebRTCConnection } from '../src/connection/index.js';
import { AudioReceiver } from '../src/media/audio-receiver.js';
import { AudioSender } from '../src/media/audio-sender.js';
import { rms } from './audio.js';
import { OPUS_SILENCE, OPUS_TICKS_PER_20MS, rtpTo } from './rtp.js';
import { sleep } from './wait.js';

/** Options of {@link PipecatLikeClient.create}. */
export interface PipecatLikeClientOptions {
  /** Signalling server base URL, for the HTTP flow (`connect`, `patchCandidates`, `renegotiate`, `restart`). */
  baseUrl?: string;
  /** Offer path under `baseUrl` (default `/api/offer`). */
  offerPath?: string;
  /** Add the camera transceiver (sendrecv, mid 1; default true, as the web client). */
  video?: boolean;
  /** Add the screen-share transceiver (sendonly, mid 2; default true, as the default DailyMediaManager). */
  screen?: boolean;
  /**
   * Keep our gathered candidates in `offer` (default false). Without them, as with the Pipecat web client
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
   * after the answer is stored: no window. Over HTTP, `connect()` recovers from the race the way the web
   * client recovers from a failed peer (see {@link PipecatLikeClient.recoveredAnswerRaces}).
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
  /**
   * Rewrite the answer's `a=max-message-size` to this value before applying it: a hostile peer that ignores
   * the server's limit, so its node-datachannel lets it send larger messages (default: keep the answer's).
   */
  answerMaxMessageSize?: number;
}

/** A decoded 20 ms frame of what the client hears (48 kHz mono) and its arrival time (`performance.now()`). */
export interface HeardFrame {
  at: number;
  pcm: Int16Array;
}

/** What {@link PipecatLikeClient.listenToAudio} returns. */
export interface AudioListener {
  readonly frames: HeardFrame[];
  /** Frames louder than `threshold` RMS so far (default 1000, speech level). */
  loud(threshold?: number): number;
  close(): void;
}

/** A transceiver of the client. */
export type MediaKind = 'audio' | 'video' | 'screen';

/** HTTP result of a signalling call. */
export interface HttpResult {
  status: number;
  json: unknown;
  headers: Headers;
}

/** The node-datachannel objects of one peer connection. */
interface Peer {
  pc: PeerConnection;
  dc: DataChannel | null;
  tracks: { audio: Track; video: Track | null; screen: Track | null };
}

type Resolved = Required<
  Omit<PipecatLikeClientOptions, 'maxMessageSize' | 'baseUrl' | 'answerMaxMessageSize'>
> &
  Pick<PipecatLikeClientOptions, 'maxMessageSize' | 'baseUrl' | 'answerMaxMessageSize'>;

let peerCounter = 0;

/** A Pipecat-web-client-like offerer over node-datachannel. */
export class PipecatLikeClient {
  /** The current peer connection (a new one after {@link restart}). */
  pc!: PeerConnection;
  /** The `chat` channel, or null when created with `dataChannel: false`. */
  dc!: DataChannel | null;
  tracks!: Peer['tracks'];
  /** Our SSRCs per transceiver (the same across restarts). */
  readonly ssrcs: Record<MediaKind, number>;
  /** JSON objects received on `chat` (bounded to 1000). */
  readonly messages: Array<Record<string, unknown>> = [];
  /** Raw texts received on `chat` (bounded to 1000). */
  readonly texts: string[] = [];
  /** The current offer (without candidates unless `candidatesInOffer`). */
  offer: { sdp: string; type: 'offer' } = { sdp: '', type: 'offer' };
  /** The current peer's gathered candidates (for PATCH / addIceCandidate). */
  candidates: Array<{ candidate: string; sdpMid: string }> = [];
  /** The current peer's connection state. */
  state = 'new';
  channelOpen = false;
  channelClosed = false;
  /** The server's pc_id from the last HTTP answer. */
  pcId: string | null = null;
  /** Epoch ms of the last connect(): offer POST start, its response, and the current peer's `connected`. */
  readonly timings = { offerPostAt: 0, answerAt: 0, connectedAt: 0 };
  /** Peers replaced by restart() or the answer-race recovery, kept referenced until cleanup(). */
  readonly retired: Peer[] = [];
  /** Times `connect()` recovered from the libdatachannel answer race with a restart (see `candidatesInOffer`). */
  recoveredAnswerRaces = 0;
  readonly #opts: Resolved;
  /** The current offer with all its candidates (what `connect({ trickle: false })` posts). */
  #fullOfferSdp = '';
  #pingTimer: NodeJS.Timeout | null = null;
  #rtpTimer: NodeJS.Timeout | null = null;
  #rtpSeq = 0;
  /** The microphone's sender (see sendSpeech), created on first use. */
  #mic: AudioSender | null = null;
  readonly #rtpSubs: Record<MediaKind, Array<(b: Buffer) => void>> = { audio: [], video: [], screen: [] };
  readonly #rtcpSubs: Record<MediaKind, Array<(b: Buffer) => void>> = { audio: [], video: [], screen: [] };
  readonly #waiters = new Set<() => void>();

  private constructor(opts: PipecatLikeClientOptions) {
    this.#opts = {
      video: opts.video ?? true,
      screen: opts.screen ?? true,
      trickle: opts.trickle ?? false,
      candidatesInOffer: opts.trickle ? false : (opts.candidatesInOffer ?? false),
      pingIntervalMs: opts.pingIntervalMs ?? 1000,
      sendTrackStatusOnOpen: opts.sendTrackStatusOnOpen ?? true,
      audioPayloadType: opts.audioPayloadType ?? 111,
      bindAddress: opts.bindAddress ?? '127.0.0.1',
      dataChannel: opts.dataChannel ?? true,
      offerPath: opts.offerPath ?? '/api/offer',
      ...(opts.maxMessageSize !== undefined ? { maxMessageSize: opts.maxMessageSize } : {}),
      ...(opts.baseUrl !== undefined ? { baseUrl: opts.baseUrl } : {}),
      ...(opts.answerMaxMessageSize !== undefined ? { answerMaxMessageSize: opts.answerMaxMessageSize } : {}),
    };
    const rnd = (): number => 1 + Math.floor(Math.random() * 0xfffffffe);
    this.ssrcs = { audio: rnd(), video: rnd(), screen: rnd() };
  }

  /** Creates the client and waits until its offer (with all candidates gathered) is ready. */
  static async create(opts: PipecatLikeClientOptions = {}): Promise<PipecatLikeClient> {
    const c = new PipecatLikeClient(opts);
    await c.#newPeer();
    return c;
  }

  /** The HTTP offer URL (`baseUrl` + `offerPath`). */
  get offerUrl(): string {
    if (this.#opts.baseUrl === undefined) throw new Error('PipecatLikeClient created without baseUrl');
    return this.#opts.baseUrl + this.#opts.offerPath;
  }

  /**
   * Sends the following HTTP requests to another server or front (and offer path), e.g. a session made on one
   * process whose PATCHes go through another (scale-out routing tests).
   */
  useEndpoint(baseUrl: string, offerPath = this.#opts.offerPath): void {
    this.#opts.baseUrl = baseUrl;
    this.#opts.offerPath = offerPath;
  }

  /** Replaces the current peer (if any) with a new one and waits for its offer with all candidates. */
  async #newPeer(): Promise<void> {
    const pc = new nodeDataChannel.PeerConnection(`pipecat-like-client-${++peerCounter}`, {
      iceServers: [],
      bindAddress: this.#opts.bindAddress,
    });
    this.pc = pc;
    this.state = 'new';
    this.channelOpen = false;
    this.channelClosed = false;
    this.candidates = [];
    pc.onStateChange((s) => {
      if (pc !== this.pc) return;
      this.state = s;
      if (s === 'connected') this.timings.connectedAt = Date.now();
      this.#wake();
    });
    const audio = new nodeDataChannel.Audio('0', 'SendRecv');
    audio.addOpusCodec(this.#opts.audioPayloadType, 'minptime=10;useinbandfec=1');
    audio.parseSdpLine('a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level');
    audio.parseSdpLine('a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid');
    audio.addSSRC(this.ssrcs.audio, 'clientcname', 'client-stream', 'mic');
    const tracks: Peer['tracks'] = { audio: pc.addTrack(audio), video: null, screen: null };
    if (this.#opts.video) {
      const video = new nodeDataChannel.Video('1', 'SendRecv');
      video.addVP8Codec(96);
      video.addH264Codec(102, 'level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f');
      video.parseSdpLine('a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid');
      video.addSSRC(this.ssrcs.video, 'clientcname', 'client-stream', 'cam');
      tracks.video = pc.addTrack(video);
    }
    if (this.#opts.screen) {
      const screen = new nodeDataChannel.Video('2', 'SendOnly');
      screen.addVP8Codec(96);
      screen.parseSdpLine('a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid');
      screen.addSSRC(this.ssrcs.screen, 'clientcname', 'client-screen', 'screen');
      tracks.screen = pc.addTrack(screen);
    }
    this.tracks = tracks;
    for (const kind of ['audio', 'video', 'screen'] as const) {
      tracks[kind]?.onMessage((buf) => {
        const rtcp = buf.length >= 2 && (buf[1] ?? 0) >= 192 && (buf[1] ?? 0) <= 223;
        for (const cb of rtcp ? this.#rtcpSubs[kind] : this.#rtpSubs[kind]) cb(buf);
      });
    }
    this.dc = this.#opts.dataChannel ? this.#openChannel(pc) : null;
    pc.setLocalDescription();
    for (let i = 0; i < 200 && pc.gatheringState() !== 'complete'; i++) await sleep(25);
    const local = pc.localDescription();
    if (!local) throw new Error('offerer produced no offer');
    this.#setOffer(local.sdp);
  }

  #openChannel(pc: PeerConnection): DataChannel {
    const dc = pc.createDataChannel('chat');
    dc.onOpen(() => {
      if (dc !== this.dc) return;
      this.channelOpen = true;
      if (this.#opts.sendTrackStatusOnOpen) {
        // This runs inside node-datachannel's callback: a throw here (the channel closed meanwhile) would
        // terminate the process instead of failing a test.
        try {
          this.sendTrackStatus(0, true);
          if (this.#opts.video) this.sendTrackStatus(1, true);
          if (this.#opts.screen) this.sendTrackStatus(2, false);
        } catch (err) {
          console.error(`[PipecatLikeClient] trackStatus on open failed: ${String(err)}`);
        }
      }
      if (this.#opts.pingIntervalMs > 0) this.startPings(this.#opts.pingIntervalMs);
      this.#wake();
    });
    dc.onClosed(() => {
      if (dc !== this.dc) return;
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
    return dc;
  }

  #setOffer(raw: string): void {
    let sdp = raw;
    if (this.#opts.maxMessageSize !== undefined) {
      sdp = sdp.replace(/a=max-message-size:\d+/g, `a=max-message-size:${this.#opts.maxMessageSize}`);
    }
    this.#fullOfferSdp = sdp;
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

  /** The answer as applied (see `answerMaxMessageSize`). */
  #answerSdp(sdp: string): string {
    const max = this.#opts.answerMaxMessageSize;
    return max === undefined ? sdp : sdp.replace(/a=max-message-size:\d+/g, `a=max-message-size:${max}`);
  }

  /** Applies the server's answer (`{ sdp }`; extra fields such as `pc_id` are ignored, like the browser). */
  setAnswer(answer: { sdp: string }): void {
    try {
      this.pc.setRemoteDescription(this.#answerSdp(answer.sdp), 'answer');
    } catch (err) {
      // "without ICE transport" = the PC closed inside this call: see `candidatesInOffer` for the race.
      const hint = this.#opts.candidatesInOffer ? ' (candidatesInOffer: true is racy, see its docs)' : '';
      throw new Error(
        `offerer setRemoteDescription failed (state ${this.state}/${this.pc.state()}, ice ${this.pc.iceState()}, ` +
          `gathering ${this.pc.gatheringState()}, signaling ${this.pc.signalingState()})${hint}: ${String(err)}`,
        { cause: err },
      );
    }
  }

  /**
   * In-process signalling: offers to `connection` (`initialize`, or with `restartPc` a restart_pc
   * `renegotiate` of an existing connection) and applies its answer. Connecting is left to the caller.
   */
  async negotiate(connection: SmallWebRTCConnection, o: { restartPc?: boolean } = {}): Promise<void> {
    if (o.restartPc) await connection.renegotiate({ ...this.offer, restartPc: true });
    else await connection.initialize(this.offer);
    const answer = connection.getAnswer();
    if (answer === null) throw new Error('the connection gave no answer');
    this.setAnswer(answer);
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

  // --- HTTP signalling (Pipecat's /api/offer) ---

  async #request(method: 'POST' | 'PATCH', body: object): Promise<HttpResult> {
    const res = await fetch(this.offerUrl, {
      method,
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });
    const text = await res.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = text;
    }
    return { status: res.status, json, headers: res.headers };
  }

  /**
   * First offer (pc_id null unless `pcId` is given) and, on 200, applies the answer. By default (`trickle`)
   * the offer carries no candidates and they are PATCHed after the answer, like the web client; with
   * `autoPatch: false` call {@link patchCandidates} yourself. `trickle: false` embeds all candidates.
   * `extra` fields are merged into the POST body (e.g. `requestData`).
   */
  async connect(
    o: { trickle?: boolean; autoPatch?: boolean; pcId?: string | null; extra?: object } = {},
  ): Promise<HttpResult> {
    const trickle = o.trickle ?? true;
    this.timings.offerPostAt = Date.now();
    const r = await this.#request('POST', {
      sdp: trickle ? this.offer.sdp : this.#fullOfferSdp,
      type: 'offer',
      pc_id: o.pcId ?? null,
      restart_pc: false,
      ...(o.extra ?? {}),
    });
    this.timings.answerAt = Date.now();
    if (r.status === 200) {
      const before = this.recoveredAnswerRaces;
      await this.#applyHttpAnswer(r.json as { sdp: string; pc_id: string });
      // A recovered race re-offered without candidates: they must be PATCHed whatever autoPatch says.
      if ((trickle && (o.autoPatch ?? true)) || this.recoveredAnswerRaces > before) {
        const p = await this.patchCandidates(false);
        if (p.status !== 200) throw new Error(`trickle PATCH failed: ${p.status} ${JSON.stringify(p.json)}`);
      }
    }
    return r;
  }

  /**
   * Applies an HTTP answer. On the libdatachannel offerer race (see `candidatesInOffer`) it recovers like the
   * web client after a failed peer: a new peer, POST with the pc_id it got and restart_pc, up to 3 times.
   */
  async #applyHttpAnswer(answer: { sdp: string; pc_id: string }): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      this.pcId = answer.pc_id;
      try {
        this.pc.setRemoteDescription(this.#answerSdp(answer.sdp), 'answer');
        return;
      } catch (err) {
        if (attempt >= 3 || !/without ICE transport/.test(String(err))) throw err;
        this.recoveredAnswerRaces++;
        const failed = this.#retire();
        await this.#newPeer();
        this.#closePeer(failed);
        const r = await this.#request('POST', {
          sdp: this.offer.sdp,
          type: 'offer',
          pc_id: answer.pc_id,
          restart_pc: true,
        });
        if (r.status !== 200)
          throw new Error(`restart after the answer race failed: ${r.status}`, { cause: err });
        answer = r.json as { sdp: string; pc_id: string };
      }
    }
  }

  /** PATCHes the gathered candidates (and, with `end`, an empty end-of-candidates entry). */
  async patchCandidates(end = true, pcId = this.pcId): Promise<HttpResult> {
    const candidates: object[] = this.candidates.map((c) => ({
      candidate: c.candidate,
      sdp_mid: c.sdpMid,
      sdp_mline_index: 0,
    }));
    if (end) candidates.push({ candidate: '', sdp_mid: '0', sdp_mline_index: 0 });
    return this.#request('PATCH', { pc_id: pcId, candidates });
  }

  /**
   * Re-offer on the same peer connection over HTTP (the server-requested renegotiation flow, docs/protocol.md
   * "Renegotiation and restart").
   */
  async renegotiate(): Promise<HttpResult> {
    const offer = await this.reoffer();
    const r = await this.#request('POST', {
      sdp: offer.sdp,
      type: 'offer',
      pc_id: this.pcId,
      restart_pc: false,
    });
    if (r.status === 200) await this.#applyHttpAnswer(r.json as { sdp: string; pc_id: string });
    return r;
  }

  /** Client-side restart: a new peer connection, POST with the old pc_id and restart_pc, then close the old. */
  async restart(): Promise<HttpResult> {
    this.stopRtp();
    const old = this.#retire();
    await this.#newPeer();
    const r = await this.#request('POST', {
      sdp: this.offer.sdp,
      type: 'offer',
      pc_id: this.pcId,
      restart_pc: true,
    });
    if (r.status === 200) {
      await this.#applyHttpAnswer(r.json as { sdp: string; pc_id: string });
      await this.patchCandidates(false);
    }
    this.#closePeer(old);
    return r;
  }

  /** Moves the current peer to `retired` (kept referenced until cleanup()) and stops what runs on it. */
  #retire(): Peer {
    const old: Peer = { pc: this.pc, dc: this.dc, tracks: this.tracks };
    this.retired.push(old);
    this.stopPings();
    return old;
  }

  #closePeer(p: Peer): void {
    try {
      p.dc?.close();
      for (const t of [p.tracks.audio, p.tracks.video, p.tracks.screen]) t?.close();
      p.pc.close();
    } catch {
      // already closed
    }
  }

  // --- waiting ---

  /** Resolves when the PC is connected and the channel open; rejects after `timeoutMs`. */
  async waitConnected(timeoutMs = 20_000): Promise<void> {
    await this.waitUntil(
      () => this.state === 'connected' && (this.channelOpen || !this.dc),
      timeoutMs,
      'connected + open',
    );
  }

  /** Waits until `pred()` is true (re-checked on every event of this client and every 50 ms). */
  async waitUntil(
    pred: () => boolean,
    timeoutMs = 10_000,
    what: string | (() => string) = 'condition',
  ): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!pred()) {
      if (Date.now() > deadline) {
        const said = typeof what === 'string' ? what : what();
        throw new Error(
          `timed out waiting for ${said} (state ${this.state}, channel open ${this.channelOpen})`,
        );
      }
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
      () => (found = this.messages.find(pred)) !== undefined,
      timeoutMs,
      () => `a message; got ${JSON.stringify(this.messages).slice(0, 500)}`,
    );
    return found as Record<string, unknown>;
  }

  #wake(): void {
    for (const w of [...this.#waiters]) w();
  }

  // --- data channel ---

  #channel(): DataChannel {
    if (!this.dc) throw new Error('PipecatLikeClient created with dataChannel: false');
    return this.dc;
  }

  sendText(text: string): boolean {
    return this.#channel().sendMessage(text);
  }

  sendBinary(data: Uint8Array): boolean {
    return this.#channel().sendMessageBinary(data);
  }

  sendJson(obj: unknown): boolean {
    return this.#channel().sendMessage(JSON.stringify(obj));
  }

  sendTrackStatus(index: number, enabled: boolean): void {
    this.sendJson({ type: 'signalling', message: { type: 'trackStatus', receiver_index: index, enabled } });
  }

  startPings(ms: number): void {
    this.stopPings();
    const dc = this.dc;
    this.#pingTimer = setInterval(() => {
      try {
        if (dc?.isOpen()) dc.sendMessage(`ping: ${Date.now()}`);
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

  // --- media ---

  /** Sends one RTP packet with our SSRC on a transceiver (false when it is absent or not open). */
  sendRtp(
    kind: MediaKind,
    p: { seq: number; timestamp: number; payload: Uint8Array; marker?: boolean; pt?: number },
  ): boolean {
    const track = this.tracks[kind];
    if (!track) return false;
    const payloadType = p.pt ?? (kind === 'audio' ? this.#opts.audioPayloadType : 96);
    const packet = rtpTo(
      { ssrc: this.ssrcs[kind], payloadType },
      { sequenceNumber: p.seq, timestamp: p.timestamp, payload: p.payload, marker: p.marker ?? false },
    );
    return track.isOpen() && track.sendMessageBinary(Buffer.from(packet));
  }

  /**
   * Sends a 20 ms Opus silence packet on the audio track every `intervalMs` (default 20; once it is open) until
   * stopRtp() or restart().
   */
  startRtp(intervalMs = 20): void {
    this.stopRtp();
    this.#rtpTimer = setInterval(() => {
      const seq = this.#rtpSeq;
      if (this.sendRtp('audio', { seq, timestamp: seq * OPUS_TICKS_PER_20MS, payload: OPUS_SILENCE })) {
        this.#rtpSeq++;
      }
    }, intervalMs);
  }

  stopRtp(): void {
    if (this.#rtpTimer) clearInterval(this.#rtpTimer);
    this.#rtpTimer = null;
  }

  /**
   * Sends `pcm` (48 kHz mono) as the microphone does: Opus RTP with our audio SSRC, paced one 20 ms packet per
   * 20 ms by the product's AudioSender; resolves once all of it went out (or after its length plus 10 s).
   * Successive calls continue one RTP stream (a new sender would restart the sequence numbers, which SRTP
   * refuses as replays); nothing is sent between calls.
   */
  async sendSpeech(pcm: Int16Array): Promise<void> {
    this.#mic ??= new AudioSender({
      sampleRate: 48000,
      channels: 1,
      ssrc: this.ssrcs.audio,
      payloadType: this.#opts.audioPayloadType,
      autoSilence: false,
      capacityMs: 5000,
    });
    const mic = this.#mic;
    const deadline = performance.now() + pcm.length / 48 + 10_000;
    let rest = pcm;
    while ((rest.length > 0 || mic.queuedMs > 0) && performance.now() < deadline) {
      if (rest.length > 0) rest = rest.subarray(mic.write(rest));
      for (const p of mic.pull(performance.now())) this.tracks.audio.sendMessageBinary(Buffer.from(p));
      await sleep(5);
    }
  }

  /**
   * Decodes the audio the server sends us (48 kHz mono frames, each also given to `onFrame`) until close().
   */
  listenToAudio(onFrame?: (frame: HeardFrame) => void): AudioListener {
    const receiver = new AudioReceiver({ sampleRate: 48000, channels: 1 });
    const frames: HeardFrame[] = [];
    let closed = false;
    this.onRtp('audio', (buf) => {
      // Server RTP already in flight keeps arriving after close(); a closed receiver would throw inside
      // node-datachannel's callback, which aborts the process.
      if (closed) return;
      const at = performance.now();
      for (const f of receiver.push(buf, at)) {
        const frame = { at, pcm: f.audio };
        frames.push(frame);
        onFrame?.(frame);
      }
    });
    return {
      frames,
      loud: (threshold = 1000) => frames.filter((f) => rms(f.pcm) > threshold).length,
      close: () => {
        closed = true;
        receiver.close();
      },
    };
  }

  /** RTP received on a transceiver (kept across restarts). */
  onRtp(kind: MediaKind, cb: (b: Buffer) => void): void {
    this.#rtpSubs[kind].push(cb);
  }

  /** RTCP received on a transceiver (kept across restarts). */
  onRtcp(kind: MediaKind, cb: (b: Buffer) => void): void {
    this.#rtcpSubs[kind].push(cb);
  }

  /** Graceful close (DTLS close_notify / SCTP shutdown reach the server). */
  close(): void {
    this.stopPings();
    this.stopRtp();
    this.#mic?.close();
    this.#mic = null;
    try {
      this.pc.close();
    } catch {
      // already closed
    }
  }
}
