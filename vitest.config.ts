import { defineConfig } from 'vitest/config';

// Real peers (node-datachannel, aiortc, Chromium) take seconds to connect on a shared 2-core machine,
// so timeouts are generous; speed is measured in bench/, never asserted here.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
    reporters: ['default'],
    // The servers under test (and the child processes they start) do not shed load: on a shared CI machine
    // the event loop is late because of the other test files, not because a server is overloaded. The tests
    // of load-aware admission pass their limits explicitly, which wins over this.
    env: { SMALL_WEBRTC_LOAD_SHEDDING: 'off' },
  },
});
