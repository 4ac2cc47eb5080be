// Canvas paths of the memory chart, built from the bins themselves: every bin is drawn over its own
// time span [start, end), never as a point at its left edge.
//  - band: one rectangle per bin from its min to its max (at least a pixel tall and wide, so a
//    one-sample spike in a one-pixel bin still shows);
//  - step line (mean or max): the bin's value held across its span, joined to the next bin by a
//    vertical segment. An empty bin (zoomed in past the sampling rate) holds the last reading until
//    the next one, which is what a memory reading means; nothing is drawn before the first reading
//    or after the last.
import type uPlot from 'uplot';
import type { MemoryBin } from '../lib/api';

type Pick = (b: MemoryBin) => number | null;

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

const xPos = (u: uPlot, ms: number) => u.valToPos(ms / 1000, 'x', true);
const yPos = (u: uPlot, v: number) => u.valToPos(v, 'y', true);

export function bandPath(u: uPlot, bins: MemoryBin[]): Path2D {
  const path = new Path2D();
  const { i0, i1 } = visible(u, bins);
  const px = devicePixelRatio || 1;
  for (let i = i0; i < i1; i++) {
    const b = bins[i];
    if (b.count === 0 || b.max === null || b.min === null) continue;
    const x0 = xPos(u, b.start);
    const x1 = xPos(u, b.end);
    const yTop = yPos(u, b.max);
    const yBottom = yPos(u, b.min);
    path.rect(x0, yTop - px / 2, Math.max(x1 - x0, px), Math.max(yBottom - yTop, 0) + px);
  }
  return path;
}

export function stepPath(u: uPlot, bins: MemoryBin[], pick: Pick): Path2D {
  const path = new Path2D();
  const { i0, i1 } = visible(u, bins);
  let started = false;
  let lastY = 0;
  // Hold only between readings: never past the last one of the series.
  let lastFilled = bins.length - 1;
  while (lastFilled >= 0 && (bins[lastFilled].count === 0 || pick(bins[lastFilled]) === null)) lastFilled--;
  // Start from the last reading before the window so the held value enters from the left edge.
  for (let i = i0 - 1; i >= 0 && i0 > 0; i--) {
    const v = pick(bins[i]);
    if (bins[i].count > 0 && v !== null) {
      lastY = yPos(u, v);
      path.moveTo(xPos(u, bins[i0].start), lastY);
      started = true;
      break;
    }
  }
  for (let i = i0; i < i1; i++) {
    const b = bins[i];
    const v = pick(b);
    const x0 = xPos(u, b.start);
    const x1 = xPos(u, b.end);
    if (b.count === 0 || v === null) {
      if (started && i < lastFilled) path.lineTo(x1, lastY);
      continue;
    }
    const y = yPos(u, v);
    if (!started) path.moveTo(x0, y);
    else path.lineTo(x0, y);
    path.lineTo(x1, y);
    lastY = y;
    started = true;
  }
  return path;
}
