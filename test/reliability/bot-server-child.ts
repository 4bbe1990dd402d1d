/**
 * The server process of the fault tests: `startSmallWebRTCServer` with an echo bot per connection (transport
 * audio in at 16 kHz -> the same frames as bot audio out), run as a child so that its memory, descriptors
 * and exit are its own. Start with `fork(path, [JSON options], { execArgv: ['--import', 'tsx'] })`.
 *
 * IPC, child -> parent: `{ ready: url }` once listening; `{ closed: pcId, at, inbound }` (epoch ms, its final
 * `inboundStats()`) when a connection emits `closed`; `{ stats }` in answer to `{ stats: true }` (see {@link ServerStats}); `{ bye: true }` after
 * `{ exit: true }` closed everything; `{ heapSnapshot: path }` once written (after `{ heapSnapshot: path }`);
 * `{ resetLoopDelay: true }` restarts the event-loop delay histogram reported in the stats;
 * `{ log: { level, event, ... } }` for the library's structured log lines with `logEvents`. After `{ exit }`
 * the child only disconnects IPC: it must exit by itself (a live
 * handle, timer or native thread left behind keeps it running, which the tests detect).
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { writeHeapSnapshot } from 'node:v8';

import {
  FrameDirection,
  FrameProcessor,
  InputAudioRawFrame,
  Pipeline,
  PipelineRunner,
  PipelineTask,
  setLogger,
  shutdownSmallWebRTC,
  startSmallWebRTCServer,
  type AudioStallStats,
  type DataChannelRateLimit,
  type Frame,
  type InboundStats,
  type SmallWebRTCConnection,
  type SmallWebRTCTransport,
} from '../../src/index.js';
import { processResources, type ProcessResources } from '../../testkit/process-resources.js';
import { EchoProcessor } from '../../examples/echo-bot.js';
import { Echo, echoTransport } from '../helpers/echo.js';

/** Options (argv[2], JSON). */
export interface BotServerChildOptions {
  livenessTimeoutSecs?: number;
  maxConnections?: number;
  /** Take the peer's camera too (`videoInEnabled`; its receiver's counters in `SessionStats.video`). */
  videoIn?: boolean;
  /** Run each bot under one `PipelineRunner` (which cancels its tasks on SIGTERM) instead of `task.run()`. */
  runner?: boolean;
  /** Each bot's cleanup takes this long (a bot that saves its transcript when it ends), ms. */
  cleanupDelayMs?: number;
  /** The server's drain on SIGTERM (`shutdown` option); default the library's default. */
  drainDeadlineMs?: number;
  /** Forward the library's structured log lines (those with an `event`) as `{ log: details }`. */
  logEvents?: boolean;
  /** The bots' `audioOutMaxStallDelayMs` (default the library's). */
  audioOutMaxStallDelayMs?: number;
  /** The connections' inbound data-channel bound (`connectionOptions.dataChannelRateLimit`). */
  dataChannelRateLimit?: Partial<DataChannelRateLimit>;
  /**
   * Run the demo's echo (`EchoProcessor` of examples/echo-bot.ts: quiet frames are not echoed while more than
   * this many ms of bot audio wait to be sent) instead of echoing every frame.
   */
  echoMaxBacklogMs?: number;
}

/** One session's counters. */
export interface SessionStats {
  pcId: string;
  /** Input frames that reached the bot. */
  framesIn: number;
  /** The audio receiver's counters (null once closed). */
  receiver: Record<string, number | boolean> | null;
  /** Bot audio frames the output transport wrote to the wire. */
  framesOut: number;
  /** Input frames the demo's echo did not echo (quiet while behind; `echoMaxBacklogMs`), else 0. */
  framesNotEchoed: number;
  /** App messages the transport delivered. */
  appMessages: number;
  /** The audio input track's counters (`AudioInputTrack.stats`). */
  audioInput: Record<string, number | boolean> | null;
  /** The connection's inbound counters (`inboundStats()`). */
  inbound: InboundStats;
  /** The camera receivers' counters (with `videoIn`). */
  video: Array<Record<string, number | boolean>>;
  /**
   * Where the echo's frames wait: output frames queued in the output transport (behind the one being
   * written), audio in the native send ring (ms), and the sender's counters (`skippedSlots`...), null once
   * the track is gone.
   */
  out: {
    queuedFrames: number;
    ringMs: number;
    sender: Record<string, number> | null;
    /** What the pacer's stalls did (`AudioOutputTrack.stallStats`). */
    stall: AudioStallStats | null;
  };
}

