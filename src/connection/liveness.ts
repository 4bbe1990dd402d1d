import { performance } from 'node:perf_hooks';
import { getLogger } from '../logger.js';
import { NON_PINGING_SILENCE_SECS } from './connection-options.js';

/** A ping younger than this keeps `isConnected()` true (Python; docs/protocol.md, "Liveness"). */
export const PING_LIVENESS_MS = 3000;

/**
 * The timers of one peer connection (JS thread): all unref'd (a connection never keeps the process alive),
 * all cancelled at once when the peer goes, and a callback never runs after that (a timer already due in the
 * same loop turn is skipped). A throwing callback is logged and does not cancel a repeating timer.
 */
export class PeerTimers {
  readonly #name: string;
  readonly #timers = new Set<NodeJS.Timeout>();
  #cleared = false;

  constructor(name: string) {
    this.#name = name;
  }

  /** Runs `fn` once after `ms` milliseconds. */
  after(ms: number, fn: () => void): NodeJS.Timeout {
    return this.#start(ms, fn, false);
  }

  /** Runs `fn` every `ms` milliseconds until {@link PeerTimers.clear}. */
  every(ms: number, fn: () => void): NodeJS.Timeout {
    return this.#start(ms, fn, true);
  }

  /** Cancels one timer (null is ignored). */
  cancel(t: NodeJS.Timeout | null): void {
    if (!t) return;
    clearTimeout(t);
    this.#timers.delete(t);
  }

  /** Cancels every timer; later `after`/`every` timers never fire either. */
  clear(): void {
    this.#cleared = true;
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
  }

  #start(ms: number, fn: () => void, repeat: boolean): NodeJS.Timeout {
    const wrapped = (): void => {
      if (!repeat) this.#timers.delete(t);
      if (this.#cleared) return;
      try {
        fn();
      } catch (err) {
        getLogger().error(`${this.#name}: timer failed`, err);
      }
    };
    const t = repeat ? setInterval(wrapped, ms) : setTimeout(wrapped, ms);
    t.unref();
    if (this.#cleared) clearTimeout(t);
    else this.#timers.add(t);
    return t;
  }
}

/** What {@link PeerLiveness} needs from the connection. */
export interface PeerLivenessOptions {
  /** Log prefix (the connection's name). */
  name: string;
  /** The peer's timers (cancelled when the peer goes). */
  timers: PeerTimers;
  /** SCTP payload bytes received so far (node-datachannel `bytesReceived()`); may throw once closed. */
  bytesReceived(): number;
  /** Bound on total silence (pinging clients) and on ICE `disconnected`, ms. */
  livenessTimeoutMs: number;
  /** Bound on `connecting`, ms. */
  connectionTimeoutMs: number;
  /** The peer is gone (a timeout above expired): the connection closes. Called at most once per expiry. */
  onGone(): void;
}

/**
 * Whether the peer of one peer connection is still there: ping and packet bookkeeping for `isConnected()`,
 * the `connecting` and `disconnected` timeouts, and the silence watch. One per peer (replaced on `restartPc`).
 */
export class PeerLiveness {
  readonly #o: PeerLivenessOptions;
  #everConnected = false;
  #lastPingMs: number | null = null;
  #lastBytesReceived = 0;
  #lastBytesChangeMs = performance.now();
  /** performance.now() of the last packet seen on any track (RTP or RTCP); SCTP bytes are counted apart. */
  #lastMediaMs = 0;
  #connectingTimer: NodeJS.Timeout | null = null;
  #disconnectedTimer: NodeJS.Timeout | null = null;

  constructor(o: PeerLivenessOptions) {
    this.#o = o;
  }

  /** Whether the peer connection reached `connected` at least once. */
  get everConnected(): boolean {
    return this.#everConnected;
  }

  /** A `ping` arrived on the data channel. */
  markPing(nowMs: number = performance.now()): void {
    this.#lastPingMs = nowMs;
  }

  /** An RTP or RTCP packet arrived at `nowMs` (`performance.now()`). */
  markMedia(nowMs: number): void {
    this.#lastMediaMs = nowMs;
  }

