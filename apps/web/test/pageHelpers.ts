// What the browser tests read from a page: the data the app handed to its chart and flame graph
// (window.__profTest, never recomputed) and the pixels it drew.
import type { ProfileDocument } from '@prof/format';
import type { Browser, Page } from 'playwright-core';
import type { MemoryBin } from '../src/lib/api';

export interface MemoryHook {
  from: number;
  to: number;
  bins: MemoryBin[];
  plotWidth: number;
  draws: number;
  /** The series the bins are of, and the y axis title the chart draws for it. */
  series: 'rss' | 'heap';
  yLabel: string;
  /** The x axis as drawn on the canvas: its font, the canvas width (CSS px), each tick's label and x. */
  xAxis?: { font: string; width: number; ticks: { label: string; x: number }[] };
  /** The spread band as drawn: per bin [low, high] (null: none), and the rectangles filled. */
  spread?: { bands: ([number, number] | null)[]; rects: number };
}

export interface FlameHook {
  rootTotal: number;
  /** Function names of the top row (the root's children). */
  roots: string[];
  focus: number[];
  nodes: number;
  draws: number;
  matches: number;
  matchShare: number;
}

export async function newPage(browser: Browser, options: { colorScheme?: 'light' | 'dark' } = {}): Promise<Page> {
  const ctx = await browser.newContext({
    viewport: { width: 1400, height: 900 },
    deviceScaleFactor: 1,
    acceptDownloads: true,
    ...options,
  });
  const page = await ctx.newPage();
  page.on('pageerror', (err) => console.error('page error:', err.message));
  return page;
}

/** Waits until the chart holds data newer than `afterDraws` and returns it. */
export async function chartData(page: Page, afterDraws = 0): Promise<MemoryHook> {
  await page.waitForFunction((n) => (window.__profTest?.memory?.draws ?? 0) > n, afterDraws, { timeout: 30_000 });
  return page.evaluate(() => window.__profTest.memory!) as Promise<MemoryHook>;
}

export async function chartFor(page: Page, from: number, to: number): Promise<MemoryHook> {
  await page.waitForFunction(
    ([f, t]) => {
      const m = window.__profTest?.memory;
      return !!m && Math.abs(m.from - f) < 1 && Math.abs(m.to - t) < 1;
    },
    [from, to],
    { timeout: 30_000 },
  );
  return page.evaluate(() => window.__profTest.memory!) as Promise<MemoryHook>;
}

/** Waits until the flame graph has been drawn more than `afterDraws` times and returns what it drew. */
export async function flameData(page: Page, afterDraws = 0): Promise<FlameHook> {
  await page.waitForFunction((n) => (window.__profTest?.flame?.draws ?? 0) > n, afterDraws, { timeout: 60_000 });
  return page.evaluate(() => window.__profTest.flame!) as Promise<FlameHook>;
}

export const binMax = (m: MemoryHook) => Math.max(...m.bins.map((b) => b.max ?? -Infinity));

export function globalMax(doc: ProfileDocument): { value: number; time: number } {
  const mem = doc.samples.memory!;
  let k = 0;
  for (let i = 1; i < mem.length; i++) if (mem[i] > mem[k]) k = i;
  return { value: mem[k], time: doc.samples.time[k] };
}

/**
 * Pixels of the chart canvas close to a CSS colour (anti-aliasing tolerated). `alpha` picks the
 * opacity to look for: opaque strokes by default, or a translucent fill such as the min–max band
 * (the canvas has no background, so its pixels keep the fill's own colour and alpha).
 */
export async function pixelsNear(
  page: Page,
  cssVar: string,
  alpha: 'opaque' | 'translucent' = 'opaque',
): Promise<number> {
  return page.evaluate(
    ([name, mode]) => {
      const probe = document.createElement('div');
      probe.style.color = getComputedStyle(document.documentElement).getPropertyValue(name);
      document.body.appendChild(probe);
      const parts = getComputedStyle(probe)
        .color.match(/[\d.]+/g)!
        .map(Number);
      probe.remove();
      const [r, g, b] = parts;
      const a = mode === 'opaque' ? 255 : Math.round((parts[3] ?? 1) * 255);
      const canvas = document.querySelector('[data-testid=memory-chart] canvas') as HTMLCanvasElement;
      const data = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
      let n = 0;
      for (let i = 0; i < data.length; i += 4) {
        const alphaOk = mode === 'opaque' ? data[i + 3] > 200 : Math.abs(data[i + 3] - a) < 12;
        if (alphaOk && Math.abs(data[i] - r) + Math.abs(data[i + 1] - g) + Math.abs(data[i + 2] - b) < 60) n++;
      }
      return n;
    },
    [cssVar, alpha] as const,
  );
}

/** The bin under a horizontal position of the chart's plotting area (0..1). */
export function binAtFraction(m: MemoryHook, fraction: number): MemoryHook['bins'][number] | undefined {
  const t = m.from + fraction * (m.to - m.from);
  return m.bins.find((b) => b.start <= t && t < b.end);
}

/** Shift+drag across the memory chart between two fractions of its width: selects a range. */
export async function shiftDragSelect(page: Page, fromFraction: number, toFraction: number): Promise<void> {
  const over = (await page.locator('[data-testid=memory-chart] .u-over').boundingBox())!;
  const y = over.y + over.height / 2;
  await page.keyboard.down('Shift');
  await page.mouse.move(over.x + over.width * fromFraction, y);
  await page.mouse.down();
  await page.mouse.move(over.x + over.width * toFraction, y, { steps: 6 });
  await page.mouse.up();
  await page.keyboard.up('Shift');
  await page.waitForSelector('[data-testid=share]');
}
