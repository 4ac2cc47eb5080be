import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import * as binning from '../src/index.js';

it('runs the README example and prints what its comments say', () => {
  const readme = readFileSync(resolve(dirname(fileURLToPath(import.meta.url)), '../README.md'), 'utf8');
  const code = /```js\n([\s\S]*?)```/.exec(readme)![1];
  const body = code.replace(/^import[\s\S]*?from '@prof\/binning';\n/m, '');
  expect(body).not.toContain('import ');
  const printed: unknown[][] = [];
  const run = new Function('lib', 'console', `const {${Object.keys(binning).join(',')}} = lib;\n${body}`);
  run(binning, { log: (...args: unknown[]) => printed.push(args) });
  expect(printed[0][0]).toEqual([
    { start: 0, end: 4, count: 2, mean: 102400, max: 102400, min: 102400, sd: 0 },
    { start: 4, end: 8, count: 2, mean: 522240, max: 921600, min: 122880, sd: 399360 },
    { start: 8, end: 12, count: 2, mean: 107520, max: 112640, min: 102400, sd: 5120 },
  ]);
  expect(printed[1]).toEqual([['main', 'work'], ['alloc'], 0.5]);
  expect(printed[2][0]).toEqual([
    ['main > work > alloc', 1, 819200],
    ['main > work > sum', 1, 0],
  ]);
  expect(printed[3]).toEqual([2]);
  expect(printed.slice(4, 8).map((p) => p[0])).toEqual([
    'main total=6 self=0',
    '  work total=6 self=1',
    '    sum total=4 self=4',
    '    alloc total=1 self=1',
  ]);
  expect(printed[8][0]).toEqual(['sum', 'alloc']);
  expect(printed[9][0]).toEqual(['main 0/6', 'work 1/6', 'sum 4/4', 'alloc 1/1']);
  expect(printed[10]).toEqual([
    [{ frame: 0, total: 6 }],
    [
      { frame: 3, total: 4 },
      { frame: 2, total: 1 },
    ],
  ]);
  expect(printed[11]).toEqual([819200]);
});
