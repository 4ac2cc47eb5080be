import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { decodeDocument } from '@prof/format';
import { fixtures, json, startServer, waitForProfile, type Running } from './helpers';
import { rawRequest } from './raw-http';

// `python -m vmprof --web` uploads: named by their script, a project from the base URL's query or the
// server's --default-project; legacy tree uploads carry no invented duration.
let r: Running;
beforeAll(async () => {
  r = await startServer({ defaultProject: 'vmprof-runs' });
});
afterAll(async () => {
  await r?.stop();
});

const headers = (extra: [string, string][]): [string, string][] => [
  ['Host', 'x'],
  ['User-Agent', 'python-requests/2.34.2'],
  ['Accept-Encoding', 'gzip, deflate'],
  ['Accept', '*/*'],
  ['Connection', 'keep-alive'],
  ...extra,
];

/** The 0.4.10+ client's three requests, on paths built as it builds them: `<web-url>` + `/api/...`. */
async function vmprofWeb(base: string, file: string): Promise<string> {
  const meta = Buffer.from(
    JSON.stringify({ argv: '/usr/lib/python3/site-packages/vmprof/__main__.py 8 --fast', VM: 'CPython' }),
  );
  const created = await rawRequest(
    r.url,
    'POST',
    `${base}/api/runtime/new`,
    headers([
      ['Content-Type', 'application/json'],
      ['Content-Length', String(meta.length)],
    ]),
    meta,
  );
  expect(created.status, created.body.toString()).toBe(200);
  const rid = JSON.parse(created.body.toString()).runtime_id;
  const prof = await readFile(join(fixtures, file));
  const added = await rawRequest(
    r.url,
    'POST',
    `${base}/api/runtime/upload/cpu/${rid}/add`,
    headers([
      ['Content-Disposition', 'attachment; filename=/tmp/tmpk3j9x2'],
      ['Content-Length', String(prof.length)],
    ]),
    prof,
  );
  expect(added.status, added.body.toString()).toBe(200);
  const frozen = await rawRequest(
    r.url,
    'POST',
    `${base}/api/runtime/${rid}/freeze/`,
    headers([
      ['Content-Type', 'application/json'],
      ['Content-Length', '0'],
    ]),
  );
  expect(frozen.status).toBe(200);
  return rid;
}

async function documentOf(id: string) {
  const response = await fetch(`${r.url}/api/profiles/${id}/document`);
  return decodeDocument(new Uint8Array(await response.arrayBuffer())); // fetch inflated the gzip
}

describe('python -m vmprof --web', () => {
  it('--web-url http://host/?project=etl: project from the query, name and argv from the script', async () => {
    const rid = await vmprofWeb('/?project=etl', 'vmprof-fresh/cpu_basic.prof');
    const row = await waitForProfile(r.url, rid);
    expect(row.project).toBe('etl');
    expect(row.name).toBe('cpu_basic.py');
    const doc = await documentOf(rid);
    expect(doc.meta.argv?.[0]).toMatch(/(^|\/)cpu_basic\.py$/);
    expect(doc.meta.argv?.slice(1)).toEqual(['8', '--fast']);
  });

  it('without a project: the server default; the plain API path keeps working', async () => {
    const rid = await vmprofWeb('', 'vmprof-fresh/cpu_basic.prof');
    const row = await waitForProfile(r.url, rid);
    expect(row.project).toBe('vmprof-runs');
    expect(row.name).toBe('cpu_basic.py');
  });

  it('threads without a recorded name are named after their entry function', async () => {
    const rid = await vmprofWeb('/?project=threads', 'vmprof/v6-linux-multithread-mem-lines-native.prof');
    await waitForProfile(r.url, rid);
    const doc = await documentOf(rid);
    // Both threads run a Thread subclass's own `run` (multithread_example.py), below threading.py's
    // `_bootstrap › _bootstrap_inner`, which are skipped.
    expect(doc.threads.name).toEqual(['run', 'run']);
  });

  it('an explicit ?project= on /api/profiles wins over the default', async () => {
    const body = await readFile(join(fixtures, 'vmprof-fresh/cpu_basic.prof'));
    const response = await fetch(`${r.url}/api/profiles?project=mine`, { method: 'POST', body });
    const { id } = await json(response);
    expect((await json(await fetch(`${r.url}/api/profiles/${id}`))).project).toBe('mine');
  });
});

it('a legacy tree upload has no invented duration: time source none, duration 0 = unknown, no start', async () => {
  const tree = ['py:<module>:1:job.py', '140315289700655', 300, {}, [['py:f:25:job.py', '1403152', 200, {}, []]]];
  const body = Buffer.from(JSON.stringify({ VM: 'cpython', profiles: tree, argv: 'job.py a', version: 2 }));
  const res = await rawRequest(
    r.url,
    'POST',
    '/?project=legacy/api/profile/',
    headers([
      ['Content-Type', 'application/json'],
      ['Content-Length', String(body.length)],
    ]),
    body,
  );
  expect(res.status).toBe(200);
  const id = JSON.parse(res.body.toString());
  const row = await json(await fetch(`${r.url}/api/profiles/${id}`));
  expect(row).toMatchObject({ project: 'legacy', name: 'job.py', sampleCount: 300, durationMs: 0, start: null });
  const doc = await documentOf(id);
  expect(doc.samples.timeSource).toBe('none');
  expect(doc.meta.periodUs).toBeNull();
});
