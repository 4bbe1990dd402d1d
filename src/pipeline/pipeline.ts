import { SmallWebRTCTypeError } from '../errors.js';
import {
  FrameDirection,
  FrameProcessor,
  type FrameProcessorSetup,
  type QueueFrameOptions,
} from './frame-processor.js';
import type { Frame } from './frames.js';

/**
 * The entry/exit point inside a {@link Pipeline}: forwards frames without queueing them, so a pipeline adds no
 * scheduling hop of its own (ordering and back-pressure are exactly those of the child processors).
 */
class PipelineEdge extends FrameProcessor {
  readonly #forward: (frame: Frame, direction: FrameDirection, options: QueueFrameOptions) => Promise<void>;

  constructor(
    name: string,
    forward: (frame: Frame, direction: FrameDirection, options: QueueFrameOptions) => Promise<void>,
  ) {
    super({ name });
    this.#forward = forward;
  }

  override async queueFrame(
    frame: Frame,
    direction: FrameDirection = FrameDirection.DOWNSTREAM,
    options: QueueFrameOptions = {},
  ): Promise<void> {
    await this.#forward(frame, direction, options);
  }
}

/** Construction options of {@link Pipeline}. */
export interface PipelineOptions {
  /** Name used in logs (default `Pipeline#n`). */
  name?: string;
}

/**
 * A chain of processors that is itself a processor (Pipecat's `Pipeline`): frames queued into it downstream
 * enter the first child; frames leaving the last child downstream go to the pipeline's next processor;
 * frames pushed upstream by the first child leave through the pipeline's previous processor. Pipelines nest.
 *
 * The pipeline does not queue frames itself: it forwards them to its children at once, so the scheduling
 * guarantees of {@link FrameProcessor} hold end to end.
 */
export class Pipeline extends FrameProcessor {
  readonly #processors: readonly FrameProcessor[];
  readonly #source: PipelineEdge;
  readonly #sink: PipelineEdge;

  /**
   * @param processors - the children, in downstream order; each may appear once (TypeError otherwise).
   */
  constructor(processors: readonly FrameProcessor[], options: PipelineOptions = {}) {
    super({ name: options.name });
    if (!Array.isArray(processors))
      throw new SmallWebRTCTypeError('ERR_INVALID_ARG', 'processors must be an array of FrameProcessor');
    processors.forEach((p, i) => {
      if (!(p instanceof FrameProcessor))
        throw new SmallWebRTCTypeError('ERR_INVALID_ARG', `processors[${i}] is not a FrameProcessor`);
    });
    if (new Set(processors).size !== processors.length) {
      throw new SmallWebRTCTypeError(
        'ERR_INVALID_ARG',
        'processors must not contain the same processor twice',
      );
    }
    this.#processors = [...processors];
    // Source: downstream -> first child; upstream (from the first child) -> out of the pipeline.
    this.#source = new PipelineEdge(`${this.name}::Source`, async (frame, direction, options) => {
      if (direction === FrameDirection.DOWNSTREAM) {
        await (this.#processors[0] ?? this.#sink).queueFrame(frame, direction, options);
      } else {
        await this.previous?.queueFrame(frame, direction, options);
      }
    });
    // Sink: downstream (from the last child) -> out of the pipeline; upstream -> last child.
    this.#sink = new PipelineEdge(`${this.name}::Sink`, async (frame, direction, options) => {
      if (direction === FrameDirection.DOWNSTREAM) {
        await this.next?.queueFrame(frame, direction, options);
      } else {
        await (this.#processors.at(-1) ?? this.#source).queueFrame(frame, direction, options);
      }
    });
    let prev: FrameProcessor = this.#source;
    for (const p of this.#processors) prev = prev.link(p);
    prev.link(this.#sink);
  }

  /** The children, in downstream order. */
  get processors(): readonly FrameProcessor[] {
    return this.#processors;
  }

  /** Sets up every child, in order. */
  override async setup(setup: FrameProcessorSetup = {}): Promise<void> {
    await super.setup(setup);
    for (const p of this.#processors) {
      FrameProcessor.bindObserver(p, setup.observer);
      await p.setup(setup);
    }
  }

  /** Cleans up every child, in order; one failing cleanup does not stop the others (it is rethrown last). */
  override async cleanup(): Promise<void> {
    await super.cleanup();
    let failure: unknown = undefined;
    for (const p of this.#processors) {
      try {
        await p.cleanup();
      } catch (err) {
        failure ??= err;
      }
    }
    if (failure !== undefined) throw failure;
  }

  /** Frames entering the pipeline go straight to the first (downstream) or last (upstream) child. */
  override async queueFrame(
    frame: Frame,
    direction: FrameDirection = FrameDirection.DOWNSTREAM,
    options: QueueFrameOptions = {},
  ): Promise<void> {
    if (direction === FrameDirection.DOWNSTREAM) await this.#source.queueFrame(frame, direction, options);
    else await this.#sink.queueFrame(frame, direction, options);
  }
}
