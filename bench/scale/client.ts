// Scale bench, client side (a child process of bench/scale/run.ts): hosts `--sessions` Pipecat-like
// node-datachannel clients (testkit/pipecat-like-client.ts: audio + `chat`, pings every 1 s) against the
// server at `--url`, each speaking and listening like a user talking to the echo bot:
//   speaking: a repeating pattern of 1 s of a 440 Hz tone then 1.5 s of Opus silence, 20 ms Opus RTP packets
//   paced by the clock (pre-encoded once per process, so the client's own CPU stays small);
//   listening: the server's RTP is decoded (the product's AudioReceiver, pushed per packet and polled every
//   10 ms so a DTX pause plays out as silence in real time, as a browser's jitter buffer does); a frame
//   louder than RMS 1000 after at least 200 ms of quiet is an echo onset, and its echo delay is its arrival
//   minus the send time of the latest tone onset (resolution: one 20 ms frame). Gaps between the server's
//   RTP packets are recorded too, except a pause ended by a marker packet (the server's Opus DTX).
// IPC: child -> parent `{ connected: n }` per session, `{ ready: true }`, `{ result }` after `{ stop }`,
// `{ error }`; parent -> child `{ start }` (reset the samples), `{ stop }`, `{ close }`.
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';

import nodeDataChannel from 'node-datachannel';

import { rms } from '../../testkit/audio.js';
import { opusTone } from '../../testkit/audio.js';
import { AudioReceiver } from '../../src/media/audio-receiver.js';
import { PipecatLikeClient } from '../../testkit/pipecat-like-client.js';
import { OPUS_SILENCE, OPUS_TICKS_PER_20MS } from '../../testkit/rtp.js';

function arg(name: string): string {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? process.argv[i + 1] : undefined;
  if (v === undefined) throw new RangeError(`--${name} is required`);
  return v;
}
const URL_BASE = arg('url');
const SESSIONS = Number(arg('sessions'));
if (!Number.isInteger(SESSIONS) || SESSIONS < 1)
  throw new RangeError('--sessions must be a positive integer');

const TONE_PACKETS = 50; // 1 s
const QUIET_PACKETS = 75; // 1.5 s
const PATTERN: Uint8Array[] = [
  ...opusTone({ packets: TONE_PACKETS, fec: true }),
  ...Array.from({ length: QUIET_PACKETS }, () => OPUS_SILENCE),
];
const LOUD_RMS = 1000;
const QUIET_FRAMES_BEFORE_ONSET = 10;

interface Session {
  client: PipecatLikeClient;
  /** The server's audio, pushed per packet and polled by the clock (DTX gaps play out as silence in time). */
  receiver: AudioReceiver;
  closed: boolean;
  startAt: number;
  sent: number;
  /** Send times (performance.now()) of the tone onsets, latest last (bounded). */
  onsets: number[];
  quietRun: number;
  lastRtpAt: number;
}

const send = (m: unknown): void => void process.send?.(m);
const sessions: Session[] = [];
let measuring = false;
let delays: number[] = [];
let gaps: number[] = [];
let onsetsSent = 0;
let onsetsHeard = 0;
let unmatched = 0;

function newSession(client: PipecatLikeClient): Session {
  const s: Session = {
    client,
    receiver: new AudioReceiver({ sampleRate: 48000, channels: 1 }),
    closed: false,
    startAt: performance.now(),
    sent: 0,
    onsets: [],
    quietRun: 0,
    lastRtpAt: 0,
  };
  client.onRtp('audio', (buf) => {
    // Packets in flight keep arriving after close; a closed receiver would throw in node-datachannel's callback.
    if (s.closed) return;
    const now = performance.now();
    // A packet with the marker bit starts a talkspurt after a pause the server sent nothing for (Opus DTX):
    // that pause is silence, not a packet gap.
    const marker = (buf[1]! & 0x80) !== 0;
    if (measuring && s.lastRtpAt > 0 && !marker) gaps.push(now - s.lastRtpAt);
    s.lastRtpAt = now;
    for (const f of s.receiver.push(buf, now)) heard(s, f.audio, now);
  });
  return s;
}

