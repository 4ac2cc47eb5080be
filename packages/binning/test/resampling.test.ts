import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { binRows, buildMemorySummary, queryBins, sampleRange, threadIndices, type BinResult } from '../src/index.js';
import { expectBinsExact } from './expect.js';

interface Series {
  time: Float64Array;
  value: Float64Array;
}

/**
 * Sorted times with gaps and repeats; values up to 2^40 (bytes of a big process), integers or not.
 * Lengths come from a number and the samples from a seeded generator, so series are really long
 * (fast-check's own arrays stay short at the default size).
 */
const seriesArb = (maxLength: number) =>
  fc
    .record({
      n: fc.integer({ min: 1, max: maxLength }),
      origin: fc.double({ min: -1000, max: 1e6, noNaN: true }),
      integers: fc.boolean(),
      repeats: fc.double({ min: 0, max: 0.5, noNaN: true }),
      gaps: fc.double({ min: 0, max: 0.05, noNaN: true }),
      seed: fc.integer({ min: 1, max: 2 ** 30 }),
    })
    .map(({ n, origin, integers, repeats, gaps, seed }): Series => {
      const time = new Float64Array(n);
      const value = new Float64Array(n);
      let t = origin;
      let x = seed;
      const random = () => (x = (Math.imul(x, 1103515245) + 12345) >>> 0) / 2 ** 32;
      for (let i = 0; i < n; i++) {
        const r = random();
        t += r < repeats ? 0 : r < repeats + gaps ? 50 + 500 * random() : 5 * random();
        time[i] = t;
        const v = random() * 2 ** 40;
        value[i] = integers ? Math.floor(v) : v;
      }
      return { time, value };
    });

/** The bin count `queryBins` promises, then every bin against brute force. */
function expectExact(
  res: BinResult,
  s: Series,
  rows: number[],
  from: number,
  to: number,
  bins: number,
  align: boolean,
) {
  if (align) expect(res.bins).toBeLessThanOrEqual(bins + 1);
  else expect(res.bins).toBe(bins);
  expectBinsExact(res, s.time, s.value, rows, from, to);
}

const allRows = (n: number) => Array.from({ length: n }, (_, i) => i);

