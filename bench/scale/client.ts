// Scale bench, client side (a child process of bench/scale/run.ts): hosts `--sessions` Pipecat-like
// node-datachannel clients (testkit/pipecat-like-client.ts: audio + `chat`, pings every 1 s) against the
// server at `--url`, each speaking and listening like a user talking to the bot (`--bot`):
//   speaking: a repeating pattern of 1 s of a 440 Hz tone then 1.5 s of Opus silence (echo bot), or one
//   spoken sentence (espeak-ng, about 1.3 s) then 3 s of Opus silence (voice agent: room for its answer), 20 ms
//   Opus RTP packets paced by the clock (pre-encoded once per process, so the client's own CPU stays small);
//   listening: the server's RTP is decoded (the product's AudioReceiver, pushed per packet and polled every
//   10 ms so a DTX pause plays out as silence in real time, as a browser's jitter buffer does); a frame
//   louder than RMS 1000 after at least 200 ms of quiet (voice agent: 800 ms) is an onset. The delay it reports:
//     echo bot: the echo delay, the onset's arrival minus the send time of the latest tone onset;
//     voice agent: the response time, the first onset after the user's sentence ended minus the send time of
//       its last packet (so it includes the VAD's 0.8 s stop time, STT, LLM, TTS and both transports); a
//       turn the bot has not answered when the user speaks again counts as unanswered.
//   Resolution: one 20 ms frame. Gaps between the server's RTP packets are recorded too, except a pause ended
//   by a marker packet (the server's Opus DTX).
// `--silent dtx|none|full`: connected but silent users instead (idle-session cost): `dtx` sends what a
// muted browser microphone sends when the answer asks for Opus DTX (ours does, `usedtx=1`): one Opus silence
// packet every 400 ms; `none` sends no RTP at all; `full` an Opus silence packet every 20 ms (a client
// without DTX). They still receive and decode the bot's audio.
// IPC: child -> parent `{ connected: n }` per session, `{ ready: true }`, `{ result }` after `{ stop }`,
// `{ error }`; parent -> child `{ start }` (reset the samples), `{ stop }`, `{ close }`.
import { spawnSync } from 'node:child_process';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';

import nodeDataChannel from 'node-datachannel';

import { concat, opusTone, rms } from '../../testkit/audio.js';
import { AudioReceiver } from '../../src/media/audio-receiver.js';
import { OpusEncoder } from '../../src/media/opus.js';
import { Resampler } from '../../src/media/resampler.js';
import { WavStreamParser } from '../../examples/voice-agent.js';
import { PipecatLikeClient } from '../../testkit/pipecat-like-client.js';
import { OPUS_SILENCE, OPUS_TICKS_PER_20MS } from '../../testkit/rtp.js';

function arg(name: string, def?: string): string {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? process.argv[i + 1] : def;
  if (v === undefined) throw new RangeError(`--${name} is required`);
  return v;
}
const URL_BASE = arg('url');
const SESSIONS = Number(arg('sessions'));
if (!Number.isInteger(SESSIONS) || SESSIONS < 1)
  throw new RangeError('--sessions must be a positive integer');

const BOT = arg('bot', 'echo');
const SILENT = arg('silent', '');
if (BOT !== 'echo' && BOT !== 'voice-agent') throw new RangeError('--bot is echo or voice-agent');
if (!['', 'dtx', 'none', 'full'].includes(SILENT)) throw new RangeError('--silent is dtx, none or full');
/**
 * The voice agent's user says one short sentence (espeak-ng, resampled to 48 kHz, trailing quiet trimmed so
 * the last packet is the end of the last word), pre-encoded once: Silero needs speech, not a tone, to see a turn.
 */
