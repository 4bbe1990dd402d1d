/**
 * The `main()` every example shares: serve the demo page and signalling on one port and run `bot` for each new
 * client, until SIGINT/SIGTERM.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import {
  getLogger,
  shutdownSmallWebRTC,
  startSmallWebRTCServer,
  type SmallWebRTCConnection,
  type SmallWebRTCServer,
} from '../src/index.js';

/**
 * Serves http://HOST:PORT (env, default 127.0.0.1:7860) with the demo page and `/api/offer`, running
 * `bot(connection)` for every new client. On SIGINT/SIGTERM it disconnects every client (peerLeft), stops
 * HTTP and releases node-datachannel's threads so Node exits.
 */
export async function serveBot(
  name: string,
  bot: (connection: SmallWebRTCConnection) => Promise<void>,
): Promise<SmallWebRTCServer> {
  const staticDir = fileURLToPath(new URL('../src/server/static/', import.meta.url));
  if (!existsSync(new URL('demo.bundle.js', `file://${staticDir}`))) {
    // A fresh checkout after `npm install` (which builds the addon) has no page bundle yet: build it here
    // (esbuild, a second or two) rather than ask for `npm run build:demo`.
    console.log('small-webrtc: building the demo page bundle (npm run build:demo)...');
    const script = fileURLToPath(new URL('../scripts/build-demo-client.mjs', import.meta.url));
    const built = spawnSync(process.execPath, [script], { stdio: 'inherit' });
    if (built.status !== 0 || !existsSync(new URL('demo.bundle.js', `file://${staticDir}`))) {
      throw new Error('demo page bundle missing and `npm run build:demo` failed; run it to see why');
    }
  }
  const server = await startSmallWebRTCServer({
    port: Number(process.env['PORT'] ?? 7860),
    host: process.env['HOST'] ?? '127.0.0.1',
    staticDir,
    // The demo page is served by this server (same origin, the library default). ALLOWED_ORIGINS=* or a comma
    // list lets a page from elsewhere (e.g. a Pipecat client on a dev server) call it, as the Pipecat runner.
    allowedOrigins: allowedOrigins(process.env['ALLOWED_ORIGINS']),
    onNewConnection: (connection) => {
      bot(connection).catch((err: unknown) => getLogger().error(`${name} failed`, err));
    },
  });
  console.log(`small-webrtc ${name}: open ${server.url}/ (signalling at ${server.url}/api/offer)`);
  const stop = (): void => {
    void server.close().then(() => shutdownSmallWebRTC());
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  return server;
}

function allowedOrigins(env: string | undefined): '*' | 'same-origin' | string[] {
  if (env === undefined || env.trim() === '') return 'same-origin';
  if (env.trim() === '*') return '*';
  return env.split(',').map((o) => o.trim());
}

/** Whether `moduleUrl` is the script Node was started with (so examples run `main()` only then). */
export function isMain(moduleUrl: string): boolean {
  return process.argv[1] !== undefined && fileURLToPath(moduleUrl) === process.argv[1];
}
