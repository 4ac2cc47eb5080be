import { defineConfig } from 'vitest/config';
import projects from './vitest.workspace.ts';

export default defineConfig({
  test: {
    projects,
    // Vitest's default on 2 cores is one worker (cores - 1), and most files wait on child processes
    // (servers, Chromium, Python, PostgreSQL): two files at a time took the loaded run from 6.6 to under 5 min.
    maxWorkers: 2,
  },
});
