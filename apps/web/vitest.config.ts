import { defineProject } from 'vitest/config';
import { responseChecks } from './responseChecks.ts';

export default defineProject({
  plugins: [responseChecks()],
  resolve: { conditions: ['@prof/source'] },
  ssr: { resolve: { conditions: ['@prof/source'] } },
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/globalSetup.ts'],
    testTimeout: 120_000,
    hookTimeout: 240_000,
  },
});
