// Public exports of small-webrtc. Each module re-exports its public names here.
export {};
export * from './server/index.js';
export * from './vad/index.js';
