#!/usr/bin/env node
// Run by the package's install script, `node-gyp-build "node scripts/check-build-deps.mjs"`, only when no
// prebuilt binary loads on this machine (no prebuilds/<platform>-<arch>/, or a prebuild that does not load:
// musl libc, glibc older than 2.36), or when npm is asked to build from source (--build-from-source); then
// node-gyp compiles the addon. Before it does, this checks what that build needs (a C++17 compiler, make,
// python3 for gyp, pkg-config, and the codec libraries with their headers) and, when something is missing,
// fails the install with a list of what is missing and the packages that provide it, instead of a compiler
// or gyp error halfway through.
//
// Exit status: 0 = everything found (node-gyp runs next), 1 = something is missing (message on stderr).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Debian/Ubuntu packages a build from source needs (kept equal to src/native/binding.ts, checked by a test). */
export const DEBIAN_BUILD_PACKAGES = [
  'build-essential',
  'pkg-config',
  'python3',
  'libopus-dev',
  'libspeexdsp-dev',
  'libvpx-dev',
  'libyuv-dev',
];

/** Exit status and output of a command; status null when it could not be started (not installed). */
function probe(cmd, args, input) {
  const r = spawnSync(cmd, args, {
    encoding: 'utf8',
    input,
    stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
  });
  return { ok: r.status === 0, out: `${r.stdout ?? ''}${r.stderr ?? ''}`.trim() };
}

/** What is missing for a build from source: [{ what, debian }], empty when the build can go ahead. */
export function missingBuildDeps() {
  const missing = [];
  const cxx = process.env.CXX || 'c++';
  const haveCxx = probe(cxx, ['--version']).ok;
  if (!haveCxx) missing.push({ what: `a C++17 compiler (${cxx})`, debian: 'build-essential' });
  if (!probe(process.env.MAKE || 'make', ['--version']).ok)
    missing.push({ what: 'make', debian: 'build-essential' });
  const python = process.env.PYTHON || process.env.npm_config_python || 'python3';
  if (!probe(python, ['--version']).ok)
    missing.push({ what: `python3 (node-gyp runs gyp with it)`, debian: 'python3' });
  const havePkgConfig = probe('pkg-config', ['--version']).ok;
  if (!havePkgConfig) missing.push({ what: 'pkg-config', debian: 'pkg-config' });
  // binding.gyp asks pkg-config for these three; libyuv has no .pc file in Debian and is linked as -lyuv.
  for (const [mod, name, debian] of [
    ['opus', 'libopus', 'libopus-dev'],
    ['speexdsp', 'speexdsp', 'libspeexdsp-dev'],
    ['vpx', 'libvpx', 'libvpx-dev'],
  ]) {
    if (havePkgConfig && !probe('pkg-config', ['--exists', mod]).ok)
      missing.push({ what: `${name} (pkg-config module ${mod})`, debian });
    else if (!havePkgConfig) missing.push({ what: `${name} (cannot tell without pkg-config)`, debian });
  }
  if (haveCxx) {
    // Compile and link a program that includes libyuv.h and links -lyuv: both header and library present.
    const dir = mkdtempSync(join(tmpdir(), 'small-webrtc-deps-'));
    try {
      const r = probe(
        cxx,
        ['-x', 'c++', '-', '-o', join(dir, 'a.out'), '-lyuv'],
        '#include <libyuv.h>\nint main() { return 0; }\n',
      );
      if (!r.ok) missing.push({ what: 'libyuv (libyuv.h and -lyuv)', debian: 'libyuv-dev' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  } else {
    missing.push({ what: 'libyuv (cannot tell without a compiler)', debian: 'libyuv-dev' });
  }
  return missing;
}

/** Why the install builds from source at all, for the first line of the message. */
function reason(root) {
  const tuple = `${process.platform}-${process.arch}`;
  const dir = join(root, 'prebuilds');
  const shipped = existsSync(dir) ? readdirSync(dir).sort() : [];
  if (process.env.npm_config_build_from_source === 'true') return 'npm was asked to build it from source';
  if (shipped.includes(tuple))
    return `the prebuilt binary for ${tuple} does not load here (it needs glibc >= 2.36; musl libc needs a build)`;
  return `there is no prebuilt binary for ${tuple} (the package ships: ${shipped.join(', ') || 'none'})`;
}

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const missing = missingBuildDeps();
  if (missing.length > 0) {
    const debian = [...new Set(missing.map((m) => m.debian))];
    console.error(
      [
        `small-webrtc: cannot build its native addon from source: ${reason(root)}, so the install compiles it,`,
        'and this machine lacks:',
        ...missing.map((m) => `  - ${m.what}`),
        'Install them, then run `npm rebuild small-webrtc` (or `npm install` again):',
        `  Debian/Ubuntu: apt-get install ${debian.join(' ')}`,
        `  (everything a build needs: apt-get install ${DEBIAN_BUILD_PACKAGES.join(' ')})`,
        '  Other systems: a C++17 compiler, make, python3, pkg-config and the development packages of',
        '  libopus, speexdsp, libvpx and libyuv.',
      ].join('\n'),
    );
    process.exit(1);
  }
}
