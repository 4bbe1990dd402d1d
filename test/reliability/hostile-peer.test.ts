/**
 * A hostile peer on a live connection. The attacker is the peer itself: it completed ICE and DTLS, so its
 * packets pass SRTP authentication and its data-channel messages are delivered. Against one server process
 * (test/reliability/bot-server-child.ts, an echo bot per connection, camera input on), while a second,
 * well-behaved session streams audio through the same process:
 *
 * - media: random, truncated, oversized and replayed RTP and RTCP on its audio and video tracks, sent
 *   through node-datachannel's `Track.sendMessageBinary` (so SRTP-protected like real media);
 * - data channel: 64 KiB messages (valid, not JSON, binary), deeply nested JSON (32,000 levels in 64 KiB,
 *   100,000 levels in 200 KB from a client that ignores our `a=max-message-size`), with the rate bound
 *   raised so that every message is read;
 * - data channel past the rate bound (`dataChannelRateLimit`), against a second server process: the excess
 *   dropped unread, then the peer disconnected.
 *
 * Each is counted and dropped (`inboundStats()`, the native receivers' counters), the server never crashes,
 * and the other session's audio keeps flowing. What libdatachannel filters before our code sees anything is
 * in docs/reliability.md, "Hostile media".
 */
import type { ChildProcess } from 'node:child_process';

import nodeDataChannel from 'node-datachannel';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { PipecatLikeClient, type PipecatLikeClientOptions } from '../../testkit/pipecat-like-client.js';
import { prng } from '../../testkit/audio.js';
import { sleep, until } from '../../testkit/wait.js';
import { BotServerProcess, type ServerStats, type SessionStats } from './bot-server.js';
import { clientProcess, type ClientProcess } from './client-process.js';

const clients: PipecatLikeClient[] = [];
const children: ChildProcess[] = [];
let server: BotServerProcess | null = null;
/** Other server processes started by a test (killed after the file). */
const servers: BotServerProcess[] = [];
/** The well-behaved session: its own process, so the attacker's CPU in this one does not delay it. */
let good: ClientProcess | null = null;
afterAll(() => {
  for (const c of children) c.kill('SIGKILL');
  server?.kill();
  for (const s of servers) s.kill();
  for (const c of clients) c.close();
  nodeDataChannel.cleanup();
});

async function connectClient(
  o: PipecatLikeClientOptions = {},
  srv: BotServerProcess | null = server,
): Promise<PipecatLikeClient> {
  if (!srv) throw new Error('no server');
  const c = await PipecatLikeClient.create({ baseUrl: srv.url, video: false, screen: false, ...o });
  clients.push(c);
  const r = await c.connect();
  if (r.status !== 200) throw new Error(`offer answered ${r.status}: ${JSON.stringify(r.json)}`);
  await c.waitConnected();
  return c;
}

function session(s: ServerStats, pcId: string | null): SessionStats {
  const found = s.sessions.find((x) => x.pcId === pcId);
  if (!found) throw new Error(`no server session ${pcId}`);
  return found;
}

/** The well-behaved session's audio over a window: frames that reached its bot and its receiver's repairs. */
interface AudioWindow {
  ms: number;
  framesIn: number;
  lost: number;
  concealedMs: number;
  lateDropped: number;
  /** Largest gap between two echo RTP packets heard by the good client, ms. */
  maxEchoGapMs: number;
}

/** Observes the good session for `during()`: what its bot got and what its client heard back. */
async function watchGood(
  during: () => Promise<void>,
  srv: BotServerProcess = server!,
  c: ClientProcess = good!,
): Promise<AudioWindow> {
  const before = session(await srv.stats(), c.pcId);
  await c.heard();
  const t0 = performance.now();
  await during();
  const ms = performance.now() - t0;
  const { maxGapMs } = await c.heard();
  const after = session(await srv.stats(), c.pcId);
  const r = (k: string): number => Number(after.receiver?.[k] ?? 0) - Number(before.receiver?.[k] ?? 0);
  return {
    ms: Math.round(ms),
    framesIn: after.framesIn - before.framesIn,
    lost: r('lost'),
    concealedMs: Math.round(r('concealedMs')),
    lateDropped: r('lateDropped'),
    maxEchoGapMs: Math.round(maxGapMs),
  };
}

