// Building the addon from source (platforms without a prebuild): scripts/check-build-deps.mjs, which the
// install script runs before node-gyp, fails fast with the list of what is missing and the packages that
// provide it. Run here against this machine with parts of the toolchain hidden, for real: an empty pkg-config
// search path (codec .pc files "missing") and a PATH without any compiler.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BUILD_FROM_SOURCE_DEBIAN_PACKAGES } from '../../src/native/binding.js';
import { DEBIAN_BUILD_PACKAGES, missingBuildDeps } from '../../scripts/check-build-deps.mjs';

const root = join(import.meta.dirname, '..', '..');
const script = join(root, 'scripts', 'check-build-deps.mjs');
const work = mkdtempSync(join(tmpdir(), 'small-webrtc-build-deps-'));

afterAll(() => {
  rmSync(work, { recursive: true, force: true });
});

function check(env: NodeJS.ProcessEnv): { status: number | null; stderr: string } {
  const r = spawnSync(process.execPath, [script], { cwd: root, env, encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stderr: r.stderr };
}

describe('build from source: dependency check', () => {
  it('the install check, the runtime error and install-system-deps.sh name the same Debian packages', () => {
    expect(DEBIAN_BUILD_PACKAGES).toEqual([...BUILD_FROM_SOURCE_DEBIAN_PACKAGES]);
    const systemDeps = readFileSync(join(root, 'scripts', 'install-system-deps.sh'), 'utf8');
    for (const p of BUILD_FROM_SOURCE_DEBIAN_PACKAGES) expect(systemDeps).toMatch(new RegExp(`\\b${p}\\b`));
  });

  it('passes on this machine (everything installed)', () => {
    expect(missingBuildDeps()).toEqual([]);
    expect(check(process.env)).toEqual({ status: 0, stderr: '' });
  });

  it('lists the codec libraries pkg-config cannot find, with the Debian packages', () => {
    const empty = join(work, 'pkgconfig');
    mkdirSync(empty);
    const { status, stderr } = check({ ...process.env, PKG_CONFIG_LIBDIR: empty, PKG_CONFIG_PATH: '' });
    expect(status).toBe(1);
    expect(stderr).toContain('cannot build its native addon from source');
    expect(stderr).toContain('- libopus (pkg-config module opus)');
    expect(stderr).toContain('- speexdsp (pkg-config module speexdsp)');
    expect(stderr).toContain('- libvpx (pkg-config module vpx)');
    expect(stderr).not.toContain('- a C++17 compiler');
    expect(stderr).toContain('Debian/Ubuntu: apt-get install libopus-dev libspeexdsp-dev libvpx-dev\n');
    expect(stderr).toContain('npm rebuild small-webrtc');
  });

  it('lists the toolchain when no compiler, make, python3 or pkg-config is on PATH', () => {
    const bin = join(work, 'bin');
    mkdirSync(bin);
    symlinkSync(process.execPath, join(bin, 'node'));
    const { status, stderr } = check({ HOME: process.env.HOME, PATH: bin });
    expect(status).toBe(1);
    for (const what of ['a C++17 compiler (c++)', 'make', 'python3', 'pkg-config', 'libyuv'])
      expect(stderr).toContain(`- ${what}`);
    expect(stderr).toMatch(/apt-get install build-essential python3 pkg-config libopus-dev .*libyuv-dev\n/);
  });
});
