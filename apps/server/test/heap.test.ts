// The V8 heap series of Node profiles: a real program recorded by `prof run` (our client's CLI),
// uploaded to a real server, then binned and ranked over HTTP. Expected values come from
// @prof/binning run here on the document the server stored.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { analyzeStacks, binRows, buildMemorySummary, queryBins } from '@prof/binning';
import { gunzipDocument, gzipDocument, readProfileFile, type ProfileDocument } from '@prof/format/node';
import { fixtures, json, repoRoot, startServer, storedBytes, type Running } from './helpers';

const execFileAsync = promisify(execFile);
const clientCli = join(repoRoot, 'packages/client/dist/cli.js');

// Keeps arrays (the heap climbs in steps) and builds short-lived strings in between (churn).
const PROGRAM = `
const keep = [];
function grow(n) { for (let i = 0; i < n; i++) keep.push(new Array(2000).fill(i)); }
function churn() { let t = 0; for (let i = 0; i < 3000; i++) t += ('x' + i).repeat(20).length; return t; }
const end = Date.now() + 1200;
while (Date.now() < end) { grow(100); churn(); }
console.log(keep.length);
`;

let r: Running;
let dir: string;
let id: string;
let doc: ProfileDocument;
let spikyId: string;
let spikyZone: string | null;
let cpuId: string;

async function get(path: string): Promise<{ status: number; body: any }> {
  const response = await fetch(`${r.url}${path}`);
  return { status: response.status, body: await json(response) };
}

beforeAll(async () => {
  if (!existsSync(clientCli)) {
    execFileSync(
      process.execPath,
      [join(repoRoot, 'scripts/pnpm.mjs'), '--filter', '@prof/client...', 'run', 'build'],
      { cwd: repoRoot, stdio: 'inherit' },
    );
  }
  r = await startServer();
  dir = await mkdtemp(join(tmpdir(), 'prof-heap-'));
  await writeFile(join(dir, 'alloc.js'), PROGRAM);
  // Asynchronously: the server under test answers the upload from this very process.
  const run = await execFileAsync(
    process.execPath,
    [clientCli, 'run', '--project', 'node-heap', '--server', r.url, '--json', '--', process.execPath, 'alloc.js'],
    {
      cwd: dir,
      encoding: 'utf8',
      timeout: 60_000,
      env: { ...process.env, TZ: 'Europe/Berlin', PROF_SPOOL: join(dir, 'spool') },
    },
  );
  const report = JSON.parse(run.stdout.trim().split('\n').at(-1)!);
  expect(report.ok, run.stdout).toBe(true);
  id = report.results[0].id;
  doc = await gunzipDocument(await storedBytes(r, id));
  const spiky = await readProfileFile(join(fixtures, 'vmprof-fresh/memory_spiky.prof'));
  const uploaded = await fetch(`${r.url}/api/profiles?project=etl`, {
    method: 'POST',
    body: (await gzipDocument(spiky)) as unknown as BodyInit,
  });
  spikyId = (await json(uploaded)).id;
  spikyZone = spiky.meta.zone;
  const cpu = await fetch(`${r.url}/api/profiles?project=cpu`, {
    method: 'POST',
    body: (await readFile(join(fixtures, 'vmprof-fresh/cpu_basic.prof'))) as unknown as BodyInit,
  });
  cpuId = (await json(cpu)).id;
});