/**
 * The other session's audio kept flowing, compared with the same session in a window just before the attack
 * (this shared machine's scheduling noise is in both): its bot got frames at (nearly) the same rate, no packet
 * was lost, its receiver concealed at most twice the share it did before plus `extraConcealed` of the window,
 * and the echo its client heard never stopped for a second (a server blocked that long, or crashed, fails).
 * The default allowance is 8 % of the window: in `npm test` other test files run beside this one on the same
 * 2 cores and their load changes between the 3 s baseline and the attack window; one fresh-clone CI run
 * measured 6.4 % concealed against a 0.7 % baseline (alone: 80 ms in 5.8 s, 80 ms in the 3 s before). A
 * server that spends real time per hostile packet starves the good session far beyond that (its frames and
 * echo stall).
 */
function expectGoodUnaffected(baseline: AudioWindow, during: AudioWindow, extraConcealed = 0.08): void {
  const rate = (w: AudioWindow, v: number): number => v / w.ms;
  expect(rate(during, during.framesIn)).toBeGreaterThanOrEqual(0.8 * rate(baseline, baseline.framesIn));
  expect(during.lost).toBeLessThanOrEqual(baseline.lost + 5);
  expect(rate(during, during.concealedMs)).toBeLessThanOrEqual(
    2 * rate(baseline, baseline.concealedMs) + extraConcealed,
  );
  expect(during.maxEchoGapMs).toBeLessThan(1000);
}

beforeAll(async () => {
  // The data-channel test below counts how every kind of message is read: the rate bound is raised out of
  // its way (the last test checks the bound itself, on a server of its own).
  server = await BotServerProcess.start({
    videoIn: true,
    dataChannelRateLimit: { bytesPerSecond: 1e12, burstBytes: 1e12 },
  });
  good = await clientProcess(server.url, children);
  // The echo is flowing before anything is measured.
  const g = good;
  await until(async () => (await g.heard()).packets >= 25, 15_000, 'echo RTP at the good client');
}, 60_000);

/** RTP with our SSRC for `kind` (header fields overridable), payload as given. */
function rtp(
  ssrc: number,
  o: { pt: number; seq: number; ts: number; payload: Uint8Array; first?: number; marker?: boolean },
): Buffer {
  const b = Buffer.alloc(12 + o.payload.length);
  b[0] = o.first ?? 0x80;
  b[1] = (o.marker ? 0x80 : 0) | (o.pt & 0x7f);
  b.writeUInt16BE(o.seq & 0xffff, 2);
  b.writeUInt32BE(o.ts >>> 0, 4);
  b.writeUInt32BE(ssrc >>> 0, 8);
  b.set(o.payload, 12);
  return b;
}

