// Issue 11, "Must show": every family of hostile input replayed against the built server in its own
// process, over real sockets, with a token (the writes must ask for it). Each family asserts the status
// and error code of every answer, that the server's peak RSS over the family stays under 512 MB, and that
// `/health` answers within 200 ms while the attack runs (scaled by the load average, so a
// loaded machine does not fail it, a stalled event loop still does). Afterwards every profile stored
// before the attacks serves the same bytes. The details of each family are in hostile-requests,
// gzip-bomb, poisoned-values and protocols; this file is their all-at-once, measured replay.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request as httpRequest } from 'node:http';
import { connect, type Socket } from 'node:net';
import { readdir, readFile, rm, mkdtemp } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeDocument, gzipDocument, readProfileFile, type ProfileDocument } from '@prof/format/node';
import { newProfileId } from '@prof/store';
import { fixtures, sharedStoreArgs, waitForProfile } from './helpers';
import { rawRequest } from './raw-http';
import { gzipBomb, nestedTree } from './attacks';
import { spawnServer, type ServerProcess } from './server-process';

const TOKEN = 'hostile-suite-token';
const AUTH = `Bearer ${TOKEN}`;
const RSS_LIMIT = 512 * 1024 * 1024;

let dir: string;
let server: ServerProcess;
let url: string;
/** Profiles stored before any attack, with the bytes `/document` served then. */
const earlier: { id: string; bytes: Buffer }[] = [];
let spiky: ProfileDocument;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'prof-hostile-'));
  // a 5 s body timeout: the slow-client family waits for the server to drop them, not 30 s. Not 1 s: on a
  // loaded machine either process can stall past 1 s (/health answered in 1.8 s at load 20), and the server
  // then dropped a gzip bomb mid-body (the client's fetch failed with ECONNRESET, 1 of 3 loaded runs).
  server = await spawnServer([
    '--data',
    join(dir, 'data'),
    '--token',
    TOKEN,
    '--body-timeout',
    '5s',
    ...sharedStoreArgs(), // PROF_TEST_STORE=shared: on PostgreSQL + S3 (incoming/ stays its local spool)
  ]);
  url = server.url;
  spiky = await readProfileFile(join(fixtures, 'vmprof-fresh/memory_spiky.prof'));
  const raw = await readFile(join(fixtures, 'vmprof-fresh/cpu_basic.prof'));
  const stored: string[] = [];
  for (const body of [await gzipDocument(spiky), raw]) {
    const res = await post('/api/profiles', body);
    expect(res.status).toBe(201);
    stored.push((await res.json()).id);
  }
  const rid = await runtimeNew();
  expect((await post(`/api/runtime/upload/cpu/${rid}/add`, raw)).status).toBe(200);
  const legacy = await post('/api/profile/', '{"profiles":["py:f:1:a.py","3",3,{},[]],"argv":"a.py","VM":"CPython"}');
  expect(legacy.status).toBe(200);
  stored.push(rid, JSON.parse(await legacy.text()));
  for (const id of stored) earlier.push({ id, bytes: await documentBytes(id) });
});

afterAll(async () => {
  server?.proc.kill('SIGKILL');
  if (dir) await rm(dir, { recursive: true, force: true });
});

