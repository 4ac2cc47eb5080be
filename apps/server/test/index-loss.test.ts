// Issue 11 §1: the documents are the truth, the index a cache of them. An index deleted, emptied or
// damaged while the server is stopped loses nothing; `prof-server reindex` rebuilds it. Real server
// over HTTP, real files, the built bin for the command.
// The embedded store whatever PROF_TEST_STORE says: what is lost here is the SQLite file of the data
// directory (a shared store's index is PostgreSQL, its recovery is shared-store.test.ts's reindex).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, unlink, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipDocument, readProfileFile } from '@prof/format/node';
import { newProfileId } from '@prof/store';
import { createServer, type ProfServer } from '../src/index';
import { fixtures, json } from './helpers';

const cli = fileURLToPath(new URL('../dist/cli.js', import.meta.url));

let root: string;
let dataDir: string;
let server: ProfServer | null = null;
let url: string;
const ids: string[] = [];
let before: { profiles: unknown; projects: unknown; documents: Buffer[] };

async function start(): Promise<void> {
  server = await createServer({ dataDir, webRoot: null, demoDir: null });
  url = await server.listen();
}

async function stop(): Promise<void> {
  await server?.close();
  server = null;
}

async function snapshot() {
  const documents: Buffer[] = [];
  for (const id of ids) {
    const res = await fetch(`${url}/api/profiles/${id}/document`, { headers: { 'accept-encoding': 'identity' } });
    expect(res.status).toBe(200);
    documents.push(Buffer.from(await res.arrayBuffer()));
  }
  return {
    profiles: await json(await fetch(`${url}/api/profiles?limit=100`)),
    projects: await json(await fetch(`${url}/api/projects`)),
    documents,
  };
}

async function removeIndex(): Promise<void> {
  for (const name of await readdir(dataDir)) if (name.startsWith('index.sqlite')) await unlink(join(dataDir, name));
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'prof-index-loss-'));
  dataDir = join(root, 'data');
  await start();
  const post = async (body: Buffer, query: string) => {
    const res = await fetch(`${url}/api/profiles${query}`, { method: 'POST', body: new Uint8Array(body) });
    expect(res.status).toBe(201);
    return (await json(res)).id as string;
  };
  // converted by the server, with the uploader's project, name and tags
  ids.push(await post(await readFile(join(fixtures, 'vmprof-fresh/memory_spiky.prof')), '?project=etl&tag=env=prod'));
  // our own document, kept byte for byte
  const threads = await readProfileFile(join(fixtures, 'vmprof-fresh/threads.prof'));
  threads.meta.project = 'web';
  ids.push(await post(await gzipDocument(threads), '?project=web'));
  // our own document whose project, name and tags the uploader overrides: the override must survive
  const cpu = await readProfileFile(join(fixtures, 'vmprof-fresh/cpu_basic.prof'));
  cpu.meta.project = 'client-said';
  ids.push(await post(await gzipDocument(cpu), '?project=batch&name=nightly&tag=team=data'));
  before = await snapshot();
  expect(before.profiles).toMatchObject({ total: 3 });
});

afterAll(async () => {
  await stop();
  await rm(root, { recursive: true, force: true });
});

describe('index loss', () => {
  it('index deleted while stopped: every profile listed again, rows, projects and bytes equal', async () => {
    await stop();
    await removeIndex();
    await start();
    expect(await snapshot()).toEqual(before);
    const row = await json(await fetch(`${url}/api/profiles/${ids[2]}`));
    expect(row).toMatchObject({ project: 'batch', name: 'nightly', tags: { team: 'data' } });
  });

  it('a 0-byte index loses nothing', async () => {
    await stop();
    await removeIndex();
    await writeFile(join(dataDir, 'index.sqlite'), '');
    await start();
    expect(await snapshot()).toEqual(before);
  });

  it('a garbage document is quarantined and shown by /health; the others stay', async () => {
    await stop();
    const garbage = newProfileId();
    await writeFile(join(dataDir, 'profiles', `${garbage}.msgpack.gz`), randomBytes(4096));
    await start();
    expect(await snapshot()).toEqual(before);
    expect(await json(await fetch(`${url}/health`))).toMatchObject({ status: 'ok', profiles: 3, quarantined: 1 });
    expect((await readdir(join(dataDir, 'quarantine'))).sort()).toEqual(
      [`${garbage}.msgpack.gz`, `${garbage}.reason.txt`].sort(),
    );
    expect((await fetch(`${url}/api/profiles/${garbage}`)).status).toBe(404);
  });

  it('prof-server reindex rebuilds the whole index from the documents', async () => {
    if (!existsSync(cli)) throw new Error(`${cli} is missing: build @prof/server first`);
    // the server of the previous test still runs on this directory: the index must not be swapped under it
    const refused = spawnSync(process.execPath, [cli, 'reindex', '--data', dataDir], { encoding: 'utf8' });
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(new RegExp(`a server \\(pid ${process.pid}\\) is using .*; stop it first`));
    await stop();
    await removeIndex();
    await writeFile(join(dataDir, 'index.sqlite'), randomBytes(4096)); // not even SQLite
    const run = spawnSync(process.execPath, [cli, 'reindex', '--data', dataDir], { encoding: 'utf8' });
    expect(run.status, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/indexed 3 document\(s\) in [\d.]+ s/);
    expect(run.stderr).toMatch(/3\/3 documents/); // the bar (one line when stderr is no terminal)
    expect((await readdir(dataDir)).filter((n) => n.startsWith('index.sqlite'))).toEqual(['index.sqlite']);
    await start();
    const after = await snapshot();
    expect(after.documents).toEqual(before.documents);
    expect(after.projects).toEqual(before.projects);
    // no old index to lend upload times: they come from the files, set to the upload time when written
    expect(after.profiles).toEqual(before.profiles);
  });

  it('reindex --help and a bad flag', () => {
    const help = spawnSync(process.execPath, [cli, 'reindex', '--help'], { encoding: 'utf8' });
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/Usage: prof-server reindex/);
    const bad = spawnSync(process.execPath, [cli, 'reindex', '--nope'], { encoding: 'utf8' });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/Unknown option '--nope'/);
  });
});
