// The summaries container against brute force: memory bins must be bit-identical to queryBins
// over the in-memory summary, range aggregations equal to a pass over the samples, at every
// block-boundary case (ranges starting or ending exactly on a block edge, empty, one sample,
// one thread), on random documents and on real vmprof files.
import { resolve } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { readProfileFile } from '@prof/format/node';
import {
  analyzeStacks,
  bufferSource,
  buildMemorySummary,
  memoryGrowth,
  openSummaries,
  PageCache,
  queryBins,
  sampleRange,
  snapStride,
  SummariesBuilder,
  threadIndices,
  type BinResult,
  type SampleColumns,
  type StackTree,
  type Summaries,
  type SummariesSpill,
} from '../src/index.js';
import { CPU_BLOCK, elementOffset, type Section } from '../src/summaries/container.js';
import { expectBinsExact, expectSnappedBins } from './expect.js';
import { freshDir } from './fixtures.js';

interface Doc extends SampleColumns {
  stacks: StackTree;
  threads: number;
}

/** A spill kept in memory, handing back copies (as a file would): the builder must not rely on its own buffers. */
function memorySpill(): SummariesSpill & { writes: number } {
  const written = new Map<number, Uint8Array>();
  let size = 0;
  return {
    writes: 0,
    write(bytes) {
      const at = size;
      written.set(at, bytes.slice());
      size += bytes.length;
      this.writes++;
      return at;
    },
    read(offset, length) {
      const bytes = written.get(offset);
      if (!bytes || bytes.length !== length) throw new Error(`spill: nothing written at ${offset}+${length}`);
      return bytes.slice();
    },
  };
}

/** (toEqual compares megabytes element by element, for minutes.) */
const sameBytes = (a: Uint8Array, b: Uint8Array) => Buffer.from(a).equals(Buffer.from(b));

function build(
  doc: Doc,
  cpuBlock?: number,
  cpuFanout?: number,
  chunk = 1000,
  spill?: SummariesSpill,
  layout?: 1 | 2 | 3 | 4,
): Uint8Array {
  const b = new SummariesBuilder({
    spill,
    layout,
    stacks: doc.stacks,
    threads: doc.threads,
    memory: !!doc.memory,
    heap: !!doc.heap,
    weight: !!doc.weight,
    cpuBlock,
    cpuFanout,
    meta: { hello: 'world' },
  });
  b.pushColumns(
    {
      time: doc.time,
      stack: doc.stack,
      thread: doc.thread,
      memory: doc.memory,
      heap: doc.heap,
      weight: doc.weight,
    },
    chunk,
  );
  const parts = b.finish();
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}

/** What the server did before summaries: finite readings of the thread's rows. */
function referenceBins(
  doc: Doc,
  column: Float64Array,
  thread: number | undefined,
  query: { from: number; to: number; bins: number; align?: boolean; snap?: boolean },
): BinResult {
  const rows = thread === undefined ? null : threadIndices(doc.thread, thread);
  const n = rows ? rows.length : column.length;
  const finite: number[] = [];
  for (let k = 0; k < n; k++) {
    const r = rows ? rows[k] : k;
    if (Number.isFinite(column[r])) finite.push(r);
  }
  const summary = buildMemorySummary(doc.time, column, Uint32Array.from(finite));
  return queryBins(summary, query);
}

const carried = (column: Float64Array) => {
  const out = new Float64Array(column.length);
  let last = column.find((v) => Number.isFinite(v)) ?? 0;
  for (let i = 0; i < column.length; i++) out[i] = last = Number.isFinite(column[i]) ? column[i] : last;
  return out;
};

/** Bit-identical bins; `withSd` false: a container stored before version 3, whose bins have no spread. */
function expectSameBins(got: BinResult, want: BinResult, label: string, withSd = true): void {
  expect(got.bins, label).toBe(want.bins);
  for (const key of ['start', 'end', 'count', 'mean', 'min', 'max'] as const) {
    expect(Array.from(got[key]), `${label} ${key}`).toEqual(Array.from(want[key]));
  }
  if (withSd) expect(Array.from(got.sd), `${label} sd`).toEqual(Array.from(want.sd));
  else expect(got.sd.every(Number.isNaN), `${label} sd`).toBe(true);
}

/** Each bin (with its spread) against a pass over the finite readings of the thread's samples (`expectBinsExact`). */
function expectBrute(doc: Doc, column: Float64Array, thread: number | undefined, got: BinResult): void {
  const rows: number[] = [];
  for (let k = 0; k < column.length; k++)
    if (Number.isFinite(column[k]) && (thread === undefined || doc.thread[k] === thread)) rows.push(k);
  expectBinsExact(got, doc.time, column, rows, got.from, got.to);
}

