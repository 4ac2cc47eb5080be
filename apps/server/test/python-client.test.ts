import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { createServer as createTcpServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixtures, json, repoRoot, startServer, waitForProfile, type Running } from './helpers';
import { rawRequest } from './raw-http';
import { decodeDocument } from '@prof/format';
import { readFile } from 'node:fs/promises';
import { findInterpreters, run } from './pythons';

// The Python client (clients/python) under every interpreter of the machine, against a real server.
const CLIENT_SRC = join(repoRoot, 'clients', 'python', 'src');

const WORKLOAD = `
import asyncio, json, sys, time
from prof_client import profile

PROJECT = sys.argv[1]
keep = []

def square_sum(n):
    total = 0
    for i in range(n):
        total += i * i
    return total

def allocate_and_burn(seconds, megabytes):
    # Paced over \`seconds\`, but every MiB is allocated however little CPU a loaded machine leaves us.
    end = time.time() + seconds
    step = seconds / megabytes
    while len(keep) < megabytes or time.time() < end:
        if len(keep) < megabytes:
            keep.append(bytearray(b"\\x01" * 16) * (1 << 16))  # a new, written MiB each time
        next_alloc = time.time() + step
        while time.time() < next_alloc:
            square_sum(2000)

@profile(project=PROJECT, tags={"case": "decorator"})
def decorated_job(seconds):
    allocate_and_burn(seconds, 80)
    return {"answer": 42}

class Service:
    @profile(project=PROJECT)
    async def async_method(self):
        await asyncio.sleep(0)
        # CPU time, not wall time: a loaded machine may leave 0.4 s of wall time without a sample.
        end = time.process_time() + 0.4
        while time.process_time() < end:
            square_sum(2000)
        return "async-ok"

def block_owner():
    with profile(project=PROJECT, name="block_job"):
        end = time.process_time() + 0.4
        while time.process_time() < end:
            square_sum(3000)

t0 = time.monotonic()
value = decorated_job(float(sys.argv[2]))
call_s = time.monotonic() - t0
result = {"value": value, "call_s": call_s, "returned_at": time.time()}
if len(sys.argv) < 4:
    result["async"] = asyncio.run(Service().async_method())
    block_owner()
print(json.dumps(result), flush=True)
`;

const RUNNER_SCRIPT = `
import sys, threading, time
def runner_work():
    end = time.time() + 0.5
    total = 0
    while time.time() < end:
        total += sum(i * i for i in range(2000))
    return total
print("argv", sys.argv[1:], flush=True)
helper = threading.Thread(target=runner_work, name="helper-thread")
helper.start()
runner_work()
helper.join()
sys.exit(3)
`;

const { found, missing } = findInterpreters();

let r: Running;
let dir: string;
let hanging: Server;
let hangingUrl: string;
const sockets: Socket[] = [];

beforeAll(async () => {
  r = await startServer();
  dir = await mkdtemp(join(tmpdir(), 'prof-pyclient-'));
  await writeFile(join(dir, 'workload.py'), WORKLOAD);
  await writeFile(join(dir, 'runner_script.py'), RUNNER_SCRIPT);
  // A server that accepts connections and never answers: the client must not wait for it.
  hanging = createTcpServer((socket) => sockets.push(socket));
  await new Promise<void>((resolve) => hanging.listen(0, '127.0.0.1', resolve));
  const address = hanging.address();
  hangingUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
});
afterAll(async () => {
  for (const s of sockets) s.destroy();
  await new Promise((resolve) => hanging?.close(resolve));
  await r?.stop();
  await rm(dir, { recursive: true, force: true });
});

async function listed(project: string, count: number): Promise<any[]> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const page = await json(await fetch(`${r.url}/api/profiles?project=${encodeURIComponent(project)}&limit=100`));
    if (page.items.length >= count || Date.now() > deadline) return page.items;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function stackNames(id: string): Promise<string[]> {
  const stacks = await json(await fetch(`${r.url}/api/profiles/${id}/stacks?top=50`));
  return stacks.top.flatMap((t: any) => t.stack.map((f: any) => f.name));
}

const env = (spool: string, server: string, extra: Record<string, string> = {}) => ({
  PYTHONPATH: CLIENT_SRC,
  PROF_SPOOL: spool,
  PROF_SERVER: server,
  ...extra,
});