describe('queryBins', () => {
  it('keeps a planted one-sample spike as the max of its bin at every zoom level', () => {
    fc.assert(
      fc.property(
        seriesArb(6000),
        fc.nat(),
        fc.integer({ min: 1, max: 400 }),
        fc.boolean(),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (s, at, bins, align, skew) => {
          const spikeAt = at % s.time.length;
          const spike = 2 ** 41 + 12345;
          s.value[spikeAt] = spike;
          const summary = buildMemorySummary(s.time, s.value);
          const t = s.time[spikeAt];
          const first = s.time[0];
          const last = s.time[s.time.length - 1];
          // Zoom from the whole series down to a window a millionth as wide, the spike off-centre.
          for (let width = (last - first + 1) * 2; width > (last - first + 1) * 1e-6; width /= 3) {
            const from = t - width * skew;
            const to = from + width;
            if (!(t >= from && t < to)) continue;
            const res = queryBins(summary, { from, to, bins, align });
            let holder = -1;
            for (let i = 0; i < res.bins; i++) if (res.start[i] <= t && t < res.end[i]) holder = i;
            expect(holder).toBeGreaterThanOrEqual(0);
            expect(res.max[holder]).toBe(spike);
            expect(res.count[holder]).toBeGreaterThan(0);
          }
        },
      ),
      { numRuns: 100 },
    );
  });

  it('equals brute force: counts, means, extremes, index ranges, exact tiling', () => {
    fc.assert(
      fc.property(
        seriesArb(3000),
        fc.double({ min: -0.2, max: 1.1, noNaN: true }),
        fc.double({ min: 1e-4, max: 1.5, noNaN: true }),
        fc.integer({ min: 1, max: 120 }),
        fc.boolean(),
        (s, a, w, bins, align) => {
          const first = s.time[0];
          const span = s.time[s.time.length - 1] - first + 1;
          const from = first + a * span;
          const to = from + w * span;
          fc.pre(from < to);
          const res = queryBins(buildMemorySummary(s.time, s.value), { from, to, bins, align });
          expectExact(res, s, allRows(s.time.length), from, to, bins, align);
        },
      ),
      { numRuns: 80 },
    );
  });

  it('equals brute force on a thread subset', () => {
    fc.assert(
      fc.property(
        seriesArb(3000),
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 1, max: 60 }),
        fc.boolean(),
        (s, threads, bins, align) => {
          const thread = new Uint32Array(s.time.length).map((_, i) => (i * 7 + (i >> 3)) % threads);
          const idx = threadIndices(thread, threads - 1);
          const rows = Array.from(idx);
          expect(rows.every((r) => thread[r] === threads - 1)).toBe(true);
          expect(rows.length).toBe(Array.from(thread).filter((t) => t === threads - 1).length);
          const from = s.time[0] - 1;
          const to = s.time[s.time.length - 1] + 1;
          const res = queryBins(buildMemorySummary(s.time, s.value, idx), { from, to, bins, align });
          expectExact(res, s, rows, from, to, bins, align);
        },
      ),
      { numRuns: 40 },
    );
  });

  it('writes rows with means and spreads in whole units, each mean within its bin', () => {
    // Bins of two readings: 1 and 2 (mean 1.5, sd 0.5), 7.25 twice (no whole unit within), 10 and 13.
    const time = Float64Array.of(0, 1, 2, 3, 4, 5);
    const value = Float64Array.of(1, 2, 7.25, 7.25, 10, 13);
    const res = queryBins(buildMemorySummary(time, value), { from: 0, to: 6, bins: 3 });
    expect(Array.from(res.mean)).toEqual([1.5, 7.25, 11.5]);
    const rows = binRows(res);
    expect(rows.map((r) => r.mean)).toEqual([2, 7.25, 12]);
    expect(rows.map((r) => r.sd)).toEqual([1, 0, 2]);
    expect(rows.map((r) => [r.min, r.max])).toEqual([
      [1, 2],
      [7.25, 7.25],
      [10, 13],
    ]);
  });

  it('marks every bin empty in windows with no samples', () => {
    fc.assert(
      fc.property(seriesArb(500), fc.integer({ min: 1, max: 50 }), fc.boolean(), (s, bins, align) => {
        const n = s.time.length;
        const summary = buildMemorySummary(s.time, s.value);
        const windows: [number, number][] = [
          [s.time[0] - 100, s.time[0]],
          [s.time[n - 1] + 1e-9 * Math.max(1, Math.abs(s.time[n - 1])) + 1e-9, s.time[n - 1] + 1000],
        ];
        for (let i = 1; i < n; i++) {
          if (s.time[i] - s.time[i - 1] > 10) windows.push([s.time[i - 1] + 1, s.time[i]]);
        }
        for (const [from, to] of windows) {
          const res = queryBins(summary, { from, to, bins, align });
          expect(Array.from(res.count).every((c) => c === 0)).toBe(true);
          expect(Array.from(res.mean).every(Number.isNaN)).toBe(true);
          expect(Array.from(res.max).every(Number.isNaN)).toBe(true);
          expect(res.firstIndex[0]).toBe(sampleRange(s.time, from, to).start);
          expect(binRows(res).every((r) => r.count === 0 && r.mean === null && r.max === null && r.min === null)).toBe(
            true,
          );
        }
      }),
      { numRuns: 40 },
    );
  });

  it('snaps aligned bins to multiples of the width, so panning keeps interior bins', () => {
    const time = Float64Array.from({ length: 1000 }, (_, i) => i);
    const value = Float64Array.from({ length: 1000 }, (_, i) => (i * 37) % 101);
    const summary = buildMemorySummary(time, value);
    const a = queryBins(summary, { from: 103, to: 503, bins: 40, align: true });
    const b = queryBins(summary, { from: 117, to: 517, bins: 40, align: true });
    expect(a.bins).toBe(41);
    expect([a.start[0], a.end[0], a.start[40], a.end[40]]).toEqual([103, 110, 500, 503]);
    // Interior bins present in both windows have identical contents.
    for (let i = 2; i < 40; i++) {
      const j = Array.from(b.start).indexOf(a.start[i]);
      expect(j).toBeGreaterThan(0);
      expect([b.end[j], b.count[j], b.mean[j], b.max[j]]).toEqual([a.end[i], a.count[i], a.mean[i], a.max[i]]);
    }
  });

  it('merges bins narrower than float precision instead of returning empty-width ones', () => {
    // ms since 1970 as times: a window of a few ulps cannot hold 2000 distinct edges.
    const t0 = 1.7e12;
    const time = Float64Array.from({ length: 50 }, (_, i) => t0 + i * 2 ** -12);
    const value = Float64Array.from({ length: 50 }, (_, i) => (i === 7 ? 1e9 : i));
    const summary = buildMemorySummary(time, value);
    for (const align of [false, true]) {
      const from = t0;
      const to = t0 + 50 * 2 ** -12;
      const res = queryBins(summary, { from, to, bins: 2000, align });
      expect(res.bins).toBeLessThan(2000);
      expect(res.bins).toBeGreaterThan(1);
      expectBinsExact(res, time, value, null, from, to);
      expect(Math.max(...res.max.filter((m) => !Number.isNaN(m)))).toBe(1e9);
    }
  });

  it('stays exact on a hundred thousand samples near 2^41 bytes', () => {
    const n = 100_000;
    const time = Float64Array.from({ length: n }, (_, i) => i * 2);
    const value = Float64Array.from({ length: n }, (_, i) => 2 ** 41 - ((i * 7919) % 100_003) * 1024);
    const res = queryBins(buildMemorySummary(time, value), { from: 0, to: 2 * n, bins: 7 });
    for (let i = 0; i < 7; i++) {
      let sum = 0n;
      for (let k = res.firstIndex[i]; k < res.endIndex[i]; k++) sum += BigInt(value[k]);
      const exactMean = Number(sum) / res.count[i];
      expect(Math.abs(res.mean[i] - exactMean) / exactMean).toBeLessThan(1e-12);
    }
  });

  it('keeps the spread exact on readings near 2^53 bytes, at block and node edges', () => {
    // A raw sum of squares (2^105) would keep nothing of a spread of a few MB; M2 merged per node keeps it.
    const n = 70_000;
    const time = Float64Array.from({ length: n }, (_, i) => i);
    const value = Float64Array.from({ length: n }, (_, i) => 2 ** 52 + ((i * 7919) % 100_003) * 1024);
    const summary = buildMemorySummary(time, value);
    // Windows starting and ending on a block (32), a level-1 node (256) and a level-2 node (2048), and off them.
    for (const [from, to] of [
      [0, n],
      [32, 2048 * 3],
      [256, 2048 * 20 + 1],
      [31, 4097],
      [2048, 2049],
    ]) {
      const res = queryBins(summary, { from, to, bins: 3 });
      for (let i = 0; i < res.bins; i++) {
        if (res.count[i] === 0) continue;
        let s1 = 0n;
        let s2 = 0n;
        for (let k = res.firstIndex[i]; k < res.endIndex[i]; k++) {
          s1 += BigInt(value[k]);
          s2 += BigInt(value[k]) ** 2n;
        }
        const c = BigInt(res.count[i]);
        // Exact: variance · c² = c·Σx² − (Σx)².
        const sd = Math.sqrt(Number(c * s2 - s1 * s1) / Number(c * c));
        expect(Math.abs(res.sd[i] - sd), `[${from}, ${to}) bin ${i}`).toBeLessThanOrEqual(1e-9 * Math.max(sd, 1));
      }
    }
  });

  it('reports its own size, at most half the series (16 bytes per sample): about 1.4 bytes per sample', () => {
    const n = 50_000;
    const time = Float64Array.from({ length: n }, (_, i) => i);
    const value = new Float64Array(n);
    const summary = buildMemorySummary(time, value);
    let held = summary.blockTime.byteLength;
    for (const l of summary.levels) held += l.sum.byteLength + l.min.byteLength + l.max.byteLength + l.m2.byteLength;
    expect(summary.bytes).toBe(held);
    expect(summary.bytes).toBeLessThanOrEqual((time.byteLength + value.byteLength) / 2);
    expect(summary.bytes / n).toBeLessThan(1.5);
    expect(summary.firstTime).toBe(0);
    expect(summary.lastTime).toBe(n - 1);
  });

  it('rejects bad input with a message naming what is wrong', () => {
    const time = Float64Array.of(0, 1, 3, 2);
    expect(() => buildMemorySummary(time, new Float64Array(4))).toThrow(/sample 3 has time 2 after 3/);
    expect(() => buildMemorySummary(Float64Array.of(0, NaN), new Float64Array(2))).toThrow(/sample 1 has time NaN/);
    expect(() => buildMemorySummary(Float64Array.of(0, 1), Float64Array.of(1, NaN))).toThrow(
      /value of sample 1 is NaN/,
    );
    expect(() => buildMemorySummary(Float64Array.of(0, 1), Float64Array.of(1, Infinity), Uint32Array.of(1))).toThrow(
      /value of sample 1 \(position 0 of indices\) is Infinity/,
    );
    expect(() => buildMemorySummary(new Float64Array(3), new Float64Array(2))).toThrow(
      /time has 3 samples but value has 2/,
    );
    expect(() => buildMemorySummary(new Float64Array(3), new Float64Array(3), Uint32Array.of(0, 5))).toThrow(
      /indices\[1\] = 5/,
    );
    const summary = buildMemorySummary(Float64Array.of(0, 1), Float64Array.of(5, 6));
    expect(() => queryBins(summary, { from: 2, to: 1, bins: 3 })).toThrow(/from < to/);
    expect(() => queryBins(summary, { from: 0, to: 1, bins: 0 })).toThrow(/bins must be an integer/);
    expect(() => queryBins(summary, { from: 0, to: Infinity, bins: 3 })).toThrow(/finite/);
  });

  it('names the first bad sample wherever it is in a long series, directly and through indices', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 9999 }),
        fc.constantFrom('NaN value', 'Infinity value', 'time backwards', 'NaN time'),
        fc.boolean(),
        (at, kind, indexed) => {
          const n = 10_000;
          const time = Float64Array.from({ length: n }, (_, i) => i * 2);
          const value = Float64Array.from({ length: n }, (_, i) => 1e6 + i);
          if (kind === 'NaN value') value[at] = NaN;
          if (kind === 'Infinity value') value[at] = Infinity;
          if (kind === 'time backwards') time[at] = time[at - 1] - 1;
          if (kind === 'NaN time') time[at] = NaN;
          const indices = indexed ? Uint32Array.from({ length: n }, (_, i) => i) : undefined;
          const where = indexed ? `sample ${at} \\(position ${at} of indices\\)` : `sample ${at}`;
          const message = kind.endsWith('value')
            ? `value of ${where} is ${value[at]}, not a finite number`
            : `${where} has time ${time[at]} after`;
          expect(() => buildMemorySummary(time, value, indices)).toThrow(new RegExp(message));
        },
      ),
      { numRuns: 60 },
    );
    const huge = Float64Array.from({ length: 64 }, () => Number.MAX_VALUE);
    expect(() =>
      buildMemorySummary(
        Float64Array.from({ length: 64 }, (_, i) => i),
        huge,
      ),
    ).toThrow(/positions 0 to 63 sum beyond/);
  });

  it('handles an empty series', () => {
    const summary = buildMemorySummary(new Float64Array(0), new Float64Array(0));
    const res = queryBins(summary, { from: 0, to: 10, bins: 5 });
    expect(Array.from(res.count)).toEqual([0, 0, 0, 0, 0]);
    expect(summary.firstTime).toBeNaN();
  });
});

describe('sampleRange', () => {
  it('finds [start, end) of from <= time < to, directly and through indices', () => {
    const time = Float64Array.of(0, 1, 1, 2, 5, 5, 9);
    expect(sampleRange(time, 1, 5)).toEqual({ start: 1, end: 4 });
    expect(sampleRange(time, -3, 100)).toEqual({ start: 0, end: 7 });
    expect(sampleRange(time, 6, 9)).toEqual({ start: 6, end: 6 });
    expect(sampleRange(time, 5, 5)).toEqual({ start: 4, end: 4 });
    expect(sampleRange(time, 1, 6, Uint32Array.of(0, 2, 4, 6))).toEqual({ start: 1, end: 3 });
  });
});
