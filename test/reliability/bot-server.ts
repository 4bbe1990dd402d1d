/**
 * The parent side of bot-server-child.ts: starts the server process, asks for its stats, waits for a
 * connection's `closed`, and asks it to exit (then checks that it exits by itself).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

import nodeDataChannel from 'node-datachannel';
import { afterAll } from 'vitest';

import type { InboundStats } from '../../src/index.js';
import type { PipecatLikeClient } from '../../testkit/pipecat-like-client.js';
import { until } from '../../testkit/wait.js';
import type { BotServerChildOptions, ServerStats } from './bot-server-child.js';

export type { ServerStats, SessionStats } from './bot-server-child.js';

/** How the server process ended. */
export interface ServerExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** From `{ exit: true }` to the process's exit, ms. */
  exitMs: number;
}

/** A bot server in a child process. */
export class BotServerProcess {
  readonly url: string;
  /** Epoch ms of each connection's `closed`, by pcId. */
  readonly closedAt = new Map<string, number>();
  /** Each closed connection's last `inboundStats()`, by pcId. */
  readonly closedInbound = new Map<string, InboundStats>();
  /** Epoch ms of the process's exit (NaN while it runs). */
  exitedAt = NaN;
  /** The structured log lines forwarded with `logEvents`, in order. */
  readonly logs: Array<Record<string, unknown>> = [];
  readonly #child: ChildProcess;
  readonly #waiters = new Set<(m: Record<string, unknown>) => void>();
  #exited: { code: number | null; signal: NodeJS.Signals | null } | null = null;

  private constructor(child: ChildProcess, url: string) {
    this.#child = child;
    this.url = url;
    child.on('message', (m) => {
      const msg = m as Record<string, unknown>;
      if (typeof msg['closed'] === 'string') {
        this.closedAt.set(msg['closed'], msg['at'] as number);
        this.closedInbound.set(msg['closed'], msg['inbound'] as InboundStats);
      }
      if (typeof msg['log'] === 'object' && msg['log'] !== null)
        this.logs.push(msg['log'] as Record<string, unknown>);
      for (const w of [...this.#waiters]) w(msg);
    });
    child.on('exit', (code, signal) => {
      this.exitedAt = Date.now();
      this.#exited = { code, signal };
    });
  }

  /** Forks the server (`--expose-gc`, so {@link gc} works) and waits until it listens. */
  static async start(opts: BotServerChildOptions = {}): Promise<BotServerProcess> {
    const child = fork(
      fileURLToPath(new URL('./bot-server-child.ts', import.meta.url)),
      [JSON.stringify(opts)],
      {
        execArgv: ['--import', 'tsx', '--expose-gc'],
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      },
    );
    const url = await new Promise<string>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('bot server did not start in 30 s')), 30_000);
      child.once('exit', (code) => reject(new Error(`bot server exited (${code}) before listening`)));
      child.on('message', (m) => {
        const ready = (m as { ready?: string }).ready;
        if (ready) {
          clearTimeout(t);
          resolve(ready);
        }
      });
    });
    return new BotServerProcess(child, url);
  }

  /** The child's pid. */
  get pid(): number {
    return this.#child.pid ?? -1;
  }

  #ask<T>(msg: object, pick: (m: Record<string, unknown>) => T | undefined, timeoutMs = 20_000): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const t = setTimeout(() => {
        this.#waiters.delete(w);
        reject(new Error(`bot server did not answer ${JSON.stringify(msg)}`));
      }, timeoutMs);
      const w = (m: Record<string, unknown>): void => {
        const v = pick(m);
        if (v === undefined) return;
        clearTimeout(t);
        this.#waiters.delete(w);
        resolve(v);
      };
      this.#waiters.add(w);
      // A process that already exited (or was killed by afterAll) rejects instead of raising an uncaught
      // ERR_IPC_CHANNEL_CLOSED.
      this.#child.send(msg, (err) => {
        if (!err) return;
        clearTimeout(t);
        this.#waiters.delete(w);
        reject(err);
      });
    });
  }

  /** The server's counters and resources now. */
  stats(): Promise<ServerStats> {
    return this.#ask({ stats: true }, (m) => m['stats'] as ServerStats | undefined);
  }

  /** Runs a full GC in the server, then returns its stats. */
  async statsAfterGc(): Promise<ServerStats> {
    this.#child.send({ gc: true });
    return this.stats();
  }

  /** Restarts the server's event-loop delay histogram (`ServerStats.loopDelay`). */
  resetLoopDelay(): void {
    this.#child.send({ resetLoopDelay: true });
  }

  /** Whether the process is still running. */
  get running(): boolean {
    return this.#exited === null;
  }

  /** Writes a heap snapshot of the server to `path` (for leak hunting); resolves with the path. */
  heapSnapshot(path: string): Promise<string> {
    return this.#ask({ heapSnapshot: path }, (m) => m['heapSnapshot'] as string | undefined, 120_000);
  }

  /** Waits for `closed` of connection `pcId`; resolves with its epoch ms. */
  async waitClosed(pcId: string, timeoutMs: number): Promise<number> {
    await until(() => this.closedAt.has(pcId), timeoutMs, `closed of ${pcId}`);
    return this.closedAt.get(pcId) ?? NaN;
  }

  /**
   * Asks the server to close everything and waits for the process to exit by itself (no signal) within
   * `timeoutMs`; after that it is killed and the returned `signal` says so.
   */
  async exit(timeoutMs = 20_000): Promise<ServerExit> {
    const t0 = Date.now();
    if (!this.#exited) this.#child.send({ exit: true });
    try {
      await until(() => this.#exited !== null, timeoutMs, 'the server process to exit by itself');
    } catch {
      this.#child.kill('SIGKILL');
      await until(() => this.#exited !== null, 5000, 'the killed server process');
      return { code: null, signal: 'SIGKILL', exitMs: Date.now() - t0 };
    }
    const { code, signal } = this.#exited ?? { code: null, signal: null };
    return { code, signal, exitMs: Date.now() - t0 };
  }

  /** Sends `signal` to the server process. */
  signal(signal: NodeJS.Signals): void {
    this.#child.kill(signal);
  }

  /** Waits until the process exited by itself (at most `timeoutMs`; then null). */
  async waitExit(timeoutMs: number): Promise<{ code: number | null; signal: NodeJS.Signals | null } | null> {
    try {
      await until(() => this.#exited !== null, timeoutMs, 'the server process to exit');
    } catch {
      return null;
    }
    return this.#exited;
  }

  /** Kills the process if it still runs (for afterAll). */
  kill(): void {
    if (!this.#exited) this.#child.kill('SIGKILL');
  }
}

/** A test file's bot server and clients, cleaned up by the afterAll that {@link botServerFixture} registers. */
export interface BotServerFixture {
  /** Every client pushed here is closed after the file's tests. */
  readonly clients: PipecatLikeClient[];
  /** Starts the file's server process (killed after the file's tests if it still runs). */
  start(opts?: BotServerChildOptions): Promise<BotServerProcess>;
}

/** Registers an afterAll that kills the server, closes the clients and runs node-datachannel's cleanup(). */
export function botServerFixture(): BotServerFixture {
  const clients: PipecatLikeClient[] = [];
  let server: BotServerProcess | null = null;
  afterAll(() => {
    server?.kill();
    for (const c of clients) c.close();
    nodeDataChannel.cleanup();
  });
  return {
    clients,
    async start(opts?: BotServerChildOptions): Promise<BotServerProcess> {
      server = await BotServerProcess.start(opts);
      return server;
    },
  };
}
