// A small node-datachannel offering client that talks HTTP to our signalling server the way the Pipecat web
// client does: audio sendrecv (Opus 111) [+ camera video sendrecv (VP8 96) + screen video sendonly], the
// ordered `chat` channel, POST /api/offer, PATCH trickle, re-offers with pc_id and restart_pc.
// Used by the server integration tests and bench/setup.
//
// Two node-datachannel facts shape it (verified here):
// - Like the web client (waitForICEGathering: false) it posts the offer WITHOUT candidates and PATCHes them
//   after the answer. A libdatachannel offerer that embeds its candidates sometimes fails to apply a valid
//   answer ("Got a remote candidate without ICE transport"), more often with embedded candidates; real
//   offerers (browsers, aiortc) are not affected. When it happens the client recovers like the web client
//   does after a failed peer: a new peer, POST with the pc_id it got and restart_pc: true (see #apply).
// - Every PeerConnection/Track/DataChannel stays referenced (also after close, see `retired`) until the test
//   file calls nodeDataChannel.cleanup(): a collected, closed wrapper makes cleanup() crash the process.
import nodeDataChannel from 'node-datachannel';

import { until } from '../../testkit/wait.js';
import { OPUS_SILENCE, OPUS_TICKS_PER_20MS, rtpTo } from '../../testkit/rtp.js';

type PeerConnection = InstanceType<typeof nodeDataChannel.PeerConnection>;
type Track = ReturnType<PeerConnection['addTrack']>;
type DataChannel = ReturnType<PeerConnection['createDataChannel']>;

/** HTTP result of a signalling call. */
export interface HttpResult {
  status: number;
  json: unknown;
  headers: Headers;
}

/** Options of {@link NodeClient}. */
export interface NodeClientOptions {
  /** Server base URL. */
  baseUrl: string;
  /** Offer path (default `/api/offer`). */
  offerPath?: string;
  /** Also add camera (sendrecv) and screen (sendonly) video transceivers like the Pipecat web client. */
  video?: boolean;
}

let counter = 0;

/** One client "session"; `restart()` swaps in a new peer connection like the web client's reconnect. */
export class NodeClient {
  pc!: PeerConnection;
  audio!: Track;
  videoTracks: Track[] = [];
  dc!: DataChannel;
  pcId: string | null = null;
  /** Parsed JSON messages received on `chat` (non-JSON text is kept as a string). */
  readonly messages: unknown[] = [];
  /** RTP/RTCP packets received on the audio track. */
  audioPackets = 0;
  /** Peer connection states seen (latest last). */
  readonly states: string[] = [];
  /** Local candidates gathered (for trickle PATCHes). */
  candidates: Array<{ candidate: string; sdp_mid: string }> = [];
  /** Epoch ms of the last connect(): offer POST start, its response, and the current peer's `connected`. */
  readonly timings = { offerPostAt: 0, answerAt: 0, connectedAt: 0 };
  /** Peers replaced by restart(), kept referenced until cleanup() (see the header). */
  readonly retired: unknown[] = [];
  readonly #opts: NodeClientOptions;
  #rtpTimer: ReturnType<typeof setInterval> | null = null;
  #ssrc = (Math.random() * 0xffffffff) >>> 0;
  #seq = 0;
  #gathered!: Promise<void>;
  #localSdp!: Promise<string>;

  constructor(opts: NodeClientOptions) {
    this.#opts = opts;
    this.#createPeer();
  }

  get offerUrl(): string {
    return this.#opts.baseUrl + (this.#opts.offerPath ?? '/api/offer');
  }

