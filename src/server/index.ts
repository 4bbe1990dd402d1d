// Public exports of the signalling layer (request handler + HTTP server).
export { HttpError, isHttpError } from './http-error.js';
export {
  ConnectionMode,
  SmallWebRTCRequestHandler,
  type SmallWebRTCConnectionCallback,
  type SmallWebRTCRequestHandlerOptions,
} from './request-handler.js';
export {
  createSmallWebRTCRequestListener,
  startSmallWebRTCServer,
  type SmallWebRTCRequestListener,
  type SmallWebRTCRequestListenerOptions,
  type SmallWebRTCServer,
  type SmallWebRTCServerOptions,
} from './http-server.js';
export { mungeSdpForEsp32 } from './esp32.js';
export {
  DEFAULT_SIGNALLING_LIMITS,
  parseOfferRequest,
  parsePatchRequest,
  type SignallingLimits,
  type SmallWebRTCIceCandidate,
  type SmallWebRTCPatchRequest,
  type SmallWebRTCRequest,
} from '../validation.js';
