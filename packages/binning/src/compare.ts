import { accumulateStacks, type AggregateOptions } from './accumulate.js';
import type { CallTree } from './callTree.js';
import type { FunctionTable } from './functionTable.js';
import { queryBins, type BinQuery, type BinResult } from './query.js';
import type { MemorySummary } from './summary.js';
import type { StackTree } from './types.js';

/**
 * Two profiles name the same function with different frame rows, so a comparison first gives each
 * side's frames an id in one shared space: equal keys (e.g. name + file + first line) share an id.
 */
export interface FrameMatch {
  /** Shared id of each base frame row. */
  base: Uint32Array;
  /** Shared id of each target frame row. */
  target: Uint32Array;
  /** Number of shared ids. */
  count: number;
}

/** Shared ids for the frames of two profiles from one key per frame row. */
export function matchFrames(baseKeys: ArrayLike<string>, targetKeys: ArrayLike<string>): FrameMatch {
  const ids = new Map<string, number>();
  const intern = (keys: ArrayLike<string>) => {
    const out = new Uint32Array(keys.length);
    for (let i = 0; i < keys.length; i++) {
      let id = ids.get(keys[i]);
      if (id === undefined) ids.set(keys[i], (id = ids.size));
      out[i] = id;
    }
    return out;
  };
  const base = intern(baseKeys);
  const target = intern(targetKeys);
  return { base, target, count: ids.size };
}

/** Frames of one profile merged by key: rows with equal keys get one id (`frameOf` keeps the first row of each). */
export interface KeyedStacks {
  /** The same prefix tree with `frame` replaced by the key id (a fresh `parent` copy, so caches keyed on it hold). */
  stacks: StackTree;
  keys: string[];
  /** First frame row of each key id: the row to name it by. */
  frameOf: Uint32Array;
}

/**
 * Merges frame rows that are the same function (equal keys) before aggregating: a function met at
 * two addresses is then one row of the function table and one node of the call tree, as it will be
 * when matched against the other profile.
 */
export function keyedStacks(stacks: StackTree, frameKeys: ArrayLike<string>): KeyedStacks {
  const ids = new Map<string, number>();
  const idOfFrame = new Uint32Array(frameKeys.length);
  const first: number[] = [];
  for (let f = 0; f < frameKeys.length; f++) {
    let id = ids.get(frameKeys[f]);
    if (id === undefined) {
      ids.set(frameKeys[f], (id = ids.size));
      first.push(f);
    }
    idOfFrame[f] = id;
  }
  const frame = new Uint32Array(stacks.frame.length);
  for (let i = 0; i < frame.length; i++) {
    const f = stacks.frame[i];
    if (f >= idOfFrame.length) {
      throw new RangeError(`keyedStacks: stack row ${i} names frame ${f}, but there are ${idOfFrame.length} keys`);
    }
    frame[i] = idOfFrame[f];
  }
  return { stacks: { parent: stacks.parent.slice(), frame }, keys: [...ids.keys()], frameOf: Uint32Array.from(first) };
}

/**
 * One key per frame row naming the function it is (name, file, first line): frames with equal keys
 * are one function within a profile (`keyedStacks`) and across two (`matchFrames`).
 */
export function functionKeys(
  frames: { name: ArrayLike<number>; file: ArrayLike<number>; line: ArrayLike<number> },
  strings: readonly string[],
): string[] {
  return Array.from(
    { length: frames.name.length },
    (_, i) => `${strings[frames.name[i]]}\0${strings[frames.file[i]]}\0${frames.line[i]}`,
  );
}

export interface Weights {
  self: number;
  total: number;
}

/** One function of a comparison. Shares are fractions of each side's own weight total. */
export interface FunctionDiffRow {
  /** Shared id (see `FrameMatch`). */
  id: number;
  /** The function's frame row in each profile, -1 on the side where it is absent. */
  baseFrame: number;
  targetFrame: number;
  base: Weights;
  target: Weights;
  baseShare: Weights;
  targetShare: Weights;
  /** target − base, in weight units and in share. */
  delta: Weights;
  deltaShare: Weights;
  /** Only in the target (its whole weight is new) / only in the base (its whole weight is gone). */
  added: boolean;
  removed: boolean;
}

