// Issue 11 §6: a full disk answers 507 storage-full (not 500 internal), /health says degraded, and
// DELETE still works so space can be freed through the API. The built server runs in its own user
// and mount namespace (`unshare -rm`) over a 16 MiB tmpfs: a real disk that really fills up. Where user
// namespaces are off the test fails (it does not skip).
// The embedded store whatever PROF_TEST_STORE says: what fills up is the data directory's own disk.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipDocument, readProfileFile, type ProfileDocument } from '@prof/format/node';
import { fixtures, json } from './helpers';

const cli = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
const probe = spawnSync('unshare', ['-rm', 'sh', '-c', 'mount -t tmpfs -o size=1m tmpfs /mnt && echo mounted'], {
  encoding: 'utf8',
});
const canMount = probe.stdout?.includes('mounted') ?? false;

let dir: string;
let proc: ChildProcess;
let url: string;
let base: ProfileDocument;

beforeAll(async () => {
  // Fails, never skips: a promise with no test running is no promise (docs/reliability.md).
  if (!canMount)
    throw new Error(
      `unshare -rm cannot mount a tmpfs here (${probe.stderr || probe.error}): the full-disk test needs unprivileged user namespaces (sysctl kernel.unprivileged_userns_clone=1, util-linux unshare)`,
    );
  if (!existsSync(cli)) throw new Error(`${cli} is missing: build @prof/server first`);
  base = await readProfileFile(join(fixtures, 'vmprof-fresh/cpu_basic.prof'));
  dir = await mkdtemp(join(tmpdir(), 'prof-disk-full-'));
  const script = 'mount -t tmpfs -o size=16m tmpfs "$1" && exec "$2" "$3" --port 0 --no-demos --data "$1/data"';
  proc = spawn('unshare', ['-rm', 'sh', '-c', script, 'sh', dir, process.execPath, cli], {
    env: { ...process.env, PROF_TOKEN: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  url = await new Promise<string>((resolve, reject) => {
    let out = '';
    const onData = (d: Buffer) => {
      out += d;
      const m = /Prof server listening on (http:\/\/\S+)\n/.exec(out);
      if (m) resolve(m[1]);
    };
    proc.stdout!.on('data', onData);
    proc.stderr!.on('data', onData);
    proc.on('exit', (code) => reject(new Error(`prof-server exited with ${code}: ${out}`)));
  });
});

afterAll(async () => {
  proc?.kill('SIGKILL');
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** A real profile made incompressible by random tags (~75 KB gzipped). */
async function bulky() {
  const doc = structuredClone(base);
  doc.meta.tags = Object.fromEntries(
    Array.from({ length: 100 }, (_, i) => [`t${i}`, randomBytes(750).toString('base64').slice(0, 1000)]),
  );
  return new Uint8Array(await gzipDocument(doc));
}

describe('a full disk', () => {
  it('answers 507 storage-full, /health degraded; DELETE frees space and uploads work again', async () => {
    const stored: string[] = [];
    let full: Response | null = null;
    for (let i = 0; i < 300 && !full; i++) {
      const res = await fetch(`${url}/api/profiles`, { method: 'POST', body: await bulky() });
      if (res.status === 201) stored.push((await json(res)).id);
      else full = res;
    }
    expect(full, 'the 16 MiB disk never filled').not.toBeNull();
    const answer = await json(full!);
    expect(full!.status, JSON.stringify(answer)).toBe(507);
    expect(answer.error.code).toBe('storage-full');
    expect(answer.error.message).toMatch(/disk is full.*DELETE/);
    expect(stored.length).toBeGreaterThan(5);

    const health = await json(await fetch(`${url}/health`));
    expect(health.status).toBe('degraded');
    expect(health.freeBytes).toBeLessThan(200 * 1024);
    expect((await fetch(`${url}/api/profiles/${stored[0]}/document`)).status).toBe(200);

    for (const id of stored.slice(0, 5)) {
      const res = await fetch(`${url}/api/profiles/${id}`, { method: 'DELETE' });
      expect(res.status, JSON.stringify(await res.clone().json())).toBe(200);
      expect((await fetch(`${url}/api/profiles/${id}`)).status).toBe(404);
    }
    const again = await fetch(`${url}/api/profiles`, { method: 'POST', body: await bulky() });
    expect(again.status).toBe(201);
    expect((await json(await fetch(`${url}/api/profiles?limit=0`))).total).toBe(stored.length - 5 + 1);
  });
});
