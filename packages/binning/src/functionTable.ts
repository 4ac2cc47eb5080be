import { accumulateStacks, frameSpan, type AggregateOptions } from './accumulate.js';
import type { StackTree } from './types.js';

/** Per-function totals of a range, rows by descending total (then ascending self, then frame row). */
export interface FunctionTable {
  /** Number of functions (rows) with samples in the range. */
  length: number;
  /** Frame row of each function. */
  frame: Uint32Array;
  /** Weight of samples whose innermost frame is the function. */
  self: Float64Array;
  /** Weight of samples whose stack holds the function anywhere, counted once per sample even when recursive. */
  total: Float64Array;
  /** Samples in the range. */
  samples: number;
  /** Weight of all samples in the range (= samples without `weight`): the 100% of a percentage column. */
  weightTotal: number;
}

/**
 * Function table of a sample run: one pass over the samples, then one walk up each distinct
 * stack, stamping frames so a recursive function adds a stack's weight once.
 */
export function functionTable(stacks: StackTree, sampleStack: Int32Array, options: AggregateOptions): FunctionTable {
  const acc = accumulateStacks(stacks, sampleStack, options, 'functionTable');
  const { parent, frame } = stacks;
  const span = frameSpan(stacks);
  const self = new Float64Array(span);
  const total = new Float64Array(span);
  const stamp = new Int32Array(span).fill(-1);
  const listed: number[] = [];
  for (let i = 0; i < acc.distinct; i++) {
    const s = acc.seen[i];
    if (s === acc.rows) continue;
    const w = acc.weights[s];
    self[frame[s]] += w;
    for (let n = s; n >= 0; n = parent[n]) {
      const f = frame[n];
      if (stamp[f] === s) continue;
      if (stamp[f] === -1) listed.push(f);
      stamp[f] = s;
      total[f] += w;
    }
  }
  // Equal totals: less self first, so a chain of callers reads outer to inner.
  listed.sort((a, b) => total[b] - total[a] || self[a] - self[b] || a - b);
  const table: FunctionTable = {
    length: listed.length,
    frame: Uint32Array.from(listed),
    self: new Float64Array(listed.length),
    total: new Float64Array(listed.length),
    samples: acc.samples,
    weightTotal: acc.weightTotal,
  };
  for (let r = 0; r < listed.length; r++) {
    table.self[r] = self[listed[r]];
    table.total[r] = total[listed[r]];
  }
  return table;
}

/** A caller or callee of a function, with the weight of the samples holding that call. */
export interface CallEdge {
  /** Frame row of the other function; -1 as a caller means "called at the root of the stack". */
  frame: number;
  /** Weight of samples in which this call is on the stack, once per sample. */
  total: number;
}

export interface FunctionCalls {
  frame: number;
  self: number;
  total: number;
  /** Functions calling `frame` directly, heaviest first. */
  callers: CallEdge[];
  /** Functions `frame` calls directly, heaviest first. */
  callees: CallEdge[];
}

/**
 * Callers and callees of one function (frame row) over a sample run, for the function table's
 * detail pane: an edge's weight counts each sample once, even when the call recurs in its stack.
 */
export function functionCalls(
  stacks: StackTree,
  sampleStack: Int32Array,
  target: number,
  options: AggregateOptions,
): FunctionCalls {
  if (!Number.isInteger(target) || target < 0)
    throw new RangeError(`functionCalls: frame must be a frame row, got ${target}`);
  const acc = accumulateStacks(stacks, sampleStack, options, 'functionCalls');
  const { parent, frame } = stacks;
  const span = Math.max(frameSpan(stacks), target + 1);
  // Slot `span` stands for "no caller" (the function at the root of its stack).
  const callerW = new Float64Array(span + 1);
  const calleeW = new Float64Array(span);
  const callerStamp = new Int32Array(span + 1).fill(-1);
  const calleeStamp = new Int32Array(span).fill(-1);
  let self = 0;
  let total = 0;
  for (let i = 0; i < acc.distinct; i++) {
    const s = acc.seen[i];
    if (s === acc.rows) continue;
    const w = acc.weights[s];
    if (frame[s] === target) self += w;
    let holds = false;
    let below = -1;
    for (let n = s; n >= 0; below = frame[n], n = parent[n]) {
      if (frame[n] !== target) continue;
      holds = true;
      const p = parent[n];
      const caller = p < 0 ? span : frame[p];
      if (callerStamp[caller] !== s) {
        callerStamp[caller] = s;
        callerW[caller] += w;
      }
      if (below >= 0 && calleeStamp[below] !== s) {
        calleeStamp[below] = s;
        calleeW[below] += w;
      }
    }
    if (holds) total += w;
  }
  return { frame: target, self, total, callers: edges(callerW, span), callees: edges(calleeW, span) };
}

function edges(weights: Float64Array, rootSlot: number): CallEdge[] {
  const out: CallEdge[] = [];
  for (let f = 0; f < weights.length; f++) {
    if (weights[f] !== 0) out.push({ frame: f === rootSlot ? -1 : f, total: weights[f] });
  }
  return out.sort((a, b) => b.total - a.total || a.frame - b.frame);
}
