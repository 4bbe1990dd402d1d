/**
 * SmallWebRTCTransport with a SileroVADAnalyzer: the model is loaded before audio flows (at the StartFrame),
 * so the first microphone frames reach the pipeline paced in real time. Loaded lazily on the first frame,
 * the ~0.3-0.5 s model load held the frames back and released them in one burst, which a live bot (the echo
 * demo) kept as added latency for the whole session. Real ICE/DTLS/SRTP with an in-process node peer.
 */
import nodeDataChannel from 'node-datachannel';
import { performance } from 'node:perf_hooks';
import { afterAll, describe, expect, it } from 'vitest';

import {
  FrameDirection,
  FrameProcessor,
  InputAudioRawFrame,
  Pipeline,
  PipelineTask,
  SileroVADAnalyzer,
  SmallWebRTCConnection,
  SmallWebRTCTransport,
  StartFrame,
  TransportParams,
  type Frame,
} from '../../src/index.js';
import { sileroSessionCount } from '../../src/vad/silero-vad-analyzer.js';
import { PipecatLikeClient } from '../../testkit/pipecat-like-client.js';
import { until } from '../../testkit/wait.js';

afterAll(() => {
  nodeDataChannel.cleanup();
});

/** Arrival times (performance.now(), ms) of the input audio frames; Silero sessions loaded at the StartFrame. */
class ArrivalTap extends FrameProcessor {
  readonly arrivals: number[] = [];
  sessionsAtStart: number | null = null;
  override async processFrame(frame: Frame, direction: FrameDirection): Promise<void> {
    if (frame instanceof StartFrame) this.sessionsAtStart = sileroSessionCount();
    if (frame instanceof InputAudioRawFrame) this.arrivals.push(performance.now());
    await this.pushFrame(frame, direction);
  }
}

describe('SmallWebRTCTransport with the Silero VAD', () => {
  it('loads the model before audio flows: the first frames arrive paced, not in a burst', async () => {
    const off = await PipecatLikeClient.create({ trickle: false });
    const conn = new SmallWebRTCConnection({ bindAddress: '127.0.0.1' });
    await off.negotiate(conn);
    const vad = new SileroVADAnalyzer();
    const transport = new SmallWebRTCTransport({
      webrtcConnection: conn,
      params: new TransportParams({ audioInEnabled: true, audioOutEnabled: false, vadAnalyzer: vad }),
    });
    const tap = new ArrivalTap();
    const task = new PipelineTask(new Pipeline([transport.input(), tap]));
    const running = task.run();
    try {
      await off.waitConnected();
      await until(() => tap.sessionsAtStart !== null, 10_000, 'StartFrame');
      // The input transport loaded the model before passing the StartFrame on (no audio has been sent yet).
      expect(sileroSessionCount()).toBe(1);
      expect(tap.sessionsAtStart).toBe(1);
      // 1.5 s of a 300 Hz tone, sent paced as 20 ms packets from the moment the peer is connected.
      const pcm = new Int16Array(72_000);
      for (let i = 0; i < pcm.length; i++)
        pcm[i] = Math.round(6000 * Math.sin((2 * Math.PI * 300 * i) / 48000));
      await off.sendSpeech(pcm);
      await until(() => tap.arrivals.length >= 40, 10_000, '40 input frames');
      // Largest number of frames that reached the pipeline within any 40 ms (two frame periods).
      let burst = 0;
      for (let i = 0, j = 0; i < tap.arrivals.length; i++) {
        while (tap.arrivals[i]! - tap.arrivals[j]! > 40) j++;
        burst = Math.max(burst, i - j + 1);
      }
      const first10 = tap.arrivals[9]! - tap.arrivals[0]!;
      console.log(
        `[vad-preload] largest burst ${burst} frames / 40 ms; first 10 frames over ${first10.toFixed(0)} ms`,
      );
      // Paced: 10 frames span ~180 ms. The largest burst is logged, not asserted (a jitter-buffer catch-up on a
      // loaded machine also releases a few at once): measured 3-5 with the preload, 7 with a lazy load here,
      // 23 with Chromium busy on the same 2 cores (the load then took ~0.5 s).
      expect(first10).toBeGreaterThan(100);
    } finally {
      await task.cancel();
      off.close();
      await running;
      await vad.close();
    }
  }, 60_000);
});
