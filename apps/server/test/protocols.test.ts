import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fixtures, json, startServer, waitForProfile, type Running } from './helpers';
import { rawRequest } from './raw-http';
import { newProfileId, SharedProfileStore } from '@prof/store';

let r: Running;
const TOKEN = 'abc123token';

beforeAll(async () => {
  r = await startServer({ token: TOKEN, anonymousSubmit: true });
});
afterAll(async () => {
  await r?.stop();
});

/** Headers of the capture in vmprof-upload-protocol.md §2 (requests 2.34, 0.4.10+ client). */
function requestsHeaders(extra: [string, string][]): [string, string][] {
  return [
    ['Host', 'x'],
    ['User-Agent', 'python-requests/2.34.2'],
    ['Accept-Encoding', 'gzip, deflate'],
    ['Accept', '*/*'],
    ['Connection', 'keep-alive'],
    ...extra,
  ];
}

async function runtimeNew(): Promise<string> {
  const body = Buffer.from(JSON.stringify({ argv: '<site-packages>/vmprof/__main__.py a b', VM: 'CPython' }));
  const res = await rawRequest(
    r.url,
    'POST',
    '/api/runtime/new',
    requestsHeaders([
      ['Content-Type', 'application/json'],
      ['AUTHORIZATION', `Token ${TOKEN}`],
      ['Content-Length', String(body.length)],
    ]),
    body,
  );
  expect(res.status).toBe(200);
  const out = JSON.parse(res.body.toString());
  expect(out.runtime_id).toMatch(/^[0-9a-z-]+$/); // lowercase URL-safe, as the client's paths need
  return out.runtime_id;
}

async function freeze(rid: string, path = `/api/runtime/${rid}/freeze/`) {
  const res = await rawRequest(
    r.url,
    'POST',
    path,
    requestsHeaders([
      ['Content-Type', 'application/json'],
      ['AUTHORIZATION', `Token ${TOKEN}`],
      ['Content-Length', '0'],
    ]),
  );
  expect(res.status).toBe(200); // not FST_ERR_CTP_EMPTY_JSON_BODY
  expect(JSON.parse(res.body.toString())).toEqual({ status: 'ok' });
}

