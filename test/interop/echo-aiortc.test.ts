// End to end: aiortc (Debian python3-aiortc) as a Pipecat client of the REAL echo bot (examples/echo-bot.ts
// `runEchoBot`) through our HTTP server. The client does the RTVI handshake, sends espeak-ng speech from a
// WAV as Opus, and records the bot's audio on the WAV's timeline (testkit/aiortc_echo_client.py); the
// test cross-correlates the two energy envelopes: the echo must be the input speech, one round trip later.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import nodeDataChannel from 'node-datachannel';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { runEchoBot } from '../../examples/echo-bot.js';
import {
  FrameDirection,
  FrameProcessor,
  InputAudioRawFrame,
  type Frame,
  type SmallWebRTCTransport,
} from '../../src/index.js';
import { startSmallWebRTCServer, type SmallWebRTCServer } from '../../src/server/index.js';
import { compareSpeech, makeSpeechWav, readWav, type SpeechWav } from '../helpers/speech.js';
import { PYTHON, aiortcAvailable, type AiortcEvent } from '../../testkit/aiortc-process.js';
import { until } from '../../testkit/wait.js';

const SCRIPT = fileURLToPath(new URL('../../testkit/aiortc_echo_client.py', import.meta.url));

/** Counts the 20 ms input frames the bot's pipeline carries. */
class FrameCounter extends FrameProcessor {
  frames = 0;
  override async processFrame(frame: Frame, direction: FrameDirection): Promise<void> {
    if (frame instanceof InputAudioRawFrame && direction === FrameDirection.DOWNSTREAM) this.frames++;
    await this.pushFrame(frame, direction);
  }
}

/** Runs the python client to completion; resolves with its exit code, JSON events and stderr. */
function runClient(
  args: string[],
  timeoutMs: number,
): Promise<{ code: number | null; events: AiortcEvent[]; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(PYTHON, [SCRIPT, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    const events: AiortcEvent[] = [];
    let out = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      let nl: number;
      while ((nl = out.indexOf('\n')) >= 0) {
        const line = out.slice(0, nl);
        out = out.slice(nl + 1);
        try {
          events.push(JSON.parse(line) as AiortcEvent);
        } catch {
          stderr += `[stdout] ${line}\n`;
        }
      }
    });
    child.stderr.on('data', (chunk: Buffer) => {
      if (stderr.length < 20_000) stderr += chunk.toString();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, events, stderr });
    });
  });
}

