// @prof/binning as a user gets it: `pnpm pack`, `npm install` of the tarball outside the workspace,
// plain Node ESM through the public entry.
import { describe, expect, it } from 'vitest';
import { expectPublishable, packedInstall } from '../../../scripts/pack-install';

describe('@prof/binning, packed and installed with npm', () => {
  const scratch = packedInstall(['binning']);

  it('is publishable as it is', () => {
    expectPublishable(scratch(), '@prof/binning');
  });

  it('the README opens with an example that runs as written', () => {
    const run = scratch().runReadmeExample('@prof/binning');
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/mean: 522240,\s+max: 921600/); // the bin with the spike
  });

  it('resamples a series without hiding its one-sample spike', () => {
    const run = scratch().run(`
      import { buildMemorySummary, queryBins, binRows } from '@prof/binning';
      const n = 100000;
      const time = Float64Array.from({ length: n }, (_, i) => i);
      const memory = Float64Array.from({ length: n }, (_, i) => (i === 54321 ? 9e9 : 1e6 + (i % 7)));
      const rows = binRows(queryBins(buildMemorySummary(time, memory), { from: 0, to: n, bins: 10 }));
      console.log(JSON.stringify(rows.map((r) => [r.count, r.max])));
    `);
    expect(run.status, run.stderr).toBe(0);
    const rows = JSON.parse(run.stdout) as [number, number][];
    expect(rows).toHaveLength(10);
    expect(rows.map((r) => r[0])).toEqual(Array(10).fill(10000));
    expect(rows[5][1]).toBe(9e9);
    expect(rows.filter((r) => r[1] !== 9e9).every((r) => r[1] === 1e6 + 6)).toBe(true);
  });
});