export interface FunctionDiff {
  /** By descending |deltaShare.total|, then |deltaShare.self|, then descending target total, then id. */
  rows: FunctionDiffRow[];
  base: { samples: number; weightTotal: number };
  target: { samples: number; weightTotal: number };
}

const share = (w: number, total: number) => (total > 0 ? w / total : 0);

/**
 * Differential function table of two function tables computed separately (each over its own
 * profile and range). `match` maps each side's frame rows to shared ids; without it the frame rows
 * are the ids (two ranges of one profile).
 */
export function diffFunctionTables(base: FunctionTable, target: FunctionTable, match?: FrameMatch): FunctionDiff {
  const baseId = (f: number) => (match ? match.base[f] : f);
  const targetId = (f: number) => (match ? match.target[f] : f);
  const rows = new Map<number, FunctionDiffRow>();
  const row = (id: number): FunctionDiffRow => {
    let r = rows.get(id);
    if (!r) {
      r = {
        id,
        baseFrame: -1,
        targetFrame: -1,
        base: { self: 0, total: 0 },
        target: { self: 0, total: 0 },
        baseShare: { self: 0, total: 0 },
        targetShare: { self: 0, total: 0 },
        delta: { self: 0, total: 0 },
        deltaShare: { self: 0, total: 0 },
        added: false,
        removed: false,
      };
      rows.set(id, r);
    }
    return r;
  };
  for (let i = 0; i < base.length; i++) {
    const r = row(baseId(base.frame[i]));
    if (r.baseFrame < 0) r.baseFrame = base.frame[i];
    r.base.self += base.self[i];
    r.base.total += base.total[i];
  }
  for (let i = 0; i < target.length; i++) {
    const r = row(targetId(target.frame[i]));
    if (r.targetFrame < 0) r.targetFrame = target.frame[i];
    r.target.self += target.self[i];
    r.target.total += target.total[i];
  }
  const out = [...rows.values()];
  for (const r of out) {
    r.added = r.baseFrame < 0;
    r.removed = r.targetFrame < 0;
    r.baseShare = { self: share(r.base.self, base.weightTotal), total: share(r.base.total, base.weightTotal) };
    r.targetShare = {
      self: share(r.target.self, target.weightTotal),
      total: share(r.target.total, target.weightTotal),
    };
    r.delta = { self: r.target.self - r.base.self, total: r.target.total - r.base.total };
    r.deltaShare = { self: r.targetShare.self - r.baseShare.self, total: r.targetShare.total - r.baseShare.total };
  }
  out.sort(
    (a, b) =>
      Math.abs(b.deltaShare.total) - Math.abs(a.deltaShare.total) ||
      Math.abs(b.deltaShare.self) - Math.abs(a.deltaShare.self) ||
      b.target.total - a.target.total ||
      a.id - b.id,
  );
  return {
    rows: out,
    base: { samples: base.samples, weightTotal: base.weightTotal },
    target: { samples: target.samples, weightTotal: target.weightTotal },
  };
}

/**
 * The target's call tree with, for each node, the base's weights at the same call path (functions
 * matched by shared id). A node whose path the base never reached is `added` (base weights 0);
 * `removedTotal` is the base weight under a node's path that the target's children do not cover
 * (paths that disappeared), so what vanished is still accounted for on its parent.
 */
export interface CallTreeDiff {
  target: CallTree;
  /** Node of the base tree at the same path, -1 when the base has no such path. */
  baseNode: Int32Array;
  baseSelf: Float64Array;
  baseTotal: Float64Array;
  /** Base weight of child paths of this node that the target does not have. */
  removedTotal: Float64Array;
  /** Weight of each side's root (all samples of the range). */
  baseWeight: number;
  targetWeight: number;
}

