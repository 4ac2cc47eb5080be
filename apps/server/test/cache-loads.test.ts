// Issue 12 §6: the bytes and decoded caches merge concurrent loads of one id with lru-cache's `fetch`.
// Concurrent callers share one load (the store hands out a fresh Buffer per read, so one object for
// every caller means one read, and one DecodedProfile means one decode); a failed load is not kept,
// so the next call loads again; a load overtaken by forget() still answers its callers but is not
// kept. Real server, real stored file damaged and restored on disk.
// The embedded store whatever PROF_TEST_STORE says: the damage is done to the data directory's file.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipDocument, readProfileFile } from '@prof/format/node';
import { createServer, type ProfServer } from '../src/index';
import { BytesCache } from '../src/bytes-cache';
import { DecodedCache } from '../src/decoded-cache';
import { fixtures, json } from './helpers';

const CALLERS = 8;
let root: string;
let server: ProfServer;
let id: string;
let file: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'prof-cache-loads-'));
  server = await createServer({ dataDir: join(root, 'data'), webRoot: null, demoDir: null });
  const url = await server.listen();
  const doc = await readProfileFile(join(fixtures, 'vmprof-fresh/memory_spiky.prof'));
  const res = await fetch(`${url}/api/profiles`, { method: 'POST', body: new Uint8Array(await gzipDocument(doc)) });
  expect(res.status).toBe(201);
  id = (await json(res)).id;
  file = join(root, 'data/profiles', `${id}.msgpack.gz`);
});

afterAll(async () => {
  await server?.close();
  await rm(root, { recursive: true, force: true });
});

/** Fresh caches over the server's store (the server's own caches already hold the upload). */
const caches = () => {
  const bytes = new BytesCache(server.store, 64 * 1024 ** 2);
  return { bytes, decoded: new DecodedCache(bytes, 1024 ** 3, 1024 ** 3) };
};

/** Runs `body` with the stored file bit-flipped, then puts the sound bytes back. */
async function whileDamaged(body: () => Promise<void>): Promise<void> {
  const sound = await readFile(file);
  const flipped = Buffer.from(sound);
  flipped[Math.floor(flipped.length / 2)] ^= 0xff;
  await writeFile(file, flipped);
  try {
    await body();
  } finally {
    await writeFile(file, sound);
  }
}

describe('cache loads', () => {
  it('the store reads a fresh Buffer each time (what makes one object per caller mean one read)', async () => {
    const [a, b] = await Promise.all([caches().bytes.get(id), caches().bytes.get(id)]);
    expect(a).not.toBeNull();
    expect(a).not.toBe(b);
    expect(a?.equals(b as Buffer)).toBe(true);
  });

  it('concurrent gets of one cold id share one read, then hit', async () => {
    const { bytes } = caches();
    const got = await Promise.all(Array.from({ length: CALLERS }, () => bytes.get(id)));
    expect(new Set(got).size).toBe(1);
    expect(got[0]).not.toBeNull();
    expect({ hits: bytes.hits, misses: bytes.misses }).toEqual({ hits: 0, misses: CALLERS });
    expect(await bytes.get(id)).toBe(got[0]);
    expect(bytes.hits).toBe(1);
  });

  it('concurrent decodes of one cold id share one decode, then hit', async () => {
    const { decoded } = caches();
    const got = await Promise.all(Array.from({ length: CALLERS }, () => decoded.get(id)));
    expect(new Set(got).size).toBe(1);
    expect(await decoded.get(id)).toBe(got[0]);
    expect(decoded.stats().decoded).toEqual({ hits: 1, misses: CALLERS });
    expect(decoded.stats().bytes).toEqual({ hits: 0, misses: 1 });
    expect(decoded.size.entries).toBe(1);
  });

  it('a failed load is not kept: every concurrent caller sees it, the next call loads again', async () => {
    const { bytes, decoded } = caches();
    await whileDamaged(async () => {
      for (const result of await Promise.allSettled(Array.from({ length: CALLERS }, () => decoded.get(id)))) {
        expect(result.status).toBe('rejected');
        expect((result as PromiseRejectedResult).reason.code).toBe('stored-corrupt');
      }
      await expect(bytes.get(id)).rejects.toMatchObject({ code: 'stored-corrupt' });
      expect(decoded.size.entries).toBe(0);
    });
    const sound = await decoded.get(id);
    expect(sound.doc.samples).toBeDefined();
    expect(await decoded.get(id)).toBe(sound);
    expect(await bytes.get(id)).not.toBeNull();
  });

  it('a load overtaken by forget() answers its callers and is not kept', async () => {
    const { bytes, decoded } = caches();
    const pending = [decoded.get(id), decoded.get(id)];
    decoded.forget(id);
    const [a, b] = await Promise.all(pending);
    expect(a).toBe(b);
    expect(decoded.size.entries).toBe(0);
    const again = await decoded.get(id);
    expect(again).not.toBe(a);
    expect(bytes.misses).toBe(2);
  });
});