/** A `snap` answer against a pass over the same readings (`expectSnappedBins`). */
function expectSnapped(doc: Doc, column: Float64Array, thread: number | undefined, got: BinResult): void {
  const rows: number[] = [];
  for (let k = 0; k < column.length; k++)
    if (Number.isFinite(column[k]) && (thread === undefined || doc.thread[k] === thread)) rows.push(k);
  expectSnappedBins(got, { time: doc.time, value: column, rows }, 32);
}

/** Per-stack sums of a brute-force pass, as a sorted list. */
function bruteRun(doc: Doc, thread: number | undefined, from: number, to: number, weight: Float64Array | null) {
  const sums = new Map<number, number>();
  let samples = 0;
  for (let i = 0; i < doc.time.length; i++) {
    if (doc.time[i] < from || doc.time[i] >= to) continue;
    if (thread !== undefined && doc.thread[i] !== thread) continue;
    samples++;
    sums.set(doc.stack[i], (sums.get(doc.stack[i]) ?? 0) + (weight ? weight[i] : 1));
  }
  return { samples, entries: [...sums].sort((a, b) => a[0] - b[0]) };
}

/** Reads as a file would in Node: small Buffers, carved out of a shared pool at an offset. */
const pooledSource = (bytes: Uint8Array) => ({
  size: bytes.byteLength,
  read: async (offset: number, length: number) => Buffer.from(bytes.subarray(offset, offset + length)),
});

/**
 * Reads as the file store does: into the caller's buffer (`readInto`, a 64 KiB buffer reused across
 * runs with gaps, or a run's own copy) and, without one, into a fresh array. The buffer is scribbled
 * over first, so a reader that kept a view of it, or read past what it asked for, shows.
 */
const intoSource = (bytes: Uint8Array) => ({
  size: bytes.byteLength,
  read: async (offset: number, length: number) => bytes.slice(offset, offset + length),
  readInto: async (into: Uint8Array, offset: number, length: number) => {
    into.fill(0xa5);
    into.set(bytes.subarray(offset, offset + length));
    return into.subarray(0, length);
  },
});

/** A container's table of contents, read as the reader does (header, then JSON at its end). */
/** `n` samples of one stack at `timeOf(i)`, each with its own reading. */
function oneStackDoc(n: number, timeOf: (i: number) => number): Doc {
  const time = new Float64Array(n);
  const memory = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    time[i] = timeOf(i);
    memory[i] = (i * 7919) % 100_003;
  }
  return {
    stacks: { parent: Int32Array.of(-1), frame: Uint32Array.of(0) },
    threads: 1,
    time,
    stack: new Int32Array(n),
    thread: new Uint32Array(n),
    memory,
    heap: null,
    weight: null,
  };
}

function containerToc(bytes: Uint8Array) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const length = view.getUint32(12, true);
  const offset = view.getFloat64(16, true);
  return JSON.parse(new TextDecoder().decode(bytes.subarray(offset, offset + length)));
}

/**
 * Reads as the file store does with its range-reader thread: many ranges in one call, their bytes one
 * after another. Counts the calls and the ranges, and refuses a range past the end (as the store does).
 */
const manySource = (bytes: Uint8Array) => {
  const counts = { calls: 0, ranges: 0, biggestBatch: 0, released: 0, read: [] as number[] };
  return {
    counts,
    size: bytes.byteLength,
    read: async (offset: number, length: number) => bytes.slice(offset, offset + length),
    readMany: async (ranges: readonly number[]) => {
      counts.calls++;
      counts.ranges += ranges.length / 2;
      counts.biggestBatch = Math.max(counts.biggestBatch, ranges.length / 2);
      let total = 0;
      for (let i = 0; i < ranges.length; i += 2) {
        if (ranges[i] + ranges[i + 1] > bytes.byteLength) throw new RangeError('read past the end');
        total += ranges[i + 1];
      }
      counts.read.push(...ranges);
      const out = new Uint8Array(total);
      for (let i = 0, at = 0; i < ranges.length; at += ranges[i + 1], i += 2)
        out.set(bytes.subarray(ranges[i], ranges[i] + ranges[i + 1]), at);
      return out;
    },
    // As the store's pool would reuse them: scribbled over, so a reader that kept a view shows.
    release: (given: Uint8Array) => {
      counts.released++;
      given.fill(0xa5);
    },
  };
};

const sorted = (run: { sampleStack: Int32Array; weight: Float64Array }) =>
  Array.from(run.sampleStack, (s, i) => [s, run.weight[i]] as [number, number]).sort((a, b) => a[0] - b[0]);

