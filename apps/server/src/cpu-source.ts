// Where the CPU routes get a range's per-stack counts from. The routes only need, for a (profile,
// thread, window, weight), the run folded per distinct stack plus the stack and frame tables: a
// source that reads precomputed summaries answers in O(screen); the decoded document is the
// fallback that always works.
import {
  checkThread,
  hasLines,
  missingSeries,
  threadSampleCounts,
  withoutRootFrames,
  type CompactRun,
  type LinedStackTree,
  type MemorySeries,
  type Summaries,
  type WeightBy as SummaryWeight,
} from '@prof/binning';
import { runnerStackRows, type ProfileDocument } from '@prof/format';
import type { DecodedCache, DecodedProfile } from './decoded-cache';

/** What each stack weighs: a sample each, the recorded per-sample weight (V8 µs), or memory growth. */
export type WeightBy = 'samples' | 'time' | { growth: MemorySeries };

/** One range's stacks folded per distinct stack row. */
export interface CpuRun {
  columns: CompactRun;
  /** The window actually covered, ms since start (`to` exclusive). */
  from: number;
  to: number;
}

/** Tables and facts of one profile the CPU views name things with; none grows with the run's length. */
export interface CpuProfile {
  stacks: LinedStackTree;
  /** The stack tree with launcher frames cut from the root (as vmprof's own tree shows it). */
  stacksWithoutRunner(): LinedStackTree;
  hasRunnerFrames: boolean;
  hasLines: boolean;
  /** Frame columns, names and files as rows of `strings`. */
  frames: { name: ArrayLike<number>; file: ArrayLike<number>; line: ArrayLike<number>; kind: ArrayLike<number> };
  strings: string[];
  threads: { id: string; name: string | null; samples: number }[];
  sampleCount: number;
  durationMs: number;
  /** Per-sample weights exist (V8 µs): the default weight is then `time`. */
  weighted: boolean;
  meta: ProfileDocument['meta'];
  hasMemory: boolean;
  timeEstimated: boolean;
  timeSource: string;
  warnings: { code: string; message: string }[];
  /** Samples of `thread` (all when undefined) with `from <= time < to`, folded per stack. */
  run(thread: number | undefined, from: number, to: number, weightBy: WeightBy): Promise<CpuRun>;
}

/** Gives the CPU view of a stored profile (404 when there is none). */
export interface CpuSource {
  open(id: string): Promise<CpuProfile>;
}

/** What a profile's views hold beyond the document, per decoded document (dropped with it). */
const views = new WeakMap<DecodedProfile, CpuProfile>();

/** The CPU view over the server's decoded-document cache: what works for every stored profile. */
export class DecodedCpuSource implements CpuSource {
  constructor(private readonly cache: DecodedCache) {}

  async open(id: string): Promise<CpuProfile> {
    const decoded = await this.cache.get(id);
    let view = views.get(decoded);
    // A folded run is kept on the document: the cache re-measures the entry when it grew.
    if (!view) views.set(decoded, (view = decodedView(decoded, () => this.cache.touch(id, decoded))));
    return view;
  }
}

function decodedView(decoded: DecodedProfile, grew: () => void): CpuProfile {
  const doc = decoded.doc;
  const perThread = threadSampleCounts(doc.samples.thread, doc.threads.length);
  const runner = runnerStackRows(doc);
  let cut: LinedStackTree | null = null;
  return {
    stacks: doc.stacks,
    stacksWithoutRunner: () => (cut ??= withoutRootFrames(doc.stacks, runner)),
    hasRunnerFrames: runner.includes(1),
    hasLines: hasLines(doc.stacks),
    frames: doc.frames,
    strings: doc.strings,
    ...cpuFacts(doc, decoded.durationMs, perThread),
    weighted: doc.samples.weight !== null,
    async run(thread, from, to, weightBy) {
      const { start, end } = decoded.run(thread, from, to);
      const by = weightBy === 'samples' ? undefined : weightBy === 'time' ? 'weight' : weightBy.growth;
      const before = decoded.bytes;
      const columns = decoded.compactRun(thread, start, end, by);
      if (decoded.bytes !== before) grew();
      return { columns, from, to };
    },
  };
}

/** What the CPU view needs beside a summaries container's columns, stored in it when it is built. */
export interface CpuFacts {
  threads: { id: string; name: string | null; samples: number }[];
  sampleCount: number;
  durationMs: number;
  meta: ProfileDocument['meta'];
  hasMemory: boolean;
  timeEstimated: boolean;
  timeSource: string;
  warnings: { code: string; message: string }[];
}

