import { defineConfig } from 'vitest/config';

/**
 * `npm run test:reliability`: the reliability suites at full size, one file at a time (the
 * slow-client suite measures latency). Each prints its counts; the global setup gathers them
 * into a JSON summary under the temp dir and prints its path. Sizes can be changed by env.
 */
export default defineConfig({
  test: {
    include: ['test/reliability/**/*.test.ts', 'test/e2e/crash.test.ts'],
    globalSetup: ['test/reliability/global-setup.ts'],
    testTimeout: 600_000,
    hookTimeout: 180_000,
    pool: 'forks',
    fileParallelism: false,
    env: {
      ADCLICK_FUZZ_CASES: process.env.ADCLICK_FUZZ_CASES ?? '10000',
      ADCLICK_FAULT_LOAD_MS: process.env.ADCLICK_FAULT_LOAD_MS ?? '3000',
      ADCLICK_SLOWLORIS_CONNECTIONS: process.env.ADCLICK_SLOWLORIS_CONNECTIONS ?? '200',
    },
  },
});