async function checkRange(
  doc: Doc,
  sum: Summaries,
  thread: number | undefined,
  from: number,
  to: number,
  label: string,
) {
  const want = bruteRun(doc, thread, from, to, null);
  const got = await sum.compactRun(thread, from, to);
  expect(got.samples, label).toBe(want.samples);
  expect(sorted(got), label).toEqual(want.entries);
  if (doc.weight) {
    const w = await sum.compactRun(thread, from, to, 'weight');
    expect(sorted(w), `${label} weight`).toEqual(bruteRun(doc, thread, from, to, doc.weight).entries);
  }
  for (const series of ['rss', 'heap'] as const) {
    const column = series === 'rss' ? doc.memory : doc.heap;
    if (!column) continue;
    const growth = memoryGrowth(carried(column));
    const g = await sum.compactRun(thread, from, to, series);
    expect(sorted(g), `${label} ${series} growth`).toEqual(bruteRun(doc, thread, from, to, growth).entries);
    // The stacks panel, as the server computed it from the document.
    const rows = thread === undefined ? null : threadIndices(doc.thread, thread);
    const { start, end } = sampleRange(doc.time, from, to, rows);
    const ref = analyzeStacks(doc.stacks, doc.stack, {
      start,
      end,
      indices: rows,
      memory: carried(column),
      topK: 5,
      rankBy: 'growth',
    });
    const res = await sum.analyzeStacks(thread, from, to, { topK: 5, rankBy: 'growth', series });
    expect(res, `${label} ${series} analyzeStacks`).toEqual(ref);
  }
  const refCount = (() => {
    const rows = thread === undefined ? null : threadIndices(doc.thread, thread);
    const { start, end } = sampleRange(doc.time, from, to, rows);
    return analyzeStacks(doc.stacks, doc.stack, { start, end, indices: rows, topK: 7 });
  })();
  expect(await sum.analyzeStacks(thread, from, to, { topK: 7 }), `${label} analyzeStacks`).toEqual(refCount);
}

/** Random stack tree, times with repeats, integer readings with holes, 1-3 threads. */
const docArb = fc
  .record({
    n: fc.integer({ min: 0, max: 3000 }),
    rows: fc.integer({ min: 1, max: 40 }),
    threads: fc.integer({ min: 1, max: 3 }),
    // 0.97: runs of missing readings longer than a growth's look back (64) before a range.
    holes: fc.constantFrom(0, 0, 0.1, 0.97),
    memory: fc.boolean(),
    heap: fc.boolean(),
    weight: fc.boolean(),
    // Readings near 2^53 bytes: a raw sum of squares would lose the spread entirely.
    base: fc.constantFrom(0, 0, 2 ** 52),
    seed: fc.integer({ min: 1, max: 2 ** 30 }),
  })
  .map(({ n, rows, threads, holes, memory, heap, weight, base, seed }): Doc => {
    let x = seed;
    const random = () => (x = (Math.imul(x, 1103515245) + 12345) >>> 0) / 2 ** 32;
    const parent = new Int32Array(rows);
    const frame = new Uint32Array(rows);
    for (let i = 0; i < rows; i++) {
      parent[i] = i === 0 || random() < 0.2 ? -1 : Math.floor(random() * i);
      frame[i] = Math.floor(random() * 8);
    }
    const doc: Doc = {
      stacks: { parent, frame },
      threads,
      time: new Float64Array(n),
      stack: new Int32Array(n),
      thread: new Uint32Array(n),
      memory: memory ? new Float64Array(n) : null,
      heap: heap ? new Float64Array(n) : null,
      weight: weight ? new Float64Array(n) : null,
    };
    let t = random() * 100;
    let m = 1e6;
    for (let i = 0; i < n; i++) {
      t += random() < 0.3 ? 0 : Math.floor(random() * 5);
      doc.time[i] = t;
      doc.stack[i] = Math.floor(random() * (rows + 1)) - 1;
      doc.thread[i] = Math.floor(random() * threads);
      m = Math.max(0, m + Math.floor((random() - 0.5) * 1e5));
      if (doc.memory) doc.memory[i] = random() < holes ? Number.NaN : base + m;
      if (doc.heap) doc.heap[i] = random() < holes * 2 ? Number.NaN : Math.floor(random() * 1e6);
      if (doc.weight) doc.weight[i] = Math.floor(random() * 100);
    }
    return doc;
  });

