// VADProcessor: voice activity detection as its own pipeline stage, as in current Pipecat
// (`pipecat.processors.audio.vad_processor.VADProcessor`, where the analyzer moved out of the input transport).
import {
  FrameDirection,
  FrameProcessor,
  type FrameProcessorOptions,
  type FrameProcessorSetup,
} from '../pipeline/frame-processor.js';
import { type Frame, InputAudioRawFrame, StartFrame } from '../pipeline/frames.js';
import { logger } from '../pipeline/logger.js';
import { SmallWebRTCTypeError } from '../errors.js';
import type { VADAnalyzer } from './vad-analyzer.js';
import { VADController } from './vad-controller.js';

/** Construction options of {@link VADProcessor}. */
export interface VADProcessorOptions extends FrameProcessorOptions {
  /** The analyzer to run (e.g. `new SileroVADAnalyzer()`); one per stream. */
  vadAnalyzer: VADAnalyzer;
}

/**
 * Detects the user's speech in the `InputAudioRawFrame`s passing downstream and pushes the speaking frames
 * ({@link VADController} lists them: VAD/User Started/Stopped Speaking, UserSpeaking, and an interruption
 * when allowed). Put it right after `transport.input()`:
 *
 * ```ts
 * new Pipeline([transport.input(), new VADProcessor({ vadAnalyzer: new SileroVADAnalyzer() }), stt, ...])
 * ```
 *
 * The same logic runs inside the input transport when `TransportParams.vadAnalyzer` is set (what existing
 * bots do); use one or the other, not both. As in Pipecat, this processor forwards each audio frame first and
 * analyses it after, so the audio is never held back by inference; the input transport analyses first, so
 * there the speaking frames of a frame precede it. The model loads during `setup()`, before audio flows.
 */
export class VADProcessor extends FrameProcessor {
  readonly #vad: VADController;
  #errors = 0;

  /** @throws TypeError (ERR_INVALID_ARG) when `vadAnalyzer` is not a VADAnalyzer. */
  constructor(options: VADProcessorOptions) {
    const analyzer = (options as Partial<VADProcessorOptions> | null | undefined)?.vadAnalyzer;
    if (
      analyzer === null ||
      typeof analyzer !== 'object' ||
      typeof analyzer.analyze !== 'function' ||
      typeof analyzer.setSampleRate !== 'function'
    ) {
      throw new SmallWebRTCTypeError(
        'ERR_INVALID_ARG',
        'VADProcessor: vadAnalyzer must implement VADAnalyzer (analyze, setSampleRate)',
      );
    }
    const { vadAnalyzer: _analyzer, ...processorOptions } = options;
    super(processorOptions);
    this.#vad = new VADController(analyzer, this);
  }

  /** The analyzer in use. */
  get vadAnalyzer(): VADAnalyzer {
    return this.#vad.analyzer;
  }

  /** Whether the user is speaking (a start was pushed and no stop since). */
  get userSpeaking(): boolean {
    return this.#vad.userSpeaking;
  }

  override async setup(setup: FrameProcessorSetup = {}): Promise<void> {
    await super.setup(setup);
    await this.#vad.load();
  }

  override async processFrame(frame: Frame, direction: FrameDirection): Promise<void> {
    await this.pushFrame(frame, direction);
    if (frame instanceof StartFrame) {
      await this.#vad.start(frame.audioInSampleRate);
    } else if (frame instanceof InputAudioRawFrame && direction === FrameDirection.DOWNSTREAM) {
      try {
        await this.#vad.processAudio(frame.audio, frame.sampleRate, frame.numChannels);
      } catch (err) {
        // An analyzer that failed to load reports it on every frame: log the first and then every 500th.
        if (this.#errors++ % 500 === 0) logger().error(`${this.name}: VAD analysis failed`, err);
      }
    }
  }
}
