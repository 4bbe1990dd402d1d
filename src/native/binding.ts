// The ONLY place that loads the native addon (small_webrtc.node). Everything else imports `native()` from
// here and gets the typed interface declared in ./types.ts.
//
// Loading goes through node-gyp-build, which picks, in order: build/Release (a local `node-gyp` build),
// then prebuilds/<platform>-<arch>/*.node (shipped in the npm package). The package root is resolved from
// this file, so it works from src/ (vitest, tsx) and from dist/ (the published package) alike.
import { createRequire } from 'node:module';
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SmallWebRTCError } from '../errors.js';
import type { NativeAddon } from './types.js';

export type * from './types.js';

const require = createRequire(import.meta.url);

/**
 * Debian/Ubuntu packages a build of the addon from source needs (the C++ toolchain, pkg-config, python3 for
 * node-gyp, and the codec headers/libraries). Kept equal to scripts/check-build-deps.mjs, which checks for them
 * before `npm install` compiles (a test compares the two).
 */
export const BUILD_FROM_SOURCE_DEBIAN_PACKAGES: readonly string[] = Object.freeze([
  'build-essential',
  'pkg-config',
  'python3',
  'libopus-dev',
  'libspeexdsp-dev',
  'libvpx-dev',
  'libyuv-dev',
]);

/** Thrown when the native addon cannot be loaded; the message lists likely causes and fixes. */
export class NativeAddonLoadError extends SmallWebRTCError {
  /** Where the package root was resolved to (the directory that holds package.json). */
  readonly packageRoot: string;
  /** This machine's `<platform>-<arch>`, e.g. `linux-riscv64`. */
  readonly platform: string;
  /** The `<platform>-<arch>` folders under the package's `prebuilds/` (e.g. `['linux-arm64', 'linux-x64']`). */
  readonly prebuiltPlatforms: readonly string[];
  /** Debian/Ubuntu packages needed to build the addon from source (see {@link BUILD_FROM_SOURCE_DEBIAN_PACKAGES}). */
  readonly systemPackages: readonly string[];

  constructor(message: string, packageRoot: string, cause: unknown) {
    super('ERR_NATIVE_ADDON_LOAD', message, { cause });
    this.name = 'NativeAddonLoadError';
    this.packageRoot = packageRoot;
    this.platform = `${process.platform}-${process.arch}`;
    this.prebuiltPlatforms = prebuiltPlatforms(packageRoot);
    this.systemPackages = BUILD_FROM_SOURCE_DEBIAN_PACKAGES;
  }
}

/** The platform folders shipped under `<root>/prebuilds/` (empty when there are none). */
function prebuiltPlatforms(root: string): string[] {
  try {
    return readdirSync(join(root, 'prebuilds')).sort();
  } catch {
    return [];
  }
}

/** Walks up from this file to the directory holding the package's binding.gyp/package.json. */
function findPackageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'binding.gyp'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  // src/native/binding.ts and dist/native/binding.js both sit two levels below the root.
  return join(dirname(fileURLToPath(import.meta.url)), '..', '..');
}

function explain(root: string, err: unknown): string {
  const reason = err instanceof Error ? err.message : String(err);
  const platform = `${process.platform}-${process.arch}`;
  const shipped = prebuiltPlatforms(root);
  const prebuilt = shipped.includes(platform)
    ? `- The prebuilt binary for ${platform} does not load here: it needs glibc >= 2.36 (Debian 12, Ubuntu 23.04 or` +
      ' newer); with musl libc or an older glibc, build from source:'
    : `- No prebuilt binary for this platform (${platform}; this package ships: ${shipped.join(', ') || 'none'})` +
      ' and no local build: build it from source:';
  return [
    `small-webrtc: cannot load its native addon (small_webrtc.node) from ${root}: ${reason}`,
    'Likely causes and fixes:',
    prebuilt,
    `    apt-get install ${BUILD_FROM_SOURCE_DEBIAN_PACKAGES.join(' ')}`,
    '    (other systems: a C++17 compiler, make, python3, pkg-config and the development packages of libopus,' +
      ' speexdsp, libvpx and libyuv)',
    '    npm rebuild small-webrtc   (or, in a clone: npm run build:native)',
    '- The build failed during `npm install` (its output was shown then); rerun `npm rebuild small-webrtc`' +
      ' and read the first error.',
    '- A locally built addon cannot find a shared codec library at run time ("libopus.so.0: cannot open' +
      ' shared object file"): install the runtime packages (libopus0 libspeexdsp1 libvpx7 libyuv0), or' +
      ' delete build/ so the static prebuilt binary is used.',
    `- The Node.js version is too old: N-API 8 needs Node >= 12.22 (running ${process.version}).`,
    '- Set SMALL_WEBRTC_ADDON_PATH=/path/to/small_webrtc.node to load a specific binary (e.g. a cmake-js build).',
  ].join('\n');
}

let cached: NativeAddon | null = null;

/**
 * Returns the native addon, loading it on first use (synchronously; the result is cached).
 * @throws NativeAddonLoadError when no usable binary exists (message says why and how to fix it).
 */
export function native(): NativeAddon {
  if (cached !== null) return cached;
  const root = findPackageRoot();
  try {
    const override = process.env.SMALL_WEBRTC_ADDON_PATH;
    if (override !== undefined && override !== '') {
      cached = require(override) as NativeAddon;
    } else {
      const load = require('node-gyp-build') as (dir: string) => unknown;
      cached = load(root) as NativeAddon;
    }
  } catch (err) {
    throw new NativeAddonLoadError(explain(root, err), root, err);
  }
  return cached;
}