  /**
   * Pipecat's liveness given the peer connection's state: the last `ping` is younger than 3 s if the client
   * ever pinged, else the peer connection is `connected`.
   */
  isAlive(pcState: string): boolean {
    if (this.#lastPingMs !== null) return performance.now() - this.#lastPingMs < PING_LIVENESS_MS;
    return pcState === 'connected';
  }

  /** The peer connection entered `connecting`: bound the time it may stay there. */
  connecting(): void {
    this.#o.timers.cancel(this.#connectingTimer);
    this.#connectingTimer = this.#o.timers.after(this.#o.connectionTimeoutMs, () => {
      getLogger().warn(`${this.#o.name}: still connecting after ${this.#o.connectionTimeoutMs} ms; closing`);
      this.#o.onGone();
    });
  }

  /** The peer connection entered `connected`. Returns true the first time. */
  connected(): boolean {
    this.#o.timers.cancel(this.#connectingTimer);
    this.#o.timers.cancel(this.#disconnectedTimer);
    this.#connectingTimer = null;
    this.#disconnectedTimer = null;
    if (this.#everConnected) return false;
    this.#everConnected = true;
    this.#lastBytesChangeMs = performance.now();
    return true;
  }

  /**
   * The peer connection entered `disconnected`. libdatachannel: ICE-only loss may recover; DTLS/SCTP loss is
   * followed by `closed`. Bound the wait.
   */
  disconnected(): void {
    this.#o.timers.cancel(this.#disconnectedTimer);
    this.#disconnectedTimer = this.#o.timers.after(this.#o.livenessTimeoutMs, () => {
      getLogger().info(`${this.#o.name}: disconnected for ${this.#o.livenessTimeoutMs} ms; closing`);
      this.#o.onGone();
    });
  }

  /**
   * Starts the periodic liveness check (docs/protocol.md, "Liveness"; libjuice's own consent checks took
   * ~30 s here). The peer is gone when
   * nothing at all has been received (no ping, no RTP/RTCP, no SCTP) for `livenessTimeoutSecs`, if it ever
   * pinged; clients that never ping get `max(livenessTimeoutSecs, 30)` s, since an idle non-pinging peer may
   * legitimately send nothing but STUN consent checks for a while. Requiring total silence (not only ping
   * silence) keeps a throttled background tab that still sends media from being dropped.
   *
   * Our own event-loop stalls (GC, a loaded machine) are not the peer's silence: after a stall the timers
   * phase runs this check before the poll phase delivers the media callbacks that queued up meanwhile, so a
   * tick that fires more than 2 periods late gives no verdict and the next one (which sees the backlog)
   * decides. Only one tick in a row is skipped, so a permanently lagging loop still closes dead peers.
   */
  watch(): void {
    const timeoutMs = this.#o.livenessTimeoutMs;
    const silentLimit = Math.max(timeoutMs, NON_PINGING_SILENCE_SECS * 1000);
    const periodMs = Math.min(500, timeoutMs / 4);
    let lastTickMs = performance.now();
    let skipped = false;
    this.#o.timers.every(periodMs, () => {
      const now = performance.now();
      const late = now - lastTickMs > 2 * periodMs;
      lastTickMs = now;
      if (!this.#everConnected) return;
      let bytes = this.#lastBytesReceived;
      try {
        bytes = this.#o.bytesReceived();
      } catch {
        // closed underneath: the state callback will tell
      }
      if (bytes !== this.#lastBytesReceived) {
        this.#lastBytesReceived = bytes;
        this.#lastBytesChangeMs = now;
      }
      // bytesReceived() counts SCTP payload only; media is tracked by markMedia().
      const silentMs = now - Math.max(this.#lastBytesChangeMs, this.#lastMediaMs);
      const limit = this.#lastPingMs !== null ? timeoutMs : silentLimit;
      if (silentMs > limit && late && !skipped) {
        skipped = true;
        getLogger().debug(`${this.#o.name}: liveness check ran late (event loop stalled); deferring verdict`);
        return;
      }
      skipped = false;
      if (silentMs > limit) {
        getLogger().info(`${this.#o.name}: nothing received for ${Math.round(silentMs)} ms; peer gone`);
        this.#o.onGone();
      }
    });
  }
}
