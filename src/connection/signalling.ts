/**
 * Data-channel signalling messages (docs/protocol.md, "Data channel"): all are JSON text on the
 * client-created `chat` channel, wrapped as `{"type":"signalling","message":{...}}`.
 */
import { errorCode } from '../errors.js';
import { parsePeerJson } from '../validation.js';
import type { InboundStats } from './inbound-stats.js';

/** The outer `type` of signalling messages (Python `SIGNALLING_TYPE`). */
export const SIGNALLING_TYPE = 'signalling';

/** Client -> server: a receiver was enabled or disabled (mic/camera/screen toggled). */
export interface TrackStatusMessage {
  type: 'trackStatus';
  /** Transceiver index: 0 audio, 1 camera, 2 screen. */
  receiver_index: number;
  enabled: boolean;
}

/**
 * Server -> client: please re-offer on the same peer connection (docs/protocol.md, "Renegotiation and
 * restart").
 */
export interface RenegotiateMessage {
  type: 'renegotiate';
}

/** Server -> client: the bot is leaving; the client disconnects (docs/protocol.md, "Server to client"). */
export interface PeerLeftMessage {
  type: 'peerLeft';
}

/** Any signalling payload. */
export type SignallingMessage = TrackStatusMessage | RenegotiateMessage | PeerLeftMessage;

/** The envelope sent on the data channel. */
export interface SignallingEnvelope<M extends SignallingMessage = SignallingMessage> {
  type: typeof SIGNALLING_TYPE;
  message: M;
}

/** Builds the envelope for an outbound signalling message. */
export function signalling<M extends SignallingMessage>(message: M): SignallingEnvelope<M> {
  return { type: SIGNALLING_TYPE, message };
}

/** How an inbound data-channel text was classified. */
export type InboundMessage =
  | { kind: 'ping' }
  | { kind: 'signalling'; message: SignallingMessage }
  | { kind: 'app'; message: Record<string, unknown> }
  | { kind: 'invalid'; reason: string; drop: InboundDropReason };

/** Why an inbound data-channel text was dropped (the counters of `SmallWebRTCConnection.inboundStats()`). */
export type InboundDropReason = Exclude<keyof InboundStats['dataChannel']['dropped'], 'binary' | 'failed'>;

/** Largest inbound text we parse (UTF-16 units): our announced a=max-message-size (64 KiB). */
export const MAX_INBOUND_MESSAGE_CHARS = 64 * 1024;

/**
 * Classifies one inbound text message as Pipecat does (`conn.py` L347-365): text starting with `ping` is a
 * keepalive; JSON objects with `type: "signalling"` and an object `message` are signalling; any other JSON
 * object with a `type` key is an app message; everything else is invalid (logged and ignored by the caller).
 */
export function classifyInbound(text: string): InboundMessage {
  if (text.startsWith('ping')) return { kind: 'ping' };
  if (text.length > MAX_INBOUND_MESSAGE_CHARS)
    return { kind: 'invalid', reason: `too large (${text.length} chars)`, drop: 'tooLarge' };
  let parsed: unknown;
  try {
    // Depth-checked first: a deeply nested value would make every later JSON.stringify throw (validation.ts).
    parsed = parsePeerJson(text);
  } catch (err) {
    return errorCode(err) === 'ERR_MESSAGE_TOO_DEEP'
      ? { kind: 'invalid', reason: (err as Error).message, drop: 'tooDeep' }
      : { kind: 'invalid', reason: 'not JSON', drop: 'notJson' };
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    return { kind: 'invalid', reason: 'not a JSON object', drop: 'notObject' };
  }
  const obj = parsed as Record<string, unknown>;
  if (!('type' in obj)) return { kind: 'invalid', reason: 'no "type" key', drop: 'notObject' };
  if (obj['type'] === SIGNALLING_TYPE && obj['message'] !== undefined && obj['message'] !== null) {
    const m = obj['message'];
    if (typeof m !== 'object' || Array.isArray(m))
      return { kind: 'invalid', reason: 'signalling message not an object', drop: 'invalidSignalling' };
    const msg = m as Record<string, unknown>;
    switch (msg['type']) {
      case 'trackStatus': {
        const idx = msg['receiver_index'];
        const enabled = msg['enabled'];
        if (
          typeof idx !== 'number' ||
          !Number.isInteger(idx) ||
          idx < 0 ||
          idx > 1024 ||
          typeof enabled !== 'boolean'
        ) {
          return { kind: 'invalid', reason: 'invalid trackStatus', drop: 'invalidSignalling' };
        }
        return { kind: 'signalling', message: { type: 'trackStatus', receiver_index: idx, enabled } };
      }
      case 'renegotiate':
        return { kind: 'signalling', message: { type: 'renegotiate' } };
      case 'peerLeft':
        return { kind: 'signalling', message: { type: 'peerLeft' } };
      default: {
        // The reason is logged: never echo more than a short prefix of what the peer sent.
        const type = JSON.stringify(msg['type']) ?? 'undefined';
        const shown = type.length > 40 ? `${type.slice(0, 40)}...` : type;
        return { kind: 'invalid', reason: `unknown signalling message ${shown}`, drop: 'invalidSignalling' };
      }
    }
  }
  return { kind: 'app', message: obj };
}
