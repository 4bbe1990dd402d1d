// The demo page's client: the real @pipecat-ai/client-js PipecatClient over the real
// @pipecat-ai/small-webrtc-transport, bundled by scripts/build-demo-client.mjs into demo.bundle.js (no CDN).
// One file on purpose, although longer than the ~600 lines the library's modules keep to: it is an example
// page's script, not library code, and a reader copying the demo wants it whole.
//
// Media: SmallWebRTCTransport's default media manager (DailyMediaManager) captures the mic through
// @daily-co/daily-js, whose startCamera() loads Daily's "call machine" script from c.daily.co at run time.
// This demo must work with no network, so it passes its own LocalMediaManager: plain getUserMedia for the
// mic, the bot's audio played from its WebRTC track through an <audio> element. Add `?media=daily` to
// the URL to use the transport's default manager instead (needs internet access).
//
// Camera: off at load unless the URL has `?cam=1`; the Camera button turns it on or off at any time. Turned on
// while connected, the new camera track goes into the peer connection's camera transceiver (replaceTrack:
// the transceiver is sendrecv from the start, so no renegotiation). The bot's video (transceiver 1 of the
// answer) plays in the "Bot video" view; the effect menu sends `{ t: 'set-effect', d: { effect } }`, which
// the video-transform bot (examples/video-transform.ts) understands and other bots ignore.
//
// Test hook: `window.demo` (see DemoHook) lets Chromium tests drive the page and read what it saw.
import {
  PipecatClient,
  type BotReadyData,
  type PipecatClientOptions,
  type RTVIEventCallbacks,
  type Participant,
  type Tracks,
  type TransportState,
} from '@pipecat-ai/client-js';
import { SmallWebRTCTransport, type SmallWebRTCTransportConstructorOptions } from '@pipecat-ai/small-webrtc-transport';

/** One entry of the page's bounded event log. */
interface DemoEvent {
  /** ms since page load (performance.now()). */
  t: number;
  /** Callback name without the `on` prefix, e.g. `BotReady`. */
  type: string;
  /** Callback payload, if any. */
  data?: unknown;
}

/** What the page exposes on `window.demo` for tests (and curious users in the console). */
interface DemoHook {
  /** The PipecatClient (constructed at page load). */
  client: PipecatClient;
  /** Library version string of client-js. */
  clientVersion: string;
  /** `SmallWebRTCTransport.SERVICE_NAME` when the client's transport is a SmallWebRTCTransport. */
  transportService: string | null;
  /** 'local' (getUserMedia, offline) or 'daily' (the transport's default DailyMediaManager, `?media=daily`). */
  mediaManager: 'local' | 'daily';
  /** Latest transport state. */
  state: TransportState;
  /** True after bot-ready arrived, false again after disconnect. */
  botReady: boolean;
  /** The bot-ready payload. */
  botReadyData: BotReadyData | null;
  /** True between user-started-speaking and user-stopped-speaking (the server's VAD). */
  userSpeaking: boolean;
  /** True between bot-started-speaking and bot-stopped-speaking. */
  botSpeaking: boolean;
  /** Whether the mic is enabled (client view). */
  micEnabled: boolean;
  /** Whether the camera is enabled (client view). */
  camEnabled: boolean;
  /** Last `{type:'stats'}` server message, null before the first one. */
  lastStats: Record<string, unknown> | null;
  /** Count of each callback seen, by name (e.g. `UserStartedSpeaking: 2`). */
  counters: Record<string, number>;
  /** RMS (0..1 full scale) of the bot's audio, sampled every 100 ms while a bot track plays (bounded). */
  remoteAudioRms: number[];
  /** RMS of the local microphone track, sampled every 100 ms (bounded). */
  localAudioRms: number[];
  /** The bot audio track currently played, if any. */
  remoteTrack: MediaStreamTrack | null;
  /** The local microphone track, if acquired. */
  localTrack: MediaStreamTrack | null;
  /** The bot's video track once it started, else null. */
  remoteVideoTrack: MediaStreamTrack | null;
  /** The local camera track, if acquired. */
  localVideoTrack: MediaStreamTrack | null;
  /** Last 300 events. */
  events: DemoEvent[];
  /** Errors seen (connect failures, RTVI errors), last 50. */
  errors: string[];
  /** Acquire the mic without connecting (client.initDevices()). */
  initDevices(): Promise<void>;
  /** Connect to `endpoint` (default `/api/offer`); resolves at bot-ready. */
  connect(endpoint?: string): Promise<BotReadyData>;
  /** Disconnect. */
  disconnect(): Promise<void>;
  /** Enable/disable the mic (sends trackStatus to the server). */
  enableMic(enable: boolean): void;
  /** Enable/disable the camera (acquired on first use; sends trackStatus to the server). */
  enableCam(enable: boolean): void;
  /** Send an RTVI client-message `{t, d}` to the bot. */
  sendClientMessage(type: string, data?: unknown): void;
  /** WebRTC getStats() of the audio path (inbound = bot audio, outbound = mic), null when not connected. */
  audioStats(): Promise<AudioRtcStats | null>;
  /** WebRTC getStats() of the video path (inbound = bot video, outbound = camera), null when not connected. */
  videoStats(): Promise<VideoRtcStats | null>;
}

