import type { StackTree } from './types.js';

/** Frame rows of a stack, root first; [] for -1 (the empty stack). */
export function stackFrames(stacks: StackTree, stack: number): number[] {
  const frames: number[] = [];
  for (let s = stack; s >= 0; s = stacks.parent[s]) frames.push(stacks.frame[s]);
  return frames.reverse();
}

/**
 * Memory growth per sample: `max(0, memory[i] - memory[i-1])` in sample order over all samples
 * (so with several threads the growth between two readings goes to the sample that observed it),
 * 0 for the first sample. Bytes gained since the previous reading, credited to the stack on top
 * when it was seen; use it as `weight` to aggregate "which code grew memory".
 */
export function memoryGrowth(memory: Float64Array): Float64Array {
  const out = new Float64Array(memory.length);
  for (let i = 1; i < memory.length; i++) {
    const d = memory[i] - memory[i - 1];
    out[i] = d > 0 ? d : 0;
  }
  return out;
}

// Stack tables are immutable once built: their function-level rows are computed once per table.
const canonicalCache = new WeakMap<Int32Array, Int32Array>();

/**
 * For each stack row, the first (smallest) row with the same list of frames. Rows differ only by
 * line in lines mode (vmprof lines, V8 position ticks); analyses speak of functions, so such rows
 * count as one stack. `canonical[i] <= i`, and `canonical[parent]` of a canonical row is smaller
 * than it, so a common ancestor is found by stepping the larger row up (no depth table needed).
 */
export function canonicalRows(stacks: StackTree): Int32Array {
  const cached = canonicalCache.get(stacks.parent);
  if (cached && cached.length === stacks.parent.length) return cached;
  const { parent, frame } = stacks;
  const rows = parent.length;
  const canonical = new Int32Array(rows);
  const first = new Map<number | string, number>();
  let span = 0;
  for (let i = 0; i < rows; i++) if (frame[i] >= span) span = frame[i] + 1;
  const numericKeys = (rows + 1) * span < Number.MAX_SAFE_INTEGER;
  for (let i = 0; i < rows; i++) {
    const p = parent[i] < 0 ? -1 : canonical[parent[i]];
    const key = numericKeys ? (p + 1) * span + frame[i] : `${p}:${frame[i]}`;
    const seen = first.get(key);
    if (seen === undefined) {
      first.set(key, i);
      canonical[i] = i;
    } else canonical[i] = seen;
  }
  canonicalCache.set(stacks.parent, canonical);
  return canonical;
}

/**
 * Lowest common ancestor of two canonical rows in the function-level tree; -1 when none. A parent
 * is always a smaller row than its children, so the larger row cannot be the ancestor of the
 * smaller one: stepping it up is always safe.
 */
export function commonCanonicalAncestor(parent: Int32Array, canonical: Int32Array, a: number, b: number): number {
  while (a !== b) {
    if (a > b) a = parent[a] < 0 ? -1 : canonical[parent[a]];
    else b = parent[b] < 0 ? -1 : canonical[parent[b]];
    if (a < 0 || b < 0) return -1;
  }
  return a;
}
