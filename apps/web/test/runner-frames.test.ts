// Runner frames (`python -m vmprof`'s runpy and CLI frames) are hidden at the root of the flame graph
// by default, as vmprof's own tree does, with a switch to show them; a source with no recorded time
// says its duration is unknown. Real server, real fixture, real Chromium.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { fixturesDir } from '../../../scripts/fixtures.mjs';
import { launchBrowser, startServer, upload, type Server } from './harness.mjs';
import { flameData, newPage } from './pageHelpers';

let server: Server;
let browser: Browser;
beforeAll(async () => {
  [server, browser] = await Promise.all([startServer(), launchBrowser()]);
});
afterAll(async () => {
  await browser?.close();
  await server?.close();
});

it('the flame graph starts at the script, and the switch brings the runner frames back', async () => {
  const id = await upload(server, 'cpu_basic.prof', 'runner', 'cli-run');
  const page = await newPage(browser);
  await page.goto(`${server.url}/profiles/${id}?tab=cpu`);
  const hidden = await flameData(page);
  expect(hidden.rootTotal).toBe(1508);
  expect(hidden.roots).toContain('<module>');
  expect(hidden.roots).not.toContain('_run_module_as_main');
  await page.check('[data-testid=runner-toggle]');
  const shown = await flameData(page, hidden.draws);
  expect(shown.rootTotal).toBe(1508);
  expect(shown.roots).toEqual(['_run_module_as_main']);
  expect(new URL(page.url()).searchParams.get('runner')).toBe('1');
  await page.context().close();
});

it('a profile with no recorded time (folded stacks) shows "duration unknown" and "start unknown"', async () => {
  const res = await fetch(`${server.url}/api/profiles?project=folded`, {
    method: 'POST',
    body: readFileSync(join(fixturesDir, 'pyspy', 'cpu_work.raw.txt')),
  });
  const { id } = (await res.json()) as { id: string };
  const page = await newPage(browser);
  await page.goto(`${server.url}/profiles/${id}?tab=cpu`);
  await flameData(page);
  expect(await page.textContent('[data-testid=duration]')).toBe('duration unknown');
  expect(await page.textContent('[data-testid=started]')).toBe('start unknown');
  await page.context().close();
});
