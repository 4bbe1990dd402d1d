import type { InputTrack, SmallWebRTCConnection } from '../connection/index.js';
import { attachMediaStats } from '../connection/media-stats.js';
import { errorCode } from '../errors.js';
import { TypedEmitter, type Listener } from '../events.js';
import { logger } from '../pipeline/logger.js';
import { AudioOutputTrack } from './tracks/audio-output-track.js';
import { VideoOutputTrack } from './tracks/video-output-track.js';
import type { TransportParams } from './transport-params.js';

/**
 * What the client reports to the transport (Pipecat's `SmallWebRTCCallbacks`, as events of the library's
 * one event model). All on the JS thread. The `on_client_*` and `on_app_message` events are awaited (the
 * client waits for the transport's handlers, which wait for the application's); the other two come from the
 * media path and are not.
 */
export interface SmallWebRTCClientEvents {
  on_client_connected: [connection: SmallWebRTCConnection];
  on_client_disconnected: [connection: SmallWebRTCConnection];
  on_client_closed: [connection: SmallWebRTCConnection];
  on_app_message: [message: unknown, sender: string];
  /** The bot's audio started/stopped going out on the wire. */
  on_bot_speaking: [speaking: boolean];
  /** The peer's microphone track changed (a new peer connected, or it went away: null). */
  on_audio_input_changed: [track: InputTrack | null];
  /** The peer's camera (transceiver 1) or screen (transceiver 2) track changed. */
  on_video_input_changed: [source: 'camera' | 'screenVideo', track: InputTrack | null];
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
  readonly #events: TypedEmitter<SmallWebRTCClientEvents>;
  /** The transport halves holding the connection (each counted once, however often it releases). */
  readonly #owners = new Set<object>();
  #connectPromise: Promise<void> | null = null;
  #closing = false;
  #closed = false;
  /** on_client_disconnected / on_client_closed were emitted (once, whoever noticed the close first). */
  #closedReported = false;
  /** The pipeline's output rate from the StartFrame (used when TransportParams leaves it unset), Hz. */
  #pipelineOutRate: number | null = null;
  /** Between a `connected` and the next `disconnected`/close: the peer can take our tracks. */
  #peerUp = false;
  #audioOut: AudioOutputTrack | null = null;
  /** Detaches the bot audio sender's counters from the connection's monitoring totals. */
  #detachAudioOutStats: (() => void) | null = null;
  #detachVideoOutStats: (() => void) | null = null;
  #audioIn: InputTrack | null = null;
  #videoOut: VideoOutputTrack | null = null;
  #videoIn: { camera: InputTrack | null; screenVideo: InputTrack | null } = {
    camera: null,
    screenVideo: null,
  };

  constructor(connection: SmallWebRTCConnection, params: TransportParams) {
    this.connection = connection;
    this.#params = params;
    this.#events = new TypedEmitter(() => `SmallWebRTCClient(${connection.name})`);
    this.#events.register('on_client_connected');
    this.#events.register('on_client_disconnected');
    this.#events.register('on_client_closed');
    this.#events.register('on_app_message');
    this.#events.register('on_bot_speaking', { awaited: false });
    this.#events.register('on_audio_input_changed', { awaited: false });
    this.#events.register('on_video_input_changed', { awaited: false });
    connection.on('connected', () => this.#handleConnected());
    connection.on('disconnected', () => {
      this.#peerUp = false;
      this.#clearTracks();
    });
    connection.on('closed', () => this.#handleClosed());
    connection.on('app-message', (_c, message) =>
      this.#events.emit('on_app_message', message, connection.pcId),
    );
  }

  /** Adds a handler of one of the {@link SmallWebRTCClientEvents} (the transport's wiring). */
  on<K extends keyof SmallWebRTCClientEvents>(name: K, handler: Listener<SmallWebRTCClientEvents[K]>): this {
    this.#events.on(name, handler);
    return this;
  }

  /** The outgoing audio track while connected with audio out enabled, else null. */
  get audioOutput(): AudioOutputTrack | null {
    return this.#audioOut;
  }

  /** The outgoing video track while connected with video out enabled, else null. */
  get videoOutput(): VideoOutputTrack | null {
    return this.#videoOut;
  }

  /** The peer's microphone track while connected, else null. */
  get audioInput(): InputTrack | null {
    return this.#audioIn;
  }

  /** The peer's camera (`camera`) or screen share (`screenVideo`) track while connected, else null. */
  videoInput(source: 'camera' | 'screenVideo'): InputTrack | null {
    return this.#videoIn[source];
  }

  /** Whether the peer is live (ping-based, as Pipecat) and we are not shutting down. */
  get canSend(): boolean {
    return !this.#closing && !this.#closed && this.connection.isConnected();
  }

  /** Called with the new audio input track (or null) whenever it changes. Returns an unsubscribe. */
  onAudioInputChanged(listener: (track: InputTrack | null) => void): () => void {
    this.#events.on('on_audio_input_changed', listener);
    return () => this.#events.off('on_audio_input_changed', listener);
  }

  /** Called with the camera/screen track (or null) whenever one changes. Returns an unsubscribe. */
  onVideoInputChanged(
    listener: (source: 'camera' | 'screenVideo', track: InputTrack | null) => void,
  ): () => void {
    this.#events.on('on_video_input_changed', listener);
    return () => this.#events.off('on_video_input_changed', listener);
  }

  /**
   * Takes the StartFrame's output rate (first call wins) and creates the output track if the peer connected
   * before the rate was known.
   */
  setOutputSampleRate(rate: number): void {
    this.#pipelineOutRate ??= rate;
    this.#ensureAudioOutput();
  }

  /**
   * Connects once for all owners (reference-counted). A failed connect rejects for every owner. A client
   * that already left (the connection closed before the pipeline started) is not a failure: a client
   * leaving is normal, so this resolves and reports the departure (`on_client_disconnected`, then
   * `on_client_closed`) if nobody saw it yet, and the application ends the task as after any departure.
   */
  async connect(owner: object): Promise<void> {
    this.#owners.add(owner);
    this.#connectPromise ??= this.#connectOnce();
    await this.#connectPromise;
  }

  async #connectOnce(): Promise<void> {
    if (!this.connection.closed) {
      try {
        await this.connection.connect();
        return;
      } catch (err) {
        // The peer left between the check and the call: the same case as below.
        if (errorCode(err) !== 'ERR_CLOSED') throw err;
      }
    }
    logger().info(`${this.connection.name}: the client left before the pipeline started`);
    await this.#handleClosed();
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
    this.#setVideoInput('camera', this.connection.videoInputTrack());
    this.#setVideoInput('screenVideo', this.connection.screenVideoInputTrack());
    this.#ensureAudioOutput();
    this.#ensureVideoOutput();
    await this.#events.emit('on_client_connected', this.connection);
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
      dtx: this.#params.audioOutDtx,
      // Pipecat writes audioOut10msChunks x 10 ms per write and keeps about that much in flight; the
      // native pacer no longer needs chunks, so the same knob sets how far writes run ahead of the wire
      // (at least two 20 ms packets, so a late pacer tick never starves the encoder).
      lookaheadMs: Math.max(40, this.#params.audioOut10msChunks * 10),
      maxStallDelayMs: this.#params.audioOutMaxStallDelayMs,
      onSpeaking: (speaking) => void this.#events.emit('on_bot_speaking', speaking),
    });
    this.#audioOut = track;
    this.#detachAudioOutStats = attachMediaStats(this.connection, () => {
      const s = track.stats();
      return { packetsOut: s.packetsSent, sendUnderruns: s.skippedSlots };
    });
    this.connection.replaceAudioTrack(track);
  }

  /** Attaches the bot's video track (transceiver 1) once the peer is up, with video out enabled. */
  #ensureVideoOutput(): void {
    if (!this.#peerUp || this.#closing || this.#closed || !this.#params.videoOutEnabled) return;
    if (this.#videoOut !== null) return;
    const p = this.#params;
    const track = new VideoOutputTrack({
      width: p.videoOutWidth,
      height: p.videoOutHeight,
      framerate: p.videoOutFramerate,
      bitrate: p.videoOutBitrate,
      live: p.videoOutIsLive,
      name: `${this.connection.name} video out`,
    });
    this.#videoOut = track;
    this.#detachVideoOutStats = attachMediaStats(this.connection, () => {
      const c = track.counters();
      return {
        videoFramesOut: c.framesOut,
        videoEncodeErrors: c.encodeErrors,
        videoKeyframeRequestsReceived: c.keyframeRequests,
      };
    });
    this.connection.replaceVideoTrack(track);
  }

  async #handleClosed(): Promise<void> {
    const byUs = this.#closing;
    this.#closed = true;
    this.#peerUp = false;
    this.#clearTracks();
    if (this.#closedReported) return;
    this.#closedReported = true;
    if (!byUs) await this.#events.emit('on_client_disconnected', this.connection);
    await this.#events.emit('on_client_closed', this.connection);
  }

  #setAudioInput(track: InputTrack | null): void {
    if (this.#audioIn === track) return;
    this.#audioIn = track;
    void this.#events.emit('on_audio_input_changed', track);
  }

  #setVideoInput(source: 'camera' | 'screenVideo', track: InputTrack | null): void {
    if (this.#videoIn[source] === track) return;
    this.#videoIn[source] = track;
    void this.#events.emit('on_video_input_changed', source, track);
  }

  #clearTracks(): void {
    this.#setAudioInput(null);
    this.#setVideoInput('camera', null);
    this.#setVideoInput('screenVideo', null);
    if (this.#videoOut) {
      this.connection.replaceVideoTrack(null);
      this.#detachVideoOutStats?.(); // before close: takes the sender's last reading
      this.#detachVideoOutStats = null;
      this.#videoOut.close();
      this.#videoOut = null;
    }
    if (this.#audioOut) {
      this.connection.replaceAudioTrack(null);
      this.#detachAudioOutStats?.(); // before close: takes the sender's last reading
      this.#detachAudioOutStats = null;
      this.#audioOut.close();
      this.#audioOut = null;
    }
  }
}
