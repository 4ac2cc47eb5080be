// The CPU tab draws from the server's range answers: the flame graph, the call tree (with what the
// server cut shown as "… N more") and the function table appear without the document ever being
// downloaded. Real server, real fixtures, real Chromium.
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { aggregateCallTree, pruneCallTree, sampleRange, withoutRootFrames } from '@prof/binning';
import {
  documentDuration,
  documentSummary,
  profileDuration,
  readProfileFile,
  runnerStackRows,
  type ProfileDocument,
} from '@prof/format/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixtures, launchBrowser, startServer, upload, type Server } from './harness.mjs';
import { formatDuration } from '../src/lib/units';
import { flameData, newPage } from './pageHelpers';

let server: Server;
let browser: Browser;
let id: string;
let doc: ProfileDocument;

beforeAll(async () => {
  [server, browser] = await Promise.all([startServer(), launchBrowser()]);
  id = await upload(server, 'big_memory.prof', 'cpu-server', 'big');
  doc = await readProfileFile(join(fixtures, 'big_memory.prof'));
});

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
  return withoutRootFrames(d.stacks, runnerStackRows(d));
}

describe('the duration of a profile', () => {
  it("is @prof/format's profileDuration everywhere: the page, the index row, /cpu and /memory", async () => {
    // big_memory knows its start and end (vmprof header); py-spy's speedscope file knows neither: the sample span.
    const pyspy = '../pyspy/cpu_work-50hz.speedscope.json';
    const cases: [string, string][] = [
      ['big_memory.prof', id],
      [pyspy, await upload(server, pyspy, 'cpu-server', 'duration')],
    ];
    for (const [file, profile] of cases) {
      const local = file === 'big_memory.prof' ? doc : await readProfileFile(join(fixtures, file));
      const { meta, samples } = local;
      const want = profileDuration(meta, samples.timeSource, samples.length, samples.time[0], samples.time.at(-1)!);
      expect(want, file).toBeGreaterThan(0);
      expect([documentSummary(local).durationMs, documentDuration(local)], file).toEqual([want, want]);
      const answer = async (path: string) => {
        const res = await fetch(`${server.url}/api/profiles/${profile}${path}`);
        expect(res.status, `${file} ${path}`).toBe(200);
        return ((await res.json()) as { durationMs: number }).durationMs;
      };
      expect(await answer(''), `${file}: index row`).toBe(want);
      expect(await answer('/cpu'), `${file}: /cpu`).toBe(want);
      if (samples.memory) expect(await answer('/memory'), `${file}: /memory`).toBe(want);
      const page = await newPage(browser);
      await page.goto(`${server.url}/profiles/${profile}?tab=cpu`);
      // The header is drawn once, from the row: its duration is there when it is.
      const shown = await page.waitForSelector('[data-testid=duration]');
      expect(await shown.textContent(), file).toBe(formatDuration(want));
      await page.context().close();
    }
  });
});

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
