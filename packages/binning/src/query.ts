import { lowerBound, lowerBoundIndexed } from './search.js';
import {
  BLOCK,
  BLOCK_SHIFT,
  COARSE_BLOCKS_V3,
  FANOUT,
  mergeM2,
  type MemorySummary,
  type SummaryLevel,
} from './summary.js';

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
  /**
   * When the window holds SNAP_MIN_BLOCKS blocks of readings a bin or more, move each inner edge
   * forward to the start of the next block (where that block starts before the next edge), and when
   * it holds SNAP_MIN_BLOCKS pyramid nodes of 8, 64, ... blocks a bin, to the next such node's start
   * (`snapStride`): a bin is then whole nodes, answered from the pyramid and the block times without
   * reading the samples or the finer levels at its edges (a wide zoom on a 24-hour profile read
   * ~1,500 pages far apart for them). Every reading is still in exactly one bin and `start`/`end` say
   * where each bin lies; a bin's width varies by up to one such node (1/SNAP_MIN_BLOCKS of it at
   * most, on average). A reading whose time equals a block's first time may then be in the bin
   * before. Default false.
   */
  snap?: boolean;
}

/**
 * Columnar bins tiling `[from, to)` exactly: bin i is `[start[i], end[i])`, `end[i] === start[i+1]`,
 * `start[0] === from`, `end[bins-1] === to`. A sample belongs to the bin whose interval holds its time
 * (with `snap`, one whose time is a block's first time may be in the bin before: see `BinQuery.snap`).
 * `bins` is the query's, or one more with `align`, or fewer when the window is too narrow for float
 * arithmetic to tell that many edges apart (every bin has `start < end`).
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
   * Spread: the standard deviation of the values in the bin (of the same values as `mean`,
   * sqrt(M2 / count)); NaN when empty, or when read from a container stored without it.
   */
  sd: Float64Array;
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

/** Blocks a bin must hold on average before `snap` moves its edges to block starts. */
export const SNAP_MIN_BLOCKS = 4;

/**
 * The blocks `snap` moves edges by: the widest stride that a bin holds SNAP_MIN_BLOCKS times on
 * average, or 0 when the bins are too narrow to move any edge. Strides are pyramid nodes (FANOUT^level
 * blocks: 1, 8, 64, 512, ...) and 128 (two nodes of 64). Edges at a node's start leave the levels
 * below it out of every bin: a zoom on 1/10 of a 24-hour run (bins of ~180 blocks) read its level of
 * blocks whole, 8.6 MB, for the few nodes at each edge. Edges at a multiple of the container's coarse
 * groups (64 blocks; 128 before version 4) have their time in its coarse entries: the whole 24-hour
 * run (bins of ~1,800 blocks) read the block times of every edge, 21.5 MB, on its first view.
 */
export function snapStride(blocksInWindow: number, bins: number): number {
  if (bins < 2 || blocksInWindow < SNAP_MIN_BLOCKS * bins) return 0;
  let stride = 1;
  for (;;) {
    let next = 1;
    while (next <= stride) next *= FANOUT;
    if (stride < COARSE_BLOCKS_V3 && COARSE_BLOCKS_V3 < next) next = COARSE_BLOCKS_V3;
    if (blocksInWindow < SNAP_MIN_BLOCKS * bins * next) return stride;
    stride = next;
  }
}

/**
 * `BinQuery.snap`'s decision for each edge: the block it moves to, or -1 where it stays (the window's
 * two ends always stay). `firstBlock[i]` is the first block whose first time is >= edge i (`blocks`
 * when none), `blockTime(c)` the first time of block c; an edge moves to the first block at or after
 * it whose index is a multiple of `snapStride`. A stride either divides a container's coarse group
 * (64 blocks, or 128) or is a multiple of it, so that block is in `firstBlock[i]`'s group or starts
 * the next one, whose time is a coarse entry: the summaries reader finds it among that group's
 * multiples of the stride, reading no block time at all for a stride of a group or more. Moved edges'
 * times are set in `edges`.
 */
export function snapEdges(
  edges: Float64Array,
  firstBlock: Int32Array,
  blocks: number,
  blockTime: (block: number) => number,
): Int32Array {
  const m = edges.length - 1;
  const stride = snapStride(firstBlock[m] - firstBlock[0], m);
  if (stride === 0) return new Int32Array(edges.length).fill(-1);
  return moveEdges(edges, blocks, (i) => Math.ceil(firstBlock[i] / stride) * stride, blockTime);
}

/**
 * Moves each inner edge i to the start of block `target(i)` (asked before edge i moves), where that
 * block exists and starts before the next edge; the block each moved to, else -1.
 */
export function moveEdges(
  edges: Float64Array,
  blocks: number,
  target: (edge: number) => number,
  blockTime: (block: number) => number,
): Int32Array {
  const m = edges.length - 1;
  const snapped = new Int32Array(edges.length).fill(-1);
  for (let i = 1; i < m; i++) {
    const c = target(i);
    if (c >= blocks) continue;
    // Never past the next edge: each bin keeps start < end, and an edge in a gap between readings stays.
    const t = blockTime(c);
    if (t >= edges[i + 1]) continue;
    snapped[i] = c;
    edges[i] = t;
  }
  return snapped;
}

