// What the server's decoded-document views and the browser's export worker derive from a
// profile's columns (ProfileColumns), and the NaN-gap rules behind it, against brute force.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type BinningError,
  buildMemorySummary,
  carriedForward,
  checkThread,
  compactRun,
  everyValueFinite,
  finiteRows,
  isBinningError,
  memoryGrowth,
  missingSeries,
  ProfileColumns,
  queryBins,
  SummariesBuilder,
  threadIndices,
  threadSampleCounts,
  sampleRange,
  wholeRun,
  withoutRootFrames,
} from '../src/index.js';
import { profileArb, type RandomProfile } from './trees.js';

/** A column with some readings missing (NaN, ±Infinity) at the positions `holes` picks. */
const gappyArb = fc
  .tuple(
    fc.array(fc.double({ min: 0, max: 1e9, noNaN: true }), { maxLength: 60 }),
    fc.array(fc.nat(), { maxLength: 20 }),
  )
  .map(([values, holes]) => {
    const column = Float64Array.from(values);
    for (const h of holes) if (column.length) column[h % column.length] = [Number.NaN, Infinity, -Infinity][h % 3];
    return column;
  });

describe('NaN gaps', () => {
  it('finiteRows keeps exactly the rows with a finite reading, in order', () => {
    fc.assert(
      fc.property(gappyArb, fc.boolean(), (column, subset) => {
        const rows = subset ? Uint32Array.from(column.keys()).filter((i) => i % 2 === 1) : undefined;
        const expected = [...(rows ?? column.keys())].filter((i) => Number.isFinite(column[i]));
        expect([...finiteRows(column, rows)]).toEqual(expected);
        expect(everyValueFinite(column)).toBe(column.every((v) => Number.isFinite(v)));
      }),
    );
  });

  it('carriedForward holds the last reading across a gap (the first one before any), 0 when there is none', () => {
    expect([...carriedForward(Float64Array.of(Number.NaN, 5, Number.NaN, Infinity, 7, Number.NaN))]).toEqual([
      5, 5, 5, 5, 7, 7,
    ]);
    expect([...carriedForward(Float64Array.of(Number.NaN, Number.NaN))]).toEqual([0, 0]);
    fc.assert(
      fc.property(gappyArb, (column) => {
        const out = carriedForward(column);
        const first = column.find((v) => Number.isFinite(v)) ?? 0;
        for (let i = 0; i < column.length; i++) {
          let j = i;
          while (j >= 0 && !Number.isFinite(column[j])) j--;
          expect(out[i]).toBe(j >= 0 ? column[j] : first);
        }
      }),
    );
  });

  it('growth across a gap goes to the sample that observed it, nothing to the gap', () => {
    const growth = memoryGrowth(carriedForward(Float64Array.of(100, Number.NaN, Number.NaN, 160, 150)));
    expect([...growth]).toEqual([0, 0, 0, 60, 0]);
  });
});

/** A random profile's columns, its memory with gaps, and a `heap` series only sometimes. */
function columnsOf(p: RandomProfile, holes: number[], heap: boolean) {
  const memory = p.memory.slice();
  for (const h of holes) if (memory.length) memory[h % memory.length] = Number.NaN;
  const threads = p.thread.reduce((m, t) => Math.max(m, t + 1), 1);
  const time = Float64Array.from(p.sampleStack, (_, i) => i * 2.5);
  return {
    stacks: { parent: p.parent, frame: p.frame },
    samples: {
      time,
      stack: p.sampleStack,
      thread: p.thread,
      memory,
      heap: heap ? p.memory : null,
      weight: p.weight,
    },
    threads,
  };
}

