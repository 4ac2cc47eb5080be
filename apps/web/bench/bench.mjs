#!/usr/bin/env node
// Bench of the web viewer in Chromium on the biggest fixture (not a test: it prints figures, it never
// fails because the machine is slow). A real server on a temporary store, the fixture uploaded over
// HTTP, then per run:
//   memory chart painted  navigation start → first frame after the chart holds the server's bins
//                         (server cache warm right after the upload, and cold after a server restart)
//   zoom redrawn          input event → frame painted with the re-binned window (drag, wheel, reset)
//   flame first paint     navigation start (?tab=cpu) → first frame of the flame graph, drawn from
//                         the server's pruned call tree of the range (no document download)
//   page memory           JS heap of the page's main thread, and how much the renderer processes'
//                         resident set grew over a blank page (the worker lives there too)
// Usage: node bench/bench.mjs [--runs N] [--fixture FILE.prof] [--repeat N]
//   --repeat N  the fixture's stack records written N times (scripts/make-long-profile.mjs): a run N
//               times as long, e.g. 16 for big_memory's 4 minutes → 1.1 hours (kept in the temp dir)
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { parseArgs } from 'node:util';
import { makeLongProfile } from '../../../scripts/make-long-profile.mjs';
import { fixtures, launchBrowser, serverCli, startServer, webRoot } from '../test/harness.mjs';

const { values } = parseArgs({
  args: process.argv.slice(2).filter((a) => a !== '--'), // pnpm passes its `--` through
  options: {
    runs: { type: 'string', default: '3' },
    fixture: { type: 'string' },
    repeat: { type: 'string', default: '1' },
  },
});
const runs = Math.max(1, Number(values.runs) || 3);
const repeat = Math.max(1, Math.floor(Number(values.repeat) || 1));

function biggestFixture() {
  const profs = readdirSync(fixtures).filter((f) => f.endsWith('.prof'));
  profs.sort((a, b) => statSync(join(fixtures, b)).size - statSync(join(fixtures, a)).size);
  return profs[0];
}

const fixture = values.fixture ?? biggestFixture();
const source = join(fixtures, fixture);
const profilePath = repeat === 1 ? source : join(tmpdir(), `${basename(fixture, '.prof')}-x${repeat}.prof`);
if (!existsSync(profilePath)) makeLongProfile({ source, times: repeat, out: profilePath });

/** Uploads the profile as a user would (POST /api/profiles, the raw .prof) and returns its id. */
async function upload(server, path, project, name) {
  const res = await fetch(`${server.url}/api/profiles?${new URLSearchParams({ project, name })}`, {
    method: 'POST',
    body: readFileSync(path),
  });
  if (!res.ok) throw new Error(`upload of ${path} failed: ${res.status} ${await res.text()}`);
  return (await res.json()).id;
}
if (!existsSync(serverCli))
  throw new Error(`${serverCli} is missing: build it with node scripts/pnpm.mjs --filter @prof/server run build`);