/** Bins of a window, O(bins · log n) through the summary, exact (see `BinResult`). */
export function queryBins(summary: MemorySummary, query: BinQuery): BinResult {
  const edges = binEdges(query, 'queryBins');
  let snapped: Int32Array | null = null;
  if (query.snap) {
    const { blockTime } = summary;
    const firstBlock = new Int32Array(edges.length);
    for (let i = 0; i < edges.length; i++)
      firstBlock[i] = lowerBound(blockTime, edges[i], i > 0 ? firstBlock[i - 1] : 0, blockTime.length);
    snapped = snapEdges(edges, firstBlock, blockTime.length, (c) => blockTime[c]);
  }
  const result = emptyBins(query, edges);
  const count = result.bins;
  const stats = new Float64Array(5);
  let lo = positionOf(summary, edges[0], 0);
  for (let i = 0; i < count; i++) {
    const hi = snapped && snapped[i + 1] >= 0 ? snapped[i + 1] * BLOCK : positionOf(summary, edges[i + 1], lo);
    result.firstIndex[i] = lo;
    result.endIndex[i] = hi;
    result.count[i] = hi - lo;
    if (hi === lo) {
      result.mean[i] = result.min[i] = result.max[i] = result.sd[i] = NaN;
    } else {
      rangeStats(summary, lo, hi, stats);
      result.mean[i] = stats[0] / (hi - lo);
      result.min[i] = stats[1];
      result.max[i] = stats[2];
      result.sd[i] = Math.sqrt(stats[3] / (hi - lo));
    }
    lo = hi;
  }
  return result;
}

/** The checked query's bin edges (`bins` + 1 of them, or fewer/more: see `BinResult`). */
export function binEdges(query: BinQuery, what: string): Float64Array {
  const { from, to, bins } = query;
  if (!Number.isFinite(from) || !Number.isFinite(to) || !(from < to)) {
    throw new RangeError(`${what}: the window needs finite from < to, got from=${from} to=${to}`);
  }
  if (!Number.isInteger(bins) || bins < 1 || bins > MAX_BINS) {
    throw new RangeError(`${what}: bins must be an integer from 1 to ${MAX_BINS}, got ${bins}`);
  }
  return query.align ? alignedEdges(from, to, bins) : evenEdges(from, to, bins);
}

/** A result with its edges set and its columns to fill. */
export function emptyBins(query: BinQuery, edges: Float64Array): BinResult {
  const count = edges.length - 1;
  return {
    from: query.from,
    to: query.to,
    bins: count,
    start: edges.slice(0, count),
    end: edges.slice(1),
    count: new Uint32Array(count),
    mean: new Float64Array(count),
    min: new Float64Array(count),
    max: new Float64Array(count),
    sd: new Float64Array(count),
    firstIndex: new Int32Array(count),
    endIndex: new Int32Array(count),
  };
}

/**
 * Equal bins from `from`; edges that float arithmetic cannot tell apart (a window narrower than
 * `bins` steps of its own precision) are merged, so every bin has `start < end`.
 */
function evenEdges(from: number, to: number, bins: number): Float64Array {
  const edges = new Float64Array(bins + 1);
  const span = to - from;
  let m = 1;
  edges[0] = from;
  for (let i = 1; i < bins; i++) {
    const e = from + (span * i) / bins;
    if (e > edges[m - 1] && e < to) edges[m++] = e;
  }
  edges[m++] = to;
  return m === bins + 1 ? edges : edges.slice(0, m);
}

function alignedEdges(from: number, to: number, bins: number): Float64Array {
  const width = (to - from) / bins;
  const edges: number[] = [from];
  const k = Math.floor(from / width);
  // At most `bins` multiples of the width lie inside the window. Counting them (rather than
  // stepping until `to`) also ends when the width is below the precision of `from`'s multiples.
  for (let i = 1; i <= bins; i++) {
    const e = (k + i) * width;
    if (e >= to) break;
    if (e > edges[edges.length - 1]) edges.push(e);
  }
  edges.push(to);
  return Float64Array.from(edges);
}

/**
 * First series position `k >= from` whose time is `>= t` (the length when none), given that no
 * earlier position qualifies. It gallops over `blockTime` from `from`'s block, then searches one
 * block of the time column: nearby memory only, however long the series.
 */
function positionOf(s: MemorySummary, t: number, from: number): number {
  const { blockTime, time, indices, length: n } = s;
  const blocks = blockTime.length;
  // c: the first block after `from`'s whose first time is >= t; the answer is in block c - 1.
  let lo = Math.min(blocks, (from >>> BLOCK_SHIFT) + 1);
  let c = lo;
  for (let step = 1; c < blocks && blockTime[c] < t; step *= 2) {
    lo = c + 1;
    c = Math.min(blocks, c + step);
  }
  c = lowerBound(blockTime, t, lo, c);
  const a = Math.max(from, (c - 1) * BLOCK);
  const b = Math.min(n, c * BLOCK);
  return indices ? lowerBoundIndexed(time, indices, t, a, b) : lowerBound(time, t, a, b);
}

