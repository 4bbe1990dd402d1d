/** The echo bot of the server tests: its transport, and a stage that sends every microphone frame back. */
import {
  FrameDirection,
  FrameProcessor,
  InputAudioRawFrame,
  OutputAudioRawFrame,
  SmallWebRTCTransport,
  TransportParams,
  type Frame,
  type SmallWebRTCConnection,
  type TransportParamsInit,
} from '../../src/index.js';

/**
 * The echo bot's transport on `conn`: 16 kHz microphone in, bot audio out, the camera only with `videoIn`;
 * `more` overrides or adds parameters.
 */
export function echoTransport(
  conn: SmallWebRTCConnection,
  videoIn = false,
  more: TransportParamsInit = {},
): SmallWebRTCTransport {
  return new SmallWebRTCTransport({
    webrtcConnection: conn,
    params: new TransportParams({
      audioInEnabled: true,
      audioInSampleRate: 16000,
      audioOutEnabled: true,
      videoInEnabled: videoIn,
      ...more,
    }),
  });
}

/** Sends every microphone frame back out as mono bot audio, and counts them. */
export class Echo extends FrameProcessor {
  /** Microphone frames echoed so far. */
  framesIn = 0;
  override async processFrame(frame: Frame, direction: FrameDirection): Promise<void> {
    if (frame instanceof InputAudioRawFrame) {
      this.framesIn++;
      await this.pushFrame(
        new OutputAudioRawFrame({ audio: frame.audio, sampleRate: frame.sampleRate, numChannels: 1 }),
        FrameDirection.DOWNSTREAM,
      );
      return;
    }
    await this.pushFrame(frame, direction);
  }
}