describe('summaries container against brute force', () => {
  it('memory bins are identical to queryBins, and range aggregations to a pass over the samples (random documents)', async () => {
    await fc.assert(
      fc.asyncProperty(
        docArb,
        // CPU blocks of a few samples, and of more than a growth's look back.
        fc.oneof(fc.integer({ min: 1, max: 9 }), fc.constant(200)),
        fc.integer({ min: 2, max: 4 }),
        fc.array(fc.tuple(fc.nat(), fc.nat(), fc.integer({ min: 1, max: 300 }), fc.boolean(), fc.boolean()), {
          minLength: 1,
          maxLength: 4,
        }),
        // Versions 1 (every array contiguous), 2 (no M2) and 3 (a coarse time every 128 blocks):
        // containers stored before are still read.
        fc.constantFrom<1 | 2 | 3 | 4>(1, 2, 3, 4, 4),
        async (doc, cpuBlock, cpuFanout, ranges, layout) => {
          const bytes = build(doc, cpuBlock, cpuFanout, 1 + Math.floor(doc.time.length / 3), undefined, layout);
          expect(new DataView(bytes.buffer).getUint32(8, true)).toBe(layout);
          // Spilled chunks read back at the end give the same container, byte for byte.
          expect(sameBytes(build(doc, cpuBlock, cpuFanout, 997, memorySpill(), layout), bytes)).toBe(true);
          const kind = doc.time.length % 4;
          const source =
            kind === 0
              ? bufferSource(bytes)
              : kind === 1
                ? pooledSource(bytes)
                : kind === 2
                  ? intoSource(bytes)
                  : manySource(bytes);
          // A small cache: pages are read, dropped and read again (runs with and without gaps).
          const sum = await openSummaries(source, { cache: new PageCache(kind === 2 ? 4096 : 64 * 1024) });
          expect(sum.samples).toBe(doc.time.length);
          expect(sum.meta).toEqual({ hello: 'world' });
          const n = doc.time.length;
          const at = (k: number) => (n === 0 ? 0 : doc.time[Math.min(n - 1, k)]);
          for (const [a, b, asked, align, snap] of ranges) {
            // Snapping needs 4 blocks a bin, and 32 to move edges by nodes of 8 blocks: a few bins over
            // these few thousand samples.
            const bins = snap ? 2 + (asked % 8) : asked;
            // Edges on sample times, often exactly on a CPU or memory block edge.
            const onEdge = (k: number) => (k % 3 === 0 ? k - (k % cpuBlock) : k % 3 === 1 ? k - (k % 32) : k);
            const i = onEdge(a % (n + 1));
            const j = onEdge(b % (n + 1));
            const from = Math.min(at(i), at(j));
            const to = Math.max(at(i), at(j)) + (a % 2);
            for (const thread of [undefined, ...Array.from({ length: doc.threads }, (_, t) => t)]) {
              const label = `n=${n} thread=${thread} [${from}, ${to})`;
              await checkRange(doc, sum, thread, from, to, label);
              if (!(from < to)) continue;
              for (const series of ['rss', 'heap'] as const) {
                const column = series === 'rss' ? doc.memory : doc.heap;
                if (!column) continue;
                const got = await sum.memoryBins(thread, from, to, bins, { series, align, snap });
                const want = referenceBins(doc, column, thread, { from, to, bins, align, snap });
                expectSameBins(got, want, `${label} ${series}`, layout >= 3);
                expect(Array.from(got.firstIndex), label).toEqual(Array.from(want.firstIndex));
                if (layout >= 3) (snap ? expectSnapped : expectBrute)(doc, column, thread, got);
              }
            }
          }
        },
      ),
      { numRuns: 60 },
    );
  });

  it('a zoom whose reads go out as several batches of many ranges gives the same bins', async () => {
    // 640,000 samples, readings every sample: 400 bins' edges 1,600 samples (25 KB) apart, too far
    // for one read to cover two, so ~400 separate reads, more than one batch holds.
    const n = 640_000;
    const doc = oneStackDoc(n, (i) => i * 3 + (i % 7 === 0 ? 1 : 0));
    const memory = doc.memory as Float64Array;
    const bytes = build(doc, undefined, undefined, 65_536);
    const source = manySource(bytes);
    const sum = await openSummaries(source, { cache: new PageCache(1024 * 1024) });
    for (const [from, to, bins] of [
      [0, 3 * n, 400],
      [1_000, 2 * n + 17, 397],
      [5, 3 * n - 5, 1500],
    ]) {
      const before = source.counts.calls;
      const got = await sum.memoryBins(undefined, from, to, bins);
      expectSameBins(got, referenceBins(doc, memory, undefined, { from, to, bins }), `[${from}, ${to}) ${bins} bins`);
      // The edges' blocks take more than one batch: each batch at most 256 ranges, all read.
      expect(source.counts.calls - before).toBeGreaterThanOrEqual(2);
    }
    expect(source.counts.biggestBatch).toBe(256);
    // With `snap`, bins of 50 blocks are whole nodes: the same bins as queryBins gives, every inner
    // edge at a block start, and only the block times and the pyramid read (a few runs, not one per edge).
    for (const [from, to, bins] of [
      [0, 3 * n, 400],
      [1_000, 2 * n + 17, 397],
    ]) {
      // Each on a container opened afresh (nothing cached), exact edges then moved ones.
      const ranges = async (snap: boolean) => {
        const fresh = manySource(bytes);
        const open = await openSummaries(fresh, { cache: new PageCache(1024 * 1024) });
        return { got: await open.memoryBins(undefined, from, to, bins, { snap }), ranges: fresh.counts.ranges };
      };
      const exact = await ranges(false);
      const { got, ranges: read } = await ranges(true);
      const want = referenceBins(doc, memory, undefined, { from, to, bins, snap: true });
      expectSameBins(got, want, `[${from}, ${to}) ${bins} bins, snap`);
      expectSnapped(doc, memory, undefined, got);
      expect(Array.from(got.firstIndex).filter((p, i) => i > 0 && p % 32 !== 0)).toEqual([]);
      expect(exact.ranges).toBeGreaterThan(bins);
      expect(read).toBeLessThan(bins / 4);
    }
    // Bins of 100, 333 and 665 blocks: edges at the start of a node of 8 and of 64 blocks, and at a
    // multiple of 128 blocks, so no bin reads the pyramid's level of blocks (640 KB here), nor from 64
    // its level of 8 blocks: only a page of each at the window's two ends, which do not move, and the
    // page where the next level begins. With 128 the inner edges' times are coarse entries: of the
    // block times only the groups of the two ends are read.
    const bytesRead = (read: number[], offset: number, end: number) => {
      let bytes = 0;
      for (let i = 0; i < read.length; i += 2)
        bytes += Math.max(0, Math.min(end, read[i] + read[i + 1]) - Math.max(offset, read[i]));
      return bytes;
    };
    // A coarse time every 64 blocks (version 4) or 128 (version 3): the strides of at least that
    // many read no block time between the two ends' groups; nor, in version 4, a stride of 8.
    for (const [layout, group] of [
      [4, 64],
      [3, 128],
    ] as const) {
      const container = layout === 4 ? bytes : build(doc, undefined, undefined, 65_536, undefined, layout);
      const toc = containerToc(container).series['rss:all'];
      const levels = toc.levels as { offset: number; length: number }[];
      const blockTimes = toc.blockTime as { offset: number; length: number };
      for (const [from, to, bins, stride, unread] of [
        [0, 3 * n, 200, 8, 1],
        [0, 3 * n, 60, 64, 2],
        [1_000, 2 * n + 17, 20, 128, 2],
      ]) {
        const fresh = manySource(container);
        const open = await openSummaries(fresh, { cache: new PageCache(1024 * 1024) });
        const got = await open.memoryBins(undefined, from, to, bins, { snap: true });
        expectSameBins(
          got,
          referenceBins(doc, memory, undefined, { from, to, bins, snap: true }),
          `${bins} bins, snap`,
        );
        expectSnapped(doc, memory, undefined, got);
        expect(snapStride((got.endIndex[got.bins - 1] - got.firstIndex[0]) / 32, bins)).toBe(stride);
        expect(Array.from(got.firstIndex).filter((p, i) => i > 0 && p % (32 * stride) !== 0)).toEqual([]);
        const { read } = fresh.counts;
        for (const { offset, length } of levels.slice(0, unread)) {
          const bytesOfLevel = bytesRead(read, offset, offset + length * 8);
          // The pages of each end's nodes (two when they cross a page's end) and where the next level begins.
          expect(bytesOfLevel, `bytes read of the level at ${offset}`).toBeLessThanOrEqual(4 * 512);
        }
        expect(levels[unread].length).toBeGreaterThan(0);
        const ofBlockTimes = bytesRead(read, blockTimes.offset, blockTimes.offset + blockTimes.length * 8);
        // Version 4's node times (every 8th block time) stand in for the block times at strides of 8.
        const byNode = layout === 4 && stride < group;
        if (stride >= group || byNode)
          expect(ofBlockTimes, `v${layout}: bytes read of the block times`).toBeLessThanOrEqual(6 * 512);
        else expect(ofBlockTimes, `v${layout}`).toBeGreaterThan(6 * 512);
        const nodeTimes = toc.nodeTime as { offset: number; length: number } | undefined;
        expect(!!nodeTimes, 'node times from version 4').toBe(layout === 4);
        if (byNode && nodeTimes)
          expect(bytesRead(read, nodeTimes.offset, nodeTimes.offset + nodeTimes.length * 8)).toBeGreaterThan(0);
      }
    }
    // Every batch handed back once its pages were copied out.
    expect(source.counts.released).toBe(source.counts.calls);
  });

  it('rehearses the zooms after a whole view once, reading their parts, and answers stay exact', async () => {
    const n = 64_000;
    const doc = oneStackDoc(n, (i) => i * 3 + (i % 7 === 0 ? 1 : 0));
    const memory = doc.memory as Float64Array;
    const bytes = build(doc, 1_000, 4, 65_536);
    const source = manySource(bytes);
    // A cache of one frame: a second rehearsal would read its pages again.
    const sum = await openSummaries(source, { cache: new PageCache(4096) });
    const [from, to, bins] = [0, 3 * n, 300];
    await sum.memoryBins(undefined, from, to, bins, { snap: true });
    const before = source.counts.read.length;
    await sum.rehearse(undefined, from, to, bins, { snap: true });
    const read = source.counts.read.slice(before);
    // Its narrowest zoom (1/1,000 of the run, from 0.37 of it) reads the readings of its samples.
    const at = Math.round(0.37 * n) + 20;
    const value = containerToc(bytes).series['rss:all'].value as Section;
    const covers = (off: number) => read.some((o, i) => i % 2 === 0 && o <= off && off < o + read[i + 1]);
    expect(covers(elementOffset(value, at)), `the readings of sample ${at} read`).toBe(true);
    const calls = source.counts.calls;
    await sum.rehearse(undefined, from, to, bins, { snap: true });
    expect(source.counts.calls, 'a second rehearsal').toBe(calls);
    // The answers after it are what they were.
    for (const [a, b] of [
      [from, to],
      [3 * at, 3 * at + (3 * n) / 10],
    ]) {
      const got = await sum.memoryBins(undefined, a, b, bins, { snap: true });
      expectSameBins(got, referenceBins(doc, memory, undefined, { from: a, to: b, bins, snap: true }), `[${a}, ${b})`);
    }
    // Each step (three zooms, a bin's stacks) waits for `pause` first, and reads nothing before it.
    const paused = manySource(bytes);
    const other = await openSummaries(paused);
    const seen: number[] = [];
    await other.rehearse(undefined, from, to, bins, {
      snap: true,
      pause: async () => seen.push(paused.counts.calls),
    });
    expect(seen.length).toBe(4);
    expect(seen[0]).toBe(0);
    expect(seen[1], 'the first zoom read between its pause and the next').toBeGreaterThan(seen[0]);
    // Nothing to rehearse on an empty window; a failing read is the rehearsal's own, never thrown.
    const empty = await openSummaries(manySource(bytes));
    await expect(empty.rehearse(undefined, 5, 5, bins)).resolves.toBeUndefined();
    const failing = { ...manySource(bytes), readMany: () => Promise.reject(new Error('disk gone')) };
    const broken = await openSummaries(failing);
    await expect(broken.rehearse(undefined, from, to, bins, { snap: true })).resolves.toBeUndefined();
  });

  it("a range's growth starts from the last reading before it, however far back in its CPU block", async () => {
    // A reading every 150 samples, CPU blocks of 1,000: the reading before a range is often further
    // back than the look back (64 readings), and then found from the block's start.
    const n = 6_000;
    const doc = oneStackDoc(n, (i) => i * 2);
    const memory = doc.memory as Float64Array;
    // Rising: each reading's growth is how far it is from the one before, wherever that one is.
    for (let i = 0; i < n; i++) memory[i] = i % 150 === 7 ? 1_000 * i : Number.NaN;
    doc.stack = Int32Array.from({ length: n }, (_, i) => (i * 31) % 5) as Int32Array;
    doc.stacks = { parent: Int32Array.of(-1, 0, 0, 1, -1), frame: Uint32Array.of(0, 1, 2, 3, 4) };
    const sum = await openSummaries(bufferSource(build(doc, 1_000, 4, 65_536)));
    for (const start of [0, 8, 60, 157, 200, 1_003, 1_158, 1_500, 2_999, 4_321]) {
      for (const length of [1, 40, 700, 2_500]) {
        const [from, to] = [start * 2, Math.min(n, start + length) * 2];
        await checkRange(doc, sum, undefined, from, to, `samples [${start}, ${start + length})`);
      }
    }
  });

  it('snapped edges in a gap between readings stay where they were asked, at every stride', async () => {
    // 64,000 samples a millisecond apart, a gap of a million milliseconds after the first half: most
    // edges of the whole run fall in the gap, where the block an edge would move to starts after the
    // next edge, so they stay, and are searched as without `snap`.
    const n = 64_000;
    const doc = oneStackDoc(n, (i) => i + (i >= n / 2 ? 1_000_000 : 0) + (i % 5 === 0 ? 0.5 : 0));
    const memory = doc.memory as Float64Array;
    const blocks = n / 32;
    // Coarse times every 64 blocks (version 4) and every 128 (version 3): the same bins.
    for (const layout of [4, 3] as const) {
      const sum = await openSummaries(bufferSource(build(doc, undefined, undefined, 65_536, undefined, layout)));
      for (const [from, to, bins, stride] of [
        [0, n / 2, 2, 64],
        [0, doc.time[n - 1] + 1, 3, 128],
        [0, doc.time[n - 1] + 1, 6, 64],
        [0, doc.time[n - 1] + 1, 40, 8],
        [17.5, n / 4 + 3, 100, 1],
      ]) {
        const got = await sum.memoryBins(undefined, from, to, bins, { snap: true });
        const want = referenceBins(doc, memory, undefined, { from, to, bins, snap: true });
        expectSameBins(got, want, `[${from}, ${to}) ${bins} bins, snap`);
        expectSnapped(doc, memory, undefined, got);
        const span = (got.endIndex[got.bins - 1] - got.firstIndex[0]) / 32;
        expect(span).toBeLessThanOrEqual(blocks);
        expect(snapStride(span, bins), `[${from}, ${to}) ${bins} bins`).toBe(stride);
        if (stride > 1 && to > n) {
          // Edges in the gap stayed: bins there are empty, and their edges are where they were asked.
          const stayed = Array.from(got.start).filter((t, i) => i > 0 && t > n / 2 && t < 1_000_000);
          expect(stayed.length).toBeGreaterThan(0);
        }
      }
    }
  });

  it('single sample, empty range, one thread only, range ending on the last sample', async () => {
    const doc: Doc = {
      stacks: { parent: Int32Array.of(-1, 0), frame: Uint32Array.of(0, 1) },
      threads: 2,
      time: Float64Array.of(5),
      stack: Int32Array.of(1),
      thread: Uint32Array.of(1),
      memory: Float64Array.of(100),
      heap: null,
      weight: null,
    };
    const sum = await openSummaries(pooledSource(build(doc)));
    await checkRange(doc, sum, undefined, 5, 6, 'one sample');
    await checkRange(doc, sum, 0, 5, 6, 'thread without samples');
    await checkRange(doc, sum, 1, 5, 6, 'its thread');
    await checkRange(doc, sum, undefined, 6, 6, 'empty');
    await checkRange(doc, sum, undefined, 0, 5, 'ends on the sample');
    expectSameBins(
      await sum.memoryBins(0, 0, 10, 3),
      referenceBins(doc, doc.memory!, 0, { from: 0, to: 10, bins: 3 }),
      'empty thread',
    );
    expectSameBins(
      await sum.memoryBins(1, 0, 10, 3),
      referenceBins(doc, doc.memory!, 1, { from: 0, to: 10, bins: 3 }),
      'one thread',
    );
    // The domain errors the server maps to its codes, as ProfileColumns throws them for a decoded document.
    await expect(sum.memoryBins(2, 0, 10, 3)).rejects.toMatchObject({ code: 'bad-thread', message: /thread=2/ });
    await expect(sum.memoryBins(undefined, 0, 10, 3, { series: 'heap' })).rejects.toMatchObject({
      code: 'no-series',
      message: /no V8 heap \(heap\) series/,
    });
    await expect(openSummaries(bufferSource(new Uint8Array(40)))).rejects.toThrow(/not a summaries container/);
  });
});

