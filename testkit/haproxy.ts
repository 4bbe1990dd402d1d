/**
 * HAProxy (Debian package `haproxy`) in front of several small-webrtc server processes, as docs/scaling.md
 * describes: `/sessions/<owner>.<uuid>/...` routed by URL, `PATCH`/re-offer `POST /api/offer` by the owner tag
 * of the `pc_id` in the buffered JSON body, first offers and `/start` round-robin over the ready servers
 * (health check `GET /readyz`). `haproxyConfig()` is the configuration docs/scaling.md shows;
 * `startHaproxy()` runs it in the foreground and resolves once the frontend answers.
 *
 * ```ts
 * if (!haproxyAvailable()) ... skip;
 * const lb = await startHaproxy({ servers: [{ owner: 's1', address: '127.0.0.1:7001' }, ...] });
 * lb.url; await lb.serverStatus(); lb.stop();
 * ```
 *
 * `forkRoutedServer()` starts one of the server processes behind it (testkit/routed-server.ts).
 */
import { fork, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { until } from './wait.js';

/** One backend server: its owner tag (= its HAProxy server name) and `host:port`. */
export interface HaproxyServer {
  owner: string;
  address: string;
}

/** Whether an `haproxy` binary is on PATH. */
export function haproxyAvailable(): boolean {
  const r = spawnSync('haproxy', ['-v'], { stdio: 'ignore' });
  return r.error === undefined && r.status === 0;
}

/** A free TCP port on 127.0.0.1 (bound then released). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** The HAProxy configuration (docs/scaling.md, "HAProxy"). */
export function haproxyConfig(o: { bind: string; statsBind: string; servers: HaproxyServer[] }): string {
  const rules = o.servers.flatMap(({ owner }) => [
    // The owner tag of the pc_id in the JSON body: "pc_id":"SmallWebRTCConnection#12-<owner>.<32 hex>".
    `  acl pc_${owner} req.body -m reg "pc_id[^,]{0,48}-${owner}[.][0-9a-f]{32}"`,
    // The owner tag of the /start session id in the URL: /sessions/<owner>.<uuid>/...
    `  acl session_${owner} path_beg /sessions/${owner}.`,
    `  use-server ${owner} if session_${owner} || pc_${owner}`,
    // A server that is not ready (draining, at capacity, overloaded: /readyz 503, so DOWN here) gets no new
    // sessions but keeps its own: use-server is honoured for a DOWN server when force-persist matches. A
    // server that is really gone refuses the connection and the request is redispatched (421 there).
    `  force-persist if session_${owner} || pc_${owner}`,
  ]);
  return [
    'global',
    '  # Offers are a few KB of SDP; the body must fit one buffer to be inspected.',
    '  tune.bufsize 65536',
    'defaults',
    '  mode http',
    '  timeout connect 2s',
    '  timeout client 30s',
    '  timeout server 30s',
    '  timeout http-request 10s',
    '  # A new session (first offer, /start) refused by a dead server is retried on another one.',
    '  retries 2',
    '  option redispatch',
    'frontend signalling',
    `  bind ${o.bind}`,
    '  # Wait for the body so that req.body can route PATCH /api/offer by its pc_id.',
    '  option http-buffer-request',
    '  default_backend smallwebrtc',
    'backend smallwebrtc',
    '  balance roundrobin',
    '  option httpchk GET /readyz',
    '  http-check expect status 200',
    '  default-server check inter 500 fall 1 rise 2',
    ...rules,
    ...o.servers.map(({ owner, address }) => `  server ${owner} ${address}`),
    'listen stats',
    `  bind ${o.statsBind}`,
    '  stats enable',
    '  stats uri /stats',
    '',
  ].join('\n');
}

/** A running HAProxy. */
export interface RunningHaproxy {
  /** Frontend base URL. */
  url: string;
  config: string;
  /** Server name -> `UP` / `DOWN` / ..., from the stats CSV. */
  serverStatus(): Promise<Record<string, string>>;
  stop(): void;
}

/** Starts HAProxy in the foreground (`-db`) on free loopback ports; resolves once its frontend answers. */
export async function startHaproxy(servers: HaproxyServer[]): Promise<RunningHaproxy> {
  const port = await freePort();
  const statsPort = await freePort();
  const config = haproxyConfig({ bind: `127.0.0.1:${port}`, statsBind: `127.0.0.1:${statsPort}`, servers });
  const dir = mkdtempSync(join(tmpdir(), 'smallwebrtc-haproxy-'));
  const file = join(dir, 'haproxy.cfg');
  writeFileSync(file, config);
  const check = spawnSync('haproxy', ['-c', '-q', '-f', file], { encoding: 'utf8' });
  if (check.status !== 0)
    throw new Error(`haproxy rejected its configuration: ${check.stderr}${check.stdout}`);
  const proc = spawn('haproxy', ['-db', '-f', file], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  proc.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  const serverStatus = async (): Promise<Record<string, string>> => {
    const csv = await (await fetch(`http://127.0.0.1:${statsPort}/stats;csv`)).text();
    const out: Record<string, string> = {};
    for (const line of csv.split('\n')) {
      const f = line.split(',');
      if (f[0] === 'smallwebrtc' && f[1] !== 'BACKEND') out[f[1]!] = f[17]!;
    }
    return out;
  };
  await until(
    async () => {
      if (proc.exitCode !== null) throw new Error(`haproxy exited: ${stderr}`);
      try {
        const s = await serverStatus();
        return servers.every((x) => s[x.owner] === 'UP');
      } catch {
        return false;
      }
    },
    15_000,
    () => `haproxy with every server UP (${stderr})`,
  );
  return {
    url: `http://127.0.0.1:${port}`,
    config,
    serverStatus,
    stop() {
      proc.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Options of one server process (testkit/routed-server.ts). */
export interface RoutedServerOptions {
  owner: string;
  maxConnections?: number;
  /** owner -> base URL of the processes to forward to (none by default: a misrouted request is 421). */
  peers?: Record<string, string>;
  /** The demo page's static directory: serve it and run the echo bot of `npm run demo` on every session. */
  demo?: string;
}

/** A forked server process. */
export interface RoutedServerProcess {
  owner: string;
  /** Its own base URL (straight to it, not through the balancer). */
  url: string;
  child: ChildProcess;
  /** Its structured session log lines (`event: 'session_start' | 'session_end'`, with `demo` only). */
  logs: Array<Record<string, unknown> & { event: string; pcId: string }>;
  /** Asks it to close (its peers disconnect) and waits for the exit; SIGKILL after 10 s. */
  stop(): Promise<void>;
}

const ROUTED_SERVER = fileURLToPath(new URL('./routed-server.ts', import.meta.url));

/** Forks testkit/routed-server.ts with `options`; resolves once it listens. */
export async function forkRoutedServer(options: RoutedServerOptions): Promise<RoutedServerProcess> {
  const child = fork(ROUTED_SERVER, [JSON.stringify(options)], { execArgv: ['--import', 'tsx'] });
  const logs: RoutedServerProcess['logs'] = [];
  child.on('message', (m: { log?: RoutedServerProcess['logs'][number] }) => {
    if (m.log) logs.push(m.log);
  });
  const url = await new Promise<string>((resolve, reject) => {
    child.once('message', (m: { ready?: string }) =>
      m.ready ? resolve(m.ready) : reject(new Error('no ready')),
    );
    child.once('exit', (code) => reject(new Error(`server ${options.owner} exited ${code}`)));
  });
  return {
    owner: options.owner,
    url,
    child,
    logs,
    stop: () =>
      new Promise<void>((done) => {
        if (child.exitCode !== null || child.signalCode !== null) return done();
        child.once('exit', () => done());
        child.send({ exit: true });
        setTimeout(() => child.kill('SIGKILL'), 10_000).unref();
      }),
  };
}
