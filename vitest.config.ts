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
  },
});
