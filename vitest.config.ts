import { configDefaults, defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // At full size in `npm run test:reliability` only (vitest.reliability.config.ts); the fault
    // suites of test/reliability run here too, at their small default sizes.
    exclude: [
      ...configDefaults.exclude,
      'test/reliability/openapi-fuzz.test.ts',
      'test/reliability/slow-clients.test.ts',
    ],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
  },
});
