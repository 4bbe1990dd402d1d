/**
 * Liveness, readiness and load-aware admission for the signalling server: the `/healthz` and `/readyz`
 * bodies, and the one decision "may this process take a new session now?" that both `/readyz` and the offer
 * routes use, so a balancer's probe and a client's offer never disagree.
 *
 * Load is measured on the JS thread, where every session's signalling, RTP hand-off and media clock run:
 * the event-loop delay (perf_hooks `monitorEventLoopDelay`, the direct measure of how late the media clock
 * and the RTP callbacks run) and the process CPU time (user + system, all threads, from `process.cpuUsage`).
 * Both are judged over whole windows (default 2 s): a single GC pause or slow handler is one sample among
 * hundreds and does not move the p99, while a loop that is late again and again does.
 */
import { availableParallelism } from 'node:os';
import { monitorEventLoopDelay, performance, type IntervalHistogram } from 'node:perf_hooks';

import { SmallWebRTCRangeError } from '../errors.js';
import { HttpError } from './http-error.js';

/**
 * Thresholds above which a process refuses new sessions (503 + `Retry-After`, `/readyz` not ready). Existing
 * sessions (trickle `PATCH`, renegotiation, `restart_pc`) are never refused for load.
 */
export interface SmallWebRTCLoadLimits {
  /**
   * p99 of the event-loop delay over the last window above which new sessions are refused, ms (default 200;
   * `null` turns the check off). The media clock ticks every 10 ms and RTP is handed to the native code on
   * the JS thread, so a loop that is late by this much on 1 % of its turns delays packets audibly (the scale
   * bench saw the echo delay pass a second at a p99 of 0.5 s).
   */
  maxEventLoopDelayMs?: number | null;
  /**
   * Process CPU (user + system time of all its threads) over the last window above which new sessions are
   * refused, in cores (default 0.9 x `os.availableParallelism()`: the process itself is using nearly the
   * whole machine; `null` turns the check off). With several workers on one machine give each its share.
   */
  maxCpuCores?: number | null;
  /** Length of the window both are judged over, ms (default 2000, at least 100). */
  windowMs?: number;
}

/** The default event-loop delay threshold (p99 over a window), ms. */
export const DEFAULT_MAX_EVENT_LOOP_DELAY_MS = 200;
/** The default load window, ms. */
export const DEFAULT_LOAD_WINDOW_MS = 2000;

/** One completed load window. */
export interface SmallWebRTCLoadSample {
  /** p99 of the event-loop delay over the window, ms (0 before the first window completes). */
  eventLoopDelayP99Ms: number;
  /** Largest event-loop delay seen in the window, ms. */
  eventLoopDelayMaxMs: number;
  /** Process CPU over the window, in cores (1 = one core busy for the whole window). */
  cpuCores: number;
}

/** Why a process is not ready for a new session. */
export type SmallWebRTCNotReadyReason = 'draining' | 'closed' | 'at_capacity' | 'event_loop_delay' | 'cpu';

/** The `/readyz` body (also what `SmallWebRTCServer.readiness()` returns). */
export interface SmallWebRTCReadiness extends SmallWebRTCLoadSample {
  /** Whether a new session would be admitted now. */
  ready: boolean;
  /** `ready`, or the first reason it is not (`draining`, `at_capacity`, `event_loop_delay`, `cpu`, ...). */
  status: 'ready' | SmallWebRTCNotReadyReason;
  /** Every reason it is not ready (empty when ready). */
  reasons: SmallWebRTCNotReadyReason[];
  /** Live sessions (peer connections), including offers being answered. */
  sessions: number;
  /** The session cap (`maxConnections`; `null` for none). */
  maxSessions: number | null;
}

/** The `/healthz` body. */
export interface SmallWebRTCLiveness extends SmallWebRTCLoadSample {
  /** Always `ok`: a process whose event loop cannot answer does not answer the probe at all. */
  status: 'ok';
  /** Seconds since the process started. */
  uptimeSecs: number;
}