/** The getStats() fields of the video path that tests and the page care about. */
interface VideoRtcStats {
  inbound: {
    framesDecoded: number;
    framesReceived: number;
    framesDropped: number;
    frameWidth: number;
    frameHeight: number;
    framesPerSecond: number;
    keyFramesDecoded: number;
    pliCount: number;
    nackCount: number;
    packetsLost: number;
    codec: string | null;
  } | null;
  outbound: {
    framesEncoded: number;
    framesSent: number;
    frameWidth: number;
    frameHeight: number;
    framesPerSecond: number;
    pliCount: number;
    codec: string | null;
  } | null;
}

/** The getStats() fields of the audio path that tests and the page care about. */
interface AudioRtcStats {
  inbound: {
    packetsReceived: number;
    packetsLost: number;
    jitterMs: number;
    totalAudioEnergy: number;
    totalSamplesReceived: number;
    concealedSamples: number;
    jitterBufferDelayMs: number;
    codec: string | null;
  } | null;
  outbound: { packetsSent: number; bytesSent: number; codec: string | null } | null;
  /**
   * What the server's RTCP receiver reports say about the mic (`remote-inbound-rtp` of the outbound audio):
   * null until the first report arrived.
   */
  remoteInbound: {
    packetsLost: number;
    fractionLost: number;
    jitterMs: number;
    roundTripTimeMs: number | null;
  } | null;
  roundTripTimeMs: number | null;
}

declare global {
  interface Window {
    /** Test hook, see DemoHook. */
    demo: DemoHook;
  }
}

const params = new URLSearchParams(location.search);
// `?raw=1`: no echo cancellation / noise suppression / AGC, so a test compares levels with the WAV it fed.
const rawAudio = params.get('raw') === '1';
const camAtStart = params.get('cam') === '1';
const MAX_HISTORY = 3000; // 5 minutes of 100 ms samples
const MAX_EVENTS = 300;

const $ = <T extends HTMLElement>(id: string): T => {
  const el = document.getElementById(id);
  if (!el) throw new Error(`demo page: #${id} missing`);
  return el as T;
};

const localParticipant: Participant = { id: 'local', name: '', local: true };

/**
 * A media manager with plain getUserMedia (no daily-js, no network). SmallWebRTCTransport calls it through
 * the MediaManager shape of @pipecat-ai/transport-lib: it reads `tracks().local.audio` when it builds the peer
 * connection and calls enableMic/connect/disconnect. The mic is acquired at connect even when disabled
 * (track.enabled = false), so enabling it later needs no renegotiation.
 */
class LocalMediaManager {
  private _callbacks: RTVIEventCallbacks = {};
  private _options: PipecatClientOptions | undefined;
  private _micEnabled = true;
  private _camEnabled = false;
  private _stream: MediaStream | null = null;
  private _camStream: MediaStream | null = null;
  private _camPending: Promise<void> | null = null;
  private _mic: MediaDeviceInfo | null = null;
  private _cam: MediaDeviceInfo | null = null;

  /** Where a camera acquired mid-call goes (the camera transceiver's sender), set by the page. */
  cameraSender: () => RTCRtpSender | null = () => null;

  setUserAudioCallback(_cb: unknown): void {
    // Audio goes over WebRTC, not through a recorder callback.
  }

  setClientOptions(options: PipecatClientOptions, override = false): void {
    if (this._options && !override) return;
    this._options = options;
    this._callbacks = options.callbacks ?? {};
    this._micEnabled = options.enableMic ?? true;
    this._camEnabled = options.enableCam ?? false;
  }

