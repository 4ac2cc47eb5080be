import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { encodeDocument, gzipDocument, readProfileFile, type ProfileDocument } from '@prof/format/node';
import { CONTENT_SECURITY_POLICY } from '../src/index';
import { fixtures, json, startServer, storedBytes, storedIds, type Running } from './helpers';

const TOKEN = 's3cret-token';
let r: Running;
let spiky: ProfileDocument;
let spikyGz: Buffer;
let threadsGz: Buffer;
const auth = { authorization: `Bearer ${TOKEN}` };

beforeAll(async () => {
  r = await startServer({ token: TOKEN, maxUploadBytes: 8 * 1024 * 1024, maxInflatedBytes: 32 * 1024 * 1024 });
  spiky = await readProfileFile(join(fixtures, 'vmprof-fresh/memory_spiky.prof'));
  spiky.meta.project = 'Nightly ETL';
  spiky.meta.tags = { env: 'prod' };
  spikyGz = await gzipDocument(spiky);
  const threads = await readProfileFile(join(fixtures, 'vmprof-fresh/threads.prof'));
  threads.meta.project = 'web';
  threadsGz = await gzipDocument(threads);
});
afterAll(async () => {
  await r?.stop();
});

async function upload(body: Uint8Array, query = '', headers: Record<string, string> = auth) {
  const response = await fetch(`${r.url}/api/profiles${query}`, {
    method: 'POST',
    body: body as unknown as BodyInit,
    headers,
  });
  return { status: response.status, body: await json(response) };
}

