// Issue 10, memory over hours: inside the min–max band (which spikes stretch over the chart's
// height) the chart draws each bin's spread, mean ± sd clamped to [min, max], darker, and the
// tooltip and legend name it. A real server binning memory_spiky, real Chromium; the test reads the
// band the chart drew from window.__profTest and the pixels of its colour.
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatBytes } from '../src/lib/units';
import { launchBrowser, startServer, upload, type Server } from './harness.mjs';
import { chartData, newPage, pixelsNear, type MemoryHook } from './pageHelpers';

let server: Server;
let browser: Browser;
let id: string;

beforeAll(async () => {
  [server, browser] = await Promise.all([startServer(), launchBrowser()]);
  id = await upload(server, 'memory_spiky.prof', 'spread', 'spiky');
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

type Bin = MemoryHook['bins'][number];
/** mean ± sd within [min, max], worked out here from the bin the server sent. */
const expectedBand = (b: Bin): [number, number] => [
  Math.max(b.min!, b.mean! - b.sd!),
  Math.min(b.max!, b.mean! + b.sd!),
];

describe('the spread band of the memory chart', () => {
  it('is drawn inside each min–max band, and the tooltip and legend name it', async () => {
    const page = await newPage(browser);
    await page.goto(`${server.url}/profiles/${id}`);
    const m = await chartData(page);
    const spread = m.spread!;
    expect(spread.bands).toHaveLength(m.bins.length);
    expect(spread.rects).toBeGreaterThan(0);
    for (const [i, b] of m.bins.entries()) {
      if (b.count === 0) {
        expect(spread.bands[i]).toBeNull();
        continue;
      }
      const band = spread.bands[i]!;
      expect(band).toEqual(expectedBand(b));
      expect(band[0]).toBeGreaterThanOrEqual(b.min!);
      expect(band[1]).toBeLessThanOrEqual(b.max!);
      expect(band[0]).toBeLessThanOrEqual(band[1]);
    }
    // A bin whose spike stretches its min–max band well past its spread, away from the chart's edges.
    const wide = (b: Bin | undefined) => !!b && b.count > 0 && b.sd! > 0 && expectedBand(b)[1] < b.max!;
    const j = m.bins.findIndex(
      (b, i) => i > m.bins.length / 5 && wide(m.bins[i - 1]) && wide(b) && wide(m.bins[i + 1]),
    );
    expect(j).toBeGreaterThan(0);
    const b = m.bins[j];
    const box = (await page.locator('[data-testid=memory-chart] .u-over').boundingBox())!;
    const fraction = ((b.start + b.end) / 2 - m.from) / (m.to - m.from);
    await page.mouse.move(box.x + box.width * fraction, box.y + box.height / 2);
    await page.waitForSelector('.chart-tooltip:not([hidden])');
    const text = (await page.textContent('.chart-tooltip'))!;
    // The bin under the pointer, or a neighbour (bins are not pixel-aligned): its own spread.
    const shown = [m.bins[j - 1], b, m.bins[j + 1]].find((c) => {
      const [lo, hi] = expectedBand(c);
      return (
        text.includes(`samples${c.count.toLocaleString('en-US')}`) &&
        text.includes(`±1σ${formatBytes(lo, 2)} – ${formatBytes(hi, 2)}`)
      );
    });
    expect(shown, text).toBeDefined();
    expect(await page.textContent('.chart-legend')).toContain('mean ±1σ');
    await page.context().close();
  });

  it('is drawn in its own colour with the mean alone, and not with the max alone', async () => {
    const page = await newPage(browser);
    await page.goto(`${server.url}/profiles/${id}?show=mean`);
    const mean = await chartData(page);
    expect(mean.spread!.rects).toBeGreaterThan(0);
    // Without the min–max band under it, its pixels keep the band colour's own alpha.
    expect(await pixelsNear(page, '--mem-spread', 'translucent')).toBeGreaterThan(200);
    await page.goto(`${server.url}/profiles/${id}?show=max`);
    const max = await chartData(page);
    expect(max.spread!.rects).toBe(0);
    expect(await page.textContent('.chart-legend')).not.toContain('±1σ');
    await page.context().close();
  });
});
