// Test helper for the demo page (src/server/static): builds the esbuild bundle once per test process, starts
// the demo against our server with a speaking fake microphone, and gives typed access to the page's
// `window.demo` hook from Playwright.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

import nodeDataChannel from 'node-datachannel';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';

import type { SmallWebRTCConnection } from '../../src/connection/index.js';
import { startSmallWebRTCServer, type SmallWebRTCServer } from '../../src/server/index.js';
import { openChromiumPage, type ChromiumPage } from '../../testkit/chromium.js';
import { makeSpeechWav, type SpeechWav, type SpeechWavOptions } from './speech.js';

/** Directory holding index.html + demo.bundle.js (what a server's `staticDir` should point at). */
export const DEMO_STATIC_DIR = fileURLToPath(new URL('../../src/server/static/', import.meta.url));

const BUILD_SCRIPT = fileURLToPath(new URL('../../scripts/build-demo-client.mjs', import.meta.url));
let built = false;

/**
 * Builds demo.bundle.js from the current source (once per process; the bundle is gitignored, so a test must
 * not rely on a stale one). Takes about a second.
 */
export function buildDemoBundle(): void {
  if (built) return;
  execFileSync(process.execPath, [BUILD_SCRIPT], { stdio: 'pipe' });
  built = true;
}

/** The part of the page's `window.demo` hook (see src/server/static/demo.ts `DemoHook`) tests use. */
export interface DemoHookView {
  clientVersion: string;
  transportService: string | null;
  mediaManager: string;
  state: string;
  botReady: boolean;
  botReadyData: unknown;
  userSpeaking: boolean;
  botSpeaking: boolean;
  micEnabled: boolean;
  lastStats: Record<string, unknown> | null;
  counters: Record<string, number>;
  /** RMS (0..1) of the bot audio every 100 ms. */
  remoteAudioRms: number[];
  /** RMS (0..1) of the local mic every 100 ms. */
  localAudioRms: number[];
  localTrack: MediaStreamTrack | null;
  remoteTrack: MediaStreamTrack | null;
  events: Array<{ t: number; type: string; data?: unknown }>;
  errors: string[];
  initDevices(): Promise<void>;
  connect(endpoint?: string): Promise<unknown>;
  disconnect(): Promise<void>;
  enableMic(enable: boolean): void;
  camEnabled: boolean;
  remoteVideoTrack: MediaStreamTrack | null;
  localVideoTrack: MediaStreamTrack | null;
  /** Turns the camera on/off (acquired on first use). */
  enableCam(enable: boolean): void;
  /** getStats() of the video path (see demo.ts `VideoRtcStats`); null when not connected. */
  videoStats(): Promise<{
    inbound: {
      framesDecoded: number;
      framesReceived: number;
      framesDropped: number;
      frameWidth: number;
      frameHeight: number;
      framesPerSecond: number;
      keyFramesDecoded: number;
      pliCount: number;
      nackCount: number;
      packetsLost: number;
      codec: string | null;
    } | null;
    outbound: {
      framesEncoded: number;
      framesSent: number;
      frameWidth: number;
      frameHeight: number;
      framesPerSecond: number;
      pliCount: number;
      codec: string | null;
    } | null;
  } | null>;
  sendClientMessage(type: string, data?: unknown): void;
  /** getStats() of the audio path (see demo.ts `AudioRtcStats`); null when not connected. */
  audioStats(): Promise<{
    inbound: {
      packetsReceived: number;
      packetsLost: number;
      jitterMs: number;
      totalAudioEnergy: number;
      totalSamplesReceived: number;
      concealedSamples: number;
      jitterBufferDelayMs: number;
      codec: string | null;
    } | null;
    outbound: { packetsSent: number; bytesSent: number; codec: string | null } | null;
    /** The server's receiver reports about the mic, as the browser reads them (`remote-inbound-rtp`). */
    remoteInbound: {
      packetsLost: number;
      fractionLost: number;
      jitterMs: number;
      roundTripTimeMs: number | null;
    } | null;
    roundTripTimeMs: number | null;
  } | null>;
}

/** `window` as the demo page types it. */
export type DemoWindow = Window & { demo?: DemoHookView };

/**
 * Runs `fn(window.demo)` in the page and returns its (serialisable) result. `fn` is sent as source text, so
 * it must not close over test variables; pass data through `arg` instead.
 */
export async function demoEval<T, A = undefined>(
  page: Page,
  fn: (d: DemoHookView, arg: A) => T | Promise<T>,
  arg?: A,
): Promise<T> {
  return page.evaluate(
    async ([src, a]) => {
      const d = (window as DemoWindow).demo;
      if (!d) throw new Error('demo page: window.demo is not defined (bundle not loaded?)');
      const f = new Function('d', 'a', `return (${src})(d, a)`) as (d: DemoHookView, a: unknown) => unknown;
      return (await f(d, a)) as T;
    },
    [fn.toString(), arg] as const,
  ) as Promise<T>;
}