export function diffCallTrees(base: CallTree, target: CallTree, match?: FrameMatch): CallTreeDiff {
  const baseId = (f: number) => (f < 0 ? -1 : match ? match.base[f] : f);
  const targetId = (f: number) => (f < 0 ? -1 : match ? match.target[f] : f);
  // Base children by (parent node, shared id): a number key, exact while nodes · ids < 2^53.
  const span = (match ? match.count : maxFrame(base, target) + 1) + 1;
  const baseChild = new Map<number, number>();
  for (let n = 1; n < base.length; n++) baseChild.set(base.parent[n] * span + baseId(base.frame[n]) + 1, n);
  const nodes = target.length;
  const diff: CallTreeDiff = {
    target,
    baseNode: new Int32Array(nodes).fill(-1),
    baseSelf: new Float64Array(nodes),
    baseTotal: new Float64Array(nodes),
    removedTotal: new Float64Array(nodes),
    baseWeight: base.length ? base.total[0] : 0,
    targetWeight: target.length ? target.total[0] : 0,
  };
  if (nodes === 0) return diff;
  if (base.length) diff.baseNode[0] = 0;
  // Preorder: a parent is matched before its children.
  for (let n = 1; n < nodes; n++) {
    const p = diff.baseNode[target.parent[n]];
    if (p < 0) continue;
    diff.baseNode[n] = baseChild.get(p * span + targetId(target.frame[n]) + 1) ?? -1;
  }
  const targetOf = new Int32Array(base.length).fill(-1);
  for (let n = 0; n < nodes; n++) {
    const b = diff.baseNode[n];
    if (b < 0) continue;
    targetOf[b] = n;
    diff.baseSelf[n] = base.self[b];
    diff.baseTotal[n] = base.total[b];
  }
  // A base path the target lacks is charged, whole, to the deepest node both still share.
  for (let b = 1; b < base.length; b++) {
    const n = targetOf[base.parent[b]];
    if (targetOf[b] < 0 && n >= 0) diff.removedTotal[n] += base.total[b];
  }
  return diff;
}

function maxFrame(a: CallTree, b: CallTree): number {
  let m = -1;
  for (const t of [a, b]) for (let i = 0; i < t.length; i++) if (t.frame[i] > m) m = t.frame[i];
  return m;
}

export interface MemoryWindow {
  /** Window start, ms since the profile's start (inclusive). */
  from: number;
  /** Window end (exclusive). */
  to: number;
}

/**
 * Two memory series binned as the single view bins one (exact mean, min, max per bin, no spike
 * lost), aligned by time since each window's start: bin i of both sides covers the same offset.
 * Both sides get the longer window's length, so bins past a shorter side's end are empty (NaN).
 */
export interface MemoryDiff {
  /** Bin edges as offsets from each window's start, ms. */
  start: Float64Array;
  end: Float64Array;
  base: BinResult;
  target: BinResult;
  /** target − base per bin; NaN where either side's bin is empty (never interpolated). */
  meanDelta: Float64Array;
  maxDelta: Float64Array;
}

export function compareMemory(
  base: MemorySummary,
  target: MemorySummary,
  windows: { base: MemoryWindow; target: MemoryWindow; bins: number },
): MemoryDiff {
  const q = memoryQueries(windows);
  let b = queryBins(base, q.base(windows.bins));
  let t = queryBins(target, q.target(windows.bins));
  // Float edges of two windows starting at different times can merge differently in a narrow
  // window: then the sides are re-binned to the smaller count so bin i still means one offset.
  const bins = Math.min(b.bins, t.bins);
  if (b.bins !== bins) b = queryBins(base, q.base(bins));
  if (t.bins !== bins) t = queryBins(target, q.target(bins));
  return memoryDiff(b, t, windows.target);
}

/** Bins of one side's series for a query (`queryBins` over its summary, or a summaries container's `memoryBins`). */
export type SideBins = (query: BinQuery) => BinResult | Promise<BinResult>;

/**
 * `compareMemory` with each side's bins from its own source, e.g. `Summaries.memoryBins` of two
 * profiles' containers: the same bins, the same re-binning, the same differences.
 */