  get supportsScreenShare(): boolean {
    return false;
  }

  async initialize(): Promise<void> {
    await this.acquire();
    const devices = await navigator.mediaDevices.enumerateDevices();
    this._callbacks.onAvailableMicsUpdated?.(devices.filter((d) => d.kind === 'audioinput'));
    this._callbacks.onAvailableCamsUpdated?.(devices.filter((d) => d.kind === 'videoinput'));
    this._callbacks.onAvailableSpeakersUpdated?.(devices.filter((d) => d.kind === 'audiooutput'));
  }

  async connect(): Promise<void> {
    await this.acquire();
    if (this._camEnabled) await this.acquireCamera();
  }

  async disconnect(): Promise<void> {
    const tracks = [...(this._stream?.getTracks() ?? []), ...(this._camStream?.getTracks() ?? [])];
    this._stream = null;
    this._camStream = null;
    for (const t of tracks) {
      t.stop();
      this._callbacks.onTrackStopped?.(t, localParticipant);
    }
  }

  async userStartedSpeaking(): Promise<void> {}

  bufferBotAudio(): void {}

  async getAllMics(): Promise<MediaDeviceInfo[]> {
    return (await navigator.mediaDevices.enumerateDevices()).filter((d) => d.kind === 'audioinput');
  }

  async getAllCams(): Promise<MediaDeviceInfo[]> {
    return (await navigator.mediaDevices.enumerateDevices()).filter((d) => d.kind === 'videoinput');
  }

  async getAllSpeakers(): Promise<MediaDeviceInfo[]> {
    return (await navigator.mediaDevices.enumerateDevices()).filter((d) => d.kind === 'audiooutput');
  }

  updateMic(_micId: string): void {
    console.warn('demo: switching microphones is not supported by this page');
  }

  updateCam(_camId: string): void {}

  updateSpeaker(_speakerId: string): void {}

  get selectedMic(): MediaDeviceInfo | Record<string, never> {
    return this._mic ?? {};
  }

  get selectedCam(): MediaDeviceInfo | Record<string, never> {
    return this._cam ?? {};
  }

  get selectedSpeaker(): Record<string, never> {
    return {};
  }

  enableMic(enable: boolean): void {
    this._micEnabled = enable;
    for (const t of this._stream?.getAudioTracks() ?? []) t.enabled = enable;
  }

  enableCam(enable: boolean): void {
    this._camEnabled = enable;
    for (const t of this._camStream?.getVideoTracks() ?? []) t.enabled = enable;
    if (!enable || this._camStream || !this.cameraSender()) return;
    // Turned on mid-call for the first time: acquire, then put the track on the camera transceiver.
    this._camPending ??= this.acquireCamera()
      .then(async () => {
        const track = this._camStream?.getVideoTracks()[0];
        const sender = this.cameraSender();
        if (track && sender) await sender.replaceTrack(track);
      })
      .catch((e: unknown) => error(`camera failed: ${e instanceof Error ? e.message : String(e)}`))
      .finally(() => {
        this._camPending = null;
      });
  }

  enableScreenShare(_enable: boolean): void {}

  get isCamEnabled(): boolean {
    return this._camEnabled;
  }

  get isMicEnabled(): boolean {
    return this._micEnabled;
  }

  get isSharingScreen(): boolean {
    return false;
  }

  tracks(): Tracks {
    const audio = this._stream?.getAudioTracks()[0];
    const video = this._camStream?.getVideoTracks()[0];
    return { local: { ...(audio ? { audio } : {}), ...(video ? { video } : {}) } };
  }

  private async acquireCamera(): Promise<void> {
    if (this._camStream) return;
    this._camStream = await navigator.mediaDevices.getUserMedia({
      audio: false,
      video: { width: { ideal: 640 }, height: { ideal: 480 }, frameRate: { ideal: 30 } },
    });
    const track = this._camStream.getVideoTracks()[0];
    if (!track) return;
    track.enabled = this._camEnabled;
    const settings = track.getSettings();
    const devices = await navigator.mediaDevices.enumerateDevices();
    this._cam = devices.find((d) => d.kind === 'videoinput' && d.deviceId === settings.deviceId) ?? null;
    if (this._cam) this._callbacks.onCamUpdated?.(this._cam);
    this._callbacks.onTrackStarted?.(track, localParticipant);
  }

