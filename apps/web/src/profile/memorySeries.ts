// Server bins → uPlot's columnar data. Each bin becomes two points (its start and its end) carrying
// the same value, so every bin is drawn over its own time span (a step), never as a point at its left
// edge. Empty bins become nulls: a gap, not an invented line.
import type uPlot from 'uplot';
import type { MemoryBin } from '../lib/api';

export function binsToSeries(bins: MemoryBin[]): uPlot.AlignedData {
  const n = bins.length * 2;
  const x = new Float64Array(n);
  const max: (number | null)[] = new Array(n);
  const min: (number | null)[] = new Array(n);
  const mean: (number | null)[] = new Array(n);
  for (let i = 0; i < bins.length; i++) {
    const b = bins[i];
    const j = i * 2;
    x[j] = b.start / 1000;
    x[j + 1] = b.end / 1000;
    const empty = b.count === 0;
    max[j] = max[j + 1] = empty ? null : b.max;
    min[j] = min[j + 1] = empty ? null : b.min;
    mean[j] = mean[j + 1] = empty ? null : b.mean;
  }
  return [x as unknown as number[], max, min, mean];
}

export function binsToCsv(bins: MemoryBin[], startTime: number | null): string {
  const lines = ['start_ms,end_ms,start_iso,count,mean_bytes,min_bytes,max_bytes'];
  for (const b of bins) {
    const iso = startTime !== null ? new Date(startTime + b.start).toISOString() : '';
    lines.push([b.start, b.end, iso, b.count, b.mean ?? '', b.min ?? '', b.max ?? ''].join(','));
  }
  return lines.join('\n') + '\n';
}
