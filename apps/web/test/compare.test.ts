// The comparison page end to end: two real vmprof profiles written here by Debian's pypy3 (`_vmprof`
// is built in) from one script, the target run calling one more slow function and keeping more
// memory; uploaded to a real server and compared in real Chromium from the landing page.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, startServer, type Server } from './harness.mjs';
import { newPage } from './pageHelpers';

const run = promisify(execFile);
const EXTRA = 'prof_extra_slow';

// One file for both runs, so the functions they share have the same file and first line.
const SCRIPT = [
  'import _vmprof, os, sys, time',
  // PyPy's JIT would inline the workload's calls into prof_middle's loop, leaving the extra function a
  // few samples at most (none on a loaded machine): without it, every call is a frame of its own.
  'import pypyjit',
  "pypyjit.set_param('off')",
  'def prof_leaf(n):',
  '    s = 0',
  '    for i in range(n):',
  '        s += i * i % 7',
  '    return s',
  `def ${EXTRA}(n):`,
  '    s = 0',
  '    for i in range(n):',
  '        s += (i * 31) % 13',
  '    return s',
  'def prof_middle(rounds, extra):',
  '    keep = []',
  '    t = 0',
  '    for r in range(rounds):',
  '        keep.append(bytearray((3 if extra else 1) << 20))',
  '        t += prof_leaf(20000)',
  `        if extra: t += ${EXTRA}(40000)`,
  '    return t',
  "extra = sys.argv[2] == 'extra'",
  // The target also holds 384 MB (written, so resident) for its whole run: both runs allocate as much
  // garbage per CPU second, and how much of it the GC leaves resident varies by ~150 MB.
  "held = b'x' * (384 << 20) if extra else b''",
  'fd = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)',
  '_vmprof.enable(fd, 0.001, True, False, False, False)  # fileno, period, memory, lines, native, real_time',
  // CPU time, not wall time: vmprof samples CPU time, so a loaded machine gives the same samples.
  'end = time.process_time() + 1.2',
  'while time.process_time() < end:',
  '    prof_middle(40, extra)',
  '_vmprof.disable()',
  'os.close(fd)',
].join('\n');

let server: Server;
let browser: Browser;
let dir: string;
const ids: Record<'base' | 'target', string> = { base: '', target: '' };

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'prof-web-compare-'));
  writeFileSync(join(dir, 'work.py'), SCRIPT);
  const record = (side: 'base' | 'target') =>
    run('pypy3', [join(dir, 'work.py'), join(dir, `${side}.prof`), side === 'target' ? 'extra' : 'plain'], {
      timeout: 60_000,
    });
  // One after the other: the target must start later, as the next run of a job does.
  const recorded = record('base').then(() => record('target'));
  [server, browser] = await Promise.all([startServer(), launchBrowser(), recorded]);
  for (const side of ['base', 'target'] as const) {
    // One function name for both runs (as two nightly runs of one job), told apart by a tag.
    const res = await fetch(`${server.url}/api/profiles?project=compare&name=work&tag=run=${side}`, {
      method: 'POST',
      body: readFileSync(join(dir, `${side}.prof`)),
    });
    if (!res.ok) throw new Error(`upload of ${side} failed: ${res.status} ${await res.text()}`);
    ids[side] = ((await res.json()) as { id: string }).id;
  }
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function flame(page: Page, afterDraws = 0) {
  await page.waitForFunction((n) => (window.__profTest?.compareFlame?.draws ?? 0) > n, afterDraws, {
    timeout: 30_000,
  });
  return page.evaluate(() => window.__profTest.compareFlame!);
}

/** Waits for the flame frame drawn from a tree with these root totals (each side's samples or bytes). */
async function waitForTotals(page: Page, totals: { base: number; target: number }): Promise<void> {
  await page.waitForFunction(
    (t) => {
      const f = window.__profTest?.compareFlame;
      return f?.totals.base === t.base && f?.totals.target === t.target;
    },
    totals,
    { timeout: 30_000 },
  );
}

/** The RGB of the flame canvas at a CSS pixel. */
async function pixel(page: Page, x: number, y: number): Promise<number[]> {
  return page.evaluate(
    ([px, py]) => {
      const cv = document.querySelector('[data-testid=diff-flame] canvas') as HTMLCanvasElement;
      const dpr = cv.width / cv.clientWidth;
      return [...cv.getContext('2d')!.getImageData(Math.floor(px * dpr), Math.floor(py * dpr), 1, 1).data];
    },
    [x, y],
  );
}

