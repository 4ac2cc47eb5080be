// Issue 11 §4: text at the upload limits (a 500-character project and name, 100 tags of 1,000
// characters, a 10 KB argv) is clipped with an ellipsis and shown whole on hover; no page grows wider
// than the window. Real server, real upload, real Chromium.
import { readProfileFile } from '@prof/format/node';
import { gzipDocument } from '@prof/format/node';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixtures, launchBrowser, startServer, type Server } from './harness.mjs';
import { newPage } from './pageHelpers';

let server: Server;
let browser: Browser;
let id: string;
const project = `p${'r'.repeat(498)}x`;
const name = `n${'m'.repeat(498)}y`;

beforeAll(async () => {
  [server, browser] = await Promise.all([startServer(), launchBrowser()]);
  const doc = await readProfileFile(join(fixtures, 'memory_spiky.prof'));
  doc.meta.project = project;
  doc.meta.name = name;
  doc.meta.tags = Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`tag${i}`, 'v'.repeat(1000)]));
  doc.meta.argv = ['python', 'x'.repeat(10_000)];
  doc.meta.host = 'h'.repeat(255);
  const res = await fetch(`${server.url}/api/profiles`, {
    method: 'POST',
    body: new Uint8Array(await gzipDocument(doc)),
  });
  expect(res.status).toBe(201);
  id = (await res.json()).id;
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

const widths = () => ({ page: document.documentElement.scrollWidth, window: window.innerWidth });

describe('long text', () => {
  it('the landing page stays as wide as the window; names end in an ellipsis, titles hold them whole', async () => {
    const page = await newPage(browser);
    await page.goto(server.url);
    await page.locator('[data-testid=profile-table]').waitFor({ timeout: 30_000 });
    const { page: width, window: inner } = await page.evaluate(widths);
    expect(width).toBeLessThanOrEqual(inner);
    const projectButton = page.locator('.project-name');
    expect(await projectButton.getAttribute('title')).toBe(project);
    const box = (await projectButton.boundingBox())!;
    expect(box.width).toBeLessThan(inner);
    expect(await page.locator('.profile-table .fn-name').getAttribute('title')).toBe(name);
    await page.close();
  });

  it('the profile page: clipped name, host and tags, argv in three lines with the whole on hover', async () => {
    const page = await newPage(browser);
    await page.goto(`${server.url}/profiles/${id}`);
    const argv = page.locator('.argv');
    await argv.waitFor({ timeout: 30_000 });
    const { page: width, window: inner } = await page.evaluate(widths);
    expect(width).toBeLessThanOrEqual(inner);
    expect(await page.locator('h1 .fn-name').getAttribute('title')).toBe(name);
    expect((await argv.getAttribute('title'))?.length).toBe(10_007);
    expect((await argv.boundingBox())!.height).toBeLessThan(80);
    expect((await page.locator('h1').boundingBox())!.height).toBeLessThan(60);
    await page.close();
  });
});