/** What `{ stats: true }` answers. */
export interface ServerStats extends ProcessResources {
  connections: number;
  /** Pipelines still running. */
  pipelines: number;
  /** Sessions whose connection has not closed, by pcId. */
  sessions: SessionStats[];
  heapUsedMiB: number;
  /** Event-loop delay since the last `{ resetLoopDelay: true }` (or the start), ms (10 ms resolution). */
  loopDelay: { maxMs: number; p99Ms: number; meanMs: number };
}

const opts = JSON.parse(process.argv[2] ?? '{}') as BotServerChildOptions;
const loopDelay = monitorEventLoopDelay({ resolution: 10 });
loopDelay.enable();
const send = (m: unknown): void => {
  process.send?.(m);
};

interface Live {
  conn: SmallWebRTCConnection;
  transport: SmallWebRTCTransport;
  echo: Echo | CountingDemoEcho;
  appMessages: number;
}

/** The demo's echo, counting the microphone frames it was given as {@link Echo} does. */
class CountingDemoEcho extends EchoProcessor {
  framesIn = 0;
  override async processFrame(frame: Frame, direction: FrameDirection): Promise<void> {
    if (frame instanceof InputAudioRawFrame) this.framesIn++;
    await super.processFrame(frame, direction);
  }
}
/** Slow to clean up, as a bot that flushes a transcript when its pipeline ends. */
class SlowCleanup extends FrameProcessor {
  constructor(readonly delayMs: number) {
    super();
  }
  override async cleanup(): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve, this.delayMs));
    await super.cleanup();
  }
}

const live = new Set<Live>();
let pipelines = 0;
const runner = opts.runner ? new PipelineRunner({ handleSigint: false }) : null;
const forward = (level: string, details: unknown[]): void => {
  const d = details[0] as { event?: unknown } | undefined;
  if (opts.logEvents && typeof d?.event === 'string') send({ log: { level, ...d } });
};
const quiet = {
  debug() {},
  info: (_m: string, ...d: unknown[]) => forward('info', d),
  warn: (_m: string, ...d: unknown[]) => forward('warn', d),
  error: (...a: unknown[]) => console.error(...a),
};

// The connections log through the library logger (the server's `logger` option covers the server's lines).
if (opts.logEvents) setLogger(quiet);

