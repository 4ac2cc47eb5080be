import { compareCodePoints } from './compat-json';
import { isLineLikeAddress } from './compat-names';
import { FrameKind, type ProfileDocument } from '../schema';

/** One row of `functions` in the inspect JSON. */
export interface VmprofFunctionRow {
  name: string;
  self: number;
  total: number;
}

export interface VmprofTreeSummary {
  /** `get_tree()` root after `filter_top`, null when vmprof cannot build a tree. */
  root: { name: string; count: number } | null;
  /** The root before `filter_top`. */
  unfilteredRoot: { name: string; count: number } | null;
  /** Top functions by total, then self, then name. */
  functions: VmprofFunctionRow[];
  /** What vmprof raises instead of a tree (`vmprof.stats.EmptyProfileFile` without samples). */
  error: string | null;
}

/**
 * vmprof's call tree (`Stats.get_tree`, format doc §7.6), built from the document: nodes are keyed
 * by address (so a JIT frame and its interpreted twin share a node), assembler entries and entries
 * `<= 0` (lines) are skipped, an entry equal to the previous kept one is skipped (which drops the
 * root entry and collapses direct recursion), and every sample hangs below the first sample's
 * root. Stack rows are shared by many samples, so each row's tree node is computed once, in the
 * order samples first reach it: that keeps vmprof's child insertion order, which decides ties in
 * `filter_top`.
 */
export function vmprofTree(doc: ProfileDocument, nameOf: (address: string) => string, topN = 200): VmprofTreeSummary {
  const { frames, stacks, samples } = doc;
  const n = samples.length;
  if (n === 0) return { root: null, unfilteredRoot: null, functions: [], error: 'vmprof.stats.EmptyProfileFile' };

  const address = (frame: number): string => doc.strings[frames.address[frame]];

  // The root is the first entry of the first non-empty sample.
  let rootKey: string | null = null;
  for (let i = 0; i < n && rootKey === null; i++) {
    let row = samples.stack[i];
    if (row < 0) continue;
    while (stacks.parent[row] >= 0) row = stacks.parent[row];
    rootKey = address(stacks.frame[row]);
  }
  if (rootKey === null) {
    // Only empty samples: vmprof indexes the first sample's first entry and fails.
    return { root: null, unfilteredRoot: null, functions: [], error: 'IndexError: list index out of range' };
  }

  const nodeName: string[] = [nameOf(rootKey)];
  const nodeParent: number[] = [-1];
  const nodeChildren: Map<string, number>[] = [new Map()];
  const nodeKey: string[] = [rootKey];

  // Per stack row: tree node reached and the last kept address (-1 = not computed yet).
  const rowNode = new Int32Array(stacks.length).fill(-1);
  const rowLast: string[] = new Array(stacks.length);
  const sampleNode = new Int32Array(n);
  const pending: number[] = [];

  for (let i = 0; i < n; i++) {
    const leaf = samples.stack[i];
    if (leaf < 0) {
      sampleNode[i] = 0;
      continue;
    }
    if (rowNode[leaf] < 0) {
      pending.length = 0;
      let row = leaf;
      while (row >= 0 && rowNode[row] < 0) {
        pending.push(row);
        row = stacks.parent[row];
      }
      let node = row >= 0 ? rowNode[row] : 0;
      let last = row >= 0 ? rowLast[row] : rootKey;
      for (let k = pending.length - 1; k >= 0; k--) {
        const r = pending[k];
        const frame = stacks.frame[r];
        const key = address(frame);
        if (frames.kind[frame] !== FrameKind.Asm && !isLineLikeAddress(key) && key !== last) {
          const children = nodeChildren[node];
          let child = children.get(key);
          if (child === undefined) {
            child = nodeName.length;
            nodeName.push(nameOf(key));
            nodeParent.push(node);
            nodeChildren.push(new Map());
            nodeKey.push(key);
            children.set(key, child);
          }
          node = child;
          last = key;
        }
        rowNode[r] = node;
        rowLast[r] = last;
      }
    }
    sampleNode[i] = rowNode[leaf];
  }

  // A node's count is the number of samples whose walk passes through it.
  const count = new Float64Array(nodeName.length);
  for (let i = 0; i < n; i++) count[sampleNode[i]]++;
  for (let node = nodeName.length - 1; node > 0; node--) count[nodeParent[node]] += count[node];
  count[0] = n;

  const unfilteredRoot = { name: nodeName[0], count: count[0] };
  const top = filterTop(0, nodeName, nodeChildren, count);
  return {
    root: { name: nodeName[top], count: count[top] },
    unfilteredRoot,
    functions: functionTable(top, nodeName, nodeChildren, count, topN),
    error: null,
  };
}

/**
 * vmprof's `filter_top`: skip launcher frames (runpy, `python -m vmprof`) by following the only or
 * the heaviest child until a `py:<module>` frame that is not vmprof's own `__main__`.
 */
function filterTop(root: number, names: string[], children: Map<string, number>[], count: Float64Array): number {
  let node = root;
  for (;;) {
    const name = names[node];
    if (name.startsWith('py:<module>') && !name.includes('vmprof/__main__.py')) return node;
    let best = -1;
    for (const child of children[node].values()) if (best < 0 || count[child] > count[best]) best = child;
    if (best < 0) return root;
    node = best;
  }
}

/**
 * Per name: `self` sums node count minus children counts; `total` sums node counts of nodes with
 * no ancestor of the same name (within the filtered tree), so recursion is not counted twice.
 */
function functionTable(
  top: number,
  names: string[],
  children: Map<string, number>[],
  count: Float64Array,
  topN: number,
): VmprofFunctionRow[] {
  const rows = new Map<string, VmprofFunctionRow>();
  const open = new Map<string, number>(); // name -> how many ancestors on the current path carry it
  // Iterative DFS: stacks can be ~1000 frames deep. Negative entries mark "leave node".
  const todo: number[] = [top];
  while (todo.length > 0) {
    const item = todo.pop()!;
    if (item < 0) {
      const name = names[~item];
      const c = open.get(name)! - 1;
      if (c === 0) open.delete(name);
      else open.set(name, c);
      continue;
    }
    const name = names[item];
    let row = rows.get(name);
    if (!row) rows.set(name, (row = { name, self: 0, total: 0 }));
    let childSum = 0;
    for (const child of children[item].values()) childSum += count[child];
    row.self += count[item] - childSum;
    if (!open.has(name)) row.total += count[item];
    open.set(name, (open.get(name) ?? 0) + 1);
    todo.push(~item);
    for (const child of children[item].values()) todo.push(child);
  }
  return [...rows.values()]
    .sort((a, b) => b.total - a.total || b.self - a.self || compareCodePoints(a.name, b.name))
    .slice(0, topN);
}
