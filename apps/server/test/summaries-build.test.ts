// Issue 10: a profile's summaries container is built in bounded memory (the stored document read
// column by column, the builder's chunks spilled to a scratch file), and that container is the
// one the whole decoded document gives, byte for byte: on the real vmprof fixtures and on a
// profile eight times longer than memory_spiky.prof. A container of an older version (built before
// the CPU extras) is rebuilt at the first query, so the CPU views never decode the document.
import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSummaries, SummariesBuilder } from '@prof/binning';
import { gunzipDocument, gzipDocument, readProfileFile } from '@prof/format/node';
import { makeLongProfile } from '../../../scripts/make-long-profile.mjs';
import { joinParts, SUMMARY_VERSION, summarizeDocument } from '../src/summarize';
import { buildSummary } from '../src/worker/tasks';
import { fixtures, json, startServer, waitForProfile, type Running } from './helpers';

let work: string;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'prof-summaries-build-'));
});
afterAll(() => rm(work, { recursive: true, force: true }));

/** The container the worker task builds from the stored bytes, read from its scratch file. */
async function bounded(gz: Uint8Array): Promise<Buffer> {
  const scratchDir = join(work, 'scratch');
  await rm(scratchDir, { recursive: true, force: true });
  await mkdir(scratchDir);
  const built = await buildSummary({ bytes: gz, maxInflatedBytes: 2 ** 31, scratchDir });
  if ('failed' in built) throw new Error(built.error.message);
  const bytes = await readFile(built.path);
  expect(bytes.length).toBe(built.bytes);
  await rm(built.path);
  // Nothing else is left behind: the column files and the spill are gone.
  expect(await readdir(scratchDir)).toEqual([]);
  return bytes;
}

async function expectSameContainer(gz: Uint8Array): Promise<void> {
  const whole = joinParts(summarizeDocument(await gunzipDocument(gz)));
  const got = await bounded(gz);
  expect(got.length).toBe(whole.length);
  expect(got.equals(whole)).toBe(true);
}

describe('summaries built in bounded memory', () => {
  const names = [
    'big_memory',
    'memory_spiky',
    'threads',
    'threads_memory_realtime_misaligned',
    'lines',
    'cpu_basic',
    'pypy_jit',
    'native',
  ];
  it.each(names)('%s: byte for byte the container of the whole decoded document', async (name) => {
    await expectSameContainer(await gzipDocument(await readProfileFile(join(fixtures, `vmprof-fresh/${name}.prof`))));
  });

  // Several of the builder's 65,536-element chunks per column, spilled and read back (big_memory ×3 did the
  // same at ten times the bytes: 26-57 s of a loaded run).
  it('a profile eight times longer than memory_spiky.prof: the same container', async () => {
    const long = join(work, 'x8.prof');
    makeLongProfile({ source: join(fixtures, 'vmprof-fresh/memory_spiky.prof'), times: 8, out: long });
    await expectSameContainer(await gzipDocument(await readProfileFile(long)));
  });

  it('a damaged document fails the build with the decoder error (no scratch file left)', async () => {
    const gz = await gzipDocument(await readProfileFile(join(fixtures, 'vmprof-fresh/cpu_basic.prof')));
    const built = await buildSummary({
      bytes: gz.subarray(0, gz.length - 30),
      maxInflatedBytes: 2 ** 31,
      scratchDir: work,
    });
    expect(built).toMatchObject({ failed: true, error: { kind: 'format', code: 'bad-gzip' } });
    expect((await readdir(work)).filter((f) => !f.endsWith('.prof') && f !== 'scratch')).toEqual([]);
  });
});

describe('an outdated container', () => {
  let r: Running;
  let firstDir: string;
  afterAll(async () => {
    await r?.stop();
    await rm(firstDir, { recursive: true, force: true });
  });

  it('is rebuilt at the first query: the CPU and memory views answer from it, no document is decoded', async () => {
    // Stored, its summary built (the first /memory waits for it), then the server stops.
    const first = await startServer();
    firstDir = first.dir;
    const dataDir = first.server.dataDir;
    const up = await fetch(`${first.url}/api/profiles`, {
      method: 'POST',
      body: await readFile(join(fixtures, 'vmprof-fresh/threads_memory_realtime_misaligned.prof')),
    });
    expect(up.status).toBe(201);
    const { id } = await json(up);
    await waitForProfile(first.url, id);
    expect((await fetch(`${first.url}/api/profiles/${id}/memory?bins=10`)).status).toBe(200);
    await first.server.close();
    r = await startServer({ dataDir, ...first.storeOptions }); // the same store (PROF_TEST_STORE=shared: schema, prefix)

    // What an older server stored: a version-2 container (no M2, so no spread), the columns and the
    // frames, no facts, summary version 2.
    const doc = await readProfileFile(join(fixtures, 'vmprof-fresh/threads_memory_realtime_misaligned.prof'));
    const old = new SummariesBuilder({
      stacks: doc.stacks,
      threads: doc.threads.length,
      memory: !!doc.samples.memory,
      meta: { summaryVersion: 2, durationMs: 1, timeEstimated: doc.samples.timeEstimated },
      layout: 2,
    });
    old.pushColumns(doc.samples);
    await r.server.store.putSummary(id, old.finish());

    const tree = await fetch(`${r.url}/api/profiles/${id}/cpu/tree`);
    expect(tree.status).toBe(200);
    expect((await json(tree)).samples).toBe(doc.samples.length);
    const memory = await fetch(`${r.url}/api/profiles/${id}/memory?bins=100`);
    expect(memory.status).toBe(200);
    // Answered from the rebuilt container: every bin with readings has its spread.
    const bins = (await json(memory)).bins as { count: number; sd: number | null }[];
    expect(bins.some((b) => b.count > 1)).toBe(true);
    for (const b of bins) expect(b.sd === null).toBe(b.count === 0);
    const health = await json(await fetch(`${r.url}/health`));
    expect(health.cache.entries).toBe(0);
    expect(health.summaries.rebuilt).toBe(1);
    const reader = (await r.server.store.openSummary(id))!;
    try {
      expect((await openSummaries(reader)).meta.summaryVersion).toBe(SUMMARY_VERSION);
    } finally {
      await reader.close();
    }
  });
});