it('finds every required interpreter', () => {
  console.log(`Python client tested under: ${found.map((i) => i.label).join(', ')}`);
  expect(missing, `missing interpreters: ${missing.join(', ')}`).toEqual([]);
});

describe.each(found)('prof_client under $label', ({ label, command }) => {
  const expectedRecorder = label === 'pypy3' ? '_vmprof' : 'sampler';

  it('decorator, async method and with-block profiles are listed with their project, name, stacks and memory', async () => {
    const project = `py-${label}`;
    const spool = join(dir, `spool-live-${label}`);
    const done = await run(
      command,
      [join(dir, 'workload.py'), project, '0.6'],
      env(spool, r.url, { PROF_EXIT_WAIT: '60' }),
    );
    expect(done.code, done.stderr).toBe(0);
    const printed = JSON.parse(done.stdout.trim().split('\n').at(-1)!);
    expect(printed.value).toEqual({ answer: 42 });
    expect(printed.async).toBe('async-ok');

    const rows = await listed(project, 3);
    const byName = new Map(rows.map((row: any) => [row.name, row]));
    expect([...byName.keys()].sort()).toEqual(['Service.async_method', 'block_job', 'decorated_job']);
    for (const row of rows) {
      expect(row.project).toBe(project);
      expect(row.tags.recorder).toBe(expectedRecorder);
    }
    const decorated = byName.get('decorated_job');
    expect(decorated.tags.case).toBe('decorator');
    expect(decorated.hasMemory).toBe(true);
    expect(await stackNames(decorated.id)).toEqual(expect.arrayContaining(['decorated_job', 'square_sum']));
    expect(await stackNames(byName.get('Service.async_method').id)).toEqual(
      expect.arrayContaining(['async_method', 'square_sum']),
    );
    expect(await stackNames(byName.get('block_job').id)).toEqual(expect.arrayContaining(['block_owner', 'square_sum']));

    // 80 MiB are kept, one at a time, while the decorated call runs: its memory series climbs.
    const mem = await json(await fetch(`${r.url}/api/profiles/${decorated.id}/memory?bins=10`));
    const filled = mem.bins.filter((b: any) => b.count > 0);
    expect(filled.length).toBeGreaterThan(3);
    expect(filled.at(-1).max - filled[0].min).toBeGreaterThan(30 * 1024 * 1024);
    if (expectedRecorder === 'sampler') expect(mem.timeEstimated).toBe(false);
  });

  it('python -m prof_client runs a script with its arguments, keeps its exit code, names the profile after it', async () => {
    const project = `py-run-${label}`;
    const spool = join(dir, `spool-run-${label}`);
    const done = await run(
      command,
      ['-m', 'prof_client', '--project', project, '--tag', 'job=nightly', join(dir, 'runner_script.py'), 'a1', '--x'],
      env(spool, r.url, { PROF_EXIT_WAIT: '60' }),
    );
    expect(done.code, done.stderr).toBe(3);
    expect(done.stdout).toContain("argv ['a1', '--x']");
    const [row] = await listed(project, 1);
    expect(row.name).toBe('runner_script.py');
    expect(row.tags.job).toBe('nightly');
    const names = await stackNames(row.id);
    expect(names).toEqual(expect.arrayContaining(['<module>', 'runner_work']));
    if (expectedRecorder === 'sampler') expect(names).not.toContain('_exec_script');
    // Thread names: recorded by the sampler (meta thread:<id>); PyPy's _vmprof writes thread id 0 for all.
    const response = await fetch(`${r.url}/api/profiles/${row.id}/document`);
    const doc = decodeDocument(new Uint8Array(await response.arrayBuffer()));
    if (expectedRecorder === 'sampler') expect([...doc.threads.name].sort()).toEqual(['MainThread', 'helper-thread']);
    else expect(doc.threads.name.every((n) => n !== null)).toBe(true);
  });

  it('with a server that never answers, the call returns its value, exit waits at most 2 s, the profile is spooled and sent later', async () => {
    const project = `py-dead-${label}`;
    const spool = join(dir, `spool-dead-${label}`);
    const done = await run(
      command,
      [join(dir, 'workload.py'), project, '0.3', 'only-decorated'],
      env(spool, hangingUrl),
    );
    expect(done.code, done.stderr).toBe(0);
    const printed = JSON.parse(done.stdout.trim().split('\n').at(-1)!);
    expect(printed.value).toEqual({ answer: 42 });
    // The call itself takes its 0.3 s of work plus the recorder's stop, never an upload.
    expect(printed.call_s).toBeLessThan(2);
    // Exit is held at most 2 s by the pending upload (+1.5 s for interpreter teardown on a loaded machine).
    expect(done.exitedAt - printed.returned_at * 1000).toBeLessThan(3500);
    // Still claimed by the exited process's upload thread (`.sending-<pid>`): `upload --spool` releases it.
    const spooled = (await readdir(spool)).filter((f) => /\.prof(\.sending-\d+)?$/.test(f));
    expect(spooled).toHaveLength(1);

    const sent = await run(command, ['-m', 'prof_client', 'upload', '--spool', '--server', r.url], env(spool, r.url));
    expect(sent.code, sent.stderr).toBe(0);
    expect(sent.stdout).toMatch(/^sent http/m);
    const [row] = await listed(project, 1);
    expect(row.name).toBe('decorated_job');
    expect(row.tags.recorder).toBe(expectedRecorder);
    expect(await stackNames(row.id)).toContain('decorated_job');
    expect(await readdir(spool)).toEqual([]);
  });
});

