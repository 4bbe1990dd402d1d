/**
 * A client process killed (SIGKILL) mid-call: no DTLS close_notify, no SCTP ABORT, its pings and RTP just
 * stop. The server (its own process, test/reliability/bot-server-child.ts, an echo bot per connection) must
 * report `closed` within its liveness bound and free everything the session held.
 */
import type { ChildProcess } from 'node:child_process';

import { afterAll, describe, expect, it } from 'vitest';

import { grownResources } from '../../testkit/process-resources.js';
import { sleep, until } from '../../testkit/wait.js';
import { BotServerProcess } from './bot-server.js';
import { clientProcess } from './client-process.js';

const LIVENESS_SECS = 3;
const children: ChildProcess[] = [];
let server: BotServerProcess | null = null;
afterAll(() => {
  for (const c of children) c.kill('SIGKILL');
  server?.kill();
});

describe('a client process killed mid-call', () => {
  it(`the server reports closed within livenessTimeoutSecs (${LIVENESS_SECS} s) and frees the session (connections, pipelines, descriptors, handles, memory)`, async () => {
    server = await BotServerProcess.start({ livenessTimeoutSecs: LIVENESS_SECS });
    const srv = server;
    // One session first: what the first connection loads once for all (node-datachannel's threads, the
    // codec state pools, JIT) is not a leak of the sessions measured after it.
    const warm = await clientProcess(srv.url, children);
    await sleep(1000);
    warm.child.kill('SIGKILL');
    await srv.waitClosed(warm.pcId, 20_000);
    await until(async () => (await srv.stats()).pipelines === 0, 10_000, 'warm-up pipeline ended');
    const base = await srv.statsAfterGc();

    const ROUNDS = 4;
    const detectMs: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      const c = await clientProcess(srv.url, children);
      // Mid-call: media has flowed both ways (the echo bot wrote frames back) before the kill.
      await until(
        async () => ((await srv.stats()).sessions.find((s) => s.pcId === c.pcId)?.framesOut ?? 0) > 25,
        15_000,
        'echo frames out',
      );
      const killedAt = Date.now();
      c.child.kill('SIGKILL');
      // Functional deadline: liveness (3 s) + one 1 s liveness check period + up to 6 s of event-loop and
      // process-start lag on a shared 2-core machine. A server without the liveness check never closes (ICE
      // consent freshness in libjuice takes ~30 s, and without it nothing would).
      const closedAt = await srv.waitClosed(c.pcId, LIVENESS_SECS * 1000 + 7000);
      detectMs.push(closedAt - killedAt);
    }
    await until(
      async () => {
        const s = await srv.stats();
        return s.connections === 0 && s.pipelines === 0 && s.sessions.length === 0;
      },
      10_000,
      'connections and pipelines freed',
    );
    // Descriptors are closed on libdatachannel's threads shortly after `closed`: poll a few seconds.
    let now = await srv.statsAfterGc();
    await until(
      async () => {
        now = await srv.statsAfterGc();
        return now.fds <= base.fds && grownResources(base, now).length === 0;
      },
      10_000,
      () =>
        `descriptors/handles back to the baseline: fds ${base.fds} -> ${now.fds}, ${grownResources(base, now).join(', ')}`,
    );
    const sorted = [...detectMs].sort((a, b) => a - b);
    console.info(
      `[client-killed] time to closed after SIGKILL, ms: ${detectMs.join(', ')} (median ${sorted[Math.floor(sorted.length / 2)]}; ` +
        `livenessTimeoutSecs ${LIVENESS_SECS}); fds ${base.fds} -> ${now.fds}; RSS ${base.rssMiB.toFixed(1)} -> ${now.rssMiB.toFixed(1)} MiB; ` +
        `heap ${base.heapUsedMiB.toFixed(1)} -> ${now.heapUsedMiB.toFixed(1)} MiB`,
    );
    for (const ms of detectMs) expect(ms).toBeLessThan(LIVENESS_SECS * 1000 + 7000);
    // Memory: 4 sessions of an echo bot; 20 MiB would be 5 MiB kept per killed session (a session's whole
    // footprint is about 1.5 MiB at scale, README), well above allocator noise after a full GC.
    expect(now.rssMiB - base.rssMiB).toBeLessThan(20);
    expect(now.heapUsedMiB - base.heapUsedMiB).toBeLessThan(5);
    const exit = await srv.exit();
    expect(exit).toMatchObject({ code: 0, signal: null });
  }, 120_000);
});
