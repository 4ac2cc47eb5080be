/**
 * Multi-resolution summary of a memory series: level 0 holds the sum, min, max and M2 (sum of
 * squared deviations from the node's own mean) of each block of BLOCK consecutive samples; each
 * higher level holds the same for FANOUT nodes of the level below (M2 merged with Chan's parallel
 * formula, `mergeM2`: stable where a raw sum of squares of 2^53-byte readings would not be). A
 * range of samples is then covered by fewer than 2·BLOCK raw samples plus 2·FANOUT nodes per level,
 * so a bin costs O(log n) whatever its width, and every answer is exact: min and max are the true
 * extremes (Float64), and the sum adds the same values in a different order.
 * `blockTime` (the first time of each block) finds a bin edge by searching 1/BLOCK of the time
 * column, then one block of it.
 *
 * Memory: 40 bytes per BLOCK samples at level 0, plus 32/FANOUT of that per level above, about
 * 1.4 bytes per sample — the series itself (time + value) is 16 bytes per sample.
 */

/** log2 of BLOCK. */
export const BLOCK_SHIFT = 5;
/** Samples per level-0 block. 32 keeps the raw scans at bin edges short and the summary near 1 byte/sample. */
export const BLOCK = 1 << BLOCK_SHIFT;
/** Nodes of one level summarised by one node of the next. */
export const FANOUT = 8;
/**
 * Blocks per coarse time entry (2,048 samples): the summaries container keeps the first time of every
 * COARSE_BLOCKS-th block in memory, and an edge `snap` moves by a multiple of it needs no other time.
 * One pyramid node of 64 blocks: at 128 (containers before version 4), the whole of a 4.6-hour run
 * (bins of ~425 blocks, a stride of 64) read one block time an edge, 3.4 KB apart, the whole 5.1 MB.
 */
export const COARSE_BLOCKS = 64;
/** Blocks per coarse time entry in containers before version 4; `snap` keeps it as a stride. */
export const COARSE_BLOCKS_V3 = 128;

export interface SummaryLevel {
  /** Sum of the values under each node. */
  sum: Float64Array;
  min: Float64Array;
  max: Float64Array;
  /** Sum of the squared deviations of the values under each node from their mean (the node's spread). */
  m2: Float64Array;
}

/**
 * M2 of two adjacent groups merged (Chan et al.'s parallel formula): `na` values summing to `suma`
 * with M2 `m2a`, then `nb` values summing to `sumb` with `m2b`. Every term is non-negative.
 */
export function mergeM2(na: number, suma: number, m2a: number, nb: number, sumb: number, m2b: number): number {
  if (na === 0) return m2b;
  const delta = sumb / nb - suma / na;
  return m2a + m2b + ((delta * delta * na) / (na + nb)) * nb;
}

/** M2 of `n` values (two passes: their mean, then the squared deviations), in order. */
export function blockM2(values: ArrayLike<number>, from: number, to: number, sum: number): number {
  const mean = sum / (to - from);
  let m2 = 0;
  for (let k = from; k < to; k++) {
    const d = values[k] - mean;
    m2 += d * d;
  }
  return m2;
}