it('with no server at all (connection refused) the call returns its value and the profile is spooled', async () => {
  const interpreter = found.at(0);
  expect(interpreter, 'no interpreter found').toBeDefined();
  const spool = join(dir, 'spool-refused');
  // A port that was just free: nothing listens there.
  const probe = createTcpServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const port = (probe.address() as { port: number }).port;
  await new Promise((resolve) => probe.close(resolve));
  const done = await run(
    interpreter!.command,
    [join(dir, 'workload.py'), 'py-refused', '0.2', 'only-decorated'],
    env(spool, `http://127.0.0.1:${port}`),
  );
  expect(done.code, done.stderr).toBe(0);
  expect(JSON.parse(done.stdout.trim().split('\n').at(-1)!).value).toEqual({ answer: 42 });
  expect(done.stderr).toContain('upload --spool');
  expect((await readdir(spool)).filter((f) => f.endsWith('.prof'))).toHaveLength(1);
});

it('the same workload profiled by prof-client and by the vmprof-viewer client shows the same functions', async () => {
  // The vmprof-viewer client's own capture (Python 2.7, vmprof 0.3.12) of memspikes.py, replayed byte for byte.
  const name = 'decorator-memspikes';
  const capture = JSON.parse(await readFile(join(fixtures, `vmprof-viewer-client/${name}.request.json`), 'utf8'));
  const body = await readFile(join(fixtures, `vmprof-viewer-client/${name}.request.bin`));
  const res = await rawRequest(r.url, capture.method, capture.path, capture.headers, body);
  expect(res.status).toBe(200);
  const viewerId = res.body.toString().split('/')[2];
  await waitForProfile(r.url, viewerId);
  const workload = ['run', 'load', 'parse_record', 'grow', 'checksum', 'build_tree', 'walk', 'spike', 'churn'];
  const functionsOf = async (id: string) => {
    const rows = await json(await fetch(`${r.url}/api/profiles/${id}/stacks?top=1000`));
    const names = new Set<string>(rows.top.flatMap((t: any) => t.stack.map((f: any) => f.name)));
    return workload.filter((fn) => names.has(fn));
  };
  const viewerFunctions = await functionsOf(viewerId);
  expect(viewerFunctions.length).toBeGreaterThanOrEqual(6);

  // The same workload, ported to Python 3 with prof_client's decorator, under the newest CPython found and pypy3.
  const picks = [found.filter((i) => i.label.startsWith('cpython')).at(-1), found.find((i) => i.label === 'pypy3')];
  for (const interpreter of picks) {
    expect(interpreter, 'interpreter missing').toBeDefined();
    const project = `memspikes-${interpreter!.label}`;
    const done = await run(
      interpreter!.command,
      [join(fixtures, 'python-client', 'memspikes3.py'), '4', project],
      env(join(dir, `spool-memspikes-${interpreter!.label}`), r.url, { PROF_EXIT_WAIT: '60' }),
    );
    expect(done.code, done.stderr).toBe(0);
    expect(done.stdout.trim()).toBe('done');
    const [row] = await listed(project, 1);
    expect(row.name).toBe('Pipeline.run');
    expect(await functionsOf(row.id), interpreter!.label).toEqual(expect.arrayContaining(viewerFunctions));
  }
});

