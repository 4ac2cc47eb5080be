/**
 * Rows of the samples taken on one thread, in sample order: the `indices` to pass to
 * `buildMemorySummary`, `analyzeStacks` and the aggregations for a per-thread view.
 */
export function threadIndices(threadColumn: Uint32Array, thread: number): Uint32Array {
  let count = 0;
  for (let i = 0; i < threadColumn.length; i++) if (threadColumn[i] === thread) count++;
  const out = new Uint32Array(count);
  let k = 0;
  for (let i = 0; i < threadColumn.length && k < count; i++) if (threadColumn[i] === thread) out[k++] = i;
  return out;
}

/** Samples per thread row: `counts[t]` samples have `threadColumn[i] === t` (added to `counts` when given). */
export function threadSampleCounts(threadColumn: Uint32Array, threads: number, counts?: number[]): number[] {
  const out = counts ?? new Array<number>(threads).fill(0);
  for (let i = 0; i < threadColumn.length; i++) out[threadColumn[i]]++;
  return out;
}