function speechPackets(text: string): Uint8Array[] {
  const r = spawnSync('espeak-ng', ['--stdout', '-v', 'en-us', '-s', '170', '--', text], {
    maxBuffer: 1 << 24,
  });
  if (r.status !== 0 || !r.stdout) throw new Error('espeak-ng is needed for --bot voice-agent');
  const wav = new WavStreamParser();
  const pcm = wav.push(r.stdout);
  if (pcm === null || wav.format === null) throw new Error('espeak-ng wrote no WAV');
  const rs = new Resampler({
    inRate: wav.format.sampleRate,
    outRate: 48000,
    inChannels: wav.format.channels === 2 ? 2 : 1,
    outChannels: 1,
    frameSamples: 960,
  });
  let out = concat([...rs.process(pcm), ...rs.flush()]);
  rs.close();
  let first = 0;
  let last = out.length - 1;
  while (first < last && Math.abs(out[first]!) < 300) first++;
  while (last > first && Math.abs(out[last]!) < 300) last--;
  out = out.subarray(first, last + 1);
  const enc = new OpusEncoder({
    sampleRate: 48000,
    frameMs: 20,
    fec: true,
    packetLossPercent: 20,
    bitrate: 32000,
  });
  const packets: Uint8Array[] = [];
  for (let i = 0; i < out.length; i += 960) {
    const frame = new Int16Array(960);
    frame.set(out.subarray(i, i + 960));
    packets.push(enc.encode(frame));
  }
  enc.close();
  return packets;
}
const SPEECH = BOT === 'voice-agent' && SILENT === '' ? speechPackets('Hello, what time is it now?') : [];
/** The user's talk: a 1 s tone (echo bot) or the sentence (voice agent), then quiet. */
const TONE_PACKETS = BOT === 'echo' ? 50 : SPEECH.length;
const QUIET_PACKETS = BOT === 'echo' ? 75 : 150; // 1.5 s / 3 s
/** Silent users: one packet per this many 20 ms (0: none). */
const SILENT_EVERY = SILENT === 'dtx' ? 20 : SILENT === 'full' ? 1 : 0;
const PATTERN: Uint8Array[] = [
  ...(BOT === 'echo' ? opusTone({ packets: TONE_PACKETS, fec: true }) : SPEECH),
  ...Array.from({ length: QUIET_PACKETS }, () => OPUS_SILENCE),
];
const LOUD_RMS = 1000;
const QUIET_FRAMES_BEFORE_ONSET = 10;
// The voice agent answers at least the VAD's stop time (0.8 s) after the user's last word, and stops talking
// when the user barges in: its answer follows >= 800 ms of its own quiet. Its pauses between words and
// sentences are shorter (up to about 500 ms), so an answer still playing from an earlier turn is not taken
// for the new one.
const QUIET_FRAMES_BEFORE_ANSWER = 40;

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
  /** Voice agent: send time of the last packet of the latest tone, while its answer has not been heard. */
  turnEndAt: number | null;
}

// Every offer on a new TCP connection, as from independent browsers: with fetch's keep-alive pool, all the
// sessions of one client process would reach the same cluster worker (node:cluster hands out connections, not
// requests, round-robin). The trickle PATCHes stay on the pool (a worker that does not own the session
// forwards them to its owner).
const keepAliveFetch = globalThis.fetch;
globalThis.fetch = (input, init) =>
  keepAliveFetch(
    input,
    init?.method !== 'POST'
      ? init
      : {
          ...init,
          headers: { ...(init.headers as Record<string, string> | undefined), connection: 'close' },
        },
  );

const send = (m: unknown): void => void process.send?.(m);
const sessions: Session[] = [];
let measuring = false;
let delays: number[] = [];
let gaps: number[] = [];
let onsetsSent = 0;
let onsetsHeard = 0;
let unmatched = 0;
let unanswered = 0;

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
    turnEndAt: null,
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
  if (loud && s.quietRun >= QUIET_FRAMES_BEFORE_ANSWER && BOT === 'voice-agent') {
    if (s.turnEndAt !== null && at > s.turnEndAt) {
      if (measuring) {
        onsetsHeard++;
        delays.push(at - s.turnEndAt);
      }
      s.turnEndAt = null;
    }
  } else if (loud && s.quietRun >= QUIET_FRAMES_BEFORE_ONSET && BOT === 'echo') {
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
    if (SILENT !== '') {
      // 20 ms slots; a packet every SILENT_EVERY slots, its sequence number counting packets sent.
      while (s.sent * SILENT_EVERY < due && SILENT_EVERY > 0) {
        s.client.sendRtp('audio', {
          seq: s.sent & 0xffff,
          timestamp: (s.sent * SILENT_EVERY * OPUS_TICKS_PER_20MS) >>> 0,
          payload: OPUS_SILENCE,
        });
        s.sent++;
      }
      continue;
    }
    while (s.sent < due) {
      const k = s.sent;
      const i = k % PATTERN.length;
      if (i === 0) {
        s.onsets.push(performance.now());
        if (s.onsets.length > 8) s.onsets.shift();
        if (measuring) onsetsSent++;
        if (BOT === 'voice-agent' && s.turnEndAt !== null) {
          if (measuring) unanswered++;
          s.turnEndAt = null;
        }
      }
      s.client.sendRtp('audio', {
        seq: k & 0xffff,
        timestamp: (k * OPUS_TICKS_PER_20MS) >>> 0,
        payload: PATTERN[i] ?? OPUS_SILENCE,
      });
      // The tone's last packet: the user has stopped speaking once it is sent.
      if (i === TONE_PACKETS - 1 && BOT === 'voice-agent') s.turnEndAt = performance.now();
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

// The bench went away (killed): do not outlive it.
process.on('disconnect', () => process.exit(0));
process.on('message', (m: unknown) => {
  const msg = m as { start?: boolean; stop?: boolean; close?: boolean };
  if (msg.start) {
    delays = [];
    gaps = [];
    onsetsSent = onsetsHeard = unmatched = unanswered = 0;
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
        unanswered,
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
