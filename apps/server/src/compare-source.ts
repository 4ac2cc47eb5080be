// Where a comparison reads each side from. A side needs, for a (thread, window, weight), the run
// folded per distinct stack, the memory bins of a window, and the stack tree with frames merged by
// function (to match them with the other side's): a summaries container gives all of it reading
// O(screen) parts, whatever the run's length; the decoded document is the fallback, chosen as the
// CPU routes choose it (cpu-source.ts), so both views of a profile answer from the same data.
import {
  functionKeys,
  keyedStacks,
  queryBins,
  missingSeries,
  type BinQuery,
  type BinResult,
  type CompactRun,
  type KeyedStacks,
  type MemorySeries,
  type Summaries,
} from '@prof/binning';
import { CPU_EXTRAS, type CpuFacts } from './cpu-source';
import type { DecodedCache, DecodedProfile } from './decoded-cache';
import { frameJson, windowFrom, windowOf, type FrameJson, type Window } from './routes/read-api';
import { frameNamer } from './routes/summary-views';

/** One profile as a comparison reads it. Threads are checked by the caller (`threads`). */
export interface CompareProfile {
  threads: number;
  /** Its memory series. */
  available: readonly MemorySeries[];
  /** The window asked for, the whole run where absent (as the single views take it). */
  window(asked: Window): { from: number; to: number };
  /** Wall-clock start, ms since the epoch (null when unknown). */
  startTime: number | null;
  /** The stack tree with frame rows merged by function (name, file, first line). */
  keyed(): Promise<KeyedStacks>;
  /** A frame row as JSON. */
  frame(row: number): FrameJson;
  /** Samples of `thread` (all when undefined) in `[from, to)`. */
  sampleCount(thread: number | undefined, from: number, to: number): Promise<number>;
  /** Those samples folded per distinct stack, weighted by count or by the memory each grew. */
  run(thread: number | undefined, from: number, to: number, growthOf?: MemorySeries): Promise<CompactRun>;
  /** Bins of a memory series, as `/memory` gives them. */
  memoryBins(thread: number | undefined, series: MemorySeries, query: BinQuery): Promise<BinResult>;
}

/** 409 no-memory / 400 no-series as the document path words them. */
function checkSeries(available: readonly MemorySeries[], series: MemorySeries | undefined): void {
  if (series !== undefined && !available.includes(series)) throw missingSeries(series, available);
}

const summaryProfiles = new WeakMap<Summaries, Promise<CompareProfile>>();

/**
 * Opens each side from its summaries container when it has one with the CPU facts (what the CPU
 * routes need too), else from the decoded document.
 */
export class CompareSource {
  constructor(
    private readonly summariesOf: (id: string) => Promise<Summaries | null>,
    private readonly cache: DecodedCache,
  ) {}

  async open(id: string): Promise<CompareProfile> {
    const s = await this.summariesOf(id);
    if (!s || s.json(CPU_EXTRAS.facts) === undefined) return decodedProfile(id, await this.cache.get(id), this.cache);
    let p = summaryProfiles.get(s);
    if (!p) {
      p = summaryProfile(s);
      summaryProfiles.set(s, p);
      p.catch(() => summaryProfiles.delete(s));
    }
    return p;
  }
}

async function summaryProfile(s: Summaries): Promise<CompareProfile> {
  const facts = s.json(CPU_EXTRAS.facts) as CpuFacts;
  const [frame, stacks, name, file, line] = await Promise.all([
    frameNamer(s),
    s.stacks(),
    s.array('frames.name'),
    s.array('frames.file'),
    s.array('frames.line'),
  ]);
  if (!name || !file || !line) throw new Error('summaries container without its frame table');
  const strings = s.json('strings') as string[];
  let keyed: KeyedStacks | null = null;
  const available = s.available;
  return {
    threads: s.threads,
    available,
    window: (asked) => (s.samples ? windowFrom(asked, s.firstTime, s.lastTime) : windowFrom(asked, 0, 0)),
    startTime: facts.meta.startTime,
    keyed: async () => (keyed ??= keyedStacks(stacks, functionKeys({ name, file, line }, strings))),
    frame,
    async sampleCount(thread, from, to) {
      if (thread !== undefined) return (await s.compactRun(thread, from, to)).samples;
      const { start, end } = await s.sampleRange(from, to);
      return end - start;
    },
    run(thread, from, to, growthOf) {
      checkSeries(available, growthOf);
      return s.compactRun(thread, from, to, growthOf);
    },
    memoryBins(thread, series, query) {
      checkSeries(available, series);
      return s.memoryBins(thread, query.from, query.to, query.bins, { series, align: query.align });
    },
  };
}

/** The fallback: the decoded document, its derived columns cached on it (the cache re-measures it when they grow). */
function decodedProfile(id: string, d: DecodedProfile, cache: DecodedCache): CompareProfile {
  const doc = d.doc;
  const derived = <T>(derive: () => T): T => {
    const before = d.bytes;
    const value = derive();
    if (d.bytes !== before) cache.touch(id, d);
    return value;
  };
  const range = (thread: number | undefined, from: number, to: number) => derived(() => d.run(thread, from, to));
  return {
    threads: doc.threads.length,
    available: d.available,
    window: (asked) => windowOf(asked, doc),
    startTime: doc.meta.startTime,
    keyed: async () => derived(() => d.functionStacks()),
    frame: (row) => frameJson(doc, row),
    async sampleCount(thread, from, to) {
      const { start, end } = range(thread, from, to);
      return end - start;
    },
    async run(thread, from, to, growthOf) {
      const { start, end } = range(thread, from, to);
      return derived(() => d.compactRun(thread, start, end, growthOf));
    },
    async memoryBins(thread, series, query) {
      return queryBins(
        derived(() => d.memorySummary(thread, series)),
        query,
      );
    },
  };
}
