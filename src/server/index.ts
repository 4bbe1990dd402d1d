// Public exports of the signalling layer (request handler + HTTP server).
export { HttpError, isHttpError } from './http-error.js';
export {
  DEFAULT_MAX_CONNECTIONS_PER_ADDRESS,
  DEFAULT_MAX_SESSION_CACHE_BYTES,
  DEFAULT_MAX_SESSIONS,
  DEFAULT_OFFER_RATE,
  type OfferRateLimit,
  type SmallWebRTCAuthorize,
} from './admission.js';
export {
  ConnectionMode,
  SmallWebRTCRequestHandler,
  type SmallWebRTCConnectionCallback,
  type SmallWebRTCRequestHandlerOptions,
} from './request-handler.js';
export {
  createSmallWebRTCRequestListener,
  type SmallWebRTCRequestListener,
  type SmallWebRTCRequestListenerOptions,
} from './http-server.js';
export {
  startSmallWebRTCServer,
  type SmallWebRTCServer,
  type SmallWebRTCServerOptions,
} from './start-server.js';
export { mungeSdpForEsp32 } from './esp32.js';
export {
  DEFAULT_DRAIN_DEADLINE_MS,
  type SmallWebRTCDrainOptions,
  type SmallWebRTCDrainResult,
  type SmallWebRTCShutdownOptions,
} from './drain.js';
export {
  clusterMetrics,
  type SmallWebRTCMetricsOptions,
  type SmallWebRTCOfferResult,
  type SmallWebRTCSessionEndReason,
} from './metrics.js';
export {
  DEFAULT_LOAD_WINDOW_MS,
  DEFAULT_MAX_EVENT_LOOP_DELAY_MS,
  type SmallWebRTCLiveness,
  type SmallWebRTCLoadLimits,
  type SmallWebRTCLoadSample,
  type SmallWebRTCNotReadyReason,
  type SmallWebRTCReadiness,
} from './health.js';
export {
  DEFAULT_SIGNALLING_LIMITS,
  parseOfferRequest,
  parsePatchRequest,
  type SignallingLimits,
  type SmallWebRTCIceCandidate,
  type SmallWebRTCPatchRequest,
  type SmallWebRTCRequest,
} from '../validation.js';
export { ownerOfId, type SmallWebRTCRoutingOptions } from './routing.js';
export {
  type SmallWebRTCClusterOptions,
  type SmallWebRTCClusterPrimary,
  type SmallWebRTCWorkerInfo,
  type SmallWebRTCWorkers,
} from './cluster.js';
