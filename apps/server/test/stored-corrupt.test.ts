// Issue 11 §6: a stored document damaged on disk (cut short, bit-flipped) is the server's fault: its
// first read answers 500 `stored-corrupt`, never the damaged bytes with a year of caching, and never a
// client error. Real server over HTTP, real files damaged between two starts.
// The embedded store whatever PROF_TEST_STORE says: the bytes are damaged in the data directory's files.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipDocument, readProfileFile } from '@prof/format/node';
import { createServer, type ProfServer } from '../src/index';
import { fixtures, json } from './helpers';

let root: string;
let server: ProfServer;
let url: string;
const ids: string[] = [];

const start = async () => {
  server = await createServer({ dataDir: join(root, 'data'), webRoot: null, demoDir: null });
  url = await server.listen();
};

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'prof-corrupt-'));
  await start();
  const doc = await readProfileFile(join(fixtures, 'vmprof-fresh/memory_spiky.prof'));
  for (let i = 0; i < 3; i++) {
    doc.meta.name = `copy ${i}`;
    const res = await fetch(`${url}/api/profiles`, { method: 'POST', body: new Uint8Array(await gzipDocument(doc)) });
    ids.push((await json(res)).id);
  }
  await server.close();
  const file = (id: string) => join(root, 'data/profiles', `${id}.msgpack.gz`);
  const flipped = await readFile(file(ids[0]));
  flipped[Math.floor(flipped.length / 2)] ^= 0xff;
  await writeFile(file(ids[0]), flipped);
  await truncate(file(ids[1]), Math.floor(flipped.length / 2));
  await start();
});

afterAll(async () => {
  await server.close();
  await rm(root, { recursive: true, force: true });
});

describe('damaged stored documents', () => {
  it.each([
    ['bit-flipped', 0],
    ['cut short', 1],
  ])('%s: /document and /memory answer 500 stored-corrupt, not cacheable', async (_what, i) => {
    for (const view of ['document', 'memory?bins=100', 'stacks']) {
      const res = await fetch(`${url}/api/profiles/${ids[i]}/${view}`);
      const answer = await json(res);
      expect(res.status, view).toBe(500);
      expect(answer.error.code).toBe('stored-corrupt');
      expect(answer.error.message).toMatch(/is damaged .*restore profiles\/[a-z2-7]{24}\.msgpack\.gz/);
      expect(res.headers.get('cache-control') ?? '').not.toMatch(/immutable/);
    }
  });

  it('the sound one serves as before', async () => {
    const res = await fetch(`${url}/api/profiles/${ids[2]}/document`);
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toMatch(/immutable/);
    expect((await fetch(`${url}/api/profiles/${ids[2]}/memory?bins=100`)).status).toBe(200);
  });
});
