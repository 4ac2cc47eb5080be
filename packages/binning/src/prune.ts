import { aggregateCallTree, type CallTree } from './callTree.js';
import type { CompactRun } from './compare.js';
import { functionCalls, functionTable, type FunctionCalls, type FunctionTable } from './functionTable.js';
import type { StackTree } from './types.js';

/**
 * A call tree cut to what a screen can draw. Same layout as `CallTree` (preorder, siblings heaviest
 * first, offsets in weight units) without `stackNode`; what was dropped under a node is kept as a
 * total, so every kept node still satisfies `total = self + Σ children's total + cut`.
 */
export interface PrunedCallTree extends Omit<CallTree, 'stackNode'> {
  /** Weight of the node's children that were dropped (with their subtrees). */
  cut: Float64Array;
  /** Number of the node's direct children that were dropped. */
  cutCount: Int32Array;
  /** Nodes of the tree before pruning, root included. */
  unprunedLength: number;
  /** Node of the tree given to `pruneCallTree` each kept node was: to read columns that tree came with (a diff's). */
  source: Int32Array;
}

export interface PruneOptions {
  /** Nodes below this share of the root's total are dropped: 1/20000 is under a pixel on any screen. */
  minShare?: number;
  /** At most this many nodes are kept, root included: the heaviest ones. */
  maxNodes?: number;
}

export const DEFAULT_MIN_SHARE = 1 / 20000;
export const DEFAULT_MAX_NODES = 50000;

/**
 * Keeps the heaviest nodes of a call tree, grown from the root: every kept node's ancestors are kept,
 * and siblings come heaviest first, so the kept children of a node are a prefix of its children, keep
 * their offsets, and the cut part of a node lies right after them.
 */
export function pruneCallTree(tree: CallTree | PrunedCallTree, options: PruneOptions = {}): PrunedCallTree {
  const minShare = options.minShare ?? DEFAULT_MIN_SHARE;
  const maxNodes = options.maxNodes ?? DEFAULT_MAX_NODES;
  if (!(minShare >= 0 && minShare <= 1))
    throw new RangeError(`pruneCallTree: minShare=${minShare} must be from 0 to 1`);
  if (!Number.isInteger(maxNodes) || maxNodes < 1)
    throw new RangeError(`pruneCallTree: maxNodes=${maxNodes} must be an integer of at least 1`);
  const n = tree.length;
  const limit = minShare * (n > 0 ? tree.total[0] : 0);
  const keep = new Uint8Array(n);
  // Grown from the root, heaviest frontier node first: the kept nodes always form a connected tree,
  // even where float sums make a child a hair heavier than its parent (then a sort by weight alone
  // would keep the child and drop the parent).
  const candidates: number[] = [];
  const frontier = new MaxHeap((a, b) => tree.total[a] - tree.total[b] || b - a);
  if (n > 0) frontier.push(0);
  while (candidates.length < maxNodes && frontier.size > 0) {
    const i = frontier.pop();
    candidates.push(i);
    keep[i] = 1;
    // A node under the limit has only lighter descendants: its whole subtree goes.
    for (let c = i + 1; c < tree.subtreeEnd[i]; c = tree.subtreeEnd[c]) if (tree.total[c] >= limit) frontier.push(c);
  }
  candidates.sort((a, b) => a - b);

  const m = candidates.length;
  const out: PrunedCallTree = {
    length: m,
    frame: new Int32Array(m),
    parent: new Int32Array(m),
    depth: new Int32Array(m),
    self: new Float64Array(m),
    total: new Float64Array(m),
    subtreeEnd: new Int32Array(m),
    offset: new Float64Array(m),
    cut: new Float64Array(m),
    cutCount: new Int32Array(m),
    source: new Int32Array(m),
    samples: tree.samples,
    unprunedLength: 'unprunedLength' in tree ? tree.unprunedLength : n,
  };
  const inherited = 'cut' in tree ? tree : null;
  const newId = new Int32Array(n).fill(-1);
  // Open kept nodes, to close their subtreeEnd when preorder leaves them.
  const open: number[] = [];
  let next = 0;
  for (let i = 0; i < n; ) {
    const p = tree.parent[i];
    if (!keep[i]) {
      if (p >= 0 && newId[p] >= 0) {
        out.cut[newId[p]] += tree.total[i];
        out.cutCount[newId[p]]++;
      }
      i = tree.subtreeEnd[i];
      continue;
    }
    while (open.length && tree.subtreeEnd[open[open.length - 1]] <= i) out.subtreeEnd[newId[open.pop()!]] = next;
    const id = next++;
    newId[i] = id;
    out.source[id] = i;
    out.frame[id] = tree.frame[i];
    out.parent[id] = p < 0 ? -1 : newId[p];
    out.depth[id] = tree.depth[i];
    out.self[id] = tree.self[i];
    out.total[id] = tree.total[i];
    out.offset[id] = tree.offset[i];
    if (inherited) {
      out.cut[id] = inherited.cut[i];
      out.cutCount[id] = inherited.cutCount[i];
    }
    open.push(i);
    i++;
  }
  while (open.length) out.subtreeEnd[newId[open.pop()!]] = next;
  return out;
}

/**
 * The call tree of a run already folded per distinct stack (`compactRun`, or per-stack counts read
 * from a precomputed summary): O(distinct stacks + stack rows), whatever the run's length.
 */
export function callTreeFromColumns(stacks: StackTree, columns: CompactRun): CallTree {
  const tree = aggregateCallTree(stacks, columns.sampleStack, compactOptions(columns));
  tree.samples = columns.samples;
  return tree;
}

/** The function table of a folded run (see `callTreeFromColumns`); `samples` is the run's own count. */
export function functionTableFromColumns(stacks: StackTree, columns: CompactRun): FunctionTable {
  const table = functionTable(stacks, columns.sampleStack, compactOptions(columns));
  table.samples = columns.samples;
  return table;
}

/** Callers and callees of one frame row over a folded run. */
export function functionCallsFromColumns(stacks: StackTree, columns: CompactRun, frame: number): FunctionCalls {
  return functionCalls(stacks, columns.sampleStack, frame, compactOptions(columns));
}

function compactOptions(c: CompactRun) {
  if (c.weight.length !== c.sampleStack.length)
    throw new RangeError(`columns: weight has ${c.weight.length} entries but sampleStack has ${c.sampleStack.length}`);
  return { start: 0, end: c.sampleStack.length, weight: c.weight };
}

/** A binary max-heap of node ids (the frontier of `pruneCallTree`). */
class MaxHeap {
  private readonly items: number[] = [];
  constructor(private readonly compare: (a: number, b: number) => number) {}

  get size(): number {
    return this.items.length;
  }

  push(x: number): void {
    const h = this.items;
    h.push(x);
    for (let i = h.length - 1; i > 0; ) {
      const p = (i - 1) >> 1;
      if (this.compare(h[i], h[p]) <= 0) break;
      [h[i], h[p]] = [h[p], h[i]];
      i = p;
    }
  }

  pop(): number {
    const h = this.items;
    const top = h[0];
    const last = h.pop()!;
    if (h.length > 0) {
      h[0] = last;
      for (let i = 0; ; ) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && this.compare(h[l], h[m]) > 0) m = l;
        if (r < h.length && this.compare(h[r], h[m]) > 0) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m], h[i]];
        i = m;
      }
    }
    return top;
  }
}