describe('vmprof client, protocol C2 (0.4.10+): raw stream without Content-Type', () => {
  it('new → add → freeze stores the profile under the runtime id with its memory', async () => {
    const rid = await runtimeNew();
    const prof = await readFile(join(fixtures, 'vmprof-fresh/memory_cputimer.prof'));
    const res = await rawRequest(
      r.url,
      'POST',
      `/api/runtime/upload/cpu/${rid}/add`,
      requestsHeaders([
        ['AUTHORIZATION', `Token ${TOKEN}`],
        ['Content-Disposition', 'attachment; filename=/tmp/tmpk3j9x2'],
        ['Content-Length', String(prof.length)],
      ]),
      prof,
    );
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/application\/json/);
    await freeze(rid);
    const row = await waitForProfile(r.url, rid);
    expect(row).toMatchObject({ id: rid, interpreter: 'cpython', hasMemory: true, sampleCount: 3737 });
    expect(row.peakMemory).toBe(1_869_004 * 1024);
    // the printed link is <base>/#/<rid>: the page at / must be the web app
    const page = await fetch(`${r.url}/`);
    expect(await page.text()).toContain('<title>Prof</title>');
    const doubleUpload = await rawRequest(
      r.url,
      'POST',
      `/api/runtime/upload/cpu/${rid}/add`,
      requestsHeaders([
        ['AUTHORIZATION', `Token ${TOKEN}`],
        ['Content-Length', '4'],
      ]),
      Buffer.from('abcd'),
    );
    expect(doubleUpload.status).toBe(400);
  });

  it('refuses a wrong token and an unknown runtime id with JSON errors', async () => {
    const bad = await rawRequest(
      r.url,
      'POST',
      '/api/runtime/new',
      requestsHeaders([
        ['Content-Type', 'application/json'],
        ['AUTHORIZATION', 'Token nope'],
        ['Content-Length', '2'],
      ]),
      Buffer.from('{}'),
    );
    expect(bad.status).toBe(401);
    expect(JSON.parse(bad.body.toString()).error.code).toBe('unauthorized');
    const unknown = await rawRequest(
      r.url,
      'POST',
      '/api/runtime/upload/cpu/not-a-runtime/add',
      requestsHeaders([
        ['AUTHORIZATION', `Token ${TOKEN}`],
        ['Content-Length', '4'],
      ]),
      Buffer.from('abcd'),
    );
    expect(unknown.status).toBe(404);
    expect(JSON.parse(unknown.body.toString()).error.code).toBe('unknown-runtime');
    // an id of the right shape the server never issued: the client cannot pick its own id
    const issued = await runtimeNew();
    const forged = `${issued.slice(0, 12)}${issued[12] === 'a' ? 'b' : 'a'}${issued.slice(13)}`; // one MAC character off
    for (const rid of [newProfileId(), forged]) {
      const res = await fetch(`${r.url}/api/runtime/upload/cpu/${rid}/add`, {
        method: 'POST',
        body: 'abcd',
        headers: { authorization: `Token ${TOKEN}` },
      });
      expect(res.status).toBe(404);
      expect((await json(res)).error.code).toBe('unknown-runtime');
    }
  });

  it('keeps an upload that cannot be converted and reports why', async () => {
    const rid = await runtimeNew();
    const res = await rawRequest(
      r.url,
      'POST',
      `/api/runtime/upload/cpu/${rid}/add`,
      requestsHeaders([
        ['AUTHORIZATION', `Token ${TOKEN}`],
        ['Content-Length', '12'],
      ]),
      Buffer.from('not a vmprof'),
    );
    expect(res.status).toBe(200); // answer fast; the conversion happens after
    await r.server.uploads.idle();
    const row = await fetch(`${r.url}/api/profiles/${rid}`);
    expect(row.status).toBe(422);
    expect((await json(row)).error.message).toMatch(/could not be converted/);
    // kept in the data directory, or with a shared store in the bucket (any instance may report or delete it)
    const shared = r.server.store instanceof SharedProfileStore ? r.server.store.uploads : null;
    const kept = shared
      ? (await shared.blobs.listIncoming()).map((b) => `${b.id}.body`)
      : await readdir(join(r.dir, 'data/incoming'));
    expect(kept).toContain(`${rid}.body`);
    expect(
      (await fetch(`${r.url}/api/profiles/${rid}`, { method: 'DELETE', headers: { authorization: `Bearer ${TOKEN}` } }))
        .status,
    ).toBe(200);
    expect((await fetch(`${r.url}/api/profiles/${rid}`)).status).toBe(404);
  });

  it('accepts a PyPy jitlog upload with JSON and no jid (the client then prints the profile link)', async () => {
    const rid = await runtimeNew();
    const res = await rawRequest(
      r.url,
      'POST',
      `/api/runtime/upload/jit/${rid}/add`,
      requestsHeaders([
        ['AUTHORIZATION', `Token ${TOKEN}`],
        ['Content-Disposition', 'attachment; filename=/tmp/x.zip'],
        ['Content-Length', '3'],
      ]),
      Buffer.from([0x1f, 0x8b, 0]),
    );
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body.toString())).toEqual({ status: 'ok' });
    await freeze(rid, `/api/runtime/${rid}/freeze`); // without the trailing slash too
  });
});

