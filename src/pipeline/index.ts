// Public names of the pipeline core (Pipecat-style frames, processors, pipeline, task, runner).
export * from './frames.js';
export {
  FrameDirection,
  FrameProcessor,
  type FrameObserver,
  type FramePushed,
  type FrameProcessorEvents,
  type FrameProcessorOptions,
  type FrameProcessorSetup,
  type QueueFrameOptions,
} from './frame-processor.js';
export { BaseObject, type EventArgs, type EventHandler } from './base-object.js';
export { Pipeline, type PipelineOptions } from './pipeline.js';
export {
  PipelineTask,
  type FrameClass,
  type PipelineParams,
  type PipelineTaskEvents,
  type PipelineTaskOptions,
} from './task.js';
export { PipelineRunner, type PipelineRunnerEvents, type PipelineRunnerOptions } from './runner.js';
export {
  LLMContext,
  LLMContextFrame,
  LLMUserAggregator,
  LLMAssistantAggregator,
  LLMContextAggregatorPair,
  type LLMUserAggregatorParams,
  type LLMContextAggregatorPairOptions,
} from './llm-context.js';
