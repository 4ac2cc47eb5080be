// The Python client (clients/python) under every interpreter of the machine, against a real server:
// what each test file of the suite shares. The interpreters are split over several files
// (python-client*.test.ts) so that vitest runs them side by side: each waits on Python processes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { createServer as createTcpServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeDocument } from '@prof/format';
import { json, repoRoot, startServer, type Running } from './helpers';
import { findInterpreters, REQUIRED_CPYTHONS, run } from './pythons';

const CLIENT_SRC = join(repoRoot, 'clients', 'python', 'src');
/** The Python client's HTTP timeout (HTTP_TIMEOUT_S in clients/python/src/prof_client/_upload.py). */
const HTTP_TIMEOUT_S = 30;

export const WORKLOAD = `
import asyncio, atexit, json, sys, time

returned = {}

def exit_waited():
    # Registered before prof_client's exit handler, so it runs after it (atexit runs last-in first-out):
    # how long that handler held the exit, measured here and not by the test's clock (no teardown in it).
    if "at" in returned:
        print("prof-test: exit waited %.3f s" % (time.monotonic() - returned["at"]), file=sys.stderr, flush=True)

atexit.register(exit_waited)
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
returned["at"] = time.monotonic()
`;

// Each thread works for 0.5 s of its own CPU time, not of the clock: beside two busy loops and a test
// run (load 9 on 2 cores), half a second of the clock once gave the sampler no sample at all.
export const RUNNER_SCRIPT = `
import sys, threading, time
def runner_work():
    end = time.thread_time() + 0.5
    total = 0
    while time.thread_time() < end:
        total += sum(i * i for i in range(2000))
    return total
print("argv", sys.argv[1:], flush=True)
helper = threading.Thread(target=runner_work, name="helper-thread")
helper.start()
runner_work()
helper.join()
sys.exit(3)
`;

export const { found, missing } = findInterpreters();

/** Which file tests which interpreters: python-client.test.ts checks every required one is in a group. */
export const INTERPRETER_GROUPS = {
  'python-client-cpython-3.8-3.10.test.ts': ['cpython-3.8', 'cpython-3.9', 'cpython-3.10'],
  'python-client-cpython-3.11-3.13.test.ts': ['cpython-3.11', 'cpython-3.12', 'cpython-3.13'],
  'python-client-pypy3.test.ts': ['pypy3'],
};

/** What the tests of one file share: a real server, a folder with the scripts, a server that never answers. */
export interface PythonClientContext {
  r: Running;
  dir: string;
  hangingUrl: string;
}

/** Starts the file's server, scripts folder and hanging server before its tests, and stops them after. */
export function pythonClientContext(): PythonClientContext {
  const py = {} as PythonClientContext;
  let hanging: Server | undefined;
  const sockets: Socket[] = [];
  beforeAll(async () => {
    py.r = await startServer();
    py.dir = await mkdtemp(join(tmpdir(), 'prof-pyclient-'));
    await writeFile(join(py.dir, 'workload.py'), WORKLOAD);
    await writeFile(join(py.dir, 'runner_script.py'), RUNNER_SCRIPT);
    // A server that accepts connections and never answers: the client must not wait for it.
    const server = createTcpServer((socket) => sockets.push(socket));
    hanging = server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    py.hangingUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  });
  afterAll(async () => {
    for (const s of sockets) s.destroy();
    await new Promise((resolve) => (hanging ? hanging.close(resolve) : resolve(undefined)));
    await py.r?.stop();
    if (py.dir) await rm(py.dir, { recursive: true, force: true });
  });
  return py;
}

/** The profiles of a project once `count` are listed (conversion runs after the answer), or after 60 s. */
export async function listed(py: PythonClientContext, project: string, count: number): Promise<any[]> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const page = await json(await fetch(`${py.r.url}/api/profiles?project=${encodeURIComponent(project)}&limit=100`));
    if (page.items.length >= count || Date.now() > deadline) return page.items;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export async function stackNames(py: PythonClientContext, id: string): Promise<string[]> {
  const stacks = await json(await fetch(`${py.r.url}/api/profiles/${id}/stacks?top=50`));
  return stacks.top.flatMap((t: any) => t.stack.map((f: any) => f.name));
}

/** Every interpreter label the client must run under (see pythons.ts). */
export const REQUIRED_LABELS = [...REQUIRED_CPYTHONS.map((v) => `cpython-${v}`), 'pypy3'];

export const env = (spool: string, server: string, extra: Record<string, string> = {}) => ({
  PYTHONPATH: CLIENT_SRC,
  PROF_SPOOL: spool,
  PROF_SERVER: server,
  ...extra,
});

/**
 * The client's tests under each named interpreter (labels of findInterpreters: `cpython-3.12`,
 * `pypy3`). A missing interpreter fails its tests; python-client.test.ts also names every one missing.
 */
