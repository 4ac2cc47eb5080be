// One suite for every ProfileIndex: the embedded SQLite index and the PostgreSQL one give the same
// answers (search, filters, sorting, paging, project summaries, pruning) on the same data.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CompositeProfileStore,
  FileBlobStore,
  SqliteProfileIndex,
  SORT_KEYS,
  newProfileId,
  type IndexRowInput,
  type ProfileIndex,
  type SearchQuery,
} from '../src/index';
import { freshPostgresIndex } from './services';
import { fields } from './rows';

const kinds: { kind: string; open: (dir: string) => Promise<ProfileIndex> }[] = [
  { kind: 'sqlite', open: async (dir) => new SqliteProfileIndex(join(dir, 'index.sqlite')) },
  { kind: 'postgres', open: () => freshPostgresIndex() },
];

describe.each(kinds)('$kind index', ({ open }) => {
  let dir: string;
  let store: CompositeProfileStore;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'prof-index-'));
    store = new CompositeProfileStore(await FileBlobStore.open(join(dir, 'profiles')), await open(dir));
  });

  afterEach(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('searches by substring, filters, sorts and pages', async () => {
    await store.put(Buffer.from('1'), fields({ project: 'ETL Nightly', name: 'load_rows', tags: { env: 'prod' } }), {
      uploadedAt: 1000,
    });
    await store.put(
      Buffer.from('22'),
      fields({ project: 'web', name: 'handle_Request', hasMemory: false, peakMemory: null, start: null }),
      { uploadedAt: 2000 },
    );
    await store.put(
      Buffer.from('333'),
      fields({ project: 'etl nightly', name: 'Ünïcode_fn', tags: { env: 'dev' }, durationMs: 5 }),
      { uploadedAt: 3000 },
    );
    const all = await store.search();
    expect(all.total).toBe(3);
    expect(all.items.map((r) => r.sizeBytes)).toEqual([3, 2, 1]);
    expect((await store.search({ q: 'NIGHTLY' })).total).toBe(2);
    expect((await store.search({ q: 'request' })).items[0].name).toBe('handle_Request');
    expect((await store.search({ q: 'üNÏ' })).items[0].name).toBe('Ünïcode_fn');
    expect((await store.search({ q: 'absent' })).total).toBe(0);
    expect((await store.search({ q: 'EB' })).items.map((r) => r.project)).toEqual(['web']);
    expect((await store.search({ q: '_r' })).items.map((r) => r.name)).toEqual(['handle_Request', 'load_rows']);
    expect((await store.search({ q: '%' })).total).toBe(0); // wildcards of LIKE are plain characters
    const quoted = await store.put(Buffer.from('4'), fields({ project: 'say "hi" AND x%_\\', name: 'NEAR(a b)' }), {
      uploadedAt: 4000,
    });
    for (const q of ['"hi" and', 'near(a', '" AND X', 'y "', 'x%_\\', '%_'])
      expect((await store.search({ q })).items.map((r) => r.id)).toEqual([quoted.id]);
    await store.delete(quoted.id);
    expect((await store.search({ q: '"hi"' })).total).toBe(0);
    expect((await store.search({ project: 'web' })).total).toBe(1);
    expect((await store.search({ name: 'load_rows' })).total).toBe(1);
    expect((await store.search({ tags: { env: 'prod' } })).items.map((r) => r.name)).toEqual(['load_rows']);
    expect((await store.search({ tags: { env: null } })).total).toBe(2);
    expect((await store.search({ hasMemory: false })).items.map((r) => r.project)).toEqual(['web']);
    expect((await store.search({ from: 1500, to: 2500 })).items.map((r) => r.project)).toEqual(['web']);
    expect((await store.search({ sort: 'durationMs', order: 'asc' })).items[0].durationMs).toBe(5);
    expect((await store.search({ sort: 'peakMemory', order: 'desc' })).items.at(-1)!.peakMemory).toBeNull();
    expect((await store.search({ sort: 'peakMemory', order: 'asc' })).items.at(-1)!.peakMemory).toBeNull();
    const page = await store.search({ limit: 1, offset: 1 });
    expect(page.total).toBe(3);
    expect(page.items.map((r) => r.sizeBytes)).toEqual([2]);
    expect(await store.search({ limit: 0 })).toEqual({ total: 3, items: [] });
  });

  it('keeps every field of a row as given, tags in their order', async () => {
    const row = await store.put(
      Buffer.from('x'),
      fields({ tags: { z: '1', a: '2', 'a\u001eb': 'c\u001fd' }, zone: 'Europe/Berlin', sampleCount: 2 ** 40 }),
      { uploadedAt: 1_700_000_000_123.5 },
    );
    const got = await store.get(row.id);
    expect(got).toEqual(row);
    expect(Object.keys(got!.tags)).toEqual(['z', 'a', 'a\u001eb']);
    expect(await store.index.stats()).toEqual({ count: 1, totalBytes: 1 });
  });

  it('matches tags exactly, whatever characters keys and values hold', async () => {
    const odd = await store.put(Buffer.from('1'), fields({ tags: { 'a\u001eb': 'c\u001fd', env: 'prod\\' } }));
    const plain = await store.put(Buffer.from('2'), fields({ tags: { a: 'b\u001ec', env: 'prod', q: '"' } }));
    const ids = async (tags: Record<string, string | null>) => (await store.search({ tags })).items.map((r) => r.id);
    expect(await ids({ 'a\u001eb': 'c\u001fd' })).toEqual([odd.id]);
    expect(await ids({ a: null })).toEqual([plain.id]);
    expect(await ids({ a: 'b' })).toEqual([]);
    expect(await ids({ env: 'prod' })).toEqual([plain.id]);
    expect(await ids({ env: 'prod\\' })).toEqual([odd.id]);
    expect(await ids({ env: 'prod', a: null })).toEqual([plain.id]);
    expect(await ids({ q: '"' })).toEqual([plain.id]);
  });

  it('lists projects with names, counts, peaks and durations, kept through deletes and prunes', async () => {
    const etl = async () => (await store.projects()).find((p) => p.project === 'etl')!;
    const a = await store.put(
      Buffer.from('a'),
      fields({ project: 'etl', name: 'load', durationMs: 100, peakMemory: 2000 }),
      { uploadedAt: 10 },
    );
    const b = await store.put(
      Buffer.from('b'),
      fields({ project: 'etl', name: 'load', durationMs: 200, peakMemory: 500 }),
      { uploadedAt: 20 },
    );
    const c = await store.put(
      Buffer.from('c'),
      fields({ project: 'etl', name: 'save', durationMs: 300, peakMemory: 700 }),
      { uploadedAt: 15 },
    );
    await store.put(Buffer.from('d'), fields({ project: 'null', name: 'x' }), { uploadedAt: 40 });
    await store.put(Buffer.from('e'), fields({ project: null, name: null, peakMemory: null, hasMemory: false }), {
      uploadedAt: 50,
    });
    expect(await store.projects()).toEqual([
      {
        project: null,
        count: 1,
        lastUpload: 50,
        nameCount: 1,
        names: [{ name: null, count: 1 }],
        peakMemory: null,
        lastDurationMs: 10_000,
        totalDurationMs: 10_000,
      },
      {
        project: 'null',
        count: 1,
        lastUpload: 40,
        nameCount: 1,
        names: [{ name: 'x', count: 1 }],
        peakMemory: 1024,
        lastDurationMs: 10_000,
        totalDurationMs: 10_000,
      },
      {
        project: 'etl',
        count: 3,
        lastUpload: 20,
        nameCount: 2,
        names: [
          { name: 'load', count: 2 },
          { name: 'save', count: 1 },
        ],
        peakMemory: 2000,
        lastDurationMs: 200,
        totalDurationMs: 600,
      },
    ]);
    await store.delete(b.id);
    expect(await etl()).toMatchObject({ lastUpload: 15, lastDurationMs: 300, totalDurationMs: 400, peakMemory: 2000 });
    await store.delete(c.id);
    expect(await etl()).toMatchObject({ lastUpload: 10, lastDurationMs: 100, totalDurationMs: 100, peakMemory: 2000 });
    await store.put(Buffer.from('d'), fields({ project: 'etl', name: 'load', durationMs: 50, peakMemory: 800 }), {
      uploadedAt: 30,
    });
    await store.delete(a.id);
    expect(await etl()).toMatchObject({
      count: 1,
      lastUpload: 30,
      lastDurationMs: 50,
      totalDurationMs: 50,
      peakMemory: 800,
    });
    await store.prune({ maxTotalBytes: 0 });
    expect(await store.projects()).toEqual([]);
    expect(await store.stats()).toEqual({ count: 0, totalBytes: 0 });
  });

  it('deletes and prunes by age and by total size, oldest first', async () => {
    const rows = [];
    for (let i = 1; i <= 4; i++) rows.push(await store.put(Buffer.alloc(100), fields(), { uploadedAt: i * 1000 }));
    const [a, b, c, d] = rows;
    expect(await store.delete(a.id)).toBe(true);
    expect(await store.delete(a.id)).toBe(false);
    expect(await store.prune({ olderThanMs: 2_500, now: 5_000 })).toEqual({ deleted: [b.id], freedBytes: 100 });
    expect((await store.prune({ maxTotalBytes: 150 })).deleted).toEqual([c.id]);
    expect(await store.stats()).toEqual({ count: 1, totalBytes: 100 });
    expect(await store.index.ids()).toEqual([d.id]);
  });

  it('keeps index and blobs consistent under concurrent puts and deletes', async () => {
    const rows = await Promise.all(
      Array.from({ length: 40 }, (_, i) => store.put(Buffer.alloc(10 + i), fields({ name: `f${i % 3}` }))),
    );
    await Promise.all(rows.filter((_, i) => i % 3 === 0).map((r) => store.delete(r.id)));
    const { total, items } = await store.search({ limit: 1000 });
    expect(total).toBe(26);
    expect((await store.blobs.list()).sort()).toEqual(items.map((r) => r.id).sort());
    expect((await store.projects())[0].count).toBe(26);
  });
});

