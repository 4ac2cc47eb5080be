import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtemp, readdir, rm, writeFile, unlink, readFile, utimes } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import Database from 'better-sqlite3';
import {
  openStore,
  isProfileId,
  newProfileId,
  SqliteProfileIndex,
  type CompositeProfileStore,
  type SearchQuery,
} from '../src/index';
import { fields } from './rows';
import { checkSummaryBlobs, summaryParts } from './summary-blobs';

let dir: string;
let store: CompositeProfileStore;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'prof-store-'));
  store = await openStore({ dir });
});

afterEach(async () => {
  await store.close();
  await rm(dir, { recursive: true, force: true });
});

describe('ids', () => {
  it('are random, url-safe and validated', () => {
    const ids = new Set(Array.from({ length: 1000 }, newProfileId));
    expect(ids.size).toBe(1000);
    for (const id of ids) expect(id).toMatch(/^[a-z2-7]{24}$/);
    for (const bad of [
      '../etc/passwd',
      'ABCDEFGHIJKLMNOPQRSTUVWX',
      'a'.repeat(23),
      'a'.repeat(25),
      '',
      'aaaaaaaaaaaaaaaaaaaaaaa/',
      5,
    ]) {
      expect(isProfileId(bad)).toBe(false);
    }
  });
});

describe('embedded store', () => {
  it('stores bytes atomically and gives them back identical', async () => {
    const bytes = randomBytes(100_000);
    const row = await store.put(bytes, fields({ tags: { env: 'prod' } }));
    expect(isProfileId(row.id)).toBe(true);
    expect(row.sizeBytes).toBe(100_000);
    expect(Buffer.compare((await store.getBytes(row.id))!, bytes)).toBe(0);
    expect(await store.get(row.id)).toEqual(row);
    expect(await readdir(join(dir, 'profiles'))).toEqual([`${row.id}.msgpack.gz`]);
    expect(await store.get('../../etc/passwd')).toBeNull();
    expect(await store.getBytes('../../etc/passwd')).toBeNull();
  });

  it('refuses a chosen id that is invalid or taken', async () => {
    const id = newProfileId();
    await store.put(Buffer.from('a'), fields(), { id });
    await expect(store.put(Buffer.from('b'), fields(), { id })).rejects.toThrow(/already exists/);
    await expect(store.put(Buffer.from('b'), fields(), { id: '../x' })).rejects.toThrow(/invalid profile id/);
    expect((await store.getBytes(id))!.toString()).toBe('a');
  });

  it('searches by substring, filters, sorts and pages', async () => {
    await store.put(
      Buffer.from('1'),
      fields({ project: 'ETL Nightly', name: 'load_rows', tags: { env: 'prod' }, uploadedAt: 1 } as never),
      { uploadedAt: 1000 },
    );
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
    expect(all.items.map((r) => r.sizeBytes)).toEqual([3, 2, 1]); // newest first

    expect((await store.search({ q: 'NIGHTLY' })).total).toBe(2);
    expect((await store.search({ q: 'request' })).items[0].name).toBe('handle_Request');
    expect((await store.search({ q: 'üNÏ' })).items[0].name).toBe('Ünïcode_fn');
    expect((await store.search({ q: 'absent' })).total).toBe(0);
    // two characters are too few for the trigram index: scanned, same answer
    expect((await store.search({ q: 'EB' })).items.map((r) => r.project)).toEqual(['web']);
    expect((await store.search({ q: '_r' })).items.map((r) => r.name)).toEqual(['handle_Request', 'load_rows']);
    const quoted = await store.put(Buffer.from('4'), fields({ project: 'say "hi" AND x', name: 'NEAR(a b)' }), {
      uploadedAt: 4000,
    });
    for (const q of ['"hi" and', 'near(a', '" AND X', 'y "'])
      expect((await store.search({ q })).items.map((r) => r.id)).toEqual([quoted.id]);
    await store.delete(quoted.id);
    expect((await store.search({ q: '"hi"' })).total).toBe(0);
    expect((await store.search({ project: 'web' })).total).toBe(1);
    expect((await store.search({ name: 'load_rows' })).total).toBe(1);
    expect((await store.search({ tags: { env: 'prod' } })).items.map((r) => r.name)).toEqual(['load_rows']);
    expect((await store.search({ tags: { env: null } })).total).toBe(2);
    expect((await store.search({ hasMemory: false })).items.map((r) => r.project)).toEqual(['web']);
    // the profile without a start time is filtered by its upload time
    expect((await store.search({ from: 1500, to: 2500 })).items.map((r) => r.project)).toEqual(['web']);
    expect((await store.search({ sort: 'durationMs', order: 'asc' })).items[0].durationMs).toBe(5);
    expect((await store.search({ sort: 'peakMemory', order: 'desc' })).items.at(-1)!.peakMemory).toBeNull();
    const page = await store.search({ limit: 1, offset: 1 });
    expect(page.total).toBe(3);
    expect(page.items.map((r) => r.sizeBytes)).toEqual([2]);
  });

  it('lists projects with their top-level names and counts', async () => {
    await store.put(Buffer.from('a'), fields({ project: 'etl', name: 'load', durationMs: 100, peakMemory: 500 }), {
      uploadedAt: 10,
    });
    await store.put(
      Buffer.from('b'),
      fields({ project: 'etl', name: 'load', durationMs: 200, peakMemory: null, hasMemory: false }),
      { uploadedAt: 20 },
    );
    await store.put(Buffer.from('c'), fields({ project: 'etl', name: 'save', durationMs: 300, peakMemory: 900 }), {
      uploadedAt: 30,
    });
    await store.put(Buffer.from('d'), fields({ project: null, name: null, peakMemory: null, hasMemory: false }), {
      uploadedAt: 5,
    });
    expect(await store.projects()).toEqual([
      {
        project: 'etl',
        count: 3,
        lastUpload: 30,
        nameCount: 2,
        names: [
          { name: 'load', count: 2 },
          { name: 'save', count: 1 },
        ],
        peakMemory: 900,
        lastDurationMs: 300,
        totalDurationMs: 600,
      },
      {
        project: null,
        count: 1,
        lastUpload: 5,
        nameCount: 1,
        names: [{ name: null, count: 1 }],
        peakMemory: null,
        lastDurationMs: 10_000,
        totalDurationMs: 10_000,
      },
    ]);
  });

  it('keeps the project summary right through deletes and prunes', async () => {
    const a = await store.put(Buffer.from('a'), fields({ project: 'etl', name: 'load' }), { uploadedAt: 10 });
    const b = await store.put(Buffer.from('b'), fields({ project: 'etl', name: 'load' }), { uploadedAt: 20 });
    await store.put(Buffer.from('c'), fields({ project: 'etl', name: 'save' }), { uploadedAt: 30 });
    await store.put(Buffer.from('d'), fields({ project: 'null', name: 'x' }), { uploadedAt: 40 });
    await store.put(Buffer.from('e'), fields({ project: null, name: 'x' }), { uploadedAt: 50 });
    await store.delete(b.id); // the newest "load": its last upload falls back to a's
    expect((await store.projects()).find((p) => p.project === 'etl')).toEqual({
      project: 'etl',
      count: 2,
      lastUpload: 30,
      nameCount: 2,
      names: [
        { name: 'load', count: 1 },
        { name: 'save', count: 1 },
      ],
      peakMemory: 1024,
      lastDurationMs: 10_000,
      totalDurationMs: 20_000,
    });
    await store.delete(a.id);
    expect((await store.projects()).find((p) => p.project === 'etl')!.names).toEqual([{ name: 'save', count: 1 }]);
    // the project "null" and profiles without a project are different groups
    expect((await store.projects()).map((p) => [p.project, p.count])).toEqual([
      [null, 1],
      ['null', 1],
      ['etl', 1],
    ]);
    await store.prune({ maxTotalBytes: 0 });
    expect(await store.projects()).toEqual([]);
  });

  it("keeps each project's peak memory and its latest and total duration through deletes", async () => {
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
    // an upload with an earlier time than the latest does not become the latest duration
    expect(await etl()).toMatchObject({ lastUpload: 20, lastDurationMs: 200, totalDurationMs: 600, peakMemory: 2000 });
    await store.delete(b.id); // load's latest: its group falls back to a (10), the project's latest is now c (15)
    expect(await etl()).toMatchObject({ lastUpload: 15, lastDurationMs: 300, totalDurationMs: 400, peakMemory: 2000 });
    await store.delete(c.id);
    expect(await etl()).toMatchObject({ lastUpload: 10, lastDurationMs: 100, totalDurationMs: 100, peakMemory: 2000 });
    await store.put(Buffer.from('d'), fields({ project: 'etl', name: 'load', durationMs: 50, peakMemory: 800 }), {
      uploadedAt: 30,
    });
    await store.delete(a.id); // it held the peak: the next largest takes over
    expect(await etl()).toMatchObject({
      count: 1,
      lastUpload: 30,
      lastDurationMs: 50,
      totalDurationMs: 50,
      peakMemory: 800,
    });
  });

  it('keeps the time zone of each profile', async () => {
    const zoned = await store.put(Buffer.from('z'), fields({ zone: 'Europe/Berlin' }));
    const unknown = await store.put(Buffer.from('u'), fields());
    expect(zoned.zone).toBe('Europe/Berlin');
    expect(await store.get(zoned.id)).toEqual(zoned);
    expect((await store.get(unknown.id))!.zone).toBeNull();
    expect((await store.search({ sort: 'uploadedAt', order: 'asc' })).items.map((r) => r.zone)).toEqual([
      'Europe/Berlin',
      null,
    ]);
  });

  it('migrates a schema 5 index: zones unknown, project peaks and durations rebuilt from the rows', async () => {
    await store.close();
    const file = join(dir, 'index.sqlite');
    await rm(file);
    const old = new Database(file);
    old.exec(`CREATE TABLE profiles (seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, project TEXT, name TEXT, tags TEXT NOT NULL,
      interpreter TEXT, host TEXT, start REAL, "end" REAL, duration_ms REAL NOT NULL, sample_count INTEGER NOT NULL, size_bytes INTEGER NOT NULL,
      peak_memory REAL, has_memory INTEGER NOT NULL, uploaded_at REAL NOT NULL, threads INTEGER NOT NULL, at REAL NOT NULL, search_text TEXT NOT NULL);
      CREATE TABLE project_names (key TEXT PRIMARY KEY, project TEXT, name TEXT, count INTEGER NOT NULL, last_upload REAL NOT NULL) WITHOUT ROWID;
      PRAGMA user_version = 5;`);
    const ids = [newProfileId(), newProfileId()];
    const insert =
      old.prepare(`INSERT INTO profiles (id, project, name, tags, duration_ms, sample_count, size_bytes, peak_memory, has_memory, uploaded_at, threads, at, search_text)
      VALUES (?, 'etl', 'load', '{}', ?, 1, 1, ?, 1, ?, 1, 1, ?)`);
    insert.run(ids[0], 40, 3000, 1, 'etl\u0000load');
    insert.run(ids[1], 60, 1000, 2, 'etl\u0000load');
    old.close();
    for (const id of ids) await writeFile(join(dir, 'profiles', `${id}.msgpack.gz`), 'blob');
    store = await openStore({ dir });
    expect(await store.projects()).toEqual([
      {
        project: 'etl',
        count: 2,
        lastUpload: 2,
        nameCount: 1,
        names: [{ name: 'load', count: 2 }],
        peakMemory: 3000,
        lastDurationMs: 60,
        totalDurationMs: 100,
      },
    ]);
    expect((await store.search({ q: 'load' })).items.map((r) => [r.id, r.zone])).toEqual([
      [ids[1], null],
      [ids[0], null],
    ]);
    const zoned = await store.put(Buffer.from('z'), fields({ project: 'etl', name: 'load', zone: '+05:30' }));
    expect((await store.get(zoned.id))!.zone).toBe('+05:30');
    const check = new Database(file, { readonly: true });
    expect(check.pragma('user_version', { simple: true })).toBe(6);
    check.close();
  });

  it('matches tags exactly, whatever characters keys and values hold', async () => {
    const odd = await store.put(Buffer.from('1'), fields({ tags: { 'a\u001eb': 'c\u001fd', env: 'prod\\' } }));
    const plain = await store.put(Buffer.from('2'), fields({ tags: { a: 'b\u001ec', env: 'prod' } }));
    const ids = async (tags: Record<string, string | null>) => (await store.search({ tags })).items.map((r) => r.id);
    expect(await ids({ 'a\u001eb': 'c\u001fd' })).toEqual([odd.id]);
    expect(await ids({ a: null })).toEqual([plain.id]);
    expect(await ids({ a: 'b' })).toEqual([]);
    expect(await ids({ env: 'prod' })).toEqual([plain.id]);
    expect(await ids({ env: 'prod\\' })).toEqual([odd.id]);
    expect(await ids({ env: 'prod', a: null })).toEqual([plain.id]);
    expect((await store.get(odd.id))!.tags).toEqual({ 'a\u001eb': 'c\u001fd', env: 'prod\\' });
  });

  it('migrates an index written by the first schema (tags in a side table, no project summary)', async () => {
    await store.close();
    const file = join(dir, 'index.sqlite');
    await rm(file);
    const old = new Database(file);
    old.exec(`CREATE TABLE profiles (id TEXT PRIMARY KEY, project TEXT, name TEXT, tags TEXT NOT NULL, interpreter TEXT, host TEXT,
      start REAL, "end" REAL, duration_ms REAL NOT NULL, sample_count INTEGER NOT NULL, size_bytes INTEGER NOT NULL, peak_memory REAL,
      has_memory INTEGER NOT NULL, uploaded_at REAL NOT NULL, threads INTEGER NOT NULL, at REAL NOT NULL, search_text TEXT NOT NULL) WITHOUT ROWID;
      CREATE INDEX profiles_search ON profiles (search_text);
      CREATE TABLE profile_tags (profile_id TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (profile_id, key)) WITHOUT ROWID;`);
    const id = newProfileId();
    old
      .prepare(
        `INSERT INTO profiles VALUES (?, 'etl', 'load', '{"env":"prod"}', 'cpython', NULL, 1, 2, 1, 1, 4, NULL, 0, 7, 1, 1, ?)`,
      )
      .run(id, 'etl\u0000load');
    old.close();
    await writeFile(join(dir, 'profiles', `${id}.msgpack.gz`), 'blob');
    store = await openStore({ dir });
    expect((await store.search({ tags: { env: 'prod' } })).items.map((r) => r.id)).toEqual([id]);
    expect(await store.projects()).toEqual([
      {
        project: 'etl',
        count: 1,
        lastUpload: 7,
        nameCount: 1,
        names: [{ name: 'load', count: 1 }],
        peakMemory: null,
        lastDurationMs: 1,
        totalDurationMs: 1,
      },
    ]);
    expect((await store.get(id))!.zone).toBeNull(); // the first schema had no zone column
    const next = await store.put(Buffer.from('x'), fields({ project: 'etl', name: 'load' }), { uploadedAt: 9 });
    expect((await store.projects())[0]).toMatchObject({ count: 2, lastUpload: 9 });
    expect(next.id).not.toBe(id);
  });

  it('finds the same pages whichever plan it picks (sparse matches sorted, dense ones walked)', async () => {
    // sparse: every filter's matches sorted alone; walk: dense matches paged by walking the sort index
    const sparse = new SqliteProfileIndex(join(dir, 'sparse.sqlite'), { sparseMatches: Infinity });
    const walk = new SqliteProfileIndex(join(dir, 'walk.sqlite'), { sparseMatches: 0 });
    const rows = Array.from({ length: 400 }, (_, i) => ({
      ...fields({
        project: i % 50 === 0 ? 'Rare' : 'common',
        name: `f${i % 7}`,
        durationMs: (i * 7919) % 1000,
        hasMemory: i % 2 === 0,
        peakMemory: i % 2 ? null : i,
        tags: { i: String(i % 3) },
      }),
      id: newProfileId(),
      sizeBytes: i,
      uploadedAt: i,
    }));
    for (const index of [sparse, walk]) index.insertMany(rows);
    const queries: SearchQuery[] = [
      { q: 'rare', sort: 'durationMs', order: 'asc', limit: 4, offset: 1 },
      { tags: { i: '0' }, limit: 5, offset: 90 },
      { q: 'COMMON', sort: 'peakMemory', order: 'asc', limit: 10, offset: 190 },
      { hasMemory: true, name: 'f3', sort: 'name', limit: 7 },
      { from: 100, to: 120, sort: 'start', order: 'asc' },
      { q: 'common', offset: 1000 },
      { q: 'common', tags: { i: '1' }, sort: 'sizeBytes', order: 'asc', limit: 3, offset: 120 },
      { sort: 'project', order: 'asc', limit: 3, offset: 395 },
      { q: 'f', limit: 0 },
      { q: 'mon', hasMemory: false, sort: 'durationMs', limit: 20, offset: 30 },
      { tags: { i: null }, q: 'ra', sort: 'start', order: 'asc' },
    ];
    for (const query of queries) {
      const a = await walk.search(query);
      expect(await sparse.search(query)).toEqual(a);
      const expected = rows
        .filter((r) => !query.q || `${r.project}\u0000${r.name}`.toLowerCase().includes(query.q.toLowerCase()))
        .filter((r) => Object.entries(query.tags ?? {}).every(([k, v]) => (v === null ? k in r.tags : r.tags[k] === v)))
        .filter(
          (r) =>
            (query.hasMemory === undefined || r.hasMemory === query.hasMemory) &&
            (query.name === undefined || r.name === query.name),
        )
        .filter(
          (r) =>
            (query.from === undefined || r.start! >= query.from) && (query.to === undefined || r.start! <= query.to),
        );
      expect(a.total).toBe(expected.length);
      expect(a.items.length).toBe(Math.max(0, Math.min(query.limit ?? 50, expected.length - (query.offset ?? 0))));
    }
    expect((await walk.search(queries[1])).items.map((r) => r.uploadedAt)).toEqual([129, 126, 123, 120, 117]);
    const rare = await sparse.search(queries[0]);
    expect(rare.items.map((r) => r.durationMs)).toEqual(
      [0, 50, 100, 150, 200, 250, 300, 350]
        .map((i) => (i * 7919) % 1000)
        .sort((x, y) => x - y)
        .slice(1, 5),
    );
    for (const index of [sparse, walk]) await index.close();
  });

  it('deletes and prunes by age and by total size', async () => {
    const a = await store.put(Buffer.alloc(100), fields(), { uploadedAt: 1_000 });
    const b = await store.put(Buffer.alloc(100), fields(), { uploadedAt: 2_000 });
    const c = await store.put(Buffer.alloc(100), fields(), { uploadedAt: 3_000 });
    const d = await store.put(Buffer.alloc(100), fields(), { uploadedAt: 4_000 });
    expect(await store.delete(a.id)).toBe(true);
    expect(await store.delete(a.id)).toBe(false);
    expect(await store.getBytes(a.id)).toBeNull();

    const byAge = await store.prune({ olderThanMs: 2_500, now: 5_000 }); // older than 2,500 ms: b
    expect(byAge).toEqual({ deleted: [b.id], freedBytes: 100 });
    const bySize = await store.prune({ maxTotalBytes: 150 }); // keeps only the newest
    expect(bySize.deleted).toEqual([c.id]);
    expect(await store.stats()).toEqual({ count: 1, totalBytes: 100 });
    expect(await readdir(join(dir, 'profiles'))).toEqual([`${d.id}.msgpack.gz`]);
  });

  it('keeps index and files consistent under concurrent puts and deletes', async () => {
    const rows = await Promise.all(
      Array.from({ length: 60 }, (_, i) => store.put(randomBytes(1000 + i), fields({ name: `f${i}` }))),
    );
    await Promise.all(rows.filter((_, i) => i % 3 === 0).map((r) => store.delete(r.id)));
    const { total, items } = await store.search({ limit: 1000 });
    expect(total).toBe(40);
    const files = (await readdir(join(dir, 'profiles'))).sort();
    expect(files).toEqual(items.map((r) => `${r.id}.msgpack.gz`).sort());
  });

  it('commits the rows of one turn together: a duplicate fails alone; kept counts equal a scan', async () => {
    const file = join(dir, 'batch.sqlite');
    const index = new SqliteProfileIndex(file);
    const row = (id: string, sizeBytes: number) => ({ ...fields(), id, sizeBytes, uploadedAt: 1 });
    const ids = Array.from({ length: 20 }, newProfileId);
    // Queued in one turn: one transaction, in which the second row of ids[3] is refused alone.
    const outcomes = await Promise.allSettled([
      ...ids.map((id, i) => index.insert(row(id, 100 + i))),
      index.insert(row(ids[3], 5)),
    ]);
    expect(outcomes.slice(0, 20).every((o) => o.status === 'fulfilled')).toBe(true);
    expect(outcomes[20]).toMatchObject({ status: 'rejected', reason: { code: 'SQLITE_CONSTRAINT_UNIQUE' } });
    expect(await index.get(ids[3])).toMatchObject({ sizeBytes: 103 });
    expect(await index.remove([ids[0], ids[1], 'no-such-id'])).toBe(2);
    const scanned = () => {
      const db = new Database(file, { readonly: true });
      try {
        return db.prepare('SELECT count(*) AS count, coalesce(sum(size_bytes), 0) AS totalBytes FROM profiles').get();
      } finally {
        db.close();
      }
    };
    expect(await index.stats()).toEqual({ count: 18, totalBytes: 18 * 100 + (190 - 1) });
    expect(await index.stats()).toEqual(scanned());
    await index.close();
  });

  it('repairs with a grace period when several instances share the data: young leftovers are left alone', async () => {
    const kept = await store.put(Buffer.from('kept'), fields());
    const profiles = join(dir, 'profiles');
    const young = newProfileId();
    const old = newProfileId();
    await writeFile(join(profiles, `${young}.msgpack.gz`), 'another instance is about to index this');
    await writeFile(join(profiles, `${old}.msgpack.gz`), 'left by a crash an hour ago');
    await writeFile(join(profiles, `.tmp-${young}.msgpack.gz-abc`), 'being written');
    const hourAgo = new Date(Date.now() - 3_600_000);
    await utimes(join(profiles, `${old}.msgpack.gz`), hourAgo, hourAgo);
    expect(await store.repair({ graceMs: 600_000 })).toEqual({
      tempFiles: 0,
      reindexed: 0,
      quarantined: 1,
      rowsWithoutFile: 0,
      orphanSummaries: 0,
    });
    expect(await readdir(join(dir, 'quarantine'))).toContain(`${old}.msgpack.gz`);
    expect((await readdir(profiles)).sort()).toEqual(
      [`.tmp-${young}.msgpack.gz-abc`, `${kept.id}.msgpack.gz`, `${young}.msgpack.gz`].sort(),
    );
    expect(await store.get(kept.id)).not.toBeNull();
  });

  it('repairs at start-up what a crash left: temp files, unreadable files without rows, rows without files', async () => {
    const kept = await store.put(Buffer.from('kept'), fields());
    const lost = await store.put(Buffer.from('lost'), fields());
    await store.close();
    const profiles = join(dir, 'profiles');
    await writeFile(join(profiles, `.tmp-${newProfileId()}.msgpack.gz-abc`), 'half written');
    const orphan = newProfileId();
    await writeFile(join(profiles, `${orphan}.msgpack.gz`), 'file written, row never committed');
    await unlink(join(profiles, `${lost.id}.msgpack.gz`));

    store = await openStore({ dir });
    expect(store.lastRepair).toEqual({
      tempFiles: 1,
      reindexed: 0,
      quarantined: 1,
      rowsWithoutFile: 1,
      orphanSummaries: 0,
    });
    expect(await readdir(profiles)).toEqual([`${kept.id}.msgpack.gz`]);
    // not a document, so not indexed; moved aside, never deleted
    expect(await readFile(join(dir, 'quarantine', `${orphan}.msgpack.gz`), 'utf8')).toBe(
      'file written, row never committed',
    );
    expect(await store.quarantined()).toBe(1);
    expect((await store.search()).items.map((r) => r.id)).toEqual([kept.id]);
    expect(await readFile(join(profiles, `${kept.id}.msgpack.gz`), 'utf8')).toBe('kept');
  });
});

