// The documents are the truth, the index a cache of them: losing, emptying or damaging the index
// loses nothing, and unreadable documents are moved aside, never deleted. Real documents, real files.
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { copyFile, mkdtemp, readdir, readFile, rm, truncate, unlink, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipDocument, readProfileFile, type ProfileDocument } from '@prof/format/node';
import { fixturesDir } from '../../../scripts/fixtures.mjs';
import {
  fieldsFromDocument,
  newProfileId,
  openStore,
  rebuildIndex,
  TEXT_LIMITS,
  type CompositeProfileStore,
  type ProfileRow,
} from '../src/index';

const FILES = ['vmprof-fresh/memory_spiky.prof', 'vmprof-fresh/cpu_basic.prof', 'vmprof-fresh/threads.prof'];
let docs: ProfileDocument[];

beforeAll(async () => {
  docs = await Promise.all(FILES.map((f) => readProfileFile(join(fixturesDir, f))));
  docs[0].meta.project = 'etl';
  docs[0].meta.tags = { env: 'prod' };
  docs[1].meta.project = 'web';
  docs[1].meta.name = 'serve';
  docs[2].meta.project = 'etl';
});

let dir: string;
let store: CompositeProfileStore;
let messages: string[];
const log = { warn: (_fields: Record<string, unknown>, message: string) => void messages.push(message) };

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'prof-repair-'));
  messages = [];
  store = await openStore({ dir, log });
});

afterEach(async () => {
  await store.close();
  await rm(dir, { recursive: true, force: true });
});

/** Puts every document, some with an upload time of their own; returns the rows as stored. */
async function putAll(): Promise<ProfileRow[]> {
  const rows: ProfileRow[] = [];
  for (const [i, doc] of docs.entries()) {
    const options = i === 0 ? { uploadedAt: 1_700_000_000_123 } : {};
    rows.push(await store.put(await gzipDocument(doc), fieldsFromDocument(doc), options));
  }
  return rows;
}

async function snapshot(s: CompositeProfileStore) {
  return {
    rows: (await s.search({ sort: 'uploadedAt', limit: 100 })).items,
    projects: await s.projects(),
    etl: (await s.search({ q: 'etl' })).total,
    prod: (await s.search({ tags: { env: 'prod' } })).total,
    peak: (await s.search({ sort: 'peakMemory', limit: 1 })).items[0].id,
  };
}

const indexFiles = async () => (await readdir(dir)).filter((n) => n.startsWith('index.sqlite'));

