/**
 * The default demo (`npm run demo`): an echo bot that needs no API keys and no network.
 *
 * Serves http://localhost:7860 (`PORT` overrides; `HOST` sets the listen address) with a page built on the
 * real `@pipecat-ai/client-js` + `@pipecat-ai/small-webrtc-transport`, signalling at `/api/offer` on the same
 * port. What the user says comes straight back; the page shows the VAD's speaking state (RTVI
 * user-started/stopped-speaking) and live latency / jitter-buffer statistics sent once a second as an RTVI
 * `server-message` `{ type: 'stats', ... }`.
 */
import {
  FrameDirection,
  FrameProcessor,
  InputAudioRawFrame,
  OutputAudioRawFrame,
  Pipeline,
  PipelineRunner,
  PipelineTask,
  RTVIProcessor,
  SileroVADAnalyzer,
  SmallWebRTCTransport,
  TransportParams,
  type Frame,
  type SmallWebRTCConnection,
} from '../src/index.js';
import { isMain, serveBot } from './serve-bot.js';

/** Options of {@link EchoProcessor}. */
export interface EchoProcessorOptions {
  /**
   * Audio waiting to be sent, ms (default: never behind). When it exceeds `maxBacklogMs`, quiet frames are
   * not echoed, so the echo's latency recovers in the next pause.
   */
  backlogMs?: () => number;
  /**
   * Backlog above which quiet frames in a pause are dropped, ms. Default 20: one frame waiting, the least a
   * live echo needs, so a stall's added delay is shed in the next pause instead of staying (see below).
   */
  maxBacklogMs?: number;
  /**
   * A quiet frame is only dropped once the quiet has lasted this long, ms. Default 100: the gaps inside
   * speech (between words, before a plosive) are kept, so the echoed speech keeps its rhythm; only real pauses
   * get shorter.
   */
  minPauseMs?: number;
  /** RMS below which a frame counts as quiet, dBFS. Default -45. */
  quietDbfs?: number;
}

/**
 * Turns every microphone frame into bot audio: the user hears themself, one network round trip later.
 *
 * Live audio in and out both run at 1x, so any backlog in the output stays as added latency for the rest of
 * the session: a frame that reaches the output after its send slot went by (network or event-loop jitter)
 * leaves that slot to a fill packet and takes the next one, so the echo's delay ratchets up by 20 ms with each
 * late frame and nothing brings it back. With `backlogMs`, quiet frames in a pause are dropped while the
 * backlog is over `maxBacklogMs`: speech is always echoed, pauses get shorter until the latency is back to
 * one round trip. Measured (`npm run bench:scale -- --all-levels --sessions 1,10,35`, one process): with a
 * 100 ms bound the echo delay median went from 32 ms at 1 session to 86-89 ms at 10 and 35 sessions, the
 * backlog settling anywhere under the bound; with 20 ms it stayed at 21-31 ms.
 */
export class EchoProcessor extends FrameProcessor {
  /** Quiet frames dropped to catch up. */
  droppedQuietFrames = 0;
  readonly #backlogMs: (() => number) | undefined;
  readonly #maxBacklogMs: number;
  readonly #minPauseMs: number;
  readonly #quietRms: number;
  /** How long the input has been quiet before the current frame, ms. */
  #quietMs = 0;

  constructor(options: EchoProcessorOptions = {}) {
    super();
    this.#backlogMs = options.backlogMs;
    this.#maxBacklogMs = options.maxBacklogMs ?? 20;
    this.#minPauseMs = options.minPauseMs ?? 100;
    this.#quietRms = 32768 * 10 ** ((options.quietDbfs ?? -45) / 20);
  }

  override async processFrame(frame: Frame, direction: FrameDirection): Promise<void> {
    if (frame instanceof InputAudioRawFrame) {
      const quiet = rms(frame.audio) < this.#quietRms;
      const inPause = quiet && this.#quietMs >= this.#minPauseMs;
      this.#quietMs = quiet ? this.#quietMs + (1000 * frame.numFrames) / frame.sampleRate : 0;
      if (inPause && this.#backlogMs && this.#backlogMs() > this.#maxBacklogMs) {
        this.droppedQuietFrames++;
        return;
      }
      await this.pushFrame(
        new OutputAudioRawFrame({
          audio: frame.audio,
          sampleRate: frame.sampleRate,
          numChannels: frame.numChannels,
        }),
        FrameDirection.DOWNSTREAM,
      );
      return;
    }
    await this.pushFrame(frame, direction);
  }
}

function rms(pcm: Int16Array): number {
  let ss = 0;
  for (const x of pcm) ss += x * x;
  return pcm.length > 0 ? Math.sqrt(ss / pcm.length) : 0;
}

