import { gallop } from './search.js';
import { BLOCK, FANOUT, type MemorySummary } from './summary.js';

export interface BinQuery {
  /** Window start, ms (inclusive). */
  from: number;
  /** Window end, ms (exclusive). */
  to: number;
  /** Number of bins the window is cut into (width = (to - from) / bins). */
  bins: number;
  /**
   * Snap bin edges to multiples of the width (counted from time 0) instead of to `from`, so that
   * panning a view keeps every bin's samples unchanged. The first and last bins are then partial
   * (clipped to the window) and there may be `bins + 1` of them. Default false.
   */
  align?: boolean;
}

/**
 * Columnar bins tiling `[from, to)` exactly: bin i is `[start[i], end[i])`, `end[i] === start[i+1]`,
 * `start[0] === from`, `end[bins-1] === to`. A sample belongs to the bin whose interval holds its time.
 */
export interface BinResult {
  from: number;
  to: number;
  /** Number of bins returned (the length of every column). */
  bins: number;
  start: Float64Array;
  end: Float64Array;
  /** Samples in the bin; 0 marks an empty bin. */
  count: Uint32Array;
  /** sum / count of the values in the bin; NaN when empty (never interpolated). */
  mean: Float64Array;
  /** True extremes of the bin; NaN when empty. */
  min: Float64Array;
  max: Float64Array;
  /**
   * Positions `[firstIndex, endIndex)` of the bin's samples in the series (into `indices` when
   * the summary was built with them): pass them as `start`/`end` to `analyzeStacks`.
   * For an empty bin both equal the position where a sample would go.
   */
  firstIndex: Int32Array;
  endIndex: Int32Array;
}

/** Most bins one query may ask for; a screen is a few thousand pixels wide. */
export const MAX_BINS = 1_000_000;

/** Bins of a window, O(bins · log n) through the summary, exact (see `BinResult`). */
export function queryBins(summary: MemorySummary, query: BinQuery): BinResult {
  const { from, to, bins } = query;
  if (!Number.isFinite(from) || !Number.isFinite(to) || !(from < to)) {
    throw new RangeError(`queryBins: the window needs finite from < to, got from=${from} to=${to}`);
  }
  if (!Number.isInteger(bins) || bins < 1 || bins > MAX_BINS) {
    throw new RangeError(`queryBins: bins must be an integer from 1 to ${MAX_BINS}, got ${bins}`);
  }
  const edges = query.align ? alignedEdges(from, to, bins) : evenEdges(from, to, bins);
  const count = edges.length - 1;
  const result: BinResult = {
    from,
    to,
    bins: count,
    start: edges.slice(0, count),
    end: edges.slice(1),
    count: new Uint32Array(count),
    mean: new Float64Array(count),
    min: new Float64Array(count),
    max: new Float64Array(count),
    firstIndex: new Int32Array(count),
    endIndex: new Int32Array(count),
  };
  const { time, indices, length: n } = summary;
  let lo = gallop(time, indices, edges[0], 0, n);
  for (let i = 0; i < count; i++) {
    const hi = gallop(time, indices, edges[i + 1], lo, n);
    result.firstIndex[i] = lo;
    result.endIndex[i] = hi;
    result.count[i] = hi - lo;
    if (hi === lo) {
      result.mean[i] = result.min[i] = result.max[i] = NaN;
    } else {
      aggregate(summary, lo, hi);
      result.mean[i] = accSum / (hi - lo);
      result.min[i] = accMin;
      result.max[i] = accMax;
    }
    lo = hi;
  }
  return result;
}

function evenEdges(from: number, to: number, bins: number): Float64Array {
  const edges = new Float64Array(bins + 1);
  const span = to - from;
  for (let i = 0; i < bins; i++) edges[i] = from + (span * i) / bins;
  edges[bins] = to;
  return edges;
}

function alignedEdges(from: number, to: number, bins: number): Float64Array {
  const width = (to - from) / bins;
  const edges: number[] = [from];
  let k = Math.floor(from / width) + 1;
  // The length guard stops a width too small to move past `from` in float arithmetic.
  for (let e = k * width; e < to && edges.length <= bins; e = ++k * width) {
    if (e > edges[edges.length - 1]) edges.push(e);
  }
  edges.push(to);
  return Float64Array.from(edges);
}

// The range aggregate is returned through module state so the per-bin loop allocates nothing.
let accSum = 0;
let accMin = Infinity;
let accMax = -Infinity;

/** Sum/min/max of series positions [lo, hi) into accSum/accMin/accMax. */
function aggregate(s: MemorySummary, lo: number, hi: number): void {
  accSum = 0;
  accMin = Infinity;
  accMax = -Infinity;
  if (hi - lo < 2 * BLOCK) {
    scanRaw(s, lo, hi);
    return;
  }
  let a = Math.ceil(lo / BLOCK);
  let b = Math.floor(hi / BLOCK);
  scanRaw(s, lo, a * BLOCK);
  scanRaw(s, b * BLOCK, hi);
  for (let level = 0; ; level++) {
    const L = s.levels[level];
    if (b - a < 2 * FANOUT || level === s.levels.length - 1) {
      scanNodes(L.sum, L.min, L.max, a, b);
      return;
    }
    const na = Math.ceil(a / FANOUT);
    const nb = Math.floor(b / FANOUT);
    scanNodes(L.sum, L.min, L.max, a, na * FANOUT);
    scanNodes(L.sum, L.min, L.max, nb * FANOUT, b);
    a = na;
    b = nb;
  }
}

function scanRaw(s: MemorySummary, lo: number, hi: number): void {
  const { value, indices } = s;
  let sum = accSum;
  let min = accMin;
  let max = accMax;
  for (let k = lo; k < hi; k++) {
    const v = indices ? value[indices[k]] : value[k];
    sum += v;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  accSum = sum;
  accMin = min;
  accMax = max;
}

function scanNodes(sums: Float64Array, mins: Float64Array, maxs: Float64Array, lo: number, hi: number): void {
  let sum = accSum;
  let min = accMin;
  let max = accMax;
  for (let i = lo; i < hi; i++) {
    sum += sums[i];
    if (mins[i] < min) min = mins[i];
    if (maxs[i] > max) max = maxs[i];
  }
  accSum = sum;
  accMin = min;
  accMax = max;
}

/** Bins as JSON-ready rows (empty bins with null stats), the shape of the server's memory endpoint. */
export function binRows(
  result: BinResult,
): { start: number; end: number; count: number; mean: number | null; max: number | null; min: number | null }[] {
  const rows = new Array(result.bins);
  for (let i = 0; i < result.bins; i++) {
    const empty = result.count[i] === 0;
    rows[i] = {
      start: result.start[i],
      end: result.end[i],
      count: result.count[i],
      mean: empty ? null : result.mean[i],
      max: empty ? null : result.max[i],
      min: empty ? null : result.min[i],
    };
  }
  return rows;
}
