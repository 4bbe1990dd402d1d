/**
 * Per-connection media counters for monitoring (the server's `/metrics` and its session log lines), read from
 * the native receivers and senders only when someone asks: nothing runs per packet in JS.
 *
 * The media objects live in the transport (an `AudioInputTrack` per input transport, an `AudioOutputTrack`
 * per connected peer), not in the connection; each attaches a reader here while it lives. When one goes away
 * (a `restart_pc`, the end of the session) its last reading is kept, so a connection's totals never go back.
 */

/** Media counters of one connection, summed over the audio receivers and senders it had. */
export interface SessionMediaStats {
  /** Audio RTP packets received (accepted by the jitter buffer). */
  packetsIn: number;
  /** Audio RTP packets sent. */
  packetsOut: number;
  /** Incoming audio packets given up on (their slot was concealed). */
  packetsLost: number;
  /** Concealment played for lost packets (PLC + FEC), seconds. */
  concealedSecs: number;
  /**
   * The jitter buffer's current delay (its loss deadline after expected arrival), seconds; `null` while no
   * receiver is attached.
   */
  jitterBufferDelaySecs: number | null;
  /**
   * Send underruns: 20 ms send slots skipped because the pacer ran over a second late (shorter stalls are
   * caught up).
   */
  sendUnderruns: number;
  /** Video frames received (assembled from RTP, camera and screen). */
  videoFramesIn: number;
  /** Video frames encoded and sent. */
  videoFramesOut: number;
  /** Received video frames the decoder refused (each asked for a keyframe). */
  videoDecodeErrors: number;
  /** Bot images the encoder could not encode. */
  videoEncodeErrors: number;
  /** Keyframe requests (PLI) we sent about the peer's video. */
  videoKeyframeRequestsSent: number;
  /** Keyframe requests (PLI, FIR) the peer sent about ours. */
  videoKeyframeRequestsReceived: number;
}

/** What a media object reports (its own counters since it was created; `null` once it cannot be read). */
export type MediaStatsReading = Partial<SessionMediaStats> | null;

/** Every counter of {@link SessionMediaStats} (all but the jitter-buffer gauge). */
export const COUNTERS = [
  'packetsIn',
  'packetsOut',
  'packetsLost',
  'concealedSecs',
  'sendUnderruns',
  'videoFramesIn',
  'videoFramesOut',
  'videoDecodeErrors',
  'videoEncodeErrors',
  'videoKeyframeRequestsSent',
  'videoKeyframeRequestsReceived',
] as const;

interface Entry {
  /** Readers of the live media objects. */
  readonly live: Set<() => MediaStatsReading>;
  /** The last readings of the media objects that went away, summed. */
  readonly retired: SessionMediaStats;
}

const entries = new WeakMap<object, Entry>();

/** All-zero media totals (no jitter-buffer reading yet). */
export function zero(): SessionMediaStats {
  return {
    packetsIn: 0,
    packetsOut: 0,
    packetsLost: 0,
    concealedSecs: 0,
    jitterBufferDelaySecs: null,
    sendUnderruns: 0,
    videoFramesIn: 0,
    videoFramesOut: 0,
    videoDecodeErrors: 0,
    videoEncodeErrors: 0,
    videoKeyframeRequestsSent: 0,
    videoKeyframeRequestsReceived: 0,
  };
}

function add(into: SessionMediaStats, r: MediaStatsReading): void {
  if (r === null) return;
  for (const k of COUNTERS) into[k] += r[k] ?? 0;
}

/**
 * Attaches the reader of one media object (an audio or video receiver or sender) to `connection`. Call the returned
 * function BEFORE closing the object: it takes the last reading and keeps it in the connection's totals.
 * A reader must be cheap (a native `stats()` call) and must not throw.
 */
export function attachMediaStats(connection: object, read: () => MediaStatsReading): () => void {
  let entry = entries.get(connection);
  if (entry === undefined) {
    entry = { live: new Set(), retired: zero() };
    entries.set(connection, entry);
  }
  const e = entry;
  e.live.add(read);
  return () => {
    if (!e.live.delete(read)) return;
    add(e.retired, safeRead(read));
  };
}

function safeRead(read: () => MediaStatsReading): MediaStatsReading {
  try {
    return read();
  } catch {
    return null; // a closed native object: its last reading was taken on detach
  }
}

/** The media totals of `connection` now (zeros for a connection that never had media attached). */
export function readMediaStats(connection: object): SessionMediaStats {
  const entry = entries.get(connection);
  const total = zero();
  if (entry === undefined) return total;
  add(total, entry.retired);
  for (const read of entry.live) {
    const r = safeRead(read);
    add(total, r);
    const delay = r?.jitterBufferDelaySecs;
    if (typeof delay === 'number')
      total.jitterBufferDelaySecs = Math.max(total.jitterBufferDelaySecs ?? 0, delay);
  }
  return total;
}
