// Headless Chromium (Debian `chromium`) driven by playwright-core, set up for loopback WebRTC tests:
// fake mic/camera, no permission prompts, loopback ICE candidates allowed, no background network traffic.
import { existsSync } from 'node:fs';

import { chromium, type Browser, type Page } from 'playwright-core';

/** Debian's Chromium binary. */
export const CHROMIUM_PATH = '/usr/bin/chromium';

/**
 * Flags every test browser gets (docs/testing.md, "Loopback peers": loopback ICE candidates need
 * --allow-loopback-in-peer-connection).
 */
export const CHROMIUM_ARGS: readonly string[] = [
  '--no-sandbox',
  '--disable-gpu',
  '--allow-loopback-in-peer-connection',
  '--use-fake-ui-for-media-stream',
  '--use-fake-device-for-media-stream',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

/** True when the Chromium binary is installed (tests skip with a reason otherwise). */
export function chromiumAvailable(): boolean {
  return existsSync(CHROMIUM_PATH);
}

/** Options of {@link launchChromium}. */
export interface LaunchChromiumOptions {
  /** A WAV file (16-bit PCM) the fake microphone plays (looped) instead of the default beep. */
  fakeAudioFile?: string;
  /** Play `fakeAudioFile` once, then silence (Chromium's `%noloop` suffix), instead of looping it. */
  noLoop?: boolean;
  /** More command-line flags. */
  extraArgs?: string[];
}

/** Launches headless Chromium; close it with `browser.close()` in afterAll. */
export async function launchChromium(options: LaunchChromiumOptions = {}): Promise<Browser> {
  const args = [...CHROMIUM_ARGS, ...(options.extraArgs ?? [])];
  if (options.fakeAudioFile) {
    args.push(`--use-file-for-fake-audio-capture=${options.fakeAudioFile}${options.noLoop ? '%noloop' : ''}`);
  }
  return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args });
}

/** A launched browser with one page; `close()` closes both (idempotent). */
export interface ChromiumPage {
  browser: Browser;
  page: Page;
  close(): Promise<void>;
}

/**
 * Launches Chromium (see {@link launchChromium}) and opens one page. Autoplay needs no user gesture, so a
 * test can start <audio> and an AudioContext from `page.evaluate`. Console errors go to the test log.
 */
export async function openChromiumPage(options: LaunchChromiumOptions = {}): Promise<ChromiumPage> {
  const browser = await launchChromium({
    ...options,
    extraArgs: ['--autoplay-policy=no-user-gesture-required', ...(options.extraArgs ?? [])],
  });
  const page = await browser.newPage();
  page.on('pageerror', (err) => console.error(`[chromium pageerror] ${err.message}`));
  page.on('console', (msg) => {
    if (msg.type() === 'error') console.error(`[chromium console] ${msg.text()}`);
  });
  let closed = false;
  return {
    browser,
    page,
    close: async () => {
      if (closed) return;
      closed = true;
      await browser.close();
    },
  };
}
