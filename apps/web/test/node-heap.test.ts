// End-to-end, Node profiles: a real program recorded by `prof run` (RSS and V8 heap per sample)
// and uploaded to the real server, viewed in real Chromium. Expected values come from
// @prof/binning run here on the document the server stored.
import { analyzeStacks, binRows, buildMemorySummary, queryBins, sampleRange } from '@prof/binning';
import { gunzipDocument, type ProfileDocument } from '@prof/format/node';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatBytes, formatDuration } from '../src/lib/units';
import { launchBrowser, recordNodeProfile, resultsDir, startServer, upload, type Server } from './harness.mjs';
import { binMax, chartData, newPage as newPageOf, pixelsNear, shiftDragSelect, type MemoryHook } from './pageHelpers';

// Keeps arrays (the heap climbs), parses small JSON (churn) and now and then builds a big report
// that is dropped at once (heap spikes).
const PROGRAM = `
const keep = [];
function retain(n) { for (let i = 0; i < n; i++) keep.push(new Array(400).fill(i)); }
function parse() { let n = 0; for (let i = 0; i < 1500; i++) n += JSON.parse('{"a":' + i + '}').a; return n; }
function report() { const big = []; for (let i = 0; i < 150; i++) big.push(new Array(4000).fill(i)); return big.length; }
const end = Date.now() + 2000;
for (let k = 1; Date.now() < end; k++) { retain(40); parse(); if (k % 15 === 0) report(); }
console.log(keep.length);
`;

let server: Server;
let browser: Browser;
let id: string;
let vmId: string;
let doc: ProfileDocument;

beforeAll(async () => {
  mkdirSync(resultsDir, { recursive: true });
  [server, browser] = await Promise.all([startServer(), launchBrowser()]);
  id = await recordNodeProfile(server, 'node-heap', PROGRAM, { TZ: 'Europe/Berlin' });
  doc = await gunzipDocument(readFileSync(join(server.dataDir, 'profiles', `${id}.msgpack.gz`)));
  vmId = await upload(server, 'memory_spiky.prof', 'vm', 'main');
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

const newPage = () => newPageOf(browser);

/** The `/memory` requests the page makes. */
function memoryRequests(page: Page): URL[] {
  const urls: URL[] = [];
  page.on('request', (r) => {
    const url = new URL(r.url());
    if (url.pathname === `/api/profiles/${id}/memory`) urls.push(url);
  });
  return urls;
}

/** What @prof/binning makes of a series over the window and bin count the page asked for. */
function expectedBins(column: Float64Array, m: MemoryHook, request: URL) {
  const bins = Number(request.searchParams.get('bins'));
  return binRows(queryBins(buildMemorySummary(doc.samples.time, column), { from: m.from, to: m.to, bins }));
}

async function download(page: Page, click: () => Promise<void>): Promise<{ name: string; text: string }> {
  const [dl] = await Promise.all([page.waitForEvent('download'), click()]);
  return { name: dl.suggestedFilename(), text: readFileSync((await dl.path())!, 'utf8') };
}

describe('the V8 heap of a Node profile', () => {
  it('offers RSS | V8 heap, re-bins from the server with series=heap and draws it; Back and Forward switch', async () => {
    const heap = doc.samples.heap!;
    const rss = doc.samples.memory!;
    expect(heap).not.toBeNull();
    const page = await newPage();
    const requests = memoryRequests(page);
    await page.goto(`${server.url}/profiles/${id}`);
    const first = await chartData(page);
    expect(first.series).toBe('rss');
    expect(first.yLabel).toBe('memory (RSS)');
    expect(first.bins).toEqual(expectedBins(rss, first, requests.at(-1)!));
    expect(requests.every((u) => !u.searchParams.has('series'))).toBe(true);

    const toggle = page.locator('[role=group][aria-label=Memory]');
    expect(await toggle.locator('button').allTextContents()).toEqual(['RSS', 'V8 heap']);
    await toggle.locator('button', { hasText: 'V8 heap' }).click();
    const onHeap = await chartData(page, first.draws);
    expect(new URL(page.url()).searchParams.get('series')).toBe('heap');
    const heapRequest = requests.at(-1)!;
    expect(heapRequest.searchParams.get('series')).toBe('heap');
    expect(onHeap.series).toBe('heap');
    expect(onHeap.yLabel).toBe('V8 heap used');
    expect(onHeap.bins).toEqual(expectedBins(heap, onHeap, heapRequest));
    expect(binMax(onHeap)).toBe(Math.max(...heap));
    expect(binMax(onHeap)).toBeLessThan(binMax(first));
    await page.screenshot({ path: join(resultsDir, 'web-memory-heap.png') });
    // Most bins hold one sample here (max = mean, the max line under the mean): the mean line is what shows.
    expect(await pixelsNear(page, '--mem-mean')).toBeGreaterThan(200);
    expect(await toggle.locator('button[aria-pressed=true]').textContent()).toBe('V8 heap');

    // The CSV says which series it holds.
    const csv = await download(page, () => page.click('button:has-text("CSV")'));
    expect(csv.name).toMatch(/-memory-heap\.csv$/);
    const lines = csv.text.trim().split('\n');
    expect(lines[0]).toBe('start_ms,end_ms,start_iso,count,mean_bytes,min_bytes,max_bytes,sd_bytes,series');
    expect(lines.length).toBe(onHeap.bins.length + 1);
    expect(lines.slice(1).every((l) => l.endsWith(',heap'))).toBe(true);
    expect(lines.some((l) => l.split(',')[6] === String(binMax(onHeap)))).toBe(true);

    await page.goBack();
    const back = await chartData(page, onHeap.draws);
    expect(new URL(page.url()).searchParams.has('series')).toBe(false);
    expect(back.series).toBe('rss');
    expect(back.yLabel).toBe('memory (RSS)');
    await page.goForward();
    const forward = await chartData(page, back.draws);
    expect(forward.series).toBe('heap');
    expect(forward.bins).toEqual(onHeap.bins);
    await page.locator('[role=group][aria-label=Show] button', { hasText: /^max$/ }).click();
    await page.waitForFunction(() => new URL(location.href).searchParams.get('show') === 'max');
    await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => r(null))));
    expect(await pixelsNear(page, '--mem-max')).toBeGreaterThan(200);
    await page.context().close();
  });

  it("ranks the side panel's top stacks by the growth of the selected series", async () => {
    const page = await newPage();
    await page.goto(`${server.url}/profiles/${id}?series=heap`);
    await chartData(page);
    await shiftDragSelect(page, 0.05, 0.95);
    const rank = page.locator('[data-testid=stack-panel] [role=group][aria-label="Rank by"]');
    await rank.locator('button', { hasText: 'V8 heap growth' }).click();
    await page.waitForFunction(
      () => window.__profTest.stacks?.rank === 'growth' && window.__profTest.stacks.series === 'heap',
    );
    expect(new URL(page.url()).searchParams.get('rank')).toBe('growth');
    const [from, to] = new URL(page.url()).searchParams.get('sel')!.split('~').map(Number);
    const range = sampleRange(doc.samples.time, from, to);
    const byHeap = analyzeStacks(doc.stacks, doc.samples.stack, {
      ...range,
      topK: 10,
      memory: doc.samples.heap,
      rankBy: 'growth',
    });
    const shown = await page.evaluate(() => window.__profTest.stacks!);
    expect(shown.top).toEqual(byHeap.top.map((t) => ({ count: t.count, growth: t.growth })));
    expect(shown.top[0].growth).toBeGreaterThan(0);
    const firstGrowth = await page.locator('.top-stacks .growth').first().textContent();
    expect(firstGrowth).toBe(`+${formatBytes(byHeap.top[0].growth)}`);
    expect(await page.locator('.top-stacks .growth').first().getAttribute('title')).toContain('V8 heap');

    // Switching the chart to RSS re-ranks the panel by RSS growth.
    await page.locator('[role=group][aria-label=Memory] button', { hasText: 'RSS' }).click();
    await page.waitForFunction(() => window.__profTest.stacks?.series === 'rss');
    const byRss = analyzeStacks(doc.stacks, doc.samples.stack, {
      ...range,
      topK: 10,
      memory: doc.samples.memory,
      rankBy: 'growth',
    });
    expect((await page.evaluate(() => window.__profTest.stacks!)).top).toEqual(
      byRss.top.map((t) => ({ count: t.count, growth: t.growth })),
    );
    expect(await rank.locator('button').allTextContents()).toEqual(['samples', 'RSS growth']);
    await page.screenshot({ path: join(resultsDir, 'web-memory-heap-panel.png') });
    await page.context().close();
  });

  it('a vmprof profile (RSS only) offers no toggle, and a link asking for the heap falls back to RSS', async () => {
    const page = await newPage();
    await page.goto(`${server.url}/profiles/${vmId}?series=heap`);
    const m = await chartData(page);
    expect(m.series).toBe('rss');
    await page.waitForFunction(() => !new URL(location.href).searchParams.has('series'));
    expect(await page.locator('[role=group][aria-label=Memory]').count()).toBe(0);
    await page.context().close();
  });
});

