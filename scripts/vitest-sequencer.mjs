// @ts-check
// Vitest's own order runs the projects one after the other (alphabetically: the browser tests last)
// and, on a clean clone with no cache, unknown files by size. Every file waits on something slow
// (a server, Chromium, Python, PostgreSQL), so the run ends when its slowest file does: this order
// starts the files that took longest last time first (scripts/test-durations.json, written by
// `node scripts/test-durations.mjs` from test-results/vitest.json), files not listed there before them.
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { BaseSequencer } from 'vitest/node';

/** @type {Record<string, number>} seconds per test file, by its path from the repository root */
const durations = JSON.parse(readFileSync(new URL('./test-durations.json', import.meta.url), 'utf8'));

export class SlowestFirstSequencer extends BaseSequencer {
  /** @param {import('vitest/node').TestSpecification[]} files */
  async sort(files) {
    const root = this.ctx.config.root;
    /** @param {import('vitest/node').TestSpecification} spec */
    const seconds = (spec) => durations[relative(root, spec.moduleId)] ?? Number.POSITIVE_INFINITY;
    return [...files].sort((a, b) => {
      const [sa, sb] = [seconds(a), seconds(b)];
      return sa === sb ? 0 : sb > sa ? 1 : -1;
    });
  }
}
