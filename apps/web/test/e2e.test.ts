// End-to-end: real server, real fixtures, real Chromium. Each test reads what the page actually
// drew (window.__profTest holds the data handed to the chart and the flame graph) and compares it
// with @prof/format + @prof/binning run here on the same fixture.
import { analyzeStacks, sampleRange } from '@prof/binning';
import { readProfileFile, type ProfileDocument } from '@prof/format/node';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixtures, launchBrowser, resultsDir, startServer, upload, type Server } from './harness.mjs';
import {
  binMax,
  chartData,
  chartFor,
  globalMax,
  newPage as newPageOf,
  pixelsNear,
  shiftDragSelect,
  type MemoryHook,
} from './pageHelpers';

let server: Server;
let browser: Browser;
const ids: Record<string, string> = {};
let spiky: ProfileDocument;

beforeAll(async () => {
  mkdirSync(resultsDir, { recursive: true });
  [server, browser, spiky] = await Promise.all([
    startServer(),
    launchBrowser(),
    readProfileFile(join(fixtures, 'memory_spiky.prof')),
  ]);
  ids.spiky = await upload(server, 'memory_spiky.prof', 'ingest-service', 'ingest_job', ['env=prod']);
  ids.cpu = await upload(server, 'cpu_basic.prof', 'search-engine', 'build_index');
  ids.hostile = await upload(server, 'unicode_and_hostile.prof', 'escaping', 'hostile_names');
  ids.threads = await upload(server, 'threads.prof', 'workers', 'coordinator');
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

const newPage = () => newPageOf(browser);

describe('landing page', () => {
  it('searches projects and function names, keeps it in the URL and restores it', async () => {
    const page = await newPage();
    await page.goto(server.url + '/');
    await page.waitForSelector('[data-testid=profile-table] tbody tr');
    expect(await page.locator('[data-testid=profile-table] tbody tr').count()).toBe(4);
    // The project cards come from their own request (/api/projects), which may answer after the rows.
    await page.waitForSelector('[data-testid=projects] .fn-chip');
    expect(await page.locator('[data-testid=projects] .fn-chip').allTextContents()).toEqual(
      expect.arrayContaining([expect.stringContaining('ingest_job'), expect.stringContaining('build_index')]),
    );
    await page.fill('[data-testid=landing-search]', 'build_index');
    await page.waitForFunction(() => new URL(location.href).searchParams.get('q') === 'build_index');
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=profile-table] tbody tr').length === 1);
    expect(await page.locator('[data-testid=profile-table] tbody tr').first().textContent()).toContain('search-engine');
    await page.check('.filters input[type=checkbox]');
    await page.waitForFunction(() => new URL(location.href).searchParams.get('mem') === '1');
    await page.waitForSelector('.profiles .empty');
    await page.uncheck('.filters input[type=checkbox]');
    await page.waitForSelector('[data-testid=profile-table] tbody tr');
    const shared = page.url();

    const other = await newPage();
    await other.goto(shared);
    await other.waitForSelector('[data-testid=profile-table] tbody tr');
    expect(await other.inputValue('[data-testid=landing-search]')).toBe('build_index');
    expect(await other.locator('[data-testid=profile-table] tbody tr').count()).toBe(1);
    await other.goBack().catch(() => undefined);

    await page.fill('[data-testid=landing-search]', '');
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=profile-table] tbody tr').length === 4);
    await page.screenshot({ path: join(resultsDir, 'web-landing.png'), fullPage: true });
    await page.context().close();
    await other.context().close();
  });
});

