#!/usr/bin/env node
// Writes scripts/test-durations.json (seconds per test file) from the report of the last `npm test`
// (test-results/vitest.json); the vitest sequencer starts the slowest files first. A file run by two
// projects (the server's store suites on SQLite and on PostgreSQL) counts with its longer time.
import { readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { root } from './lib.mjs';

const report = JSON.parse(readFileSync(join(root, 'test-results', 'vitest.json'), 'utf8'));
/** @type {Record<string, number>} */
const seconds = {};
for (const file of report.testResults) {
  const name = relative(root, file.name);
  const took = Math.round((file.endTime - file.startTime) / 100) / 10;
  seconds[name] = Math.max(seconds[name] ?? 0, took);
}
const sorted = Object.fromEntries(Object.entries(seconds).sort(([a], [b]) => (a < b ? -1 : 1)));
writeFileSync(join(root, 'scripts', 'test-durations.json'), `${JSON.stringify(sorted, null, 2)}\n`);
console.log(
  `${Object.keys(sorted).length} files, ${Object.values(sorted)
    .reduce((a, b) => a + b, 0)
    .toFixed(0)} s in all`,
);