export async function compareMemoryBins(
  base: SideBins,
  target: SideBins,
  windows: { base: MemoryWindow; target: MemoryWindow; bins: number },
): Promise<MemoryDiff> {
  const q = memoryQueries(windows);
  let [b, t] = await Promise.all([base(q.base(windows.bins)), target(q.target(windows.bins))]);
  const bins = Math.min(b.bins, t.bins);
  if (b.bins !== bins) b = await base(q.base(bins));
  if (t.bins !== bins) t = await target(q.target(bins));
  return memoryDiff(b, t, windows.target);
}

/** Both sides span the longer window's length from their own start. */
function memoryQueries(windows: { base: MemoryWindow; target: MemoryWindow }) {
  const span = Math.max(windows.base.to - windows.base.from, windows.target.to - windows.target.from);
  if (!(span > 0)) throw new RangeError(`compareMemory: both windows are empty`);
  const of = (w: MemoryWindow) => (bins: number) => ({ from: w.from, to: w.from + span, bins });
  return { base: of(windows.base), target: of(windows.target) };
}

function memoryDiff(bb: BinResult, tt: BinResult, target: MemoryWindow): MemoryDiff {
  const bins = tt.bins;
  const diff: MemoryDiff = {
    start: new Float64Array(bins),
    end: new Float64Array(bins),
    base: bb,
    target: tt,
    meanDelta: new Float64Array(bins),
    maxDelta: new Float64Array(bins),
  };
  for (let i = 0; i < bins; i++) {
    diff.start[i] = tt.start[i] - target.from;
    diff.end[i] = tt.end[i] - target.from;
    // NaN propagates: an empty bin on either side leaves no difference rather than a guess.
    diff.meanDelta[i] = tt.mean[i] - bb.mean[i];
    diff.maxDelta[i] = tt.max[i] - bb.max[i];
  }
  return diff;
}

/** One whole stack (call path, root first) of a comparison, with its weight on each side. */
export interface StackDiffRow {
  /** Stack row in the base's tree, -1 when only the target has this path. */
  baseStack: number;
  /** Stack row in the target's tree, -1 when only the base has this path. */
  targetStack: number;
  base: number;
  target: number;
  /** target − base, in the runs' weight (e.g. bytes of memory growth). */
  delta: number;
}

/** A folded run: distinct stack rows and their weights (what `compactRun` gives). */
export interface WeightedStacks {
  sampleStack: ArrayLike<number>;
  weight: ArrayLike<number>;
}

/**
 * Whole stacks of two runs matched by call path (functions by shared id), ordered by how much their
 * weight differs: "whose memory growth changed" asked of a range, answered with the exact paths.
 * Sorted by |delta|, then by the larger side, then by path order so equal inputs give equal output.
 */
export function diffStacks(
  base: { stacks: StackTree; run: WeightedStacks },
  target: { stacks: StackTree; run: WeightedStacks },
  match: FrameMatch,
  top = Number.POSITIVE_INFINITY,
): { rows: StackDiffRow[]; count: number } {
  const byPath = new Map<string, StackDiffRow>();
  const fold = (side: typeof base, ids: Uint32Array, which: 'base' | 'target') => {
    const pathOf = new Map<number, string>();
    const path = (node: number): string => {
      let p = pathOf.get(node);
      if (p !== undefined) return p;
      // Iterative walk up to the nearest memoised ancestor: stacks can be thousands of frames deep.
      const chain: number[] = [];
      let n = node;
      while (n >= 0 && !pathOf.has(n)) {
        chain.push(n);
        n = side.stacks.parent[n];
      }
      p = n >= 0 ? pathOf.get(n)! : '';
      for (let i = chain.length - 1; i >= 0; i--) {
        const f = side.stacks.frame[chain[i]];
        if (f >= ids.length) throw new RangeError(`diffStacks: ${which} stack row ${chain[i]} names frame ${f}`);
        p = `${p}/${ids[f]}`;
        pathOf.set(chain[i], p);
      }
      return p;
    };
    for (let i = 0; i < side.run.sampleStack.length; i++) {
      const node = side.run.sampleStack[i];
      const w = side.run.weight[i];
      if (node < 0 || w === 0) continue;
      const key = path(node);
      let row = byPath.get(key);
      if (!row) byPath.set(key, (row = { baseStack: -1, targetStack: -1, base: 0, target: 0, delta: 0 }));
      if (which === 'base') {
        row.base += w;
        row.baseStack = node;
      } else {
        row.target += w;
        row.targetStack = node;
      }
    }
  };
  fold(base, match.base, 'base');
  fold(target, match.target, 'target');
  const rows = [...byPath.values()];
  for (const r of rows) r.delta = r.target - r.base;
  rows.sort(
    (a, b) =>
      Math.abs(b.delta) - Math.abs(a.delta) ||
      Math.max(b.base, b.target) - Math.max(a.base, a.target) ||
      a.targetStack - b.targetStack ||
      a.baseStack - b.baseStack,
  );
  return { rows: rows.slice(0, top), count: rows.length };
}

