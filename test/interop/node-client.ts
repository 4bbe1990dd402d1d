// A small node-datachannel offering client that talks HTTP to our signalling server the way the Pipecat web
// client does: audio sendrecv (Opus 111) [+ camera video sendrecv (VP8 96) + screen video sendonly], the
// ordered `chat` channel, POST /api/offer, PATCH trickle, re-offers with pc_id and restart_pc.
// Used by the server integration tests and bench/setup.
import nodeDataChannel from 'node-datachannel';

import { buildRtpPacket, OPUS_SILENCE } from './opus-silence-track.js';

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
    pc.onStateChange((s) => this.states.push(s));
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
   * First offer (pc_id null unless `pcId` is given) and, on 200, applies the answer.
   * `trickle: true` posts the candidate-less offer; send candidates with {@link patchCandidates}.
   */
  async connect(o: { trickle?: boolean; pcId?: string | null; extra?: object } = {}): Promise<HttpResult> {
    const sdp = await this.#offerSdp(o.trickle ?? false);
    const r = await this.#post({
      sdp,
      type: 'offer',
      pc_id: o.pcId ?? null,
      restart_pc: false,
      ...(o.extra ?? {}),
    });
    if (r.status === 200) this.#applyAnswer(r.json as { sdp: string; pc_id: string });
    return r;
  }

  #applyAnswer(answer: { sdp: string; pc_id: string }): void {
    this.pcId = answer.pc_id;
    this.pc.setRemoteDescription(answer.sdp, 'answer');
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

  /** Re-offer on the same peer connection (server-requested renegotiation flow, spec §1.6). */
  async renegotiate(): Promise<HttpResult> {
    const sdp = new Promise<string>((resolve) => this.pc.onLocalDescription((s) => resolve(s)));
    this.pc.setLocalDescription('offer');
    const r = await this.#post({ sdp: await sdp, type: 'offer', pc_id: this.pcId, restart_pc: false });
    if (r.status === 200) this.#applyAnswer(r.json as { sdp: string; pc_id: string });
    return r;
  }

  /** Client-side restart: a new peer connection, POST with the old pc_id and restart_pc, then close the old. */
  async restart(): Promise<HttpResult> {
    const old = { pc: this.pc, audio: this.audio, videoTracks: this.videoTracks, dc: this.dc };
    this.stopRtp();
    this.#createPeer();
    const sdp = await this.#offerSdp(false);
    const r = await this.#post({ sdp, type: 'offer', pc_id: this.pcId, restart_pc: true });
    if (r.status === 200) this.#applyAnswer(r.json as { sdp: string; pc_id: string });
    old.dc.close();
    old.audio.close();
    for (const t of old.videoTracks) t.close();
    old.pc.close();
    return r;
  }

  /** Resolves once the peer is connected and `chat` is open. */
  async waitReady(timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!(this.pc.state() === 'connected' && this.dc.isOpen())) {
      if (Date.now() > deadline)
        throw new Error(`client not ready: state=${this.pc.state()} dc=${this.dc.isOpen()}`);
      await new Promise((r) => setTimeout(r, 20));
    }
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
      const packet = buildRtpPacket({
        payloadType: 111,
        sequenceNumber: this.#seq,
        timestamp: this.#seq * 960,
        ssrc: this.#ssrc,
        payload: OPUS_SILENCE,
      });
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
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.messages.find(pred);
      if (found !== undefined) return found;
      if (Date.now() > deadline)
        throw new Error(`message not received; got ${JSON.stringify(this.messages).slice(0, 500)}`);
      await new Promise((r) => setTimeout(r, 20));
    }
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
