/**
 * Prometheus metrics of a signalling server (prom-client), served at `/metrics`, and the structured log line
 * each session writes when it starts and when it ends.
 *
 * Cost: the request path only bumps a counter per offer and subscribes to three events per new session. The
 * media figures (packets, loss, concealment, jitter-buffer delay, send underruns) are read from the native
 * receivers' and senders' counters when Prometheus scrapes, through each metric's `collect()` callback:
 * nothing runs per packet in JS (see `src/connection/media-stats.ts`).
 *
 * One registry per server (never prom-client's global default unless passed in), so two servers in a process
 * or a test never collide. In a `node:cluster` worker every live server's registry is offered to the primary,
 * where {@link clusterMetrics} sums them across workers (prom-client's `AggregatorRegistry`).
 */
import cluster from 'node:cluster';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';

import {
  AggregatorRegistry,
  Counter,
  Gauge,
  Histogram,
  Registry,
  collectDefaultMetrics,
  register as globalRegistry,
} from 'prom-client';

import type { SmallWebRTCConnection } from '../connection/index.js';
import {
  COUNTERS as MEDIA_COUNTERS,
  readMediaStats,
  zero as zeroMediaStats,
  type SessionMediaStats,
} from '../connection/media-stats.js';
import { SmallWebRTCRangeError } from '../errors.js';
import { getLogger, type Logger } from '../logger.js';
import type { SmallWebRTCAuthorize } from './admission.js';
import type { ServerHealth } from './health.js';
import { HttpError, isHttpError } from './http-error.js';

/** Options of the metrics endpoint (`metrics` option of the request listener and the server). */
export interface SmallWebRTCMetricsOptions {
  /** Path the metrics are served at (`GET`/`HEAD`, default `/metrics`; `null`: collected but not served). */
  path?: string | null;
  /**
   * Who may read the metrics (403 otherwise). Default: the listener's `authorize` hook when one is set (the
   * same credentials as an offer), else everyone. Pass your own (e.g. a bearer token of the scraper, or a
   * check of `req.socket.remoteAddress`) to restrict it separately; `null` opens it even with `authorize`.
   */
  authorize?: SmallWebRTCAuthorize | null;
  /** Registry the metrics go into (default: a new one per server; pass prom-client's `register` to share). */
  registry?: Registry;
  /**
   * Node.js process metrics as well (prom-client's default metrics: `process_cpu_seconds_total`,
   * `nodejs_eventloop_lag_*`, memory, GC, handles). Default true; skipped if the registry already has them.
   */
  processMetrics?: boolean;
  /** Labels added to every series (e.g. `{ pod: 'bot-7f9c' }`). */
  labels?: Record<string, string>;
}

/** How an offer (`POST /api/offer` or `/sessions/{id}/api/offer`) was answered, the `result` label. */
export type SmallWebRTCOfferResult = 'answered' | 'rejected' | 'rate_limited' | 'unavailable' | 'error';

/** Why a session ended, the `reason` label and the `reason=` of its log line. */
export type SmallWebRTCSessionEndReason =
  'ended' | 'failed' | 'never_connected' | 'drain' | 'server_closed' | 'flood';

/** The metric names prefix. */
const P = 'smallwebrtc_';

/** Setup time buckets, seconds: from a loopback peer (~0.1 s) to a slow TURN relay path. */
const SETUP_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5, 10, 20];

/** A session the metrics follow (from its answered offer to its `closed`). */
interface Session {
  readonly pcId: string;
  readonly offerMs: number;
  readonly startMs: number;
  connectedMs: number | null;
  failed: boolean;
}

/** Maps an HTTP status of an offer to its `result` label. */
export function offerResultOf(status: number): SmallWebRTCOfferResult {
  if (status >= 200 && status < 300) return 'answered';
  if (status === 429) return 'rate_limited';
  if (status === 503) return 'unavailable';
  if (status >= 400 && status < 500) return 'rejected';
  return 'error';
}

// ------------------------------------------------------------------------------------------- cluster

/** Registries of the live servers of this process, offered to a cluster primary. */
const clusterRegistries = new Set<Registry>();
let clusterListening = false;

function publishToCluster(): void {
  if (!cluster.isWorker) return;
  // Constructing one AggregatorRegistry in a worker installs prom-client's answer to the primary's request.
  if (!clusterListening) {
    clusterListening = true;
    new AggregatorRegistry();
  }
  AggregatorRegistry.setRegistries([globalRegistry, ...clusterRegistries]);
}