/**
 * Samples the process load in windows (a timer on the JS thread, unref'd: it never keeps the process alive)
 * and compares it with {@link SmallWebRTCLoadLimits}. One per server.
 */
export class LoadMonitor {
  readonly #maxDelayMs: number | null;
  readonly #maxCpu: number | null;
  readonly #windowMs: number;
  readonly #histogram: IntervalHistogram;
  #timer: NodeJS.Timeout | null = null;
  #cpu = process.cpuUsage();
  #windowStart = performance.now();
  #last: SmallWebRTCLoadSample = { eventLoopDelayP99Ms: 0, eventLoopDelayMaxMs: 0, cpuCores: 0 };

  /** @throws RangeError (ERR_INVALID_ARG) naming a bad limit. */
  constructor(limits: SmallWebRTCLoadLimits = {}) {
    const delay =
      limits.maxEventLoopDelayMs === undefined ? DEFAULT_MAX_EVENT_LOOP_DELAY_MS : limits.maxEventLoopDelayMs;
    if (delay !== null && !(typeof delay === 'number' && delay > 0))
      throw new SmallWebRTCRangeError('ERR_INVALID_ARG', 'maxEventLoopDelayMs must be a number > 0 or null');
    const cpu = limits.maxCpuCores === undefined ? 0.9 * availableParallelism() : limits.maxCpuCores;
    if (cpu !== null && !(typeof cpu === 'number' && cpu > 0))
      throw new SmallWebRTCRangeError('ERR_INVALID_ARG', 'maxCpuCores must be a number > 0 or null');
    const windowMs = limits.windowMs ?? DEFAULT_LOAD_WINDOW_MS;
    if (!Number.isFinite(windowMs) || windowMs < 100)
      throw new SmallWebRTCRangeError('ERR_INVALID_ARG', 'windowMs must be a number >= 100');
    this.#maxDelayMs = delay;
    this.#maxCpu = cpu;
    this.#windowMs = windowMs;
    // 10 ms resolution: the media clock's own period, so a delay the clock would feel is seen.
    this.#histogram = monitorEventLoopDelay({ resolution: 10 });
  }

