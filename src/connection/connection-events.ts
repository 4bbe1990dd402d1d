import type { InputTrack } from './tracks.js';

/** Events and the arguments handlers receive after the connection itself (Pipecat: `(connection, *args)`). */
export interface SmallWebRTCConnectionEvents {
  /** The peer connection was created (libdatachannel `new` state). */
  new: [];
  /** ICE/DTLS is in progress. */
  connecting: [];
  /** Connected and `connect()` was called (held back until then, as Pipecat). Again after a restart. */
  connected: [];
  /** Only before a `renegotiate({ restartPc: true })` tears the old peer down (as Pipecat). */
  disconnected: [];
  /** The connection ended (closed by us, by the peer, failed, timed out, or the peer vanished). Once. */
  closed: [];
  /** The peer connection failed (followed by `closed`). */
  failed: [];
  /** A non-signalling JSON object arrived on the data channel (while connected; earlier ones on `connect()`). */
  'app-message': [message: unknown];
  /** The first RTP packet arrived on an input track. */
  'track-started': [track: InputTrack];
  /** An input track that had started is gone (close or restart). */
  'track-ended': [track: InputTrack];
}

/** Name of a {@link SmallWebRTCConnection} event. */
export type SmallWebRTCConnectionEventName = keyof SmallWebRTCConnectionEvents;

/** Every {@link SmallWebRTCConnection} event, registered up front. */
export const CONNECTION_EVENT_NAMES: readonly SmallWebRTCConnectionEventName[] = [
  'new',
  'connecting',
  'connected',
  'disconnected',
  'closed',
  'failed',
  'app-message',
  'track-started',
  'track-ended',
];