function post(path: string, body: Uint8Array | string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${url}${path}`, {
    method: 'POST',
    body: typeof body === 'string' ? body : new Uint8Array(body),
    headers: { authorization: AUTH, ...headers },
  });
}

async function runtimeNew(): Promise<string> {
  const res = await post('/api/runtime/new', '{"argv":"job.py","VM":"CPython"}');
  expect(res.status).toBe(200);
  return (await res.json()).runtime_id;
}

async function documentBytes(id: string): Promise<Buffer> {
  await waitForProfile(url, id); // runtime uploads are converted after their answer
  const res = await fetch(`${url}/api/profiles/${id}/document`, { headers: { 'accept-encoding': 'identity' } });
  expect(res.status, id).toBe(200);
  return Buffer.from(await res.arrayBuffer());
}

/** Status and error code of an answer (code `-` for a success or a body that is no error). */
async function outcome(res: Response | { status: number; body: Buffer }): Promise<string> {
  const text = res instanceof Response ? await res.text() : res.body.toString();
  let code = '-';
  try {
    code = JSON.parse(text)?.error?.code ?? '-';
  } catch {}
  return `${res.status} ${code}`;
}

/** One `/health` round trip on its own connection (not queued behind the attack's sockets), ms. */
function healthLatency(): Promise<number> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${url}/health`, { agent: false }, (res) => {
      res.resume();
      res.on('end', () =>
        res.statusCode === 200 ? resolve(performance.now() - started) : reject(new Error(`/health ${res.statusCode}`)),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

/**
 * Runs `attack` while `/health` is asked again each time it answers; then checks the server's peak RSS
 * over the attack and the slowest `/health`. Attack bodies are made before, so the client's own work
 * does not count as the server's latency.
 */
async function underAttack(family: string, attack: () => Promise<void>): Promise<void> {
  await server.resetPeak();
  const latencies: number[] = [];
  let attacking = true;
  // The heaviest load seen during the attack: the 1-minute average lags a burst of other test files.
  let load = loadavg()[0];
  const poll = (async () => {
    while (attacking) {
      latencies.push(await healthLatency());
      load = Math.max(load, loadavg()[0]);
    }
  })();
  try {
    await attack();
  } finally {
    attacking = false;
    await poll;
  }
  const peak = await server.peakRss();
  const worst = Math.max(...latencies);
  // One runnable process per unit of load shares the two cores with the server: a /health that waited its
  // turn behind them is not a stall of ours (a 1.1 s answer at load 7.6 under two busy loops), one that
  // waited seconds on an idle machine still fails.
  const bound = 200 * Math.max(1, load, loadavg()[0]);
  console.log(
    `${family}: peak RSS ${(peak / 1e6).toFixed(0)} MB, /health worst ${worst.toFixed(0)} ms of ${latencies.length} (bound ${bound.toFixed(0)} ms)`,
  );
  expect(peak, `${family}: peak RSS`).toBeLessThan(RSS_LIMIT);
  expect(worst, `${family}: slowest /health`).toBeLessThan(bound);
  expect(server.proc.exitCode, server.output()).toBeNull();
}

describe('hostile input, family by family', () => {
  it('gzip bombs on every upload route, 9 at once', async () => {
    const body = gzipBomb();
    const rids = await Promise.all([runtimeNew(), runtimeNew(), runtimeNew()]);
    const cases: [string, string][] = [
      ['/api/profiles', '413 too-large'],
      ['/api/profiles', '413 too-large'],
      ['/submit/', '413 too-large'],
      ['/submit/', '413 too-large'],
      [`/api/runtime/upload/cpu/${rids[0]}/add`, '413 too-large'],
      [`/api/runtime/upload/cpu/${rids[1]}/add`, '413 too-large'],
      ['/api/profile/', '400 bad-json'], // a JSON route: never inflated
      ['/api/jitlog/', '200 -'], // drained, nothing kept
      [`/api/runtime/upload/jit/${rids[2]}/add`, '200 -'],
    ];
    let answers: string[] = [];
    await underAttack('9 concurrent 1.5 MB gzip bombs', async () => {
      answers = await Promise.all(cases.map(async ([path]) => outcome(await post(path, body))));
    });
    expect(answers).toEqual(cases.map(([, expected]) => expected));
    expect((await readdir(join(dir, 'data/incoming'))).filter((n) => !n.startsWith('.'))).toEqual([]);
  });

  it('poisoned values: 422 bad-value, as .msgpack.gz and plain msgpack', async () => {
    const poisons: ((doc: ProfileDocument) => void)[] = [
      (d) => (d.samples.time[7] = Number.NaN),
      (d) => (d.samples.time[9] = Number.POSITIVE_INFINITY),
      (d) => d.samples.time.reverse(),
      (d) => (d.samples.memory![3] = 1.7e308),
      (d) => (d.meta.startTime = 1e300),
    ];
    const bodies: Uint8Array[] = [];
    for (const poison of poisons) {
      const doc = structuredClone(spiky);
      poison(doc);
      bodies.push(await gzipDocument(doc), encodeDocument(doc));
    }
    let answers: string[] = [];
    await underAttack('poisoned values', async () => {
      answers = await Promise.all(bodies.map(async (body) => outcome(await post('/api/profiles', body))));
    });
    expect(answers).toEqual(bodies.map(() => '422 bad-value'));
  });

  it('unbounded text: 400 too-long; the listings stay small', async () => {
    const changes: ((doc: ProfileDocument) => void)[] = [
      (d) => (d.meta.project = 'p'.repeat(5_000_000)),
      (d) => (d.meta.tags = Object.fromEntries(Array.from({ length: 100_000 }, (_, i) => [`k${i}`, 'v']))),
      (d) => (d.meta.tags = { big: 'x'.repeat(1_000_000) }),
      (d) => (d.meta.host = 'h'.repeat(1_000_000)),
      (d) => (d.meta.argv = ['x'.repeat(100_000)]),
    ];
    const bodies: Uint8Array[] = [];
    for (const change of changes) {
      const doc = structuredClone(spiky);
      change(doc);
      bodies.push(await gzipDocument(doc));
    }
    // 101 tags through the query: each short, too many together
    const tags = Array.from({ length: 101 }, (_, i) => `tag=t${i}%3Dv`).join('&');
    const small = await gzipDocument(spiky);
    let answers: string[] = [];
    await underAttack('unbounded text', async () => {
      answers = await Promise.all([
        ...bodies.map(async (body) => outcome(await post('/api/profiles', body))),
        outcome(await post(`/api/profiles?${tags}`, small)),
      ]);
    });
    expect(answers).toEqual([...bodies.map(() => '400 too-long'), '400 too-long']);
    expect((await (await fetch(`${url}/api/projects`)).text()).length).toBeLessThan(10_000);
    expect((await (await fetch(`${url}/api/profiles?limit=25`)).text()).length).toBeLessThan(100_000);
  });

  it('tiny bodies, big work: legacy trees claiming millions of samples, wrong shapes, 2,000 and 10,001 deep', async () => {
    const claim = '{"profiles":["a","1",19999999,{},[]]}';
    const cases: [string, string][] = [
      ...Array.from({ length: 20 }, (): [string, string] => [claim, '413 too-large']),
      ['{"profiles":5}', '400 bad-tree'],
      ['{"profiles":[]}', '400 bad-tree'],
      ['null', '400 bad-tree'],
      ['[1,2,3]', '400 bad-tree'],
      [nestedTree(10_001), '400 bad-tree'],
      [nestedTree(2000), '200 -'],
    ];
    let answers: string[] = [];
    await underAttack('tiny bodies, big work', async () => {
      answers = await Promise.all(
        cases.map(async ([body], i) => outcome(await post(i % 2 ? '/api/log' : '/api/profile/', body))),
      );
    });
    expect(answers).toEqual(cases.map(([, expected]) => expected));
  });

  it('declared bodies over the limit: 413 at once with Connection: close, on every write route', async () => {
    const rid = await runtimeNew();
    const paths = [
      '/api/profiles',
      '/submit/',
      '/api/runtime/new',
      `/api/runtime/upload/cpu/${rid}/add`,
      `/api/runtime/upload/jit/${rid}/add`,
      `/api/runtime/${rid}/freeze/`,
      '/api/profile/',
      '/api/log',
      '/api/jitlog/',
    ];
    let answers: { status: number; headers: Record<string, string>; body: Buffer }[] = [];
    await underAttack('declared 33 GiB bodies (past the 32 GiB default limit)', async () => {
      // the body never comes: only an answer from the header can arrive at all
      answers = await Promise.all(
        paths.map((path) =>
          rawRequest(
            url,
            'POST',
            path,
            [
              ['Host', 'x'],
              ['Authorization', AUTH],
              ['Content-Length', String(33 * 1024 ** 3)],
            ],
            Buffer.from('0123456789'),
          ),
        ),
      );
    });
    for (const [i, answer] of answers.entries()) {
      expect(await outcome(answer), paths[i]).toBe('413 too-large');
      expect(answer.headers.connection, paths[i]).toBe('close');
    }
  });

  it('slow and lying clients: bodies that stop are dropped, early answers close, short Content-Lengths parse as what they hold', async () => {
    const rids = await Promise.all(Array.from({ length: 10 }, runtimeNew));
    const port = Number(new URL(url).port);
    /** A client that declares `declared` bytes, sends 10 and stops; resolves with what it got once the server closed. */
    const stall = (path: string, declared: number, authorization: string | null) =>
      new Promise<string>((resolve) => {
        const socket = connect(port, '127.0.0.1');
        let response = '';
        socket.on('data', (d) => (response += d));
        socket.on('error', () => {});
        socket.on('close', () => resolve(response));
        const auth = authorization ? `Authorization: ${authorization}\r\n` : '';
        socket.write(`POST ${path} HTTP/1.1\r\nHost: x\r\n${auth}Content-Length: ${declared}\r\n\r\n0123456789`);
      });
    let dropped: string[] = [];
    let refused: string[] = [];
    let lying = { status: 0 };
    await underAttack(
      '40 stalled bodies, 10 refused early, a lying Content-Length, 100 half-sent headers',
      async () => {
        // 100 clients that never finish their headers (held until Node's headersTimeout, harmless meanwhile)
        const halfHeaders: Socket[] = Array.from({ length: 100 }, () => {
          const socket = connect(port, '127.0.0.1');
          socket.on('error', () => {});
          socket.write('POST /api/profiles HTTP/1.1\r\nHost: x\r\nX-Slow: ');
          return socket;
        });
        // 40 that stop sending their body: each dropped after the 5 s body timeout, in memory or spooled
        const stalls = Array.from({ length: 40 }, (_, i) =>
          [
            () => stall('/api/profiles', 500_000, AUTH),
            () => stall('/api/profiles', 1_500_000_000, AUTH),
            () => stall('/submit/', 1_000_000, AUTH),
            () => stall(`/api/runtime/upload/cpu/${rids[i >> 2]}/add`, 1_000_000, AUTH),
          ][i % 4](),
        );
        // 10 refused from their headers (no token): answered, then closed, the rest of the body never waited for
        const early = Array.from({ length: 10 }, () => stall('/api/profiles', 1_000_000, null));
        // a body longer than its Content-Length: 10 bytes of JSON refused, the rest refused by the HTTP parser
        // (whichever answer comes first, a 400 and a closed connection)
        lying = await rawRequest(
          url,
          'POST',
          '/api/runtime/new',
          [
            ['Host', 'x'],
            ['Authorization', AUTH],
            ['Content-Length', '10'],
          ],
          Buffer.from('{"argv": "job.py", "VM": "CPython"}'),
        );
        // meanwhile an honest upload is served
        expect((await post('/api/profiles?project=during-slow', await gzipDocument(spiky))).status).toBe(201);
        dropped = await Promise.all(stalls);
        refused = await Promise.all(early);
        for (const socket of halfHeaders) socket.destroy();
      },
    );
    expect(dropped).toEqual(dropped.map(() => '')); // dropped: nothing to answer a client that stopped sending
    for (const answer of refused) {
      expect(answer.split('\r\n')[0]).toBe('HTTP/1.1 401 Unauthorized');
      expect(answer).toMatch(/\r\nconnection: close\r\n/i);
    }
    expect(lying.status).toBe(400);
    // every spool of a dropped body is gone (removed as the socket closes)
    for (;;) {
      const left = (await readdir(join(dir, 'data/incoming'))).filter((n) => !n.startsWith('.space'));
      if (left.length === 0) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  });

  it('null and malformed bodies: 4xx naming what is wrong, never 5xx', async () => {
    const gz = await gzipDocument(spiky);
    const cases: [string, Uint8Array | string, string][] = [
      ['/api/runtime/new', 'null', '400 bad-json'],
      ['/api/runtime/new', '[]', '400 bad-json'],
      ['/api/runtime/new', '"x"', '400 bad-json'],
      ['/api/runtime/new', '{', '400 bad-json'],
      ['/api/runtime/new', '['.repeat(60_000), '400 bad-json'],
      ['/api/profiles', '', '400 unknown-format'],
      ['/api/profiles', 'null', '400 unknown-format'],
      ['/api/profiles', gz.subarray(0, 5), '400 bad-gzip'],
      ['/api/profiles', Buffer.from([0xdd, 0xff, 0xff, 0xff, 0xff]), '400 unknown-format'],
      ['/submit/', 'null', '400 bad-submit'],
      ['/submit/', '', '400 bad-submit'],
      ['/api/profile/', '', '400 bad-tree'],
    ];
    let answers: string[] = [];
    await underAttack('null and malformed bodies', async () => {
      answers = await Promise.all(cases.map(async ([path, body]) => outcome(await post(path, body))));
    });
    expect(answers).toEqual(cases.map(([, , expected]) => expected));
  });

  it('bad ids: 400 bad-id on every profile route, 404 unknown-runtime for ids the server did not issue', async () => {
    const issued = await runtimeNew();
    const forged = `${issued.slice(0, 12)}${issued[12] === 'a' ? 'b' : 'a'}${issued.slice(13)}`;
    const reads: [string, string, string][] = [];
    for (const id of ['a'.repeat(101), 'a'.repeat(12_000), 'A'.repeat(24), '%2e%2e%2f%2e%2e%2fetc%2fpasswd']) {
      for (const path of ['', '/document', '/memory', '/stacks'])
        reads.push(['GET', `/api/profiles/${id}${path}`, '400 bad-id']);
      reads.push(['DELETE', `/api/profiles/${id}`, '400 bad-id']);
    }
    for (const rid of [newProfileId(), forged, 'not-a-runtime', 'x'.repeat(5000)]) {
      reads.push(['POST', `/api/runtime/upload/cpu/${rid}/add`, '404 unknown-runtime']);
      reads.push(['POST', `/api/runtime/upload/jit/${rid}/add`, '404 unknown-runtime']);
      reads.push(['POST', `/api/runtime/${rid}/freeze/`, '404 unknown-runtime']);
    }
    const missing = newProfileId();
    let answers: string[] = [];
    let conditional = 0;
    await underAttack('bad ids', async () => {
      answers = await Promise.all(
        reads.map(async ([method, path]) =>
          outcome(
            await fetch(`${url}${path}`, {
              method,
              body: method === 'POST' ? 'abcd' : undefined,
              headers: { authorization: AUTH },
            }),
          ),
        ),
      );
      conditional = (
        await fetch(`${url}/api/profiles/${missing}/document`, { headers: { 'if-none-match': `"${missing}"` } })
      ).status;
    });
    expect(answers).toEqual(reads.map(([, , expected]) => expected));
    expect(conditional).toBe(404);
  });

  it('the token on every write: 401, whatever token of whatever length, nothing stored', async () => {
    const before = (await (await fetch(`${url}/api/profiles?limit=0`)).json()).total;
    const rid = await runtimeNew();
    const raw = await readFile(join(fixtures, 'vmprof-fresh/cpu_basic.prof'));
    const writes: [string, string, Uint8Array | string][] = [
      ['POST', '/api/profiles', raw],
      ['POST', '/api/runtime/new', '{}'],
      ['POST', `/api/runtime/upload/cpu/${rid}/add`, raw],
      ['POST', `/api/runtime/upload/jit/${rid}/add`, 'jit'],
      ['POST', `/api/runtime/${rid}/freeze/`, ''],
      ['POST', '/api/profile/', '{"profiles":["py:f:1:a.py","1",1,{},[]]}'],
      ['POST', '/api/log', '{"profiles":["py:f:1:a.py","1",1,{},[]]}'],
      ['POST', '/api/jitlog/', 'jitlog'],
      ['POST', `/api/jitlog/${newProfileId()}/`, 'jitlog'],
      ['POST', '/submit/', raw],
      ['DELETE', `/api/profiles/${earlier[0].id}`, ''],
      ['POST', '/api/prune?olderThan=0d', ''],
    ];
    const tokens = [null, '', 'h', TOKEN.slice(0, -1), `${TOKEN}x`, 'x'.repeat(4000)];
    const attempts = writes.flatMap((write) => tokens.map((token) => [write, token] as const));
    let answers: string[] = [];
    await underAttack('writes without the token', async () => {
      answers = await Promise.all(
        attempts.map(async ([[method, path, body], token]) =>
          outcome(
            await fetch(`${url}${path}`, {
              method,
              body: method === 'POST' ? (typeof body === 'string' ? body : new Uint8Array(body)) : undefined,
              headers: token === null ? {} : { authorization: `Bearer ${token}` },
            }),
          ),
        ),
      );
    });
    expect(answers).toEqual(attempts.map(() => '401 unauthorized'));
    expect((await (await fetch(`${url}/api/profiles?limit=0`)).json()).total).toBe(before);
  });

  it('our own: header floods, smuggling-shaped requests, 200 honest uploads at once', async () => {
    const gz = await gzipDocument(spiky);
    const raw: [string, string][] = [];
    let floods: string[] = [];
    let uploads: string[] = [];
    await underAttack('header floods, smuggling, 200 concurrent uploads', async () => {
      const port = Number(new URL(url).port);
      const send = (text: string) =>
        new Promise<string>((resolve) => {
          const socket = connect(port, '127.0.0.1');
          let response = '';
          socket.on('data', (d) => (response += d));
          socket.on('error', () => {});
          socket.on('close', () => resolve(response.split('\r\n')[0]));
          socket.end(text);
        });
      floods = await Promise.all([
        // 64 KB of one header, 64 KB of URL, 5,000 headers: refused by the HTTP parser
        send(`GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(65_536)}\r\n\r\n`),
        send(`GET /api/profiles?q=${'a'.repeat(65_536)} HTTP/1.1\r\nHost: x\r\n\r\n`),
        send(
          `GET /health HTTP/1.1\r\nHost: x\r\n${Array.from({ length: 5000 }, (_, i) => `X-H${i}: v`).join('\r\n')}\r\n\r\n`,
        ),
        // Content-Length and Transfer-Encoding both, and a chunk size that is no number
        send(
          `POST /api/profiles HTTP/1.1\r\nHost: x\r\nAuthorization: ${AUTH}\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`,
        ),
        send(
          `POST /api/profiles HTTP/1.1\r\nHost: x\r\nAuthorization: ${AUTH}\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nab\r\n0\r\n\r\n`,
        ),
      ]);
      uploads = await Promise.all(
        Array.from({ length: 200 }, async () => {
          const res = await post('/api/profiles?project=flood', gz);
          const code = await outcome(res);
          if (res.status === 503) raw.push([code, res.headers.get('retry-after') ?? '']);
          return code;
        }),
      );
    });
    expect(floods).toEqual([
      'HTTP/1.1 431 Request Header Fields Too Large',
      'HTTP/1.1 431 Request Header Fields Too Large',
      'HTTP/1.1 431 Request Header Fields Too Large',
      'HTTP/1.1 400 Bad Request',
      'HTTP/1.1 400 Bad Request',
    ]);
    // stored, or refused as busy with Retry-After; never lost, never another answer
    expect(uploads.filter((a) => a !== '201 -' && a !== '503 busy')).toEqual([]);
    for (const [, retry] of raw) expect(retry).toBe('5');
    const listed = (await (await fetch(`${url}/api/profiles?project=flood&limit=0`)).json()).total;
    expect(listed).toBe(uploads.filter((a) => a === '201 -').length);
  });

  it('afterwards every profile stored before the attacks serves the same bytes', async () => {
    for (const { id, bytes } of earlier) {
      expect(Buffer.compare(await documentBytes(id), bytes), id).toBe(0);
      expect((await fetch(`${url}/api/profiles/${id}/stacks`)).status, id).toBe(200);
    }
    const health = await (await fetch(`${url}/health`)).json();
    expect(health.status).toBe('ok');
  });
});