  /** Starts sampling (idempotent). */
  start(): void {
    if (this.#timer !== null) return;
    this.#histogram.enable();
    this.#cpu = process.cpuUsage();
    this.#windowStart = performance.now();
    this.#timer = setInterval(() => this.#closeWindow(), this.#windowMs);
    this.#timer.unref();
  }

  /** Stops sampling (idempotent). */
  stop(): void {
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
    this.#histogram.disable();
  }

  /** The thresholds in force (`null`: that check is off). */
  get limits(): { maxEventLoopDelayMs: number | null; maxCpuCores: number | null; windowMs: number } {
    return { maxEventLoopDelayMs: this.#maxDelayMs, maxCpuCores: this.#maxCpu, windowMs: this.#windowMs };
  }

  /** The last completed window. */
  get sample(): SmallWebRTCLoadSample {
    return { ...this.#last };
  }

  /** The load reasons the last window is over its limits for (empty when it is not). */
  overloadReasons(): Array<'event_loop_delay' | 'cpu'> {
    const reasons: Array<'event_loop_delay' | 'cpu'> = [];
    if (this.#maxDelayMs !== null && this.#last.eventLoopDelayP99Ms > this.#maxDelayMs)
      reasons.push('event_loop_delay');
    if (this.#maxCpu !== null && this.#last.cpuCores > this.#maxCpu) reasons.push('cpu');
    return reasons;
  }

  #closeWindow(): void {
    const now = performance.now();
    const elapsedMs = Math.max(1, now - this.#windowStart);
    const cpu = process.cpuUsage(this.#cpu); // microseconds since the window began
    const h = this.#histogram;
    // The histogram is in nanoseconds; with no sample yet (a window shorter than the resolution) it is NaN.
    const p99 = h.count > 0 ? h.percentile(99) / 1e6 : 0;
    const max = h.count > 0 ? h.max / 1e6 : 0;
    this.#last = {
      eventLoopDelayP99Ms: Number.isFinite(p99) ? p99 : 0,
      eventLoopDelayMaxMs: Number.isFinite(max) ? max : 0,
      cpuCores: (cpu.user + cpu.system) / 1000 / elapsedMs,
    };
    h.reset();
    this.#cpu = process.cpuUsage();
    this.#windowStart = now;
  }
}

/** What the readiness decision needs to know about the server. */
export interface AdmissionState {
  /** Live sessions including offers being answered. */
  sessions(): number;
  /** The session cap, or `null`/`Infinity` for none. */
  maxSessions(): number;
  /** Whether the handler was closed (no offer can be answered any more). */
  closed(): boolean;
}

/**
 * The one admission decision of a server: not draining, not closed, under the session cap and under the load
 * limits. `/readyz` reports it, new offers and `/start` are refused with it.
 */
export class ServerHealth {
  readonly #state: AdmissionState;
  readonly #load: LoadMonitor | null;
  readonly #retryAfterSecs: number;
  readonly #startedMs = performance.now();
  #draining = false;

  constructor(state: AdmissionState, load: LoadMonitor | null, retryAfterSecs: number) {
    this.#state = state;
    this.#load = load;
    this.#retryAfterSecs = retryAfterSecs;
  }

  /** The load monitor, if load-aware admission is on. */
  get load(): LoadMonitor | null {
    return this.#load;
  }

  /** Whether the server is draining (set once, by `drain()`; never cleared). */
  get draining(): boolean {
    return this.#draining;
  }

  /** Marks the server as draining: from now on new sessions are refused and `/readyz` fails. */
  startDraining(): void {
    this.#draining = true;
  }

  /** The `/healthz` body. */
  liveness(): SmallWebRTCLiveness {
    return {
      status: 'ok',
      uptimeSecs: Math.round((performance.now() - this.#startedMs) / 100) / 10,
      ...this.#sample(),
    };
  }

  /** The `/readyz` body: whether a new session would be admitted now, and why not. */
  readiness(): SmallWebRTCReadiness {
    const reasons: SmallWebRTCNotReadyReason[] = [];
    if (this.#draining) reasons.push('draining');
    if (this.#state.closed()) reasons.push('closed');
    const sessions = this.#state.sessions();
    const max = this.#state.maxSessions();
    if (sessions >= max) reasons.push('at_capacity');
    if (this.#load) reasons.push(...this.#load.overloadReasons());
    return {
      ready: reasons.length === 0,
      status: reasons[0] ?? 'ready',
      reasons,
      sessions,
      maxSessions: Number.isFinite(max) ? max : null,
      ...this.#sample(),
    };
  }

  /**
   * Throws the 503 a new session gets when the process is draining or over a load limit (the session cap is
   * the request handler's own 503). `Retry-After` tells the client (and a balancer) to try again or elsewhere.
   */
  admitNewSession(): void {
    if (this.#draining) throw this.#unavailable('Server is shutting down, retry on another server');
    if (!this.#load) return;
    const reasons = this.#load.overloadReasons();
    if (reasons.length === 0) return;
    const s = this.#load.sample;
    const what = reasons
      .map((r) =>
        r === 'cpu'
          ? `CPU ${s.cpuCores.toFixed(2)} cores`
          : `event-loop delay p99 ${Math.round(s.eventLoopDelayP99Ms)} ms`,
      )
      .join(', ');
    throw this.#unavailable(`Server overloaded (${what}), retry later`);
  }

  #unavailable(detail: string): HttpError {
    return new HttpError(503, detail, { 'Retry-After': String(this.#retryAfterSecs) });
  }

  #sample(): SmallWebRTCLoadSample {
    const s = this.#load?.sample ?? { eventLoopDelayP99Ms: 0, eventLoopDelayMaxMs: 0, cpuCores: 0 };
    const r = (x: number): number => Math.round(x * 100) / 100;
    return {
      eventLoopDelayP99Ms: r(s.eventLoopDelayP99Ms),
      eventLoopDelayMaxMs: r(s.eventLoopDelayMaxMs),
      cpuCores: r(s.cpuCores),
    };
  }
}
