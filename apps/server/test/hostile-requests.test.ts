// Issue 11 §5-§6, the small families: oversized declarations refused from the header, malformed
// protocol bodies, the token on every write, ids of any length, caching of ids that do not exist.
// Real server, real sockets (raw HTTP where fetch would not send the request as an attacker does).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { gzipDocument, readProfileFile } from '@prof/format/node';
import { newProfileId, SharedProfileStore } from '@prof/store';
import { createServer, type ProfServer } from '../src/index';
import { fixtures, json, startServer, type Running } from './helpers';
import { rawRequest } from './raw-http';
import { nestedTree } from './attacks';

const TOKEN = 's3cret-token';
let r: Running;
let open: Running;

beforeAll(async () => {
  r = await startServer({ token: TOKEN });
  open = await startServer();
});

afterAll(async () => {
  await r.stop();
  await open.stop();
});

const withinSeconds = async <T>(seconds: number, work: Promise<T>): Promise<T> => {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${seconds} s`)), seconds * 1000);
  });
  try {
    return await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
  }
};

describe('a declared 33 GiB body (past the 32 GiB default limit) is refused from its header, not waited for', () => {
  it.each(['/api/profile/', '/api/jitlog/', '/api/runtime/new', '/api/profiles', '/submit/'])('%s', async (path) => {
    const res = await withinSeconds(
      20, // the body never comes: only an answer from the header can arrive at all
      rawRequest(
        open.url,
        'POST',
        path,
        [
          ['Host', 'x'],
          ['Content-Length', String(33 * 1024 ** 3)],
        ],
        Buffer.from('0123456789'),
      ),
    );
    expect(res.status).toBe(413);
    expect(JSON.parse(res.body.toString()).error.code).toBe('too-large');
    expect(res.headers.connection).toBe('close');
  });
});

describe('malformed protocol bodies get a 4xx', () => {
  it.each(['null', '[]', '"x"', '42'])('runtime/new with %s: 400 bad-json', async (body) => {
    const res = await fetch(`${open.url}/api/runtime/new`, { method: 'POST', body });
    expect(res.status).toBe(400);
    expect((await json(res)).error.code).toBe('bad-json');
  });
});

describe('the token', () => {
  it('is needed for jitlog uploads too', async () => {
    const res = await fetch(`${r.url}/api/jitlog/`, { method: 'POST', body: 'jitlog bytes' });
    expect(res.status).toBe(401);
    const ok = await fetch(`${r.url}/api/jitlog/`, {
      method: 'POST',
      body: 'jitlog bytes',
      headers: { authorization: `Token ${TOKEN}` },
    });
    expect(ok.status).toBe(200);
  });

  it('the 401 names the vmprof option too; wrong tokens of every length are refused alike', async () => {
    const missing = await json(await fetch(`${r.url}/api/profiles`, { method: 'POST', body: 'x' }));
    expect(missing.error.message).toMatch(/Authorization: Bearer <token>.*--web-auth <token>/);
    for (const wrong of ['s', 's3cret-toke', 's3cret-tokeN', `${TOKEN}x`, 'x'.repeat(500)]) {
      const res = await fetch(`${r.url}/api/profiles`, {
        method: 'POST',
        body: 'x',
        headers: { authorization: `Bearer ${wrong}` },
      });
      expect(res.status, wrong).toBe(401);
      expect((await json(res)).error.message).toBe('invalid token');
    }
  });
});

describe('ids', () => {
  it.each([101, 150, 1000, 3000, 12_000])(
    'an id of %i characters: 400 bad-id on every profile route',
    async (length) => {
      const id = 'a'.repeat(length);
      for (const path of [`/api/profiles/${id}`, `/api/profiles/${id}/document`, `/api/profiles/${id}/memory`]) {
        const res = await fetch(`${open.url}${path}`);
        expect(res.status, path).toBe(400);
        expect((await json(res)).error.code).toBe('bad-id');
      }
    },
  );

  it('If-None-Match of an id that does not exist is a 404, of a stored one a 304', async () => {
    const missing = newProfileId();
    const none = await fetch(`${open.url}/api/profiles/${missing}/document`, {
      headers: { 'if-none-match': `"${missing}"` },
    });
    expect(none.status).toBe(404);
    const doc = await readProfileFile(join(fixtures, 'vmprof-fresh/cpu_basic.prof'));
    const up = await fetch(`${open.url}/api/profiles`, {
      method: 'POST',
      body: new Uint8Array(await gzipDocument(doc)),
    });
    const { id } = await json(up);
    const cached = await fetch(`${open.url}/api/profiles/${id}/document`, { headers: { 'if-none-match': `"${id}"` } });
    expect(cached.status).toBe(304);
  });
});

describe('text limits', () => {
  const spikyWith = async (change: (doc: Awaited<ReturnType<typeof readProfileFile>>) => void) => {
    const doc = await readProfileFile(join(fixtures, 'vmprof-fresh/cpu_basic.prof'));
    change(doc);
    return new Uint8Array(await gzipDocument(doc));
  };

  it.each([
    [
      'a 5 MB project',
      (d: any) => (d.meta.project = 'p'.repeat(5_000_000)),
      /meta\.project: 5000000 characters, at most 500/,
    ],
    [
      '100,000 tags',
      (d: any) => (d.meta.tags = Object.fromEntries(Array.from({ length: 100_000 }, (_, i) => [`k${i}`, 'v']))),
      /meta\.tags: 100000 tags, at most 100/,
    ],
    ['a 1 MB tag', (d: any) => (d.meta.tags = { big: 'x'.repeat(1_000_000) }), /meta\.tags\.big: 1000000 characters/],
    ['a 1 MB host', (d: any) => (d.meta.host = 'h'.repeat(1_000_000)), /meta\.host/],
    ['100 KB of argv', (d: any) => (d.meta.argv = ['x'.repeat(100_000)]), /meta\.argv: 100000 characters in all/],
  ])('%s: 400 too-long naming the field; the listings stay small', async (_name, change, message) => {
    const res = await fetch(`${open.url}/api/profiles`, { method: 'POST', body: await spikyWith(change) });
    const answer = await json(res);
    expect(res.status, JSON.stringify(answer).slice(0, 300)).toBe(400);
    expect(answer.error.code).toBe('too-long');
    expect(answer.error.message).toMatch(message);
    expect((await fetch(`${open.url}/api/projects`).then((x) => x.text())).length).toBeLessThan(10_000);
  });

  it('a 10 KB argv is kept (within the limit)', async () => {
    const res = await fetch(`${open.url}/api/profiles`, {
      method: 'POST',
      body: await spikyWith((d) => (d.meta.argv = ['x'.repeat(10_000)])),
    });
    expect(res.status).toBe(201);
  });
});

describe('legacy tree uploads: work bounded by what the body holds', () => {
  const nested = nestedTree;

  it('a 40-byte body claiming 20 million samples: 413 at once', async () => {
    const started = performance.now();
    const res = await fetch(`${open.url}/api/profile/`, {
      method: 'POST',
      body: '{"profiles":["a","1",19999999,{},[]]}',
    });
    expect(res.status).toBe(413);
    expect((await json(res)).error.message).toMatch(/claims more than 100000 samples/);
    console.log(`legacy tree claiming 19,999,999 samples: answered in ${(performance.now() - started).toFixed(0)} ms`);
  });

  it('a tree 2,000 deep is stored; 10,001 deep is 400 bad-tree, never a stack overflow', async () => {
    const ok = await fetch(`${open.url}/api/profile/`, { method: 'POST', body: nested(2000) });
    expect(ok.status).toBe(200);
    const id = JSON.parse(await ok.text());
    expect((await json(await fetch(`${open.url}/api/profiles/${id}`))).sampleCount).toBe(2001);
    const deep = await fetch(`${open.url}/api/profile/`, { method: 'POST', body: nested(10_001) });
    expect(deep.status).toBe(400);
    expect((await json(deep)).error.message).toMatch(/tree deeper than 10000/);
  });
});

describe('a body that stops arriving', () => {
  it('is dropped after the idle timeout, its temp file removed', async () => {
    const slow = await startServer({ bodyIdleTimeoutMs: 500 });
    try {
      const rid = (await json(await fetch(`${slow.url}/api/runtime/new`, { method: 'POST', body: '{}' }))).runtime_id;
      for (const [path, declared] of [
        ['/api/profiles', 1_000_000], // read into memory
        ['/api/profiles', 1_500_000_000], // spooled to incoming/
        [`/api/runtime/upload/cpu/${rid}/add`, 1_000_000], // spooled to incoming/
      ] as const) {
        const url = new URL(slow.url);
        const socket = (await import('node:net')).connect(Number(url.port), url.hostname);
        const closed = new Promise<number>((resolve) => {
          const started = performance.now();
          socket.on('close', () => resolve(performance.now() - started));
          socket.on('error', () => {});
        });
        socket.write(`POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Length: ${declared}\r\n\r\n0123456789`);
        const ms = await withinSeconds(30, closed);
        expect(ms, path).toBeGreaterThanOrEqual(400);
        // the server removes the temp file right after it drops the socket: wait for that, generously
        const { readdir } = await import('node:fs/promises');
        const deadline = Date.now() + 20_000;
        let incoming = await readdir(join(slow.dir, 'data/incoming'));
        while (incoming.length && Date.now() < deadline) {
          await new Promise((resolve) => setTimeout(resolve, 50));
          incoming = await readdir(join(slow.dir, 'data/incoming'));
        }
        expect(incoming, path).toEqual([]);
      }
    } finally {
      await slow.stop();
    }
  });
});

describe('incoming/ hygiene', () => {
  it('failed conversions are counted by /health and removable with DELETE; leftovers go at start', async () => {
    const s = await startServer();
    let restarted: ProfServer | null = null;
    try {
      const { readdir, writeFile } = await import('node:fs/promises');
      const incoming = join(s.dir, 'data/incoming');
      // Where the failed uploads are kept: the embedded store's incoming/ (job, raw body, error), or
      // with a shared store the bucket's incoming/ (raw body) and an upload_jobs row, incoming/ being
      // only this instance's working copy.
      const uploadsOf = (server: ProfServer) =>
        server.store instanceof SharedProfileStore ? server.store.uploads : null;
      const shared = uploadsOf(s.server);
      const keptOf = async (id: string, server = s.server) => {
        const uploads = uploadsOf(server);
        return uploads
          ? [
              ...(await uploads.blobs.listIncoming()).map((b) => `${b.id}.body`),
              ...((await uploads.status(id)) ? [`${id} job`] : []),
            ]
          : await readdir(incoming);
      };
      const issue = async () =>
        (await json(await fetch(`${s.url}/api/runtime/new`, { method: 'POST', body: '{}' }))).runtime_id as string;
      const rid = await issue();
      const res = await fetch(`${s.url}/api/runtime/upload/cpu/${rid}/add`, { method: 'POST', body: 'no profile' });
      expect(res.status).toBe(200);
      await s.server.uploads.idle();
      expect((await fetch(`${s.url}/api/profiles/${rid}`)).status).toBe(422);
      expect((await json(await fetch(`${s.url}/health`))).failedUploads).toBe(1);
      expect((await keptOf(rid)).length).toBe(shared ? 2 : 3); // (job row,) job, raw body, error
      if (shared) expect(await readdir(incoming)).toEqual([]); // the working copy goes once the bucket keeps it
      // retention ages them like profiles: a prune of everything older than a day keeps this fresh one
      const notPruned = await json(await fetch(`${s.url}/api/prune?olderThan=1d`, { method: 'POST' }));
      expect(notPruned.failedUploadsRemoved).toBe(0);
      expect((await keptOf(rid)).length).toBe(shared ? 2 : 3);
      const deleted = await fetch(`${s.url}/api/profiles/${rid}`, { method: 'DELETE' });
      expect(deleted.status).toBe(200);
      expect((await json(await fetch(`${s.url}/health`))).failedUploads).toBe(0);
      expect(await keptOf(rid)).toEqual([]);
      expect((await fetch(`${s.url}/api/profiles/${rid}`)).status).toBe(404);
      const again = await issue();
      await fetch(`${s.url}/api/runtime/upload/cpu/${again}/add`, { method: 'POST', body: 'no profile either' });
      await s.server.uploads.idle();
      expect((await fetch(`${s.url}/api/profiles/${again}`)).status).toBe(422);
      const pruned = await json(await fetch(`${s.url}/api/prune?olderThan=0d`, { method: 'POST' }));
      expect(pruned.failedUploadsRemoved).toBe(1);
      expect((await json(await fetch(`${s.url}/health`))).failedUploads).toBe(0);
      expect(await keptOf(again)).toEqual([]);
      expect((await fetch(`${s.url}/api/profiles/${again}`)).status).toBe(404);

      // a failed upload outlives a restart, still counted and removable; what a SIGKILL can leave goes: a
      // spool of a conversion in the request, a body or an error without its job
      const kept = await issue();
      await fetch(`${s.url}/api/runtime/upload/cpu/${kept}/add`, { method: 'POST', body: 'kept across a restart' });
      await s.server.uploads.idle();
      await s.server.close();
      for (const name of [`${newProfileId()}.direct`, `${newProfileId()}.body`, `${newProfileId()}.error.json`]) {
        await writeFile(join(incoming, name), 'left behind');
      }
      restarted = await createServer({ dataDir: join(s.dir, 'data'), webRoot: null, demoDir: null, ...s.storeOptions });
      const url = await restarted.listen({ port: 0, host: '127.0.0.1' });
      expect((await readdir(incoming)).sort()).toEqual(
        shared ? [] : [`${kept}.body`, `${kept}.error.json`, `${kept}.job.json`],
      );
      expect((await fetch(`${url}/api/profiles/${kept}`)).status).toBe(422);
      expect((await json(await fetch(`${url}/health`))).failedUploads).toBe(1);
      expect((await fetch(`${url}/api/profiles/${kept}`, { method: 'DELETE' })).status).toBe(200);
      expect((await json(await fetch(`${url}/health`))).failedUploads).toBe(0);
      expect(await keptOf(kept, restarted)).toEqual([]);
    } finally {
      await restarted?.close();
      await s.stop();
    }
  });
});

describe('saturation', () => {
  it('beyond the ingest queue: 503 busy with Retry-After; retried, every upload is stored', async () => {
    const busy = await startServer({ maxConcurrentIngest: 1, maxWaitingIngest: 1 });
    try {
      const { readFile } = await import('node:fs/promises');
      const body = new Uint8Array(await readFile(join(fixtures, 'vmprof-fresh/memory_spiky.prof'))); // converted here
      const post = () => fetch(`${busy.url}/api/profiles?project=busy`, { method: 'POST', body });
      const answers = await Promise.all(Array.from({ length: 8 }, post));
      const statuses = answers.map((a) => a.status);
      expect(statuses.filter((s) => s !== 201 && s !== 503)).toEqual([]);
      const refused = answers.filter((a) => a.status === 503);
      expect(refused.length).toBeGreaterThan(0);
      for (const answer of refused) {
        expect(answer.headers.get('retry-after')).toBe('5');
        expect((await json(answer)).error.code).toBe('busy');
      }
      for (const _ of refused) {
        let retry = await post();
        while (retry.status === 503) retry = await post(); // a client honouring the answer (without the wait)
        expect(retry.status).toBe(201);
      }
      expect((await json(await fetch(`${busy.url}/api/profiles?project=busy&limit=0`))).total).toBe(8);
    } finally {
      await busy.stop();
    }
  });
});
