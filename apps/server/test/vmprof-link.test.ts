// The link the vmprof client prints, `<base>/#/<runtime id>`, opened in real Chromium with the real
// web app: the fragment never reaches the server, so the page at / must route it to /profiles/:id.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { DEFAULT_WEB_ROOT } from '../src/index';
import { fixtures, startServer, waitForProfile, type Running } from './helpers';
import { rawRequest } from './raw-http';

const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** The part of the web app's test hook this file reads. */
interface LinkHook {
  __profTest?: { linksChecked?: { hash: string } };
}

let r: Running;
let browser: Browser;
beforeAll(async () => {
  // Missing parts fail the suite (npm test installs Chromium and builds the web app); never a skip.
  if (!existsSync(join(DEFAULT_WEB_ROOT, 'index.html')))
    throw new Error(`the web app is not built (${DEFAULT_WEB_ROOT}): run npm test or build @prof/web`);
  if (!existsSync(chromiumPath)) throw new Error(`no Chromium at ${chromiumPath} (apt-get install chromium)`);
  r = await startServer({ webRoot: DEFAULT_WEB_ROOT });
  browser = await chromium.launch({ executablePath: chromiumPath, args: ['--no-sandbox', '--disable-gpu'] });
});
afterAll(async () => {
  await browser?.close();
  await r?.stop();
});

it('the printed #/<rid> link opens the profile page, under the strict CSP', async () => {
  const headers: [string, string][] = [
    ['Host', 'x'],
    ['User-Agent', 'python-requests/2.34.2'],
    ['Accept-Encoding', 'gzip, deflate'],
    ['Accept', '*/*'],
    ['Connection', 'keep-alive'],
  ];
  const meta = Buffer.from(JSON.stringify({ argv: 'job.py', VM: 'CPython' }));
  const created = await rawRequest(
    r.url,
    'POST',
    '/api/runtime/new',
    [...headers, ['Content-Type', 'application/json'], ['Content-Length', String(meta.length)]],
    meta,
  );
  const rid = JSON.parse(created.body.toString()).runtime_id;
  const prof = await readFile(join(fixtures, 'vmprof-fresh/cpu_basic.prof'));
  await rawRequest(
    r.url,
    'POST',
    `/api/runtime/upload/cpu/${rid}/add`,
    [...headers, ['Content-Disposition', 'attachment; filename=/tmp/x'], ['Content-Length', String(prof.length)]],
    prof,
  );
  await waitForProfile(r.url, rid);

  const page = await browser.newPage();
  const violations: string[] = [];
  page.on('console', (m) => /Content Security Policy/i.test(m.text()) && violations.push(m.text()));
  await page.goto(`${r.url}/#/${rid}`);
  await page.waitForURL(`${r.url}/profiles/${rid}`, { timeout: 15_000 });
  expect(new URL(page.url()).pathname).toBe(`/profiles/${rid}`);
  // 0.4.0 and 0.4.1 print the link without the slash; a PyPy JIT log link ends in /traces
  for (const link of [`/#${rid}`, `/#/${rid}/traces`]) {
    await page.goto(`${r.url}/profiles/${rid}?tab=memory`); // a different page first, so the next goto loads /
    await page.goto(`${r.url}${link}`);
    await page.waitForURL(`${r.url}/profiles/${rid}`, { timeout: 15_000 });
  }
  expect(violations).toEqual([]);
  await page.close();
});

it('fragments that are no profile id leave the landing page alone', async () => {
  const page = await browser.newPage();
  for (const hash of [
    '#projects',
    `#/${'a'.repeat(23)}`,
    `#/${'A'.repeat(24)}`,
    '#/../../etc/passwd',
    `#${'a'.repeat(24)}x`,
  ]) {
    await page.goto(`${r.url}/${hash}`);
    await page.waitForSelector('.landing');
    // The page's own check of this fragment has run (a redirect would have been issued by it).
    await page.waitForFunction((h) => (window as unknown as LinkHook).__profTest?.linksChecked?.hash === h, hash);
    expect(new URL(page.url()).pathname).toBe('/');
    expect(await page.locator('.landing').count()).toBe(1);
  }
  await page.close();
});
