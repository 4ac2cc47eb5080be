// The Python client (clients/python) against a real server: every required interpreter is present,
// and the tests that need one interpreter (refused connection, the vmprof-viewer comparison, pip,
// upload). The per-interpreter tests are in python-client-*.test.ts, run side by side.
import { expect, it } from 'vitest';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { createServer as createTcpServer } from 'node:net';
import { join } from 'node:path';
import { fixtures, json, repoRoot, waitForProfile } from './helpers';
import { rawRequest } from './raw-http';
import {
  env,
  found,
  INTERPRETER_GROUPS,
  listed,
  missing,
  pythonClientContext,
  REQUIRED_LABELS,
} from './python-client-harness';
import { run } from './pythons';

const py = pythonClientContext();

it('finds every required interpreter', () => {
  console.log(`Python client tested under: ${found.map((i) => i.label).join(', ')}`);
  expect(missing, `missing interpreters: ${missing.join(', ')}`).toEqual([]);
  // Each required interpreter is tested by one of the python-client-*.test.ts files.
  expect(Object.values(INTERPRETER_GROUPS).flat().sort()).toEqual([...REQUIRED_LABELS].sort());
});

it('with no server at all (connection refused) the call returns its value and the profile is spooled', async () => {
  const interpreter = found.at(0);
  expect(interpreter, 'no interpreter found').toBeDefined();
  const spool = join(py.dir, 'spool-refused');
  // A port that was just free: nothing listens there.
  const probe = createTcpServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const port = (probe.address() as { port: number }).port;
  await new Promise((resolve) => probe.close(resolve));
  const done = await run(
    interpreter!.command,
    [join(py.dir, 'workload.py'), 'py-refused', '0.2', 'only-decorated'],
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
  const res = await rawRequest(py.r.url, capture.method, capture.path, capture.headers, body);
  expect(res.status).toBe(200);
  const viewerId = res.body.toString().split('/')[2];
  await waitForProfile(py.r.url, viewerId);
  const workload = ['run', 'load', 'parse_record', 'grow', 'checksum', 'build_tree', 'walk', 'spike', 'churn'];
  const functionsOf = async (id: string) => {
    const rows = await json(await fetch(`${py.r.url}/api/profiles/${id}/stacks?top=1000`));
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
      env(join(py.dir, `spool-memspikes-${interpreter!.label}`), py.r.url, { PROF_EXIT_WAIT: '60' }),
    );
    expect(done.code, done.stderr).toBe(0);
    expect(done.stdout.trim()).toBe('done');
    const [row] = await listed(py, project, 1);
    expect(row.name).toBe('Pipeline.run');
    expect(await functionsOf(row.id), interpreter!.label).toEqual(expect.arrayContaining(viewerFunctions));
  }
});

it('pip installs clients/python into a fresh venv, and the README example runs as written', async () => {
  const newest = found.filter((i) => i.label.startsWith('cpython')).at(-1);
  expect(newest, 'no CPython found').toBeDefined();
  const venv = join(py.dir, 'venv');
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
  await writeFile(join(py.dir, 'readme_example.py'), example);
  const done = await run(join(venv, 'bin', 'python'), [join(py.dir, 'readme_example.py')], {
    PROF_SERVER: py.r.url,
    PROF_SPOOL: join(py.dir, 'spool-readme'),
    PROF_EXIT_WAIT: '60',
  });
  expect(done.code, done.stderr).toBe(0);
  expect(done.stdout.trim()).toMatch(/^\d+$/);
  const rows = await listed(py, 'etl', 1);
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
    env(join(py.dir, 'spool-upload'), py.r.url),
  );
  expect(cli.code, cli.stderr).toBe(0);
  expect(cli.stdout).toMatch(/^sent http:\/\/127\.0\.0\.1:\d+\/profiles\/[a-z2-7]{24}$/m);
  const api = await run(
    newest!.command,
    ['-c', `import prof_client, sys; print(prof_client.upload(sys.argv[1], project="uploaded")["id"])`, prof],
    env(join(py.dir, 'spool-upload'), py.r.url),
  );
  expect(api.code, api.stderr).toBe(0);
  const rows = await listed(py, 'uploaded', 2);
  const byName = new Map(rows.map((row: any) => [row.name, row]));
  expect(byName.get('from-cli')?.tags.via).toBe('cli');
  // Without a name the server names a `python -m vmprof` run after its script.
  expect(byName.get('cpu_basic.py')?.id).toBe(api.stdout.trim());
  expect(byName.get('cpu_basic.py')?.sampleCount).toBe(1508);
  // A server that refuses the file: a clear error, exit status 1.
  const bad = join(py.dir, 'not-a-profile.prof');
  await writeFile(bad, 'hello, not a profile');
  const refused = await run(
    newest!.command,
    ['-m', 'prof_client', 'upload', bad],
    env(join(py.dir, 'spool-upload'), py.r.url),
  );
  expect(refused.code).toBe(1);
  expect(refused.stderr).toContain('unknown-format');
});