/**
 * Sum, min, max and M2 of the values at series positions [lo, hi) into `out[0..3]` (`out[4]`: how
 * many were added). Each piece's M2 is merged in with `mergeM2`, a raw value as a piece of one.
 */
function rangeStats(s: MemorySummary, lo: number, hi: number, out: Float64Array): void {
  out[0] = 0;
  out[1] = Infinity;
  out[2] = -Infinity;
  out[3] = 0;
  out[4] = 0;
  // Whole blocks a..b-1 come from the summary; the raw samples outside them, from the series.
  let a = (lo + BLOCK - 1) >>> BLOCK_SHIFT;
  let b = hi >>> BLOCK_SHIFT;
  if (a >= b) {
    addRaw(s, lo, hi, out);
    return;
  }
  const wholeStart = a * BLOCK;
  const wholeEnd = b * BLOCK;
  addRaw(s, lo, wholeStart, out);
  addRaw(s, wholeEnd, hi, out);
  // At each level, the partial groups at both ends; the whole groups between go up a level.
  for (let level = 0; ; level++) {
    const nodes = s.levels[level];
    const width = BLOCK * FANOUT ** level;
    if (b - a < 2 * FANOUT || level === s.levels.length - 1) {
      addNodes(nodes, width, s.length, a, b, out);
      return;
    }
    const na = Math.ceil(a / FANOUT);
    const nb = Math.floor(b / FANOUT);
    addNodes(nodes, width, s.length, a, na * FANOUT, out);
    addNodes(nodes, width, s.length, nb * FANOUT, b, out);
    a = na;
    b = nb;
  }
}

function addRaw(s: MemorySummary, lo: number, hi: number, out: Float64Array): void {
  const { value, indices } = s;
  let sum = out[0];
  let min = out[1];
  let max = out[2];
  let m2 = out[3];
  let count = out[4];
  for (let k = lo; k < hi; k++) {
    const v = value[indices ? indices[k] : k];
    m2 = mergeM2(count, sum, m2, 1, v, 0);
    count++;
    sum += v;
    min = Math.min(v, min);
    max = Math.max(v, max);
  }
  out[0] = sum;
  out[1] = min;
  out[2] = max;
  out[3] = m2;
  out[4] = count;
}

/** Nodes [lo, hi) of a level whose nodes hold `width` of the series' `n` values each (the last one the rest). */
function addNodes(nodes: SummaryLevel, width: number, n: number, lo: number, hi: number, out: Float64Array): void {
  const { sum: sums, min: mins, max: maxs, m2: m2s } = nodes;
  let sum = out[0];
  let min = out[1];
  let max = out[2];
  let m2 = out[3];
  let count = out[4];
  for (let i = lo; i < hi; i++) {
    const c = Math.min(width, n - i * width);
    m2 = mergeM2(count, sum, m2, c, sums[i], m2s[i]);
    count += c;
    sum += sums[i];
    const x = mins[i];
    min = Math.min(x, min);
    const y = maxs[i];
    max = Math.max(y, max);
  }
  out[0] = sum;
  out[1] = min;
  out[2] = max;
  out[3] = m2;
  out[4] = count;
}

/** A memory bin as the server's memory endpoint answers it. */
export interface BinRow {
  start: number;
  end: number;
  count: number;
  mean: number | null;
  max: number | null;
  min: number | null;
  /** `BinResult.sd`; null when the bin is empty or the spread is unknown. */
  sd: number | null;
}

/** A bin's mean rounded to a whole unit, kept within its [min, max] (`binRows`). */
export function wholeMean(mean: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, Math.round(mean)));
}

/**
 * Bins as JSON-ready rows (empty bins with null stats), the shape of the server's memory endpoint.
 * Mean and sd are rounded to whole units (the mean kept within [min, max]): readings are whole bytes,
 * so their fraction says nothing, and it cost 17 digits to write. A zoom on a ×64 run had 1,500 of
 * them (a quarter of its numbers): 0.2-0.4 ms of its 1.1-1.35 ms serialization, 12 KB of its 197 KB.
 */
export function binRows(result: BinResult): BinRow[] {
  const rows = new Array(result.bins);
  for (let i = 0; i < result.bins; i++) {
    const empty = result.count[i] === 0;
    const sd = result.sd[i];
    rows[i] = {
      start: result.start[i],
      end: result.end[i],
      count: result.count[i],
      mean: empty ? null : wholeMean(result.mean[i], result.min[i], result.max[i]),
      max: empty ? null : result.max[i],
      min: empty ? null : result.min[i],
      sd: empty || Number.isNaN(sd) ? null : Math.round(sd),
    };
  }
  return rows;
}
