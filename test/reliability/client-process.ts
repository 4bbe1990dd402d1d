/**
 * A Pipecat-like client in its own process (testkit/pipecat-like-client-child.ts, HTTP mode): connected to a
 * server, sending Opus every 20 ms, counting the server's audio. For a peer that must vanish (SIGKILL) or be
 * observed from outside a busy test process.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** What the child heard of the server's audio since the previous {@link ClientProcess.heard}. */
export interface Heard {
  /** Audio RTP packets so far. */
  packets: number;
  /** Largest gap between two of them since the previous call, ms. */
  maxGapMs: number;
}

/** A connected client child. */
export interface ClientProcess {
  child: ChildProcess;
  pcId: string;
  heard(): Promise<Heard>;
}

/** Forks a client, connects it over HTTP to `url` and resolves once it is connected and sending. */
export async function clientProcess(url: string, children: ChildProcess[]): Promise<ClientProcess> {
  const child = fork(
    fileURLToPath(new URL('../../testkit/pipecat-like-client-child.ts', import.meta.url)),
    [url],
    {
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    },
  );
  children.push(child);
  const pcId = await new Promise<string>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('client child did not connect in 30 s')), 30_000);
    child.on('message', (m) => {
      const msg = m as { connected?: boolean; pcId?: string; error?: string };
      if (msg.error) reject(new Error(msg.error));
      if (msg.connected && msg.pcId) {
        clearTimeout(t);
        resolve(msg.pcId);
      }
    });
  });
  const heard = (): Promise<Heard> =>
    new Promise<Heard>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('client child did not answer { heard }')), 10_000);
      const on = (m: unknown): void => {
        const h = (m as { heard?: Heard } | null)?.heard;
        if (!h) return;
        clearTimeout(t);
        child.off('message', on);
        resolve(h);
      };
      child.on('message', on);
      child.send({ heard: true });
    });
  return { child, pcId, heard };
}
