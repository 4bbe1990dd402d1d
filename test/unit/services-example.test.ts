// The offline services shipped by examples/voice-agent.ts, run for real (espeak-ng, /bin/sh, a local HTTP
// server speaking the chat-completions streaming format).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  CommandSTT,
  EspeakTTS,
  OpenAICompatibleLLM,
  RuleBasedLLM,
  TurnDurationSTT,
  WavStreamParser,
  encodeWav,
  hasEspeak,
  servicesFromEnv,
} from '../../examples/voice-agent.js';

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const v of it) out.push(v);
  return out;
}

function rms(pcm: Int16Array): number {
  let s = 0;
  for (const v of pcm) s += v * v;
  return pcm.length > 0 ? Math.sqrt(s / pcm.length) : 0;
}

describe('voice-agent example services', () => {
  it('EspeakTTS speaks a sentence as 40 ms chunks of 24 kHz audio', { timeout: 20_000 }, async () => {
    expect(hasEspeak()).toBe(true); // a Debian package scripts/install-system-deps.sh installs
    const tts = new EspeakTTS();
    const chunks = await collect(tts.runTts('Hello, this is a test.', new AbortController().signal));
    for (const c of chunks) expect(c.length).toBe(960);
    const secs = (chunks.length * 960) / 24000;
    expect(secs).toBeGreaterThan(0.8);
    expect(secs).toBeLessThan(4);
    const loud = chunks.filter((c) => rms(c) > 500).length;
    expect(loud).toBeGreaterThan(chunks.length / 3);
  });

  it('EspeakTTS stops when aborted', { timeout: 20_000 }, async () => {
    const tts = new EspeakTTS();
    const ac = new AbortController();
    const text = 'This is a long sentence that would take several seconds to speak. '.repeat(5);
    let n = 0;
    for await (const _ of tts.runTts(text, ac.signal)) {
      if (++n === 3) ac.abort();
      if (n > 50) break;
    }
    expect(n).toBe(3); // nothing after the abort, although espeak-ng had produced seconds of audio
  });

  it('EspeakTTS reports a failing espeak-ng', { timeout: 20_000 }, async () => {
    const tts = new EspeakTTS({ voice: 'nosuchvoice' });
    await expect(collect(tts.runTts('Hello.', new AbortController().signal))).rejects.toThrow(/code 1/);
  });

  it('WavStreamParser handles byte-by-byte input and odd splits', () => {
    const pcm = Int16Array.from([1, -2, 300, -32768, 32767]);
    const wav = encodeWav(pcm, 22050);
    const parser = new WavStreamParser();
    const out: number[] = [];
    for (const b of wav) out.push(...(parser.push(Buffer.from([b])) ?? []));
    expect(out).toEqual([...pcm]);
    expect(parser.format).toEqual({ sampleRate: 22050, channels: 1 });
    expect(() => new WavStreamParser().push(Buffer.from('RIFF....WAVX'))).toThrow(/RIFF/);
  });

  it('TurnDurationSTT reports the duration, CommandSTT runs a command on a WAV file', async () => {
    const signal = new AbortController().signal;
    expect(await new TurnDurationSTT().runStt(new Int16Array(19200), 16000)).toBe('(spoke for 1.2 seconds)');
    // `stat -c %s FILE` prints the file size: a 44-byte header plus 2 bytes per sample.
    const stt = new CommandSTT('stat -c %s');
    expect(await stt.runStt(new Int16Array(1600), 16000, signal)).toBe(String(44 + 3200));
    await expect(new CommandSTT('exit 3;').runStt(new Int16Array(10), 16000, signal)).rejects.toThrow();
    expect(() => new CommandSTT(' ')).toThrow(TypeError);
  });

  it('RuleBasedLLM introduces itself, then answers the last user message, streamed', async () => {
    const llm = new RuleBasedLLM({ wordDelayMs: 0 });
    const signal = new AbortController().signal;
    const intro = (await collect(llm.runLlm([{ role: 'system', content: 's' }], signal))).join('');
    expect(intro).toMatch(/^Hello! I'm a voice agent/);
    const chunks = await collect(
      llm.runLlm(
        [
          { role: 'user', content: '(spoke for 1.2 seconds)' },
          { role: 'assistant', content: 'x' },
          { role: 'user', content: '(spoke for 2.5 seconds)' },
        ],
        signal,
      ),
    );
    expect(chunks.length).toBeGreaterThan(5);
    expect(chunks.join('')).toMatch(/^I heard you speak for 2\.5 seconds\. .* turn 2\.$/);
    expect(llm.answer([{ role: 'user', content: 'hi there' }])).toMatch(/^Hello there!/);
  });

  it('picks its services from the environment', () => {
    const offline = servicesFromEnv({});
    expect([offline.stt, offline.llm, offline.tts].map((s) => s.constructor.name)).toEqual([
      'TurnDurationSTT',
      'RuleBasedLLM',
      'EspeakTTS',
    ]);
    const plugged = servicesFromEnv({ STT_COMMAND: 'my-stt', OPENAI_BASE_URL: 'http://127.0.0.1:9/v1' });
    expect([plugged.stt, plugged.llm].map((s) => s.constructor.name)).toEqual([
      'CommandSTT',
      'OpenAICompatibleLLM',
    ]);
    expect(servicesFromEnv({ OPENAI_API_KEY: 'k' }).llm).toBeInstanceOf(OpenAICompatibleLLM);
  });

  describe('OpenAICompatibleLLM', () => {
    let server: Server;
    let baseUrl = '';
    const requests: Array<{ auth: string | undefined; body: unknown }> = [];
    beforeAll(async () => {
      server = createServer((req, res) => {
        let body = '';
        req.on('data', (d: Buffer) => (body += d.toString()));
        req.on('end', () => {
          requests.push({ auth: req.headers.authorization, body: JSON.parse(body) });
          if (req.url !== '/v1/chat/completions') {
            res.writeHead(404).end('nope');
            return;
          }
          res.writeHead(200, { 'content-type': 'text/event-stream' });
          const deltas = ['Hel', 'lo', ' world'];
          // One event split across writes, plus a role-only delta, as real servers send.
          res.write('data: {"choices":[{"delta":{"role":"assistant"}}]}\n\n');
          for (const d of deltas) {
            const ev = `data: ${JSON.stringify({ choices: [{ delta: { content: d } }] })}\n\n`;
            res.write(ev.slice(0, 7));
            res.write(ev.slice(7));
          }
          res.end('data: [DONE]\n\n');
        });
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/`;
    });
    afterAll(() => new Promise<void>((r) => server.close(() => r())));

    it('streams the deltas of a chat completion', async () => {
      const llm = new OpenAICompatibleLLM({ baseUrl, apiKey: 'k', model: 'm' });
      const messages = [{ role: 'user', content: 'hi' }];
      const chunks = await collect(llm.runLlm(messages, new AbortController().signal));
      expect(chunks).toEqual(['Hel', 'lo', ' world']);
      expect(requests.at(-1)).toEqual({ auth: 'Bearer k', body: { model: 'm', messages, stream: true } });
      const bad = new OpenAICompatibleLLM({ baseUrl: baseUrl.replace('/v1/', '/v2') });
      await expect(collect(bad.runLlm(messages, new AbortController().signal))).rejects.toThrow(/HTTP 404/);
      expect(() => new OpenAICompatibleLLM({ baseUrl: 'ftp://x' })).toThrow(TypeError);
    });
  });
});