describe('memory view', () => {
  it('draws mean and max over one bin per pixel, and a drag zoom re-bins narrower', async () => {
    const page = await newPage();
    // The bins are asked for beside the profile's row, not after it: the row is held until they are.
    let binsAsked!: () => void;
    const asked = new Promise<void>((resolve) => (binsAsked = resolve));
    page.on('request', (r) => {
      if (new URL(r.url()).pathname === `/api/profiles/${ids.spiky}/memory`) binsAsked();
    });
    await page.route(`**/api/profiles/${ids.spiky}`, async (route) => {
      await asked;
      await route.continue();
    });
    await page.goto(`${server.url}/profiles/${ids.spiky}`);
    const full = await chartData(page);
    expect(full.bins.length).toBeGreaterThan(full.plotWidth * 0.9);
    expect(full.bins.length).toBeLessThanOrEqual(full.plotWidth);
    expect(full.bins.some((b) => b.max !== null && b.mean !== null && b.max > b.mean)).toBe(true);
    expect(await pixelsNear(page, '--mem-mean')).toBeGreaterThan(200);
    expect(await pixelsNear(page, '--mem-max')).toBeGreaterThan(200);
    expect(await page.textContent('.chart-meta')).toContain('time axis estimated');

    const over = (await page.locator('[data-testid=memory-chart] .u-over').boundingBox())!;
    const y = over.y + over.height / 2;
    await page.mouse.move(over.x + over.width * 0.3, y);
    await page.mouse.down();
    await page.mouse.move(over.x + over.width * 0.4, y, { steps: 5 });
    await page.mouse.move(over.x + over.width * 0.5, y, { steps: 5 });
    await page.mouse.up();
    const zoomed = await chartData(page, full.draws);
    const width = (m: MemoryHook) => m.bins[0].end - m.bins[0].start;
    expect(width(zoomed)).toBeLessThan(width(full) / 3);
    expect(zoomed.to - zoomed.from).toBeLessThan((full.to - full.from) / 3);
    const url = new URL(page.url());
    expect(Number(url.searchParams.get('from'))).toBeCloseTo(zoomed.from, 2);

    // Back returns to the whole profile, re-binned from the server again.
    await page.goBack();
    const back = await chartData(page, zoomed.draws);
    expect(width(back)).toBeCloseTo(width(full), 6);
    await page.context().close();
  });

  it("shows memory_spiky's planted spike as a bin max at every zoom level", async () => {
    const spike = globalMax(spiky);
    const page = await newPage();
    await page.goto(`${server.url}/profiles/${ids.spiky}`);
    const full = await chartData(page);
    expect(binMax(full)).toBe(spike.value);
    for (const half of [8000, 1000, 100, 5]) {
      const from = Math.max(0, spike.time - half);
      const to = spike.time + half;
      await page.goto(`${server.url}/profiles/${ids.spiky}?from=${from}&to=${to}`);
      const m = await chartFor(page, from, to);
      expect(binMax(m)).toBe(spike.value);
      const holder = m.bins.find((b) => b.start <= spike.time && spike.time < b.end)!;
      expect(holder.max).toBe(spike.value);
    }
    await page.context().close();
  });

  it('a bin click shows the prefix, extension and share @prof/binning computes for that bin', async () => {
    const spike = globalMax(spiky);
    const page = await newPage();
    const from = spike.time - 8000;
    const to = spike.time + 8000;
    await page.goto(`${server.url}/profiles/${ids.spiky}?from=${from}&to=${to}`);
    const m = await chartFor(page, from, to);
    const over = (await page.locator('[data-testid=memory-chart] .u-over').boundingBox())!;
    const x = over.x + ((spike.time - m.from) / (m.to - m.from)) * over.width;
    await page.mouse.click(x, over.y + over.height / 2);
    await page.waitForSelector('[data-testid=share]');
    const sel = (await page.evaluate(() => window.__profTest.stacks!)) as {
      from: number;
      to: number;
      share: number;
      samples: number;
    };
    expect(sel.from).toBeLessThanOrEqual(spike.time + 0.01);
    expect(sel.to).toBeGreaterThan(spike.time - 0.01);

    const run = sampleRange(spiky.samples.time, sel.from, sel.to);
    const want = analyzeStacks(spiky.stacks, spiky.samples.stack, { ...run, topK: 10 });
    const name = (f: number) => spiky.strings[spiky.frames.name[f]];
    expect(want.samples).toBeGreaterThan(0);
    expect(sel.samples).toBe(want.samples);
    const shownPrefix = await page.locator('[data-testid=prefix] .fn').allTextContents();
    const shownExt = await page.locator('[data-testid=extension] .fn').allTextContents();
    expect(shownPrefix).toEqual(want.prefix.map(name));
    expect(shownExt).toEqual(want.extension.map(name));
    expect(await page.textContent('[data-testid=share]')).toBe(`${(want.share * 100).toFixed(1)}%`);
    await page.screenshot({ path: join(resultsDir, 'web-memory.png'), fullPage: true });
    await page.context().close();
  });

  it('a shared URL restores the same view in a new page', async () => {
    const page = await newPage();
    await page.goto(`${server.url}/profiles/${ids.spiky}`);
    await chartData(page);
    await page.click('button.seg:has-text("max")');
    await page.click('button.seg:has-text("clock")');
    await shiftDragSelect(page, 0.6, 0.7);
    const before = (await page.evaluate(() => window.__profTest)) as {
      memory: MemoryHook;
      stacks: { from: number; to: number; share: number };
    };
    const shared = page.url();
    expect(new URL(shared).searchParams.get('sel')).toMatch(/~/);

    const other = await newPage();
    await other.goto(shared);
    await other.waitForSelector('[data-testid=share]');
    // The stacks panel can answer before the memory chart has drawn the restored range: wait for the chart.
    await other.waitForFunction(
      (from) => Math.abs((window.__profTest?.memory?.from ?? Number.NaN) - from) < 1e-6,
      before.memory.from,
    );
    const after = (await other.evaluate(() => window.__profTest)) as typeof before;
    expect(after.stacks).toEqual(before.stacks);
    expect(after.memory.from).toBeCloseTo(before.memory.from, 6);
    expect(after.memory.to).toBeCloseTo(before.memory.to, 6);
    expect(await other.getAttribute('button.seg:has-text("max")', 'aria-pressed')).toBe('true');
    expect(await other.getAttribute('button.seg:has-text("clock")', 'aria-pressed')).toBe('true');
    expect(await other.textContent('[data-testid=stack-panel]')).toBe(
      await page.textContent('[data-testid=stack-panel]'),
    );
    await page.context().close();
    await other.context().close();
  });

  it('a profile without memory says so and opens on the CPU view', async () => {
    const page = await newPage();
    await page.goto(`${server.url}/profiles/${ids.cpu}?tab=memory`);
    expect(await page.textContent('[data-testid=no-memory]')).toContain('recorded no memory');
    const asked: string[] = [];
    page.on('request', (r) => asked.push(new URL(r.url()).pathname));
    await page.goto(`${server.url}/profiles/${ids.cpu}`);
    await page.waitForSelector('[data-testid=flame] canvas');
    expect(await page.getAttribute('.tab.on', 'aria-selected')).toBe('true');
    expect(await page.textContent('.tab.on')).toContain('CPU');
    // Its bins were asked for before the row said there is no memory: the answer (409 no-memory, or
    // the request aborted as the page moved to the CPU tab) shows nowhere.
    expect(asked).toContain(`/api/profiles/${ids.cpu}/memory`);
    expect(await page.locator('.error').count()).toBe(0);
    await page.goto(`${server.url}/profiles/aaaaaaaaaaaaaaaaaaaaaaaa`);
    await page.waitForSelector('.message-page');
    expect(await page.textContent('.message-page')).toContain('Profile not found');
    await page.context().close();
  });
});

