import type { SampleRun, StackTree } from './types.js';
import { badStackRow, checkRun, checkStacks } from './validate.js';

export interface AggregateOptions extends SampleRun {
  /**
   * Weight per sample row (e.g. `doc.samples.weight` in µs, or `memoryGrowth(memory)` for
   * "which code grew memory"); every sample weighs 1 when omitted.
   */
  weight?: Float64Array | null;
}

/** Weight per stack row over a sample run; slot `rows` stands for the empty stack (-1). */
export interface StackWeights {
  rows: number;
  weights: Float64Array;
  /** Slots met in the run, in first-seen order; `distinct` of them are valid. */
  seen: Int32Array;
  distinct: number;
  samples: number;
  weightTotal: number;
}

/** The one pass over the samples shared by the aggregations: no allocation per sample. */
export function accumulateStacks(
  stacks: StackTree,
  sampleStack: Int32Array,
  options: AggregateOptions,
  what: string,
): StackWeights {
  checkStacks(stacks, what);
  checkRun(options, sampleStack.length, what);
  const { start, end, indices, weight } = options;
  if (weight && weight.length !== sampleStack.length) {
    throw new RangeError(`${what}: weight has ${weight.length} samples but sampleStack has ${sampleStack.length}`);
  }
  const rows = stacks.parent.length;
  const weights = new Float64Array(rows + 1);
  const hit = new Uint8Array(rows + 1);
  const seen = new Int32Array(Math.min(end - start, rows + 1));
  let distinct = 0;
  let weightTotal = 0;
  for (let k = start; k < end; k++) {
    const row = indices ? indices[k] : k;
    const s = sampleStack[row];
    if (s < -1 || s >= rows) throw badStackRow(what, row, s, rows);
    const slot = s < 0 ? rows : s;
    const w = weight ? weight[row] : 1;
    weights[slot] += w;
    weightTotal += w;
    if (hit[slot] === 0) {
      hit[slot] = 1;
      seen[distinct++] = slot;
    }
  }
  return { rows, weights, seen, distinct, samples: end - start, weightTotal };
}

// Stack tables are immutable once built: their largest frame row is computed once.
const frameSpans = new WeakMap<Uint32Array, number>();

/** One more than the largest frame row of the table (sizes per-frame arrays). */
export function frameSpan(stacks: StackTree): number {
  let span = frameSpans.get(stacks.frame);
  if (span === undefined) {
    span = 0;
    for (let i = 0; i < stacks.frame.length; i++) if (stacks.frame[i] >= span) span = stacks.frame[i] + 1;
    frameSpans.set(stacks.frame, span);
  }
  return span;
}