/**
 * The container `bytes` as if it started `shift` bytes later in its file: the same header and
 * sections, the table of contents moved along, zeros between. Byte offsets past 4 GiB, which a long
 * multi-threaded run's container reaches, without writing 4 GiB.
 */
function shiftedSource(bytes: Uint8Array, shift: number, many: boolean) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const tocAt = view.getFloat64(16, true);
  const toc = JSON.parse(new TextDecoder().decode(bytes.subarray(tocAt)));
  const move = (x: unknown): void => {
    if (!x || typeof x !== 'object') return;
    const o = x as Record<string, unknown>;
    if (typeof o.offset === 'number' && typeof o.length === 'number' && typeof o.type === 'string') o.offset += shift;
    else for (const v of Object.values(o)) move(v);
  };
  move({ ...toc, json: null, meta: null });
  const tocBytes = new TextEncoder().encode(JSON.stringify(toc));
  const head = bytes.slice(0, 32);
  const headView = new DataView(head.buffer);
  headView.setUint32(12, tocBytes.byteLength, true);
  headView.setFloat64(16, tocAt + shift, true);
  // [0, 32) the header, [32, 32 + shift) zeros, then the sections, then the moved table.
  const pieces: [number, Uint8Array][] = [
    [0, head],
    [32 + shift, bytes.subarray(32, tocAt)],
    [tocAt + shift, tocBytes],
  ];
  const size = tocAt + shift + tocBytes.byteLength;
  const read = async (offset: number, length: number) => {
    if (offset + length > size) throw new RangeError('read past the end');
    const out = new Uint8Array(length);
    for (const [at, piece] of pieces) {
      const from = Math.max(offset, at);
      const to = Math.min(offset + length, at + piece.byteLength);
      if (from < to) out.set(piece.subarray(from - at, to - at), from - offset);
    }
    return out;
  };
  const readMany = async (ranges: readonly number[]) => {
    const parts = await Promise.all(ranges.flatMap((x, i) => (i % 2 ? [] : [read(x, ranges[i + 1])])));
    return Buffer.concat(parts);
  };
  return many ? { size, read, readMany } : { size, read };
}