  private async acquire(): Promise<void> {
    if (this._stream) return;
    const constraints: MediaTrackConstraints = rawAudio
      ? { echoCancellation: false, noiseSuppression: false, autoGainControl: false }
      : { echoCancellation: true, noiseSuppression: true, autoGainControl: true };
    this._stream = await navigator.mediaDevices.getUserMedia({ audio: constraints, video: false });
    const track = this._stream.getAudioTracks()[0];
    if (!track) return;
    track.enabled = this._micEnabled;
    const settings = track.getSettings();
    const devices = await navigator.mediaDevices.enumerateDevices();
    this._mic =
      devices.find((d) => d.kind === 'audioinput' && d.deviceId === settings.deviceId) ??
      devices.find((d) => d.kind === 'audioinput') ??
      null;
    if (this._mic) this._callbacks.onMicUpdated?.(this._mic);
    this._callbacks.onTrackStarted?.(track, localParticipant);
  }
}

// ---- page state and rendering ----

let audioCtx: AudioContext | null = null;
const meters = new Map<string, { timer: number; source: MediaStreamAudioSourceNode }>();

function ctx(): AudioContext {
  audioCtx ??= new AudioContext();
  if (audioCtx.state === 'suspended') void audioCtx.resume();
  return audioCtx;
}

// RMS of `track` every 100 ms into `history` (bounded). WebAudio reads the track directly; for remote
// tracks Chromium only feeds WebAudio while the stream also plays in a media element, which the page does.
function meter(key: string, track: MediaStreamTrack, history: number[]): void {
  stopMeter(key);
  const ac = ctx();
  const source = ac.createMediaStreamSource(new MediaStream([track]));
  const analyser = ac.createAnalyser();
  analyser.fftSize = 2048;
  source.connect(analyser);
  const buf = new Float32Array(analyser.fftSize);
  const timer = window.setInterval(() => {
    analyser.getFloatTimeDomainData(buf);
    let ss = 0;
    for (const x of buf) ss += x * x;
    history.push(Math.sqrt(ss / buf.length));
    if (history.length > MAX_HISTORY) history.splice(0, history.length - MAX_HISTORY);
    if (key === 'remote') $('bot-level').textContent = levelText(history);
    else $('mic-level').textContent = levelText(history);
  }, 100);
  meters.set(key, { timer, source });
}

function stopMeter(key: string): void {
  const m = meters.get(key);
  if (!m) return;
  window.clearInterval(m.timer);
  m.source.disconnect();
  meters.delete(key);
}

function levelText(history: number[]): string {
  const rms = history[history.length - 1] ?? 0;
  const db = rms > 0 ? 20 * Math.log10(rms) : -Infinity;
  return Number.isFinite(db) ? `${db.toFixed(1)} dBFS` : 'silent';
}

function log(type: string, data?: unknown): void {
  demo.counters[type] = (demo.counters[type] ?? 0) + 1;
  demo.events.push({ t: Math.round(performance.now()), type, data });
  if (demo.events.length > MAX_EVENTS) demo.events.splice(0, demo.events.length - MAX_EVENTS);
  const line = document.createElement('div');
  line.textContent = `${(performance.now() / 1000).toFixed(2)}s ${type}${data === undefined ? '' : ' ' + short(data)}`;
  const box = $('log');
  box.prepend(line);
  while (box.childElementCount > 100) box.lastElementChild?.remove();
}

function short(data: unknown): string {
  try {
    const s = JSON.stringify(data);
    return s.length > 200 ? s.slice(0, 200) + '…' : s;
  } catch {
    return String(data);
  }
}

function error(msg: string): void {
  demo.errors.push(msg);
  if (demo.errors.length > 50) demo.errors.shift();
  $('error').textContent = msg;
}

function render(): void {
  $('state').textContent = demo.state;
  $('bot-ready').textContent = demo.botReady ? 'yes' : 'no';
  $('user-speaking').textContent = demo.userSpeaking ? 'speaking' : 'quiet';
  $('user-speaking').className = demo.userSpeaking ? 'on' : '';
  $('bot-speaking').textContent = demo.botSpeaking ? 'speaking' : 'quiet';
  $('bot-speaking').className = demo.botSpeaking ? 'on' : '';
  const connected = !['disconnected', 'initialized', 'error'].includes(demo.state);
  $<HTMLButtonElement>('connect').disabled = connected;
  $<HTMLButtonElement>('disconnect').disabled = !connected;
  $<HTMLButtonElement>('mic').textContent = demo.micEnabled ? 'Mute mic' : 'Unmute mic';
  $<HTMLButtonElement>('cam').textContent = demo.camEnabled ? 'Camera off' : 'Camera on';
  $<HTMLSelectElement>('effect').disabled = !demo.botReady;
}

