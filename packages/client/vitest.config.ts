import { defineProject } from 'vitest/config';

export default defineProject({
  resolve: { conditions: ['@prof/source'] },
  ssr: { resolve: { conditions: ['@prof/source'] } },
  // Timeouts only catch hangs: uploading every fixture through a real server took 62 s at load 15-19.
  test: { testTimeout: 180_000, hookTimeout: 180_000 },
});
