import { LRUCache } from 'lru-cache';
import { gunzipDocument, documentSummary, type ProfileDocument } from '@prof/format/node';
import {
  buildMemorySummary,
  compactRun,
  functionKeys,
  keyedStacks,
  memoryGrowth,
  threadIndices,
  type CompactRun,
  type KeyedStacks,
  type MemorySummary,
} from '@prof/binning';
import { HttpError } from './http-error';
import type { BytesCache } from './bytes-cache';

/** Memory series a profile can have: `rss` is the `samples.memory` column, `heap` the `samples.heap` one. */
export const MEMORY_SERIES = ['rss', 'heap'] as const;
export type MemorySeries = (typeof MEMORY_SERIES)[number];

const SERIES_NAMES: Record<MemorySeries, string> = { rss: 'RSS (memory)', heap: 'V8 heap (heap)' };

/** A decoded document plus what the decoding endpoints derive from it once. */
export class DecodedProfile {
  readonly durationMs: number;
  /** The memory series this profile has, in `MEMORY_SERIES` order. */
  readonly available: MemorySeries[];
  private readonly threadRows = new Map<number, Uint32Array>();
  private readonly memorySummaries = new Map<string, MemorySummary>();
  private readonly growthColumns = new Map<MemorySeries, Float64Array>();
  private keyed: KeyedStacks | null = null;
  /** The last few sample runs folded per distinct stack, by `thread:start:end`. */
  private readonly compactRuns = new Map<string, CompactRun>();
  private readonly growthWeights = new Map<MemorySeries, Float64Array>();
  /** Bytes held, for the cache's bound; grows as summaries are added. */
  bytes: number;

  /** `durationMs` when the caller already summarised the document (an upload), saving a pass. */
  constructor(
    readonly doc: ProfileDocument,
    durationMs?: number,
  ) {
    this.durationMs = durationMs ?? documentSummary(doc).durationMs;
    this.bytes = documentBytes(doc);
    this.available = MEMORY_SERIES.filter((series) => this.columnOrNull(series) !== null);
  }

  private columnOrNull(series: MemorySeries): Float64Array | null {
    return (series === 'rss' ? this.doc.samples.memory : this.doc.samples.heap) ?? null;
  }

  /** The per-sample bytes of a series; the error a client should get when the profile lacks it. */
  column(series: MemorySeries): Float64Array {
    const column = this.columnOrNull(series);
    if (column) return column;
    throw missingSeries(series, this.available);
  }

  /** Sample rows of one thread (all samples when `thread` is undefined). */
  rowsOf(thread: number | undefined): Uint32Array | undefined {
    if (thread === undefined) return undefined;
    checkThread(thread, this.doc.threads.length);
    let rows = this.threadRows.get(thread);
    if (!rows) {
      rows = threadIndices(this.doc.samples.thread, thread);
      this.threadRows.set(thread, rows);
      this.bytes += rows.byteLength;
    }
    return rows;
  }

  /**
   * The binning summary of a series (of one thread's samples when `thread` is given). Samples
   * without a reading (NaN: a heap answer that came too late) are left out rather than guessed, so
   * a bin holding only those is empty.
   */
  memorySummary(thread: number | undefined, series: MemorySeries = 'rss'): MemorySummary {
    const column = this.column(series);
    const key = `${series}:${thread ?? 'all'}`;
    let summary = this.memorySummaries.get(key);
    if (!summary) {
      const threadRows = this.rowsOf(thread);
      const rows = everyValueFinite(column) ? threadRows : finiteRows(column, threadRows);
      summary = buildMemorySummary(this.doc.samples.time, column, rows);
      this.memorySummaries.set(key, summary);
      this.bytes += summary.bytes + (rows && rows !== threadRows ? rows.byteLength : 0);
    }
    return summary;
  }

