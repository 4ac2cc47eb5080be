// Views over @prof/binning's call tree (preorder, siblings heaviest first, offsets in weight units)
// that the flame graph and the tables need: child lists, focus paths and search matches.
import { formatCount } from '../lib/units';
import type { CallTreeData, FrameInfo } from '../worker/protocol';

export interface FlameLayout {
  tree: CallTreeData;
  childStart: Int32Array; // children of node n are childList[childStart[n] .. childStart[n+1])
  childList: Int32Array;
  maxDepth: number;
  /** Per frame row, over every call path ("everywhere"): total counts a recursive call once. */
  frameTotal: Float64Array;
  frameSelf: Float64Array;
}

/**
 * Totals of each function over all its call paths, from the tree in one preorder walk: a node adds
 * its total only when no ancestor is the same function (recursion counted once), its self always.
 */
function frameTotals(tree: CallTreeData, frameCount: number): { frameTotal: Float64Array; frameSelf: Float64Array } {
  const frameTotal = new Float64Array(frameCount);
  const frameSelf = new Float64Array(frameCount);
  const open = new Int32Array(frameCount);
  const stack: number[] = [];
  for (let n = 1; n < tree.length; n++) {
    while (stack.length && tree.subtreeEnd[stack[stack.length - 1]] <= n) open[tree.frame[stack.pop()!]]--;
    const f = tree.frame[n];
    if (open[f] === 0) frameTotal[f] += tree.total[n];
    frameSelf[f] += tree.self[n];
    open[f]++;
    stack.push(n);
  }
  return { frameTotal, frameSelf };
}

export function layoutFlame(tree: CallTreeData, frameCount: number): FlameLayout {
  const n = tree.length;
  const childStart = new Int32Array(n + 1);
  const childList = new Int32Array(Math.max(0, n - 1));
  let k = 0;
  let maxDepth = 0;
  for (let p = 0; p < n; p++) {
    childStart[p] = k;
    for (let c = p + 1; c < tree.subtreeEnd[p]; c = tree.subtreeEnd[c]) childList[k++] = c;
    // The "… N more" box of a node's cut children sits one row below it.
    const depth = tree.depth[p] + (tree.cut[p] > 0 ? 1 : 0);
    if (depth > maxDepth) maxDepth = depth;
  }
  childStart[n] = k;
  return { tree, childStart, childList, maxDepth, ...frameTotals(tree, frameCount) };
}

/** Left edge (weight units) of the part of `node` the server cut: right after its kept children. */
export function cutStart(tree: CallTreeData, node: number): number {
  return tree.offset[node] + tree.total[node] - tree.self[node] - tree.cut[node];
}

/** "… 12 more (0.8%)": the children of `node` too thin to send, as one label. */
export function cutLabel(tree: CallTreeData, node: number): string {
  const share = tree.cut[node] / (tree.total[0] || 1);
  return `… ${formatCount(tree.cutCount[node])} more (${(share * 100).toFixed(share < 0.001 ? 2 : 1)}%)`;
}

/** Node reached by following `path` (frame rows, root-first) from the root; stops where it breaks. */
export function nodeForPath(layout: FlameLayout, path: number[]): number {
  let node = 0;
  for (const f of path) {
    let next = -1;
    for (let k = layout.childStart[node]; k < layout.childStart[node + 1]; k++) {
      if (layout.tree.frame[layout.childList[k]] === f) {
        next = layout.childList[k];
        break;
      }
    }
    if (next < 0) break;
    node = next;
  }
  return node;
}

export function pathOf(tree: CallTreeData, node: number): number[] {
  const out: number[] = [];
  for (let n = node; n > 0; n = tree.parent[n]) out.push(tree.frame[n]);
  return out.reverse();
}

/** Nodes whose function name contains `q` (case-insensitive); the share counts nested matches once. */
export function searchMatches(
  layout: FlameLayout,
  frames: FrameInfo,
  q: string,
): { match: Uint8Array; total: number; count: number } {
  const tree = layout.tree;
  const match = new Uint8Array(tree.length);
  if (!q) return { match, total: 0, count: 0 };
  const needle = q.toLowerCase();
  const frameHit = new Int8Array(frames.name.length).fill(-1);
  const covered = new Uint8Array(tree.length);
  let total = 0;
  let count = 0;
  for (let n = 1; n < tree.length; n++) {
    const f = tree.frame[n];
    if (frameHit[f] < 0) frameHit[f] = frames.name[f].toLowerCase().includes(needle) ? 1 : 0;
    const p = tree.parent[n];
    covered[n] = covered[p];
    if (frameHit[f] === 1) {
      match[n] = 1;
      count++;
      if (!covered[p]) total += tree.total[n];
      covered[n] = 1;
    }
  }
  return { match, total, count };
}