describe('comparing two runs', () => {
  it('from two ticked rows: the extra function is added and red, memory shows both runs and the difference', async () => {
    const page = await newPage(browser);
    await page.goto(`${server.url}/`);
    await page.waitForSelector('[data-testid=profile-table] tbody tr');
    // Newest first: tick the base (older) first, so it is the comparison's base.
    const rows = page.locator('[data-testid=profile-table] tbody tr');
    await rows.filter({ hasText: 'run=base' }).locator('[data-testid=pick]').check();
    await rows.filter({ hasText: 'run=target' }).locator('[data-testid=pick]').check();
    await page.click('[data-testid=compare-picked]');
    await page.waitForURL(`**/compare/${ids.base}/${ids.target}`);

    const drawn = await flame(page);
    const extra = drawn.boxes.filter((b) => b.name === EXTRA);
    expect(extra.length).toBeGreaterThan(0);
    const widest = extra.reduce((a, b) => (b.w > a.w ? b : a));
    expect(widest.added).toBe(true);
    expect(widest.fill).toMatch(/^hsl\(0 /);
    expect(widest.w).toBeGreaterThan(4);
    // The box's top row: the label (11 px, centred in the 18 px row) never reaches it.
    const [r, g, b] = await pixel(page, widest.x + widest.w / 2, widest.y + 1);
    expect(r - Math.max(g, b), `pixel ${[r, g, b]}`).toBeGreaterThan(60);
    // Shared functions are not marked added.
    expect(drawn.boxes.find((x) => x.name === 'prof_leaf')?.added).toBe(false);
    await expect(page.locator('[data-testid=diff-legend]').textContent()).resolves.toMatch(/faster.*slower/);

    await page.waitForFunction(() => (window.__profTest?.compareMemory?.draws ?? 0) > 0, null, { timeout: 30_000 });
    const mem = await page.evaluate(() => window.__profTest.compareMemory!);
    expect(mem.series).toEqual(['base mean', 'base max', 'target mean', 'target max', 'target − base (mean)']);
    expect(mem.withDelta).toBeGreaterThan(0);
    const legend = await page.locator('[data-testid=compare-memory] .u-legend').textContent();
    for (const label of mem.series) expect(legend).toContain(label);
    // The target holds 384 MB more for its whole run: its peak is higher.
    const api = await (
      await fetch(`${server.url}/api/compare/memory?base=${ids.base}&target=${ids.target}&bins=1`)
    ).json();
    expect(api.bins[0].target.max).toBeGreaterThan(api.bins[0].base.max);
  });

  it("opens from a profile page as a comparison with the function's previous run", async () => {
    const page = await newPage(browser);
    await page.goto(`${server.url}/profiles/${ids.target}`);
    await page.click('[data-testid=compare-previous]');
    await page.waitForURL(`**/compare/${ids.base}/${ids.target}`);
    expect((await flame(page)).boxes.some((b) => b.name === EXTRA && b.added)).toBe(true);
    // The first run has no previous one.
    const first = await newPage(browser);
    await first.goto(`${server.url}/profiles/${ids.base}`);
    await first.waitForFunction((id) => window.__profTest?.previousRun?.of === id, ids.base, { timeout: 30_000 });
    expect(await first.evaluate(() => window.__profTest.previousRun!.previous)).toBeNull();
    expect(await first.locator('[data-testid=compare-previous]').count()).toBe(0);
  });

  it('keeps the view in the URL: functions sorted by change, restored in a new page', async () => {
    const page = await newPage(browser);
    await page.goto(`${server.url}/compare/${ids.base}/${ids.target}`);
    await flame(page);
    await page.click('[data-testid=compare-page] button:has-text("functions")');
    await page.click('[data-testid=compare-page] button:has-text("samples")');
    await page.waitForSelector('[data-testid=diff-table]');
    await page.click('[data-testid=diff-table] th[data-sort=dself]');
    await page.waitForFunction(() => window.__profTest.compareTable?.sort === 'dself:desc');
    const href = page.url();
    expect(new URL(href).searchParams.get('view')).toBe('table');
    expect(new URL(href).searchParams.get('mode')).toBe('abs');
    expect(new URL(href).searchParams.get('sort')).toBe('dself');

    const again = await newPage(browser);
    await again.goto(href);
    await again.waitForFunction(() => window.__profTest?.compareTable?.sort === 'dself:desc', null, {
      timeout: 30_000,
    });
    const table = await again.evaluate(() => window.__profTest.compareTable!);
    const extraRow = table.rows.find((r) => r.name === EXTRA);
    expect(extraRow).toEqual({ name: EXTRA, added: true, removed: false });
    await expect(again.locator('[data-testid=diff-table] tr.added .badge.added').first().textContent()).resolves.toBe(
      'added',
    );
    expect(await again.locator('[data-testid=compare-page] button.seg.on').allTextContents()).toEqual([
      'functions',
      'CPU time',
      'samples',
      'time since start',
    ]);
    // Largest change of self samples first, as the header says.
    const selfChanges = await again.locator('[data-testid=diff-table] tbody tr td:nth-child(7)').allTextContents();
    const values = selfChanges.map((t) => Math.abs(Number(t.replace(/[^\d]/g, ''))));
    expect(values).toEqual([...values].sort((a, b) => b - a));
  });

  it('compares two ranges of one profile, set in the page and kept in the URL', async () => {
    const page = await newPage(browser);
    await page.goto(`${server.url}/compare/${ids.target}/${ids.target}`);
    const whole = await flame(page);
    expect(whole.boxes.every((b) => b.change === 0)).toBe(true);
    await page.fill('[data-testid=range-form] input[name=baseTo]', '0.5');
    await page.fill('[data-testid=range-form] input[name=targetFrom]', '0.6');
    await page.click('[data-testid=range-form] button[type=submit]');
    await page.waitForURL(/baseTo=500&targetFrom=600|targetFrom=600&baseTo=500/);
    const api = await (
      await fetch(`${server.url}/api/compare/tree?base=${ids.target}&target=${ids.target}&baseTo=500&targetFrom=600`)
    ).json();
    // The frame drawn from the ranges' answer, not a redraw of the whole runs that came before it.
    await waitForTotals(page, { base: api.base.samples, target: api.target.samples });
    const ranged = await flame(page, whole.draws);
    expect([api.base.to, api.target.from]).toEqual([500, 600]);
    expect(ranged.totals).toEqual({ base: api.base.samples, target: api.target.samples });
    expect(ranged.totals.base).toBeLessThan(whole.totals.base);
    expect(ranged.totals.target).toBeLessThan(whole.totals.target);
    await expect(page.locator('[data-testid=side-base]').textContent()).resolves.toContain('range start–500 ms');
    const again = await newPage(browser);
    await again.goto(page.url());
    await flame(again);
    expect(await again.inputValue('[data-testid=range-form] input[name=targetFrom]')).toBe('0.6');
  });

  it('a drag on the memory chart picks the same moment of both runs; memory growth is a measure too', async () => {
    const page = await newPage(browser);
    await page.goto(`${server.url}/compare/${ids.base}/${ids.target}`);
    const whole = await flame(page);
    await page.waitForFunction(() => (window.__profTest?.compareMemory?.draws ?? 0) > 0, null, { timeout: 30_000 });
    const box = (await page.locator('[data-testid=compare-memory] .u-over').boundingBox())!;
    await page.mouse.move(box.x + box.width * 0.2, box.y + box.height / 2);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * 0.6, box.y + box.height / 2, { steps: 5 });
    await page.mouse.up();
    await page.waitForURL(/targetTo=/);
    const q = new URL(page.url()).searchParams;
    const [bf, bt, tf, tt] = ['baseFrom', 'baseTo', 'targetFrom', 'targetTo'].map((k) => Number(q.get(k)));
    expect([bf, bt]).toEqual([tf, tt]);
    expect(bf).toBeGreaterThan(0);
    expect(bt).toBeGreaterThan(bf);
    const moment = await (
      await fetch(
        `${server.url}/api/compare/tree?base=${ids.base}&target=${ids.target}&baseFrom=${bf}&baseTo=${bt}&targetFrom=${tf}&targetTo=${tt}`,
      )
    ).json();
    // The frame drawn from the ranges' answer, not a redraw of the whole runs that came before it.
    await waitForTotals(page, { base: moment.nodes[0].base.total, target: moment.nodes[0].target.total });
    const ranged = await flame(page, whole.draws);
    expect(ranged.totals.target).toBeLessThan(whole.totals.target);
    // Whose memory growth differs in that moment: the page lists the server's top paths in its order.
    const stacks = await (
      await fetch(
        `${server.url}/api/compare/stacks?base=${ids.base}&target=${ids.target}&baseFrom=${bf}&baseTo=${bt}&targetFrom=${tf}&targetTo=${tt}&weight=growth&top=10`,
      )
    ).json();
    const rowsShown = page.locator('[data-testid=growth-stacks] tbody tr');
    await rowsShown.first().waitFor({ timeout: 30_000 });
    expect(await rowsShown.count()).toBe(stacks.stacks.length);
    await expect(rowsShown.first().locator('.fn-name').textContent()).resolves.toBe(
      stacks.stacks[0].stack.at(-1).name || '<anonymous>',
    );

    await page.click('[data-testid=compare-page] button:has-text("memory growth")');
    await page.waitForURL(/by=growth/);
    const api = await (
      await fetch(
        `${server.url}/api/compare/tree?base=${ids.base}&target=${ids.target}&baseFrom=${bf}&baseTo=${bt}&targetFrom=${tf}&targetTo=${tt}&weight=growth`,
      )
    ).json();
    expect(api.unit).toBe('bytes');
    // The page draws the growth tree once it has it: wait for that drawing, not for any redraw.
    await waitForTotals(page, { base: api.nodes[0].base.total, target: api.nodes[0].target.total });
    const grown = await flame(page);
    expect(grown.boxes[0].w).toBeGreaterThan(0);
    expect(grown.totals.target).toBeGreaterThan(0);
  });

  it('shows the differential call tree opened along the biggest change, and memory on the clock', async () => {
    const page = await newPage(browser);
    await page.goto(`${server.url}/compare/${ids.base}/${ids.target}?view=tree`);
    await page.waitForFunction(() => (window.__profTest?.compareTree?.draws ?? 0) > 0, null, { timeout: 30_000 });
    const tree = await page.evaluate(() => window.__profTest.compareTree!);
    const extra = tree.rows.find((r) => r.name === EXTRA);
    expect(extra, JSON.stringify(tree.rows.slice(0, 20))).toMatchObject({ added: true });
    expect(tree.rows.find((r) => r.name === 'prof_leaf')?.added).toBe(false);
    await expect(
      page.locator('[data-testid=diff-tree] tr.added', { hasText: EXTRA }).locator('td.slower').count(),
    ).resolves.toBeGreaterThan(0);

    // Memory by clock time: both runs where they were on the clock, the target after the base.
    await page.waitForFunction(() => (window.__profTest?.compareMemory?.draws ?? 0) > 0, null, { timeout: 30_000 });
    const runtimeDraws = await page.evaluate(() => window.__profTest.compareMemory!.draws);
    await page.click('[data-testid=compare-page] button:has-text("clock time")');
    await page.waitForURL(/align=clock/);
    await page.waitForFunction(
      (n) => (window.__profTest?.compareMemory?.draws ?? 0) > n && window.__profTest.compareMemory!.axis === 'date',
      runtimeDraws,
      { timeout: 30_000 },
    );
    expect(await page.evaluate(() => window.__profTest.compareMemory!.xAxisText)).toMatch(/\d\d:\d\d:\d\d/);
    const api = await (
      await fetch(`${server.url}/api/compare/memory?base=${ids.base}&target=${ids.target}&bins=400&align=clock`)
    ).json();
    expect(api.offsets.target).toBeGreaterThan(api.offsets.base);
    // The target started after the base ended: its first memory bin comes after the base's last.
    const first = (side: 'base' | 'target') => api.bins.findIndex((b: any) => b[side].count > 0);
    const last = (side: 'base' | 'target') => api.bins.findLastIndex((b: any) => b[side].count > 0);
    expect(first('target')).toBeGreaterThanOrEqual(last('base'));

    const again = await newPage(browser);
    await again.goto(page.url());
    await again.waitForFunction(() => window.__profTest?.compareMemory?.axis === 'date', null, { timeout: 30_000 });
    await again.waitForSelector('[data-testid=diff-tree]');
    expect(await again.locator('[data-testid=compare-page] button.seg.on').allTextContents()).toEqual([
      'call tree',
      'CPU time',
      'share of each run',
      'clock time',
    ]);
  });
});
