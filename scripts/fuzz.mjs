#!/usr/bin/env node
// npm run fuzz [-- --seconds N] [--only name,name] [--no-native] [--no-properties]
//
// Runs every libFuzzer target (native/fuzz/*.cc) for N seconds each (default 60) over its checked-in seeds
// (native/fuzz/corpus/<target>, read only) plus a growing scratch corpus in the build tree, then the
// fast-check properties (test/fuzz) with a time budget per property instead of their `npm test` run count.
// Prints, per target: runs, execs/s, new inputs, peak RSS and corpus size; writes the same as JSON next to
// the binaries (fuzz-summary.json). Exits non-zero when a target crashed or a property failed.
//
// A crash leaves its input in <build>/fuzz-artifacts/<target>-crash-<sha1> (or leak-/timeout-/oom-). To keep
// it as a regression case: fix the bug, copy the file into native/fuzz/corpus/<target>/ (ctest's short
// fuzz run replays every seed, so CI fails if it ever comes back) and add a unit test for the cause.
//
// The fuzzers need clang with libFuzzer (Debian: clang, libclang-rt-dev). They are built with ASan + UBSan:
// reused from the cmake developer build (build-cmake/fuzz-build, `npm run build:cmake`) when it exists,
// else configured here in build-fuzz/.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';

const root = join(import.meta.dirname, '..');
const args = process.argv.slice(2);
function opt(name, fallback) {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : fallback;
}
const seconds = Number(opt('seconds', '60'));
if (!Number.isFinite(seconds) || seconds <= 0) {
  console.error('--seconds must be a positive number');
  process.exit(2);
}
const only = opt('only', '')
  .split(',')
  .filter((s) => s.length > 0);
const runNative = !args.includes('--no-native');
const runProps = !args.includes('--no-properties');
// Each fast-check property gets this budget (there are about 25); the libFuzzer targets get `seconds` each.
const propSeconds = Number(
  opt('property-seconds', String(Math.max(2, Math.min(30, Math.round(seconds / 4))))),
);

const targets = readdirSync(join(root, 'native', 'fuzz'))
  .filter((f) => f.endsWith('.cc'))
  .map((f) => basename(f, '.cc'))
  .filter((t) => only.length === 0 || only.includes(t))
  .sort();

function have(cmd) {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

/** Builds the fuzzers; returns the directory holding the binaries, or null when clang is missing. */
function buildFuzzers() {
  const cmakeBuild = join(root, 'build-cmake');
  if (existsSync(join(cmakeBuild, 'fuzz-build', 'CMakeCache.txt'))) {
    execFileSync('cmake', ['--build', cmakeBuild, '--target', 'fuzzers', '-j', '2'], { stdio: 'inherit' });
    return join(cmakeBuild, 'fuzz-build');
  }
  if (!have('clang') || !have('clang++')) {
    console.error('clang not found: skipping the libFuzzer targets (apt-get install clang libclang-rt-dev)');
    return null;
  }
  const dir = join(root, 'build-fuzz');
  if (!existsSync(join(dir, 'CMakeCache.txt'))) {
    execFileSync(
      'cmake',
      [
        '-S',
        join(root, 'native', 'fuzz'),
        '-B',
        dir,
        '-DCMAKE_C_COMPILER=clang',
        '-DCMAKE_CXX_COMPILER=clang++',
        '-DCMAKE_BUILD_TYPE=RelWithDebInfo',
      ],
      { stdio: 'inherit' },
    );
  }
  execFileSync('cmake', ['--build', dir, '-j', '2', '--target', ...targets], { stdio: 'inherit' });
  return dir;
}

function corpusSize(dirs) {
  let files = 0;
  let bytes = 0;
  for (const d of dirs) {
    if (!existsSync(d)) continue;
    for (const f of readdirSync(d)) {
      const s = statSync(join(d, f));
      if (s.isFile()) {
        files++;
        bytes += s.size;
      }
    }
  }
  return { files, bytes };
}

function stat(log, key) {
  const m = new RegExp(`stat::${key}:\\s+(\\d+)`).exec(log);
  return m ? Number(m[1]) : null;
}

function runTarget(binDir, name) {
  return new Promise((resolve) => {
    const seeds = join(root, 'native', 'fuzz', 'corpus', name);
    const scratch = join(binDir, 'fuzz-corpus', name);
    const artifacts = join(binDir, 'fuzz-artifacts');
    mkdirSync(scratch, { recursive: true });
    mkdirSync(artifacts, { recursive: true });
    const before = corpusSize([seeds, scratch]);
    const argv = [
      `-max_total_time=${seconds}`,
      '-rss_limit_mb=2048',
      '-timeout=10',
      '-print_final_stats=1',
      `-artifact_prefix=${artifacts}/${name}-`,
      scratch,
      ...(existsSync(seeds) ? [seeds] : []),
    ];
    let log = '';
    const child = spawn(join(binDir, name), argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.on('data', (d) => (log += d));
    child.stderr.on('data', (d) => (log += d));
    child.on('close', (code) => {
      const after = corpusSize([seeds, scratch]);
      const crash = /(?:Test unit written to|artifact_prefix.*written)\s*(\S+)/.exec(log)?.[1] ?? null;
      resolve({
        target: name,
        ok: code === 0,
        exitCode: code,
        seconds,
        runs: stat(log, 'number_of_executed_units'),
        execsPerSec: stat(log, 'average_exec_per_sec'),
        newInputs: stat(log, 'new_units_added'),
        peakRssMb: stat(log, 'peak_rss_mb'),
        corpusFilesBefore: before.files,
        corpusFiles: after.files,
        corpusBytes: after.bytes,
        crashInput: crash,
        tail: code === 0 ? undefined : log.split('\n').slice(-40).join('\n'),
      });
    });
  });
}

const results = [];
let failed = false;
if (runNative && targets.length > 0) {
  const binDir = buildFuzzers();
  if (binDir !== null) {
    for (const t of targets) {
      process.stdout.write(`fuzz ${t}: ${seconds} s ... `);
      const r = await runTarget(binDir, t);
      results.push(r);
      console.log(r.ok ? `ok, ${r.runs} runs, ${r.execsPerSec} exec/s` : `FAILED (exit ${r.exitCode})`);
      if (!r.ok) {
        failed = true;
        console.log(r.tail);
        if (r.crashInput) console.log(`crash input: ${r.crashInput} (see the header of scripts/fuzz.mjs)`);
      }
    }
    console.log('\n| target | seconds | runs | exec/s | new inputs | peak RSS MB | corpus files (bytes) |');
    console.log('| --- | --- | --- | --- | --- | --- | --- |');
    for (const r of results) {
      console.log(
        `| ${r.target} | ${r.seconds} | ${r.runs} | ${r.execsPerSec} | ${r.newInputs} | ${r.peakRssMb} | ` +
          `${r.corpusFilesBefore} -> ${r.corpusFiles} (${r.corpusBytes}) |`,
      );
    }
    writeFileSync(join(binDir, 'fuzz-summary.json'), JSON.stringify(results, null, 2));
  }
}

if (runProps) {
  console.log(`\nfast-check properties (test/fuzz), ${propSeconds} s each:`);
  const vitest = spawnSync('npx', ['vitest', 'run', 'test/fuzz'], {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, FUZZ_SECONDS: String(propSeconds) },
  });
  if (vitest.status !== 0) failed = true;
}

process.exit(failed ? 1 : 0);
