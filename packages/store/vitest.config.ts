import { defineProject } from 'vitest/config';

export default defineProject({
  resolve: { conditions: ['@prof/source'] },
  ssr: { resolve: { conditions: ['@prof/source'] } },
  // PostgreSQL and an S3-protocol server for the shared-store tests (started once, stopped after)
  test: {
    testTimeout: 180_000,
    hookTimeout: 180_000,
    globalSetup: ['../../scripts/vitest-services.mjs'],
    // PROF_BENCH=1 runs the index bench (100,000 rows in SQLite and PostgreSQL) instead of the tests
    include: process.env.PROF_BENCH === '1' ? ['bench/*.test.ts'] : ['test/**/*.test.ts'],
  },
});
