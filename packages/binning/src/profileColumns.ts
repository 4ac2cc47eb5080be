// One profile's sample columns and what the analyses derive from them, each computed once and
// kept: a thread's rows, a memory series' summary, growth weights, the last few folded runs. The
// server keeps one per decoded document in its cache, the browser's export worker one per loaded
// document: the same rows and the same NaN handling on both sides.
import { compactRun, type CompactRun } from './compare.js';
import { checkThread, MEMORY_SERIES, missingSeries, type MemorySeries } from './errors.js';
import { carriedForward, everyValueFinite, finiteRows } from './gaps.js';
import { sampleRange } from './search.js';
import { memoryGrowth } from './stackPath.js';
import { buildMemorySummary, type MemorySummary } from './summary.js';
import { threadIndices } from './threads.js';
import type { SampleColumns, SampleRun, StackTree } from './types.js';

/** The columns read (@prof/format's `doc.samples` and `doc.stacks` fit as they are). */
export interface ProfileColumnsInput {
  stacks: StackTree;
  samples: SampleColumns;
  /** Number of thread rows (`doc.threads.length`). */
  threads: number;
}

/** Folded runs kept per profile: a view and the next few ranges a user looks at. */
const COMPACT_RUNS_KEPT = 8;

export class ProfileColumns {
  /** The memory series this profile has, in `MEMORY_SERIES` order. */
  readonly available: MemorySeries[];
  /** Bytes held by what was derived so far (the columns themselves not counted): a cache's bound. */
  derivedBytes = 0;
  private readonly threadRows = new Map<number, Uint32Array>();
  private readonly memorySummaries = new Map<string, MemorySummary>();
  private readonly growthColumns = new Map<MemorySeries, Float64Array>();
  private readonly growthWeights = new Map<MemorySeries, Float64Array>();
  /** The last few sample runs folded per distinct stack, by `thread:start:end:weight`. */
  private readonly compactRuns = new Map<string, CompactRun>();

  constructor(readonly columns: ProfileColumnsInput) {
    this.available = MEMORY_SERIES.filter((series) => this.columnOrNull(series) !== null);
  }

  private columnOrNull(series: MemorySeries): Float64Array | null {
    const s = this.columns.samples;
    return (series === 'rss' ? s.memory : s.heap) ?? null;
  }

  /** The per-sample bytes of a series; `no-memory` / `no-series` when the profile lacks it. */
  column(series: MemorySeries): Float64Array {
    const column = this.columnOrNull(series);
    if (column) return column;
    throw missingSeries(series, this.available);
  }

  /** Sample rows of one thread (all samples when `thread` is undefined); `bad-thread` for a row it does not have. */
  rowsOf(thread: number | undefined): Uint32Array | undefined {
    if (thread === undefined) return undefined;
    checkThread(thread, this.columns.threads);
    let rows = this.threadRows.get(thread);
    if (!rows) {
      rows = threadIndices(this.columns.samples.thread, thread);
      this.threadRows.set(thread, rows);
      this.derivedBytes += rows.byteLength;
    }
    return rows;
  }

  /** The samples of `thread` (all when undefined) with `from <= time < to`, as positions into its rows. */
  run(thread: number | undefined, from: number, to: number): SampleRun {
    const indices = this.rowsOf(thread);
    const { start, end } = sampleRange(this.columns.samples.time, from, to, indices);
    return { start, end, indices };
  }

  /**
   * The binning summary of a series (of one thread's samples when `thread` is given). Samples
   * without a reading (NaN) are left out rather than guessed, so a bin holding only those is empty.
   */
  memorySummary(thread: number | undefined, series: MemorySeries = 'rss'): MemorySummary {
    const column = this.column(series);
    const key = `${series}:${thread ?? 'all'}`;
    let summary = this.memorySummaries.get(key);
    if (!summary) {
      const threadRows = this.rowsOf(thread);
      const rows = everyValueFinite(column) ? threadRows : finiteRows(column, threadRows);
      summary = buildMemorySummary(this.columns.samples.time, column, rows);
      this.memorySummaries.set(key, summary);
      this.derivedBytes += summary.bytes + (rows && rows !== threadRows ? rows.byteLength : 0);
    }
    return summary;
  }

  /**
   * The series as `analyzeStacks` takes it to credit growth: the column itself, or, when some
   * readings are missing, a copy holding the last known reading there (`carriedForward`).
   */
  growthColumn(series: MemorySeries): Float64Array {
    const column = this.column(series);
    if (everyValueFinite(column)) return column;
    let filled = this.growthColumns.get(series);
    if (!filled) {
      filled = carriedForward(column);
      this.growthColumns.set(series, filled);
      this.derivedBytes += filled.byteLength;
    }
    return filled;
  }

  /** Bytes gained at each sample in a series (0 when it fell): the weight of "which code grew memory". */
  growth(series: MemorySeries): Float64Array {
    let weights = this.growthWeights.get(series);
    if (!weights) {
      weights = memoryGrowth(this.growthColumn(series));
      this.growthWeights.set(series, weights);
      this.derivedBytes += weights.byteLength;
    }
    return weights;
  }

  /**
   * A run of samples (positions `start..end` of the thread's rows) folded to one weighted entry per
   * distinct stack, weighing a sample each, its recorded weight (`'weight'`: V8 µs), or the growth
   * of a memory series: the one O(samples) pass shared by the views of a range.
   */
  compactRun(thread: number | undefined, start: number, end: number, weightBy?: MemorySeries | 'weight'): CompactRun {
    const key = `${thread ?? 'all'}:${start}:${end}:${weightBy ?? 'samples'}`;
    let run = this.compactRuns.get(key);
    if (!run) {
      const { stacks, samples } = this.columns;
      const weight =
        weightBy === 'weight' ? (samples.weight ?? undefined) : weightBy ? this.growth(weightBy) : undefined;
      run = compactRun(stacks, samples.stack, { start, end, indices: this.rowsOf(thread), weight });
      if (this.compactRuns.size >= COMPACT_RUNS_KEPT) {
        const [oldest, old] = this.compactRuns.entries().next().value as [string, CompactRun];
        this.compactRuns.delete(oldest);
        this.derivedBytes -= old.sampleStack.byteLength + old.weight.byteLength;
      }
      this.compactRuns.set(key, run);
      this.derivedBytes += run.sampleStack.byteLength + run.weight.byteLength;
    }
    return run;
  }
}
