import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fixtures, json, startServer, storedIds, waitForProfile, type Running } from './helpers';

const cli = fileURLToPath(new URL('../dist/cli.js', import.meta.url));

/** Sends headers and `sent` bytes of a body that claims `total`, then waits (the caller aborts). */
function partialUpload(url: string, path: string, total: number, sent: Buffer): Promise<ReturnType<typeof connect>> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(u.port), u.hostname, () => {
      socket.write(`POST ${path} HTTP/1.1\r\nHost: ${u.host}\r\nContent-Length: ${total}\r\n\r\n`);
      socket.write(sent, () => resolve(socket));
    });
    socket.on('error', reject);
  });
}

async function until(check: () => Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/**
 * Bodies being spooled in `incoming/`. Not the temp file a job is written through (renamed a moment later): counted,
 * it let "both uploads spooling" pass with one body and the other's job, and the crash then left one temp file.
 */
const incomingTemps = async (dataDir: string) =>
  (await readdir(join(dataDir, 'incoming')).catch(() => [] as string[])).filter(
    (n) => n.startsWith('.tmp-') && !n.includes('.job.json-'),
  );

describe('faults in one process', () => {
  let r: Running;
  beforeAll(async () => {
    r = await startServer();
  });
  afterAll(async () => {
    await r?.stop();
  });

  it('a client disconnecting mid-upload leaves no file and no row, on every upload route', async () => {
    const prof = await readFile(join(fixtures, 'vmprof-fresh/memory_spiky.prof'));
    const rid = (
      await json(
        await fetch(`${r.url}/api/runtime/new`, {
          method: 'POST',
          body: '{}',
          headers: { 'content-type': 'application/json' },
        }),
      )
    ).runtime_id;
    const dataDir = join(r.dir, 'data');
    // 40 MB claimed: /api/profiles spools it to disk; 2 MB claimed: it reads it into memory
    for (const [path, claimed] of [
      ['/api/profiles', 40],
      ['/api/profiles', 2],
      [`/api/runtime/upload/cpu/${rid}/add`, 40],
      ['/submit/', 40],
    ] as const) {
      const socket = await partialUpload(r.url, path, claimed * 1024 * 1024, prof.subarray(0, 1024 * 1024));
      if (path !== '/api/profiles')
        await until(async () => (await incomingTemps(dataDir)).length > 0, 'the upload to start spooling');
      socket.destroy();
      // The temp file goes first and the job file after it: wait for both, not for the first sign.
      await until(
        async () => (await readdir(join(dataDir, 'incoming')).catch(() => [])).length === 0,
        `every file of the ${path} upload to go`,
      );
    }
    await r.server.uploads.idle();
    expect(await readdir(join(dataDir, 'incoming'))).toEqual([]);
    expect(await storedIds(r)).toEqual([]);
    expect((await json(await fetch(`${r.url}/api/profiles`))).total).toBe(0);
    expect((await fetch(`${r.url}/api/profiles/${rid}`)).status).toBe(404);
  });

  it('concurrent uploads all land, each with its own bytes, and the index matches the files', async () => {
    const prof = await readFile(join(fixtures, 'vmprof-fresh/cpu_basic.prof'));
    const results = await Promise.all(
      Array.from({ length: 24 }, (_, i) =>
        fetch(`${r.url}/api/profiles?project=p${i % 4}&name=f${i}`, { method: 'POST', body: prof }).then(json),
      ),
    );
    const ids = new Set(results.map((x) => x.id));
    expect(ids.size).toBe(24);
    const list = await json(await fetch(`${r.url}/api/profiles?limit=100`));
    expect(list.total).toBe(24);
    const files = await storedIds(r);
    expect(files).toEqual([...ids].sort());
    const projects = await json(await fetch(`${r.url}/api/projects`));
    expect(projects.projects.map((p: any) => p.count)).toEqual([6, 6, 6, 6]);
  });
});

describe('SIGKILL during an upload, then restart', () => {
  let dir: string;
  let child: ChildProcess | null = null;

  afterEach(async () => {
    child?.kill('SIGKILL');
    child = null;
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** Output of the server processes this test started, in the failure message of any request that fails. */
  let serverOutput = '';

  function startCli(dataDir: string): Promise<{ url: string; proc: ChildProcess }> {
    if (!existsSync(cli))
      throw new Error(`${cli} is missing: build @prof/server first (node scripts/pnpm.mjs -r run build)`);
    const proc = spawn(process.execPath, [cli, '--port', '0', '--data', dataDir, '--no-demos'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = proc;
    return new Promise((resolve, reject) => {
      let out = '';
      const collect = (d: Buffer) => {
        out += d;
        serverOutput += d;
        // the whole line: a chunk cut inside the port number would name another port
        const m = /Prof server listening on (http:\/\/\S+)\n/.exec(out);
        if (m) resolve({ url: m[1], proc });
      };
      proc.stdout!.on('data', collect);
      proc.stderr!.on('data', collect); // drained too: a full stderr pipe would block the server
      proc.on('exit', (code, signal) => {
        serverOutput += `\n[server exited: ${code ?? signal}]\n`;
        reject(new Error(`server exited ${code ?? signal}: ${out}`));
      });
    });
  }

  /** fetch, failing with what the server printed (a crash, a log line) rather than a bare socket error. */
  async function request(url: string, init?: RequestInit): Promise<Response> {
    try {
      return await fetch(url, init);
    } catch (error) {
      const cause = (error as Error & { cause?: Error }).cause?.message ?? '';
      throw new Error(
        `${init?.method ?? 'GET'} ${url}: ${(error as Error).message} ${cause}\nserver output:\n${serverOutput}`,
      );
    }
  }

  it('leaves the store intact with no trace of the killed uploads', async () => {
    serverOutput = '';
    dir = await mkdtemp(join(tmpdir(), 'prof-sigkill-'));
    const dataDir = join(dir, 'data');
    const first = await startCli(dataDir);
    const prof = await readFile(join(fixtures, 'vmprof-fresh/memory_spiky.prof'));
    const kept = await json(await request(`${first.url}/api/profiles?project=kept`, { method: 'POST', body: prof }));
    const keptBytes = await readFile(join(dataDir, 'profiles', `${kept.id}.msgpack.gz`));
    const rid = (await json(await request(`${first.url}/api/runtime/new`, { method: 'POST', body: '{}' }))).runtime_id;

    // two uploads in flight, both spooling to disk, when the process dies
    const a = await partialUpload(first.url, '/api/profiles', 60 * 1024 * 1024, prof);
    const b = await partialUpload(first.url, `/api/runtime/upload/cpu/${rid}/add`, prof.length * 2, prof);
    await until(async () => (await incomingTemps(dataDir)).length === 2, 'both uploads to be spooling');
    first.proc.kill('SIGKILL');
    await new Promise((resolve) => first.proc.once('exit', resolve));
    a.destroy();
    b.destroy();
    expect((await incomingTemps(dataDir)).length).toBe(2); // what the crash left

    const second = await startCli(dataDir);
    expect(await readdir(join(dataDir, 'incoming'))).toEqual([]);
    expect(await readdir(join(dataDir, 'profiles'))).toEqual([`${kept.id}.msgpack.gz`]);
    const list = await json(await request(`${second.url}/api/profiles`));
    expect(list.items.map((x: any) => x.id)).toEqual([kept.id]);
    expect(Buffer.compare(await readFile(join(dataDir, 'profiles', `${kept.id}.msgpack.gz`)), keptBytes)).toBe(0);
    expect((await request(`${second.url}/api/profiles/${rid}`)).status).toBe(404);
    const row = await waitForProfile(second.url, kept.id);
    expect(row.project).toBe('kept');
    // and it still takes uploads
    const again = await request(`${second.url}/api/profiles`, { method: 'POST', body: prof });
    expect(again.status).toBe(201);
  });
});