describe('ProfileColumns', () => {
  it('thread rows, runs, memory bins and folded runs equal the direct computation', () => {
    fc.assert(
      fc.property(
        profileArb,
        fc.array(fc.nat(), { maxLength: 10 }),
        fc.boolean(),
        fc.nat(),
        fc.nat(),
        (p, holes, heap, a, b) => {
          const input = columnsOf(p, holes, heap);
          const c = new ProfileColumns(input);
          const { time, memory } = input.samples;
          expect(c.available).toEqual(heap ? ['rss', 'heap'] : ['rss']);
          for (const thread of [undefined, 0, input.threads - 1]) {
            const rows = thread === undefined ? undefined : threadIndices(p.thread, thread);
            expect(c.rowsOf(thread)).toEqual(rows);
            // The same array the second time: computed once.
            expect(c.rowsOf(thread)).toBe(c.rowsOf(thread));
            const n = rows ? rows.length : time.length;
            const from = n ? (a % (n * 3)) - n / 2 : 0;
            const to = from + (n ? b % (n * 3) : 1);
            const run = c.run(thread, from, to);
            const positions = [...Array(n).keys()].filter((k) => {
              const t = time[rows ? rows[k] : k];
              return t >= from && t < to;
            });
            expect(run.end - run.start).toBe(positions.length);
            if (positions.length) expect(run.start).toBe(positions[0]);

            // Memory: the summary of the finite readings only.
            const finite = [...(rows ?? time.keys())].filter((i) => Number.isFinite(memory[i]));
            const direct = buildMemorySummary(time, memory, Uint32Array.from(finite));
            const q = { from: -1, to: time.length * 2.5 + 1, bins: 7 };
            expect(queryBins(c.memorySummary(thread, 'rss'), q)).toEqual(queryBins(direct, q));

            // Folded runs: growth of the carried-forward series, recorded weights, or a sample each.
            const growth = memoryGrowth(carriedForward(memory));
            const opts = { start: run.start, end: run.end, indices: rows };
            expect(c.compactRun(thread, run.start, run.end, 'rss')).toEqual(
              compactRun(input.stacks, p.sampleStack, { ...opts, weight: growth }),
            );
            expect(c.compactRun(thread, run.start, run.end, 'weight')).toEqual(
              compactRun(input.stacks, p.sampleStack, { ...opts, weight: p.weight }),
            );
            expect(c.compactRun(thread, run.start, run.end)).toEqual(compactRun(input.stacks, p.sampleStack, opts));
          }
          if (input.samples.time.length) expect(c.derivedBytes).toBeGreaterThan(0);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('a column without gaps is used as it is; with gaps, growth reads a carried-forward copy', () => {
    const input = {
      stacks: { parent: Int32Array.of(-1), frame: Uint32Array.of(0) },
      samples: {
        time: Float64Array.of(0, 1, 2),
        stack: Int32Array.of(0, 0, 0),
        thread: Uint32Array.of(0, 0, 0),
        memory: Float64Array.of(10, 20, 30),
        heap: Float64Array.of(10, Number.NaN, 30),
        weight: null,
      },
      threads: 1,
    };
    const c = new ProfileColumns(input);
    expect(c.growthColumn('rss')).toBe(input.samples.memory);
    expect([...c.growthColumn('heap')]).toEqual([10, 10, 30]);
    expect([...c.growth('heap')]).toEqual([0, 0, 20]);
    // The heap bins hold the two readings, not a guess for the missing one.
    expect(c.memorySummary(undefined, 'heap').length).toBe(2);
  });

  it('a thread or series the profile lacks is a BinningError with the code the server maps', () => {
    const c = new ProfileColumns({
      stacks: { parent: Int32Array.of(-1), frame: Uint32Array.of(0) },
      samples: {
        time: Float64Array.of(0),
        stack: Int32Array.of(0),
        thread: Uint32Array.of(0),
        memory: null,
        heap: null,
        weight: null,
      },
      threads: 1,
    });
    const codeOf = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        expect(isBinningError(e)).toBe(true);
        return [(e as BinningError).code, (e as Error).message];
      }
      throw new Error('no error');
    };
    expect(codeOf(() => c.rowsOf(1))).toEqual([
      'bad-thread',
      'thread must be a thread row from 0 to 0; thread=1 is not a thread of this profile',
    ]);
    expect(codeOf(() => c.run(-1, 0, 1))[0]).toBe('bad-thread');
    expect(codeOf(() => c.run(0.5, 0, 1))[0]).toBe('bad-thread');
    expect(codeOf(() => c.memorySummary(undefined, 'rss'))).toEqual([
      'no-memory',
      'this profile has no memory samples',
    ]);
    expect(codeOf(() => c.growth('heap'))).toEqual([
      'no-series',
      'this profile has no V8 heap (heap) series; it has no memory series at all',
    ]);
    expect(missingSeries('heap', ['rss']).message).toBe('this profile has no V8 heap (heap) series; it has rss');
    expect(codeOf(() => checkThread(0, 0))).toEqual(['bad-thread', 'thread=0: this profile has no threads']);
    expect(isBinningError(new RangeError('x'))).toBe(false);
  });
});

describe('wholeRun', () => {
  it('is a window holding every sample, from the start or an earlier first sample', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: -1e3, max: 1e12, noNaN: true }), { minLength: 1, maxLength: 50 }),
        (times) => {
          const time = Float64Array.from(times).sort();
          const w = wholeRun(time[0], time[time.length - 1]);
          expect(w.from).toBe(Math.min(0, time[0]));
          expect(w.to).toBeGreaterThan(time[time.length - 1]);
          expect(sampleRange(time, w.from, w.to)).toEqual({ start: 0, end: time.length });
        },
      ),
    );
    expect(wholeRun(0, 0).from).toBe(0);
    expect(wholeRun(0, 0).to).toBeGreaterThan(0);
  });
});

describe('per-thread counts and launcher frames', () => {
  it('threadSampleCounts counts each thread row, the builder counts the same while samples stream by', () => {
    fc.assert(
      fc.property(profileArb, fc.integer({ min: 1, max: 50 }), (p, chunk) => {
        const threads = 3;
        const counts = threadSampleCounts(p.thread, threads);
        expect(counts).toEqual([0, 1, 2].map((t) => p.thread.filter((x) => x === t).length));
        const time = Float64Array.from(p.sampleStack, (_, i) => 10 + i);
        const builder = new SummariesBuilder({ stacks: { parent: p.parent, frame: p.frame }, threads });
        builder.pushColumns({ time, stack: p.sampleStack, thread: p.thread }, chunk);
        const pushed = builder.pushed;
        expect([...pushed.perThread]).toEqual(counts);
        expect(pushed.samples).toBe(time.length);
        expect(pushed.firstTime).toBe(time.length ? 10 : Number.NaN);
        expect(pushed.lastTime).toBe(time.length ? 9 + time.length : Number.NaN);
      }),
    );
  });

  it('withoutRootFrames makes the stacks right below launcher frames roots, rows unchanged', () => {
    // 0 runpy → 1 main → 2 work; 3 runpy alone; 4 other root
    const stacks = { parent: Int32Array.of(-1, 0, 1, -1, -1), frame: Uint32Array.of(0, 1, 2, 0, 3) };
    const cut = withoutRootFrames(stacks, Uint8Array.of(1, 0, 0, 1, 0));
    expect([...cut.parent]).toEqual([-1, -1, 1, -1, -1]);
    expect(cut.frame).toBe(stacks.frame);
    expect([...stacks.parent]).toEqual([-1, 0, 1, -1, -1]);
  });
});
