/**
 * Property tests of the native parsers at their TypeScript boundary (the public `parseRtp`, `parseRtcp`,
 * `Vp8Depacketizer`, `AudioReceiver`, `VideoSenderFeedback`): any bytes a peer can send give a result or a
 * coded error, never a crash or an uncoded throw, and the results stay inside the packet. The C++ cores
 * behind them have libFuzzer targets (native/fuzz, `npm run fuzz`); this checks the N-API layer on top.
 */
import * as fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { AudioReceiver } from '../../src/media/audio-receiver.js';
import { buildRtp, parseRtcp, parseRtp } from '../../src/media/rtp.js';
import { VideoSenderFeedback } from '../../src/media/video-sender-feedback.js';
import { Vp8Depacketizer } from '../../src/media/vp8-depacketizer.js';
import { codedOrValue, fuzzParams, fuzzTimeout } from './fuzz-params.js';

/** RTP-looking packets (version 2, the peer's header bits and payload) and raw bytes. */
const rtpArb = fc.oneof(
  fc
    .record({
      pt: fc.integer({ min: 0, max: 127 }),
      seq: fc.integer({ min: 0, max: 0xffff }),
      ts: fc.integer({ min: 0, max: 0xffffffff }),
      ssrc: fc.constantFrom(1, 2, 0xdeadbeef),
      marker: fc.boolean(),
      payload: fc.uint8Array({ maxLength: 300 }),
    })
    .map((r) =>
      buildRtp({
        payloadType: r.pt,
        sequenceNumber: r.seq,
        timestamp: r.ts,
        ssrc: r.ssrc,
        marker: r.marker,
        payload: r.payload,
      }),
    ),
  fc.uint8Array({ maxLength: 300 }),
  fc.uint8Array({ minLength: 12, maxLength: 300 }).map((b) => {
    b[0] = 0x80 | (b[0]! & 0x3f); // version 2, any P/X/CC bits
    return b;
  }),
);

describe('native parsers at the TypeScript boundary (property)', () => {
  it(
    'parseRtp / parseRtcp: any bytes parse inside the packet or throw ERR_RTP_MALFORMED / ERR_RTCP_MALFORMED',
    () => {
      fc.assert(
        fc.property(rtpArb, (bytes) => {
          const p = codedOrValue(() => parseRtp(bytes), ['ERR_RTP_MALFORMED']);
          if (p) {
            expect(p.headerSize + p.payload.length + p.paddingSize).toBe(bytes.length);
            expect(p.payload.buffer).toBe(bytes.buffer);
            for (const e of p.extensions)
              expect(e.data.byteOffset + e.data.length).toBeLessThanOrEqual(bytes.byteOffset + bytes.length);
          }
          const r = codedOrValue(() => parseRtcp(bytes), ['ERR_RTCP_MALFORMED']);
          if (r) expect(Array.isArray(r)).toBe(true);
        }),
        fuzzParams(),
      );
    },
    fuzzTimeout(),
  );

  it(
    'Vp8Depacketizer: any packet sequence is taken or refused with ERR_VP8_MALFORMED; frames are bounded',
    () => {
      fc.assert(
        fc.property(
          fc.array(fc.tuple(rtpArb, fc.integer({ min: -50, max: 200 }), fc.nat(7)), { maxLength: 40 }),
          (steps) => {
            const d = new Vp8Depacketizer({ payloadType: 96, maxFrameBytes: 16 * 1024 });
            try {
              let now = 0;
              for (const [packet, dt, flags] of steps) {
                now += dt;
                codedOrValue(() => d.push(packet, now), ['ERR_VP8_MALFORMED']);
                if (flags & 1) d.poll(now);
                if (flags & 2) {
                  const fb = d.feedback(now, 1);
                  if (fb) parseRtcp(fb); // our own feedback must be valid RTCP
                }
                if (flags & 4) d.requestKeyframe();
                for (let f = d.pop(); f; f = d.pop()) {
                  expect(f.data.length).toBeGreaterThan(0);
                  expect(f.data.length).toBeLessThanOrEqual(16 * 1024);
                }
              }
            } finally {
              d.close();
            }
          },
        ),
        fuzzParams(3),
      );
    },
    fuzzTimeout(),
  );

  it(
    'AudioReceiver: any packet sequence never throws; frames are whole and of the configured size',
    () => {
      fc.assert(
        fc.property(
          fc.constantFrom(8000, 16000, 24000, 48000),
          fc.array(fc.tuple(rtpArb, fc.integer({ min: -100, max: 100 })), { maxLength: 30 }),
          (rate, steps) => {
            const rx = new AudioReceiver({ sampleRate: rate, channels: 1 });
            try {
              let now = 1000;
              for (const [packet, dt] of steps) {
                now += dt;
                for (const f of [...rx.push(packet, now), ...rx.poll(now)]) {
                  expect(f.audio.length).toBe((rate / 1000) * 20);
                }
              }
            } finally {
              rx.close();
            }
          },
        ),
        fuzzParams(3),
      );
    },
    fuzzTimeout(),
  );

  it(
    'VideoSenderFeedback: any RTCP is read or refused with ERR_RTCP_MALFORMED; keyframes only on request',
    () => {
      fc.assert(
        fc.property(fc.array(fc.uint8Array({ maxLength: 120 }), { maxLength: 20 }), (packets) => {
          const fb = new VideoSenderFeedback({ ssrc: 0x01020304, minKeyframeIntervalMs: 100 });
          let now = 0;
          for (const p of packets) {
            codedOrValue(() => fb.onRtcp(p), ['ERR_RTCP_MALFORMED']);
            now += 10;
            fb.takeKeyframeRequest(now);
            // A keyframe is granted only for a PLI or FIR the peer sent (what came before a malformed part
            // of a compound packet counts too).
            const st = fb.stats();
            expect(st.keyframesGranted).toBeLessThanOrEqual(st.plis + st.firs);
          }
        }),
        fuzzParams(),
      );
    },
    fuzzTimeout(),
  );
});