describe('a hostile peer on a live connection', () => {
  it('random, truncated, oversized and replayed RTP/RTCP on audio and video: counted and dropped, no crash, the other session unaffected', async () => {
    const srv = server!;
    const bad = await connectClient({ video: true });
    // Its real stream first, so the receivers exist and have a timeline to be attacked.
    bad.startRtp();
    await until(
      async () => Number(session(await srv.stats(), bad.pcId).receiver?.['received'] ?? 0) > 10,
      15_000,
      "the hostile peer's audio at the server",
    );
    // Its own stream stops: the attack's sequence numbers move its SRTP sender past it (libsrtp would refuse
    // the older numbers as replays, inside a timer).
    bad.stopRtp();
    const rnd = prng(20261206);
    // Random bytes from a seeded pool (cheap: the attacker shares this process with the good client).
    const pool = Uint8Array.from({ length: 1 << 17 }, () => Math.floor(rnd() * 256));
    const bytes = (n: number): Uint8Array => {
      const at = Math.floor(rnd() * (pool.length - n));
      return pool.slice(at, at + n);
    };
    const int = (lo: number, hi: number): number => lo + Math.floor(rnd() * (hi - lo + 1));
    const sent: Record<string, { ok: number; refused: number }> = {};
    const history: Array<{ kind: 'audio' | 'video'; p: Buffer }> = [];
    const send = (category: string, kind: 'audio' | 'video', p: Buffer): void => {
      const c = (sent[category] ??= { ok: 0, refused: 0 });
      const track = bad.tracks[kind];
      try {
        // node-datachannel's own sender refuses some (libsrtp cannot protect a header that claims more than
        // the packet holds): counted as refused, they never reach the wire.
        if (track?.sendMessageBinary(p)) c.ok++;
        else c.refused++;
      } catch {
        c.refused++;
      }
      if (history.length < 400 && rnd() < 0.3) history.push({ kind, p });
    };

    const base = { audio: { seq: 30_000, ts: 1 << 30 }, video: { seq: 40_000, ts: 1 << 29 } };
    const ssrc = { audio: bad.ssrcs.audio, video: bad.ssrcs.video };
    const ROUNDS = 250; // 5 s at one round per 20 ms
    const attack = async (): Promise<void> => {
      for (let i = 0; i < ROUNDS; i++) {
        for (const kind of ['audio', 'video'] as const) {
          const b = base[kind];
          const pt = kind === 'audio' ? 111 : 96;
          b.seq++;
          b.ts += kind === 'audio' ? 960 : 3000;
          // Random bytes: anything at all (mostly not RTP v2, some look like RTCP).
          send('random bytes', kind, Buffer.from(bytes(int(1, 1200))));
          // A valid header with our SSRC and a random payload (Opus TOC / VP8 descriptor garbage).
          send(
            'random payload',
            kind,
            rtp(ssrc[kind], { pt, seq: b.seq, ts: b.ts, payload: bytes(int(0, 1100)) }),
          );
          // A payload type the answer never offered.
          b.seq++;
          send(
            'unknown payload type',
            kind,
            rtp(ssrc[kind], { pt: int(0, 127), seq: b.seq, ts: b.ts, payload: bytes(40) }),
          );
          // Truncated: padding that claims more bytes than the packet has; an extension header cut short;
          // a header alone; CSRCs announced but absent.
          b.seq++;
          const padded = rtp(ssrc[kind], {
            pt,
            seq: b.seq,
            ts: b.ts,
            payload: bytes(int(1, 20)),
            first: 0xa0,
          });
          padded[padded.length - 1] = 255;
          send('truncated', kind, padded);
          b.seq++;
          send(
            'truncated',
            kind,
            rtp(ssrc[kind], {
              pt,
              seq: b.seq,
              ts: b.ts,
              payload: Buffer.from([0xbe, 0xde, 0xff, 0xff]),
              first: 0x90,
            }),
          );
          b.seq++;
          send('truncated', kind, rtp(ssrc[kind], { pt, seq: b.seq, ts: b.ts, payload: new Uint8Array(0) }));
          b.seq++;
          send(
            'truncated',
            kind,
            rtp(ssrc[kind], { pt, seq: b.seq, ts: b.ts, payload: bytes(8), first: 0x8f }),
          );
          // Oversized: 1.5, 8 and 60 kB.
          if (i % 10 === 0) {
            for (const n of [1500, 8000, 60_000]) {
              b.seq++;
              send('oversized', kind, rtp(ssrc[kind], { pt, seq: b.seq, ts: b.ts, payload: bytes(n) }));
            }
          }
          // RTCP: random bodies behind SR/RR/SDES/BYE/APP/RTPFB/PSFB headers, lengths that lie, a 9 kB one.
          const rtcp = Buffer.from(bytes(int(8, 600)));
          rtcp[0] = 0x80 | int(0, 31);
          rtcp[1] = int(200, 206);
          if (rnd() < 0.5) rtcp.writeUInt32BE(ssrc[kind], 4);
          send('rtcp random', kind, rtcp);
          const lying = Buffer.from(bytes(16));
          lying[0] = 0x81;
          lying[1] = int(200, 206);
          lying.writeUInt16BE(0xffff, 2);
          send('rtcp truncated', kind, lying);
          if (i % 25 === 0) {
            const big = Buffer.from(bytes(9000));
            big[0] = 0x80;
            big[1] = 201;
            send('rtcp oversized', kind, big);
          }
          // Replays: a packet sent before, byte for byte (SRTP: same sequence number), and one with a fresh
          // sequence number but a timestamp from seconds ago.
          const old = history[int(0, Math.max(0, history.length - 1))];
          if (old) send('replayed', old.kind, old.p);
          b.seq++;
          send('replayed', kind, rtp(ssrc[kind], { pt, seq: b.seq, ts: b.ts - 480_000, payload: bytes(60) }));
        }
        await sleep(20);
      }
    };

    const baseline = await watchGood(() => sleep(3000));
    srv.resetLoopDelay();
    const before = session(await srv.stats(), bad.pcId);
    const during = await watchGood(attack);
    await sleep(500);
    const s = await srv.stats();
    const after = session(s, bad.pcId);
    const delta = (
      a: Record<string, unknown> | null | undefined,
      b: Record<string, unknown> | null | undefined,
      k: string,
    ): number => Number(a?.[k] ?? 0) - Number(b?.[k] ?? 0);
    const figure = {
      sent,
      serverSaw: {
        rtp: after.inbound.media.rtp - before.inbound.media.rtp,
        rtcp: after.inbound.media.rtcp - before.inbound.media.rtcp,
        droppedNotRtp: after.inbound.media.dropped.notRtp - before.inbound.media.dropped.notRtp,
        droppedNoReceiver: after.inbound.media.dropped.noReceiver - before.inbound.media.dropped.noReceiver,
      },
      audioReceiver: Object.fromEntries(
        [
          'received',
          'invalid',
          'payloadTypeDropped',
          'duplicates',
          'lateDropped',
          'resets',
          'reanchors',
          'decodeErrors',
        ].map((k) => [k, delta(after.receiver, before.receiver, k)]),
      ),
      videoReceiver: Object.fromEntries(
        ['packets', 'malformed', 'duplicates', 'late', 'frames', 'framesDropped'].map((k) => [
          k,
          delta(after.video[0], before.video[0], k),
        ]),
      ),
      payloadTypeDropped:
        Number(after.audioInput?.['payloadTypeDropped'] ?? 0) -
        Number(before.audioInput?.['payloadTypeDropped'] ?? 0),
      loopDelayMs: { max: Math.round(s.loopDelay.maxMs), p99: Math.round(s.loopDelay.p99Ms) },
      good: { baseline, during },
    };
    console.info(`[hostile-media] ${JSON.stringify(figure)}`);

    // The server lived through it and still serves both sessions.
    expect(srv.running).toBe(true);
    expect(s.connections).toBe(2);
    // Every category left the client (some packets were refused by its own libsrtp), and what reached our
    // code was counted where it was dropped: not RTP at the track router, malformed RTP and foreign payload
    // types in the audio receiver, malformed VP8 in the video receiver, RTCP routed to the senders' parsers.
    for (const c of [
      'random bytes',
      'random payload',
      'unknown payload type',
      'truncated',
      'oversized',
      'rtcp random',
      'replayed',
    ])
      expect(sent[c]?.ok ?? 0, c).toBeGreaterThan(0);
    expect(figure.serverSaw.rtcp).toBeGreaterThan(0);
    expect(figure.audioReceiver['invalid']).toBeGreaterThan(0);
    expect(figure.payloadTypeDropped).toBeGreaterThan(0);
    expect(figure.videoReceiver['malformed']).toBeGreaterThan(0);
    // Nothing reached our code that the peer did not send.
    const okTotal = Object.values(sent).reduce((n, c) => n + c.ok, 0);
    expect(figure.serverSaw.rtp + figure.serverSaw.rtcp + figure.serverSaw.droppedNotRtp).toBeLessThanOrEqual(
      okTotal + 600,
    );
    expectGoodUnaffected(baseline, during);
    bad.close();
  }, 120_000);
  it('a data channel flooded with 64 KiB messages and deeply nested JSON: counted and dropped, memory bounded, the other session unaffected', async () => {
    const srv = server!;
    // This peer ignores our a=max-message-size (65536) and may send 256 KiB messages.
    const bad = await connectClient({ answerMaxMessageSize: 262144 });
    await until(
      async () => session(await srv.stats(), bad.pcId).inbound.dataChannel.messages > 0,
      15_000,
      "the hostile peer's first data-channel message at the server",
    );
    const dc = bad.dc!;
    /** Sends, keeping at most 2 MiB in the client's own queue (the attack is the server's backlog, not ours). */
    const push = async (m: string | Buffer): Promise<void> => {
      while (dc.bufferedAmount() > 2 * 1024 * 1024) await sleep(2);
      const ok = typeof m === 'string' ? dc.sendMessage(m) : dc.sendMessageBinary(m);
      if (!ok) await sleep(1);
    };
    const K64 = 65536;
    const pad = (head: string, n: number): string => `${head},"pad":"${'x'.repeat(n - head.length - 10)}"}`;
    const nested = (levels: number): string => '['.repeat(levels) + ']'.repeat(levels);
    const plan = {
      valid64k: { n: 200, make: (i: number) => pad(`{"type":"flood","i":${i}`, K64) },
      notJson64k: { n: 200, make: () => 'x'.repeat(K64) },
      binary64k: { n: 100, make: () => Buffer.alloc(K64, 7) },
      deep32k: { n: 100, make: () => nested(K64 / 2) },
      deepSignallingType: {
        n: 50,
        make: () => `{"type":"signalling","message":{"type":${nested((K64 - 64) / 2)}}}`,
      },
      deep100k200KB: { n: 20, make: () => nested(100_000) },
      json192KB: { n: 20, make: (i: number) => pad(`{"type":"flood-big","i":${i}`, 3 * K64) },
    } as const;
    const baseline = await watchGood(() => sleep(3000));
    const base = await srv.statsAfterGc();
    const before = session(base, bad.pcId);
    srv.resetLoopDelay();
    let peakRss = base.rssMiB;
    let sampling = true;
    const sampler = (async () => {
      while (sampling && srv.running) {
        peakRss = Math.max(peakRss, (await srv.stats().catch(() => base)).rssMiB);
        await sleep(200);
      }
    })();
    const want = {
      appMessages: plan.valid64k.n,
      notJson: plan.notJson64k.n + plan.json192KB.n,
      binary: plan.binary64k.n,
      tooDeep: plan.deep32k.n + plan.deepSignallingType.n + plan.deep100k200KB.n,
    };
    let after = before;
    let sentBytes = 0;
    let round = 0;
    /** Sends the whole plan once and waits until the server counted all of it. */
    const flood = async (): Promise<void> => {
      round++;
      for (const [, p] of Object.entries(plan)) {
        for (let i = 0; i < p.n; i++) {
          const m = p.make(i);
          sentBytes += m.length;
          await push(m);
        }
      }
      const d0 = before.inbound.dataChannel;
      await until(
        async () => {
          after = session(await srv.stats(), bad.pcId);
          const d = after.inbound.dataChannel;
          return (
            d.appMessages - d0.appMessages >= round * want.appMessages &&
            d.dropped.notJson - d0.dropped.notJson >= round * want.notJson &&
            d.dropped.binary - d0.dropped.binary >= round * want.binary &&
            d.dropped.tooDeep - d0.dropped.tooDeep >= round * want.tooDeep
          );
        },
        90_000,
        () => `every flood message counted at the server: ${JSON.stringify(after.inbound.dataChannel)}`,
      );
    };
    // Twice: the first flood also warms the allocator's arenas (libdatachannel's threads), so what the
    // second adds after a GC is what a flood keeps.
    let during: AudioWindow;
    let afterFirst: ServerStats;
    try {
      await watchGood(flood);
      afterFirst = await srv.statsAfterGc();
      srv.resetLoopDelay();
      during = await watchGood(flood);
    } finally {
      sampling = false;
    }
    await sampler;
    const s = await srv.stats();
    const gcd = await srv.statsAfterGc();
    const d0 = before.inbound.dataChannel;
    const d1 = session(s, bad.pcId).inbound.dataChannel;
    const figure = {
      rounds: round,
      sentMessages: round * Object.values(plan).reduce((n, p) => n + p.n, 0),
      sentMiB: +(sentBytes / 1048576).toFixed(1),
      counted: {
        appMessages: d1.appMessages - d0.appMessages,
        botAppMessages: session(s, bad.pcId).appMessages - before.appMessages,
        dropped: Object.fromEntries(
          Object.entries(d1.dropped).map(([k, v]) => [k, v - d0.dropped[k as keyof typeof d0.dropped]]),
        ),
        charsMiB: +((d1.chars - d0.chars) / 1048576).toFixed(1),
      },
      rssMiB: {
        before: +base.rssMiB.toFixed(1),
        peak: +peakRss.toFixed(1),
        afterFirstGc: +afterFirst.rssMiB.toFixed(1),
        afterSecondGc: +gcd.rssMiB.toFixed(1),
      },
      heapMiB: { before: +base.heapUsedMiB.toFixed(1), afterGc: +gcd.heapUsedMiB.toFixed(1) },
      secondFlood: {
        loopDelayMs: { max: Math.round(s.loopDelay.maxMs), p99: Math.round(s.loopDelay.p99Ms) },
        durationMs: during.ms,
        good: during,
      },
      goodBaseline: baseline,
    };
    console.info(`[dc-flood] ${JSON.stringify(figure)}`);

    expect(srv.running).toBe(true);
    // Counted exactly: every valid 64 KiB app message reached the bot; every other one was dropped for its
    // reason (messages over 64 KiB arrive cut to 64 KiB by libdatachannel, so not JSON or too deep); no
    // handler threw.
    expect(figure.counted.appMessages).toBe(round * want.appMessages);
    expect(figure.counted.botAppMessages).toBe(round * want.appMessages);
    expect(figure.counted.dropped).toMatchObject({
      notJson: round * want.notJson,
      binary: round * want.binary,
      tooDeep: round * want.tooDeep,
      tooLarge: 0,
      failed: 0,
    });
    // No message longer than 64 KiB reached JS (libdatachannel truncates at our max-message-size).
    expect(d1.chars - d0.chars).toBeLessThanOrEqual(figure.sentMessages * K64);
    // Memory: the floods (48 MiB each, 96 MiB in all) are not kept. RSS at its peak within 96 MiB of the start
    // and within 64 MiB after a GC (keeping the messages would be 96; what stays is the allocator's grown
    // arenas of libdatachannel's threads, 24-54 MiB here, more when other tests run beside); the JS heap,
    // which would hold any message kept, back within 8 MiB.
    expect(peakRss - base.rssMiB).toBeLessThan(96);
    expect(gcd.rssMiB - base.rssMiB).toBeLessThan(64);
    expect(gcd.heapUsedMiB - base.heapUsedMiB).toBeLessThan(8);
    // A flood is not free for the others: node-datachannel hands the JS thread the backlog in batches, and
    // on this loaded 2-core machine the event loop then stalls for up to a few hundred ms (max delay in the
    // figure), which the other session's jitter buffer conceals. Bound: a quarter of the window.
    expectGoodUnaffected(baseline, during, 0.25);
    bad.close();
  }, 180_000);
  it('a data channel flooded past the rate bound: the excess dropped unread and counted exactly, the flooder disconnected, memory bounded, the other session unaffected', async () => {
    const K64 = 65536;
    // The test's bound makes the counts exact: the burst passes 64 messages of 64 KiB (plus 4 KiB for the
    // client's pings), the sustained 1 KiB/s refills less than one such message during the test, and the
    // 33rd message dropped in the episode crosses disconnectAfterBytes (32 x 64 KiB). The defaults (1 MiB/s,
    // 4 MiB, 4 MiB) work the same way at 16x the rate.
    const BURST = 64;
    const CUT = 32;
    const limit = { bytesPerSecond: 1024, burstBytes: BURST * K64 + 4096, disconnectAfterBytes: CUT * K64 };
    const srv = await BotServerProcess.start({ dataChannelRateLimit: limit, logEvents: true });
    servers.push(srv);
    const other = await clientProcess(srv.url, children);
    await until(async () => (await other.heard()).packets >= 25, 15_000, 'echo RTP at the other client');
    const bad = await connectClient({}, srv);
    const pcId = bad.pcId ?? '';
    await until(
      async () => session(await srv.stats(), pcId).inbound.dataChannel.messages > 0,
      15_000,
      "the flooder's first data-channel message at the server",
    );
    const baseline = await watchGood(() => sleep(3000), srv, other);
    const base = await srv.statsAfterGc();
    const before = session(base, pcId).inbound.dataChannel;
    let peakRss = base.rssMiB;
    let sampling = true;
    const sampler = (async () => {
      while (sampling && srv.running) {
        peakRss = Math.max(peakRss, (await srv.stats().catch(() => base)).rssMiB);
        await sleep(100);
      }
    })();
    // 1,000 valid 64 KiB app messages (62.5 MiB) as fast as the client's own queue allows (at most 2 MiB in
    // it), until the server cuts the peer off.
    const dc = bad.dc!;
    const N = 1000;
    let sent = 0;
    const flood = async (): Promise<void> => {
      for (let i = 0; i < N; i++) {
        while (dc.isOpen() && dc.bufferedAmount() > 2 * 1024 * 1024) await sleep(2);
        if (!dc.isOpen()) break;
        try {
          // false: queued in the client (libdatachannel), not refused.
          if (!dc.sendMessage(`{"type":"flood","i":${i},"pad":"`.padEnd(K64 - 2, 'x') + '"}')) await sleep(1);
        } catch {
          break;
        }
        sent++;
      }
      try {
        await srv.waitClosed(pcId, 30_000);
      } catch (err) {
        const left = (await srv.stats()).sessions.find((x) => x.pcId === pcId);
        throw new Error(
          `${String(err)}; sent ${sent}; server saw ${JSON.stringify(left?.inbound.dataChannel)}`,
        );
      }
      // The other session is watched over the flood and the 3 s after it (a short window alone is noise).
      await sleep(3000);
    };
    srv.resetLoopDelay();
    let during: AudioWindow;
    try {
      during = await watchGood(flood, srv, other);
    } finally {
      sampling = false;
    }
    await sampler;
    await sleep(1000);
    const s = await srv.stats();
    const gcd = await srv.statsAfterGc();
    const final = srv.closedInbound.get(pcId)!.dataChannel;
    const flooded = srv.logs.find((l) => l['event'] === 'data_channel_flood');
    const figure = {
      limit,
      sentMessages: sent,
      sentMiB: +((sent * K64) / 1048576).toFixed(1),
      counted: {
        appMessages: final.appMessages - before.appMessages,
        rateLimited: final.dropped.rateLimited - before.dropped.rateLimited,
        rateLimitedBytes: final.rateLimitedBytes - before.rateLimitedBytes,
        readMiB: +(
          (final.bytes - before.bytes - (final.rateLimitedBytes - before.rateLimitedBytes)) /
          1048576
        ).toFixed(1),
        floodDisconnected: final.floodDisconnected,
      },
      closedAfterMs: srv.closedAt.get(pcId),
      rssMiB: { before: +base.rssMiB.toFixed(1), peak: +peakRss.toFixed(1), afterGc: +gcd.rssMiB.toFixed(1) },
      heapMiB: { before: +base.heapUsedMiB.toFixed(1), afterGc: +gcd.heapUsedMiB.toFixed(1) },
      loopDelayMs: { max: Math.round(s.loopDelay.maxMs), p99: Math.round(s.loopDelay.p99Ms) },
      good: { baseline, during },
      log: flooded,
    };
    console.info(`[dc-rate] ${JSON.stringify(figure)}`);

    expect(srv.running).toBe(true);
    // Exact: the burst's 64 messages reached the application, the next 33 were dropped unread (the 33rd
    // crossed the disconnect threshold), and nothing after the disconnect was read.
    expect(figure.counted).toEqual({
      appMessages: BURST,
      rateLimited: CUT + 1,
      rateLimitedBytes: (CUT + 1) * K64,
      readMiB: figure.counted.readMiB,
      floodDisconnected: true,
    });
    expect(session(s, other.pcId).inbound.dataChannel.dropped.rateLimited).toBe(0);
    expect(s.connections).toBe(1);
    // The reason is logged, once, with the figures.
    expect(flooded).toMatchObject({ level: 'warn', droppedMessages: CUT + 1, droppedBytes: (CUT + 1) * K64 });
    expect(srv.logs.filter((l) => l['event'] === 'data_channel_flood')).toHaveLength(1);
    // Memory: what the server read is 64 x 64 KiB; the rest of the flood never queued up (the client stopped
    // at the disconnect). Peak RSS within 48 MiB of the start, the heap back within 8 MiB after a GC.
    expect(sent).toBeLessThan(N);
    expect(peakRss - base.rssMiB).toBeLessThan(48);
    expect(gcd.heapUsedMiB - base.heapUsedMiB).toBeLessThan(8);
    // Reading the burst (4 MiB of JSON) and taking the length of each dropped message as node-datachannel
    // hands them over in batches stalls the event loop as the unbounded flood above does: the same bound, a
    // quarter of the window (a fresh-clone CI run at load 14-20 measured 14.5 % against a 10 % allowance).
    expectGoodUnaffected(baseline, during, 0.25);
  }, 180_000);
});
