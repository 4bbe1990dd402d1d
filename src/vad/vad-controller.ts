// The VAD logic shared by the stand-alone VADProcessor and the input transport (when TransportParams carries a
// vadAnalyzer): feed it audio, it pushes the speaking frames through the processor hosting it. Mirrors
// Pipecat's `pipecat.audio.vad.vad_controller.VADController` (the analyzer moved out of the input transport
// into `VADProcessor`), with the frames this library's transport has always pushed. JS thread.
import { downmixToMono } from '../media/pcm.js';
import { FrameDirection } from '../pipeline/frame-processor.js';
import {
  type Frame,
  InterruptionFrame,
  UserSpeakingFrame,
  UserStartedSpeakingFrame,
  UserStoppedSpeakingFrame,
  VADUserStartedSpeakingFrame,
  VADUserStoppedSpeakingFrame,
} from '../pipeline/frames.js';
import { logger } from '../pipeline/logger.js';
import { VADState, type VADAnalyzer } from './vad-analyzer.js';

/** What a {@link VADController} needs from the processor hosting it (a FrameProcessor fits as it is). */
export interface VADControllerHost {
  /** Name used in log lines. */
  readonly name: string;
  /** Whether the pipeline allows interruptions (from the StartFrame). */
  readonly allowInterruptions: boolean;
  /** Pushes a frame from the host, awaited so the speaking frames keep their order. */
  pushFrame(frame: Frame, direction: FrameDirection): Promise<void>;
}

/**
 * Runs a {@link VADAnalyzer} over a stream of audio frames and pushes, through its host:
 * - `UserSpeakingFrame` upstream with every frame analysed while the state is SPEAKING (task activity);
 * - on QUIET -> SPEAKING: `VADUserStartedSpeakingFrame` downstream, `UserStartedSpeakingFrame` downstream and
 *   upstream, then an `InterruptionFrame` downstream when the pipeline allows interruptions;
 * - on SPEAKING -> QUIET: `VADUserStoppedSpeakingFrame` downstream, `UserStoppedSpeakingFrame` downstream and
 *   upstream.
 * STARTING/STOPPING are never reported (as Pipecat). Calls must be awaited in order (one stream).
 */
export class VADController {
  /** The analyzer this controller runs. */
  readonly analyzer: VADAnalyzer;
  readonly #host: VADControllerHost;
  /** The rate last given to `setSampleRate` (an analyzer with a fixed rate may keep its own). */
  #rate = 0;
  #userSpeaking = false;

  constructor(analyzer: VADAnalyzer, host: VADControllerHost) {
    this.analyzer = analyzer;
    this.#host = host;
  }

  /** Whether the last reported transition was a start (UserStartedSpeaking pushed, no stop since). */
  get userSpeaking(): boolean {
    return this.#userSpeaking;
  }

  /**
   * Sets the stream's rate and loads the analyzer's model (Silero: ~0.5 s) before audio flows. Loaded
   * lazily on the first frame instead, the frames arriving meanwhile pile up and then go downstream in one
   * burst; a live bot then keeps that backlog as added latency for the whole session. A failed load is
   * logged (analysis then reports the error per frame through the host's caller).
   */
  async start(sampleRate: number): Promise<void> {
    this.#setRate(sampleRate);
    await this.load();
  }

  /** Loads the analyzer's model if it has one (idempotent in the analyzers; errors are logged). */
  async load(): Promise<void> {
    const vad = this.analyzer;
    if (vad.load === undefined) return;
    try {
      await vad.load();
    } catch (err) {
      logger().error(`${this.#host.name}: VAD model failed to load`, err);
    }
  }

  /**
   * Analyses one frame of interleaved PCM (stereo is averaged to mono: the analyzer takes mono) and pushes
   * the frames its state changes call for. A frame at a new rate re-targets the analyzer (which resets it).
   */
  async processAudio(audio: Int16Array, sampleRate: number, numChannels: number): Promise<void> {
    if (sampleRate !== this.#rate) this.#setRate(sampleRate);
    const mono = numChannels === 1 ? audio : downmixToMono(audio, numChannels);
    const analysis = await this.analyzer.analyze(mono);
    const host = this.#host;
    if (analysis.state === VADState.SPEAKING) {
      await host.pushFrame(new UserSpeakingFrame(), FrameDirection.UPSTREAM);
    }
    for (const t of analysis.transitions) {
      if (t.to === VADState.SPEAKING && t.from !== VADState.SPEAKING && t.from !== VADState.STOPPING) {
        await this.#started();
      } else if (t.to === VADState.QUIET && t.from !== VADState.QUIET && t.from !== VADState.STARTING) {
        await this.#stopped();
      }
    }
  }

  #setRate(sampleRate: number): void {
    this.#rate = sampleRate;
    this.analyzer.setSampleRate(sampleRate);
  }

  /**
   * Starts over for a new audio source (a `restart_pc` brings a new peer and a new microphone): the
   * analyzer's state machine and model state are reset, and a turn still open is closed first (stopped
   * frames pushed), so the new peer's first words are a new turn and no state leaks from the old stream.
   */
  async reset(): Promise<void> {
    if (this.#userSpeaking) await this.#stopped();
    this.analyzer.reset();
  }

  async #started(): Promise<void> {
    const host = this.#host;
    this.#userSpeaking = true;
    const startSecs = this.analyzer.params.startSecs;
    await host.pushFrame(new VADUserStartedSpeakingFrame({ startSecs }), FrameDirection.DOWNSTREAM);
    await host.pushFrame(new UserStartedSpeakingFrame(), FrameDirection.DOWNSTREAM);
    await host.pushFrame(new UserStartedSpeakingFrame(), FrameDirection.UPSTREAM);
    // Pipecat's base input: user speech interrupts the bot when the pipeline allows interruptions.
    if (host.allowInterruptions) await host.pushFrame(new InterruptionFrame(), FrameDirection.DOWNSTREAM);
  }

  async #stopped(): Promise<void> {
    const host = this.#host;
    this.#userSpeaking = false;
    const stopSecs = this.analyzer.params.stopSecs;
    await host.pushFrame(new VADUserStoppedSpeakingFrame({ stopSecs }), FrameDirection.DOWNSTREAM);
    await host.pushFrame(new UserStoppedSpeakingFrame(), FrameDirection.DOWNSTREAM);
    await host.pushFrame(new UserStoppedSpeakingFrame(), FrameDirection.UPSTREAM);
  }
}
