import { canonicalRows, commonCanonicalAncestor, gain, stackFrames } from './stackPath.js';
import type { SampleRun, StackTree } from './types.js';
import { badStackRow, checkRun, checkStacks } from './validate.js';

export interface AnalyzeStacksOptions extends SampleRun {
  /** How many distinct stacks to list in `top` (default 10). */
  topK?: number;
  /**
   * Memory per sample row (bytes), e.g. `doc.samples.memory`. When given, every `top` entry gets
   * `growth`: the sum over its samples of `max(0, memory[i] - memory[i-1])` (see `memoryGrowth`).
   */
  memory?: Float64Array | null;
  /** Order `top` by sample count (default) or by memory growth (needs `memory`). */
  rankBy?: 'count' | 'growth';
}

export interface TopStack {
  /** Stack row, -1 for the empty stack. */
  stack: number;
  /** Frame rows, root first. */
  frames: number[];
  /** Samples whose stack is exactly this one. */
  count: number;
  /** Bytes gained while this stack was on top (only with `memory`). */
  growth?: number;
}

export interface StackAnalysis {
  /** Samples in the range. */
  samples: number;
  /** Distinct stacks in the range. */
  distinct: number;
  /** Stack row of the longest common prefix (the samples' lowest common ancestor), -1 if none. */
  prefixStack: number;
  /** Frames of the common prefix, root first. */
  prefix: number[];
  /** Frames of the most common full stack beyond the prefix, root first ([] if it is the prefix). */
  extension: number[];
  /** Stack row of the most common full stack (prefix + extension), -1 when empty. */
  extensionStack: number;
  /** Fraction 0..1 of the samples whose stack is exactly prefix + extension. */
  share: number;
  /** Distinct stacks, most samples (or most growth) first; ties by stack row. */
  top: TopStack[];
  /** Bytes gained over the range (only with `memory`). */
  growth?: number;
}

/**
 * What the stacks of a range have in common: their longest common prefix, the most common full
 * stack beyond it with its share, and the top K distinct stacks. One pass over the samples, then
 * work proportional to the number of distinct stacks.
 *
 * Stacks are compared as lists of functions (frame rows): rows that differ only by the executing
 * line are one stack, reported as the smallest such row (see `canonicalRows`).
 */
export function analyzeStacks(
  stacks: StackTree,
  sampleStack: Int32Array,
  options: AnalyzeStacksOptions,
): StackAnalysis {
  const what = 'analyzeStacks';
  checkStacks(stacks, what);
  checkRun(options, sampleStack.length, what);
  const { start, end, indices, memory } = options;
  const topK = options.topK ?? 10;
  const rankBy = options.rankBy ?? 'count';
  if (!Number.isInteger(topK) || topK < 0)
    throw new RangeError(`${what}: topK must be a non-negative integer, got ${topK}`);
  if (memory && memory.length !== sampleStack.length) {
    throw new RangeError(`${what}: memory has ${memory.length} samples but sampleStack has ${sampleStack.length}`);
  }
  if (rankBy === 'growth' && !memory) throw new RangeError(`${what}: rankBy 'growth' needs the memory column`);

  const rows = stacks.parent.length;
  const canonical = canonicalRows(stacks);
  // Slot `rows` holds the empty stack (-1), so every sample lands in a counter.
  const counts = new Uint32Array(rows + 1);
  const growthBy = memory ? new Float64Array(rows + 1) : null;
  const seen = new Int32Array(Math.min(end - start, rows + 1));
  let distinct = 0;
  let totalGrowth = 0;
  for (let k = start; k < end; k++) {
    const row = indices ? indices[k] : k;
    const s = sampleStack[row];
    if (s < -1 || s >= rows) throw badStackRow(what, row, s, rows);
    const slot = s < 0 ? rows : canonical[s];
    if (counts[slot]++ === 0) seen[distinct++] = slot;
    if (growthBy && row > 0) {
      const g = gain(memory![row - 1], memory![row]);
      growthBy[slot] += g;
      totalGrowth += g;
    }
  }

  return finishAnalysis(stacks, canonical, counts, growthBy, seen, distinct, end - start, totalGrowth, topK, rankBy);
}

