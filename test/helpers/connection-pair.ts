/**
 * Shared pieces of the SmallWebRTCConnection tests: a client and a connection on loopback, closed after each
 * test, and the connection's state events as a list.
 */
import nodeDataChannel from 'node-datachannel';
import { afterAll, afterEach } from 'vitest';

import { SmallWebRTCConnection } from '../../src/connection/index.js';
import { PipecatLikeClient, type PipecatLikeClientOptions } from '../../testkit/pipecat-like-client.js';
import { until } from '../../testkit/wait.js';

/** What the running test opened: closed (awaited, in order) after it. */
export const live: Array<{ close(): unknown }> = [];

/** Registers the hooks of a connection test file: close `live` after each test, cleanup() after all. */
export function closeLiveAfterEach(): void {
  afterEach(async () => {
    for (const x of live.splice(0)) await x.close();
  });
  afterAll(() => {
    nodeDataChannel.cleanup();
  });
}

/** Connection options as the constructor takes them. */
export type ConnectionOptions = ConstructorParameters<typeof SmallWebRTCConnection>[0];

/** A new client and a new SmallWebRTCConnection (loopback), both closed after the test; nothing negotiated. */
export async function newPair(
  clientOpts: PipecatLikeClientOptions = {},
  connOpts: ConnectionOptions = {},
): Promise<{ conn: SmallWebRTCConnection; off: PipecatLikeClient }> {
  const off = await PipecatLikeClient.create(clientOpts);
  live.push(off);
  const conn = new SmallWebRTCConnection({ bindAddress: '127.0.0.1', ...connOpts });
  live.push(conn);
  return { conn, off };
}

/** The connection's state events as they fire. */
export function stateEvents(conn: SmallWebRTCConnection): string[] {
  const events: string[] = [];
  for (const e of ['new', 'connecting', 'connected', 'disconnected', 'closed', 'failed'] as const) {
    conn.on(e, () => events.push(e));
  }
  return events;
}

/** {@link newPair}, negotiated in process and connected on both sides (`connected` fired). */
export async function connectedPair(
  clientOpts: PipecatLikeClientOptions = {},
  connOpts: ConnectionOptions = {},
): Promise<{ conn: SmallWebRTCConnection; off: PipecatLikeClient; events: string[] }> {
  const { conn, off } = await newPair(clientOpts, connOpts);
  const events = stateEvents(conn);
  await off.negotiate(conn);
  await off.waitConnected();
  await conn.connect();
  await until(() => events.includes('connected'), 5000, 'connected event');
  return { conn, off, events };
}