describe('our protocol', () => {
  let spikyId: string;
  let threadsId: string;

  it('stores a .msgpack.gz document and serves the same bytes untouched', async () => {
    const res = await upload(spikyGz);
    expect(res.status).toBe(201);
    expect(res.body.url).toBe(`/profiles/${res.body.id}`);
    spikyId = res.body.id;

    const doc = await fetch(`${r.url}/api/profiles/${spikyId}/document`, {
      headers: { 'accept-encoding': 'identity' },
    });
    expect(doc.status).toBe(200);
    expect(doc.headers.get('content-encoding')).toBe('gzip');
    expect(doc.headers.get('content-type')).toBe('application/x-msgpack');
    expect(doc.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    const etag = doc.headers.get('etag')!;
    expect(etag).toBe(`"${spikyId}"`);
    // fetch inflates gzip itself: compare against what the file on disk holds, byte for byte
    const onDisk = await storedBytes(r, spikyId);
    expect(Buffer.compare(onDisk, spikyGz)).toBe(0);
    expect(Buffer.compare(Buffer.from(await doc.arrayBuffer()), Buffer.from(encodeDocument(spiky)))).toBe(0);

    const again = await fetch(`${r.url}/api/profiles/${spikyId}/document`, { headers: { 'if-none-match': etag } });
    expect(again.status).toBe(304);
  });

  it('converts raw vmprof (curl) once, with query parameters overriding project, name and tags', async () => {
    const body = await readFile(join(fixtures, 'vmprof-fresh/cpu_basic.prof'));
    const res = await upload(body, '?project=etl&name=main&tag=env=dev&tag=team=data', {
      ...auth,
      'content-type': 'application/x-www-form-urlencoded',
    });
    expect(res.status).toBe(201);
    const row = await json(await fetch(`${r.url}/api/profiles/${res.body.id}`));
    expect(row).toMatchObject({
      project: 'etl',
      name: 'main',
      tags: { env: 'dev', team: 'data' },
      interpreter: 'cpython',
      hasMemory: false,
      sampleCount: 1508,
    });
    const gz = gzipSync(body);
    const res2 = await upload(gz, '?project=etl', { ...auth });
    expect(res2.status).toBe(201);
    expect((await json(await fetch(`${r.url}/api/profiles/${res2.body.id}`))).sampleCount).toBe(1508);
  });

  it('converts a V8 .cpuprofile', async () => {
    const cpuprofile = await readFile(new URL('../demo/node-json-pipeline.cpuprofile', import.meta.url));
    const res = await upload(cpuprofile, '?project=node-app', { ...auth, 'content-type': 'application/json' });
    expect(res.status).toBe(201);
    const row = await json(await fetch(`${r.url}/api/profiles/${res.body.id}`));
    expect(row.project).toBe('node-app');
    expect(row.sampleCount).toBeGreaterThan(100);
  });

  it('lists, searches, filters and pages', async () => {
    const res = await upload(threadsGz);
    threadsId = res.body.id;
    const all = await json(await fetch(`${r.url}/api/profiles`));
    expect(all.total).toBe(5);
    expect(all.items[0].id).toBe(threadsId);
    const q = await json(await fetch(`${r.url}/api/profiles?q=nightly`));
    expect(q.items.map((x: any) => x.id)).toEqual([spikyId]);
    expect((await json(await fetch(`${r.url}/api/profiles?project=etl`))).total).toBe(2);
    expect((await json(await fetch(`${r.url}/api/profiles?tag=env=prod`))).items.map((x: any) => x.id)).toEqual([
      spikyId,
    ]);
    expect((await json(await fetch(`${r.url}/api/profiles?hasMemory=true`))).items.map((x: any) => x.id)).toEqual([
      spikyId,
    ]);
    const page = await json(await fetch(`${r.url}/api/profiles?sort=sampleCount&order=desc&limit=2&offset=1`));
    expect(page.total).toBe(5);
    expect(page.items).toHaveLength(2);
    expect(page.items[0].sampleCount).toBeGreaterThanOrEqual(page.items[1].sampleCount);
    const projects = await json(await fetch(`${r.url}/api/projects`));
    const etl = projects.projects.find((p: any) => p.project === 'etl');
    expect(etl.count).toBe(2);
    expect(etl.names.reduce((sum: number, n: any) => sum + n.count, 0)).toBe(2);
    expect(etl.names.map((n: any) => n.name)).toContain('main');
  });

  it('bins memory (mean, max, min, sd; empty bins null) and zooms', async () => {
    const whole = await json(await fetch(`${r.url}/api/profiles/${spikyId}/memory?bins=100`));
    expect(whole.unit).toBe('bytes');
    expect(whole.bins).toHaveLength(100);
    const total = whole.bins.reduce((s: number, b: any) => s + b.count, 0);
    expect(total).toBe(28034);
    const peak = Math.max(...whole.bins.map((b: any) => b.max ?? 0));
    expect(peak).toBe(1_869_072 * 1024); // the fixture's maximum, KiB → bytes: no spike hidden
    for (const b of whole.bins)
      if (b.count) {
        expect(b.min).toBeLessThanOrEqual(b.mean), expect(b.mean).toBeLessThanOrEqual(b.max);
        // The spread of readings within [min, max] is at most half their range.
        expect(b.sd).toBeGreaterThanOrEqual(0), expect(b.sd).toBeLessThanOrEqual((b.max - b.min) / 2 + 1e-6);
      }
    const zoom = await json(await fetch(`${r.url}/api/profiles/${spikyId}/memory?from=1000&to=1010&bins=50`));
    expect(zoom.bins[0].start).toBe(1000);
    expect(zoom.bins.at(-1).end).toBe(1010);
    expect(zoom.bins.some((b: any) => b.count === 0 && b.mean === null && b.max === null && b.sd === null)).toBe(true);
    const noMemory = await fetch(`${r.url}/api/profiles/${threadsId}/memory`);
    expect(noMemory.status).toBe(409);
    expect((await json(noMemory)).error.code).toBe('no-memory');
  });

  it('answers /memory and /stacks in exactly the documented shapes, times in ms from the start', async () => {
    const mem = await json(await fetch(`${r.url}/api/profiles/${spikyId}/memory?from=0&to=60000&bins=3`));
    expect(Object.keys(mem).sort()).toEqual([
      'available',
      'bins',
      'durationMs',
      'from',
      'series',
      'timeEstimated',
      'to',
      'unit',
    ]);
    expect(mem).toMatchObject({
      unit: 'bytes',
      from: 0,
      to: 60000,
      timeEstimated: spiky.samples.timeEstimated,
      series: 'rss',
      available: ['rss'],
    });
    expect(mem.bins.map((b: any) => [b.start, b.end])).toEqual([
      [0, 20000],
      [20000, 40000],
      [40000, 60000],
    ]);
    for (const b of mem.bins)
      expect(Object.keys(b).sort()).toEqual(['count', 'end', 'max', 'mean', 'min', 'sd', 'start']);
    expect(mem.durationMs).toBeGreaterThan(60000); // the run is 60.3 s: `to` cut it
    // align=true snaps edges to multiples of the width, so panning keeps each bin's samples
    const aligned = await json(
      await fetch(`${r.url}/api/profiles/${spikyId}/memory?from=150&to=1150&bins=10&align=true`),
    );
    expect(aligned.bins.map((b: any) => b.start)).toEqual([150, 200, 300, 400, 500, 600, 700, 800, 900, 1000, 1100]);
    expect(aligned.bins.at(-1).end).toBe(1150);
    const st = await json(await fetch(`${r.url}/api/profiles/${spikyId}/stacks?from=0&to=1000&top=2`));
    expect(Object.keys(st).sort()).toEqual(['extension', 'from', 'prefix', 'samples', 'share', 'to', 'top']);
    for (const f of [...st.prefix, ...st.extension, ...st.top.flatMap((t: any) => t.stack)]) {
      expect(Object.keys(f).sort()).toEqual(['file', 'kind', 'line', 'name']);
      expect(typeof f.name).toBe('string');
      expect(Number.isInteger(f.line)).toBe(true);
    }
    for (const t of st.top) expect(Object.keys(t).sort()).toEqual(['count', 'growth', 'stack']); // growth: memory profiles
    // rank=growth: the stacks under which memory grew most, first
    const growing = await json(await fetch(`${r.url}/api/profiles/${spikyId}/stacks?rank=growth&top=5`));
    expect(growing.top.length).toBe(5);
    for (let i = 1; i < 5; i++) expect(growing.top[i - 1].growth).toBeGreaterThanOrEqual(growing.top[i].growth);
    expect(growing.top[0].growth).toBeGreaterThan(100 * 2 ** 20);
    expect((await fetch(`${r.url}/api/profiles/${spikyId}/stacks?rank=size`)).status).toBe(400);
    // the window is in ms from the profile's start: the first second holds the first samples only
    const first = await json(await fetch(`${r.url}/api/profiles/${spikyId}/memory?from=0&to=1000&bins=1`));
    expect(first.bins[0].count).toBe(st.samples);
    expect(st.samples).toBe(spiky.samples.time.filter((t) => t >= 0 && t < 1000).length);
  });

  it('analyses stacks of a range and of one thread', async () => {
    const st = await json(await fetch(`${r.url}/api/profiles/${spikyId}/stacks?from=1000&to=2000&top=3`));
    expect(st.samples).toBeGreaterThan(100);
    expect(st.prefix[0]).toEqual({ name: '<module>', file: '<stdin>', line: 1, kind: 'python' });
    expect(st.share).toBeGreaterThan(0);
    expect(st.share).toBeLessThanOrEqual(1);
    expect(st.top.length).toBeLessThanOrEqual(3);
    expect(st.top[0].stack.slice(0, st.prefix.length)).toEqual(st.prefix);
    const whole = await json(await fetch(`${r.url}/api/profiles/${threadsId}/stacks`));
    const perThread = await Promise.all(
      [0, 1, 2, 3, 4].map(
        async (t) => (await json(await fetch(`${r.url}/api/profiles/${threadsId}/stacks?thread=${t}`))).samples,
      ),
    );
    expect(perThread.reduce((a, b) => a + b, 0)).toBe(whole.samples);
    expect(whole.samples).toBe(9669);
    const bad = await fetch(`${r.url}/api/profiles/${threadsId}/stacks?thread=5`);
    expect(bad.status).toBe(400);
    expect((await json(bad)).error.code).toBe('bad-thread');
    const noMemory = await fetch(`${r.url}/api/profiles/${threadsId}/stacks?rank=growth`);
    expect(noMemory.status).toBe(409);
    expect((await json(noMemory)).error.code).toBe('no-memory');
  });

  it('needs the token for writes and deletes, not for reads', async () => {
    const noToken = await upload(spikyGz, '', {});
    expect(noToken.status).toBe(401);
    expect(noToken.body.error.code).toBe('unauthorized');
    expect((await upload(spikyGz, '', { authorization: 'Bearer wrong' })).status).toBe(401);
    expect((await fetch(`${r.url}/api/profiles/${threadsId}`, { method: 'DELETE' })).status).toBe(401);
    const del = await fetch(`${r.url}/api/profiles/${threadsId}`, { method: 'DELETE', headers: auth });
    expect(del.status).toBe(200);
    expect((await fetch(`${r.url}/api/profiles/${threadsId}`)).status).toBe(404);
    expect((await fetch(`${r.url}/api/profiles/${threadsId}/document`)).status).toBe(404);
    expect(await storedIds(r)).not.toContain(threadsId);
    expect((await fetch(`${r.url}/api/profiles/${threadsId}`, { method: 'DELETE', headers: auth })).status).toBe(404);
  });
});

describe('bad input gets a 4xx JSON error naming the problem, and stores nothing', () => {
  async function expectRejected(body: Uint8Array, status: number, code: string, message?: RegExp) {
    const before = (await json(await fetch(`${r.url}/api/profiles`))).total;
    const res = await upload(body);
    expect(res.status).toBe(status);
    expect(res.body.error.code).toBe(code);
    if (message) expect(res.body.error.message).toMatch(message);
    expect((await json(await fetch(`${r.url}/api/profiles`))).total).toBe(before);
  }

  it('oversized', async () => {
    await expectRejected(Buffer.alloc(9 * 1024 * 1024, 1), 413, 'too-large', /limit/);
  });
  it('empty and unknown', async () => {
    await expectRejected(Buffer.alloc(0), 400, 'unknown-format', /empty/);
    await expectRejected(Buffer.from('hello, this is not a profile'), 400, 'unknown-format', /68656c6c6f/);
  });
  it('not gzip after all (gzip magic, garbage after)', async () => {
    await expectRejected(Buffer.from([0x1f, 0x8b, 0x08, 0x00, 1, 2, 3, 4, 5, 6, 7, 8, 9]), 400, 'bad-gzip');
  });
  it('gzip bomb', async () => {
    const bomb = structuredClone(spiky);
    bomb.meta.tags = { padding: 'x'.repeat(40 * 1024 * 1024) };
    const gz = await gzipDocument(bomb);
    expect(gz.length).toBeLessThan(1024 * 1024);
    await expectRejected(gz, 413, 'too-large', /more than/);
  });
  it('gzip bomb of a raw vmprof upload (inflated as a stream, so counted first)', async () => {
    const prof = await readFile(join(fixtures, 'vmprof-fresh/cpu_basic.prof'));
    const gz = gzipSync(Buffer.concat([prof, Buffer.alloc(40 * 1024 * 1024)]));
    expect(gz.length).toBeLessThan(1024 * 1024);
    await expectRejected(gz, 413, 'too-large', /inflates to more than 32 MiB/);
  });
  it('bad msgpack', async () => {
    const encoded = encodeDocument(spiky);
    await expectRejected(gzipSync(encoded.subarray(0, encoded.length >> 1)), 400, 'bad-msgpack');
  });
  it('schema or integrity violation', async () => {
    const broken = structuredClone(spiky);
    broken.samples.stack[5] = broken.stacks.length + 10;
    const res = await upload(gzipSync(encodeDocument(broken)));
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('integrity');
    expect(res.body.error.message).toMatch(/stack/);
  });
  it('corrupt vmprof', async () => {
    // the reader's error names the field and byte offset; the answer passes it on
    await expectRejected(
      await readFile(join(fixtures, 'vmprof/bad/absurd-meta-length.prof')),
      400,
      'length-out-of-range',
      /at byte 78/,
    );
    await expectRejected(
      await readFile(join(fixtures, 'vmprof/bad/absurd-stack-depth.prof')),
      400,
      'depth-out-of-range',
      /at byte 133/,
    );
    await expectRejected(await readFile(join(fixtures, 'vmprof/bad/random-4k.prof')), 400, 'unknown-format');
  });
  it('bad ids and paths', async () => {
    for (const id of ['..%2F..%2Fetc%2Fpasswd', 'UPPERCASEUPPERCASEUPPERC', 'short']) {
      const res = await fetch(`${r.url}/api/profiles/${id}`);
      expect(res.status).toBe(400);
      expect((await json(res)).error.code).toBe('bad-id');
    }
    expect((await fetch(`${r.url}/api/profiles/aaaaaaaaaaaaaaaaaaaaaaaa/document`)).status).toBe(404);
    const res = await fetch(`${r.url}/api/profiles/../../etc/passwd`);
    expect(res.status).toBe(404);
  });
  it('bad query parameters', async () => {
    for (const [query, name] of [
      ['sort=bogus', 'sort'],
      ['limit=-1', 'limit'],
      ['hasMemory=maybe', 'hasMemory'],
      ['from=yesterday-ish', 'from'],
    ]) {
      const res = await fetch(`${r.url}/api/profiles?${query}`);
      expect(res.status).toBe(400);
      expect((await json(res)).error.message).toContain(name);
    }
  });
});

describe('retention', () => {
  it('prunes on demand, oldest first, with the token, and forgets what it pruned', async () => {
    const before = await json(await fetch(`${r.url}/api/profiles?limit=1000`));
    const oldest = before.items.at(-1);
    const keep = before.items.slice(0, -1).reduce((sum: number, row: any) => sum + row.sizeBytes, 0);
    expect((await fetch(`${r.url}/api/profiles/${oldest.id}/document`)).status).toBe(200); // now in the bytes cache
    expect((await fetch(`${r.url}/api/prune?maxTotalSize=${keep}`, { method: 'POST' })).status).toBe(401);
    for (const [query, name] of [
      ['', 'olderThan'],
      ['olderThan=soon', 'olderThan'],
      ['maxTotalSize=lots', 'maxTotalSize'],
    ]) {
      const bad = await fetch(`${r.url}/api/prune?${query}`, { method: 'POST', headers: auth });
      expect(bad.status).toBe(400);
      expect((await json(bad)).error.message).toContain(name);
    }
    const pruned = await json(
      await fetch(`${r.url}/api/prune?maxTotalSize=${keep}`, { method: 'POST', headers: auth }),
    );
    expect(pruned).toEqual({ deleted: [oldest.id], freedBytes: oldest.sizeBytes, failedUploadsRemoved: 0 });
    expect((await fetch(`${r.url}/api/profiles/${oldest.id}/document`)).status).toBe(404);
    expect((await fetch(`${r.url}/api/profiles/${oldest.id}/stacks`)).status).toBe(404);
    expect((await json(await fetch(`${r.url}/api/profiles?limit=1000`))).total).toBe(before.total - 1);
    const nothing = await json(await fetch(`${r.url}/api/prune?olderThan=3650d`, { method: 'POST', headers: auth }));
    expect(nothing).toEqual({ deleted: [], freedBytes: 0, failedUploadsRemoved: 0 });
  });
});

describe('web app and health', () => {
  it('serves the SPA with a strict CSP at /, /profiles/:id, and assets', async () => {
    for (const path of ['/', '/profiles/aaaaaaaaaaaaaaaaaaaaaaaa', '/profiles/aaaaaaaaaaaaaaaaaaaaaaaa/memory']) {
      const res = await fetch(`${r.url}${path}`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/text\/html/);
      expect(res.headers.get('content-security-policy')).toBe(CONTENT_SECURITY_POLICY);
      expect(CONTENT_SECURITY_POLICY).toContain("script-src 'self'");
      expect(CONTENT_SECURITY_POLICY).not.toMatch(/script-src[^;]*unsafe-inline/);
      expect(await res.text()).toContain('<title>Prof</title>');
    }
    const asset = await fetch(`${r.url}/assets/app.js`);
    expect(asset.status).toBe(200);
    expect(asset.headers.get('cache-control')).toContain('immutable');
    const api404 = await fetch(`${r.url}/api/nothing`);
    expect(api404.status).toBe(404);
    expect((await json(api404)).error.code).toBe('not-found');
    expect(api404.headers.get('access-control-allow-origin')).toBeNull();
  });
  it('answers /health', async () => {
    const res = await json(await fetch(`${r.url}/health`));
    expect(res.status).toBe('ok');
    expect(res.profiles).toBeGreaterThan(0);
  });
});