if (!existsSync(join(webRoot, 'dist', 'index.html'))) throw new Error('apps/web/dist is missing: run vite build first');

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
async function rendererRss(browser) {
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
async function jsHeap(page) {
  const cdp = await page.context().newCDPSession(page);
  const { usedSize } = await cdp.send('Runtime.getHeapUsage');
  await cdp.detach();
  return usedSize;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];
const mb = (n) => `${(n / 1048576).toFixed(0)} MB`;

async function measureRun(browser, server, id) {
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
  const over = await page.locator('[data-testid=memory-chart] .u-over').boundingBox();
  await page.evaluate(() => {
    const o = document.querySelector('[data-testid=memory-chart] .u-over');
    for (const type of ['mouseup', 'wheel', 'dblclick'])
      o.addEventListener(type, () => (window.__benchInputAt = performance.now()), { capture: true });
  });
  const zooms = [];
  let draws = first.draws;
  const y = over.y + over.height / 2;
  const gestures = [
    async () => {
      await page.mouse.move(over.x + over.width * 0.4, y);
      await page.mouse.down();
      await page.mouse.move(over.x + over.width * 0.45, y, { steps: 4 });
      await page.mouse.move(over.x + over.width * 0.5, y, { steps: 4 });
      await page.mouse.up();
    },
    async () => page.mouse.wheel(0, -120),
    async () => page.mouse.wheel(0, -120),
    async () => page.mouse.wheel(0, 120),
    async () => page.mouse.dblclick(over.x + over.width * 0.5, y),
  ];
  for (const gesture of gestures) {
    await page.mouse.move(over.x + over.width * 0.45, y);
    await gesture();
    const m = await memoryPainted(page, draws);
    draws = m.draws;
    const at = await page.evaluate(() => window.__benchInputAt);
    zooms.push(m.paintedAt - at);
    if (m.bins.length > m.plotWidth) throw new Error(`zoom drew ${m.bins.length} bins on ${m.plotWidth} px`);
  }
  out.zooms = zooms;

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

async function coldMemoryPaint(browser, server, id) {
  const ctx = await browser.newContext({ viewport: { width: 1400, height: 900 }, deviceScaleFactor: 1 });
  const page = await ctx.newPage();
  await page.goto(`${server.url}/profiles/${id}`, { waitUntil: 'commit' });
  const m = await memoryPainted(page);
  await ctx.close();
  return m.paintedAt;
}

const size = statSync(profilePath).size;
console.log(
  `prof web bench: ${fixture}${repeat > 1 ? ` ×${repeat}` : ''} (${mb(size)}), ${runs} runs, headless Chromium, node ${process.version}, ${cpus().length} CPUs, load ${loadavg()[0].toFixed(1)}`,
);
let server = await startServer();
const browser = await launchBrowser();
console.log(`Chromium ${browser.version()}`);
try {
  const t0 = performance.now();
  const id = await upload(server, profilePath, 'bench', basename(profilePath, '.prof'));
  console.log(`upload + server conversion: ${(performance.now() - t0).toFixed(0)} ms`);
  const row = await (await fetch(`${server.url}/api/profiles/${id}`)).json();
  console.log(
    `stored document: ${(row.sizeBytes / 1024).toFixed(0)} KiB gzipped, ${row.sampleCount.toLocaleString('en-US')} samples, ${(row.durationMs / 1000).toFixed(1)} s run`,
  );

  const results = [];
  const cold = [];
  for (let r = 0; r < runs; r++) {
    results.push(await measureRun(browser, server, id));
    // A restart empties the server's decoded-profile cache: the first open then decodes on the server.
    await server.stop();
    server = await startServer({ dataDir: server.dataDir });
    cold.push(await coldMemoryPaint(browser, server, id));
  }

  const row2 = (label, xs, target) => {
    const best = Math.min(...xs);
    const worst = Math.max(...xs);
    const verdict =
      target === undefined
        ? ''
        : best <= target
          ? `  (target ≤ ${target} ms: met)`
          : `  (target ≤ ${target} ms: MISSED)`;
    console.log(
      `${label.padEnd(44)} best ${best.toFixed(0).padStart(5)} ms   median ${median(xs).toFixed(0).padStart(5)} ms   spread ${(worst - best).toFixed(0).padStart(4)} ms${verdict}`,
    );
  };
  console.log('');
  row2(
    'navigation → memory chart painted (warm)',
    results.map((r) => r.memoryPainted),
    1000,
  );
  row2('navigation → memory chart painted (cold)', cold, 1000);
  const allZooms = results.flatMap((r) => r.zooms);
  row2('zoom → re-binned chart redrawn (each)', allZooms, 150);
  row2(
    'zoom → re-binned chart redrawn (median/run)',
    results.map((r) => median(r.zooms)),
    150,
  );
  row2(
    'navigation → flame graph first paint',
    results.map((r) => r.flamePainted),
    1000,
  );
  row2(
    'memory view → CPU tab → flame painted',
    results.map((r) => r.tabSwitch),
  );
  console.log(
    `\nbins drawn ${results[0].bins} on a plot ${results[0].plotWidth} px wide; flame boxes drawn ${results[0].flameNodes}`,
  );
  const heaps = results.map((r) => r.heap);
  const rss = results.map((r) => r.rss);
  console.log(
    `page memory after memory view + CPU tab: JS heap ${mb(Math.min(...heaps))}–${mb(Math.max(...heaps))}, renderer RSS over a blank page (page + worker) +${mb(Math.min(...rss))}–${mb(Math.max(...rss))}`,
  );
  const fheaps = results.map((r) => r.flameHeap);
  const frss = results.map((r) => r.flameRss);
  console.log(
    `page memory on the flame graph alone:     JS heap ${mb(Math.min(...fheaps))}–${mb(Math.max(...fheaps))}, renderer RSS over a blank page (page + worker) +${mb(Math.min(...frss))}–${mb(Math.max(...frss))}`,
  );
} finally {
  await browser.close();
  await server.close();
}