describe('summary blobs', () => {
  it('read many ranges in one call (readMany): the bytes of each in order, past the end refused, closed only after', async () => {
    const row = await store.put(Buffer.from('document'), fields());
    const { parts, whole } = summaryParts(1_000_000);
    await store.putSummary(row.id, parts);
    const reader = (await store.openSummary(row.id))!;
    expect(reader.readMany).toBeTypeOf('function');
    // 2,000 ranges as a zoom asks them (ascending, far apart), and some out of order and overlapping.
    const ranges: number[] = [];
    for (let i = 0; i < 2000; i++) ranges.push(i * 490 + (i % 13), 1 + ((i * 37) % 512));
    ranges.push(999_990, 10, 0, 1, 500, 700, 0, 0);
    const expected = Buffer.concat(
      Array.from({ length: ranges.length / 2 }, (_, k) =>
        whole.subarray(ranges[2 * k], ranges[2 * k] + ranges[2 * k + 1]),
      ),
    );
    // Several batches at once (they spread over the reader threads), each whole and in order.
    const batches = await Promise.all([1, 2, 3, 4, 5, 6].map(() => reader.readMany!(ranges)));
    for (const bytes of batches) expect(Buffer.from(bytes).equals(expected)).toBe(true);
    // Batches handed back (`release`) and reused by smaller ones: each still exactly its own bytes.
    expect(reader.release).toBeTypeOf('function');
    for (const bytes of batches) reader.release!(bytes);
    for (const n of [2000, 7, 1]) {
      const some = ranges.slice(0, 2 * n);
      const bytes = await reader.readMany!(some);
      expect(Buffer.from(bytes).equals(expected.subarray(0, bytes.byteLength))).toBe(true);
      expect(bytes.byteLength).toBe(some.reduce((sum, x, i) => (i % 2 ? sum + x : sum), 0));
      reader.release!(bytes);
    }
    // A small batch (read on libuv's pool, not a reader thread): the odd ranges too, the empty one included.
    const odd = [...ranges.slice(0, 2 * 60), ...ranges.slice(-8)];
    const oddBytes = await reader.readMany!(odd);
    const oddWant = Buffer.concat(
      Array.from({ length: odd.length / 2 }, (_, k) => whole.subarray(odd[2 * k], odd[2 * k] + odd[2 * k + 1])),
    );
    expect(Buffer.from(oddBytes).equals(oddWant)).toBe(true);
    reader.release!(oddBytes);
    await expect(reader.readMany!([999_999, 2])).rejects.toThrow(/read past its end \(1000001 > 1000000\)/);
    await expect(reader.readMany!([-1, 2])).rejects.toThrow(/bad range -1\+2/);
    // Closed while a batch is out: the batch still gets its bytes, the descriptor is closed after it.
    const pending = reader.readMany!(ranges);
    const pendingSmall = reader.readMany!(odd);
    const closed = reader.close();
    expect(Buffer.from(await pending).equals(expected)).toBe(true);
    expect(Buffer.from(await pendingSmall).equals(oddWant)).toBe(true);
    await closed;
  });

  it('are stored atomically beside their document, read by range, deleted, pruned and quarantined with it', async () => {
    await checkSummaryBlobs(store);
    expect((await store.repair()).orphanSummaries).toBe(1);
    expect(await store.blobs.listSummaries()).toHaveLength(1);
    // Quarantined with an unreadable document (moved aside; its summary describes nothing).
    const [kept] = await store.blobs.listSummaries();
    await store.blobs.quarantine(kept, 'test');
    expect(await store.openSummary(kept)).toBeNull();
    expect((await readdir(join(dir, 'profiles'))).filter((n) => n.startsWith('.tmp-'))).toEqual([]);
  });
});
