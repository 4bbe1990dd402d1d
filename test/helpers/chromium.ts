// Headless Chromium (Debian `chromium`) driven by playwright-core, set up for loopback WebRTC tests:
// fake mic/camera, no permission prompts, loopback ICE candidates allowed, no background network traffic.
import { existsSync } from 'node:fs';

import { chromium, type Browser } from 'playwright-core';

/** Debian's Chromium binary. */
export const CHROMIUM_PATH = '/usr/bin/chromium';

/** Flags every test browser gets (DESIGN.md §4: loopback candidates need the first one). */
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
  /** A WAV file the fake microphone plays (looped) instead of the default beep. */
  fakeAudioFile?: string;
  /** More command-line flags. */
  extraArgs?: string[];
}

/** Launches headless Chromium; close it with `browser.close()` in afterAll. */
export async function launchChromium(options: LaunchChromiumOptions = {}): Promise<Browser> {
  const args = [...CHROMIUM_ARGS, ...(options.extraArgs ?? [])];
  if (options.fakeAudioFile) args.push(`--use-file-for-fake-audio-capture=${options.fakeAudioFile}`);
  return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args });
}
