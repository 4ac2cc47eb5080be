import { accumulateStacks, type AggregateOptions } from './accumulate.js';
import { canonicalRows } from './stackPath.js';
import type { StackTree } from './types.js';

/**
 * A call tree in depth-first preorder, siblings by descending total: the flame graph of a range.
 * Node 0 is a synthetic root (frame -1) holding every sample; its self is the samples with an
 * empty stack. Stack rows that differ only by line (lines mode) share a node: nodes are functions.
 * Node i's subtree is the nodes `i .. subtreeEnd[i] - 1`; its children are `i + 1`, then each
 * next child starts where the previous one's subtree ends (see `callTreeChildren`).
 */
export interface CallTree {
  /** Number of nodes, root included. */
  length: number;
  /** Frame row of the node's function, -1 for the root. */
  frame: Int32Array;
  /** Parent node, -1 for the root. */
  parent: Int32Array;
  /** Root 0, top-level functions 1, … */
  depth: Int32Array;
  /** Weight of samples whose stack ends at this node. */
  self: Float64Array;
  /** Weight of samples whose stack passes through this node (self + children's totals). */
  total: Float64Array;
  /** End (exclusive) of the node's subtree in preorder. */
  subtreeEnd: Int32Array;
  /** Left edge of the node in weight units: a flame graph draws it at offset / total[0]. */
  offset: Float64Array;
  /** Node of each stack row, -1 for rows outside the range: maps a sample to its flame-graph cell. */
  stackNode: Int32Array;
  /** Samples in the range. */
  samples: number;
}

/**
 * Aggregates a sample run into a call tree: one pass over the samples, one over the stack rows,
 * then a sort of each node's children; O(samples + stack rows + nodes · log fan-out).
 */
export function aggregateCallTree(stacks: StackTree, sampleStack: Int32Array, options: AggregateOptions): CallTree {
  const acc = accumulateStacks(stacks, sampleStack, options, 'aggregateCallTree');
  const { rows, weights } = acc;
  const { parent, frame } = stacks;

  // Totals and presence per stack row, children before parents (children have larger rows).
  const totalByRow = weights.slice(0, rows);
  const present = new Uint8Array(rows);
  for (let i = 0; i < acc.distinct; i++) if (acc.seen[i] < rows) present[acc.seen[i]] = 1;
  let presentRows = 0;
  for (let i = rows - 1; i >= 0; i--) {
    if (!present[i]) continue;
    presentRows++;
    const p = parent[i];
    if (p >= 0) {
      totalByRow[p] += totalByRow[i];
      present[p] = 1;
    }
  }

  // One node per function path: rows differing only by line share their canonical row's node.
  // Parents come first (smaller rows), so a row's parent already has its node.
  const canonical = canonicalRows(stacks);
  const cap = presentRows + 1;
  const nodeFrame = new Int32Array(cap);
  const nodeParent = new Int32Array(cap);
  const nodeSelf = new Float64Array(cap);
  const nodeTotal = new Float64Array(cap);
  const canonicalNode = new Int32Array(rows).fill(-1);
  nodeFrame[0] = -1;
  nodeParent[0] = -1;
  nodeSelf[0] = weights[rows];
  nodeTotal[0] = acc.weightTotal;
  let nodes = 1;
  for (let i = 0; i < rows; i++) {
    if (!present[i]) continue;
    const c = canonical[i];
    let node = canonicalNode[c];
    if (node < 0) {
      node = canonicalNode[c] = nodes++;
      nodeFrame[node] = frame[i];
      nodeParent[node] = parent[i] < 0 ? 0 : canonicalNode[canonical[parent[i]]];
    }
    nodeSelf[node] += weights[i];
    nodeTotal[node] += totalByRow[i];
  }

  // Children lists (CSR), each sorted by total descending, then frame row for a stable order.
  const childStart = new Int32Array(nodes + 1);
  for (let n = 1; n < nodes; n++) childStart[nodeParent[n] + 1]++;
  for (let n = 0; n < nodes; n++) childStart[n + 1] += childStart[n];
  const children = new Int32Array(Math.max(0, nodes - 1));
  const fill = childStart.slice(0, nodes);
  for (let n = 1; n < nodes; n++) children[fill[nodeParent[n]]++] = n;
  const byTotal = (a: number, b: number) => nodeTotal[b] - nodeTotal[a] || nodeFrame[a] - nodeFrame[b];
  for (let n = 0; n < nodes; n++) {
    if (childStart[n + 1] - childStart[n] > 1) children.subarray(childStart[n], childStart[n + 1]).sort(byTotal);
  }

  // Subtree sizes: a node's id is larger than its parent's, so a reverse sweep suffices.
  const size = new Int32Array(nodes).fill(1);
  for (let n = nodes - 1; n > 0; n--) size[nodeParent[n]] += size[n];

  // Preorder renumbering; offsets stack siblings left to right in sorted order.
  const tree: CallTree = {
    length: nodes,
    frame: new Int32Array(nodes),
    parent: new Int32Array(nodes),
    depth: new Int32Array(nodes),
    self: new Float64Array(nodes),
    total: new Float64Array(nodes),
    subtreeEnd: new Int32Array(nodes),
    offset: new Float64Array(nodes),
    stackNode: new Int32Array(rows).fill(-1),
    samples: acc.samples,
  };
  const newId = new Int32Array(nodes);
  const oldOffset = new Float64Array(nodes);
  const todo = new Int32Array(nodes);
  let top = 0;
  todo[top++] = 0;
  let next = 0;
  while (top > 0) {
    const old = todo[--top];
    const id = next++;
    newId[old] = id;
    const p = nodeParent[old];
    tree.frame[id] = nodeFrame[old];
    tree.parent[id] = p < 0 ? -1 : newId[p];
    tree.depth[id] = p < 0 ? 0 : tree.depth[newId[p]] + 1;
    tree.self[id] = nodeSelf[old];
    tree.total[id] = nodeTotal[old];
    tree.subtreeEnd[id] = id + size[old];
    tree.offset[id] = oldOffset[old];
    let x = oldOffset[old];
    for (let c = childStart[old]; c < childStart[old + 1]; c++) {
      oldOffset[children[c]] = x;
      x += nodeTotal[children[c]];
    }
    // Pushed in reverse so the heaviest child is visited (numbered) first.
    for (let c = childStart[old + 1] - 1; c >= childStart[old]; c--) todo[top++] = children[c];
  }
  for (let i = 0; i < rows; i++) if (present[i]) tree.stackNode[i] = newId[canonicalNode[canonical[i]]];
  return tree;
}

/** Child nodes of `node`, heaviest first. */
export function callTreeChildren(tree: CallTree, node: number): number[] {
  const out: number[] = [];
  for (let c = node + 1; c < tree.subtreeEnd[node]; c = tree.subtreeEnd[c]) out.push(c);
  return out;
}