const server = await startSmallWebRTCServer({
  port: 0,
  logger: quiet,
  maxConnections: opts.maxConnections ?? 100,
  maxConnectionsPerAddress: 1000,
  offerRatePerAddress: null,
  // The fault tests measure the sessions, not admission: a loaded shared test machine must not turn their
  // offers away (test/integration/server-health.test.ts covers load admission).
  load: false,
  ...(opts.drainDeadlineMs !== undefined ? { shutdown: { deadlineMs: opts.drainDeadlineMs } } : {}),
  connectionOptions: {
    bindAddress: '127.0.0.1',
    ...(opts.livenessTimeoutSecs !== undefined ? { livenessTimeoutSecs: opts.livenessTimeoutSecs } : {}),
    ...(opts.dataChannelRateLimit ? { dataChannelRateLimit: opts.dataChannelRateLimit } : {}),
  },
  onNewConnection: (conn) => {
    const transport = echoTransport(
      conn,
      opts.videoIn ?? false,
      opts.audioOutMaxStallDelayMs !== undefined
        ? { audioOutMaxStallDelayMs: opts.audioOutMaxStallDelayMs }
        : {},
    );
    const echo =
      opts.echoMaxBacklogMs !== undefined
        ? new CountingDemoEcho({
            maxBacklogMs: opts.echoMaxBacklogMs,
            // What the demo reads: frames queued in the output transport, and audio in its send ring.
            backlogMs: () => transport.output().queuedFrames * 20 + transport.outputQueuedMs,
          })
        : new Echo();
    const entry: Live = { conn, transport, echo, appMessages: 0 };
    live.add(entry);
    const stages: FrameProcessor[] = [transport.input(), echo, transport.output()];
    if (opts.cleanupDelayMs) stages.push(new SlowCleanup(opts.cleanupDelayMs));
    const task = new PipelineTask(new Pipeline(stages));
    transport.eventHandler('on_client_closed', async () => {
      await task.cancel();
    });
    transport.eventHandler('on_app_message', () => {
      entry.appMessages++;
    });
    conn.on('closed', () => {
      live.delete(entry);
      send({ closed: conn.pcId, at: Date.now(), inbound: conn.inboundStats() });
    });
    pipelines++;
    (runner ? runner.run(task) : task.run()).then(
      () => pipelines--,
      (err: unknown) => {
        pipelines--;
        console.error('pipeline failed', err);
      },
    );
  },
});

function outStats(t: SmallWebRTCTransport): SessionStats['out'] {
  const track = t.output().audioTrack;
  const sender = track?.stats();
  return {
    queuedFrames: t.output().queuedFrames,
    ringMs: track?.queuedMs ?? 0,
    sender: sender
      ? Object.fromEntries(Object.entries(sender).filter(([, v]) => typeof v === 'number'))
      : null,
    stall: track?.stallStats ?? null,
  };
}

function stats(): ServerStats {
  const sessions: SessionStats[] = [];
  for (const s of live) {
    const input = s.transport.input().audioTrack;
    const receiver = input?.receiverStats() ?? null;
    sessions.push({
      pcId: s.conn.pcId,
      framesIn: s.echo.framesIn,
      receiver: receiver ? { ...receiver } : null,
      framesOut: s.transport.output().stats.framesWritten,
      framesNotEchoed: s.echo instanceof EchoProcessor ? s.echo.droppedQuietFrames : 0,
      appMessages: s.appMessages,
      audioInput: input ? { ...input.stats } : null,
      inbound: s.conn.inboundStats(),
      video: s.transport
        .input()
        .videoTracks.map((t) => t.receiverStats())
        .filter((v) => v !== null)
        .map((v) => ({ ...v })),
      out: outStats(s.transport),
    });
  }
  return {
    ...processResources(),
    heapUsedMiB: process.memoryUsage().heapUsed / 1048576,
    connections: server.handler.connectionCount,
    pipelines,
    sessions,
    loopDelay: {
      maxMs: loopDelay.max / 1e6,
      p99Ms: loopDelay.percentile(99) / 1e6,
      meanMs: loopDelay.mean / 1e6,
    },
  };
}

process.on('message', (m: unknown) => {
  const msg = (m ?? {}) as {
    stats?: boolean;
    gc?: boolean;
    exit?: boolean;
    heapSnapshot?: string;
    resetLoopDelay?: boolean;
  };
  if (msg.gc) (globalThis as { gc?: () => void }).gc?.();
  if (msg.resetLoopDelay) loopDelay.reset();
  // Diagnostics of a leak: a heap snapshot at the given path (open it in Chrome DevTools' Memory tab).
  if (msg.heapSnapshot) send({ heapSnapshot: writeHeapSnapshot(msg.heapSnapshot) });
  if (msg.stats) send({ stats: stats() });
  if (msg.exit) {
    void (async () => {
      loopDelay.disable();
      await server.close();
      await shutdownSmallWebRTC();
      send({ bye: true });
      process.disconnect();
    })();
  }
});
send({ ready: server.url });