/** Built once per series by `buildMemorySummary`; read by `queryBins`. Treat as opaque. */
export interface MemorySummary {
  /** Number of samples in the series (the length of `indices` when given). */
  readonly length: number;
  readonly time: Float64Array;
  readonly value: Float64Array;
  /** Rows of the series in `time`/`value`, or null for all rows. */
  readonly indices: Uint32Array | null;
  /** Time of the first sample of each level-0 block. */
  readonly blockTime: Float64Array;
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
export function buildMemorySummary(
  time: Float64Array,
  value: Float64Array,
  indices?: Uint32Array | null,
): MemorySummary {
  if (time.length !== value.length) {
    throw new RangeError(`buildMemorySummary: time has ${time.length} samples but value has ${value.length}`);
  }
  const rows = indices ?? null;
  const n = rows ? rows.length : time.length;
  const blocks = Math.ceil(n / BLOCK);
  const level0: SummaryLevel = {
    sum: new Float64Array(blocks),
    min: new Float64Array(blocks),
    max: new Float64Array(blocks),
    m2: new Float64Array(blocks),
  };
  const blockTime = new Float64Array(blocks);
  // Chunks of blocks: a function called a few hundred times is optimised as a whole early in the
  // first build, where one long loop would run in the interpreter until on-stack replacement.
  // Through indices, each chunk is first gathered into scratch columns, so one tight loop over
  // plain columns serves both cases (an index lookup inside it costs the direct case 30%).
  const gatheredTime = rows ? new Float64Array(Math.min(n, CHUNK)) : null;
  const gatheredValue = rows ? new Float64Array(Math.min(n, CHUNK)) : null;
  let prev = -Infinity;
  for (let k = 0; k < n; k += CHUNK) {
    const stop = Math.min(n, k + CHUNK);
    let last: number;
    if (rows) {
      for (let j = k; j < stop; j++) {
        // A row past the columns reads undefined: a NaN time, caught like one.
        gatheredTime![j - k] = time[rows[j]];
        gatheredValue![j - k] = value[rows[j]];
      }
      last = fillBlocks(gatheredTime!, gatheredValue!, level0, blockTime, k / BLOCK, 0, stop - k, prev);
    } else {
      last = fillBlocks(time, value, level0, blockTime, k / BLOCK, k, stop, prev);
    }
    if (Number.isNaN(last)) throw badInput(time, value, rows, k, stop, prev);
    prev = last;
  }

  const levels: SummaryLevel[] = [level0];
  let below = level0;
  for (let size = BLOCK; below.sum.length > FANOUT; size *= FANOUT) {
    const above = combineLevel(below, size, n);
    levels.push(above);
    below = above;
  }
  let bytes = blockTime.byteLength;
  for (const l of levels) bytes += l.sum.byteLength + l.min.byteLength + l.max.byteLength + l.m2.byteLength;
  const timeAt = (k: number) => (rows ? time[rows[k]] : time[k]);
  return {
    length: n,
    time,
    value,
    indices: rows,
    blockTime,
    levels,
    bytes,
    firstTime: n > 0 ? timeAt(0) : NaN,
    lastTime: n > 0 ? timeAt(n - 1) : NaN,
  };
}

/** Samples per call of `fillBlocks`: a multiple of BLOCK. */
const CHUNK = 64 * BLOCK;

/**
 * Summarises positions [k, stop) of the columns (k a multiple of BLOCK) into the blocks from
 * `block` on, and returns the last time, or NaN when a time is out of order or a value is not
 * finite; `badInput` then finds which. It tests without branching (`ok &=`, and a block's sum is
 * finite only if its values are) so the loop has no unpredictable jumps.
 */
function fillBlocks(
  time: Float64Array,
  value: Float64Array,
  out: SummaryLevel,
  blockTime: Float64Array,
  block: number,
  k: number,
  stop: number,
  prev: number,
): number {
  const { sum: sums, min: mins, max: maxs, m2: m2s } = out;
  let ok = 1;
  for (let b = block; k < stop; b++) {
    const end = Math.min(stop, k + BLOCK);
    const first = k;
    blockTime[b] = time[k];
    let sum = 0;
    let min = Infinity;
    let max = -Infinity;
    for (; k < end; k++) {
      const t = time[k];
      ok &= t >= prev ? 1 : 0;
      prev = t;
      const v = value[k];
      sum += v;
      min = Math.min(v, min);
      max = Math.max(v, max);
    }
    if (ok === 0 || sum - sum !== 0) return NaN;
    sums[b] = sum;
    mins[b] = min;
    maxs[b] = max;
    m2s[b] = blockM2(value, first, end, sum);
  }
  return prev;
}

/** The error for the first bad sample of positions [k, stop), found by a plain rescan. */
function badInput(
  time: Float64Array,
  value: Float64Array,
  indices: Uint32Array | null,
  start: number,
  stop: number,
  prev: number,
): RangeError {
  const where = (k: number, row: number) => `sample ${row}` + (indices ? ` (position ${k} of indices)` : '');
  for (let k = start; k < stop; k++) {
    const row = indices ? indices[k] : k;
    if (row >= time.length) {
      return new RangeError(
        `buildMemorySummary: indices[${k}] = ${row} is not a sample row (there are ${time.length})`,
      );
    }
    const t = time[row];
    if (!(t >= prev))
      return new RangeError(
        `buildMemorySummary: time must be ascending numbers, but ${where(k, row)} has time ${t} after ${prev}`,
      );
    prev = t;
    // A missing reading must not turn a bin's mean into NaN or its min into Infinity unnoticed.
    const v = value[row];
    if (!Number.isFinite(v))
      return new RangeError(`buildMemorySummary: value of ${where(k, row)} is ${v}, not a finite number`);
  }
  return new RangeError(
    `buildMemorySummary: the values of positions ${start} to ${stop - 1} sum beyond the range of a Float64`,
  );
}

/**
 * The level above `below`, whose nodes hold `width` samples each (the last one the rest of `n`);
 * also how the summaries container builds its levels: same sums and M2s, same order.
 */
export function combineLevel(below: SummaryLevel, width: number, n: number): SummaryLevel {
  const m = below.sum.length;
  const size = Math.ceil(m / FANOUT);
  const out: SummaryLevel = {
    sum: new Float64Array(size),
    min: new Float64Array(size),
    max: new Float64Array(size),
    m2: new Float64Array(size),
  };
  for (let j = 0, i = 0; j < size; j++) {
    const stop = Math.min(m, i + FANOUT);
    let sum = 0;
    let min = Infinity;
    let max = -Infinity;
    let m2 = 0;
    let count = 0;
    for (; i < stop; i++) {
      const c = Math.min(width, n - i * width);
      m2 = mergeM2(count, sum, m2, c, below.sum[i], below.m2[i]);
      count += c;
      sum += below.sum[i];
      if (below.min[i] < min) min = below.min[i];
      if (below.max[i] > max) max = below.max[i];
    }
    out.sum[j] = sum;
    out.min[j] = min;
    out.max[j] = max;
    out.m2[j] = m2;
  }
  return out;
}
