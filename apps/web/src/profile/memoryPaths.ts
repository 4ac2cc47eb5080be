// The memory chart's drawing, straight from the bins: every bin is drawn over its own time span
// [start, end), never as a point at its left edge.
//  - band: one rectangle per bin from its min to its max (at least a pixel tall and wide, so a
//    one-sample spike in a one-pixel bin still shows); the spread band, darker, from mean − sd to
//    mean + sd clamped to [min, max] (`spreadOf`), drawn the same way inside it;
//  - step line (mean or max): the bin's value held across its span, joined to the next bin by a
//    vertical segment. An empty bin (zoomed in past the sampling rate) holds the last reading until
//    the next one, which is what a memory reading means; nothing is drawn before the first reading
//    or after the last.
// Everything is axis-aligned rectangles on whole device pixels (`fillRect`), not paths: over hours a
// bin holds many spikes, so the band and the max line span most of the chart's height in every
// column, and Chromium's software rasterizer took 50-850 ms to fill or stroke such a path of 1,264
// bins (antialiased edges, every subpath on every scanline) against 1-3 ms for the same rectangles.
// A bin covers the device pixels whose centres lie in its span, as `binAtPixel` reads a click.
import type uPlot from 'uplot';
import type { MemoryBin } from '../lib/api';

type Pick = (b: MemoryBin) => number | null;
/** The [low, high] a band covers in a bin, or null where it draws nothing. */
type Range = (b: MemoryBin) => [number, number] | null;

/** The min–max band's range. */
export const minMax: Range = (b) => (b.count === 0 || b.max === null || b.min === null ? null : [b.min, b.max]);

/** The spread band's range: mean ± sd, clamped to the bin's min and max; null without a spread. */
export const spreadOf: Range = (b) =>
  b.count === 0 || b.mean === null || b.min === null || b.max === null || b.sd === null
    ? null
    : [Math.max(b.min, b.mean - b.sd), Math.min(b.max, b.mean + b.sd)];

interface Span {
  i0: number;
  i1: number;
}

/** Bins overlapping the visible x window (binary search on the sorted bin starts). */
function visible(u: uPlot, bins: MemoryBin[]): Span {
  const min = (u.scales.x.min ?? 0) * 1000;
  const max = (u.scales.x.max ?? 0) * 1000;
  let lo = 0;
  let hi = bins.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (bins[mid].end <= min) lo = mid + 1;
    else hi = mid;
  }
  let i1 = lo;
  while (i1 < bins.length && bins[i1].start < max) i1++;
  return { i0: Math.max(0, lo - 1), i1 };
}

/** Canvas x (device px, rounded to a pixel edge) of a time in ms. */
const xEdge = (u: uPlot, ms: number) => Math.round(u.valToPos(ms / 1000, 'x', true));
const yPos = (u: uPlot, v: number) => u.valToPos(v, 'y', true);
/** One CSS pixel in whole device pixels (at least one). */
const onePx = () => Math.max(1, Math.round(devicePixelRatio || 1));

/**
 * Index of the bin drawn under CSS pixel `x` of the plotting area (its left edge, as an event's
 * clientX less the area's left gives it), or -1: the bin whose span holds that pixel's centre, so
 * exactly the one `drawBand` gave those device pixels (one bin per CSS pixel when bins were asked for
 * the plot's width).
 */
export function binAtPixel(u: uPlot, bins: MemoryBin[], x: number): number {
  const t = u.posToVal(Math.floor(x) + 0.5, 'x') * 1000;
  let lo = 0;
  let hi = bins.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (bins[mid].end <= t) lo = mid + 1;
    else if (bins[mid].start > t) hi = mid - 1;
    else return mid;
  }
  return -1;
}

/**
 * A band over each bin's `range` (the min–max band, or the spread); returns the rectangles filled.
 * Bins narrower than a pixel (the old bins of a window just widened) share it.
 */
export function drawBand(
  ctx: CanvasRenderingContext2D,
  u: uPlot,
  bins: MemoryBin[],
  color: string,
  range: Range = minMax,
): number {
  const { i0, i1 } = visible(u, bins);
  const px = onePx();
  ctx.fillStyle = color;
  // The rectangle being built: consecutive bins on the same pixels are merged (no double alpha).
  let x0 = 0;
  let x1 = 0;
  let top = 0;
  let bottom = 0;
  let open = false;
  let rects = 0;
  const flush = () => {
    if (!open) return;
    ctx.fillRect(x0, top, x1 - x0, bottom - top);
    rects++;
  };
  for (let i = i0; i < i1; i++) {
    const b = bins[i];
    const r = range(b);
    if (!r) continue;
    let a = xEdge(u, b.start);
    const e = Math.max(xEdge(u, b.end), a + px);
    const t = Math.round(yPos(u, r[1]) - px / 2);
    const bt = Math.max(Math.round(yPos(u, r[0]) + px / 2), t + px);
    if (open && a < x1) {
      if (e <= x1) {
        top = Math.min(top, t);
        bottom = Math.max(bottom, bt);
        continue;
      }
      a = x1;
    }
    flush();
    [x0, x1, top, bottom, open] = [a, e, t, bt, true];
  }
  flush();
  return rects;
}

/** A step line of `pick` (mean or max), `width` CSS px thick. */
export function drawStep(
  ctx: CanvasRenderingContext2D,
  u: uPlot,
  bins: MemoryBin[],
  pick: Pick,
  color: string,
  width: number,
): void {
  const { i0, i1 } = visible(u, bins);
  const lw = Math.max(1, Math.round(width * (devicePixelRatio || 1)));
  const top = (v: number) => Math.round(yPos(u, v) - lw / 2);
  ctx.fillStyle = color;
  let started = false;
  let lastY = 0;
  // Hold only between readings: never past the last one of the series.
  let lastFilled = bins.length - 1;
  while (lastFilled >= 0 && (bins[lastFilled].count === 0 || pick(bins[lastFilled]) === null)) lastFilled--;
  // Start from the last reading before the window so the held value enters from the left edge.
  for (let i = i0 - 1; i >= 0 && i0 > 0; i--) {
    const v = pick(bins[i]);
    if (bins[i].count > 0 && v !== null) {
      lastY = top(v);
      started = true;
      break;
    }
  }
  for (let i = i0; i < i1; i++) {
    const b = bins[i];
    const v = pick(b);
    const x0 = xEdge(u, b.start);
    const x1 = xEdge(u, b.end);
    if (b.count === 0 || v === null) {
      if (started && i < lastFilled && x1 > x0) ctx.fillRect(x0, lastY, x1 - x0, lw);
      continue;
    }
    const y = top(v);
    const from = started ? Math.min(lastY, y) : y;
    const span = started ? Math.abs(y - lastY) + lw : lw;
    if (x1 - x0 <= lw) {
      // A bin as narrow as the line: its joint and its level are one rectangle.
      ctx.fillRect(x0, from, Math.max(x1 - x0, 1), span);
    } else {
      if (span > lw) ctx.fillRect(x0, from, lw, span);
      ctx.fillRect(x0, y, x1 - x0, lw);
    }
    lastY = y;
    started = true;
  }
}
