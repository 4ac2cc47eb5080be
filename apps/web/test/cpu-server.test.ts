// The CPU tab draws from the server's range answers: the flame graph, the call tree (with what the
// server cut shown as "… N more") and the function table appear without the document ever being
// downloaded. Real server, real fixtures, real Chromium.
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { aggregateCallTree, pruneCallTree, sampleRange } from '@prof/binning';
import { readProfileFile, runnerStackRows, type ProfileDocument } from '@prof/format/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixtures, launchBrowser, startServer, upload, type Server } from './harness.mjs';
import { flameData, newPage } from './pageHelpers';

let server: Server;
let browser: Browser;
let id: string;
let doc: ProfileDocument;

beforeAll(async () => {
  [server, browser] = await Promise.all([startServer(), launchBrowser()]);
  id = await upload(server, 'big_memory.prof', 'cpu-server', 'big');
  doc = await readProfileFile(join(fixtures, 'big_memory.prof'));
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

/** Every request the page makes, by path and query. */
function requests(page: Page): URL[] {
  const seen: URL[] = [];
  page.on('request', (r) => seen.push(new URL(r.url())));
  return seen;
}

/** The stacks as the flame graph shows them by default: launcher frames cut from the root. */
function shownStacks(d: ProfileDocument) {
  const runner = runnerStackRows(d);
  const parent = d.stacks.parent.slice();
  for (let i = 0; i < parent.length; i++) if (!runner[i] && parent[i] >= 0 && runner[parent[i]]) parent[i] = -1;
  return { parent, frame: d.stacks.frame };
}

describe('the CPU tab', () => {
  it('draws the flame graph of the whole run and of a range without any /document request', async () => {
    const page = await newPage(browser);
    const seen = requests(page);
    await page.goto(`${server.url}/profiles/${id}?tab=cpu`);
    const whole = await flameData(page);
    expect(whole.rootTotal).toBe(doc.samples.length);
    expect(whole.nodes).toBeGreaterThan(10);

    const { start, end } = sampleRange(doc.samples.time, 20_000, 90_000);
    await page.goto(`${server.url}/profiles/${id}?tab=cpu&sel=20000~90000`);
    const range = await flameData(page);
    expect(range.rootTotal).toBe(end - start);

    await page.goto(`${server.url}/profiles/${id}?tab=cpu&view=functions`);
    await page.waitForSelector('[data-testid=function-table] tbody tr');

    expect(seen.filter((u) => u.pathname.endsWith('/document'))).toEqual([]);
    const trees = seen.filter((u) => u.pathname === `/api/profiles/${id}/cpu/tree`);
    expect(trees.some((u) => u.searchParams.get('from') === '20000' && u.searchParams.get('to') === '90000')).toBe(
      true,
    );
    expect(seen.some((u) => u.pathname === `/api/profiles/${id}/cpu/functions`)).toBe(true);
    await page.context().close();
  });

  it('shows what the server cut as "… N more (x%)" rows, their weight the pruned tree\'s', async () => {
    const want = pruneCallTree(
      aggregateCallTree(shownStacks(doc), doc.samples.stack, { start: 0, end: doc.samples.length }),
    );
    let cut = 0;
    for (let n = 0; n < want.length; n++) cut += want.cut[n];
    expect(cut).toBeGreaterThan(0);
    const page = await newPage(browser);
    await page.goto(`${server.url}/profiles/${id}?tab=cpu&view=tree`);
    await page.waitForSelector('[data-testid=call-tree] tbody tr');
    await page.click('text=Expand all');
    await page.waitForSelector('[data-testid=cut-row]');
    const rows = await page.$$eval('[data-testid=cut-row]', (els) =>
      els.map((e) => ({ total: Number(e.getAttribute('data-total')), text: e.textContent ?? '' })),
    );
    expect(rows.length).toBeGreaterThan(0);
    for (const r of rows) expect(r.text).toMatch(/… [\d,]+ more \(\d+\.\d+%\)/);
    const cutWeights = new Set(Array.from(want.cut).filter((c) => c > 0));
    expect(rows.every((r) => cutWeights.has(r.total))).toBe(true);
    await page.context().close();
  });
});