afterAll(async () => {
  await r?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('the heap series of a profile recorded by prof run', () => {
  it('is recorded beside RSS, and /memory offers both', async () => {
    expect(doc.samples.heap).not.toBeNull();
    expect(doc.samples.memory).not.toBeNull();
    const rss = await get(`/api/profiles/${id}/memory?bins=20`);
    expect(rss.status).toBe(200);
    expect(rss.body).toMatchObject({ series: 'rss', available: ['rss', 'heap'], unit: 'bytes' });
    const explicit = await get(`/api/profiles/${id}/memory?bins=20&series=rss`);
    expect(explicit.body).toEqual(rss.body);
    const vmprof = await get(`/api/profiles/${spikyId}/memory?bins=2`);
    expect(vmprof.body).toMatchObject({ series: 'rss', available: ['rss'] });
  });

  it('bins the heap column exactly as @prof/binning does, every sample counted', async () => {
    const heap = doc.samples.heap!;
    const { body, status } = await get(`/api/profiles/${id}/memory?series=heap&bins=50`);
    expect(status).toBe(200);
    expect(body.series).toBe('heap');
    expect(body.available).toEqual(['rss', 'heap']);
    const expected = binRows(
      queryBins(buildMemorySummary(doc.samples.time, heap), { from: body.from, to: body.to, bins: 50 }),
    );
    expect(body.bins).toEqual(expected);
    expect(body.bins.reduce((n: number, b: any) => n + b.count, 0)).toBe(doc.samples.length);
    const peak = Math.max(...body.bins.map((b: any) => b.max ?? 0));
    expect(peak).toBe(Math.max(...heap));
    // the heap is a different series from RSS: smaller than the process's resident memory
    const rssPeak = Math.max(
      ...(await get(`/api/profiles/${id}/memory?bins=50`)).body.bins.map((b: any) => b.max ?? 0),
    );
    expect(peak).toBeLessThan(rssPeak);
    // zoomed and per thread too
    const zoom = await get(`/api/profiles/${id}/memory?series=heap&from=100&to=600&bins=10&thread=0`);
    expect(zoom.status).toBe(200);
    expect(zoom.body.bins.reduce((n: number, b: any) => n + b.count, 0)).toBe(
      doc.samples.time.filter((t) => t >= 100 && t < 600).length,
    );
  });

  it('answers both series from the summaries container, the decoded cache left empty', async () => {
    const copy = structuredClone(doc);
    copy.meta.project = 'node-heap-copy';
    const uploaded = await fetch(`${r.url}/api/profiles`, {
      method: 'POST',
      body: (await gzipDocument(copy)) as unknown as BodyInit,
    });
    const copyId = (await json(uploaded)).id;
    const before = (await get('/health')).body.cache;
    for (const query of ['bins=10', 'bins=10&from=5&to=50', 'bins=10&series=heap']) {
      const { body, status } = await get(`/api/profiles/${copyId}/memory?${query}`);
      expect(status).toBe(200);
      expect(body.available).toEqual(['rss', 'heap']);
    }
    expect((await get('/health')).body.cache).toEqual(before); // nothing decoded
    expect((await get('/health')).body.summaries.open).toBeGreaterThanOrEqual(1);
  });

  it('ranks stacks by heap growth with series=heap', async () => {
    const { body, status } = await get(`/api/profiles/${id}/stacks?rank=growth&series=heap&top=5`);
    expect(status).toBe(200);
    const expected = analyzeStacks(doc.stacks, doc.samples.stack, {
      start: 0,
      end: doc.samples.length,
      topK: 5,
      memory: doc.samples.heap,
      rankBy: 'growth',
    });
    expect(body.top.map((t: any) => t.growth)).toEqual(expected.top.map((t) => t.growth));
    expect(body.top.map((t: any) => t.count)).toEqual(expected.top.map((t) => t.count));
    expect(body.top[0].growth).toBeGreaterThan(0);
    for (let i = 1; i < body.top.length; i++) expect(body.top[i - 1].growth).toBeGreaterThanOrEqual(body.top[i].growth);
    // growth under each stack differs between the series: RSS ranking is a different answer
    const byRss = await get(`/api/profiles/${id}/stacks?rank=growth&top=5`);
    const rssExpected = analyzeStacks(doc.stacks, doc.samples.stack, {
      start: 0,
      end: doc.samples.length,
      topK: 5,
      memory: doc.samples.memory,
      rankBy: 'growth',
    });
    expect(byRss.body.top.map((t: any) => t.growth)).toEqual(rssExpected.top.map((t) => t.growth));
    expect(byRss.body.top.map((t: any) => t.growth)).not.toEqual(body.top.map((t: any) => t.growth));
    // rank=count with series=heap: counts as before, growth in heap bytes
    const counted = await get(`/api/profiles/${id}/stacks?series=heap&top=3`);
    const countExpected = analyzeStacks(doc.stacks, doc.samples.stack, {
      start: 0,
      end: doc.samples.length,
      topK: 3,
      memory: doc.samples.heap,
    });
    expect(counted.body.top.map((t: any) => [t.count, t.growth])).toEqual(
      countExpected.top.map((t) => [t.count, t.growth]),
    );
  });

  it('answers 400 naming the series when the profile has no such series, or the series is unknown', async () => {
    for (const path of [
      `/api/profiles/${spikyId}/memory?series=heap`,
      `/api/profiles/${spikyId}/stacks?rank=growth&series=heap`,
    ]) {
      const { status, body } = await get(path);
      expect(status).toBe(400);
      expect(body.error.code).toBe('no-series');
      expect(body.error.message).toMatch(/no V8 heap \(heap\) series; it has rss/);
    }
    const unknown = await get(`/api/profiles/${id}/memory?series=gc`);
    expect(unknown.status).toBe(400);
    expect(unknown.body.error).toMatchObject({ code: 'bad-query', message: expect.stringContaining('series="gc"') });
    const none = await get(`/api/profiles/${cpuId}/memory?series=heap`);
    expect(none.status).toBe(400);
    expect(none.body.error.message).toMatch(/no memory series at all/);
    expect((await get(`/api/profiles/${cpuId}/stacks`)).status).toBe(200); // no series asked: no growth, no error
  });

  it('leaves heap readings that never came (NaN) out of the bins instead of guessing them', async () => {
    const gappy = structuredClone(doc);
    const heap = gappy.samples.heap!;
    const n = heap.length;
    for (let i = Math.floor(n / 2); i < Math.floor(n / 2) + 40; i++) heap[i] = NaN;
    heap[0] = NaN;
    gappy.meta.project = 'node-heap-gaps';
    const uploaded = await fetch(`${r.url}/api/profiles`, {
      method: 'POST',
      body: (await gzipDocument(gappy)) as unknown as BodyInit,
    });
    expect(uploaded.status).toBe(201);
    const gapId = (await json(uploaded)).id;
    const { body, status } = await get(`/api/profiles/${gapId}/memory?series=heap&bins=100`);
    expect(status).toBe(200);
    expect(body.bins.reduce((k: number, b: any) => k + b.count, 0)).toBe(n - 41);
    for (const b of body.bins)
      if (b.count) expect(Number.isFinite(b.mean) && Number.isFinite(b.min) && Number.isFinite(b.max)).toBe(true);
    const growth = await get(`/api/profiles/${gapId}/stacks?rank=growth&series=heap&top=5`);
    expect(growth.status).toBe(200);
    for (const t of growth.body.top) expect(Number.isFinite(t.growth)).toBe(true);
  });
});

describe('profile rows and projects', () => {
  it('keep the zone the profile was recorded in', async () => {
    const row = (await get(`/api/profiles/${id}`)).body;
    expect(row.zone).toBe('Europe/Berlin');
    expect(doc.meta.zone).toBe('Europe/Berlin');
    expect((await get(`/api/profiles?project=node-heap`)).body.items[0].zone).toBe('Europe/Berlin');
    expect((await get(`/api/profiles/${spikyId}`)).body.zone).toBe(spikyZone);
  });

  it('give each project its peak memory and its latest and total duration', async () => {
    const rows = (await get('/api/profiles?project=node-heap')).body.items;
    const project = (await get('/api/projects')).body.projects.find((p: any) => p.project === 'node-heap');
    expect(project).toMatchObject({ count: rows.length, peakMemory: Math.max(...rows.map((x: any) => x.peakMemory)) });
    expect(project.peakMemory).toBe(Math.max(...doc.samples.memory!));
    expect(project.lastDurationMs).toBe(rows[0].durationMs);
    expect(project.totalDurationMs).toBeCloseTo(
      rows.reduce((s: number, x: any) => s + x.durationMs, 0),
      6,
    );
    const cpu = (await get('/api/projects')).body.projects.find((p: any) => p.project === 'cpu');
    expect(cpu.peakMemory).toBeNull();
  });
});