/**
 * In a `node:cluster` primary: the metrics of every worker's servers, aggregated (counters and histograms
 * summed; gauges summed, except delays and figures that only make sense per process, which take the max).
 * Serve it on the primary's own port, e.g. `http.createServer(async (req, res) => { const m = await
 * clusterMetrics(); res.writeHead(200, { 'Content-Type': m.contentType }).end(m.body); })`. Rejects after
 * 5 s if a worker does not answer.
 */
export async function clusterMetrics(): Promise<{ contentType: string; body: string }> {
  const aggregator = new AggregatorRegistry();
  const body = await aggregator.clusterMetrics();
  return { contentType: aggregator.contentType, body };
}

// ------------------------------------------------------------------------------------------- server

/** What the metrics read from the server at scrape time. */
export interface MetricsSources {
  /** Live connections of the handler. */
  connectionCount(): number;
  /** The admission decision (readiness, draining, load figures). */
  health: ServerHealth;
  /** Whether the handler was closed. */
  closed(): boolean;
}

/** The metrics and session log of one server. */
export class ServerMetrics {
  readonly registry: Registry;
  readonly path: string | null;
  readonly #authorize: SmallWebRTCAuthorize | null;
  readonly #log: () => Logger;
  readonly #sources: MetricsSources;
  readonly #live = new Map<SmallWebRTCConnection, Session>();
  /** Media totals of the sessions that ended (live ones are read at scrape time and added). */
  readonly #ended: SessionMediaStats = zeroMediaStats();
  readonly #started: Counter;
  readonly #endedCounter: Counter<'reason'>;
  readonly #offers: Counter<'result'>;
  readonly #setup: Histogram;
  #closed = false;
  /**
   * Where `/metrics` comes from instead of this registry (cluster mode: every worker aggregated by the
   * primary); `?scope=process` still serves this process's own registry.
   */
  source: (() => Promise<{ contentType: string; body: string }>) | null = null;