/** Navigates `page` to the demo at `url` and waits until the bundle initialised `window.demo`. */
export async function gotoDemo(page: Page, url: string, timeoutMs = 15_000): Promise<void> {
  await page.goto(url);
  await page.waitForFunction(() => (window as DemoWindow).demo !== undefined, undefined, {
    timeout: timeoutMs,
  });
}

/** Levels as dBFS strings for logs ("-inf" for digital silence). */
export function dbfs(rms: number[]): string {
  return rms.map((x) => (x > 0 ? (20 * Math.log10(x)).toFixed(0) : '-inf')).join(' ');
}

/** What {@link startDemo} started. */
export interface DemoRig {
  server: SmallWebRTCServer;
  chrome: ChromiumPage;
  /** The fake microphone's WAV. */
  wav: SpeechWav;
  /** {@link demoEval} on the rig's page. */
  demo<T>(fn: (d: DemoHookView) => T | Promise<T>): Promise<T>;
  /** Opens the demo page (`?raw=1`), connects it to the server's `/api/offer`, and returns the page's state then. */
  connect(): Promise<{ state: string; botReady: boolean; errors: string[] }>;
  /** Closes Chromium and the server and deletes the WAV (each part that started). */
  close(): Promise<void>;
}

/**
 * Builds the bundle, makes the microphone's speech WAV, starts our server on the demo's static files (loopback)
 * with `onNewConnection`, and opens Chromium with that WAV as its fake microphone (looping unless `noLoop`).
 */
export async function startDemo(o: {
  speech: SpeechWavOptions;
  onNewConnection: (connection: SmallWebRTCConnection) => void;
  noLoop?: boolean;
}): Promise<DemoRig> {
  buildDemoBundle();
  const wav = makeSpeechWav(o.speech);
  let server: SmallWebRTCServer | undefined;
  try {
    server = await startSmallWebRTCServer({
      port: 0,
      staticDir: DEMO_STATIC_DIR,
      connectionOptions: { bindAddress: '127.0.0.1' },
      onNewConnection: o.onNewConnection,
    });
    const chrome = await openChromiumPage({ fakeAudioFile: wav.path, ...(o.noLoop ? { noLoop: true } : {}) });
    const rig: DemoRig = {
      server,
      chrome,
      wav,
      demo: (fn) => demoEval(chrome.page, fn),
      connect: async () => {
        await gotoDemo(chrome.page, `${rig.server.url}/?raw=1`);
        await rig.demo((d) => d.connect('/api/offer'));
        return rig.demo((d) => ({ state: d.state, botReady: d.botReady, errors: d.errors }));
      },
      close: async () => {
        await chrome.close();
        await rig.server.close();
        wav.cleanup();
      },
    };
    return rig;
  } catch (err) {
    await server?.close();
    wav.cleanup();
    throw err;
  }
}

/**
 * {@link startDemo} for a whole describe block: started in beforeAll, closed in afterAll (then `afterClose`,
 * e.g. waiting for the bot sessions, then node-datachannel's cleanup()). The returned rig is usable in the
 * tests (not before beforeAll ran).
 */
export function useDemo(
  o: Parameters<typeof startDemo>[0] & { afterClose?: () => Promise<unknown> },
): DemoRig {
  let rig: DemoRig | undefined;
  beforeAll(async () => {
    rig = await startDemo(o);
  }, 60_000);
  afterAll(async () => {
    await rig?.close();
    await o.afterClose?.();
    nodeDataChannel.cleanup();
  });
  const started = (): DemoRig => {
    if (!rig) throw new Error('the demo is not started (beforeAll failed?)');
    return rig;
  };
  return {
    get server() {
      return started().server;
    },
    get chrome() {
      return started().chrome;
    },
    get wav() {
      return started().wav;
    },
    demo: (fn) => started().demo(fn),
    connect: () => started().connect(),
    close: () => started().close(),
  };
}

/**
 * The RTVI handshake (docs/protocol.md, "RTVI handshake") a server without an RTVIProcessor does so that
 * PipecatClient.connect() resolves: every `client-ready` app message is answered with `bot-ready` (same id,
 * protocol 2.1.0, plus `about` when given). Every app message is also handed to `onMessage`.
 */
export function replyBotReady(
  connection: SmallWebRTCConnection,
  about?: Record<string, unknown>,
  onMessage?: (message: Record<string, unknown>) => void,
): void {
  connection.on('app-message', (_c, m: unknown) => {
    const msg = m as Record<string, unknown>;
    onMessage?.(msg);
    if (msg['label'] === 'rtvi-ai' && msg['type'] === 'client-ready') {
      connection.sendAppMessage({
        label: 'rtvi-ai',
        type: 'bot-ready',
        id: msg['id'],
        data: { version: '2.1.0', ...(about ? { about } : {}) },
      });
    }
  });
}
