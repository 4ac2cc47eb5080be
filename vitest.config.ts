import { defineConfig } from 'vitest/config';
import { SlowestFirstSequencer } from './scripts/vitest-sequencer.mjs';
import projects from './vitest.workspace.ts';

export default defineConfig({
  test: {
    projects,
    // Vitest's default on 2 cores is one worker (cores - 1), and most files wait on child processes
    // (servers, Chromium, Python, PostgreSQL): two files at a time took the loaded run from 6.6 to under 5 min;
    // four, with the slowest first, took vitest from 847 to 368 s with other work loading the machine (load 12-18).
    maxWorkers: 4,
    // The slowest files first, whatever their project: the run ends when its slowest file does.
    sequence: { sequencer: SlowestFirstSequencer },
  },
});