export function interpreterTests(file: keyof typeof INTERPRETER_GROUPS): void {
  const labels = INTERPRETER_GROUPS[file];
  const py = pythonClientContext();
  for (const label of labels) {
    const interpreter = found.find((i) => i.label === label);
    if (!interpreter) {
      it(`prof_client under ${label}`, () => {
        expect.fail(`missing interpreter: ${missing.find((m) => m.startsWith(label)) ?? label}`);
      });
      continue;
    }
    const { command } = interpreter;
    describe(`prof_client under ${label}`, () => {
      const expectedRecorder = label === 'pypy3' ? '_vmprof' : 'sampler';

      it('decorator, async method and with-block profiles are listed with their project, name, stacks and memory', async () => {
        const project = `py-${label}`;
        const spool = join(py.dir, `spool-live-${label}`);
        const done = await run(
          command,
          [join(py.dir, 'workload.py'), project, '0.6'],
          env(spool, py.r.url, { PROF_EXIT_WAIT: '60' }),
        );
        expect(done.code, done.stderr).toBe(0);
        const printed = JSON.parse(done.stdout.trim().split('\n').at(-1)!);
        expect(printed.value).toEqual({ answer: 42 });
        expect(printed.async).toBe('async-ok');

        const rows = await listed(py, project, 3);
        const byName = new Map(rows.map((row: any) => [row.name, row]));
        expect([...byName.keys()].sort()).toEqual(['Service.async_method', 'block_job', 'decorated_job']);
        for (const row of rows) {
          expect(row.project).toBe(project);
          expect(row.tags.recorder).toBe(expectedRecorder);
        }
        const decorated = byName.get('decorated_job');
        expect(decorated.tags.case).toBe('decorator');
        expect(decorated.hasMemory).toBe(true);
        expect(await stackNames(py, decorated.id)).toEqual(expect.arrayContaining(['decorated_job', 'square_sum']));
        expect(await stackNames(py, byName.get('Service.async_method').id)).toEqual(
          expect.arrayContaining(['async_method', 'square_sum']),
        );
        expect(await stackNames(py, byName.get('block_job').id)).toEqual(
          expect.arrayContaining(['block_owner', 'square_sum']),
        );

        // 80 MiB are kept, one at a time, while the decorated call runs: its memory series climbs.
        const mem = await json(await fetch(`${py.r.url}/api/profiles/${decorated.id}/memory?bins=10`));
        const filled = mem.bins.filter((b: any) => b.count > 0);
        expect(filled.length).toBeGreaterThan(3);
        expect(filled.at(-1).max - filled[0].min).toBeGreaterThan(30 * 1024 * 1024);
        if (expectedRecorder === 'sampler') expect(mem.timeEstimated).toBe(false);
      });

      it('python -m prof_client runs a script with its arguments, keeps its exit code, names the profile after it', async () => {
        const project = `py-run-${label}`;
        const spool = join(py.dir, `spool-run-${label}`);
        const done = await run(
          command,
          [
            '-m',
            'prof_client',
            '--project',
            project,
            '--tag',
            'job=nightly',
            join(py.dir, 'runner_script.py'),
            'a1',
            '--x',
          ],
          env(spool, py.r.url, { PROF_EXIT_WAIT: '60' }),
        );
        expect(done.code, done.stderr).toBe(3);
        expect(done.stdout).toContain("argv ['a1', '--x']");
        const [row] = await listed(py, project, 1);
        expect(row.name).toBe('runner_script.py');
        expect(row.tags.job).toBe('nightly');
        const names = await stackNames(py, row.id);
        expect(names).toEqual(expect.arrayContaining(['<module>', 'runner_work']));
        if (expectedRecorder === 'sampler') expect(names).not.toContain('_exec_script');
        // Thread names: recorded by the sampler (meta thread:<id>); PyPy's _vmprof writes thread id 0 for all.
        const response = await fetch(`${py.r.url}/api/profiles/${row.id}/document`);
        const doc = decodeDocument(new Uint8Array(await response.arrayBuffer()));
        if (expectedRecorder === 'sampler')
          expect([...doc.threads.name].sort()).toEqual(['MainThread', 'helper-thread']);
        else expect(doc.threads.name.every((n) => n !== null)).toBe(true);
      });

      it('with a server that never answers, the call returns its value, exit waits at most 2 s, the profile is spooled and sent later', async () => {
        const project = `py-dead-${label}`;
        const spool = join(py.dir, `spool-dead-${label}`);
        const done = await run(
          command,
          [join(py.dir, 'workload.py'), project, '0.3', 'only-decorated'],
          env(spool, py.hangingUrl),
        );
        expect(done.code, done.stderr).toBe(0);
        const printed = JSON.parse(done.stdout.trim().split('\n').at(-1)!);
        expect(printed.value).toEqual({ answer: 42 });
        // The call itself takes its 0.3 s of work plus the recorder's stop, never an upload: one to this
        // server would last the client's 30 s HTTP timeout. (A loaded machine stretches the stop past 2 s.)
        expect(printed.call_s).toBeLessThan(HTTP_TIMEOUT_S / 2);
        // Exit is held at most 2 s by the pending upload, as the program measured it after the client's
        // exit handler (+1.5 s for a loaded machine's late wake-up); the whole exit, interpreter teardown
        // included, is far from the upload's timeout.
        const exitWait = /prof-test: exit waited ([\d.]+) s/.exec(done.stderr);
        expect(exitWait, done.stderr).not.toBeNull();
        expect(Number(exitWait![1])).toBeLessThan(3.5);
        expect(done.exitedAt - printed.returned_at * 1000).toBeLessThan((HTTP_TIMEOUT_S / 2) * 1000);
        // Still claimed by the exited process's upload thread (`.sending-<pid>`): `upload --spool` releases it.
        const spooled = (await readdir(spool)).filter((f) => /\.prof(\.sending-\d+)?$/.test(f));
        expect(spooled).toHaveLength(1);

        const sent = await run(
          command,
          ['-m', 'prof_client', 'upload', '--spool', '--server', py.r.url],
          env(spool, py.r.url),
        );
        expect(sent.code, sent.stderr).toBe(0);
        expect(sent.stdout).toMatch(/^sent http/m);
        const [row] = await listed(py, project, 1);
        expect(row.name).toBe('decorated_job');
        expect(row.tags.recorder).toBe(expectedRecorder);
        expect(await stackNames(py, row.id)).toContain('decorated_job');
        expect(await readdir(spool)).toEqual([]);
      });
    });
  }
}
