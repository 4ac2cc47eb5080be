// Several `prof-server` processes on one PostgreSQL index and one S3 bucket, over HTTP, as deployed
// behind a load balancer; and one server riding out an outage of each.
import { afterAll, afterEach, describe, expect, inject, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { gzipDocument, readProfileFile } from '@prof/format/node';
import { PostgresProfileIndex, S3BlobStore, SharedProfileStore, fieldsFromDocument, openStore } from '@prof/store';
import { startPostgres, startS3 } from '../../../scripts/services.mjs';
import { fixtures, json, startServer } from './helpers';
import { rawRequest } from './raw-http';

const cli = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
const TOKEN = 'shared-token';
const auth = { authorization: `Bearer ${TOKEN}` };
const running: ChildProcess[] = [];
const dirs: string[] = [];

afterEach(async () => {
  for (const proc of running.splice(0)) proc.kill('SIGKILL');
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

/** A fresh schema and key prefix on the run's PostgreSQL and bucket: one shared store. */
function sharedStoreUrls(): { index: string; blobs: string } {
  const tag = randomBytes(6).toString('hex');
  const s3 = inject('s3');
  return {
    index: `${inject('pgUrl')}?schema=s_${tag}`,
    blobs: `s3://${s3.accessKeyId}:${s3.secretAccessKey}@${s3.bucket}/s-${tag}?endpoint=${encodeURIComponent(s3.endpoint)}&region=us-east-1`,
  };
}

/** Starts the built bin on the shared store; resolves with its URL once it listens. */
async function instance(
  urls: { index: string; blobs: string },
  extraEnv: Record<string, string> = {},
): Promise<{ url: string; proc: ChildProcess }> {
  if (!existsSync(cli)) throw new Error(`${cli} is missing: build @prof/server first`);
  const cwd = await mkdtemp(join(tmpdir(), 'prof-shared-'));
  dirs.push(cwd);
  const env = {
    ...process.env,
    PROF_INDEX: urls.index,
    PROF_BLOBS: urls.blobs,
    PROF_TOKEN: TOKEN,
    PORT: '0',
    ...extraEnv,
  };
  const proc = spawn(process.execPath, [cli, '--anonymous-submit'], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  running.push(proc);
  let out = '';
  return new Promise((resolve, reject) => {
    const onData = (d: Buffer) => {
      out += d;
      const m = /Prof server listening on (http:\/\/\S+)\n/.exec(out);
      if (m) resolve({ url: m[1], proc });
    };
    proc.stdout!.on('data', onData);
    proc.stderr!.on('data', onData);
    proc.on('exit', (code) => reject(new Error(`prof-server exited with ${code}: ${out}`)));
  });
}

/** The document's bytes as stored (fetch inflates the gzip it is served with). */
async function documentOf(url: string, id: string): Promise<{ status: number; bytes: Buffer }> {
  const response = await fetch(`${url}/api/profiles/${id}/document`);
  return { status: response.status, bytes: Buffer.from(await response.arrayBuffer()) };
}

/** Polls until `check` passes, up to the deadline, and returns how long it took. */
async function within(ms: number, check: () => Promise<boolean>): Promise<number> {
  const start = Date.now();
  while (!(await check())) {
    if (Date.now() - start > ms) throw new Error(`not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return Date.now() - start;
}

async function waitIndexed(url: string, id: string): Promise<void> {
  await within(30_000, async () => (await fetch(`${url}/api/profiles/${id}`)).status === 200);
}

describe('several servers on one PostgreSQL and one bucket', () => {
  it('an upload through any protocol on one is byte-identical on the others; a delete is seen by all', async () => {
    const urls = sharedStoreUrls();
    const [a, b, c] = await Promise.all([instance(urls), instance(urls), instance(urls)]);
    const ids: string[] = [];
    // our protocol: a raw vmprof file (converted on arrival) and a .msgpack.gz document
    const prof = await readFile(join(fixtures, 'vmprof-fresh/memory_spiky.prof'));
    const raw = await fetch(`${a.url}/api/profiles?project=shared`, {
      method: 'POST',
      body: prof as unknown as BodyInit,
      headers: auth,
    });
    expect(raw.status).toBe(201);
    ids.push((await json(raw)).id);
    const doc = await gzipDocument(await readProfileFile(join(fixtures, 'vmprof-fresh/threads.prof')));
    const gz = await fetch(`${a.url}/api/profiles`, {
      method: 'POST',
      body: doc as unknown as BodyInit,
      headers: auth,
    });
    expect(gz.status).toBe(201);
    ids.push((await json(gz)).id);
    // the vmprof client (runtime protocol, converted after the answer) and the seed client
    const rid = (await json(await fetch(`${a.url}/api/runtime/new`, { method: 'POST', body: '{}', headers: auth })))
      .runtime_id;
    const cpu = await readFile(join(fixtures, 'vmprof-fresh/memory_cputimer.prof'));
    const add = await fetch(`${a.url}/api/runtime/upload/cpu/${rid}/add`, {
      method: 'POST',
      body: cpu as unknown as BodyInit,
      headers: auth,
    });
    expect(add.status).toBe(200);
    expect((await fetch(`${a.url}/api/runtime/${rid}/freeze/`, { method: 'POST', headers: auth })).status).toBe(200);
    ids.push(rid);
    const capture = JSON.parse(
      await readFile(join(fixtures, 'vmprof-viewer-client/cli-derived-v3-memory.request.json'), 'utf8'),
    );
    const body = await readFile(join(fixtures, 'vmprof-viewer-client/cli-derived-v3-memory.request.bin'));
    const seed = await rawRequest(a.url, capture.method, capture.path, capture.headers, body);
    expect(seed.status).toBe(200);
    ids.push(seed.body.toString().split('/')[2]);

    for (const id of ids) {
      await waitIndexed(b.url, id);
      const [onA, onB, onC] = await Promise.all([a, b, c].map((s) => documentOf(s.url, id)));
      expect(onA.status).toBe(200);
      expect(onA.bytes.length).toBeGreaterThan(1000);
      expect(Buffer.compare(onB.bytes, onA.bytes)).toBe(0);
      expect(Buffer.compare(onC.bytes, onA.bytes)).toBe(0);
    }
    expect(Buffer.compare((await documentOf(c.url, ids[1])).bytes, gunzipSync(doc))).toBe(0);
    const listed = await json(await fetch(`${c.url}/api/profiles?limit=10`));
    expect(listed.items.map((r: { id: string }) => r.id).sort()).toEqual([...ids].sort());
    expect((await json(await fetch(`${b.url}/api/projects`))).projects.map((p: any) => p.project)).toContain('shared');

    // every instance has the profile warm (bytes and decoded), then one deletes it
    const victim = ids[0];
    for (const s of [a, b, c]) expect((await fetch(`${s.url}/api/profiles/${victim}/memory`)).status).toBe(200);
    // a second view is answered from the summaries opened by the first (the document is not decoded)
    expect((await fetch(`${a.url}/api/profiles/${victim}/memory`)).status).toBe(200);
    expect((await json(await fetch(`${a.url}/health`))).summaries.open).toBeGreaterThanOrEqual(1);
    const deleted = await fetch(`${b.url}/api/profiles/${victim}`, { method: 'DELETE', headers: auth });
    expect(deleted.status).toBe(200);
    for (const s of [a, c]) {
      await within(1000, async () => {
        const statuses = await Promise.all(
          ['', '/document', '/memory', '/stacks'].map(
            async (path) => (await fetch(`${s.url}/api/profiles/${victim}${path}`)).status,
          ),
        );
        return statuses.every((status) => status === 404);
      });
    }
    const ready = await fetch(`${a.url}/ready`);
    expect(ready.status).toBe(200);
    const metrics = await (await fetch(`${a.url}/metrics`)).text();
    expect(metrics).toMatch(/prof_uploads_total\{protocol="prof",outcome="ok"\} 2/);
    expect(metrics).toMatch(
      /prof_http_request_duration_seconds_count\{method="GET",route="\/api\/profiles\/:id\/document",status="200"\} [1-9]/,
    );
  });

  it('SIGKILL during 20 concurrent uploads: every acknowledged upload intact, no row without a blob, no orphan after the grace period', async () => {
    const urls = sharedStoreUrls();
    const [survivor, victim] = await Promise.all([instance(urls), instance(urls)]);
    const base = await readProfileFile(join(fixtures, 'vmprof-fresh/memory_spiky.prof'));
    const bodies = await Promise.all(
      Array.from({ length: 20 }, async (_, i) => gzipDocument({ ...base, meta: { ...base.meta, name: `job${i}` } })),
    );
    const acknowledged = new Map<string, Buffer>();
    const uploads = bodies.map(async (body) => {
      const response = await fetch(`${victim.url}/api/profiles`, {
        method: 'POST',
        body: body as unknown as BodyInit,
        headers: auth,
      });
      if (response.status === 201) acknowledged.set((await json(response)).id, body);
    });
    const settled = Promise.allSettled(uploads);
    await within(30_000, async () => acknowledged.size >= 3);
    victim.proc.kill('SIGKILL');
    await settled;
    expect(acknowledged.size).toBeGreaterThanOrEqual(3);
    expect(acknowledged.size).toBeLessThan(20); // killed with uploads in flight
    for (const [id, body] of acknowledged) {
      const { status, bytes } = await documentOf(survivor.url, id);
      expect(status).toBe(200);
      expect(Buffer.compare(bytes, gunzipSync(body))).toBe(0);
    }
    // the store itself: every row has its blob; blobs without a row go once past the grace period
    const store = new SharedProfileStore(S3BlobStore.fromUrl(urls.blobs), await PostgresProfileIndex.open(urls.index));
    try {
      const rows = await store.index.ids();
      const blobs = new Set(await store.blobs.list());
      expect(rows.filter((id) => !blobs.has(id))).toEqual([]);
      for (const id of acknowledged.keys()) expect(rows).toContain(id);
      await store.sweep({ now: Date.now() + store.graceMs + 1000 });
      expect((await store.blobs.list()).sort()).toEqual([...rows].sort());
    } finally {
      await store.close();
    }
  });
});

describe('vmprof uploads acknowledged before conversion', () => {
  it('SIGKILL after the 200 and before the conversion: another instance takes the upload over and stores it', async () => {
    const urls = sharedStoreUrls();
    const lease = { PROF_UPLOAD_LEASE: '1s' };
    const [survivor, victim] = await Promise.all([instance(urls, lease), instance(urls, lease)]);
    const post = (url: string, body: BodyInit) => fetch(url, { method: 'POST', body, headers: auth });
    const rid = (await json(await post(`${victim.url}/api/runtime/new`, '{"argv":"big.py","VM":"CPython"}')))
      .runtime_id;
    // 62.6 MB of raw vmprof: its conversion takes seconds, the kill follows the answer at once
    const prof = await readFile(join(fixtures, 'vmprof-fresh/big_memory.prof'));
    const add = await post(`${victim.url}/api/runtime/upload/cpu/${rid}/add`, prof as unknown as BodyInit);
    expect(add.status).toBe(200);
    victim.proc.kill('SIGKILL');
    await new Promise((r) => victim.proc.once('exit', r));
    // not converted by the victim; every instance knows it is on its way (the job is in PostgreSQL)
    const meanwhile = await fetch(`${survivor.url}/api/profiles/${rid}`);
    expect(meanwhile.status).toBe(404);
    expect((await json(meanwhile)).error.code).toBe('processing');
    await within(120_000, async () => (await fetch(`${survivor.url}/api/profiles/${rid}`)).status === 200);
    const row = await json(await fetch(`${survivor.url}/api/profiles/${rid}`));
    expect(row).toMatchObject({ id: rid, interpreter: 'cpython', hasMemory: true });
    expect(row.sampleCount).toBeGreaterThan(0);
    expect((await fetch(`${survivor.url}/api/profiles/${rid}/memory?bins=50`)).status).toBe(200);
    // the job and its raw body are gone from the shared store; a second upload to the id is refused
    const store = new SharedProfileStore(S3BlobStore.fromUrl(urls.blobs), await PostgresProfileIndex.open(urls.index));
    try {
      expect(await store.uploads!.status(rid)).toBeNull();
      expect(await store.uploads!.blobs.listIncoming()).toEqual([]);
    } finally {
      await store.close();
    }
    const again = await post(`${survivor.url}/api/runtime/upload/cpu/${rid}/add`, prof.subarray(0, 1000));
    expect(again.status).toBe(400);
  }, 180_000);
});

describe('prof-server migrate', () => {
  /** Runs the bin to its end; resolves with its exit code and output. */
  function migrate(args: string[]): Promise<{ code: number | null; out: string }> {
    const proc = spawn(process.execPath, [cli, 'migrate', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    running.push(proc);
    let out = '';
    proc.stdout!.on('data', (d) => (out += d));
    proc.stderr!.on('data', (d) => (out += d));
    return new Promise((resolve) => proc.on('exit', (code) => resolve({ code, out })));
  }

  it('moves an embedded store into the shared one with the same ids, rows and bytes, and resumes', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'prof-migrate-'));
    dirs.push(dir);
    const urls = sharedStoreUrls();
    const fieldsOf = (i: number) => ({
      project: `p${i % 3}`,
      name: `f${i}`,
      tags: { i: String(i) },
      interpreter: 'cpython',
      host: null,
      start: i % 2 ? 1000 + i : null,
      end: null,
      durationMs: i,
      sampleCount: i,
      peakMemory: i % 2 ? i * 10 : null,
      hasMemory: i % 2 === 1,
      threads: 1,
      zone: 'UTC',
    });
    const source = await openStore({ dir });
    for (let i = 0; i < 30; i++) await source.put(randomBytes(1000 + i), fieldsOf(i), { uploadedAt: 10_000 + i });
    await source.close();
    const args = ['--from', dir, '--to-index', urls.index, '--to-blobs', urls.blobs];
    const first = await migrate(args);
    expect(first.out).toMatch(/done: copied 30 profiles/);
    expect(first.code).toBe(0);

    // more uploads to the old server, and a copy interrupted between its blob and its row
    const more = await openStore({ dir });
    const added = [];
    for (let i = 30; i < 40; i++) added.push(await more.put(randomBytes(500), fieldsOf(i), { uploadedAt: 20_000 + i }));
    await more.close();
    const target = new SharedProfileStore(S3BlobStore.fromUrl(urls.blobs), await PostgresProfileIndex.open(urls.index));
    try {
      await target.blobs.put(added[0].id, Buffer.from('half-copied'));
      const second = await migrate(args);
      expect(second.code, second.out).toBe(0);
      expect(second.out).toMatch(/copied 10 profiles .* skipped 30 already there/);
      const reread = await openStore({ dir });
      const all = await reread.search({ limit: 1000, sort: 'uploadedAt', order: 'asc' });
      expect(await target.search({ limit: 1000, sort: 'uploadedAt', order: 'asc' })).toEqual(all);
      expect(await target.projects()).toEqual(await reread.projects());
      for (const row of all.items) {
        expect(Buffer.compare((await target.getBytes(row.id))!, (await reread.getBytes(row.id))!)).toBe(0);
      }
      await reread.close();
    } finally {
      await target.close();
    }
    expect((await migrate(['--from', dir])).code).toBe(2); // no target: usage
  });
});

describe('prof-server reindex on the shared store', () => {
  it('rebuilds dropped, altered and ghost rows from the bucket, equal to the originals, with a server running', async () => {
    const urls = sharedStoreUrls();
    const store = new SharedProfileStore(S3BlobStore.fromUrl(urls.blobs), await PostgresProfileIndex.open(urls.index));
    try {
      const ids: string[] = [];
      const names = ['memory_spiky', 'threads', 'memory_cputimer', 'cpu_basic'];
      for (const [i, name] of names.entries()) {
        const doc = await readProfileFile(join(fixtures, `vmprof-fresh/${name}.prof`));
        const row = await store.put(await gzipDocument(doc), fieldsFromDocument(doc), {
          uploadedAt: 1_700_000_000_000 + i,
        });
        ids.push(row.id);
      }
      const server = await instance(urls); // reindexing must not need it stopped
      const all = { limit: 100, sort: 'uploadedAt', order: 'asc' } as const;
      const originals = await store.search(all);
      const projects = await store.projects();
      expect(originals.total).toBe(4);

      await store.index.remove([ids[0], ids[1]]); // dropped
      const altered = (await store.index.get(ids[2]))!;
      await store.index.remove([ids[2]]);
      await store.index.insert({ ...altered, project: 'wrong', durationMs: 1 }); // altered
      await store.index.insert({ ...altered, id: 'a'.repeat(24), project: 'ghost' }); // a row without a document
      expect((await store.search(all)).total).toBe(3);

      const proc = spawn(process.execPath, [cli, 'reindex'], {
        env: { ...process.env, PROF_INDEX: urls.index, PROF_BLOBS: urls.blobs },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      running.push(proc);
      let out = '';
      proc.stdout!.on('data', (d) => (out += d));
      proc.stderr!.on('data', (d) => (out += d));
      const code = await new Promise((resolve) => proc.on('exit', resolve));
      expect(code, out).toBe(0);
      expect(out).toMatch(/reindex .*4\/4 documents/); // the progress bar's last line
      expect(out).toMatch(
        /indexed 4 document\(s\) in .* s; 1 row\(s\) rewritten .*; 1 row\(s\) without a document removed/,
      );

      expect(await store.search(all)).toEqual(originals);
      expect(await store.projects()).toEqual(projects);
      const seen = await json(await fetch(`${server.url}/api/profiles?limit=100`));
      expect(seen.items.map((r: { id: string }) => r.id).sort()).toEqual([...ids].sort());
    } finally {
      await store.close();
    }
  });
});

describe('a server on PostgreSQL and S3 that go away for a while', () => {
  const services: { destroy(): Promise<void> }[] = [];
  afterAll(async () => {
    for (const s of services) await s.destroy();
  });

  it('answers 503 with a named error while either is down and recovers by itself', async () => {
    const [pg, s3] = await Promise.all([startPostgres({ fast: true }), startS3()]);
    services.push(pg, s3);
    const r = await startServer({ index: pg.url, blobs: s3.url('outage'), token: TOKEN });
    try {
      const doc = await gzipDocument(await readProfileFile(join(fixtures, 'vmprof-fresh/threads.prof')));
      const upload = () =>
        fetch(`${r.url}/api/profiles`, { method: 'POST', body: doc as unknown as BodyInit, headers: auth });
      expect((await upload()).status).toBe(201);
      expect((await fetch(`${r.url}/ready`)).status).toBe(200);

      await pg.stop();
      const search = await fetch(`${r.url}/api/profiles`);
      expect(search.status).toBe(503);
      expect(search.headers.get('retry-after')).toBe('2');
      expect((await json(search)).error).toMatchObject({
        code: 'unavailable',
        message: /profile index is unavailable/,
      });
      expect((await upload()).status).toBe(503);
      expect((await fetch(`${r.url}/ready`)).status).toBe(503);
      expect((await fetch(`${r.url}/health`)).status).toBe(200); // alive, only not ready
      await pg.start();
      await within(30_000, async () => (await fetch(`${r.url}/api/profiles`)).status === 200);
      expect((await json(await fetch(`${r.url}/api/profiles`))).total).toBe(1);

      await s3.stop();
      const failed = await upload();
      expect(failed.status).toBe(503);
      expect((await json(failed)).error.message).toMatch(/blob store is unavailable/);
      const ready = await fetch(`${r.url}/ready`);
      expect(ready.status).toBe(503);
      expect((await json(ready)).error.code).toBe('unavailable');
      await s3.start();
      await within(30_000, async () => (await fetch(`${r.url}/ready`)).status === 200);
      expect((await upload()).status).toBe(201);
      expect((await json(await fetch(`${r.url}/api/profiles`))).total).toBe(2); // the failed upload left no row
    } finally {
      await r.stop();
    }
  });
});
