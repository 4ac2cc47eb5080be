/**
 * Multi-resolution summary of a memory series: level 0 holds the sum, min and max of each block
 * of BLOCK consecutive samples; each higher level holds the same for FANOUT nodes of the level
 * below. A range of samples is then covered by at most 2·BLOCK raw samples plus 2·FANOUT nodes
 * per level, so a bin costs O(log n) whatever its width, and every answer is exact: min and max
 * are the true extremes (Float64), and the sum adds the same values in a different order.
 *
 * Memory: 24 bytes per BLOCK samples at level 0, plus 1/FANOUT of that per level above, about
 * 0.86 bytes per sample — the series itself (time + value) is 16 bytes per sample.
 */

/** Samples per level-0 block. 32 keeps the raw scans at bin edges short and the summary < 1 byte/sample. */
export const BLOCK = 32;
/** Nodes of one level summarised by one node of the next. */
export const FANOUT = 8;

export interface SummaryLevel {
  /** Sum of the values under each node. */
  sum: Float64Array;
  min: Float64Array;
  max: Float64Array;
}

/** Built once per series by `buildMemorySummary`; read by `queryBins`. Treat as opaque. */
export interface MemorySummary {
  /** Number of samples in the series (the length of `indices` when given). */
  readonly length: number;
  readonly time: Float64Array;
  readonly value: Float64Array;
  /** Rows of the series in `time`/`value`, or null for all rows. */
  readonly indices: Uint32Array | null;
  /** Level 0 first; the last level has at most FANOUT nodes. */
  readonly levels: readonly SummaryLevel[];
  /** Bytes held by the summary itself (not counting the series it refers to). */
  readonly bytes: number;
  /** Time of the first and last sample, NaN when the series is empty. */
  readonly firstTime: number;
  readonly lastTime: number;
}

/**
 * Builds the summary in one pass over the series (O(n)). `time` (ms, ascending) and `value`
 * are parallel columns; `indices` picks a subset of rows, e.g. one thread's (`threadIndices`).
 * Every value must be a finite number. The summary keeps references to the arrays: do not
 * mutate them afterwards.
 */
export function buildMemorySummary(time: Float64Array, value: Float64Array, indices?: Uint32Array): MemorySummary {
  if (time.length !== value.length) {
    throw new RangeError(`buildMemorySummary: time has ${time.length} samples but value has ${value.length}`);
  }
  const n = indices ? indices.length : time.length;
  const blocks = Math.ceil(n / BLOCK);
  const level0: SummaryLevel = { sum: new Float64Array(blocks), min: new Float64Array(blocks), max: new Float64Array(blocks) };
  if (indices) fillLevel0Indexed(time, value, indices, level0);
  else fillLevel0(time, value, level0);

  const levels: SummaryLevel[] = [level0];
  let below = level0;
  while (below.sum.length > FANOUT) {
    const above = combineLevel(below);
    levels.push(above);
    below = above;
  }
  let bytes = 0;
  for (const l of levels) bytes += l.sum.byteLength + l.min.byteLength + l.max.byteLength;
  const timeAt = (k: number) => (indices ? time[indices[k]] : time[k]);
  return {
    length: n,
    time,
    value,
    indices: indices ?? null,
    levels,
    bytes,
    firstTime: n > 0 ? timeAt(0) : NaN,
    lastTime: n > 0 ? timeAt(n - 1) : NaN,
  };
}

function unsorted(k: number, row: number, t: number, prev: number): RangeError {
  return new RangeError(
    `buildMemorySummary: time must be ascending numbers, but sample ${row}` +
      (row !== k ? ` (position ${k} of indices)` : '') +
      ` has time ${t} after ${prev}`,
  );
}

// A missing reading must not turn a bin's mean into NaN or its min into Infinity unnoticed.
function notFinite(k: number, row: number, v: number): RangeError {
  return new RangeError(
    `buildMemorySummary: value of sample ${row}` + (row !== k ? ` (position ${k} of indices)` : '') + ` is ${v}, not a finite number`,
  );
}

// Two copies of the same loop (direct and through indices) so the common direct case stays
// free of the extra load.
function fillLevel0(time: Float64Array, value: Float64Array, out: SummaryLevel): void {
  const n = time.length;
  let prev = -Infinity;
  for (let b = 0, k = 0; k < n; b++) {
    const stop = Math.min(n, k + BLOCK);
    let sum = 0;
    let min = Infinity;
    let max = -Infinity;
    for (; k < stop; k++) {
      const t = time[k];
      if (!(t >= prev)) throw unsorted(k, k, t, prev);
      prev = t;
      const v = value[k];
      if (v - v !== 0) throw notFinite(k, k, v);
      sum += v;
      if (v < min) min = v;
      if (v > max) max = v;
    }
    out.sum[b] = sum;
    out.min[b] = min;
    out.max[b] = max;
  }
}

function fillLevel0Indexed(time: Float64Array, value: Float64Array, indices: Uint32Array, out: SummaryLevel): void {
  const n = indices.length;
  const rows = time.length;
  let prev = -Infinity;
  for (let b = 0, k = 0; k < n; b++) {
    const stop = Math.min(n, k + BLOCK);
    let sum = 0;
    let min = Infinity;
    let max = -Infinity;
    for (; k < stop; k++) {
      const row = indices[k];
      if (row >= rows) throw new RangeError(`buildMemorySummary: indices[${k}] = ${row} is not a sample row (there are ${rows})`);
      const t = time[row];
      if (!(t >= prev)) throw unsorted(k, row, t, prev);
      prev = t;
      const v = value[row];
      if (v - v !== 0) throw notFinite(k, row, v);
      sum += v;
      if (v < min) min = v;
      if (v > max) max = v;
    }
    out.sum[b] = sum;
    out.min[b] = min;
    out.max[b] = max;
  }
}

function combineLevel(below: SummaryLevel): SummaryLevel {
  const m = below.sum.length;
  const size = Math.ceil(m / FANOUT);
  const out: SummaryLevel = { sum: new Float64Array(size), min: new Float64Array(size), max: new Float64Array(size) };
  for (let j = 0, i = 0; j < size; j++) {
    const stop = Math.min(m, i + FANOUT);
    let sum = 0;
    let min = Infinity;
    let max = -Infinity;
    for (; i < stop; i++) {
      sum += below.sum[i];
      if (below.min[i] < min) min = below.min[i];
      if (below.max[i] > max) max = below.max[i];
    }
    out.sum[j] = sum;
    out.min[j] = min;
    out.max[j] = max;
  }
  return out;
}