describe('index loss and damage', () => {
  it('a deleted index is rebuilt from the documents at start: every row equal to the original', async () => {
    const rows = await putAll();
    const before = await snapshot(store);
    await store.close();
    for (const name of await indexFiles()) await unlink(join(dir, name));

    store = await openStore({ dir, log });
    expect(store.lastRepair).toEqual({
      tempFiles: 0,
      reindexed: 3,
      quarantined: 0,
      rowsWithoutFile: 0,
      orphanSummaries: 0,
    });
    expect(messages).toContain('re-indexed 3 profile(s) that had no index row');
    for (const row of rows) expect(await store.get(row.id)).toEqual(row);
    expect(await snapshot(store)).toEqual(before);
  });

  it('a 0-byte index loses nothing', async () => {
    const rows = await putAll();
    await store.close();
    for (const name of await indexFiles()) await unlink(join(dir, name));
    await writeFile(join(dir, 'index.sqlite'), '');
    store = await openStore({ dir, log });
    expect(store.lastRepair.reindexed).toBe(3);
    for (const row of rows) expect(await store.get(row.id)).toEqual(row);
  });

  it('an index restored without its WAL (copied while the server ran) loses nothing', async () => {
    const first = await putAll();
    const copy = join(dir, 'copy.sqlite');
    await copyFile(join(dir, 'index.sqlite'), copy); // what a naive backup takes: the main file only
    const later = await store.put(await gzipDocument(docs[1]), fieldsFromDocument(docs[1]));
    await store.close();
    for (const name of await indexFiles()) await unlink(join(dir, name));
    await copyFile(copy, join(dir, 'index.sqlite'));
    await unlink(copy);

    store = await openStore({ dir, log });
    for (const row of [...first, later]) expect(await store.get(row.id)).toEqual(row);
    expect((await store.stats()).count).toBe(4);
  });

  it('an index SQLite cannot read is moved aside and rebuilt', async () => {
    const rows = await putAll();
    await store.close();
    for (const name of await indexFiles()) await unlink(join(dir, name));
    await writeFile(join(dir, 'index.sqlite'), randomBytes(8192));
    store = await openStore({ dir, log });
    for (const row of rows) expect(await store.get(row.id)).toEqual(row);
    expect((await readdir(dir)).some((n) => /^index\.sqlite\.damaged-\d+$/.test(n))).toBe(true);
    expect(messages.some((m) => m.includes('could not be read; moved aside'))).toBe(true);
  });

  it('unreadable documents go to quarantine with their reason; readable ones are indexed', async () => {
    const rows = await putAll();
    await store.close();
    for (const name of await indexFiles()) await unlink(join(dir, name));
    const garbage = newProfileId();
    await writeFile(join(dir, 'profiles', `${garbage}.msgpack.gz`), randomBytes(5000));
    // a real document cut in half (a disk that lost its tail)
    await truncate(join(dir, 'profiles', `${rows[1].id}.msgpack.gz`), Math.floor(rows[1].sizeBytes / 2));

    store = await openStore({ dir, log });
    expect(store.lastRepair).toEqual({
      tempFiles: 0,
      reindexed: 2,
      quarantined: 2,
      rowsWithoutFile: 0,
      orphanSummaries: 0,
    });
    expect(await store.get(rows[0].id)).toEqual(rows[0]);
    expect(await store.get(rows[2].id)).toEqual(rows[2]);
    expect(await store.get(rows[1].id)).toBeNull();
    expect(await store.quarantined()).toBe(2);
    const quarantine = (await readdir(join(dir, 'quarantine'))).sort();
    expect(quarantine).toEqual(
      [`${garbage}.msgpack.gz`, `${garbage}.reason.txt`, `${rows[1].id}.msgpack.gz`, `${rows[1].id}.reason.txt`].sort(),
    );
    expect(await readFile(join(dir, 'quarantine', `${garbage}.reason.txt`), 'utf8')).toMatch(/gzip/);
    expect(messages.filter((m) => m === 'unreadable profile moved to quarantine')).toHaveLength(2);
  });
});

describe('rebuildIndex', () => {
  it('rebuilds the whole index from the documents, keeping the upload times of the old index', async () => {
    const rows = await putAll();
    const before = await snapshot(store);
    await store.close();
    const progress: [number, number][] = [];
    const report = await rebuildIndex({ dir, onProgress: (done, total) => progress.push([done, total]) });
    expect(report).toEqual({ indexed: 3, quarantined: 0, uploadTimesKept: 3 });
    expect(progress[0]).toEqual([0, 3]);
    expect(progress.at(-1)).toEqual([3, 3]);
    expect(await indexFiles()).toEqual(['index.sqlite']);
    store = await openStore({ dir, log });
    expect(store.lastRepair.reindexed).toBe(0);
    for (const row of rows) expect(await store.get(row.id)).toEqual(row);
    expect(await snapshot(store)).toEqual(before);
  });

  it('without any index, upload times come from the files', async () => {
    const rows = await putAll();
    await store.close();
    for (const name of await indexFiles()) await unlink(join(dir, name));
    expect(await rebuildIndex({ dir })).toEqual({ indexed: 3, quarantined: 0, uploadTimesKept: 0 });
    store = await openStore({ dir, log });
    for (const row of rows) expect(await store.get(row.id)).toEqual(row);
  });
});

describe('fieldsFromDocument', () => {
  it('clips text to TEXT_LIMITS, so an old oversized document cannot bloat every listing', () => {
    const doc = structuredClone(docs[0]);
    doc.meta.project = 'p'.repeat(5_000_000);
    doc.meta.tags = Object.fromEntries(Array.from({ length: 150 }, (_, i) => [`k${i}`, 'v'.repeat(2000)]));
    const fields = fieldsFromDocument(doc);
    expect(fields.project).toHaveLength(TEXT_LIMITS.project);
    expect(Object.keys(fields.tags)).toHaveLength(TEXT_LIMITS.tags);
    expect(fields.tags.k0).toHaveLength(TEXT_LIMITS.tagValue);
  });
});
