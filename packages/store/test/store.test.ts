import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtemp, readdir, rm, writeFile, unlink, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { openStore, isProfileId, newProfileId, type CompositeProfileStore, type ProfileFields } from '../src/index';

function fields(overrides: Partial<ProfileFields> = {}): ProfileFields {
  return {
    project: 'etl',
    name: 'main',
    tags: {},
    interpreter: 'cpython',
    host: 'box',
    start: 1_700_000_000_000,
    end: 1_700_000_010_000,
    durationMs: 10_000,
    sampleCount: 100,
    peakMemory: 1024,
    hasMemory: true,
    threads: 1,
    ...overrides,
  };
}

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
    for (const bad of ['../etc/passwd', 'ABCDEFGHIJKLMNOPQRSTUVWX', 'a'.repeat(23), 'a'.repeat(25), '', 'aaaaaaaaaaaaaaaaaaaaaaa/', 5]) {
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
    expect((await readdir(join(dir, 'profiles')))).toEqual([`${row.id}.msgpack.gz`]);
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
    await store.put(Buffer.from('1'), fields({ project: 'ETL Nightly', name: 'load_rows', tags: { env: 'prod' }, uploadedAt: 1 } as never), { uploadedAt: 1000 });
    await store.put(Buffer.from('22'), fields({ project: 'web', name: 'handle_Request', hasMemory: false, peakMemory: null, start: null }), { uploadedAt: 2000 });
    await store.put(Buffer.from('333'), fields({ project: 'etl nightly', name: 'Ünïcode_fn', tags: { env: 'dev' }, durationMs: 5 }), { uploadedAt: 3000 });

    const all = await store.search();
    expect(all.total).toBe(3);
    expect(all.items.map((r) => r.sizeBytes)).toEqual([3, 2, 1]); // newest first

    expect((await store.search({ q: 'NIGHTLY' })).total).toBe(2);
    expect((await store.search({ q: 'request' })).items[0].name).toBe('handle_Request');
    expect((await store.search({ q: 'üNÏ' })).items[0].name).toBe('Ünïcode_fn');
    expect((await store.search({ q: 'absent' })).total).toBe(0);
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
    await store.put(Buffer.from('a'), fields({ project: 'etl', name: 'load' }), { uploadedAt: 10 });
    await store.put(Buffer.from('b'), fields({ project: 'etl', name: 'load' }), { uploadedAt: 20 });
    await store.put(Buffer.from('c'), fields({ project: 'etl', name: 'save' }), { uploadedAt: 30 });
    await store.put(Buffer.from('d'), fields({ project: null, name: null }), { uploadedAt: 5 });
    expect(await store.projects()).toEqual([
      { project: 'etl', count: 3, lastUpload: 30, names: [{ name: 'load', count: 2 }, { name: 'save', count: 1 }] },
      { project: null, count: 1, lastUpload: 5, names: [{ name: null, count: 1 }] },
    ]);
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
    const rows = await Promise.all(Array.from({ length: 60 }, (_, i) => store.put(randomBytes(1000 + i), fields({ name: `f${i}` }))));
    await Promise.all(rows.filter((_, i) => i % 3 === 0).map((r) => store.delete(r.id)));
    const { total, items } = await store.search({ limit: 1000 });
    expect(total).toBe(40);
    const files = (await readdir(join(dir, 'profiles'))).sort();
    expect(files).toEqual(items.map((r) => `${r.id}.msgpack.gz`).sort());
  });

  it('repairs at start-up what a crash left: temp files, files without rows, rows without files', async () => {
    const kept = await store.put(Buffer.from('kept'), fields());
    const lost = await store.put(Buffer.from('lost'), fields());
    await store.close();
    const profiles = join(dir, 'profiles');
    await writeFile(join(profiles, `.tmp-${newProfileId()}.msgpack.gz-abc`), 'half written');
    const orphan = newProfileId();
    await writeFile(join(profiles, `${orphan}.msgpack.gz`), 'file written, row never committed');
    await unlink(join(profiles, `${lost.id}.msgpack.gz`));

    store = await openStore({ dir });
    expect(store.lastRepair).toEqual({ tempFiles: 1, orphanFiles: 1, rowsWithoutFile: 1 });
    expect(await readdir(profiles)).toEqual([`${kept.id}.msgpack.gz`]);
    expect((await store.search()).items.map((r) => r.id)).toEqual([kept.id]);
    expect(await readFile(join(profiles, `${kept.id}.msgpack.gz`), 'utf8')).toBe('kept');
  });
});
