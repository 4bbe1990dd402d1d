// Runs testkit/aiortc_client.py (Debian python3-aiortc) and exposes its JSON-line events.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The Debian interpreter that has python3-aiortc. */
export const PYTHON = '/usr/bin/python3';
/** The client script. */
export const AIORTC_CLIENT = fileURLToPath(new URL('./aiortc_client.py', import.meta.url));

/** One event line printed by the client (`t` = epoch ms). */
export interface AiortcEvent {
  event: string;
  t: number;
  [key: string]: unknown;
}

/** True when python3-aiortc can be imported (tests skip with a reason otherwise). */
export function aiortcAvailable(): boolean {
  if (!existsSync(PYTHON)) return false;
  try {
    // Cheap synchronous probe; the import takes ~0.3 s.
    return spawnSync(PYTHON, ['-c', 'import aiortc, aioice'], { timeout: 20_000 }).status === 0;
  } catch {
    return false;
  }
}

/** A running aiortc client. */
export class AiortcClient {
  readonly events: AiortcEvent[] = [];
  readonly stderr: string[] = [];
  readonly exited: Promise<number | null>;
  readonly #child: ChildProcess;
  #waiters: Array<() => void> = [];

  constructor(
    url: string,
    opts: {
      path?: string;
      duration?: number;
      video?: boolean;
      /** Send a `[width, height]` picture of four colour quadrants as the camera (VP8, 30 fps). */
      camera?: readonly [number, number];
      requestData?: unknown;
    } = {},
  ) {
    const args = [AIORTC_CLIENT, '--url', url, '--duration', String(opts.duration ?? 30)];
    if (opts.path) args.push('--path', opts.path);
    if (opts.video) args.push('--video');
    if (opts.camera) args.push('--camera', `${opts.camera[0]}x${opts.camera[1]}`);
    if (opts.requestData !== undefined) args.push('--request-data', JSON.stringify(opts.requestData));
    this.#child = spawn(PYTHON, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let buf = '';
    this.#child.stdout!.on('data', (chunk: Buffer) => {
      buf += chunk.toString();
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        try {
          this.events.push(JSON.parse(line) as AiortcEvent);
        } catch {
          this.stderr.push(`[stdout] ${line}`);
        }
        this.#wake();
      }
    });
    this.#child.stderr!.on('data', (chunk: Buffer) => {
      if (this.stderr.length < 200) this.stderr.push(chunk.toString());
    });
    this.exited = new Promise((resolve) => {
      this.#child.on('exit', (code) => {
        this.#wake();
        resolve(code);
      });
    });
  }

  #wake(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w();
  }

  /** Resolves with the first event matching `name` (and `pred`), waiting up to `timeoutMs`. */
  async waitFor(
    name: string,
    timeoutMs = 20_000,
    pred: (e: AiortcEvent) => boolean = () => true,
  ): Promise<AiortcEvent> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.events.find((e) => e.event === name && pred(e));
      if (found) return found;
      if (this.#child.exitCode !== null) {
        throw new Error(
          `aiortc client exited (${this.#child.exitCode}) before '${name}': ${this.stderr.join('').slice(-2000)}`,
        );
      }
      const left = deadline - Date.now();
      if (left <= 0)
        throw new Error(
          `timed out waiting for '${name}'; events: ${JSON.stringify(this.events).slice(-2000)}`,
        );
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 500));
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Kills the process if it is still running. */
  kill(): void {
    if (this.#child.exitCode === null) this.#child.kill('SIGKILL');
  }
}
