// bench/front: the cost of routing a session's requests to its owner (docs/scaling.md). Two server processes,
// a (owner) and b (which knows a as a peer), one real session on a; then the same trickle PATCH
// (`{ pc_id, candidates: [end-of-candidates] }`, a no-op at the owner, so the path is what is timed) is sent
// over and over, the paths interleaved request by request so they share the machine's load:
//   direct     client -> a
//   forwarded  client -> b -> a (b reads the body, finds owner a, forwards over a keep-alive loopback socket)
//   haproxy    client -> HAProxy -> a (routed by the pc_id in the buffered body), when haproxy is installed
// Reported: round-trip median/p95/p99/max per path in ms and the added median against direct. Loopback only,
// keep-alive HTTP (fetch) as a browser would.
//
// usage: npm run bench:front [-- --requests 300]
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';

import nodeDataChannel from 'node-datachannel';

import {
  forkRoutedServer,
  haproxyAvailable,
  startHaproxy,
  type RoutedServerOptions,
  type RoutedServerProcess,
  type RunningHaproxy,
} from '../../testkit/haproxy.js';
import { PipecatLikeClient } from '../../testkit/pipecat-like-client.js';
import { dist, fmtDist, resultsDir, stamp, type Dist } from '../lib/stats.js';

const i = process.argv.indexOf('--requests');
const REQUESTS = i >= 0 ? Number(process.argv[i + 1]) : 300;
if (!Number.isInteger(REQUESTS) || REQUESTS < 10) throw new RangeError('--requests must be an integer >= 10');
const children: RoutedServerProcess[] = [];
async function start(opts: RoutedServerOptions): Promise<string> {
  const server = await forkRoutedServer(opts);
  children.push(server);
  return server.url;
}

let lb: RunningHaproxy | null = null;
let client: PipecatLikeClient | null = null;
try {
  const a = await start({ owner: 'a' });
  const b = await start({ owner: 'b', peers: { a } });
  if (haproxyAvailable()) lb = await startHaproxy([{ owner: 'a', address: new URL(a).host }]);
  client = await PipecatLikeClient.create({ baseUrl: a, trickle: true });
  const r = await client.connect();
  if (r.status !== 200) throw new Error(`offer failed: ${r.status}`);
  await client.waitConnected();
  const body = JSON.stringify({
    pc_id: client.pcId,
    candidates: [{ candidate: '', sdp_mid: '0', sdp_mline_index: 0 }],
  });
  const paths: Record<string, string> = { direct: a, forwarded: b, ...(lb ? { haproxy: lb.url } : {}) };
  const samples: Record<string, number[]> = Object.fromEntries(Object.keys(paths).map((k) => [k, []]));
  const patch = async (base: string, expectOwner: string): Promise<number> => {
    const t0 = performance.now();
    const res = await fetch(`${base}/api/offer`, {
      method: 'PATCH',
      headers: { 'Content-Type': 'application/json' },
      body,
    });
    await res.arrayBuffer();
    const ms = performance.now() - t0;
    if (res.status !== 200 || res.headers.get('x-smallwebrtc-owner') !== expectOwner)
      throw new Error(`PATCH via ${base}: ${res.status} from ${res.headers.get('x-smallwebrtc-owner')}`);
    return ms;
  };
  // Warm-up (keep-alive sockets, JIT) not counted.
  for (let k = 0; k < 20; k++) for (const base of Object.values(paths)) await patch(base, 'a');
  for (let k = 0; k < REQUESTS; k++)
    for (const [name, base] of Object.entries(paths)) samples[name]!.push(await patch(base, 'a'));
  const result: Record<string, Dist | null> = {};
  const direct = dist(samples.direct!, 3)!;
  console.log(
    `front cost: ${REQUESTS} trickle PATCHes per path, round trip in ms (median / p95 / p99 / max)`,
  );
  for (const name of Object.keys(paths)) {
    const d = dist(samples[name]!, 3);
    result[name] = d;
    const added = d ? (d.median - direct.median).toFixed(3) : '-';
    console.log(
      `  ${name.padEnd(10)} ${fmtDist(d)}   added median ${name === 'direct' ? '-' : `${added} ms`}`,
    );
  }
  if (!lb) console.log('  haproxy    skipped: no haproxy binary (Debian package haproxy)');
  console.log(`  load average ${loadavg()[0]!.toFixed(2)}`);
  const file = join(resultsDir(), `front-${stamp()}.json`);
  writeFileSync(file, JSON.stringify({ requests: REQUESTS, loadavg: loadavg()[0], result }, null, 2));
  console.log(`  wrote ${file}`);
} finally {
  client?.close();
  lb?.stop();
  for (const s of children) s.child.kill('SIGKILL');
  nodeDataChannel.cleanup();
}
