// Server bins → what uPlot needs. uPlot only uses these columns for its scales (the y range follows
// the visible max or mean); the drawing itself is memoryPaths.ts, straight from the bins.
import type uPlot from 'uplot';
import type { MemoryBin, MemorySeries } from '../lib/api';

/** What each series measures, for the y axis and the toolbar. */
export const SERIES_LABELS: Record<MemorySeries, { axis: string; button: string; growth: string }> = {
  rss: { axis: 'memory (RSS)', button: 'RSS', growth: 'Memory (RSS) gained while this stack was running' },
  heap: { axis: 'V8 heap used', button: 'V8 heap', growth: 'V8 heap gained while this stack was running' },
};

/** x = each bin's start and end (seconds), y = max and mean held over the bin; empty bins are null. */
export function binsToSeries(bins: MemoryBin[]): uPlot.AlignedData {
  const n = bins.length * 2;
  const x = new Float64Array(n);
  const max: (number | null)[] = new Array(n);
  const mean: (number | null)[] = new Array(n);
  for (let i = 0; i < bins.length; i++) {
    const b = bins[i];
    const j = i * 2;
    x[j] = b.start / 1000;
    x[j + 1] = b.end / 1000;
    const empty = b.count === 0;
    max[j] = max[j + 1] = empty ? null : b.max;
    mean[j] = mean[j + 1] = empty ? null : b.mean;
  }
  return [x as unknown as number[], max, mean];
}

/**
 * One row per bin, with its spread (`sd_bytes`, the band the chart draws); the last column names the
 * series (`rss` or `heap`), so a file says what it holds.
 */
export function binsToCsv(bins: MemoryBin[], startTime: number | null, series: MemorySeries): string {
  const lines = ['start_ms,end_ms,start_iso,count,mean_bytes,min_bytes,max_bytes,sd_bytes,series'];
  for (const b of bins) {
    const iso = startTime !== null ? new Date(startTime + b.start).toISOString() : '';
    const sd = b.sd ?? '';
    lines.push([b.start, b.end, iso, b.count, b.mean ?? '', b.min ?? '', b.max ?? '', sd, series].join(','));
  }
  return lines.join('\n') + '\n';
}