// Renders whatever stats object the server sends as a two-column table (nested objects flattened a.b.c).
function renderStats(stats: Record<string, unknown>, tableId = 'stats'): void {
  const rows: [string, string][] = [];
  const walk = (prefix: string, v: unknown): void => {
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
      for (const [k, x] of Object.entries(v as Record<string, unknown>)) walk(prefix ? `${prefix}.${k}` : k, x);
    } else {
      rows.push([prefix, typeof v === 'number' && !Number.isInteger(v) ? v.toFixed(2) : short(v)]);
    }
  };
  walk('', stats);
  const body = $(tableId).querySelector('tbody');
  if (!body) return;
  body.replaceChildren(
    ...rows
      .filter(([k]) => k !== 'type')
      .map(([k, v]) => {
        const tr = document.createElement('tr');
        const a = document.createElement('td');
        const b = document.createElement('td');
        a.textContent = k;
        b.textContent = v;
        tr.append(a, b);
        return tr;
      }),
  );
}

function showVideo(id: 'bot-video' | 'self-video', track: MediaStreamTrack | null): void {
  const el = $<HTMLVideoElement>(id);
  $(`${id}-box`).className = track ? '' : 'hidden';
  el.srcObject = track ? new MediaStream([track]) : null;
  if (track) el.play().catch((e: unknown) => error(`video play() failed: ${String(e)}`));
}

function onTrackStarted(track: MediaStreamTrack, participant?: Participant): void {
  log('TrackStarted', { kind: track.kind, local: participant?.local ?? false });
  if (track.kind === 'video') {
    if (participant?.local) {
      demo.localVideoTrack = track;
      showVideo('self-video', track);
    } else {
      demo.remoteVideoTrack = track;
      showVideo('bot-video', track);
    }
    return;
  }
  if (track.kind !== 'audio') return;
  if (participant?.local) {
    demo.localTrack = track;
    meter('local', track, demo.localAudioRms);
    return;
  }
  // The bot's audio: play it, and meter it.
  demo.remoteTrack = track;
  const el = $<HTMLAudioElement>('bot-audio');
  el.srcObject = new MediaStream([track]);
  el.play().catch((e: unknown) => error(`audio play() failed: ${String(e)}`));
  meter('remote', track, demo.remoteAudioRms);
}

function onTrackStopped(track: MediaStreamTrack, participant?: Participant): void {
  log('TrackStopped', { kind: track.kind, local: participant?.local ?? false });
  if (track.kind === 'video') {
    // A remote video track reports "stopped" while muted (no frames for a while); keep showing its element.
    if (participant?.local && demo.localVideoTrack === track) {
      demo.localVideoTrack = null;
      showVideo('self-video', null);
    }
    return;
  }
  if (participant?.local) {
    if (demo.localTrack === track) stopMeter('local');
  } else if (demo.remoteTrack === track) {
    stopMeter('remote');
  }
}

const callbacks: RTVIEventCallbacks = {
  onTransportStateChanged: (state) => {
    demo.state = state;
    log('TransportStateChanged', state);
    render();
  },
  onConnected: () => log('Connected'),
  onDisconnected: () => {
    demo.botReady = false;
    demo.userSpeaking = false;
    demo.botSpeaking = false;
    stopMeter('remote');
    stopMeter('local');
    log('Disconnected');
    render();
  },
  onBotConnected: (p) => log('BotConnected', p),
  onBotDisconnected: (p) => {
    log('BotDisconnected', p);
    render();
  },
  onBotReady: (data) => {
    demo.botReady = true;
    demo.botReadyData = data;
    log('BotReady', data);
    render();
  },
  onError: (msg) => {
    log('Error', msg.data);
    error(`RTVI error: ${short(msg.data)}`);
  },
  onMessageError: (msg) => log('MessageError', msg.data),
  onServerMessage: (data: unknown) => {
    const d = data as Record<string, unknown> | null;
    if (d && typeof d === 'object' && d.type === 'stats') {
      demo.lastStats = d;
      demo.counters.Stats = (demo.counters.Stats ?? 0) + 1;
      renderStats(d);
      return; // stats arrive often: counted, not logged
    }
    log('ServerMessage', data);
  },
  onMetrics: (data) => log('Metrics', data),
  onUserStartedSpeaking: () => {
    demo.userSpeaking = true;
    log('UserStartedSpeaking');
    render();
  },
  onUserStoppedSpeaking: () => {
    demo.userSpeaking = false;
    log('UserStoppedSpeaking');
    render();
  },
  onBotStartedSpeaking: () => {
    demo.botSpeaking = true;
    log('BotStartedSpeaking');
    render();
  },
  onBotStoppedSpeaking: () => {
    demo.botSpeaking = false;
    log('BotStoppedSpeaking');
    render();
  },
  onUserTranscript: (data) => log('UserTranscript', data),
  onBotOutput: (data) => log('BotOutput', data),
  onTrackStarted,
  onTrackStopped,
  onDeviceError: (e) => error(`device error: ${e.message}`),
  onMicUpdated: (mic) => log('MicUpdated', mic.label),
};

