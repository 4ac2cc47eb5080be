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
  expectTiled(res, from, to);

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

/** The bins tile [from, to): each starts where the one before ends, none empty of time. */
function expectTiled(res: BinResult, from: number, to: number): void {
  const bins = res.bins;
  expect(bins).toBe(res.start.length);
  expect(bins).toBeGreaterThanOrEqual(1);
  expect([res.start[0], res.end[bins - 1]]).toEqual([from, to]);
  const untiled: number[] = [];
  for (let i = 0; i < bins; i++) {
    if (!(res.start[i] < res.end[i]) || (i > 0 && res.start[i] !== res.end[i - 1])) untiled.push(i);
  }
  expect(untiled, 'bins that do not tile the window').toEqual([]);
}

/**
 * Checks a `queryBins` result asked with `snap` against brute force by position: the bins tile
 * [from, to); they hold, in order, exactly the samples whose time is in the window; each sample's
 * time is within its bin's [start, end] (a sample may share its time with the next bin's start: the
 * first time of a block); an edge the window's ends do not fix that moved sits at a block start;
 * count, min and max are exact, mean and sd within 1e-9 as `expectBinsExact` allows.
 */
export function expectSnappedBins(
  res: BinResult,
  series: { time: Float64Array; value: Float64Array; rows: ArrayLike<number> | null },
  block: number,
): void {
  const { time, value, rows } = series;
  const { bins, from, to } = res;
  expectTiled(res, from, to);
  const n = rows ? rows.length : time.length;
  const timeAt = (k: number) => time[rows ? rows[k] : k];
  let first = 0;
  while (first < n && timeAt(first) < from) first++;
  let end = first;
  while (end < n && timeAt(end) < to) end++;
  expect([res.firstIndex[0], res.endIndex[bins - 1]]).toEqual([first, end]);
  const bad: object[] = [];
  for (let i = 0; i < bins; i++) {
    const lo = res.firstIndex[i];
    const hi = res.endIndex[i];
    if (i > 0 && lo !== res.endIndex[i - 1]) bad.push({ bin: i, gap: [res.endIndex[i - 1], lo] });
    if (res.count[i] !== hi - lo) bad.push({ bin: i, count: res.count[i], want: hi - lo });
    if (i > 0 && lo % block !== 0) {
      // Not moved: then it is the exact edge, the first sample at or after the bin's start.
      const exact = lo === n || timeAt(lo) >= res.start[i];
      if (!(exact && (lo === 0 || timeAt(lo - 1) < res.start[i]))) bad.push({ bin: i, edge: lo });
    }
    let sum = 0;
    let min = NaN;
    let max = NaN;
    for (let k = lo; k < hi; k++) {
      const t = timeAt(k);
      if (!(t >= res.start[i] && t <= res.end[i] && (t < res.end[i] || i < bins - 1))) bad.push({ bin: i, k, t });
      const v = value[rows ? rows[k] : k];
      sum += v;
      if (k === lo || v < min) min = v;
      if (k === lo || v > max) max = v;
    }
    const c = hi - lo;
    let m2 = 0;
    for (let k = lo; k < hi; k++) m2 += (value[rows ? rows[k] : k] - sum / c) ** 2;
    if (!Object.is(res.min[i], min) || !Object.is(res.max[i], max))
      bad.push({ bin: i, min: res.min[i], max: res.max[i] });
    if (c === 0 ? !Number.isNaN(res.mean[i]) : !close(res.mean[i], sum / c)) bad.push({ bin: i, mean: res.mean[i] });
    const sd = c === 0 ? NaN : Math.sqrt(m2 / c);
    if (c === 0 ? !Number.isNaN(res.sd[i]) : !(Math.abs(res.sd[i] - sd) <= 1e-9 * Math.max(Math.abs(sum / c), 1)))
      bad.push({ bin: i, sd: res.sd[i], want: sd });
  }
  expect(bad).toEqual([]);
}
