/**
 * Shared pieces of the transport tests: a frame recorder, test tones, paced Opus sending from a node peer,
 * and decoding of what the bot sends back.
 */
import { performance } from 'node:perf_hooks';

import {
  AudioReceiver,
  AudioSender,
  FrameDirection,
  FrameProcessor,
  InputAudioRawFrame,
  type Frame,
} from '../../src/index.js';
import { concat, rms, zeroCrossingFrequency } from '../native/audio-test-helpers.js';
import type { PipecatLikeClient } from '../../testkit/pipecat-like-client.js';

export { concat, rms };

/** Records every frame that passes, in both directions; input audio stops here (only what tests push goes on). */
export class Tap extends FrameProcessor {
  readonly down: Frame[] = [];
  readonly up: Frame[] = [];
  override async processFrame(frame: Frame, direction: FrameDirection): Promise<void> {
    (direction === FrameDirection.DOWNSTREAM ? this.down : this.up).push(frame);
    if (frame instanceof InputAudioRawFrame) return;
    await this.pushFrame(frame, direction);
  }
}

/** A mono sine of `ms` milliseconds at `rate` Hz. */
export function tone(freq: number, rate: number, ms: number, amplitude = 8000): Int16Array {
  const n = Math.round((rate * ms) / 1000);
  const out = new Int16Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.round(amplitude * Math.sin((2 * Math.PI * freq * i) / rate));
  return out;
}

/** Frequency of a clean tone from its zero crossings, Hz. */
export function dominantFrequency(pcm: Int16Array, rate: number): number {
  return zeroCrossingFrequency(pcm, rate);
}

/** Sends `pcm` (48 kHz mono) from the offerer as paced Opus RTP, one 20 ms packet per 20 ms. */
export async function sendSpeech(off: PipecatLikeClient, pcm: Int16Array): Promise<void> {
  const sender = new AudioSender({
    sampleRate: 48000,
    channels: 1,
    ssrc: off.ssrcs.audio,
    payloadType: 111,
    autoSilence: false,
    capacityMs: 10_000,
  });
  sender.write(pcm);
  const start = performance.now();
  while (sender.queuedMs > 0) {
    for (const p of sender.pull(performance.now())) off.tracks.audio.sendMessageBinary(Buffer.from(p));
    await new Promise((r) => setTimeout(r, 5));
    if (performance.now() - start > 20_000) break;
  }
  sender.close();
}

/** What the offerer hears from the bot: decoded 20 ms frames (48 kHz mono) with their arrival times. */
export interface BotListener {
  readonly frames: Array<{ at: number; pcm: Int16Array }>;
  /** Frames louder than speech-level RMS 1000 so far. */
  loud(): number;
  close(): void;
}

/** Decodes the RTP the offerer receives from the bot. */
export function listenToBot(off: PipecatLikeClient): BotListener {
  const receiver = new AudioReceiver({ sampleRate: 48000, channels: 1 });
  const frames: Array<{ at: number; pcm: Int16Array }> = [];
  let closed = false;
  off.onRtp('audio', (buf) => {
    // Bot RTP already in flight keeps arriving after close(); a closed receiver would throw inside
    // node-datachannel's callback, which aborts the process.
    if (closed) return;
    const now = performance.now();
    for (const f of receiver.push(buf, now)) frames.push({ at: now, pcm: f.audio });
  });
  return {
    frames,
    loud: () => frames.filter((f) => rms(f.pcm) > 1000).length,
    close: () => {
      closed = true;
      receiver.close();
    },
  };
}
