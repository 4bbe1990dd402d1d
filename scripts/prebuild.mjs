#!/usr/bin/env node
// `npm run build:prebuilds [-- --arch=arm64]`: builds the N-API prebuilt binary shipped in the npm package,
// prebuilds/linux-<arch>/small-webrtc.node (prebuildify --napi --strip), with the codecs, libstdc++ and
// libgcc linked statically (SMALL_WEBRTC_STATIC=1, see binding.gyp) so it needs only glibc at run time.
//
// --arch defaults to this machine's. A different one (linux-arm64 on an x64 machine) is cross-compiled with
// Debian's cross toolchain (g++-aarch64-linux-gnu) against the multiarch codec libraries
// (libopus-dev:arm64 ...), installed by `bash scripts/install-system-deps.sh --arm64`.
//
// The build runs in a temporary copy of the native sources, not in ./build: the developer's own
// `node-gyp` build (dynamic, with debug symbols) is left alone, and a prebuild never races with it.
// Then the result's dynamic section is checked: it may depend on nothing but libc/libm/the loader, and
// export nothing but the Node-API entry points.
import { execFileSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdtempSync,
  mkdirSync,
  readdirSync,
  rmSync,
  statSync,
  symlinkSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

/** Cross toolchains by Node's arch name: Debian's GNU triplet (compiler prefix and multiarch lib dir). */
const CROSS = { arm64: 'aarch64-linux-gnu', x64: 'x86_64-linux-gnu' };

const { values } = parseArgs({ options: { arch: { type: 'string', default: process.arch } } });
const arch = values.arch;
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const tuple = `${process.platform}-${arch}`;
const cross = arch !== process.arch;
if (cross && (process.platform !== 'linux' || !(arch in CROSS)))
  throw new Error(
    `prebuild: cannot cross-compile for ${tuple} (supported from linux: ${Object.keys(CROSS).join(', ')})`,
  );
const triplet = CROSS[arch];

/** NEEDED libraries and exported (defined, dynamic) symbols of an ELF file, read with readelf, which reads
 * every architecture (unlike ldd, which would have to run the foreign loader). */
function elfInfo(file) {
  const dyn = execFileSync('readelf', ['-d', '-W', file], { encoding: 'utf8' });
  const needed = [...dyn.matchAll(/\(NEEDED\)\s+Shared library: \[([^\]]+)\]/g)].map((m) => m[1]);
  const syms = execFileSync('readelf', ['--dyn-syms', '-W', file], { encoding: 'utf8' });
  const exported = syms
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    // Num: Value Size Type Bind Vis Ndx Name; UND entries are imports.
    .filter((f) => f.length >= 8 && /^\d+:$/.test(f[0]) && f[6] !== 'UND' && f[4] === 'GLOBAL')
    .map((f) => f[7].replace(/@.*$/, ''))
    .sort();
  return { needed, exported };
}

const work = mkdtempSync(join(tmpdir(), 'small-webrtc-prebuild-'));
try {
  for (const p of [
    'package.json',
    'binding.gyp',
    'scripts/native-sources.mjs',
    'native/core',
    'native/binding',
    'native/static',
  ]) {
    cpSync(join(root, p), join(work, p), { recursive: true });
  }
  symlinkSync(join(root, 'node_modules'), join(work, 'node_modules'), 'dir');

  const env = { ...process.env, SMALL_WEBRTC_STATIC: '1' };
  // node-gyp works offline only with local headers (Debian's nodejs ships them in /usr/include/node). The
  // Node-API headers are the same for every architecture, so they serve a cross build too.
  if (env.npm_config_nodedir === undefined && existsSync('/usr/include/node/node.h'))
    env.npm_config_nodedir = '/usr';
  const args = ['--napi', '--strip', '--arch', arch];
  if (cross) {
    // gyp's make generator takes the target compilers from CC/CXX/LINK/AR; pkg-config (binding.gyp's
    // include dirs) must see the target's .pc files, not the build machine's.
    Object.assign(env, {
      CC: `${triplet}-gcc`,
      CXX: `${triplet}-g++`,
      LINK: `${triplet}-g++`,
      AR: `${triplet}-ar`,
      PKG_CONFIG_LIBDIR: `/usr/lib/${triplet}/pkgconfig:/usr/share/pkgconfig`,
    });
    args.push(`--strip-bin=${triplet}-strip`);
    try {
      execFileSync(`${triplet}-g++`, ['--version'], { stdio: 'ignore' });
    } catch {
      throw new Error(
        `prebuild: ${triplet}-g++ not found; install the cross toolchain and the ${arch} codec libraries ` +
          '(bash scripts/install-system-deps.sh --arm64, as root)',
      );
    }
  }
  const prebuildify = join(root, 'node_modules', 'prebuildify', 'bin.js');
  const nodeGyp = join(root, 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
  execFileSync(process.execPath, [prebuildify, ...args, `--node-gyp=${nodeGyp}`, '--cwd', work], {
    cwd: work,
    env,
    stdio: 'inherit',
  });

  const built = join(work, 'prebuilds', tuple);
  const dest = join(root, 'prebuilds', tuple);
  mkdirSync(dest, { recursive: true });
  for (const f of readdirSync(built)) {
    cpSync(join(built, f), join(dest, f));
    const file = join(dest, f);
    if (process.platform === 'linux') {
      // Every shared library the binary needs must be part of glibc: anything else (libopus.so.0,
      // libstdc++.so.6 ...) would make the prebuild fail on machines without those packages.
      const { needed, exported } = elfInfo(file);
      const foreign = needed.filter(
        (l) => !/^(ld-linux[-\w.]*|libc|libm|libpthread|libdl|librt)\.so/.test(l),
      );
      if (needed.length === 0 || foreign.length > 0)
        throw new Error(
          `${file} depends on non-glibc libraries: ${foreign.join(', ')} (NEEDED: ${needed.join(', ')})`,
        );
      // Only the Node-API entry points (native/static/exports.map): the bundled codecs and C++ runtime cannot
      // clash with another native module's copies in the same process.
      const expected = ['napi_register_module_v1', 'node_api_module_get_api_version_v1'];
      if (exported.join() !== expected.join())
        throw new Error(`${file} exports ${exported.join(', ')}; expected only ${expected.join(', ')}`);
      const kib = Math.round(statSync(file).size / 1024);
      console.log(`prebuild: ${file} (${kib} KiB; needs only ${needed.join(', ')})`);
    } else {
      console.log(`prebuild: ${file}`);
    }
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