describe('a container past 4 GiB', () => {
  it('gives the same bins and aggregates with its sections at offsets above 2^32', async () => {
    const n = 50_000;
    const time = new Float64Array(n);
    const memory = new Float64Array(n);
    const stack = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      time[i] = i * 2 + (i % 5 === 0 ? 1 : 0);
      memory[i] = (i * 7919) % 100_003;
      stack[i] = i % 3;
    }
    const doc: Doc = {
      stacks: { parent: Int32Array.of(-1, 0, 0), frame: Uint32Array.of(0, 1, 2) },
      threads: 1,
      time,
      stack,
      thread: new Uint32Array(n),
      memory,
      heap: null,
      weight: null,
    };
    const bytes = build(doc, 64, 4);
    for (const many of [false, true]) {
      // 2^32 plus a bit: a section's bytes and their pages straddle no 4 GiB boundary by luck.
      const sum = await openSummaries(shiftedSource(bytes, 2 ** 32 + 4096 * 3, many), {
        cache: new PageCache(64 * 1024),
      });
      for (const [from, to, bins] of [
        [0, 2 * n, 1500],
        [1_001, 1_901, 300],
        [77_777, 77_999, 50],
      ]) {
        const label = `readMany=${many} [${from}, ${to})`;
        expectSameBins(
          await sum.memoryBins(undefined, from, to, bins),
          referenceBins(doc, memory, undefined, { from, to, bins }),
          label,
        );
        await checkRange(doc, sum, undefined, from, to, label);
      }
    }
  });
});