const transportOptions: SmallWebRTCTransportConstructorOptions = {
  // Never a public STUN server: the demo is host-candidates only (loopback / LAN).
  iceServers: [],
};
const localMedia = params.get('media') !== 'daily' ? new LocalMediaManager() : null;
if (localMedia) transportOptions.mediaManager = localMedia;
const transport = new SmallWebRTCTransport(transportOptions);
// SmallWebRTCTransport keeps its RTCPeerConnection in `pc` (not in its typings); its transceivers are in
// creation order: audio, camera, screen.
const peerConnection = (): RTCPeerConnection | null =>
  (transport as unknown as { pc?: RTCPeerConnection | null }).pc ?? null;
if (localMedia) localMedia.cameraSender = () => peerConnection()?.getTransceivers()[1]?.sender ?? null;

const client = new PipecatClient({
  transport,
  enableMic: true,
  enableCam: camAtStart,
  callbacks,
});

const demo: DemoHook = {
  client,
  clientVersion: client.version,
  transportService: client.transport instanceof SmallWebRTCTransport ? SmallWebRTCTransport.SERVICE_NAME : null,
  mediaManager: transportOptions.mediaManager ? 'local' : 'daily',
  state: client.state,
  botReady: false,
  botReadyData: null,
  userSpeaking: false,
  botSpeaking: false,
  micEnabled: true,
  camEnabled: camAtStart,
  lastStats: null,
  counters: {},
  remoteAudioRms: [],
  localAudioRms: [],
  remoteTrack: null,
  localTrack: null,
  remoteVideoTrack: null,
  localVideoTrack: null,
  events: [],
  errors: [],
  async initDevices() {
    ctx();
    await client.initDevices();
  },
  async connect(endpoint = '/api/offer') {
    ctx(); // created inside the click handler: a user gesture lets it (and <audio>) start
    try {
      return await client.connect({ webrtcRequestParams: { endpoint } });
    } catch (e) {
      error(`connect failed: ${e instanceof Error ? e.message : String(e)}`);
      throw e;
    }
  },
  async disconnect() {
    await client.disconnect();
  },
  enableMic(enable: boolean) {
    client.enableMic(enable);
    demo.micEnabled = enable;
    log('EnableMic', enable);
    render();
  },
  enableCam(enable: boolean) {
    client.enableCam(enable);
    demo.camEnabled = enable;
    log('EnableCam', enable);
    render();
  },
  sendClientMessage(type: string, data?: unknown) {
    client.sendClientMessage(type, data);
  },
  async videoStats() {
    const pc = peerConnection();
    if (!pc) return null;
    const report = await pc.getStats();
    const byId = new Map<string, Record<string, unknown>>();
    report.forEach((s: Record<string, unknown>) => byId.set(String(s.id), s));
    const num = (v: unknown): number => (typeof v === 'number' ? v : 0);
    const codecOf = (s: Record<string, unknown>): string | null => {
      const c = byId.get(String(s.codecId));
      return c ? String(c.mimeType) : null;
    };
    const out: VideoRtcStats = { inbound: null, outbound: null };
    for (const s of byId.values()) {
      // The camera's stream is the one with frames (a screen transceiver, if any, stays idle).
      if (s.type === 'inbound-rtp' && s.kind === 'video' && (!out.inbound || num(s.framesDecoded) > 0)) {
        out.inbound = {
          framesDecoded: num(s.framesDecoded),
          framesReceived: num(s.framesReceived),
          framesDropped: num(s.framesDropped),
          frameWidth: num(s.frameWidth),
          frameHeight: num(s.frameHeight),
          framesPerSecond: num(s.framesPerSecond),
          keyFramesDecoded: num(s.keyFramesDecoded),
          pliCount: num(s.pliCount),
          nackCount: num(s.nackCount),
          packetsLost: num(s.packetsLost),
          codec: codecOf(s),
        };
      } else if (s.type === 'outbound-rtp' && s.kind === 'video' && (!out.outbound || num(s.framesEncoded) > 0)) {
        out.outbound = {
          framesEncoded: num(s.framesEncoded),
          framesSent: num(s.framesSent),
          frameWidth: num(s.frameWidth),
          frameHeight: num(s.frameHeight),
          framesPerSecond: num(s.framesPerSecond),
          pliCount: num(s.pliCount),
          codec: codecOf(s),
        };
      }
    }
    return out;
  },
  async audioStats() {
    const pc = peerConnection();
    if (!pc) return null;
    const report = await pc.getStats();
    const byId = new Map<string, Record<string, unknown>>();
    report.forEach((s: Record<string, unknown>) => byId.set(String(s.id), s));
    const num = (v: unknown): number => (typeof v === 'number' ? v : 0);
    const codecOf = (s: Record<string, unknown>): string | null => {
      const c = byId.get(String(s.codecId));
      return c ? String(c.mimeType) : null;
    };
    const out: AudioRtcStats = { inbound: null, outbound: null, remoteInbound: null, roundTripTimeMs: null };
    for (const s of byId.values()) {
      if (s.type === 'inbound-rtp' && s.kind === 'audio') {
        const emitted = num(s.jitterBufferEmittedCount);
        out.inbound = {
          packetsReceived: num(s.packetsReceived),
          packetsLost: num(s.packetsLost),
          jitterMs: num(s.jitter) * 1000,
          totalAudioEnergy: num(s.totalAudioEnergy),
          totalSamplesReceived: num(s.totalSamplesReceived),
          concealedSamples: num(s.concealedSamples),
          jitterBufferDelayMs: emitted ? (num(s.jitterBufferDelay) / emitted) * 1000 : 0,
          codec: codecOf(s),
        };
      } else if (s.type === 'outbound-rtp' && s.kind === 'audio') {
        out.outbound = { packetsSent: num(s.packetsSent), bytesSent: num(s.bytesSent), codec: codecOf(s) };
      } else if (s.type === 'remote-inbound-rtp' && s.kind === 'audio') {
        out.remoteInbound = {
          packetsLost: num(s.packetsLost),
          fractionLost: num(s.fractionLost),
          jitterMs: num(s.jitter) * 1000,
          roundTripTimeMs: typeof s.roundTripTime === 'number' ? s.roundTripTime * 1000 : null,
        };
      } else if (s.type === 'candidate-pair' && s.nominated && typeof s.currentRoundTripTime === 'number') {
        out.roundTripTimeMs = s.currentRoundTripTime * 1000;
      }
    }
    return out;
  },
};
window.demo = demo;

