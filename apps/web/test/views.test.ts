// End-to-end, second part: the interactions around the headline views (wheel, hover, clock axis,
// threads, range → CPU, exports, flame tooltips and toggles, tables, keyboard, broken documents).
// Real server, real fixtures, real Chromium; expected values come from @prof/format and
// @prof/binning run here on the same files.
import { functionCalls, sampleRange } from '@prof/binning';
import { readProfileFile, type ProfileDocument } from '@prof/format/node';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixtures, launchBrowser, resultsDir, startServer, upload, type Server } from './harness.mjs';
import {
  binAtFraction,
  chartData,
  chartFor,
  flameData,
  newPage as newPageOf,
  pixelsNear,
  shiftDragSelect,
  type MemoryHook,
} from './pageHelpers';

let server: Server;
let browser: Browser;
const ids: Record<string, string> = {};
const docs: Record<string, ProfileDocument> = {};

beforeAll(async () => {
  mkdirSync(resultsDir, { recursive: true });
  [server, browser] = await Promise.all([startServer(), launchBrowser()]);
  const files = {
    spiky: 'memory_spiky.prof',
    cpu: 'cpu_basic.prof',
    threadsMem: 'threads_memory_realtime_misaligned.prof',
    lines: 'lines_recursive_cli.prof',
  };
  for (const [key, file] of Object.entries(files)) {
    ids[key] = await upload(server, file, key === 'cpu' ? 'search-engine' : 'views', key);
    docs[key] = await readProfileFile(join(fixtures, file));
  }
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

const newPage = (colorScheme?: 'light' | 'dark') => newPageOf(browser, colorScheme ? { colorScheme } : {});
const binWidth = (m: MemoryHook) => m.bins[0].end - m.bins[0].start;

async function plotBox(page: Page) {
  return (await page.locator('[data-testid=memory-chart] .u-over').boundingBox())!;
}

/** The spiky profile's memory chart, drawn (`m`), with the mouse at `fraction` of the plot's width. */
async function spikyChartAt(fraction: number) {
  const page = await newPage();
  await page.goto(`${server.url}/profiles/${ids.spiky}`);
  const m = await chartData(page);
  const box = await plotBox(page);
  await page.mouse.move(box.x + box.width * fraction, box.y + box.height / 2);
  return { page, m, box };
}

async function download(page: Page, click: () => Promise<void>): Promise<{ name: string; bytes: Buffer }> {
  const [dl] = await Promise.all([page.waitForEvent('download'), click()]);
  return { name: dl.suggestedFilename(), bytes: readFileSync((await dl.path())!) };
}

describe('memory view interactions', () => {
  it('wheel zooms re-bin from the server, never more bins than pixels, and Back/Forward walk the windows', async () => {
    const { page, m: full, box } = await spikyChartAt(0.58);
    await page.mouse.wheel(0, -120);
    const once = await chartData(page, full.draws);
    expect(once.to - once.from).toBeLessThan(full.to - full.from);
    expect(binWidth(once)).toBeLessThan(binWidth(full));
    expect(once.bins.length).toBeLessThanOrEqual(once.plotWidth);
    // Separate gestures (apart in time) are separate history entries: wait until the page's own rule
    // says the next wheel event starts a new gesture.
    await page.waitForFunction(() => {
      const g = window.__profTest.gesture;
      return g !== undefined && Date.now() - g.lastAt > g.gapMs;
    });
    await page.mouse.wheel(0, -120);
    const twice = await chartData(page, once.draws);
    expect(twice.to - twice.from).toBeLessThan(once.to - once.from);
    expect(twice.bins.length).toBeLessThanOrEqual(twice.plotWidth);

    await page.goBack();
    const back = await chartData(page, twice.draws);
    expect(back.from).toBeCloseTo(once.from, 2);
    expect(back.to).toBeCloseTo(once.to, 2);
    await page.goForward();
    const fwd = await chartData(page, back.draws);
    expect(fwd.from).toBeCloseTo(twice.from, 2);

    await page.mouse.dblclick(box.x + box.width / 2, box.y + box.height / 2);
    const reset = await chartData(page, fwd.draws);
    expect(binWidth(reset)).toBeCloseTo(binWidth(full), 6);
    expect(new URL(page.url()).searchParams.get('from')).toBeNull();
    await page.context().close();
  });

  it('a zoom asks for its bins before it draws the moved window on the old ones, and draws that at once', async () => {
    const page = await newPage();
    await page.goto(`${server.url}/profiles/${ids.spiky}`);
    const full = await chartData(page);
    await page.evaluate(() => {
      const order: string[] = [];
      (window as unknown as { __order: string[] }).__order = order;
      const fetchOf = window.fetch;
      window.fetch = (input, init) => {
        if (String(input).includes('/memory')) order.push('fetch');
        return fetchOf(input, init);
      };
      const chart = document.querySelector('[data-testid=memory-chart] canvas');
      const clear = CanvasRenderingContext2D.prototype.clearRect;
      CanvasRenderingContext2D.prototype.clearRect = function (this: CanvasRenderingContext2D, x, y, w, h) {
        if (this.canvas === chart) order.push('draw');
        clear.call(this, x, y, w, h);
      };
    });
    const box = await plotBox(page);
    await page.mouse.move(box.x + box.width * 0.5, box.y + box.height / 2);
    await page.mouse.wheel(0, -120);
    const zoomed = await chartData(page, full.draws);
    expect(zoomed.to - zoomed.from).toBeLessThan(full.to - full.from);
    const order = await page.evaluate(() => (window as unknown as { __order: string[] }).__order);
    // fetch, the moved window on the old bins, then the new bins (the answer came after the first draw).
    expect(order[0]).toBe('fetch');
    expect(order.filter((o) => o === 'draw').length).toBeGreaterThanOrEqual(2);
    await page.context().close();
  });

  it('hover shows the bin time range, mean, max and sample count; the clock axis shows date and time', async () => {
    const fraction = 0.5;
    const { page, m, box } = await spikyChartAt(fraction);
    await page.waitForSelector('.chart-tooltip:not([hidden])');
    const bin = binAtFraction(m, fraction)!;
    const text = (await page.textContent('.chart-tooltip'))!;
    for (const key of ['from', 'to', 'mean', 'max', 'min', 'samples']) expect(text).toContain(key);
    expect(text).toContain(`samples${bin.count.toLocaleString('en-US')}`);

    await page.click('button.seg:has-text("clock")');
    await page.mouse.move(box.x + box.width * fraction + 1, box.y + box.height / 2);
    await page.mouse.move(box.x + box.width * fraction, box.y + box.height / 2);
    // No zone in vmprof files: UTC, and the tooltip says the date.
    const start = new Date(docs.spiky.meta.startTime! + bin.start).toISOString();
    await page.waitForFunction(
      (d) => document.querySelector('.chart-tooltip')!.textContent!.includes(d),
      start.slice(0, 10),
    );
    expect(await page.textContent('.chart-tooltip')).toContain(`${start.slice(0, 10)} ${start.slice(11, 19)}`);
    expect(new URL(page.url()).searchParams.get('axis')).toBe('date');
    await page.context().close();
  });

  it('a click that opens the stacks panel hides the tooltip until the mouse moves: other bins are under it', async () => {
    const { page, m, box } = await spikyChartAt(0.5);
    await page.waitForSelector('.chart-tooltip:not([hidden])');
    await page.mouse.click(box.x + box.width * 0.5, box.y + box.height / 2);
    // The panel narrows the chart, and bins of its new width are drawn.
    await page.waitForFunction((w) => (window.__profTest.memory?.plotWidth ?? w) < w, m.plotWidth);
    expect(await page.$eval('.chart-tooltip', (e) => (e as HTMLElement).hidden)).toBe(true);
    // The next move shows the bin now under the cursor.
    await page.mouse.move(box.x + box.width * 0.3, box.y + box.height / 2);
    await page.waitForSelector('.chart-tooltip:not([hidden])');
    await page.context().close();
  });

  it('a click selects the bin drawn under the centre of the clicked pixel: one bin per pixel, at 1× and 2×', async () => {
    for (const scale of [1, 2]) {
      const ctx = await browser.newContext({ viewport: { width: 1400, height: 900 }, deviceScaleFactor: scale });
      const page = await ctx.newPage();
      // A selection from the start: the stack panel's room is taken once, so the chart keeps its width.
      await page.goto(`${server.url}/profiles/${ids.spiky}?sel=0~1`);
      await page.waitForFunction(() => window.__profTest?.stacks?.to === 1);
      // The panel's content may move the layout once more: wait for the bins of the chart's final width.
      await page.waitForFunction(() => {
        const over = document.querySelector('[data-testid=memory-chart] .u-over');
        const m = window.__profTest.memory;
        return !!over && !!m && m.plotWidth === Math.round(over.getBoundingClientRect().width);
      });
      const m = (await page.evaluate(() => window.__profTest.memory!)) as MemoryHook;
      const box = await plotBox(page);
      // Bins and pixels agree: one bin per CSS pixel of the plot, bin k over exactly pixel k.
      expect(m.bins.length).toBe(m.plotWidth);
      expect(Math.round(box.width)).toBe(m.plotWidth);
      const span = m.to - m.from;
      for (const k of [0, 1, 2, 377, 378, m.plotWidth - 2, m.plotWidth - 1]) {
        const b = m.bins[k];
        expect(b.count).toBeGreaterThan(0);
        expect(((b.start - m.from) / span) * m.plotWidth).toBeCloseTo(k, 6);
        expect(((b.end - m.from) / span) * m.plotWidth).toBeCloseTo(k + 1, 6);
      }
      // Near either edge of a pixel and at its centre: always that pixel's bin, never a neighbour.
      for (const [k, within] of [
        [0, 0.05],
        [1, 0.5],
        [2, 0.95],
        [377, 0.05],
        [378, 0.95],
        [m.plotWidth - 2, 0.5],
        [m.plotWidth - 1, 0.95],
      ] as const) {
        const before = (await page.evaluate(() => window.__profTest.stacks))!;
        await page.mouse.click(box.x + k + within, box.y + box.height / 2);
        await page.waitForFunction(
          ([f, t]) => {
            const s = window.__profTest.stacks;
            return s !== undefined && (s.from !== f || s.to !== t);
          },
          [before.from, before.to],
        );
        const sel = (await page.evaluate(() => window.__profTest.stacks))!;
        // The URL keeps times to the µs.
        const us = (ms: number) => Math.round(ms * 1000) / 1000;
        expect({ k, from: sel.from, to: sel.to }).toEqual({ k, from: us(m.bins[k].start), to: us(m.bins[k].end) });
      }
      // The chart was not re-binned meanwhile: the clicks hit the bins checked above.
      expect(await page.evaluate(() => window.__profTest.memory!.draws)).toBe(m.draws);
      await ctx.close();
    }
  });

  it('big_memory: the whole run shows the min–max band with the mean and the max, in both themes', async () => {
    // big_memory's memory saw-tooths inside every bin of the whole-run view: the band is wide there.
    const id = await upload(server, 'big_memory.prof', 'views', 'big_memory');
    for (const scheme of ['light', 'dark'] as const) {
      const page = await newPage(scheme);
      await page.goto(`${server.url}/profiles/${id}${scheme === 'dark' ? '?sel=120000~121000' : ''}`);
      const m = await chartData(page);
      expect(await page.getAttribute('html', 'data-theme')).toBe(scheme);
      expect(m.bins.length).toBeLessThanOrEqual(m.plotWidth);
      expect(m.bins.some((b) => b.max! - b.min! > (b.max! - b.mean!) * 2 && b.max! > b.min!)).toBe(true);
      expect(await pixelsNear(page, '--mem-mean')).toBeGreaterThan(500);
      expect(await pixelsNear(page, '--mem-max')).toBeGreaterThan(500);
      expect(await pixelsNear(page, '--mem-band', 'translucent')).toBeGreaterThan(1000);
      if (scheme === 'light') {
        // Switching theme in place redraws with the new theme's colours.
        await page.keyboard.press('d');
        await page.waitForSelector('html[data-theme=dark]');
        expect(await pixelsNear(page, '--mem-mean')).toBeGreaterThan(500);
        expect(await pixelsNear(page, '--mem-band', 'translucent')).toBeGreaterThan(1000);
        await page.keyboard.press('d');
        await page.waitForSelector('html[data-theme=light]');
      }
      if (scheme === 'dark') await page.waitForSelector('[data-testid=share]');
      await page.screenshot({
        path: join(resultsDir, scheme === 'dark' ? 'web-memory-dark.png' : 'web-memory-big.png'),
      });
      await page.context().close();
    }
  });

  it('per thread: the bins hold exactly the samples of the chosen thread', async () => {
    const doc = docs.threadsMem;
    const page = await newPage();
    await page.goto(`${server.url}/profiles/${ids.threadsMem}`);
    const all = await chartData(page);
    const countOf = (m: MemoryHook) => m.bins.reduce((s, b) => s + b.count, 0);
    expect(countOf(all)).toBe(doc.samples.length);
    await page.waitForSelector('.thread-select select:not([disabled])');
    const perThread = new Array<number>(doc.threads.length).fill(0);
    for (const t of doc.samples.thread) perThread[t]++;
    const busiest = perThread.indexOf(Math.max(...perThread));
    await page.selectOption('.thread-select select', String(busiest));
    const one = await chartData(page, all.draws);
    expect(new URL(page.url()).searchParams.get('thread')).toBe(String(busiest));
    expect(countOf(one)).toBe(perThread[busiest]);
    expect(countOf(one)).toBeLessThan(countOf(all));
    await page.context().close();
  });

  it('a selected range limits the CPU view to its samples', async () => {
    const page = await newPage();
    await page.goto(`${server.url}/profiles/${ids.spiky}`);
    await chartData(page);
    await shiftDragSelect(page, 0.2, 0.35);
    await page.click('button:has-text("CPU view of it")');
    const flame = await flameData(page);
    const [from, to] = new URL(page.url()).searchParams.get('sel')!.split('~').map(Number);
    const run = sampleRange(docs.spiky.samples.time, from, to);
    expect(run.end - run.start).toBeGreaterThan(0);
    expect(run.end - run.start).toBeLessThan(docs.spiky.samples.length);
    expect(flame.rootTotal).toBe(run.end - run.start);
    expect(await page.textContent('.range-banner')).toContain('Limited to the selected range');
    await page.click('.range-banner button');
    // The frame of the whole run: any other total is still the range's (a redraw of it could come first).
    await page.waitForFunction((n) => window.__profTest.flame!.rootTotal !== n, flame.rootTotal, { timeout: 60_000 });
    const whole = await flameData(page, flame.draws);
    expect(whole.rootTotal).toBe(docs.spiky.samples.length);
    await page.context().close();
  });

  it('exports the window as CSV, the chart as PNG and the flame graph as speedscope JSON', async () => {
    const page = await newPage();
    await page.goto(`${server.url}/profiles/${ids.spiky}?from=30000&to=40000`);
    const m = await chartFor(page, 30000, 40000);
    const csv = await download(page, () => page.click('button:has-text("CSV")'));
    expect(csv.name).toMatch(/\.csv$/);
    const lines = csv.bytes.toString('utf8').trim().split('\n');
    expect(lines[0]).toBe('start_ms,end_ms,start_iso,count,mean_bytes,min_bytes,max_bytes,sd_bytes,series');
    expect(lines.length).toBe(m.bins.length + 1);
    expect(lines.slice(1).every((l) => l.endsWith(',rss'))).toBe(true);
    const peak = m.bins.reduce((a, b) => (b.max !== null && b.max > a ? b.max : a), 0);
    expect(lines.some((l) => l.split(',')[6] === String(peak))).toBe(true);
    // Each row's spread is its bin's, as the chart draws it.
    expect(lines.slice(1).map((l) => l.split(',')[7])).toEqual(m.bins.map((b) => (b.sd === null ? '' : String(b.sd))));
    expect(m.bins.some((b) => b.sd !== null && b.sd > 0)).toBe(true);

    const png = await download(page, () => page.click('button:has-text("PNG")'));
    expect(png.bytes.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));

    await page.goto(`${server.url}/profiles/${ids.cpu}?tab=cpu`);
    const flame = await flameData(page);
    const ss = await download(page, () => page.click('button:has-text("speedscope")'));
    const json = JSON.parse(ss.bytes.toString('utf8'));
    expect(json.$schema).toBe('https://www.speedscope.app/file-format-schema.json');
    const profile = json.profiles[0];
    expect(profile.type).toBe('sampled');
    expect(profile.weights.reduce((a: number, b: number) => a + b, 0)).toBe(flame.rootTotal);
    expect(json.shared.frames.map((f: { name: string }) => f.name)).toEqual(
      expect.arrayContaining(['build_index', 'quicksort']),
    );
    await page.context().close();
  });
});

describe('CPU view interactions', () => {
  it('tooltips give self and total here and over all calls; orientation, colours and keys are in the URL', async () => {
    const page = await newPage();
    await page.goto(`${server.url}/profiles/${ids.cpu}?tab=cpu`);
    const first = await flameData(page);
    const box = (await page.locator('[data-testid=flame] canvas').boundingBox())!;
    await page.mouse.move(box.x + 40, box.y + 4 * 18 + 9);
    await page.waitForSelector('.flame-tip:not([hidden])');
    const tip = (await page.textContent('.flame-tip'))!;
    for (const key of ['file', 'kind', 'total', 'self', 'all calls']) expect(tip).toContain(key);

    await page.click('button.seg:text-is("flame")');
    const flipped = await flameData(page, first.draws);
    expect(new URL(page.url()).searchParams.get('orient')).toBe('flame');
    await page.click('button.seg:has-text("by file")');
    await flameData(page, flipped.draws);
    expect(new URL(page.url()).searchParams.get('color')).toBe('file');

    // Keys: t / u / f switch the views, Esc steps the flame focus out.
    await page.mouse.click(box.x + 30, box.y + box.height - (3 * 18 + 9));
    await page.waitForFunction(() => window.__profTest.flame!.focus.length === 3);
    await page.keyboard.press('Escape');
    await page.waitForFunction(() => window.__profTest.flame!.focus.length === 2);
    await page.keyboard.press('t');
    await page.waitForSelector('[data-testid=call-tree]');
    await page.keyboard.press('u');
    await page.waitForSelector('[data-testid=function-table]');
    await page.keyboard.press('f');
    await page.waitForSelector('[data-testid=flame]');
    await page.keyboard.press('m');
    await page.waitForFunction(() => new URL(location.href).searchParams.get('tab') === 'memory');
    expect(await page.textContent('[data-testid=no-memory]')).toContain('recorded no memory');
    await page.keyboard.press('?');
    expect(await page.textContent('.help-card')).toContain('reset zoom');
    await page.context().close();
  });

  it('the call tree sorts siblings by total or self', async () => {
    const page = await newPage();
    await page.goto(`${server.url}/profiles/${ids.cpu}?tab=cpu&view=tree`);
    await page.waitForSelector('[data-testid=call-tree] tbody tr');
    const opened = await page.locator('[data-testid=call-tree] tbody tr').count();
    await page.click('button:has-text("Expand all")');
    await page.waitForFunction((n) => document.querySelectorAll('[data-testid=call-tree] tbody tr').length > n, opened);
    const rows = () =>
      page.$$eval('[data-testid=call-tree] tbody tr', (trs) =>
        trs.map((tr) => ({
          depth: Number(tr.getAttribute('data-depth')),
          total: Number(tr.getAttribute('data-total')),
          self: Number(tr.getAttribute('data-self')),
        })),
      );
    const siblingsSorted = (list: { depth: number; total: number; self: number }[], key: 'total' | 'self') => {
      // Among consecutive rows of one parent (same depth, no shallower row between), values do not grow.
      for (let i = 0; i < list.length; i++) {
        for (let j = i + 1; j < list.length && list[j].depth >= list[i].depth; j++) {
          if (list[j].depth === list[i].depth) {
            if (list[j][key] > list[i][key]) return false;
            break;
          }
        }
      }
      return true;
    };
    const byTotal = await rows();
    expect(byTotal.length).toBeGreaterThan(10);
    expect(siblingsSorted(byTotal, 'total')).toBe(true);
    expect(siblingsSorted(byTotal, 'self')).toBe(false);
    await page.click('[data-testid=call-tree] th:has-text("Self")');
    await page.waitForSelector('[data-testid=call-tree] th[aria-sort=descending]:has-text("Self")');
    const bySelf = await rows();
    expect(siblingsSorted(bySelf, 'self')).toBe(true);
    expect(siblingsSorted(bySelf, 'total')).toBe(false);
    await page.context().close();
  });

  it("the function table's callers and callees are @prof/binning's, and lines show where time went", async () => {
    const doc = docs.cpu;
    const page = await newPage();
    await page.goto(`${server.url}/profiles/${ids.cpu}?tab=cpu&view=functions`);
    await page.waitForSelector('[data-testid=function-table] tbody tr');
    await page.click('[data-testid=function-table] tbody tr:has(td.fn:text-is("parse_term"))');
    await page.waitForSelector('[data-testid=function-detail] .neighbours');
    const frame = Number(new URL(page.url()).searchParams.get('fn'));
    expect(doc.strings[doc.frames.name[frame]]).toBe('parse_term');
    const want = functionCalls(doc.stacks, doc.samples.stack, frame, { start: 0, end: doc.samples.length });
    const name = (f: number) => (f < 0 ? '(root of the stack)' : doc.strings[doc.frames.name[f]]);
    const lists = page.locator('[data-testid=function-detail] .neighbours');
    expect(await lists.nth(0).locator('.fn').allTextContents()).toEqual(
      want.callers.slice(0, 50).map((e) => name(e.frame)),
    );
    expect(await lists.nth(1).locator('.fn').allTextContents()).toEqual(
      want.callees.slice(0, 50).map((e) => name(e.frame)),
    );

    // A lines profile: the detail lists executing lines with their share.
    await page.goto(`${server.url}/profiles/${ids.lines}?tab=cpu&view=functions`);
    await page.waitForSelector('[data-testid=function-table] tbody tr');
    await page.click('[data-testid=function-table] tbody tr >> nth=0');
    await page.waitForSelector('[data-testid=lines] tbody tr');
    const lineCells = await page.locator('[data-testid=lines] tbody td.file').allTextContents();
    expect(lineCells.length).toBeGreaterThan(0);
    expect(lineCells.every((c) => /^:\d+$/.test(c))).toBe(true);
    await page.context().close();
  });
});

describe('broken and partial profiles', () => {
  it('says clearly when a stored document cannot be read, and shows the warnings of a truncated file', async () => {
    // Disk damage while the server was down: valid gzip around bytes that are not a Prof document.
    const own = await startServer();
    const id = await upload(own, 'cpu_basic.prof', 'broken', 'corrupted');
    await own.stop();
    writeFileSync(
      join(own.dataDir, 'profiles', `${id}.msgpack.gz`),
      gzipSync(Buffer.from('this is not msgpack at all')),
    );
    const restarted = await startServer({ dataDir: own.dataDir });
    const page = await newPage();
    try {
      await page.goto(`${restarted.url}/profiles/${id}?tab=cpu`);
      await page.waitForSelector('.error');
      expect(await page.textContent('.error')).toContain('could not be read');
    } finally {
      await restarted.close();
    }

    const truncated = await upload(server, '../vmprof/bad/truncated-mid-stack.prof', 'broken', 'truncated');
    await page.goto(`${server.url}/profiles/${truncated}?tab=cpu`);
    await page.waitForSelector('.warn-banner');
    expect(await page.textContent('.warn-banner')).toMatch(/cut short .* at byte \d+/);

    const res = await fetch(`${server.url}/profiles/${truncated}`);
    expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
    await page.context().close();
  });
});