/**
 * The part of an analysis after the counting pass: `counts` (and `growthBy`) per canonical slot
 * (slot `rows` = the empty stack), `seen` listing the `distinct` slots met. Shared with the
 * summaries, which count from precomputed blocks instead of samples.
 */
export function finishAnalysis(
  stacks: StackTree,
  canonical: Int32Array,
  counts: ArrayLike<number>,
  growthBy: Float64Array | null,
  seen: Int32Array,
  distinct: number,
  samples: number,
  totalGrowth: number,
  topK: number,
  rankBy: 'count' | 'growth',
): StackAnalysis {
  const rows = stacks.parent.length;
  const result: StackAnalysis = {
    samples,
    distinct,
    prefixStack: -1,
    prefix: [],
    extension: [],
    extensionStack: -1,
    share: 0,
    top: [],
  };
  if (growthBy) result.growth = totalGrowth;
  if (samples === 0) return result;

  const parent = stacks.parent;
  let lca = seen[0] === rows ? -1 : seen[0];
  let best = seen[0];
  for (let i = 1; i < distinct; i++) {
    const slot = seen[i];
    if (lca >= 0) lca = slot === rows ? -1 : commonCanonicalAncestor(parent, canonical, lca, slot);
    if (counts[slot] > counts[best] || (counts[slot] === counts[best] && rowOf(slot, rows) < rowOf(best, rows)))
      best = slot;
  }
  const bestStack = rowOf(best, rows);
  result.prefixStack = lca;
  result.prefix = stackFrames(stacks, lca);
  result.extensionStack = bestStack;
  result.extension = stackFrames(stacks, bestStack).slice(result.prefix.length);
  result.share = counts[best] / samples;

  const score = rankBy === 'growth' ? growthBy! : counts;
  const chosen = topSlots(seen, distinct, score, counts, rows, topK);
  result.top = chosen.map((slot) => {
    const stack = rowOf(slot, rows);
    const entry: TopStack = { stack, frames: stackFrames(stacks, stack), count: counts[slot] };
    if (growthBy) entry.growth = growthBy[slot];
    return entry;
  });
  return result;
}

function rowOf(slot: number, rows: number): number {
  return slot === rows ? -1 : slot;
}

/** The k best slots by score, then count, then stack row, via a bounded min-heap: O(d log k). */
function topSlots(
  seen: Int32Array,
  distinct: number,
  score: ArrayLike<number>,
  counts: ArrayLike<number>,
  rows: number,
  k: number,
): number[] {
  if (k === 0) return [];
  // `a` ranks below `b`: what the heap evicts first.
  const worse = (a: number, b: number) =>
    score[a] !== score[b]
      ? score[a] < score[b]
      : counts[a] !== counts[b]
        ? counts[a] < counts[b]
        : rowOf(a, rows) > rowOf(b, rows);
  const heap: number[] = [];
  const siftDown = (i: number) => {
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < heap.length && worse(heap[l], heap[m])) m = l;
      if (r < heap.length && worse(heap[r], heap[m])) m = r;
      if (m === i) return;
      [heap[i], heap[m]] = [heap[m], heap[i]];
      i = m;
    }
  };
  for (let i = 0; i < distinct; i++) {
    const slot = seen[i];
    if (heap.length < k) {
      heap.push(slot);
      for (let j = heap.length - 1; j > 0; ) {
        const p = (j - 1) >> 1;
        if (!worse(heap[j], heap[p])) break;
        [heap[j], heap[p]] = [heap[p], heap[j]];
        j = p;
      }
    } else if (worse(heap[0], slot)) {
      heap[0] = slot;
      siftDown(0);
    }
  }
  return heap.sort((a, b) => (worse(a, b) ? 1 : worse(b, a) ? -1 : 0));
}