  /** @throws RangeError (ERR_INVALID_ARG) for a bad path, or a registry that already holds these metrics. */
  constructor(
    options: SmallWebRTCMetricsOptions,
    sources: MetricsSources,
    listenerAuthorize: SmallWebRTCAuthorize | undefined,
    log: () => Logger = getLogger,
  ) {
    const path = options.path === undefined ? '/metrics' : options.path;
    if (path !== null && (typeof path !== 'string' || !path.startsWith('/')))
      throw new SmallWebRTCRangeError(
        'ERR_INVALID_ARG',
        `metrics.path must start with '/' (got ${String(path)})`,
      );
    this.path = path;
    this.#authorize = options.authorize === undefined ? (listenerAuthorize ?? null) : options.authorize;
    this.#log = log;
    this.#sources = sources;
    const registry = options.registry ?? new Registry();
    if (registry.getSingleMetric(`${P}sessions_active`) !== undefined)
      throw new SmallWebRTCRangeError(
        'ERR_INVALID_ARG',
        'metrics.registry already holds the small-webrtc metrics of another server (give each server its own registry)',
      );
    this.registry = registry;
    if (options.labels) registry.setDefaultLabels(options.labels);
    if (
      (options.processMetrics ?? true) &&
      registry.getSingleMetric('process_cpu_seconds_total') === undefined
    )
      collectDefaultMetrics({ register: registry });

    const registers = [registry];
    const media = (): SessionMediaStats => this.#mediaTotals();
    const live = this.#live;
    new Gauge({
      name: `${P}sessions_active`,
      help: 'Live sessions (peer connections) of this server.',
      registers,
      collect() {
        this.set(sources.connectionCount());
      },
    });
    this.#started = new Counter({
      name: `${P}sessions_started_total`,
      help: 'Sessions created by an answered new offer.',
      registers,
    });
    this.#endedCounter = new Counter({
      name: `${P}sessions_ended_total`,
      help: 'Sessions that ended, by reason (ended, failed, never_connected, drain, server_closed, flood).',
      labelNames: ['reason'],
      registers,
    });
    this.#offers = new Counter({
      name: `${P}offers_total`,
      help: 'Offers (POST /api/offer and /sessions/{id}/api/offer) by result: answered, rejected (4xx), rate_limited (429), unavailable (503), error (5xx).',
      labelNames: ['result'],
      registers,
    });
    this.#setup = new Histogram({
      name: `${P}session_setup_seconds`,
      help: 'Time from a new offer arriving to the session being connected (ICE + DTLS + the bot connecting).',
      buckets: SETUP_BUCKETS,
      registers,
    });
    const mediaCounter = (name: string, help: string, pick: (m: SessionMediaStats) => number): void => {
      new Counter({
        name: `${P}${name}`,
        help,
        registers,
        collect() {
          this.reset();
          this.inc(pick(media()));
        },
      });
    };
    mediaCounter(
      'audio_packets_received_total',
      'Audio RTP packets received from peers.',
      (m) => m.packetsIn,
    );
    mediaCounter('audio_packets_sent_total', 'Audio RTP packets sent to peers.', (m) => m.packetsOut);
    mediaCounter(
      'audio_packets_lost_total',
      'Incoming audio packets given up on (their 20 ms were concealed).',
      (m) => m.packetsLost,
    );
    mediaCounter(
      'audio_concealed_seconds_total',
      'Concealment (PLC and FEC) played in place of lost incoming audio, seconds.',
      (m) => m.concealedSecs,
    );
    mediaCounter(
      'audio_send_underruns_total',
      'Outgoing 20 ms audio slots skipped because the pacer ran over a second late (shorter stalls are caught up).',
      (m) => m.sendUnderruns,
    );
    mediaCounter(
      'video_frames_received_total',
      'Video frames received from peers (assembled from RTP, camera and screen).',
      (m) => m.videoFramesIn,
    );
    mediaCounter(
      'video_frames_sent_total',
      'Video frames encoded and sent to peers.',
      (m) => m.videoFramesOut,
    );
    mediaCounter(
      'video_decode_errors_total',
      'Received video frames the decoder refused (each asked for a keyframe).',
      (m) => m.videoDecodeErrors,
    );
    mediaCounter(
      'video_encode_errors_total',
      'Bot video images the encoder could not encode.',
      (m) => m.videoEncodeErrors,
    );
    mediaCounter(
      'video_keyframe_requests_sent_total',
      'Keyframe requests (PLI) sent to peers about their video.',
      (m) => m.videoKeyframeRequestsSent,
    );
    mediaCounter(
      'video_keyframe_requests_received_total',
      'Keyframe requests (PLI, FIR) received from peers about our video.',
      (m) => m.videoKeyframeRequestsReceived,
    );
    new Gauge({
      name: `${P}audio_jitter_buffer_delay_seconds`,
      help: 'Largest current jitter-buffer delay (loss deadline after expected arrival) over live sessions, seconds.',
      aggregator: 'max',
      registers,
      collect() {
        let max = 0;
        for (const c of live.keys()) max = Math.max(max, readMediaStats(c).jitterBufferDelaySecs ?? 0);
        this.set(max);
      },
    });
    new Gauge({
      name: `${P}ready`,
      help: '1 when a new session would be admitted now (what /readyz says), else 0.',
      registers,
      collect() {
        this.set(sources.health.readiness().ready ? 1 : 0);
      },
    });
    new Gauge({
      name: `${P}draining`,
      help: '1 once the server is draining (SIGTERM or drain()), else 0.',
      registers,
      collect() {
        this.set(sources.health.draining ? 1 : 0);
      },
    });
    new Gauge({
      name: `${P}event_loop_delay_p99_seconds`,
      help: 'p99 event-loop delay over the last load window (what load-aware admission judges), seconds.',
      aggregator: 'max',
      registers,
      collect() {
        this.set((sources.health.load?.sample.eventLoopDelayP99Ms ?? 0) / 1000);
      },
    });
    new Gauge({
      name: `${P}cpu_cores`,
      help: 'Process CPU over the last load window, in cores (what load-aware admission judges).',
      registers,
      collect() {
        this.set(sources.health.load?.sample.cpuCores ?? 0);
      },
    });
    clusterRegistries.add(registry);
    publishToCluster();
  }

  /** Counts one offer by its HTTP status. */
  offerAnswered(status: number): void {
    this.#offers.inc({ result: offerResultOf(status) });
  }

  /**
   * Follows a new session from its answered offer (`offerMs`: `performance.now()` when the offer arrived) to
   * its `closed`: counts it, observes its setup time, writes its start and end log lines.
   */
  sessionStarted(connection: SmallWebRTCConnection, offerMs: number): void {
    if (this.#closed || this.#live.has(connection) || connection.closed) return;
    const session: Session = {
      pcId: connection.pcId,
      offerMs,
      startMs: performance.now(),
      connectedMs: null,
      failed: false,
    };
    this.#live.set(connection, session);
    this.#started.inc();
    const log = this.#log();
    log.info(`session start pc_id=${session.pcId} sessions=${this.#sources.connectionCount()}`, {
      event: 'session_start',
      pcId: session.pcId,
    });
    const onConnected = (): void => {
      if (session.connectedMs !== null) return;
      session.connectedMs = performance.now();
      this.#setup.observe((session.connectedMs - offerMs) / 1000);
    };
    if (connection.isConnected()) onConnected();
    connection.on('connected', onConnected);
    connection.on('failed', () => {
      session.failed = true;
    });
    connection.on('closed', () => this.#sessionEnded(connection, session));
  }

  #sessionEnded(connection: SmallWebRTCConnection, session: Session): void {
    if (!this.#live.delete(connection)) return;
    const media = readMediaStats(connection);
    for (const k of MEDIA_COUNTERS) this.#ended[k] += media[k];
    const reason: SmallWebRTCSessionEndReason = session.failed
      ? 'failed'
      : connection.inboundStats().dataChannel.floodDisconnected
        ? 'flood'
        : session.connectedMs === null
          ? 'never_connected'
          : this.#sources.health.draining
            ? 'drain'
            : this.#sources.closed()
              ? 'server_closed'
              : 'ended';
    this.#endedCounter.inc({ reason });
    const now = performance.now();
    const durationSecs = round((now - session.startMs) / 1000, 1);
    const setupMs = session.connectedMs === null ? null : Math.round(session.connectedMs - session.offerMs);
    const expected = media.packetsIn + media.packetsLost;
    const lossPct = expected > 0 ? round((100 * media.packetsLost) / expected, 2) : 0;
    const last = connection.pcId !== session.pcId ? ` last_pc_id=${connection.pcId}` : '';
    this.#log().info(
      `session end pc_id=${session.pcId}${last} reason=${reason} duration_s=${durationSecs} ` +
        `setup_ms=${setupMs ?? '-'} packets_in=${media.packetsIn} packets_out=${media.packetsOut} ` +
        `packets_lost=${media.packetsLost} loss_pct=${lossPct} concealed_s=${round(media.concealedSecs, 2)} ` +
        `send_underruns=${media.sendUnderruns}`,
      {
        event: 'session_end',
        pcId: session.pcId,
        lastPcId: connection.pcId,
        reason,
        durationSecs,
        setupMs,
        packetsIn: media.packetsIn,
        packetsOut: media.packetsOut,
        packetsLost: media.packetsLost,
        lossPct,
        concealedSecs: round(media.concealedSecs, 2),
        sendUnderruns: media.sendUnderruns,
        videoFramesIn: media.videoFramesIn,
        videoFramesOut: media.videoFramesOut,
      },
    );
  }

  #mediaTotals(): SessionMediaStats {
    const t = { ...this.#ended };
    for (const c of this.#live.keys()) {
      const m = readMediaStats(c);
      for (const k of MEDIA_COUNTERS) t[k] += m[k];
    }
    return t;
  }

  /**
   * Serves `GET`/`HEAD` of the metrics path (after the access check). Returns false for other requests.
   * @throws HttpError 403 when the access hook refuses, 500 when it throws.
   */
  async serve(req: IncomingMessage, res: ServerResponse, pathname: string): Promise<boolean> {
    if (this.path === null || pathname !== this.path) return false;
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    req.resume();
    if (this.#authorize) {
      let ok: unknown;
      try {
        ok = await this.#authorize(req);
      } catch (err) {
        if (isHttpError(err)) throw err;
        this.#log().error(`metrics authorize failed: ${err instanceof Error ? err.message : String(err)}`);
        throw new HttpError(500, 'Internal server error');
      }
      if (ok !== true) throw new HttpError(403, 'Forbidden');
    }
    const own = this.source === null || /[?&]scope=process(&|$)/.test(req.url ?? '');
    const { body, contentType } = own
      ? { body: await this.registry.metrics(), contentType: this.registry.contentType }
      : await this.source!();
    res.writeHead(200, {
      'Content-Type': contentType,
      'Content-Length': String(Buffer.byteLength(body)),
      'Cache-Control': 'no-store',
    });
    res.end(req.method === 'HEAD' ? undefined : body);
    return true;
  }

  /** Stops offering the registry to a cluster primary (the metrics stay readable). Idempotent. */
  close(): void {
    this.#closed = true;
    clusterRegistries.delete(this.registry);
    publishToCluster();
  }
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