describe('CPU view', () => {
  it('zooms the flame graph on click, with a breadcrumb back out, and search shows its share', async () => {
    const page = await newPage();
    await page.goto(`${server.url}/profiles/${ids.cpu}?tab=cpu`);
    await page.waitForFunction(() => (window.__profTest?.flame?.draws ?? 0) > 0, undefined, { timeout: 60_000 });
    const first = (await page.evaluate(() => window.__profTest.flame!)) as {
      focus: number[];
      rootTotal: number;
      nodes: number;
      draws: number;
    };
    expect(first.focus).toEqual([]);
    expect(first.rootTotal).toBe(1508);
    const box = (await page.locator('[data-testid=flame] canvas').boundingBox())!;
    await page.mouse.click(box.x + 30, box.y + 3 * 18 + 9);
    // The frame drawn with a focus, not just any later frame (a redraw of the whole tree could come first).
    await page.waitForFunction(
      (n) => window.__profTest.flame!.draws > n && window.__profTest.flame!.focus.length > 0,
      first.draws,
    );
    const zoomed = (await page.evaluate(() => window.__profTest.flame!)) as typeof first;
    expect(zoomed.focus.length).toBe(3);
    expect(new URL(page.url()).searchParams.get('focus')).toBe(zoomed.focus.join('.'));
    expect(await page.locator('.breadcrumb .crumb').count()).toBe(4);
    await page.click('.breadcrumb .crumb >> nth=1');
    await page.waitForFunction(() => window.__profTest.flame!.focus.length === 1);

    await page.fill('input.search', 'quicksort');
    await page.waitForSelector('[data-testid=match-share]');
    // The share shows on render; the hook is written after the frame that paints the matches.
    await page.waitForFunction(() => window.__profTest.flame!.query === 'quicksort');
    const share = (await page.evaluate(() => window.__profTest.flame!.matchShare)) as number;
    expect(share).toBeGreaterThan(0);
    expect(await page.textContent('[data-testid=match-share]')).toContain(`${(share * 100).toFixed(1)}%`);
    await page.fill('input.search', '');
    await page.goto(`${server.url}/profiles/${ids.cpu}?tab=cpu`);
    await page.waitForFunction(() => (window.__profTest?.flame?.draws ?? 0) > 0);
    await page.mouse.move(box.x + 40, box.y + 4 * 18 + 9);
    await page.waitForSelector('.flame-tip:not([hidden])');
    await page.screenshot({ path: join(resultsDir, 'web-cpu.png'), fullPage: true });
    await page.context().close();
  });

  it('renders hostile names (<script>, quotes, bidi) as text only', async () => {
    const page = await newPage();
    let dialogs = 0;
    page.on('dialog', (d) => {
      dialogs++;
      void d.dismiss();
    });
    await page.goto(`${server.url}/profiles/${ids.hostile}?tab=cpu&view=functions`);
    await page.waitForSelector('[data-testid=function-table] tbody tr');
    const names = await page.locator('[data-testid=function-table] td.fn').allTextContents();
    expect(names.some((n) => n.includes('<script>alert(1)</script>'))).toBe(true);
    await page.goto(`${server.url}/profiles/${ids.hostile}?tab=cpu&view=tree`);
    await page.waitForSelector('[data-testid=call-tree] tbody tr');
    await page.goto(`${server.url}/profiles/${ids.hostile}?tab=cpu&q=script`);
    await page.waitForSelector('[data-testid=match-share]');
    const injected = await page.evaluate(() => ({
      scripts: document.querySelectorAll('script').length,
      foreign: document.querySelectorAll('iframe, object, embed, img, svg script').length,
    }));
    expect(injected).toEqual({ scripts: 1, foreign: 0 });
    expect(dialogs).toBe(0);
    await page.context().close();
  });
});
