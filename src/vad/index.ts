// Public VAD names: the analyzer interface, Pipecat's parameters/states, and the Silero v5 analyzer.
export {
  VADState,
  VADParams,
  VADError,
  BaseVADAnalyzer,
  WindowLoudness,
  VAD_CONFIDENCE,
  VAD_START_SECS,
  VAD_STOP_SECS,
  VAD_MIN_VOLUME,
} from './vad-analyzer.js';
export type {
  VADAnalyzer,
  VADParamsInit,
  VADTransition,
  VADAnalysis,
  VADStats,
  BaseVADAnalyzerOptions,
} from './vad-analyzer.js';
export {
  SileroVADAnalyzer,
  VAD_INSTALL_COMMAND,
  sileroBatchStats,
  sileroModelPath,
  sileroSessionCount,
} from './silero-vad-analyzer.js';
export type { SileroInferenceThread, SileroVADAnalyzerOptions } from './silero-vad-analyzer.js';
export { VADController, type VADControllerHost } from './vad-controller.js';
export { VADProcessor, type VADProcessorOptions } from './vad-processor.js';
