import type { InputTrack, SmallWebRTCConnection } from '../connection/index.js';
import { logger } from '../pipeline/logger.js';
import { AudioOutputTrack } from './tracks/audio-output-track.js';
import type { TransportParams } from './transport-params.js';

/** What the client reports to the transport (Pipecat's `SmallWebRTCCallbacks`). All run on the JS thread. */
export interface SmallWebRTCClientCallbacks {
  onClientConnected(connection: SmallWebRTCConnection): Promise<void>;
  onClientDisconnected(connection: SmallWebRTCConnection): Promise<void>;
  onClientClosed(connection: SmallWebRTCConnection): Promise<void>;
  onAppMessage(message: unknown, sender: string): Promise<void>;
  /** The bot's audio started/stopped going out on the wire. */
  onBotSpeaking(speaking: boolean): void;
}

/**
 * The state shared by a transport's input and output halves (Pipecat's `SmallWebRTCClient`): the connection,
 * the current input tracks and the outgoing audio track. Connect/disconnect are reference-counted, so the
 * two halves may both call them (Pipecat d69d74ed2): the first connect connects, the last disconnect
 * disconnects. Tracks are rebuilt on every `connected` (a `restart_pc` replaces the peer).
 */
export class SmallWebRTCClient {
  readonly connection: SmallWebRTCConnection;
  readonly #params: TransportParams;
  readonly #callbacks: SmallWebRTCClientCallbacks;
  /** The transport halves holding the connection (each counted once, however often it releases). */
  readonly #owners = new Set<object>();
  #connectPromise: Promise<void> | null = null;
  #closing = false;
  #closed = false;
  /** The pipeline's output rate from the StartFrame (used when TransportParams leaves it unset), Hz. */
  #pipelineOutRate: number | null = null;
  /** Between a `connected` and the next `disconnected`/close: the peer can take our tracks. */
  #peerUp = false;
  #audioOut: AudioOutputTrack | null = null;
  #audioIn: InputTrack | null = null;
  readonly #trackListeners = new Set<(track: InputTrack | null) => void>();

  constructor(
    connection: SmallWebRTCConnection,
    params: TransportParams,
    callbacks: SmallWebRTCClientCallbacks,
  ) {
    this.connection = connection;
    this.#params = params;
    this.#callbacks = callbacks;
    connection.on('connected', () => this.#handleConnected());
    connection.on('disconnected', () => {
      this.#peerUp = false;
      this.#clearTracks();
    });
    connection.on('closed', () => this.#handleClosed());
    connection.on('app-message', (_c, message) => this.#callbacks.onAppMessage(message, connection.pcId));
  }

  /** The outgoing audio track while connected with audio out enabled, else null. */
  get audioOutput(): AudioOutputTrack | null {
    return this.#audioOut;
  }

  /** The peer's microphone track while connected, else null. */
  get audioInput(): InputTrack | null {
    return this.#audioIn;
  }

  /** Whether the peer is live (ping-based, as Pipecat) and we are not shutting down. */
  get canSend(): boolean {
    return !this.#closing && !this.#closed && this.connection.isConnected();
  }

  /** Called with the new audio input track (or null) whenever it changes. Returns an unsubscribe. */
  onAudioInputChanged(listener: (track: InputTrack | null) => void): () => void {
    this.#trackListeners.add(listener);
    return () => this.#trackListeners.delete(listener);
  }

  /**
   * Takes the StartFrame's output rate (first call wins) and creates the output track if the peer connected
   * before the rate was known.
   */
  setOutputSampleRate(rate: number): void {
    this.#pipelineOutRate ??= rate;
    this.#ensureAudioOutput();
  }

  /** Connects once for all owners (reference-counted). A failed connect rejects for every owner. */
  async connect(owner: object): Promise<void> {
    this.#owners.add(owner);
    this.#connectPromise ??= this.connection.connect();
    await this.#connectPromise;
  }

  /**
   * Releases `owner` (a no-op for one that never connected or already released); the last owner disconnects
   * (sends `peerLeft`, then closes).
   */
  async disconnect(owner: object): Promise<void> {
    if (!this.#owners.delete(owner) || this.#owners.size > 0 || this.#closed) return;
    this.#closing = true;
    this.#peerUp = false;
    this.#clearTracks();
    await this.connection.disconnect();
  }

  /** Sends an app message to the client (queued by the connection until its channel opens). */
  sendMessage(message: unknown): void {
    if (this.#closing || this.#closed) {
      logger().debug('transport closing: app message discarded');
      return;
    }
    this.connection.sendAppMessage(message);
  }

  async #handleConnected(): Promise<void> {
    if (this.#closing || this.#closed) return;
    this.#clearTracks();
    this.#peerUp = true;
    this.#setAudioInput(this.connection.audioInputTrack());
    this.#ensureAudioOutput();
    await this.#callbacks.onClientConnected(this.connection);
  }

  /**
   * Attaches the bot's audio track once the peer is up and the output rate is known (TransportParams, else
   * the StartFrame's: Pipecat's `out_rate`). Writing at the rate the bot produces avoids a resampling hop.
   */
  #ensureAudioOutput(): void {
    if (!this.#peerUp || this.#closing || this.#closed || !this.#params.audioOutEnabled) return;
    if (this.#audioOut !== null) return;
    const rate = this.#params.audioOutSampleRate ?? this.#pipelineOutRate;
    if (rate === null) return; // the StartFrame brings it (setOutputSampleRate)
    const track = new AudioOutputTrack({
      sampleRate: rate,
      channels: this.#params.audioOutChannels === 2 ? 2 : 1,
      bitrate: this.#params.audioOutBitrate,
      autoSilence: this.#params.audioOutAutoSilence,
      // Pipecat writes audioOut10msChunks x 10 ms per write and keeps about that much in flight; the
      // native pacer no longer needs chunks, so the same knob sets how far writes run ahead of the wire
      // (at least two 20 ms packets, so a late pacer tick never starves the encoder).
      lookaheadMs: Math.max(40, this.#params.audioOut10msChunks * 10),
      onSpeaking: (speaking) => this.#callbacks.onBotSpeaking(speaking),
    });
    this.#audioOut = track;
    this.connection.replaceAudioTrack(track);
  }

  async #handleClosed(): Promise<void> {
    const byUs = this.#closing;
    this.#closed = true;
    this.#peerUp = false;
    this.#clearTracks();
    if (!byUs) await this.#callbacks.onClientDisconnected(this.connection);
    await this.#callbacks.onClientClosed(this.connection);
  }

  #setAudioInput(track: InputTrack | null): void {
    if (this.#audioIn === track) return;
    this.#audioIn = track;
    for (const l of this.#trackListeners) {
      try {
        l(track);
      } catch (err) {
        logger().error('audio input listener failed', err);
      }
    }
  }

  #clearTracks(): void {
    this.#setAudioInput(null);
    if (this.#audioOut) {
      this.connection.replaceAudioTrack(null);
      this.#audioOut.close();
      this.#audioOut = null;
    }
  }
}
