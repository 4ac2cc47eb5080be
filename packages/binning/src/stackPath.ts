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
  for (let i = 1; i < memory.length; i++) out[i] = gain(memory[i - 1], memory[i]);
  return out;
}

/**
 * `max(0, after - before)`, exactly (doubling and halving are exact), without a branch: memory
 * goes up and down at random, so an `if` would be mispredicted half the time (4x slower).
 */
export function gain(before: number, after: number): number {
  const d = after - before;
  return (d + Math.abs(d)) * 0.5;
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
  const canonicalParent = (r: number) => (parent[r] < 0 ? -1 : canonical[parent[r]]);
  // Open-addressing table of the canonical rows by (canonical parent, frame): typed arrays, no
  // Map, so the first call on a 30,000-row table costs a few ms even before the JIT has run.
  let capacity = 16;
  while (capacity < 2 * rows) capacity *= 2;
  const mask = capacity - 1;
  const table = new Int32Array(capacity).fill(-1);
  for (let i = 0; i < rows; i++) {
    const p = canonicalParent(i);
    const f = frame[i];
    for (let h = (Math.imul(p + 1, 0x9e3779b1) ^ Math.imul(f, 0x85ebca6b)) & mask; ; h = (h + 1) & mask) {
      const r = table[h];
      if (r < 0) {
        table[h] = canonical[i] = i;
        break;
      }
      if (frame[r] === f && canonicalParent(r) === p) {
        canonical[i] = r;
        break;
      }
    }
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

/**
 * The stack tree with the frames flagged in `cut` (launcher frames: runpy, vmprof's CLI) taken off
 * the root: a stack right below them becomes a root; a stack that never left them keeps its rows.
 * Row numbers do not change, so sample columns index it as they index `stacks`.
 */
export function withoutRootFrames<T extends StackTree>(stacks: T, cut: Uint8Array): T {
  const parent = stacks.parent.slice();
  for (let i = 0; i < parent.length; i++) if (!cut[i] && parent[i] >= 0 && cut[parent[i]]) parent[i] = -1;
  return { ...stacks, parent };
}