describe('summaries of real vmprof files', () => {
  for (const name of ['memory_spiky', 'threads_memory_realtime_misaligned', 'big_memory', 'lines']) {
    it(`${name}: bins and range aggregations at block edges equal brute force`, async () => {
      const d = await readProfileFile(resolve(freshDir, `${name}.prof`));
      const doc: Doc = {
        stacks: d.stacks,
        threads: d.threads.length,
        time: d.samples.time,
        stack: d.samples.stack,
        thread: d.samples.thread,
        memory: d.samples.memory ?? null,
        heap: d.samples.heap ?? null,
        weight: d.samples.weight ?? null,
      };
      const bytes = build(doc, undefined, undefined, 65536);
      const spill = memorySpill();
      expect(sameBytes(build(doc, undefined, undefined, 4093, spill), bytes)).toBe(true);
      if (doc.time.length > 65536) expect(spill.writes).toBeGreaterThan(10);
      const sum = await openSummaries(bufferSource(bytes));
      const n = doc.time.length;
      const last = doc.time[n - 1];
      const ranges: [number, number][] = [
        [doc.time[0], last + 1],
        [doc.time[CPU_BLOCK], doc.time[Math.min(n - 1, CPU_BLOCK * 3)]],
        [doc.time[CPU_BLOCK - 1], doc.time[Math.min(n - 1, CPU_BLOCK + 1)]],
        [doc.time[Math.floor(n / 3)], doc.time[Math.floor(n / 3)] + 0.001],
        [last, last + 1],
      ].filter(([a, b]) => Number.isFinite(a) && Number.isFinite(b) && a < b) as [number, number][];
      for (const [from, to] of ranges) {
        for (const thread of doc.threads > 1 ? [undefined, 0, 1] : [undefined]) {
          const label = `${name} thread=${thread} [${from}, ${to})`;
          await checkRange(doc, sum, thread, from, to, label);
          if (doc.memory) {
            for (const bins of [1, 500, 1500]) {
              const got = await sum.memoryBins(thread, from, to, bins);
              expectSameBins(got, referenceBins(doc, doc.memory, thread, { from, to, bins }), `${label} ${bins} bins`);
              if (bins === 500) expectBrute(doc, doc.memory, thread, got);
            }
            // Edges at block starts: the same bins as queryBins asked the same, each against the samples.
            // Strides of 512, 128, 64 and 8 blocks over big_memory's whole run.
            for (const bins of [3, 7, 20, 40, 300]) {
              const got = await sum.memoryBins(thread, from, to, bins, { snap: true });
              const want = referenceBins(doc, doc.memory, thread, { from, to, bins, snap: true });
              expectSameBins(got, want, `${label} ${bins} bins, snap`);
              expectSnapped(doc, doc.memory, thread, got);
            }
          }
        }
      }
    });
  }
});