describe.skipIf(!aiortcAvailable())('aiortc client <-> the real echo bot', () => {
  let server: SmallWebRTCServer;
  let wav: SpeechWav;
  let dir: string;
  type BotSession = {
    transport: SmallWebRTCTransport | null;
    lastStats: ReturnType<SmallWebRTCTransport['getStats']> | null;
    counter: FrameCounter;
    events: string[];
    done: Promise<void>;
  };
  const bots: BotSession[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'echo-aiortc-'));
    // Lead silence lets the bot's input settle; trailing silence (> the VAD's 0.8 s stopSecs) ends the turn.
    wav = makeSpeechWav({
      text: 'Hello bot. Please repeat what I say. One, two, three, four.',
      rate: 48000,
      padSilenceSecs: [0.5, 1.5],
      dir,
    });
    server = await startSmallWebRTCServer({
      port: 0,
      connectionOptions: { bindAddress: '127.0.0.1' },
      onNewConnection: (connection) => {
        const counter = new FrameCounter();
        const bot: BotSession = {
          transport: null,
          lastStats: null,
          counter,
          events: [],
          done: Promise.resolve(),
        };
        bot.done = runEchoBot(connection, {
          taps: [counter],
          // The comparison below matches the echo to the WAV at one lag, so the echo must keep the speech's
          // pauses whole: with the default (20 ms), aiortc's bursty sending has the echo shorten each pause by
          // a frame or two to stay at one round trip, which shifts the rest of the utterance (r 0.72, 2026-12-07).
          maxBacklogMs: 1000,
          onTransport: (transport) => {
            bot.transport = transport;
            // The last stats while connected (getStats() is empty once the session closed), every 500 ms.
            const timer = setInterval(() => {
              const st = transport.getStats();
              if (st.input) bot.lastStats = st;
            }, 500);
            timer.unref();
            transport.eventHandler('on_client_closed', () => clearInterval(timer));
            for (const name of [
              'on_client_connected',
              'on_client_disconnected',
              'on_client_closed',
            ] as const) {
              transport.eventHandler(name, () => void bot.events.push(name));
            }
          },
        }).catch((err: unknown) => void bot.events.push(`bot failed: ${String(err)}`));
        bots.push(bot);
      },
    });
  }, 60_000);

  afterAll(async () => {
    await server?.close();
    await Promise.all(bots.map((b) => b.done));
    wav?.cleanup();
    if (dir) rmSync(dir, { recursive: true, force: true });
    nodeDataChannel.cleanup();
  });

  it('echoes the speech back: cross-correlation finds it one round trip later', async () => {
    const outPath = join(dir, 'echo.wav');
    const { code, events, stderr } = await runClient(
      ['--url', server.url, '--wav', wav.path, '--out', outPath, '--tail', '2'],
      60_000,
    );
    const names = events.map((e) => e.event);
    if (code !== 0)
      console.error(`[echo-aiortc] client exit ${code}; events ${JSON.stringify(events)}\n${stderr}`);
    expect(code).toBe(0);
    expect(names).toContain('bot-ready');
    expect(events.find((e) => e.event === 'bot-ready')?.data).toMatchObject({ version: '2.1.0' });
    const rtvi = events.filter((e) => e.event === 'rtvi').map((e) => e.type);
    expect(rtvi).toContain('user-started-speaking');
    expect(rtvi).toContain('user-stopped-speaking');

    const echo = readWav(outPath);
    const recorded = events.find((e) => e.event === 'recorded');
    const first = events.find((e) => e.event === 'first-echo-frame');
    // The output file's sample 0 is the instant the WAV's first sample was sent, so the lag is the round trip.
    const cmp = compareSpeech(wav, echo, { minLagSecs: 0, maxLagSecs: 2 });
    // Control: the same comparison with the echo reversed in time has no speech structure to match.
    const reversed = { ...echo, samples: echo.samples.slice().reverse() };
    const control = compareSpeech(wav, reversed, { minLagSecs: 0, maxLagSecs: 2 });
    const bot = bots[0]!;
    const stats = bot.lastStats;
    console.log(
      `[echo-aiortc] sent ${wav.durationSecs.toFixed(2)} s, recorded ${JSON.stringify(recorded)}, first echo frame ` +
        `${Number(first?.offset_ms).toFixed(0)} ms after the WAV started\n` +
        `[echo-aiortc] echo vs WAV: r=${cmp.correlation.toFixed(3)} at lag ${(cmp.lagSecs * 1000).toFixed(0)} ms ` +
        `over ${cmp.frames} x 10 ms; time-reversed control r=${control.correlation.toFixed(3)}\n` +
        `[echo-aiortc] bot: ${bot.counter.frames} input frames, rtvi ${JSON.stringify(rtvi)}, events ${bot.events.join(', ')}, ` +
        `input ${JSON.stringify(stats?.input)}, output ${JSON.stringify(stats?.output)}`,
    );
    // The bot's pipeline saw the whole utterance as 20 ms frames (plus the silence around it).
    expect(bot.counter.frames).toBeGreaterThan(wav.durationSecs * 50 * 0.95);
    expect(echo.sampleRate).toBe(48000);
    expect(echo.samples.length / echo.sampleRate).toBeGreaterThan(wav.durationSecs);
    expect(cmp.frames).toBeGreaterThanOrEqual(Math.floor(wav.durationSecs * 100) - 1);
    // Measured (3 runs on the shared 2-core machine): r = 0.980 each time, lag 160-200 ms, control r 0.31-0.33.
    // 0.8 leaves room for a loaded machine (a few concealed packets) while an echo of anything but this
    // speech (silence, noise, the wrong segment, the control) stays far below it.
    expect(cmp.correlation).toBeGreaterThan(0.8);
    expect(control.correlation).toBeLessThan(cmp.correlation - 0.3);
    // Loopback round trip: aiortc's send path, our jitter buffer, the pipeline, our pacer, aiortc's jitter
    // buffer. Tens to a few hundred ms; a second means audio is piling up somewhere.
    expect(cmp.lagSecs).toBeGreaterThan(0);
    expect(cmp.lagSecs).toBeLessThan(0.6);
    // Closing the client ends the session on the server.
    await until(
      () => bot.events.includes('on_client_closed'),
      30_000,
      () => `on_client_closed (events: ${bot.events.join(', ')})`,
      { intervalMs: 100 },
    );
    await bot.done;
    expect(bot.events.filter((e) => e.startsWith('bot failed'))).toEqual([]);
  }, 120_000);
});
