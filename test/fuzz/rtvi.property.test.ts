/**
 * Property test of RTVI message handling (src/rtvi/): whatever messages a client sends on the data channel
 * (right or wrong types, ids, versions, payloads, base64 audio), the RTVIProcessor inside a running
 * pipeline never fails the task, never lets an error escape as anything but an `error-response`, answers
 * only with well-formed, JSON-serializable RTVI messages, and keeps answering afterwards.
 */
import * as fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';

import { setLogger } from '../../src/logger.js';
import {
  ErrorFrame,
  FrameDirection,
  InputAudioRawFrame,
  InputTransportMessageFrame,
  OutputTransportMessageUrgentFrame,
  Pipeline,
  PipelineTask,
} from '../../src/pipeline/index.js';
import { isRTVIMessage, RTVIProcessor } from '../../src/rtvi/index.js';
import { Recorder, until } from '../unit/pipeline-helpers.js';
import { fuzzParams, fuzzTimeout } from './fuzz-params.js';

const quiet = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };

const valueArb = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc.constantFrom(null, -1, 0, 1.5, Number.POSITIVE_INFINITY, '', 'x', true),
);
const versionArb = fc.oneof(
  fc.constantFrom('2.1.0', '1.0.0', '3.0.0', '2.1', 'v2', '99999999999999999999.0.0', ''),
  fc.tuple(fc.nat(), fc.nat(), fc.nat()).map((v) => v.join('.')),
  valueArb,
);
const base64Arb = fc.oneof(
  fc.uint8Array({ maxLength: 640 }).map((b) => Buffer.from(b).toString('base64')),
  fc.string({ maxLength: 60 }),
  valueArb,
);
const dataArb = fc.oneof(
  fc.record(
    {
      version: versionArb,
      about: fc.oneof(fc.dictionary(fc.string({ maxLength: 8 }), valueArb, { maxKeys: 3 }), valueArb),
      t: fc.oneof(fc.string({ maxLength: 20 }), valueArb),
      d: valueArb,
      content: fc.oneof(fc.string({ maxLength: 40 }), valueArb),
      options: fc.oneof(fc.record({ run_immediately: fc.oneof(fc.boolean(), valueArb) }), valueArb),
      base64Audio: base64Arb,
      base64AudioBatch: fc.oneof(fc.array(base64Arb, { maxLength: 3 }), valueArb),
      sampleRate: fc.oneof(fc.constantFrom(16000, 24000, 48000, 8000, 0, -1, 1e9, 16000.5), valueArb),
      numChannels: fc.oneof(fc.constantFrom(1, 2, 0, 9, 1.5), valueArb),
    },
    { requiredKeys: [] },
  ),
  valueArb,
);
// 'disconnect-bot' is left out: it ends the task (tested in test/unit/rtvi.test.ts).
const typeArb = fc.oneof(
  fc.constantFrom(
    'client-ready',
    'client-message',
    'send-text',
    'raw-audio',
    'raw-audio-batch',
    'action',
    'append-to-context',
    'update-config',
    'bot-ready',
  ),
  fc.string({ maxLength: 20 }),
);
const messageArb = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.record(
      {
        label: fc.constant('rtvi-ai'),
        type: typeArb,
        id: fc.oneof(fc.string({ maxLength: 12 }), valueArb),
        data: dataArb,
      },
      { requiredKeys: ['label', 'type'] },
    ),
  },
  {
    weight: 1,
    arbitrary: fc.record(
      { label: valueArb, type: valueArb, id: valueArb, data: valueArb },
      { requiredKeys: [] },
    ),
  },
  { weight: 1, arbitrary: valueArb },
);

describe('RTVI message handling (property)', () => {
  afterAll(() => setLogger(null));

  it(
    'any sequence of client messages: the task keeps running, every reply is a well-formed RTVI message',
    async () => {
      setLogger(quiet);
      await fc.assert(
        fc.asyncProperty(fc.array(messageArb, { minLength: 1, maxLength: 12 }), async (messages) => {
          const rtvi = new RTVIProcessor();
          const after = new Recorder();
          const task = new PipelineTask(new Pipeline([rtvi, after]), { idleTimeoutSecs: null });
          const errors: unknown[] = [];
          task.on('on_pipeline_error', (_t, f) => void errors.push(f));
          const run = task.run();
          try {
            await until(() => after.started);
            for (const m of messages) await task.queueFrame(new InputTransportMessageFrame(m));
            // A sentinel the processor answers with an error-response: once it is out, every message before
            // it was handled (the processor handles them in order).
            await task.queueFrame(
              new InputTransportMessageFrame({ label: 'rtvi-ai', type: 'fuzz-sentinel', id: 'sentinel' }),
            );
            const replies = (): unknown[] =>
              after.of(OutputTransportMessageUrgentFrame).map((f) => f.message);
            await until(
              () => replies().some((r) => (r as { id?: unknown }).id === 'sentinel'),
              10_000,
              'sentinel reply',
            );
            for (const r of replies()) {
              expect(isRTVIMessage(r)).toBe(true);
              expect(() => JSON.stringify(r)).not.toThrow();
              const reply = r as { type: string; id?: unknown; data?: { error?: unknown } };
              if (reply.type === 'error-response') expect(typeof reply.data?.error).toBe('string');
            }
            for (const f of after.of(InputAudioRawFrame)) {
              expect(f.sampleRate >= 8000 && f.sampleRate <= 192000).toBe(true);
              expect(f.audio.length % f.numChannels).toBe(0);
            }
            expect(after.of(ErrorFrame)).toEqual([]);
            expect(errors).toEqual([]);
          } finally {
            await task.cancel();
            await run;
          }
        }),
        fuzzParams(5),
      );
    },
    fuzzTimeout(120_000),
  );

  it('a burst of more messages than the processor queues is dropped, not accumulated, and answering resumes', async () => {
    setLogger(quiet);
    const rtvi = new RTVIProcessor();
    const after = new Recorder();
    const task = new PipelineTask(new Pipeline([rtvi, after]), { idleTimeoutSecs: null });
    const run = task.run();
    await until(() => after.started);
    const burst = Array.from({ length: 500 }, (_, i) => ({ label: 'rtvi-ai', type: 'nope', id: String(i) }));
    await Promise.all(
      burst.map((m) => task.queueFrame(new InputTransportMessageFrame(m), FrameDirection.DOWNSTREAM)),
    );
    await task.queueFrame(new InputTransportMessageFrame({ label: 'rtvi-ai', type: 'nope', id: 'last' }));
    const replies = (): Array<{ id?: unknown }> =>
      after.of(OutputTransportMessageUrgentFrame).map((f) => f.message as { id?: unknown });
    await until(() => replies().some((r) => r.id === 'last'), 10_000, 'reply to the last message');
    expect(replies().length).toBeLessThanOrEqual(501);
    await task.cancel();
    await run;
  });
});
