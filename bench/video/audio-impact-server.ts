// Audio-impact bench, server side (a child process of bench/video/audio-impact.ts): ONE process serving two
// bots on two ports: the echo bot of `npm run demo` (examples/echo-bot.ts, Silero VAD) for the audio sessions
// and the video-transform bot (examples/video-transform.ts, invert, `--size`) for the video sessions. They
// share what a deployment shares: the JS thread, the media clock, the addon's worker threads, the
// node-datachannel threads. The bench compares the audio sessions' figures with and without video sessions.
// IPC: child -> parent `{ ready, audioUrl, videoUrl }`, `{ measured }` after `{ stop }`; parent -> child
// `{ start }` (reset the samples), `{ stop }`, `{ close }`.
import { monitorEventLoopDelay } from 'node:perf_hooks';

import { runEchoBot } from '../../examples/echo-bot.js';
import { runVideoTransformBot } from '../../examples/video-transform.js';
import {
  shutdownSmallWebRTC,
  startSmallWebRTCServer,
  type SmallWebRTCConnection,
  type SmallWebRTCServerOptions,
} from '../../src/index.js';
import { benchServerOptions } from '../lib/server-options.js';

const i = process.argv.indexOf('--size');
const [width, height] = (i >= 0 ? process.argv[i + 1]! : '640x480').split('x').map(Number) as [
  number,
  number,
];

const threadCpuUsage = (
  process as unknown as { threadCpuUsage(prev?: NodeJS.CpuUsage): NodeJS.CpuUsage }
).threadCpuUsage.bind(process);

const send = (m: object): void => {
  process.send?.(m);
};

let failedSessions = 0;
function options(bot: (c: SmallWebRTCConnection) => Promise<void>): SmallWebRTCServerOptions {
  return benchServerOptions((connection) => {
    bot(connection).catch((err: unknown) => {
      failedSessions++;
      console.error(`session failed: ${String(err)}`);
    });
  });
}

const audioServer = await startSmallWebRTCServer(options((c) => runEchoBot(c)));
const videoServer = await startSmallWebRTCServer(
  options((c) => runVideoTransformBot(c, { effect: 'invert', width, height })),
);

const loop = monitorEventLoopDelay({ resolution: 10 });
let cpu0 = process.cpuUsage();
let js0 = threadCpuUsage();
let t0 = performance.now();

process.on('disconnect', () => process.exit(0));
process.on('message', (m: unknown) => {
  const msg = m as { start?: boolean; stop?: boolean; close?: boolean };
  if (msg.start) {
    cpu0 = process.cpuUsage();
    js0 = threadCpuUsage();
    t0 = performance.now();
    loop.reset();
    loop.enable();
  }
  if (msg.stop) {
    loop.disable();
    const s = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const js = threadCpuUsage(js0);
    send({
      measured: {
        cores: (cpu.user + cpu.system) / 1e6 / s,
        jsThreadCores: (js.user + js.system) / 1e6 / s,
        // Lateness of a 10 ms timer, ms.
        loopP99Ms: Math.max(0, loop.percentile(99) / 1e6 - 10),
        failedSessions,
      },
    });
  }
  if (msg.close) {
    void Promise.all([audioServer.close(), videoServer.close()])
      .then(() => shutdownSmallWebRTC())
      .finally(() => process.exit(0));
  }
});
send({ ready: true, audioUrl: audioServer.url, videoUrl: videoServer.url });
