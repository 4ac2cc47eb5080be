import { defineProject } from 'vitest/config';

export default defineProject({
  resolve: { conditions: ['@prof/source'] },
  ssr: { resolve: { conditions: ['@prof/source'] } },
  test: { testTimeout: 180_000, hookTimeout: 180_000 },
});