describe('what the index knows before the document loads', () => {
  it("the profile's zone shows in its header with the document held back", async () => {
    const page = await newPage();
    await page.route('**/api/profiles/*/document', (route) => route.abort()); // only the row can tell
    await page.goto(`${server.url}/profiles/${id}?tab=cpu`);
    await page.waitForSelector('[data-testid=started]');
    expect(await page.textContent('[data-testid=started]')).toContain('Europe/Berlin');
    await page.context().close();
  });

  it("the landing page's project cards show peak memory and durations", async () => {
    const projects = ((await (await fetch(`${server.url}/api/projects`)).json()) as { projects: any[] }).projects;
    const node = projects.find((p) => p.project === 'node-heap');
    expect(node.peakMemory).toBe(Math.max(...doc.samples.memory!));
    const page = await newPage();
    await page.goto(`${server.url}/`);
    const card = page.locator('.project-card', { has: page.locator('.project-name', { hasText: 'node-heap' }) });
    const facts = await card.locator('[data-testid=project-facts]').textContent();
    expect(facts).toContain(formatBytes(node.peakMemory, 2));
    expect(facts).toContain(formatDuration(node.lastDurationMs));
    const vm = page.locator('.project-card', { has: page.locator('.project-name', { hasText: /^vm$/ }) });
    expect(await vm.locator('[data-testid=project-facts]').textContent()).toContain(
      formatBytes(projects.find((p) => p.project === 'vm').peakMemory, 2),
    );
    await page.screenshot({ path: join(resultsDir, 'web-landing-projects.png'), fullPage: true });
    await page.context().close();
  });
});
