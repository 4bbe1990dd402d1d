// Public names of the minimal RTVI server side (client-ready -> bot-ready handshake, message helpers).
export * from './messages.js';
export {
  RTVIProcessor,
  RTVIClientMessageFrame,
  RTVIServerMessageFrame,
  RTVIServerResponseFrame,
  type RTVIClientMessage,
  type RTVIClientReady,
  type RTVIProcessorEvents,
  type RTVIProcessorOptions,
} from './rtvi-processor.js';
export { RTVIObserver, type RTVIObserverOptions } from './rtvi-observer.js';
