/**
 * A client that leaves before the pipeline starts (it closed its peer connection while the bot was still
 * being set up): `task.run()` resolves, the transport reports the departure once, and nothing is left
 * running. Before, the input transport's setup called `connection.connect()` on the closed connection and
 * `task.run()` rejected with ERR_CLOSED. Real node-datachannel client on loopback.
 */
import nodeDataChannel from 'node-datachannel';
import { afterAll, describe, expect, it } from 'vitest';

import { SmallWebRTCConnection } from '../../src/connection/index.js';
import { Pipeline, PipelineTask, SmallWebRTCTransport, TransportParams } from '../../src/index.js';
import { PipecatLikeClient } from '../../testkit/pipecat-like-client.js';
import { until } from '../../testkit/wait.js';

afterAll(() => {
  nodeDataChannel.cleanup();
});

/** A connection the client negotiated, connected to, then left (closed gracefully). */
async function leftConnection(): Promise<SmallWebRTCConnection> {
  const off = await PipecatLikeClient.create({ trickle: false });
  const conn = new SmallWebRTCConnection({ bindAddress: '127.0.0.1' });
  await off.negotiate(conn);
  await off.waitConnected();
  off.close();
  await until(() => conn.closed, 15_000, 'connection closed after the client left');
  return conn;
}

function botFor(conn: SmallWebRTCConnection): { task: PipelineTask; events: string[] } {
  const transport = new SmallWebRTCTransport({
    webrtcConnection: conn,
    params: new TransportParams({ audioInEnabled: true, audioOutEnabled: true }),
  });
  const events: string[] = [];
  const task = new PipelineTask(new Pipeline([transport.input(), transport.output()]));
  transport.eventHandler('on_client_connected', () => void events.push('connected'));
  transport.eventHandler('on_client_disconnected', async () => {
    events.push('disconnected');
    await task.cancel(); // what every bot does (README)
  });
  transport.eventHandler('on_client_closed', () => void events.push('closed'));
  return { task, events };
}

describe('a client that leaves before the pipeline starts', () => {
  it('left before the transport was created: run() resolves and the departure is reported once', async () => {
    const conn = await leftConnection();
    const { task, events } = botFor(conn);
    await expect(task.run()).resolves.toBeUndefined();
    expect(events).toEqual(['disconnected', 'closed']);
  }, 30_000);

  it('left after the transport was created, before run(): run() resolves, the departure reported once', async () => {
    const off = await PipecatLikeClient.create({ trickle: false });
    const conn = new SmallWebRTCConnection({ bindAddress: '127.0.0.1' });
    await off.negotiate(conn);
    await off.waitConnected();
    const { task, events } = botFor(conn);
    off.close();
    await until(() => conn.closed, 15_000, 'connection closed after the client left');
    await expect(task.run()).resolves.toBeUndefined();
    expect(events).toEqual(['disconnected', 'closed']);
  }, 30_000);
});