/** Options of {@link runEchoBot}. */
export interface EchoBotOptions {
  /** Send a stats server-message every this many ms (0 = never). Default 1000. */
  statsIntervalMs?: number;
  /** Called with the transport once it exists (tests observe frames and events through it). */
  onTransport?: (transport: SmallWebRTCTransport) => void;
  /** Called with the pipeline task before it runs (e.g. to end the session with `queueFrame(new EndFrame())`). */
  onTask?: (task: PipelineTask) => void;
  /** Extra processors placed between the echo and the output (tests tap the pipeline here). */
  taps?: FrameProcessor[];
  /**
   * Opus DTX on the echo (`TransportParams.audioOutDtx`): the user's pauses come back as no packets instead
   * of encoded silence. Default false: browsers play the gap as silence, but an aiortc client (Pipecat's
   * Python transport) gets its frames back to back with the pauses left out (docs/performance.md).
   */
  dtx?: boolean;
  /** {@link EchoProcessorOptions.maxBacklogMs} of the echo. */
  maxBacklogMs?: number;
}

/** Runs one echo-bot session on `connection` until the client leaves. */
export async function runEchoBot(
  connection: SmallWebRTCConnection,
  options: EchoBotOptions = {},
): Promise<void> {
  const transport = new SmallWebRTCTransport({
    webrtcConnection: connection,
    params: new TransportParams({
      audioInEnabled: true,
      audioOutEnabled: true,
      audioOutDtx: options.dtx ?? false,
      vadAnalyzer: new SileroVADAnalyzer(),
    }),
  });
  options.onTransport?.(transport);
  const rtvi = new RTVIProcessor();
  // Each queued output frame is one 20 ms input frame; the sender's ring holds the rest. Read per input frame,
  // so it reads the one counter it needs (getStats() builds every stat: it ran on every frame of every session).
  const echo = new EchoProcessor({
    backlogMs: () => transport.output().queuedFrames * 20 + transport.outputQueuedMs,
    ...(options.maxBacklogMs !== undefined ? { maxBacklogMs: options.maxBacklogMs } : {}),
  });
  const pipeline = new Pipeline([transport.input(), rtvi, ...(options.taps ?? []), echo, transport.output()]);
  // Live echo: the user's own speech must not interrupt (clear) its echo.
  // No idle timeout: the session lasts as long as the client stays, silent or not.
  const task = new PipelineTask(pipeline, { params: { allowInterruptions: false }, idleTimeoutSecs: null });
  options.onTask?.(task);

  let stats: NodeJS.Timeout | null = null;
  const statsIntervalMs = options.statsIntervalMs ?? 1000;
  transport.eventHandler('on_client_connected', () => {
    if (statsIntervalMs <= 0 || stats !== null) return;
    stats = setInterval(() => {
      void rtvi.sendServerMessage({
        type: 'stats',
        ...flattenStats(transport),
        echoDroppedQuietFrames: echo.droppedQuietFrames,
      });
    }, statsIntervalMs);
    stats.unref();
  });
  transport.eventHandler('on_client_closed', async () => {
    if (stats !== null) clearInterval(stats);
    stats = null;
    await task.cancel();
  });
  await new PipelineRunner({ handleSigint: false }).run(task);
}

/** A flat `{name: number}` view of the transport's stats, for the demo page's table. */
function flattenStats(transport: SmallWebRTCTransport): Record<string, number | string | boolean> {
  const s = transport.getStats();
  const out: Record<string, number | string | boolean> = {};
  const jb = s.input;
  if (jb) {
    out['jitterBufferTargetMs'] = round(jb.targetDelayMs);
    out['arrivalJitterMs'] = round(jb.jitterMs);
    out['packetsReceived'] = jb.received;
    out['packetsLost'] = jb.lost;
    out['concealedMs'] = round(jb.concealedMs);
    out['fecRecovered'] = jb.fecRecovered;
    out['lateDropped'] = jb.lateDropped;
    out['lastReleaseDelayMs'] = round(jb.lastReleaseDelayMs);
  }
  if (s.inputCounters) {
    out['framesIn'] = s.inputCounters.framesPushed;
    out['micMuted'] = s.inputCounters.muted;
  }
  if (s.output) {
    out['packetsSent'] = s.output.packetsSent;
    out['silencePackets'] = s.output.silencePackets;
  }
  out['outputQueuedMs'] = round(s.outputQueuedMs);
  return out;
}

function round(v: number): number {
  return Math.round(v * 10) / 10;
}

if (isMain(import.meta.url)) {
  await serveBot('echo bot', (connection) => runEchoBot(connection));
}
