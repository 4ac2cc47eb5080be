import { afterAll, beforeAll, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { json, startServer, waitForProfile, type Running } from './helpers';
import { rawRequest } from './raw-http';

const hasPypy = spawnSync('sh', ['-c', 'command -v pypy3'], { stdio: 'ignore' }).status === 0;

// A job that keeps allocating 64 KiB buffers between bursts of CPU work: memory climbs in steps.
const WORKLOAD = `
import _vmprof, os, sys, time
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
_vmprof.enable(fd, 0.002, 1, 0, 0, 0)   # fileno, period s, memory, lines, native, real_time
keep = []
def grow(n):
    for i in range(n):
        keep.append(bytearray(64 * 1024))
def burn(seconds):
    end = time.time() + seconds
    x = 0
    while time.time() < end:
        x += sum(range(1000))
    return x
for step in range(5):
    grow(300)
    burn(0.12)
_vmprof.disable()
os.close(fd)
`;

let r: Running;
let dir: string;
beforeAll(async () => {
  r = await startServer();
  dir = await mkdtemp(join(tmpdir(), 'prof-pypy-'));
});
afterAll(async () => {
  await r?.stop();
  await rm(dir, { recursive: true, force: true });
});

it('a profile written by pypy3 _vmprof, uploaded through the 0.4.10+ protocol, shows its memory series', async () => {
  expect(hasPypy, 'pypy3 is missing: `npm test` installs it (apt-get install pypy3)').toBe(true);
  const script = join(dir, 'job.py');
  const prof = join(dir, 'job.prof');
  await writeFile(script, WORKLOAD);
  const run = spawnSync('pypy3', [script, prof], { encoding: 'utf8', timeout: 60_000 });
  expect(run.status, run.stderr).toBe(0);
  const bytes = await readFile(prof);

  const headers: [string, string][] = [
    ['Host', 'x'],
    ['User-Agent', 'python-requests/2.34.2'],
    ['Accept-Encoding', 'gzip, deflate'],
    ['Accept', '*/*'],
    ['Connection', 'keep-alive'],
  ];
  const meta = Buffer.from(JSON.stringify({ argv: 'job.py', VM: 'PyPy' }));
  const created = await rawRequest(
    r.url,
    'POST',
    '/api/runtime/new',
    [...headers, ['Content-Type', 'application/json'], ['Content-Length', String(meta.length)]],
    meta,
  );
  const rid = JSON.parse(created.body.toString()).runtime_id;
  const uploaded = await rawRequest(
    r.url,
    'POST',
    `/api/runtime/upload/cpu/${rid}/add`,
    [...headers, ['Content-Disposition', `attachment; filename=${prof}`], ['Content-Length', String(bytes.length)]],
    bytes,
  );
  expect(uploaded.status).toBe(200);
  const frozen = await rawRequest(r.url, 'POST', `/api/runtime/${rid}/freeze/`, [
    ...headers,
    ['Content-Type', 'application/json'],
    ['Content-Length', '0'],
  ]);
  expect(frozen.status).toBe(200);

  const row = await waitForProfile(r.url, rid);
  expect(row.interpreter).toBe('pypy');
  expect(row.hasMemory).toBe(true);
  expect(row.sampleCount).toBeGreaterThan(20);
  const mem = await json(await fetch(`${r.url}/api/profiles/${rid}/memory?bins=20`));
  const filled = mem.bins.filter((b: any) => b.count > 0);
  expect(filled.length).toBeGreaterThan(5);
  // 1,500 buffers of 64 KiB are kept: the series climbs by ~90 MiB from the first bins to the last
  expect(filled.at(-1).max - filled[0].min).toBeGreaterThan(60 * 1024 * 1024);
  const stacks = await json(await fetch(`${r.url}/api/profiles/${rid}/stacks`));
  const names = stacks.top.flatMap((t: any) => t.stack.map((f: any) => f.name));
  expect(names).toEqual(expect.arrayContaining(['burn']));
});
