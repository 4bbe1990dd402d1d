// Public exports of small-webrtc. Each module re-exports its public names here.
export * from './server/index.js';
export * from './vad/index.js';
export * from './connection/index.js';
export * from './errors.js';
export { consoleLogger, getLogger, setLogger, type Logger, type LogLevelName } from './logger.js';
export * from './pipeline/index.js';
export * from './transport/index.js';
export * from './media/audio.js';
export * from './media/video.js';
export * from './media/rtp.js';
export { NativeAddonLoadError } from './native/binding.js';
export * from './rtvi/index.js';
export * from './services/index.js';
