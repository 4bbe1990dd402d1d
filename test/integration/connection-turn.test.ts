// ICE servers end to end against a local coturn (Debian `coturn`; the test skips without it): STUN by URL
// string, TURN over UDP (TCP/TLS are refused: libjuice cannot use them) with credentials containing `@`, `:` and `/` (passed verbatim to libjuice,
// no URL escaping). A relay candidate in the answer proves the TURN allocation (with those credentials) worked.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createConnection } from 'node:net';

import nodeDataChannel from 'node-datachannel';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { SmallWebRTCConnection } from '../../src/connection/index.js';
import { SmallWebRTCRequestHandler } from '../../src/server/request-handler.js';
import { expectCoded } from '../../testkit/errors.js';
import { PipecatLikeClient } from '../../testkit/pipecat-like-client.js';
import { until } from '../../testkit/wait.js';

const TURNSERVER = '/usr/bin/turnserver';
const USER = 'bot@example.org';
const PASSWORD = 'p@ss:w/rd';

describe.skipIf(!existsSync(TURNSERVER))('SmallWebRTCConnection ICE servers with coturn', () => {
  let turn: ChildProcess;
  let turnLog = '';
  const port = 34000 + Math.floor(Math.random() * 1000);

  beforeAll(async () => {
    turn = spawn(
      TURNSERVER,
      [
        '-n',
        '--listening-ip=127.0.0.1',
        '--relay-ip=127.0.0.1',
        `--listening-port=${port}`,
        '--min-port=49200',
        '--max-port=49400',
        '--lt-cred-mech',
        `--user=${USER}:${PASSWORD}`,
        '--realm=small-webrtc.test',
        '--no-tls',
        '--no-dtls',
        '--allow-loopback-peers',
        '--no-cli',
        '--log-file=stdout',
      ],
      { stdio: ['ignore', 'pipe', 'ignore'] },
    );
    turn.stdout?.on('data', (d: Buffer) => {
      turnLog += d.toString();
    });
    // Ready when its TCP listener accepts.
    await until(
      () =>
        new Promise<boolean>((resolve) => {
          const s = createConnection({ host: '127.0.0.1', port }, () => {
            s.destroy();
            resolve(true);
          });
          s.on('error', () => resolve(false));
        }),
      10_000,
      'turnserver to accept TCP',
    );
  });

  afterAll(() => {
    turn?.kill('SIGKILL');
    nodeDataChannel.cleanup();
  });

  async function answerWith(
    iceServers: ConstructorParameters<typeof SmallWebRTCConnection>[0],
  ): Promise<string> {
    const off = await PipecatLikeClient.create();
    const conn = new SmallWebRTCConnection({ bindAddress: '127.0.0.1', ...iceServers });
    try {
      await conn.initialize(off.offer);
      return conn.getAnswer()?.sdp ?? '';
    } finally {
      await conn.close();
      off.close();
    }
  }

  it('gathers a server-reflexive candidate from a STUN URL string', async () => {
    const sdp = await answerWith({ iceServers: [`stun:127.0.0.1:${port}`] });
    expect(sdp).toMatch(/typ srflx/);
  });

  it('gathers relay candidates over TURN/UDP with credentials containing @ : /', async () => {
    const udp = await answerWith({
      iceServers: [{ urls: `turn:127.0.0.1:${port}`, username: USER, credential: PASSWORD }],
    });
    if (!/typ relay/.test(udp)) console.error(`turnserver log:\n${turnLog.slice(-4000)}`);
    expect(udp).toMatch(/typ relay/);
    // Wrong password: no relay candidate (the allocation is refused), but the answer still comes.
    const wrong = await answerWith({
      iceServers: [{ urls: `turn:127.0.0.1:${port}`, username: USER, credential: 'nope' }],
      gatheringTimeoutSecs: 5,
    });
    expect(wrong).toContain('typ host');
    expect(wrong).not.toMatch(/typ relay/);
  });

  it('TURN over TCP/TLS (which libjuice, UDP only, would skip silently) is refused at construction', () => {
    // Before: accepted, a warning logged, and the answer had no relay candidate although coturn listens on
    // TCP. Now the connection (and the request handler) refuse it with a coded error.
    for (const url of [`turn:127.0.0.1:${port}?transport=tcp`, `turns:127.0.0.1:${port}`]) {
      expectCoded(
        () =>
          new SmallWebRTCConnection({
            bindAddress: '127.0.0.1',
            iceServers: [{ urls: [url], username: USER, credential: PASSWORD }],
          }),
        RangeError,
        'ERR_UNSUPPORTED_ICE_SERVER',
        { message: /libjuice, UDP only/, label: url },
      );
      expectCoded(
        () =>
          new SmallWebRTCRequestHandler({
            iceServers: [{ urls: url, username: USER, credential: PASSWORD }],
          }),
        RangeError,
        'ERR_UNSUPPORTED_ICE_SERVER',
        { label: `handler ${url}` },
      );
    }
  });
});
