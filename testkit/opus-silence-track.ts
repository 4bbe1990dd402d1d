// A minimal OutboundTrack for tests and benchmarks: once bound, it sends pre-encoded 20 ms Opus silence frames
// (TOC 0xF8 = CELT fullband 20 ms mono, one frame; payload 0xFF 0xFE) as real RTP, paced every 20 ms.
// The transport does real encoding later; this only proves our RTP reaches the peer and decodes there.
import type { OutboundTrack, RtpSink } from '../src/connection/index.js';
import { OPUS_SILENCE, OPUS_TICKS_PER_20MS, rtpTo } from './rtp.js';

/** Sends `count` Opus silence packets (20 ms apart) whenever it is bound; counts what was sent. */
export class OpusSilenceTrack implements OutboundTrack {
  readonly kind = 'audio' as const;
  /** Packets handed to the sink (send() returned true). */
  sent = 0;
  /** Packets the sink refused. */
  refused = 0;
  /** Sinks this track was bound to, in order (a restart binds again). */
  readonly bindings: RtpSink[] = [];
  #timer: ReturnType<typeof setInterval> | null = null;
  #seq = Math.floor(Math.random() * 0xffff);
  #ts = Math.floor(Math.random() * 0xffffffff);
  readonly #count: number;

  /** @param count packets per binding (default 100 = 2 s; `Infinity` sends until unbound). */
  constructor(count = 100) {
    this.#count = count;
  }

  bind(sink: RtpSink): void {
    this.unbind();
    this.bindings.push(sink);
    let left = this.#count;
    let first = true; // the marker bit starts a talkspurt
    this.#timer = setInterval(() => {
      if (left-- <= 0) {
        this.unbind();
        return;
      }
      const packet = rtpTo(sink, {
        sequenceNumber: this.#seq++,
        timestamp: this.#ts,
        payload: OPUS_SILENCE,
        marker: first,
      });
      first = false;
      this.#ts = (this.#ts + OPUS_TICKS_PER_20MS) >>> 0;
      if (sink.send(packet)) this.sent++;
      else this.refused++;
    }, 20);
  }

  unbind(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
  }
}
