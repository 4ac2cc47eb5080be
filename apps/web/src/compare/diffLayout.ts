// The server's differential call tree (preorder, parent indices, heaviest child first) laid out as
// a flame graph of the target: x offsets in the target's weight, and each node's change.
import type { DiffNode } from '../lib/api';

export type DiffMode = 'share' | 'abs';

export interface DiffLayout {
  nodes: DiffNode[];
  /** Left edge of each node in target weight units. */
  offset: Float64Array;
  /** Change of each node: share points (target share − base share of total) or samples. */
  change: Float64Array;
  /** Largest |change| over the nodes: the legend's scale. */
  scale: number;
  maxDepth: number;
}

export function layoutDiff(nodes: DiffNode[], mode: DiffMode): DiffLayout {
  const n = nodes.length;
  const offset = new Float64Array(n);
  const next = new Float64Array(n);
  const change = new Float64Array(n);
  const baseRoot = n ? nodes[0].base.total : 0;
  const targetRoot = n ? nodes[0].target.total : 0;
  let scale = 0;
  let maxDepth = 0;
  for (let i = 0; i < n; i++) {
    const node = nodes[i];
    if (node.parent >= 0) {
      offset[i] = next[node.parent];
      next[node.parent] += node.target.total;
    }
    next[i] = offset[i];
    change[i] =
      mode === 'abs'
        ? node.target.total - node.base.total
        : (targetRoot ? node.target.total / targetRoot : 0) - (baseRoot ? node.base.total / baseRoot : 0);
    if (i > 0) scale = Math.max(scale, Math.abs(change[i]));
    maxDepth = Math.max(maxDepth, node.depth);
  }
  return { nodes, offset, change, scale: scale || (mode === 'abs' ? 1 : 0.01), maxDepth };
}
