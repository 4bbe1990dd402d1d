/**
 * RTVI wire messages (the JSON objects exchanged with Pipecat clients over the data channel) and builders for
 * the server -> client ones. Shapes follow Pipecat's `rtvi/models.py` (protocol 2.1.0): every message carries
 * `label: "rtvi-ai"` and a `type`; replies carry the `id` of the client message they answer; events carry no
 * `id`. Builders return plain objects ready for `OutputTransportMessageUrgentFrame` / `sendAppMessage`.
 */

/** RTVI protocol version spoken by this server (and by `@pipecat-ai/client-js` 1.13). */
export const RTVI_PROTOCOL_VERSION = '2.1.0';

/** The `label` of every RTVI message; clients drop data-channel messages without it. */
export const RTVI_MESSAGE_LABEL = 'rtvi-ai';

/** Any RTVI message as it travels on the wire. */
export interface RTVIMessage {
  /** Always `"rtvi-ai"`. */
  label: typeof RTVI_MESSAGE_LABEL;
  /** Message type (`client-ready`, `bot-ready`, `server-message`...). */
  type: string;
  /** Client messages: a client-chosen id; replies echo it; events have none. */
  id?: string;
  /** Type-specific payload. */
  data?: unknown;
}

/** `about` of a client-ready message (what the client library says about itself). */
export interface RTVIAboutClient {
  /** e.g. `@pipecat-ai/client-js`. */
  library?: string;
  /** e.g. `1.13.1`. */
  library_version?: string;
  /** Platform details (browser, OS...). */
  platform_details?: unknown;
  /** Anything else the client sent. */
  [extra: string]: unknown;
}

/** `about` of our bot-ready reply. */
export interface RTVIAboutBot {
  /** Library name; default `small-webrtc`. */
  library: string;
  /** Library version; default this package's version. */
  library_version?: string;
  /** Anything else the application wants the client to see. */
  [extra: string]: unknown;
}

/** Data of the `bot-ready` message. */
export interface RTVIBotReadyData {
  /** Protocol version we answer with. */
  version: string;
  /** Who we are. */
  about: RTVIAboutBot;
}

function message(type: string, data?: unknown, id?: string): RTVIMessage {
  const m: RTVIMessage = { label: RTVI_MESSAGE_LABEL, type };
  if (id !== undefined) m.id = id;
  if (data !== undefined) m.data = data;
  return m;
}

/** `bot-ready`: the answer to `client-ready` that makes `PipecatClient.connect()` resolve. */
export function botReadyMessage(id: string, data: RTVIBotReadyData): RTVIMessage {
  return message('bot-ready', data, id);
}

/** `error-response`: a client message (with that `id`) failed or is unsupported. */
export function errorResponseMessage(id: string, error: string): RTVIMessage {
  return message('error-response', { error }, id);
}

/**
 * `server-response`: the answer to a `client-message` `{t, d}` (resolves the client's `sendClientRequest`);
 * `t` echoes the request type, `d` is the result.
 */
export function serverResponseMessage(id: string, t: string, d: unknown): RTVIMessage {
  return message('server-response', { t, d }, id);
}

/** `server-message`: an unsolicited message for the application (`onServerMessage` on the client). */
export function serverMessage(data: unknown): RTVIMessage {
  return message('server-message', data);
}

/** `error`: a server error event; `fatal: true` makes the client disconnect. */
export function errorMessage(error: string, fatal = false): RTVIMessage {
  return message('error', { error, fatal });
}

/** `user-started-speaking` event. */
export function userStartedSpeakingMessage(): RTVIMessage {
  return message('user-started-speaking');
}

/** `user-stopped-speaking` event. */
export function userStoppedSpeakingMessage(): RTVIMessage {
  return message('user-stopped-speaking');
}

/** `bot-started-speaking` event. */
export function botStartedSpeakingMessage(): RTVIMessage {
  return message('bot-started-speaking');
}

/** `bot-stopped-speaking` event. */
export function botStoppedSpeakingMessage(): RTVIMessage {
  return message('bot-stopped-speaking');
}

/** `user-transcription` event (`final: false` for interim results). */
export function userTranscriptionMessage(data: {
  text: string;
  user_id: string;
  timestamp: string;
  final: boolean;
}): RTVIMessage {
  return message('user-transcription', data);
}

/** Whether `value` is an RTVI message (an object with the `rtvi-ai` label and a string `type`). */
export function isRTVIMessage(value: unknown): value is RTVIMessage {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as { label?: unknown }).label === RTVI_MESSAGE_LABEL &&
    typeof (value as { type?: unknown }).type === 'string'
  );
}
