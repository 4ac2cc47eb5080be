/** First position k in [lo, hi) whose time is >= t (hi when none); times sorted ascending. */
export function lowerBound(time: Float64Array, t: number, lo: number, hi: number): number {
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (time[mid] < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** `lowerBound` over the times of the rows `indices[lo..hi)`. */
export function lowerBoundIndexed(time: Float64Array, indices: Uint32Array, t: number, lo: number, hi: number): number {
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (time[indices[mid]] < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Positions `[start, end)` of the samples with `from <= time < to`, by binary search.
 * With `indices`, positions are into `indices` (whose rows must be in time order).
 */
export function sampleRange(
  time: Float64Array,
  from: number,
  to: number,
  indices?: Uint32Array | null,
): { start: number; end: number } {
  if (Number.isNaN(from) || Number.isNaN(to))
    throw new RangeError(`sampleRange: from=${from} and to=${to} must be numbers`);
  const n = indices ? indices.length : time.length;
  const find = (t: number, lo: number) =>
    indices ? lowerBoundIndexed(time, indices, t, lo, n) : lowerBound(time, t, lo, n);
  const start = find(from, 0);
  const end = to <= from ? start : find(to, start);
  return { start, end };
}

/**
 * The whole run as a window: from the start (0, or the first sample if it is earlier) to just past
 * the last sample, since `to` is exclusive everywhere here. Pass 0 and 0 for a run without samples.
 */
export function wholeRun(firstTime: number, lastTime: number): { from: number; to: number } {
  return { from: Math.min(0, firstTime), to: lastTime + Math.max(1e-6, Math.abs(lastTime) * 1e-12) };
}