  #createPeer(): void {
    const pc = new nodeDataChannel.PeerConnection(`node-client-${++counter}`, {
      iceServers: [],
      bindAddress: '127.0.0.1',
    });
    this.pc = pc;
    this.candidates = [];
    pc.onStateChange((s) => {
      this.states.push(s);
      if (s === 'connected' && pc === this.pc) this.timings.connectedAt = Date.now();
    });
    this.#localSdp = new Promise((resolve) => pc.onLocalDescription((sdp) => resolve(sdp)));
    this.#gathered = new Promise((resolve) =>
      pc.onGatheringStateChange((s) => {
        if (s === 'complete') resolve();
      }),
    );
    pc.onLocalCandidate((candidate, mid) => this.candidates.push({ candidate, sdp_mid: mid }));
    const audio = new nodeDataChannel.Audio('0', 'SendRecv');
    audio.addOpusCodec(111, 'minptime=10;useinbandfec=1');
    audio.addSSRC(this.#ssrc, 'node-client', 'client-stream', 'client-audio');
    this.audio = pc.addTrack(audio);
    this.audio.onMessage(() => this.audioPackets++);
    this.videoTracks = [];
    if (this.#opts.video) {
      const cam = new nodeDataChannel.Video('1', 'SendRecv');
      cam.addVP8Codec(96);
      this.videoTracks.push(pc.addTrack(cam));
      const screen = new nodeDataChannel.Video('2', 'SendOnly');
      screen.addVP8Codec(96);
      this.videoTracks.push(pc.addTrack(screen));
    }
    this.dc = pc.createDataChannel('chat');
    this.dc.onMessage((msg) => {
      const text = typeof msg === 'string' ? msg : Buffer.from(msg as ArrayBuffer).toString();
      try {
        this.messages.push(JSON.parse(text));
      } catch {
        this.messages.push(text);
      }
    });
  }

  /** The offer SDP: complete (all candidates) unless `trickle`, then without candidates. */
  async #offerSdp(trickle: boolean): Promise<string> {
    if (trickle) return this.#localSdp;
    await this.#gathered;
    return this.pc.localDescription()!.sdp;
  }

  async #post(body: object): Promise<HttpResult> {
    const res = await fetch(this.offerUrl, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });
    const text = await res.text();
    let json: unknown = null;
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
   */
  async connect(
    o: { trickle?: boolean; autoPatch?: boolean; pcId?: string | null; extra?: object } = {},
  ): Promise<HttpResult> {
    const trickle = o.trickle ?? true;
    const sdp = await this.#offerSdp(trickle);
    this.timings.offerPostAt = Date.now();
    const r = await this.#post({
      sdp,
      type: 'offer',
      pc_id: o.pcId ?? null,
      restart_pc: false,
      ...(o.extra ?? {}),
    });
    this.timings.answerAt = Date.now();
    if (r.status === 200) {
      const before = this.recoveredAnswerRaces;
      await this.#apply(r.json as { sdp: string; pc_id: string });
      // A recovered race re-offered without candidates: they must be PATCHed whatever autoPatch says.
      if ((trickle && (o.autoPatch ?? true)) || this.recoveredAnswerRaces > before) {
        const p = await this.patchCandidates(false);
        if (p.status !== 200) throw new Error(`trickle PATCH failed: ${p.status} ${JSON.stringify(p.json)}`);
      }
    }
    return r;
  }

  #applyAnswer(answer: { sdp: string; pc_id: string }): void {
    this.pcId = answer.pc_id;
    this.pc.setRemoteDescription(answer.sdp, 'answer');
  }

  /** Number of times the libdatachannel answer race was recovered with a restart (see the header). */
  recoveredAnswerRaces = 0;

  /** Applies an answer; on the libdatachannel offerer race, restarts (new peer, restart_pc) up to 3 times. */
  async #apply(answer: { sdp: string; pc_id: string }): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        this.#applyAnswer(answer);
        return;
      } catch (err) {
        if (attempt >= 3 || !/without ICE transport/.test(String(err))) throw err;
        this.recoveredAnswerRaces++;
        const failed = { pc: this.pc, audio: this.audio, videoTracks: this.videoTracks, dc: this.dc };
        this.retired.push(failed);
        failed.dc.close();
        failed.audio.close();
        for (const t of failed.videoTracks) t.close();
        failed.pc.close();
        this.#createPeer();
        const r = await this.#post({
          sdp: await this.#offerSdp(true),
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
    await this.#gathered;
    const candidates: object[] = this.candidates.map((c) => ({
      candidate: c.candidate.replace(/^a=/, ''),
      sdp_mid: c.sdp_mid,
      sdp_mline_index: 0,
    }));
    if (end) candidates.push({ candidate: '', sdp_mid: '0', sdp_mline_index: 0 });
    const res = await fetch(this.offerUrl, {
      method: 'PATCH',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ pc_id: pcId, candidates }),
    });
    return { status: res.status, json: await res.json(), headers: res.headers };
  }

  /**
   * Re-offer on the same peer connection (server-requested renegotiation flow, docs/protocol.md
   * "Renegotiation and restart").
   */
  async renegotiate(): Promise<HttpResult> {
    const sdp = new Promise<string>((resolve) => this.pc.onLocalDescription((s) => resolve(s)));
    this.pc.setLocalDescription('offer');
    const r = await this.#post({ sdp: await sdp, type: 'offer', pc_id: this.pcId, restart_pc: false });
    if (r.status === 200) await this.#apply(r.json as { sdp: string; pc_id: string });
    return r;
  }

  /** Client-side restart: a new peer connection, POST with the old pc_id and restart_pc, then close the old. */
  async restart(): Promise<HttpResult> {
    const old = { pc: this.pc, audio: this.audio, videoTracks: this.videoTracks, dc: this.dc };
    this.retired.push(old);
    this.stopRtp();
    this.#createPeer();
    const sdp = await this.#offerSdp(true);
    const r = await this.#post({ sdp, type: 'offer', pc_id: this.pcId, restart_pc: true });
    if (r.status === 200) {
      await this.#apply(r.json as { sdp: string; pc_id: string });
      await this.patchCandidates(false);
    }
    old.dc.close();
    old.audio.close();
    for (const t of old.videoTracks) t.close();
    old.pc.close();
    return r;
  }

  /** Resolves once the peer is connected and `chat` is open. */
  async waitReady(timeoutMs = 20_000): Promise<void> {
    await until(
      () => this.pc.state() === 'connected' && this.dc.isOpen(),
      timeoutMs,
      () => `client ready (state=${this.pc.state()} dc=${this.dc.isOpen()})`,
    );
  }

  /** Sends a JSON app message on `chat`. */
  send(message: unknown): boolean {
    return this.dc.sendMessage(JSON.stringify(message));
  }

  /** Sends a raw text message on `chat`. */
  sendRaw(text: string): boolean {
    return this.dc.sendMessage(text);
  }

  /** Sends Opus silence RTP every 20 ms on the audio track until stopRtp(). */
  startRtp(): void {
    this.stopRtp();
    const track = this.audio;
    this.#rtpTimer = setInterval(() => {
      if (!track.isOpen()) return;
      const packet = rtpTo(
        { ssrc: this.#ssrc, payloadType: 111 },
        { sequenceNumber: this.#seq, timestamp: this.#seq * OPUS_TICKS_PER_20MS, payload: OPUS_SILENCE },
      );
      this.#seq++;
      track.sendMessageBinary(Buffer.from(packet));
    }, 20);
  }

  /** Stops the RTP timer. */
  stopRtp(): void {
    if (this.#rtpTimer) clearInterval(this.#rtpTimer);
    this.#rtpTimer = null;
  }

  /** Waits until `pred` holds for some received message. */
  async waitMessage(pred: (m: unknown) => boolean, timeoutMs = 10_000): Promise<unknown> {
    let found: unknown;
    await until(
      () => (found = this.messages.find(pred)) !== undefined,
      timeoutMs,
      () => `a message; got ${JSON.stringify(this.messages).slice(0, 500)}`,
    );
    return found;
  }

  /** Closes everything. */
  close(): void {
    this.stopRtp();
    this.dc.close();
    this.audio.close();
    for (const t of this.videoTracks) t.close();
    this.pc.close();
  }
}