  /**
   * The stack tree with frames merged by function identity (name, file, first line): how a
   * comparison matches this profile's functions with another's.
   */
  functionStacks(): KeyedStacks {
    if (!this.keyed) {
      this.keyed = keyedStacks(this.doc.stacks, functionKeys(this.doc.frames, this.doc.strings));
      this.bytes += this.keyed.stacks.parent.byteLength * 2 + this.keyed.frameOf.byteLength;
      for (const key of this.keyed.keys) this.bytes += 40 + key.length * 2;
    }
    return this.keyed;
  }

  /**
   * A run of samples (positions `start..end` of the thread's rows) folded to one weighted entry per
   * distinct stack: the one O(samples) pass of a comparison, shared by its function table and call
   * tree and by the next views of the same range.
   */
  compactRun(thread: number | undefined, start: number, end: number, growthOf?: MemorySeries | 'weight'): CompactRun {
    const key = `${thread ?? 'all'}:${start}:${end}:${growthOf ?? 'samples'}`;
    let run = this.compactRuns.get(key);
    if (!run) {
      // 'weight': the recorded per-sample weight (V8 µs), what the CPU views sum.
      const weight =
        growthOf === 'weight' ? (this.doc.samples.weight ?? undefined) : growthOf ? this.growth(growthOf) : undefined;
      run = compactRun(this.doc.stacks, this.doc.samples.stack, { start, end, indices: this.rowsOf(thread), weight });
      if (this.compactRuns.size >= COMPACT_RUNS_KEPT) {
        const [oldest, old] = this.compactRuns.entries().next().value as [string, CompactRun];
        this.compactRuns.delete(oldest);
        this.bytes -= old.sampleStack.byteLength + old.weight.byteLength;
      }
      this.compactRuns.set(key, run);
      this.bytes += run.sampleStack.byteLength + run.weight.byteLength;
    }
    return run;
  }

  /** Bytes gained at each sample in a series (0 when it fell): the weight of "which code grew memory". */
  growth(series: MemorySeries): Float64Array {
    let weights = this.growthWeights.get(series);
    if (!weights) {
      weights = memoryGrowth(this.growthColumn(series));
      this.growthWeights.set(series, weights);
      this.bytes += weights.byteLength;
    }
    return weights;
  }

  /**
   * The series as `analyzeStacks` takes it to credit growth: the column itself, or, when some
   * readings are missing, a copy holding the last known reading there (so a gap gains nothing and
   * the growth across it goes to the sample that observed it).
   */
  growthColumn(series: MemorySeries): Float64Array {
    const column = this.column(series);
    if (everyValueFinite(column)) return column;
    let filled = this.growthColumns.get(series);
    if (!filled) {
      filled = carriedForward(column);
      this.growthColumns.set(series, filled);
      this.bytes += filled.byteLength;
    }
    return filled;
  }
}

const COMPACT_RUNS_KEPT = 8;

/** The error a client gets for a series the profile does not have (`available` lists those it has). */
export function missingSeries(series: MemorySeries, available: readonly string[]): HttpError {
  const has = available.length ? `; it has ${available.join(', ')}` : '';
  if (series === 'rss') return new HttpError(409, 'no-memory', `this profile has no memory samples${has}`);
  return new HttpError(
    400,
    'no-series',
    `this profile has no ${SERIES_NAMES[series]} series${has || '; it has no memory series at all'}`,
  );
}

/** 400 `bad-thread` unless `thread` is a thread row of a profile with `threads` of them. */
export function checkThread(thread: number, threads: number): void {
  if (!Number.isInteger(thread) || thread < 0 || thread >= threads)
    throw new HttpError(400, 'bad-thread', `thread must be a thread row from 0 to ${threads - 1}, got ${thread}`);
}

const finiteColumns = new WeakMap<Float64Array, boolean>();

function everyValueFinite(column: Float64Array): boolean {
  let known = finiteColumns.get(column);
  if (known === undefined) {
    known = true;
    for (let i = 0; i < column.length; i++) {
      if (!Number.isFinite(column[i])) {
        known = false;
        break;
      }
    }
    finiteColumns.set(column, known);
  }
  return known;
}

