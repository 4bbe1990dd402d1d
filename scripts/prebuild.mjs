#!/usr/bin/env node
// `npm run prebuild`: builds the N-API prebuilt binary shipped in the npm package,
// prebuilds/<platform>-<arch>/small-webrtc.node (prebuildify --napi --strip), with the codecs, libstdc++
// and libgcc linked statically (SMALL_WEBRTC_STATIC=1, see binding.gyp) so it needs only glibc at run time.
//
// The build runs in a temporary copy of the native sources, not in ./build: the developer's own
// `node-gyp` build (dynamic, with debug symbols) is left alone, and a prebuild never races with it.
// Then `ldd` checks that the result depends on nothing but libc/libm/ld-linux.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, mkdirSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const tuple = `${process.platform}-${process.arch}`;
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
  // node-gyp works offline only with local headers (Debian's nodejs ships them in /usr/include/node).
  if (env.npm_config_nodedir === undefined && existsSync('/usr/include/node/node.h'))
    env.npm_config_nodedir = '/usr';
  const prebuildify = join(root, 'node_modules', 'prebuildify', 'bin.js');
  const nodeGyp = join(root, 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
  execFileSync(process.execPath, [prebuildify, '--napi', '--strip', `--node-gyp=${nodeGyp}`, '--cwd', work], {
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
      const ldd = execFileSync('ldd', [file], { encoding: 'utf8' });
      const libs = ldd
        .split('\n')
        .map((l) => l.trim().split(/\s+/)[0] ?? '')
        .filter((l) => l !== '' && !l.startsWith('linux-vdso'));
      const foreign = libs.filter(
        (l) =>
          !/^(\/lib64\/)?(ld-linux[-\w.]*|libc|libm|libpthread|libdl|librt)\.so/.test(l.replace(/^.*\//, '')),
      );
      if (foreign.length > 0)
        throw new Error(`${file} depends on non-glibc libraries: ${foreign.join(', ')}`);
      console.log(`prebuild: ${file} (needs only ${libs.join(', ')})`);
    } else {
      console.log(`prebuild: ${file}`);
    }
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
