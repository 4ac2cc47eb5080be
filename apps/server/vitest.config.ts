import { defineProject } from 'vitest/config';

export default defineProject({
  resolve: { conditions: ['@prof/source'] },
  ssr: { resolve: { conditions: ['@prof/source'] } },
  // PostgreSQL and an S3-protocol server for the shared-store tests (started once, stopped after)
  // Timeouts only catch hangs: the heaviest files (×3 big_memory, 200 concurrent uploads, pip into a venv) took
  // 41-60 s at load 15-20, so 60 s failed loaded runs that would have passed.
  test: { testTimeout: 180_000, hookTimeout: 180_000, globalSetup: ['../../scripts/vitest-services.mjs'] },
});