/** The rows (of `rows`, or of the whole column) whose value is a finite number. */
function finiteRows(column: Float64Array, rows: Uint32Array | undefined): Uint32Array {
  const n = rows ? rows.length : column.length;
  const out = new Uint32Array(n);
  let k = 0;
  for (let j = 0; j < n; j++) {
    const row = rows ? rows[j] : j;
    if (Number.isFinite(column[row])) out[k++] = row;
  }
  return out.slice(0, k);
}

/** Non-finite values replaced by the last finite one before them (the first finite one at the start). */
function carriedForward(column: Float64Array): Float64Array {
  const out = new Float64Array(column.length);
  let last = column.find((v) => Number.isFinite(v)) ?? 0;
  for (let i = 0; i < column.length; i++) out[i] = last = Number.isFinite(column[i]) ? column[i] : last;
  return out;
}

function documentBytes(doc: ProfileDocument): number {
  let bytes = 0;
  for (const table of [doc.frames, doc.stacks, doc.samples] as unknown as Record<string, unknown>[]) {
    for (const column of Object.values(table)) if (ArrayBuffer.isView(column)) bytes += column.byteLength;
  }
  for (const s of doc.strings) bytes += 40 + s.length * 2;
  return bytes + 1024;
}

/**
 * Decoded documents in an LRU bounded by bytes. Concurrent requests for one cold profile share a
 * single decode. Summaries added later are accounted for by re-inserting the entry.
 */
export class DecodedCache {
  private readonly lru: LRUCache<string, DecodedProfile>;
  private readonly loading = new Map<string, Promise<DecodedProfile>>();
  private hits = 0;
  private misses = 0;

  constructor(
    /** The stored bytes the documents are decoded from (also what the document route serves). */
    readonly bytes: BytesCache,
    maxBytes: number,
    private readonly maxInflatedBytes: number,
  ) {
    this.lru = new LRUCache<string, DecodedProfile>({
      maxSize: maxBytes,
      sizeCalculation: (value) => Math.max(1, Math.min(value.bytes, maxBytes)),
    });
  }

  async get(id: string): Promise<DecodedProfile> {
    const hit = this.lru.get(id);
    if (hit) {
      this.hits++;
      return hit;
    }
    this.misses++;
    let pending = this.loading.get(id);
    if (!pending) {
      pending = this.load(id).finally(() => this.loading.delete(id));
      this.loading.set(id, pending);
    }
    return pending;
  }

  private async load(id: string): Promise<DecodedProfile> {
    const bytes = await this.bytes.get(id);
    if (!bytes) throw new HttpError(404, 'not-found', `no profile with id ${id}`);
    const decoded = new DecodedProfile(await gunzipDocument(bytes, { maxInflatedBytes: this.maxInflatedBytes }));
    this.lru.set(id, decoded);
    return decoded;
  }

  /** Puts a document decoded elsewhere (a fresh upload) and its stored bytes, so its first view is warm. */
  remember(id: string, doc: ProfileDocument, bytes: Buffer, durationMs: number): void {
    this.lru.set(id, new DecodedProfile(doc, durationMs));
    this.bytes.remember(id, bytes);
  }

  /** Re-measures an entry whose size grew (and evicts others if it no longer fits). */
  touch(id: string, decoded: DecodedProfile): void {
    if (this.lru.peek(id) !== decoded) return;
    // lru-cache keeps the old size when the same object is set again: take it out first.
    this.lru.delete(id);
    this.lru.set(id, decoded);
  }

  forget(id: string): void {
    this.lru.delete(id);
    this.bytes.forget(id);
  }

  /** Hits and misses of both caches (for /metrics). */
  stats() {
    return {
      bytes: { hits: this.bytes.hits, misses: this.bytes.misses },
      decoded: { hits: this.hits, misses: this.misses },
    };
  }

  get size(): { entries: number; bytes: number } {
    return { entries: this.lru.size, bytes: this.lru.calculatedSize };
  }
}
