// What the web bench measures in Chromium, one page at a time against a running Prof server (only its
// URL is used): navigation → memory chart painted, zooms → re-binned frame, CPU tab → flame graph,
// navigation straight to the flame graph, and the page's memory. Used by bench.mjs and by the whole
// long-profile bench (bench/long.mjs at the root). Times come from the page's own test hook
// (window.__profTest: the frame after the data is drawn) against the input event's time.
import { readFileSync } from 'node:fs';

/** Waits for the chart to hold data newer than `after` draws, then returns its hook. */
async function memoryPainted(page, after = 0) {
  await page.waitForFunction((n) => (window.__profTest?.memory?.draws ?? 0) > n, after, {
    timeout: 60_000,
    polling: 10,
  });
  return page.evaluate(() => window.__profTest.memory);
}

/**
 * Resident set of this browser's renderer processes (the page and its worker), in bytes: Chromium
 * lists its own processes (SystemInfo.getProcessInfo), /proc gives their RSS. Other Chromiums on
 * the machine (other test runs) are not counted.
 */
export async function rendererRss(browser) {
  const cdp = await browser.newBrowserCDPSession();
  const { processInfo } = await cdp.send('SystemInfo.getProcessInfo');
  await cdp.detach();
  let total = 0;
  for (const p of processInfo.filter((p) => p.type === 'renderer')) {
    try {
      const rss = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${p.id}/status`, 'utf8'));
      if (rss) total += Number(rss[1]) * 1024;
    } catch {
      /* the process ended meanwhile */
    }
  }
  return total;
}

/** JS heap in use by the page's main thread (the worker's heap shows in the renderer's RSS). */
export async function jsHeap(page) {
  const cdp = await page.context().newCDPSession(page);
  const { usedSize } = await cdp.send('Runtime.getHeapUsage');
  await cdp.detach();
  return usedSize;
}

/**
 * The zoom gestures on the open memory chart (its frame `draws` painted): a drag, three wheel notches, a
 * reset. Each: from the input event to the frame painted with the re-binned window (`ms`), and from the
 * same event, when its /memory request was sent and answered (the page's Resource Timing).
 */
export async function zoomGestures(page, draws) {
  const over = await page.locator('[data-testid=memory-chart] .u-over').boundingBox();
  await page.evaluate(() => {
    const o = document.querySelector('[data-testid=memory-chart] .u-over');
    for (const type of ['mouseup', 'wheel', 'dblclick'])
      o.addEventListener(type, () => (window.__benchInputAt = performance.now()), { capture: true });
  });
  const zooms = [];
  const y = over.y + over.height / 2;
  const gestures = [
    [
      'drag',
      async () => {
        await page.mouse.move(over.x + over.width * 0.4, y);
        await page.mouse.down();
        await page.mouse.move(over.x + over.width * 0.45, y, { steps: 4 });
        await page.mouse.move(over.x + over.width * 0.5, y, { steps: 4 });
        await page.mouse.up();
      },
    ],
    ['wheel', async () => page.mouse.wheel(0, -120)],
    ['wheel', async () => page.mouse.wheel(0, -120)],
    ['wheel', async () => page.mouse.wheel(0, 120)],
    ['reset', async () => page.mouse.dblclick(over.x + over.width * 0.5, y)],
  ];
  for (const [name, gesture] of gestures) {
    await page.mouse.move(over.x + over.width * 0.45, y);
    await gesture();
    const m = await memoryPainted(page, draws);
    draws = m.draws;
    const t = await page.evaluate(() => {
      const at = window.__benchInputAt;
      const r = performance
        .getEntriesByType('resource')
        .filter((e) => e.name.includes('/memory') && e.startTime >= at)
        .at(-1);
      return {
        at,
        asked: r ? r.fetchStart - at : Number.NaN,
        sent: r ? r.requestStart - at : Number.NaN,
        received: r ? r.responseStart - at : Number.NaN,
        answered: r ? r.responseEnd - at : Number.NaN,
        bytes: r?.encodedBodySize ?? 0,
      };
    });
    zooms.push({
      gesture: name,
      ms: m.paintedAt - t.at,
      asked: t.asked,
      sent: t.sent,
      received: t.received,
      answered: t.answered,
      bytes: t.bytes,
      bins: m.bins.length,
    });
    if (m.bins.length > m.plotWidth) throw new Error(`zoom drew ${m.bins.length} bins on ${m.plotWidth} px`);
  }
  return zooms;
}

/** A fresh page on the memory chart, then `zoomGestures`; the page is closed after. */
export async function zoomRun(browser, server, id) {
  const ctx = await browser.newContext({ viewport: { width: 1400, height: 900 }, deviceScaleFactor: 1 });
  const page = await ctx.newPage();
  page.on('pageerror', (e) => console.error('page error:', e.message));
  await page.goto(`${server.url}/profiles/${id}`, { waitUntil: 'commit' });
  const first = await memoryPainted(page);
  try {
    return await zoomGestures(page, first.draws);
  } finally {
    await ctx.close();
  }
}

export async function measureRun(browser, server, id) {
  const ctx = await browser.newContext({ viewport: { width: 1400, height: 900 }, deviceScaleFactor: 1 });
  const page = await ctx.newPage();
  page.on('pageerror', (e) => console.error('page error:', e.message));
  const out = {};
  // Renderer memory is reported as growth over the same browser showing a blank page.
  await page.goto('about:blank');
  const blankRss = await rendererRss(browser);

  // 1. navigation → memory chart painted.
  await page.goto(`${server.url}/profiles/${id}`, { waitUntil: 'commit' });
  const first = await memoryPainted(page);
  out.memoryPainted = first.paintedAt;
  out.bins = first.bins.length;
  out.plotWidth = first.plotWidth;

  // 2. zooms: a drag, three wheel notches, a reset; each from the input event to the re-binned frame.
  const zooms = await zoomGestures(page, first.draws);
  out.zooms = zooms.map((z) => z.ms);
  // Each zoom's /memory request (sent → answered) and the rest: what the page itself took.
  out.zoomRequests = zooms.map((z) => z.answered - z.sent);
  out.zoomPage = zooms.map((z) => z.ms - (z.answered - z.sent));

  // 3. switching to the CPU tab of the open page (document already loading in the worker).
  await page.evaluate(() => (window.__benchInputAt = performance.now()));
  await page.keyboard.press('c');
  await page.waitForFunction(() => (window.__profTest?.flame?.draws ?? 0) > 0, undefined, {
    timeout: 120_000,
    polling: 10,
  });
  out.tabSwitch = await page.evaluate(() => window.__profTest.flame.paintedAt - window.__benchInputAt);
  out.heap = await jsHeap(page);
  out.rss = (await rendererRss(browser)) - blankRss;
  await ctx.close();

  // 4. a fresh navigation straight to the flame graph.
  const ctx2 = await browser.newContext({ viewport: { width: 1400, height: 900 }, deviceScaleFactor: 1 });
  const page2 = await ctx2.newPage();
  await page2.goto('about:blank');
  const blankRss2 = await rendererRss(browser);
  await page2.goto(`${server.url}/profiles/${id}?tab=cpu`, { waitUntil: 'commit' });
  await page2.waitForFunction(() => (window.__profTest?.flame?.draws ?? 0) > 0, undefined, {
    timeout: 120_000,
    polling: 10,
  });
  const flame = await page2.evaluate(() => window.__profTest.flame);
  out.flamePainted = flame.paintedAt;
  out.flameNodes = flame.nodes;
  out.flameHeap = await jsHeap(page2);
  out.flameRss = (await rendererRss(browser)) - blankRss2;
  await ctx2.close();
  return out;
}

export async function coldMemoryPaint(browser, server, id) {
  const ctx = await browser.newContext({ viewport: { width: 1400, height: 900 }, deviceScaleFactor: 1 });
  const page = await ctx.newPage();
  await page.goto(`${server.url}/profiles/${id}`, { waitUntil: 'commit' });
  const m = await memoryPainted(page);
  await ctx.close();
  return m.paintedAt;
}