describe('vmprof client, protocol C1 (0.4.0-0.4.9): multipart part "file"', () => {
  it('stores the file inside the multipart envelope', async () => {
    const rid = await runtimeNew();
    const prof = await readFile(join(fixtures, 'vmprof-fresh/cpu_basic.prof'));
    const boundary = '432c150fd4420008f7087fa74d366c2d';
    const body = Buffer.concat([
      Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="tmpk3j9x2"\r\n\r\n`),
      prof,
      Buffer.from(`\r\n--${boundary}--\r\n`),
    ]);
    const res = await rawRequest(
      r.url,
      'POST',
      `/api/runtime/upload/cpu/${rid}/add`,
      requestsHeaders([
        ['AUTHORIZATION', `Token ${TOKEN}`],
        ['Content-Disposition', 'attachment; filename=/tmp/tmpk3j9x2'],
        ['Content-Length', String(body.length)],
        ['Content-Type', `multipart/form-data; boundary=${boundary}`],
      ]),
      body,
    );
    expect(res.status).toBe(200);
    await freeze(rid);
    const row = await waitForProfile(r.url, rid);
    expect(row.sampleCount).toBe(1508);
    expect(row.hasMemory).toBe(false);
  });
});

describe('vmprof 0.1-0.3 tree uploads (protocols A and B) become CPU-only profiles', () => {
  const tree = [
    'py:<module>:1:x.py',
    '140315289700655',
    3,
    {},
    [['py:f:25:x.py', '140315290493999', 2, { jit: 1 }, []]],
  ];

  it('B: POST /api/profile/ answers the bare JSON string of the id', async () => {
    const body = Buffer.from(JSON.stringify({ VM: 'cpython', profiles: tree, argv: 'x.py a b', version: 2 }));
    const res = await rawRequest(
      r.url,
      'POST',
      '/api/profile/',
      requestsHeaders([
        ['AUTHORIZATION', `Token ${TOKEN}`],
        ['Content-Type', 'application/json'],
        ['Content-Length', String(body.length)],
      ]),
      body,
    );
    expect(res.status).toBe(200);
    const text = res.body.toString();
    expect(text).toMatch(/^"[a-z2-7]{24}"$/); // the client drops the first and last character
    expect(res.headers['content-encoding']).toBeUndefined();
    const row = await json(await fetch(`${r.url}/api/profiles/${text.slice(1, -1)}`));
    expect(row).toMatchObject({ sampleCount: 3, hasMemory: false, interpreter: 'cpython' });
    const stacks = await json(await fetch(`${r.url}/api/profiles/${row.id}/stacks`));
    expect(stacks.top[0]).toEqual({
      stack: [
        { name: '<module>', file: 'x.py', line: 1, kind: 'python' },
        { name: 'f', file: 'x.py', line: 25, kind: 'python' },
      ],
      count: 2,
    });
  });

  it('A: POST /api/log/ (urllib, Connection: close)', async () => {
    const body = Buffer.from(JSON.stringify({ VM: 'cpython', profiles: tree, argv: 'x.py a b', version: 1 }));
    const res = await rawRequest(
      r.url,
      'POST',
      '/api/log/',
      [
        ['Accept-Encoding', 'identity'],
        ['Host', 'x'],
        ['User-Agent', 'Python-urllib/3.11'],
        ['Content-Type', 'application/json'],
        ['Authorization', `Token ${TOKEN}`],
        ['Connection', 'close'],
        ['Content-Length', String(body.length)],
      ],
      body,
    );
    expect(res.status).toBe(200);
    expect(res.body.toString()).toMatch(/^"[a-z2-7]{24}"$/);
  });

  it('rejects a malformed tree naming the node', async () => {
    const body = Buffer.from(
      JSON.stringify({ VM: 'cpython', profiles: ['py:a:1:x.py', '1', 3, {}, [['oops']]], argv: '', version: 2 }),
    );
    const res = await rawRequest(
      r.url,
      'POST',
      '/api/profile/',
      requestsHeaders([
        ['AUTHORIZATION', `Token ${TOKEN}`],
        ['Content-Type', 'application/json'],
        ['Content-Length', String(body.length)],
      ]),
      body,
    );
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body.toString()).error.message).toContain('root.0');
  });

  it('jitlog uploads (0.3.x, even the //-path) get a bare JSON string', async () => {
    for (const path of ['/api/jitlog//', '/api/jitlog/aaaaaaaaaaaaaaaaaaaaaaaa/']) {
      const res = await rawRequest(
        r.url,
        'POST',
        path,
        [
          ['Host', 'x'],
          ['Content-Type', 'multipart/form-data; boundary=b'],
          ['Content-Length', '4'],
        ],
        Buffer.from('--b-'),
      );
      expect(res.status).toBe(200);
      expect(res.body.toString()).toMatch(/^"[a-z2-7]{24}"$/);
    }
  });
});

describe('the vmprof-viewer client (vmprof_viewer_client): POST /submit/ replayed from captures', () => {
  const captures = [
    {
      name: 'decorator-vmprofdemo',
      project: 'Demo project',
      fn: '__main__.fuzzer',
      samples: 118,
      min: 12508,
      max: 12528,
      start: true,
    },
    {
      name: 'decorator-memspikes',
      project: 'Prof fixtures: memory spikes',
      fn: '__main__.run',
      samples: 338,
      min: 14144,
      max: 578744,
      start: true,
    },
    {
      name: 'decorator-memspikes-vmprof04-native',
      project: 'Prof fixtures: memory spikes',
      fn: '__main__.run',
      samples: 311,
      min: 15400,
      max: 574076,
      start: true,
    },
    {
      name: 'cli-derived-v3-memory',
      project: 'Prof fixtures: CLI uploads',
      fn: 'file:derived-v3-memory.prof',
      samples: 243,
      min: 16912,
      max: 213436,
      start: false,
    },
    {
      name: 'cli-v4-server-test',
      project: 'Prof fixtures: CLI uploads',
      fn: 'file:v4-server-test-2016-12-28.prof',
      samples: 1187,
      min: 0,
      max: 0,
      start: false,
    },
  ];
  for (const c of captures) {
    it(`${c.name}: project and top-level function land as ours`, async () => {
      const capture = JSON.parse(await readFile(join(fixtures, `vmprof-viewer-client/${c.name}.request.json`), 'utf8'));
      const body = await readFile(join(fixtures, `vmprof-viewer-client/${c.name}.request.bin`));
      const decoded = JSON.parse(await readFile(join(fixtures, `vmprof-viewer-client/${c.name}.decoded.json`), 'utf8'));
      const res = await rawRequest(r.url, capture.method, capture.path, capture.headers, body);
      expect(res.status).toBe(200);
      const path = res.body.toString();
      expect(path).toMatch(/^\/profiles\/[a-z2-7]{24}$/); // base + body opens the profile
      expect(res.headers['content-encoding']).toBeUndefined();
      const id = path.split('/')[2];
      const row = await waitForProfile(r.url, id);
      expect(row).toMatchObject({ project: c.project, name: c.fn, sampleCount: c.samples, hasMemory: c.max > 0 });
      expect(row.start !== null).toBe(c.start);
      if (c.start) expect(row.start).toBe(Date.parse(decoded.fields.start_date));
      if (c.max > 0) {
        expect(row.peakMemory).toBe(c.max * 1024);
        const mem = await json(await fetch(`${r.url}/api/profiles/${id}/memory?bins=${c.samples}`));
        const mins = mem.bins.filter((b: any) => b.count).map((b: any) => b.min);
        expect(Math.min(...mins)).toBe(c.min * 1024);
        const first = decoded.mem_profile.first_samples[0];
        const stacks = await json(await fetch(`${r.url}/api/profiles/${id}/stacks?from=0&to=0.001`));
        expect(stacks.samples).toBe(1);
        expect(stacks.top[0].stack.map((f: any) => f.name)).toEqual(
          first.stack_names.map((n: string) => n.split(':')[1]),
        );
      }
    });
  }

  it('answers //submit/ and /submit without the slash too, and refuses non-msgpack with a named error', async () => {
    const body = await readFile(join(fixtures, 'vmprof-viewer-client/cli-derived-v3-memory.request.bin'));
    for (const path of ['//submit/', '/submit']) {
      const res = await rawRequest(
        r.url,
        'POST',
        path,
        [
          ['Host', 'x'],
          ['Content-Type', 'application/x-msgpack'],
          ['Content-Length', String(body.length)],
          ['Connection', 'close'],
        ],
        body,
      );
      expect(res.status).toBe(200);
      await waitForProfile(r.url, res.body.toString().split('/')[2]);
    }
    const res = await rawRequest(
      r.url,
      'POST',
      '/submit/',
      [
        ['Host', 'x'],
        ['Content-Length', '3'],
        ['Connection', 'close'],
      ],
      Buffer.from('abc'),
    );
    // refused before the answer: no 200 for a body that can never convert
    expect(res.status).toBe(400);
    const error = JSON.parse(res.body.toString()).error;
    expect(error.code).toBe('bad-submit');
    expect(error.message).toMatch(/expected a msgpack map, got first byte 0x61/);
  });
});
