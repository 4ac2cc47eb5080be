// Assertions shared by the test files: library results against brute force.
import { expect } from 'vitest';
import { callTreeChildren, type BinResult, type CallTree } from '../src/index.js';
import { close, type PlainNode } from './reference.js';

/**
 * Checks a `queryBins` result against brute force: the bins tile [from, to) exactly, and each
 * bin's count, index range, mean, min, max and spread (sd: the root of the mean squared deviation
 * from the mean, two passes) equal those of the samples whose time falls in it, found by walking
 * every sample (through `rows` when given). Empty bins must be NaN. The mean within 1e-9 of itself,
 * the sd within 1e-9 of max(|mean|, 1): the summary merges partial M2s in another order.
 * Columns are compared whole, so a failure shows every wrong bin at once.
 */
export function expectBinsExact(
  res: BinResult,
  time: Float64Array,
  value: Float64Array,
  rows: ArrayLike<number> | null,
  from: number,
  to: number,
): void {
  const bins = res.bins;
  expect(bins).toBe(res.start.length);
  expect(bins).toBeGreaterThanOrEqual(1);
  expect([res.start[0], res.end[bins - 1]]).toEqual([from, to]);
  const untiled: number[] = [];
  for (let i = 0; i < bins; i++) {
    if (!(res.start[i] < res.end[i]) || (i > 0 && res.start[i] !== res.end[i - 1])) untiled.push(i);
  }
  expect(untiled, 'bins that do not tile the window').toEqual([]);

  const count = new Array<number>(bins).fill(0);
  const sum = new Array<number>(bins).fill(0);
  const min = new Array<number>(bins).fill(NaN);
  const max = new Array<number>(bins).fill(NaN);
  const n = rows ? rows.length : time.length;
  let before = 0;
  let bin = 0;
  for (let k = 0; k < n; k++) {
    const r = rows ? rows[k] : k;
    if (time[r] < from) before++;
    if (time[r] < from || time[r] >= to) continue;
    while (time[r] >= res.end[bin]) bin++;
    const v = value[r];
    if (count[bin]++ === 0) min[bin] = max[bin] = v;
    sum[bin] += v;
    if (v < min[bin]) min[bin] = v;
    if (v > max[bin]) max[bin] = v;
  }
  expect(Array.from(res.count)).toEqual(count);
  // Positions: a bin's samples follow those of the bins before it; an empty bin sits where one would go.
  let position = before;
  const ranges = count.map((c) => [position, (position += c)]);
  expect(count.map((_, i) => [res.firstIndex[i], res.endIndex[i]])).toEqual(ranges);
  // toEqual treats NaN as equal to NaN: empty bins must be NaN, never a filled-in value.
  expect(Array.from(res.max)).toEqual(max);
  expect(Array.from(res.min)).toEqual(min);
  const badMeans = count.flatMap((c, i) => {
    const mean = c === 0 ? NaN : sum[i] / c;
    return close(res.mean[i], mean) ? [] : [{ bin: i, got: res.mean[i], want: mean }];
  });
  expect(badMeans).toEqual([]);
  // Second pass: squared deviations from each bin's mean.
  const m2 = new Array<number>(bins).fill(0);
  for (let k = 0, b = 0; k < n; k++) {
    const r = rows ? rows[k] : k;
    if (time[r] < from || time[r] >= to) continue;
    while (time[r] >= res.end[b]) b++;
    m2[b] += (value[r] - sum[b] / count[b]) ** 2;
  }
  const badSds = count.flatMap((c, i) => {
    if (c === 0) return Number.isNaN(res.sd[i]) ? [] : [{ bin: i, got: res.sd[i], want: NaN }];
    const sd = Math.sqrt(m2[i] / c);
    const ok = res.sd[i] >= 0 && Math.abs(res.sd[i] - sd) <= 1e-9 * Math.max(Math.abs(sum[i] / c), 1);
    return ok ? [] : [{ bin: i, got: res.sd[i], want: sd }];
  });
  expect(badSds).toEqual([]);
}

/** Our call tree in the brute-force shape (children by frame), after checking its own invariants. */
export function treeToPlain(t: CallTree, node = 0): PlainNode {
  const kids = callTreeChildren(t, node);
  for (let i = 1; i < kids.length; i++) expect(t.total[kids[i]]).toBeLessThanOrEqual(t.total[kids[i - 1]]);
  let x = t.offset[node];
  let sum = t.self[node];
  for (const c of kids) {
    expect(t.parent[c]).toBe(node);
    expect(t.depth[c]).toBe(t.depth[node] + 1);
    expect(close(t.offset[c], x)).toBe(true);
    x += t.total[c];
    sum += t.total[c];
  }
  expect(close(sum, t.total[node])).toBe(true);
  return {
    frame: t.frame[node],
    self: t.self[node],
    total: t.total[node],
    children: kids.map((c) => treeToPlain(t, c)).sort((a, b) => a.frame - b.frame),
  };
}
