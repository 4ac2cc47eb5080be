// `prof-server` as users start it: the built bin, its flags and environment variables.
import { afterEach, describe, expect, it } from 'vitest';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fixtures, json } from './helpers';
import { DEFAULT_DEMO_DIR } from '../src/index';

const cli = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
const running: ChildProcess[] = [];
const dirs: string[] = [];

afterEach(async () => {
  for (const proc of running.splice(0)) proc.kill('SIGKILL');
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'prof-cli-'));
  dirs.push(dir);
  return dir;
}

/** Starts the bin; resolves with the URL it prints. */
function start(
  args: string[],
  options: { cwd: string; env?: Record<string, string> },
): Promise<{ url: string; proc: ChildProcess; out: () => string }> {
  if (!existsSync(cli)) throw new Error(`${cli} is missing: build @prof/server first`);
  const env = {
    ...process.env,
    PORT: '',
    PROF_DATA: '',
    PROF_TOKEN: '',
    PROF_MAX_AGE: '',
    PROF_MAX_SIZE: '',
    PROF_DEFAULT_PROJECT: '',
    ...options.env,
  };
  const proc = spawn(process.execPath, [cli, ...args], { cwd: options.cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  running.push(proc);
  let out = '';
  return new Promise((resolve, reject) => {
    const onData = (d: Buffer) => {
      out += d;
      const m = /Prof server listening on (http:\/\/\S+)\n/.exec(out);
      if (m) resolve({ url: m[1], proc, out: () => out });
    };
    proc.stdout!.on('data', onData);
    proc.stderr!.on('data', onData);
    proc.on('exit', (code) => reject(new Error(`prof-server exited with ${code}: ${out}`)));
  });
}

async function stop(proc: ChildProcess): Promise<number | null> {
  const exited = new Promise<number | null>((resolve) => proc.once('exit', resolve));
  proc.kill('SIGTERM');
  return exited;
}

describe('prof-server', () => {
  it('takes PORT, PROF_DATA and PROF_TOKEN from the environment and prints its URL', async () => {
    const dir = await tempDir();
    const { url, proc } = await start(['--no-demos'], {
      cwd: dir,
      env: { PORT: '0', PROF_DATA: join(dir, 'env-data'), PROF_TOKEN: 'from-env' },
    });
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const body = await readFile(join(fixtures, 'vmprof-fresh/cpu_basic.prof'));
    expect((await fetch(`${url}/api/profiles`, { method: 'POST', body })).status).toBe(401);
    const ok = await fetch(`${url}/api/profiles?project=env`, {
      method: 'POST',
      body,
      headers: { authorization: 'Bearer from-env' },
    });
    expect(ok.status).toBe(201);
    const { id } = await json(ok);
    // (its summary may be there too, or still being built)
    const stored = (await readdir(join(dir, 'env-data', 'profiles'))).filter((name) => name.endsWith('.msgpack.gz'));
    expect(stored).toEqual([`${id}.msgpack.gz`]);
    expect(await json(await fetch(`${url}/health`))).toMatchObject({ status: 'ok', profiles: 1 });
    expect(await stop(proc)).toBe(0); // SIGTERM closes cleanly
  });

  it('--default-project files uploads that name no project; a vmprof run is named after its script', async () => {
    const dir = await tempDir();
    const { url } = await start(
      ['--port', '0', '--no-demos', '--data', join(dir, 'data'), '--default-project', 'nightly'],
      {
        cwd: dir,
      },
    );
    const body = await readFile(join(fixtures, 'vmprof-fresh/cpu_basic.prof'));
    const { id } = await json(await fetch(`${url}/api/profiles`, { method: 'POST', body }));
    expect(await json(await fetch(`${url}/api/profiles/${id}`))).toMatchObject({
      project: 'nightly',
      name: 'cpu_basic.py',
    });
  });

  it('flags win over the environment; the default data directory is ./prof-data, with the demos', async () => {
    const dir = await tempDir();
    const { url } = await start(['--port', '0', '--host', '127.0.0.1', '--token', 'from-flag'], {
      cwd: dir,
      env: { PORT: '1', PROF_TOKEN: 'from-env' },
    });
    const list = await json(await fetch(`${url}/api/profiles`));
    // First start of an empty store: every demo profile listed in demo/demos.json.
    const demos = JSON.parse(await readFile(join(DEFAULT_DEMO_DIR, 'demos.json'), 'utf8')) as unknown[];
    expect(list.total).toBe(demos.length);
    expect(existsSync(join(dir, 'prof-data', 'index.sqlite'))).toBe(true);
    const del = (token: string) =>
      fetch(`${url}/api/profiles/${list.items[0].id}`, {
        method: 'DELETE',
        headers: { authorization: `Bearer ${token}` },
      });
    expect((await del('from-env')).status).toBe(401);
    expect((await del('from-flag')).status).toBe(200);
  });

  it('prunes at start with --max-size / PROF_MAX_AGE, oldest first', async () => {
    const dir = await tempDir();
    const data = join(dir, 'data');
    const first = await start(['--port', '0', '--data', data, '--no-demos'], { cwd: dir });
    const body = await readFile(join(fixtures, 'vmprof-fresh/cpu_basic.prof'));
    const ids: string[] = [];
    for (let i = 0; i < 3; i++)
      ids.push((await json(await fetch(`${first.url}/api/profiles?name=n${i}`, { method: 'POST', body }))).id);
    const sizes = await Promise.all(
      ids.map(async (id) => (await json(await fetch(`${first.url}/api/profiles/${id}`))).sizeBytes as number),
    );
    await stop(first.proc);
    // room for the newest two only
    const second = await start(['--port', '0', '--data', data, '--no-demos', '--max-size', `${sizes[1] + sizes[2]}B`], {
      cwd: dir,
    });
    await expect
      .poll(async () => (await json(await fetch(`${second.url}/api/profiles`))).items.map((r: any) => r.id))
      .toEqual([ids[2], ids[1]]);
    await stop(second.proc);
    const third = await start(['--port', '0', '--data', data, '--no-demos'], { cwd: dir, env: { PROF_MAX_AGE: '0s' } });
    await expect.poll(async () => (await json(await fetch(`${third.url}/api/profiles`))).total).toBe(0);
    // The rows go first, then each document and its summary: the files are gone once the last unlink is done.
    await expect.poll(() => readdir(join(data, 'profiles'))).toEqual([]);
  });

  it('explains bad flags and exits 2; --help exits 0', () => {
    const run = (args: string[]) =>
      spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', env: { ...process.env, PORT: '' } });
    const help = run(['--help']);
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/prof-server \[--port P\] \[--host H\] \[--data DIR\] \[--token T\]/);
    for (const [args, message] of [
      [['--port', 'http'], /--port http is not a port number/],
      [['--port', '70000'], /--port 70000 is not a port number/],
      [['--max-age', 'soon'], /--max-age "soon"/],
      [['--max-size', '12 parsecs'], /--max-size "12 parsecs"/],
      [['--bogus'], /Unknown option '--bogus'/],
    ] as const) {
      const bad = run([...args]);
      expect(bad.status).toBe(2);
      expect(bad.stderr).toMatch(message);
      expect(bad.stderr).toContain('Usage: prof-server');
    }
  });
});