$('connect').addEventListener('click', () => {
  demo.connect().catch(() => undefined);
});
$('disconnect').addEventListener('click', () => {
  demo.disconnect().catch((e: unknown) => error(String(e)));
});
$('mic').addEventListener('click', () => demo.enableMic(!demo.micEnabled));
$('cam').addEventListener('click', () => demo.enableCam(!demo.camEnabled));
$('effect').addEventListener('change', () => {
  demo.sendClientMessage('set-effect', { effect: $<HTMLSelectElement>('effect').value });
});
$('version').textContent = `@pipecat-ai/client-js ${client.version}`;
// The browser's own view of the audio path, once a second while connected.
window.setInterval(() => {
  if (demo.state !== 'connected' && demo.state !== 'ready') return;
  demo
    .audioStats()
    .then((st) => {
      if (st) renderStats(st as unknown as Record<string, unknown>, 'rtc-stats');
    })
    .catch(() => undefined);
  if (!demo.remoteVideoTrack) return;
  demo
    .videoStats()
    .then((st) => {
      const v = st?.inbound;
      $('bot-video-size').textContent = v ? `${v.frameWidth}x${v.frameHeight}, ${v.framesPerSecond} fps` : '';
    })
    .catch(() => undefined);
}, 1000);
render();
log('PageReady');
