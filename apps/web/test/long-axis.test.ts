// Issue 10, time over hours: a 24-hour run's memory chart keeps its hours (the tooltip said
// "123:07.359" for 2:03:07) and draws no axis label cut by the chart's edge (the last one, at 24 h,
// was). The profile is memory_spiky with its sample times stretched to 24 hours, uploaded as a
// document to a real server and drawn by real Chromium; label widths are measured by the page's own
// canvas in the axis's font, not taken from the app's estimate.
import { gzipDocument, readProfileFile } from '@prof/format/node';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixtures, launchBrowser, startServer, type Server } from './harness.mjs';
import { binAtFraction, chartData, newPage, type MemoryHook } from './pageHelpers';

const DAY_MS = 24 * 3600 * 1000;
let server: Server;
let browser: Browser;
let id: string;

beforeAll(async () => {
  [server, browser] = await Promise.all([startServer(), launchBrowser()]);
  const doc = await readProfileFile(join(fixtures, 'memory_spiky.prof'));
  const { time, length } = doc.samples;
  // The last sample at 24:00:00 exactly: the whole run's last tick then stands on the chart's edge.
  const scale = DAY_MS / time[length - 1];
  for (let i = 0; i < length; i++) time[i] *= scale;
  if (doc.meta.startTime !== null) doc.meta.endTime = doc.meta.startTime + DAY_MS;
  doc.meta.name = '24 hours';
  const res = await fetch(`${server.url}/api/profiles`, {
    method: 'POST',
    body: new Uint8Array(await gzipDocument(doc)),
  });
  expect(res.status).toBe(201);
  id = (await res.json()).id;
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

type Axis = NonNullable<MemoryHook['xAxis']>;

/** Each drawn label with its left and right edge in canvas CSS px, measured in the axis's font. */
function measured(page: Page, axis: Axis) {
  return page.evaluate((a) => {
    const ctx = document.createElement('canvas').getContext('2d')!;
    ctx.font = a.font;
    return a.ticks
      .filter((t) => t.label !== '')
      .map((t) => {
        const w = Math.max(...t.label.split('\n').map((l) => ctx.measureText(l).width));
        return { label: t.label, left: t.x - w / 2, right: t.x + w / 2 };
      });
  }, axis);
}

/** h:mm:ss.mmm of `ms` since the start, written out here rather than by the app's formatter. */
function clock(ms: number): string {
  const total = Math.round(ms);
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  const s = Math.floor(total / 1000);
  return `${Math.floor(s / 3600)}:${pad(Math.floor(s / 60) % 60)}:${pad(s % 60)}.${pad(total % 1000, 3)}`;
}

describe('a 24-hour run', () => {
  it('the axis labels are in hours and none is cut by the chart edge, whole run and zoomed on its last seconds', async () => {
    const page = await newPage(browser);
    for (const query of ['', `?from=${DAY_MS - 4000}&to=${DAY_MS}`]) {
      await page.goto(`${server.url}/profiles/${id}${query}`);
      const m = await chartData(page);
      expect(m.to).toBeGreaterThanOrEqual(DAY_MS);
      const axis = m.xAxis!;
      // The run's last tick stands at the chart's right edge: a label centred on it would be cut.
      expect(axis.ticks.at(-1)!.x).toBeGreaterThan(axis.width - 40);
      const labels = await measured(page, axis);
      expect(labels.length).toBeGreaterThan(2);
      for (const l of labels) {
        expect(l.left, l.label).toBeGreaterThanOrEqual(0);
        expect(l.right, l.label).toBeLessThanOrEqual(axis.width);
      }
      // Past the first hour every label says its hours (23:59:57.5, never 1439:57.5).
      for (const l of labels.slice(1)) expect(l.label).toMatch(/^\d{1,2}:\d\d:\d\d(\.\d+)?$/);
    }
    await page.context().close();
  });

  it('the tooltip gives the hours of a bin hours into the run', async () => {
    const page = await newPage(browser);
    await page.goto(`${server.url}/profiles/${id}`);
    const m = await chartData(page);
    const box = (await page.locator('[data-testid=memory-chart] .u-over').boundingBox())!;
    const fraction = 0.55;
    await page.mouse.move(box.x + box.width * fraction, box.y + box.height / 2);
    await page.waitForSelector('.chart-tooltip:not([hidden])');
    expect(binAtFraction(m, fraction)!.start).toBeGreaterThan(2 * 3600 * 1000);
    // The bin under the pointer (the one at the fraction or its neighbour: bins are not pixel-aligned).
    const text = (await page.textContent('.chart-tooltip'))!;
    const bin = m.bins.find((b) => text.startsWith(`from${clock(b.start)}to${clock(b.end)}`));
    expect(bin, text).toBeDefined();
    expect(Math.abs(bin!.start - binAtFraction(m, fraction)!.start)).toBeLessThanOrEqual(bin!.end - bin!.start);
    await page.context().close();
  });
});