describe('sqlite and postgres give the same answers on the same data', () => {
  let dir: string;
  let sqlite: SqliteProfileIndex;
  let postgres: ProfileIndex;
  const rows: IndexRowInput[] = [];

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'prof-index-'));
    sqlite = new SqliteProfileIndex(join(dir, 'index.sqlite'), { sparseMatches: 50 });
    postgres = await freshPostgresIndex();
    rows.length = 0;
    const projects = ['ETL', 'etl-nightly', 'web', null, 'Ünï', 'a_b%c'];
    for (let i = 0; i < 600; i++) {
      rows.push({
        ...fields({
          project: projects[i % projects.length],
          name: i % 11 === 0 ? null : `fn_${i % 13}`,
          durationMs: (i * 7919) % 1000,
          hasMemory: i % 2 === 0,
          peakMemory: i % 2 ? null : (i * 31) % 500,
          start: i % 5 === 0 ? null : 1000 + ((i * 17) % 600),
          sampleCount: i % 7,
          tags: i % 4 === 0 ? {} : { env: ['prod', 'dev'][i % 2], [`k${i % 3}`]: 'v' },
        }),
        id: newProfileId(),
        sizeBytes: (i * 13) % 97,
        uploadedAt: i % 9 === 0 ? 500 : i, // ties on the sort column, broken by insertion order
      });
    }
    sqlite.insertMany(rows);
    for (const row of rows) await postgres.insert(row); // one by one: the triggers of each insert
  });

  afterEach(async () => {
    await sqlite.close();
    await postgres.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('for random searches, the project summaries, and after deletes', async () => {
    const query = fc.record<SearchQuery>(
      {
        q: fc.constantFrom('etl', 'ETL', 'fn_1', 'n_', 'ün', 'nï', '%', '_b%', 'b', 'web\u0000', 'zzz', 'l-n'),
        project: fc.constantFrom('ETL', 'web', 'Ünï'),
        name: fc.constantFrom('fn_1', 'fn_12'),
        tags: fc.constantFrom<Record<string, string | null>>(
          { env: 'prod' },
          { env: null },
          { k1: 'v', env: 'dev' },
          { k2: null },
        ),
        from: fc.integer({ min: 0, max: 1700 }),
        to: fc.integer({ min: 0, max: 1700 }),
        hasMemory: fc.boolean(),
        sort: fc.constantFrom(...SORT_KEYS),
        order: fc.constantFrom('asc' as const, 'desc' as const),
        limit: fc.integer({ min: 0, max: 60 }),
        offset: fc.integer({ min: 0, max: 700 }),
      },
      { requiredKeys: [] },
    );
    await fc.assert(
      fc.asyncProperty(query, async (q: SearchQuery) => {
        expect(await postgres.search(q)).toEqual(await sqlite.search(q));
      }),
      { numRuns: 300 },
    );
    expect(await postgres.projects()).toEqual(await sqlite.projects());
    const gone = rows.filter((_, i) => i % 7 === 3).map((r) => r.id);
    expect(await postgres.remove(gone)).toBe(gone.length);
    expect(await sqlite.remove(gone)).toBe(gone.length);
    expect(await postgres.projects()).toEqual(await sqlite.projects());
    expect(await postgres.stats()).toEqual(await sqlite.stats());
    expect(await postgres.pruneCandidates({ before: 300, maxTotalBytes: 20_000 })).toEqual(
      await sqlite.pruneCandidates({ before: 300, maxTotalBytes: 20_000 }),
    );
    expect(await postgres.search({ sort: 'start', order: 'asc', limit: 1000 })).toEqual(
      await sqlite.search({ sort: 'start', order: 'asc', limit: 1000 }),
    );
  });
});
