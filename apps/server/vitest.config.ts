import { defineProject } from 'vitest/config';

export default defineProject({
  resolve: { conditions: ['@prof/source'] },
  ssr: { resolve: { conditions: ['@prof/source'] } },
  // PostgreSQL and an S3-protocol server for the shared-store tests (started once, stopped after)
  test: { testTimeout: 60_000, hookTimeout: 60_000, globalSetup: ['../../scripts/vitest-services.mjs'] },
});
