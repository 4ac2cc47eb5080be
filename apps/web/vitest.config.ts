import { defineProject } from 'vitest/config';

export default defineProject({
  resolve: { conditions: ['@prof/source'] },
  ssr: { resolve: { conditions: ['@prof/source'] } },
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/globalSetup.ts'],
    testTimeout: 120_000,
    hookTimeout: 240_000,
  },
});