/** Two windows on one wall clock: what `compareMemory` needs to put the same moment in the same bin. */
export interface ClockWindows {
  /** Each side's window widened to the union of both on the clock, in that side's own time (ms since its start). */
  base: MemoryWindow;
  target: MemoryWindow;
  /** Wall-clock time (ms since the epoch) of offset 0 of the comparison: the earlier window start. */
  origin: number;
  /** How far each side's own start (its time 0) lies after `origin`, ms; negative when before. */
  offsets: { base: number; target: number };
}

/**
 * Aligns two windows by wall-clock time: both become the union of the two on the clock, so bin i of
 * either side covers the same moment (runs that overlapped in time, or a nightly job against the
 * same hours of the night before once shifted by whole days). Worked out in the base's time frame,
 * so sub-millisecond offsets survive: epoch times (~1.7e12) leave a float64 only 0.2 µs of precision.
 */
export function clockWindows(
  base: MemoryWindow & { startTime: number },
  target: MemoryWindow & { startTime: number },
): ClockWindows {
  for (const [side, w] of [
    ['base', base],
    ['target', target],
  ] as const) {
    if (!Number.isFinite(w.startTime) || !Number.isFinite(w.from) || !Number.isFinite(w.to) || !(w.to > w.from)) {
      throw new RangeError(`clockWindows: the ${side} window is not a finite, non-empty span on a known clock`);
    }
  }
  const shift = target.startTime - base.startTime;
  const lo = Math.min(base.from, target.from + shift);
  const hi = Math.max(base.to, target.to + shift);
  return {
    base: { from: lo, to: hi },
    target: { from: lo - shift, to: hi - shift },
    origin: base.startTime + lo,
    offsets: { base: -lo, target: shift - lo },
  };
}

/** A sample run folded to one pseudo-sample per distinct stack, weighted by its samples (or weights). */
export interface CompactRun {
  /** Distinct stack rows of the run (-1 for the empty stack), in first-seen order. */
  sampleStack: Int32Array;
  /** Weight of each: its sample count, or the sum of its samples' weights. */
  weight: Float64Array;
  /** Samples of the original run. */
  samples: number;
}

/**
 * Folds a run so the function table and the call tree of it cost O(distinct stacks) instead of
 * O(samples): `functionTable(stacks, c.sampleStack, { start: 0, end: c.sampleStack.length, weight: c.weight })`
 * gives the run's self, total and weightTotal exactly (sums of integers; `samples` is then the
 * number of distinct stacks, the original count being `c.samples`). A comparison folds each side
 * once and derives both views from it.
 */
export function compactRun(stacks: StackTree, sampleStack: Int32Array, options: AggregateOptions): CompactRun {
  const acc = accumulateStacks(stacks, sampleStack, options, 'compactRun');
  const out: CompactRun = {
    sampleStack: new Int32Array(acc.distinct),
    weight: new Float64Array(acc.distinct),
    samples: acc.samples,
  };
  for (let i = 0; i < acc.distinct; i++) {
    const slot = acc.seen[i];
    out.sampleStack[i] = slot === acc.rows ? -1 : slot;
    out.weight[i] = acc.weights[slot];
  }
  return out;
}
