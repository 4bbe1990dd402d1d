// Runs the C++ unit tests (native/test/*.cc, built by `npm run build:cmake` as build-cmake/native_tests)
// from vitest, so `npm test` covers the napi-free core too. The binary is rebuilt incrementally first; when
// there is no cmake build directory at all (only `npm run build:native` was run) the test is skipped and
// says so: CI runs build:cmake before npm test.
import { execFile, execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');
const buildDir = join(root, 'build-cmake');
const configured = existsSync(join(buildDir, 'CMakeCache.txt'));
const run = promisify(execFile);

describe('C++ unit tests (native_tests)', () => {
  it.skipIf(!configured)('pass (build-cmake/native_tests; run `npm run build:cmake` to enable)', () => {
    execFileSync('cmake', ['--build', buildDir, '--target', 'native_tests', '-j', '2'], { stdio: 'pipe' });
    const out = execFileSync(join(buildDir, 'native_tests'), { encoding: 'utf8' });
    expect(out).toMatch(/ok {3}RtpRoundTripsEveryField/);
    expect(out).toMatch(/ok {3}RtcpCompoundRoundTrip/);
    expect(out).toMatch(/ok {3}Vp8DepacketizerLostPacketAsksForKeyframe/);
    expect(out).toMatch(/ok {3}Vp8RoundTripPsnr640x480/);
    expect(out).toMatch(/\d+ tests, 0 failed checks/);
    // The build above is incremental; after a change to the core it recompiles, slowly on a loaded machine.
  }, 300_000);

  // The same tests under ASan+UBSan and under TSan (the worker facility's threads), plus the TSan canary: a
  // deliberate race that must be reported, so a TSan variant that silently stopped detecting races fails.
  const listed = configured
    ? execFileSync('ctest', ['--test-dir', buildDir, '-N'], { encoding: 'utf8' })
    : '';
  const sanitizers = ['native_tests_asan', 'native_tests_tsan', 'tsan_canary'].filter((t) =>
    new RegExp(`Test +#\\d+: ${t}$`, 'm').test(listed),
  );
  it.skipIf(sanitizers.length === 0)(
    'pass under ASan+UBSan and TSan; the TSan canary race is reported (ctest)',
    async () => {
      // Asynchronous: these runs take tens of seconds, and a blocked worker misses vitest's RPC deadline.
      for (const t of sanitizers) await run('cmake', ['--build', buildDir, '--target', t, '-j', '2']);
      const { stdout: out } = await run('ctest', [
        '--test-dir',
        buildDir,
        '-R',
        `^(${sanitizers.join('|')})$`,
        '--output-on-failure',
      ]);
      expect(out).toMatch(/100% tests passed/);
      expect(out).toMatch(/native_tests_tsan/);
      expect(out).toMatch(/tsan_canary/);
      // The worker facility's stress tests ran in the TSan binary (not filtered out, not renamed away).
      const { stdout: tsan } = await run(join(buildDir, 'native_tests_tsan'), ['Work'], {
        env: { ...process.env, TSAN_OPTIONS: 'halt_on_error=1' },
      });
      expect(tsan).toMatch(/ok {3}WorkCloseRacesWithProducersAndWorkers/);
      expect(tsan).toMatch(/\d+ tests, 0 failed checks/);
    },
    600_000,
  );

  // The libFuzzer targets (native/fuzz, built with clang when available) run for a few seconds each over
  // their seed corpus: a crash, sanitizer report or failed invariant fails the test.
  const fuzzTests = configured
    ? execFileSync('ctest', ['--test-dir', buildDir, '-N', '-R', '^fuzz_'], { encoding: 'utf8' })
        .split('\n')
        .filter((l) => /Test +#\d+: fuzz_/.test(l)).length
    : 0;
  // With gcc as the main compiler the fuzzers are one external clang project (target `fuzzers`, built in
  // fuzz-build/); with clang they are ordinary targets, built by `all`.
  const fuzzTarget = existsSync(join(buildDir, 'fuzz-build')) ? 'fuzzers' : 'all';
  it.skipIf(fuzzTests === 0)('libFuzzer targets survive a short run (needs clang; ctest -R ^fuzz_)', () => {
    // Only the fuzzers (the sanitizer variants of the unit tests are built by the test above).
    execFileSync('cmake', ['--build', buildDir, '--target', fuzzTarget, '-j', '2'], { stdio: 'pipe' });
    const out = execFileSync('ctest', ['--test-dir', buildDir, '-R', '^fuzz_', '--output-on-failure'], {
      encoding: 'utf8',
    });
    expect(out).toMatch(/100% tests passed/);
    expect(out).toMatch(/fuzz_rtp_parse_fuzz/);
    expect(out).toMatch(/fuzz_rtcp_parse_fuzz/);
    expect(out).toMatch(/fuzz_audio_receiver_fuzz/);
    expect(out).toMatch(/fuzz_audio_sender_fuzz/);
    expect(out).toMatch(/fuzz_vp8_depacketizer_fuzz/);
    expect(out).toMatch(/fuzz_rtcp_feedback_fuzz/);
    expect(out).toMatch(/fuzz_jitter_buffer_fuzz/);
    expect(out).toMatch(/fuzz_vp8_decode_fuzz/);
  }, 300_000);
});