/** One 20 ms frame played out: an echo onset is a loud frame after at least 200 ms of quiet. */
function heard(s: Session, pcm: Int16Array, at: number): void {
  const loud = rms(pcm) > LOUD_RMS;
  if (loud && s.quietRun >= QUIET_FRAMES_BEFORE_ONSET) {
    let sentAt: number | undefined;
    for (let i = s.onsets.length - 1; i >= 0; i--) {
      const t = s.onsets[i] ?? Infinity;
      if (t <= at) {
        sentAt = t;
        break;
      }
    }
    if (measuring) {
      onsetsHeard++;
      if (sentAt === undefined) unmatched++;
      else delays.push(at - sentAt);
    }
  }
  s.quietRun = loud ? 0 : s.quietRun + 1;
}

/** One timer for all sessions: sends every packet that is due by the clock (catching up after a stall). */
function tick(): void {
  const now = performance.now();
  for (const s of sessions) {
    if (!s.closed) for (const f of s.receiver.poll(now)) heard(s, f.audio, now);
    const due = Math.floor((now - s.startAt) / 20) + 1;
    while (s.sent < due) {
      const k = s.sent;
      const i = k % PATTERN.length;
      if (i === 0) {
        s.onsets.push(performance.now());
        if (s.onsets.length > 8) s.onsets.shift();
        if (measuring) onsetsSent++;
      }
      s.client.sendRtp('audio', {
        seq: k & 0xffff,
        timestamp: (k * OPUS_TICKS_PER_20MS) >>> 0,
        payload: PATTERN[i] ?? OPUS_SILENCE,
      });
      s.sent++;
    }
  }
}

try {
  for (let i = 0; i < SESSIONS; i++) {
    const client = await PipecatLikeClient.create({ baseUrl: URL_BASE, video: false, screen: false });
    const r = await client.connect();
    if (r.status !== 200) throw new Error(`offer failed: ${r.status} ${JSON.stringify(r.json)}`);
    await client.waitConnected(30_000);
    sessions.push(newSession(client));
    send({ connected: i + 1 });
  }
} catch (err) {
  send({ error: err instanceof Error ? err.message : String(err) });
}
const timer = setInterval(tick, 10);
send({ ready: true });

// The client's own event loop: a late client inflates the echo delay it measures, so it is reported beside it.
const loop = monitorEventLoopDelay({ resolution: 10 });

process.on('message', (m: unknown) => {
  const msg = m as { start?: boolean; stop?: boolean; close?: boolean };
  if (msg.start) {
    delays = [];
    gaps = [];
    onsetsSent = onsetsHeard = unmatched = 0;
    loop.reset();
    loop.enable();
    measuring = true;
  }
  if (msg.stop) {
    measuring = false;
    loop.disable();
    // Lateness of a 10 ms timer (the histogram records whole intervals), ms.
    const loopP99Ms = Math.max(0, loop.percentile(99) / 1e6 - 10);
    // The bot's own view, from its latest 1 s stats server-message: audio queued for sending, ms.
    const backlogMs = sessions.flatMap((x) => {
      const stats = x.client.messages.findLast(
        (msg) =>
          msg['type'] === 'server-message' &&
          (msg['data'] as { type?: unknown } | undefined)?.type === 'stats',
      );
      const queued = (stats?.['data'] as { outputQueuedMs?: unknown } | undefined)?.outputQueuedMs;
      return typeof queued === 'number' ? [queued] : [];
    });
    send({
      result: {
        sessions: sessions.length,
        delays,
        gaps,
        onsetsSent,
        onsetsHeard,
        unmatched,
        loopP99Ms,
        backlogMs,
      },
    });
  }
  if (msg.close) {
    clearInterval(timer);
    for (const s of sessions) {
      s.closed = true;
      s.receiver.close();
      s.client.close();
    }
    // Give the closes a moment to reach the server (DTLS close_notify) before the threads go.
    setTimeout(() => {
      nodeDataChannel.cleanup();
      process.exit(0);
    }, 300);
  }
});
