import { mkdtemp, rm, mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inject } from 'vitest';
import { randomBytes } from 'node:crypto';
import { createServer, type ProfServer, type ServerOptions } from '../src/index';
import { fixturesDir } from '../../../scripts/fixtures.mjs';

export const repoRoot = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../..');
export const fixtures = fixturesDir;

export interface Running {
  server: ProfServer;
  url: string;
  dir: string;
  webRoot: string;
  /** The store it runs on (`index`, `blobs`; none: the embedded store in `dir`): a restart passes them again. */
  storeOptions: Pick<ServerOptions, 'index' | 'blobs'>;
  stop(): Promise<void>;
}

declare module 'vitest' {
  export interface ProvidedContext {
    pgUrl: string;
    s3: { endpoint: string; bucket: string; accessKeyId: string; secretAccessKey: string; url: string };
  }
}

/** Whether PROF_TEST_STORE=shared puts `startServer`'s servers on PostgreSQL + S3. */
export const sharedStoreRun = process.env.PROF_TEST_STORE === 'shared';

/**
 * With PROF_TEST_STORE=shared the suite runs on the shared store: a fresh PostgreSQL schema and
 * bucket prefix per server, on the services the globalSetup started.
 */
function sharedStoreOptions(): Pick<ServerOptions, 'index' | 'blobs'> {
  if (!sharedStoreRun) return {};
  const tag = randomBytes(6).toString('hex');
  const s3 = inject('s3');
  return {
    index: `${inject('pgUrl')}?schema=t_${tag}`,
    blobs: `s3://${s3.accessKeyId}:${s3.secretAccessKey}@${s3.bucket}/t-${tag}?endpoint=${encodeURIComponent(s3.endpoint)}&region=us-east-1`,
  };
}

/** `sharedStoreOptions` as `prof-server` arguments, for the tests that run the built server. */
export function sharedStoreArgs(): string[] {
  const { index, blobs } = sharedStoreOptions();
  return index && blobs ? ['--index', index, '--blobs', blobs] : [];
}

/**
 * A real server on a random loopback port over a fresh data directory, with a tiny web root; with
 * PROF_TEST_STORE=shared on a fresh schema and bucket prefix, unless `options` name a store.
 */
export async function startServer(options: ServerOptions = {}): Promise<Running> {
  const dir = await mkdtemp(join(tmpdir(), 'prof-server-test-'));
  const webRoot = join(dir, 'web');
  await mkdir(join(webRoot, 'assets'), { recursive: true });
  await writeFile(
    join(webRoot, 'index.html'),
    '<!doctype html><title>Prof</title><script type="module" src="/assets/app.js"></script>',
  );
  await writeFile(join(webRoot, 'assets', 'app.js'), 'console.log("prof")');
  const shared = sharedStoreOptions();
  const storeOptions = { index: options.index ?? shared.index, blobs: options.blobs ?? shared.blobs };
  const server = await createServer({
    dataDir: join(dir, 'data'),
    webRoot,
    demoDir: null,
    ...options,
    ...storeOptions,
  });
  const url = await server.listen({ port: 0, host: '127.0.0.1' });
  return {
    server,
    url,
    dir,
    webRoot,
    storeOptions,
    async stop() {
      await server.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export async function json(response: Response): Promise<any> {
  const text = await response.text();
  try {
    return JSON.parse(text);
  } catch {
    throw new Error(`not JSON (status ${response.status}): ${text.slice(0, 200)}`);
  }
}

/** Polls until a profile converted after the answer (vmprof runtime, vmprof-viewer) is indexed. */
export async function waitForProfile(url: string, id: string, timeoutMs = 30_000): Promise<any> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const response = await fetch(`${url}/api/profiles/${id}`);
    const body = await json(response);
    if (response.status === 200) return body;
    if (body.error?.code !== 'processing' || Date.now() > deadline)
      throw new Error(`profile ${id}: ${response.status} ${JSON.stringify(body)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The stored bytes of a profile, from whichever blob store the server runs on. */
export async function storedBytes(r: Running, id: string): Promise<Buffer> {
  const bytes = await r.server.store.blobs.get(id);
  if (!bytes) throw new Error(`profile ${id} has no stored bytes`);
  return bytes;
}

/** The ids of every stored document, sorted. */
export async function storedIds(r: Running): Promise<string[]> {
  return (await r.server.store.blobs.list()).sort();
}
