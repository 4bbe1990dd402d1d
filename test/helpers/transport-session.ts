/**
 * Shared pieces of the transport tests: a frame recorder and test tones (the peer's paced Opus sending and
 * decoding of what the bot sends back are PipecatLikeClient.sendSpeech/listenToAudio).
 */
import { FrameDirection, FrameProcessor, InputAudioRawFrame, type Frame } from '../../src/index.js';
import { concat, rms, zeroCrossingFrequency } from '../../testkit/audio.js';

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