it('pip installs clients/python into a fresh venv, and the README example runs as written', async () => {
  const newest = found.filter((i) => i.label.startsWith('cpython')).at(-1);
  expect(newest, 'no CPython found').toBeDefined();
  const venv = join(dir, 'venv');
  const made = await run(newest!.command, ['-m', 'venv', venv], {});
  expect(made.code, made.stderr).toBe(0);
  const pip = await run(
    join(venv, 'bin', 'pip'),
    ['install', '--disable-pip-version-check', join(repoRoot, 'clients', 'python')],
    {},
    300_000,
  );
  expect(pip.code, pip.stderr + pip.stdout).toBe(0);
  const readme = await readFile(join(repoRoot, 'clients', 'python', 'README.md'), 'utf8');
  const example = /```python\n([\s\S]*?)```/.exec(readme)![1];
  await writeFile(join(dir, 'readme_example.py'), example);
  const done = await run(join(venv, 'bin', 'python'), [join(dir, 'readme_example.py')], {
    PROF_SERVER: r.url,
    PROF_SPOOL: join(dir, 'spool-readme'),
    PROF_EXIT_WAIT: '60',
  });
  expect(done.code, done.stderr).toBe(0);
  expect(done.stdout.trim()).toMatch(/^\d+$/);
  const rows = await listed('etl', 1);
  expect(rows.map((x: any) => x.name)).toContain('crunch');
  expect(rows.find((x: any) => x.name === 'crunch').tags.env).toBe('dev');
  const typed = await run(
    join(venv, 'bin', 'python'),
    [
      '-c',
      'import prof_client, os; print(os.path.exists(os.path.join(os.path.dirname(prof_client.__file__), "py.typed")))',
    ],
    {},
  );
  expect(typed.stdout.trim()).toBe('True');
});

it('upload() and `python -m prof_client upload FILE` send an existing vmprof file with its project and name', async () => {
  const newest = found.filter((i) => i.label.startsWith('cpython')).at(-1);
  expect(newest, 'no CPython found').toBeDefined();
  const prof = join(fixtures, 'vmprof-fresh', 'cpu_basic.prof');
  const cli = await run(
    newest!.command,
    ['-m', 'prof_client', 'upload', '--project', 'uploaded', '--name', 'from-cli', '--tag', 'via=cli', prof],
    env(join(dir, 'spool-upload'), r.url),
  );
  expect(cli.code, cli.stderr).toBe(0);
  expect(cli.stdout).toMatch(/^sent http:\/\/127\.0\.0\.1:\d+\/profiles\/[a-z2-7]{24}$/m);
  const api = await run(
    newest!.command,
    ['-c', `import prof_client, sys; print(prof_client.upload(sys.argv[1], project="uploaded")["id"])`, prof],
    env(join(dir, 'spool-upload'), r.url),
  );
  expect(api.code, api.stderr).toBe(0);
  const rows = await listed('uploaded', 2);
  const byName = new Map(rows.map((row: any) => [row.name, row]));
  expect(byName.get('from-cli')?.tags.via).toBe('cli');
  // Without a name the server names a `python -m vmprof` run after its script.
  expect(byName.get('cpu_basic.py')?.id).toBe(api.stdout.trim());
  expect(byName.get('cpu_basic.py')?.sampleCount).toBe(1508);
  // A server that refuses the file: a clear error, exit status 1.
  const bad = join(dir, 'not-a-profile.prof');
  await writeFile(bad, 'hello, not a profile');
  const refused = await run(
    newest!.command,
    ['-m', 'prof_client', 'upload', bad],
    env(join(dir, 'spool-upload'), r.url),
  );
  expect(refused.code).toBe(1);
  expect(refused.stderr).toContain('unknown-format');
});
