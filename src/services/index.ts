// Public names of the service interfaces (STT, LLM, TTS base classes a user plugs real providers into).
export { STTService, type STTServiceOptions } from './stt-service.js';
export { LLMService } from './llm-service.js';
export { TTSService, matchEndOfSentence, type TTSServiceOptions } from './tts-service.js';
export type { StreamOrPromise } from './iterate.js';