/** Names of the extras in a summaries container (`SummariesBuilder.addArray` / `addJson`). */
export const CPU_EXTRAS = { facts: 'cpu', line: 'stacks.line', runner: 'stacks.runner' } as const;

/**
 * The extras a summaries container needs so the CPU views never read the document: the executing
 * line and launcher flag of each stack row, and the profile's facts (`durationMs` as the caller
 * computed it). None grows with the run's length.
 */
export function cpuExtras(
  doc: ProfileDocument,
  durationMs: number,
  /** Samples per thread row (counted while the samples streamed by). */
  perThread: readonly number[],
): { arrays: Record<string, Int32Array | Uint32Array>; json: Record<string, unknown> } {
  return {
    arrays: { [CPU_EXTRAS.line]: doc.stacks.line, [CPU_EXTRAS.runner]: Uint32Array.from(runnerStackRows(doc)) },
    json: { [CPU_EXTRAS.facts]: cpuFacts(doc, durationMs, perThread) },
  };
}

/** The facts of a document as the CPU views give them, decoded or stored in a summaries container. */
function cpuFacts(doc: ProfileDocument, durationMs: number, perThread: readonly number[]): CpuFacts {
  return {
    threads: doc.threads.id.map((id, i) => ({ id, name: doc.threads.name[i], samples: perThread[i] })),
    sampleCount: doc.samples.length,
    durationMs,
    meta: doc.meta,
    hasMemory: doc.samples.memory !== null,
    timeEstimated: doc.samples.timeEstimated,
    timeSource: doc.samples.timeSource,
    warnings: doc.warnings.map((w) => ({ code: w.code, message: w.message })),
  };
}

const summaryViews = new WeakMap<Summaries, Promise<CpuProfile>>();

/**
 * The CPU view over a profile's summaries container: a range's per-stack counts from O(screen)
 * precomputed blocks plus two partial ones, whatever the run's length. Profiles whose container
 * lacks the CPU extras (built before them), or that have none, go to `fallback`.
 */
export class SummariesCpuSource implements CpuSource {
  constructor(
    private readonly summariesOf: (id: string) => Promise<Summaries | null>,
    private readonly fallback: CpuSource,
  ) {}

  async open(id: string): Promise<CpuProfile> {
    const s = await this.summariesOf(id);
    if (!s || s.json(CPU_EXTRAS.facts) === undefined) return this.fallback.open(id);
    let view = summaryViews.get(s);
    if (!view) {
      view = summaryView(s);
      summaryViews.set(s, view);
      view.catch(() => summaryViews.delete(s));
    }
    return view;
  }
}

async function summaryView(s: Summaries): Promise<CpuProfile> {
  const facts = s.json(CPU_EXTRAS.facts) as CpuFacts;
  const [tree, line, runner, name, file, frameLine, kind] = await Promise.all([
    s.stacks(),
    s.array(CPU_EXTRAS.line),
    s.array(CPU_EXTRAS.runner),
    s.array('frames.name'),
    s.array('frames.file'),
    s.array('frames.line'),
    s.array('frames.kind'),
  ]);
  if (!line || !runner || !name || !file || !frameLine || !kind)
    throw new Error('summaries container: CPU extras or frame columns missing');
  const stacks: LinedStackTree = { ...tree, line };
  const runnerRows = Uint8Array.from(runner);
  let cut: LinedStackTree | null = null;
  return {
    stacks,
    stacksWithoutRunner: () => (cut ??= withoutRootFrames(stacks, runnerRows)),
    hasRunnerFrames: runnerRows.includes(1),
    hasLines: hasLines(stacks),
    frames: { name, file, line: frameLine, kind },
    strings: s.json('strings') as string[],
    ...facts,
    weighted: s.hasWeight,
    async run(thread, from, to, weightBy) {
      if (thread !== undefined) checkThread(thread, facts.threads.length);
      const by: SummaryWeight | undefined =
        weightBy === 'samples' ? undefined : weightBy === 'time' ? 'weight' : weightBy.growth;
      if (by === 'rss' || by === 'heap') {
        if (!s.available.includes(by)) throw missingSeries(by, s.available);
      }
      return { columns: await s.compactRun(thread, from, to, by), from, to };
    },
  };
}
