// The connection's message queues are bounded by bytes, not only by count, with a real node-datachannel peer:
// outbound app messages queued before the data channel opens, and inbound app messages the peer sends before
// the application calls connect(). Each bound is MAX_MESSAGE_QUEUE_BYTES (1 MiB).
import nodeDataChannel from 'node-datachannel';
import { afterAll, afterEach, describe, expect, it } from 'vitest';

import {
  MAX_MESSAGE_QUEUE_BYTES,
  MAX_MESSAGE_QUEUE_SIZE,
  SmallWebRTCConnection,
} from '../../src/connection/index.js';
import { setLogger } from '../../src/logger.js';
import { PipecatLikeClient } from '../../testkit/pipecat-like-client.js';
import { until } from '../../testkit/wait.js';

const live: Array<{ close(): unknown }> = [];
const warnings: string[] = [];

afterEach(async () => {
  setLogger(null);
  warnings.length = 0;
  for (const x of live.splice(0)) await x.close();
});

afterAll(() => {
  nodeDataChannel.cleanup();
});

function captureWarnings(): void {
  setLogger({ debug() {}, info() {}, warn: (m: string) => void warnings.push(m), error() {} });
}

describe('queue bounds in bytes', () => {
  it('outbound: messages queued before the channel opens stop at MAX_MESSAGE_QUEUE_BYTES', async () => {
    // Before: only the count (50) bounded the outbox, so 45 messages of 30 kB were all kept (1.35 MB).
    expect(MAX_MESSAGE_QUEUE_BYTES).toBe(1024 * 1024);
    captureWarnings();
    const off = await PipecatLikeClient.create({ video: false, screen: false });
    live.push(off);
    const conn = new SmallWebRTCConnection({ bindAddress: '127.0.0.1' });
    live.push(conn);
    await conn.initialize(off.offer);
    const pad = 'p'.repeat(30_000);
    for (let i = 0; i < 45; i++) conn.sendAppMessage({ type: 'big', n: i, pad });
    expect(45).toBeLessThan(MAX_MESSAGE_QUEUE_SIZE); // the count bound is not what stops them
    // 34 texts of 30,030 bytes fit in 1 MiB, a 35th does not.
    expect(warnings.filter((w) => w.includes('outbox full'))).toHaveLength(11);
    off.setAnswer(conn.getAnswer() as { sdp: string });
    await off.waitConnected();
    await conn.connect();
    await off.waitUntil(
      () => off.messages.filter((m) => m['type'] === 'big').length === 34,
      15_000,
      () => `flush (got ${off.messages.filter((m) => m['type'] === 'big').length})`,
    );
    expect(off.messages.filter((m) => m['type'] === 'big').map((m) => m['n'])).toEqual(
      Array.from({ length: 34 }, (_, i) => i),
    );
  });

  it('inbound: app messages received before connect() keep at most MAX_MESSAGE_QUEUE_BYTES (oldest dropped)', async () => {
    // Before: 30 messages of 60 kB from the peer were all kept until connect() (1.8 MB per connection).
    captureWarnings();
    const off = await PipecatLikeClient.create({ video: false, screen: false });
    live.push(off);
    const conn = new SmallWebRTCConnection({ bindAddress: '127.0.0.1' });
    live.push(conn);
    const got: number[] = [];
    conn.on('app-message', (_c, m) => {
      got.push((m as { n: number }).n);
    });
    // The server's first message leaves only once it has adopted the channel, which registers its onMessage
    // handler first. Messages that reach libdatachannel before that
    // registration can be delivered out of order (libdatachannel 0.24 drains its receive queue from both
    // the SCTP thread and the registering JS thread at once), and the oldest-dropped check needs the
    // arrival order to be the send order, so the early messages wait for that proof of registration.
    await off.negotiate(conn);
    conn.sendAppMessage({ type: 'adopted' });
    await off.waitConnected();
    await until(() => off.channelOpen, 10_000, 'client channel open');
    await off.waitUntil(
      () => off.messages.some((m) => m['type'] === 'adopted'),
      10_000,
      () => 'the server adopted the data channel',
    );
    const pad = 'q'.repeat(60_000);
    for (let i = 0; i < 30; i++) off.sendJson({ type: 'early', n: i, pad });
    await until(
      () => warnings.filter((w) => w.includes('before connect()')).length === 13,
      10_000,
      () => `13 drop warnings (got ${warnings.filter((w) => w.includes('before connect()')).length})`,
    );
    await conn.connect();
    await until(
      () => got.length === 17,
      10_000,
      () => `17 early messages (got ${got.length})`,
    );
    expect(got).toEqual(Array.from({ length: 17 }, (_, i) => 13 + i));
  });
});
