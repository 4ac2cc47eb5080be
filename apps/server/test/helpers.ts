import { mkdtemp, rm, mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createServer, type ProfServer, type ServerOptions } from '../src/index';
import { fixturesDir } from '../../../scripts/fixtures.mjs';

export const repoRoot = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../..');
export const fixtures = fixturesDir;

export interface Running {
  server: ProfServer;
  url: string;
  dir: string;
  webRoot: string;
  stop(): Promise<void>;
}

/** A real server on a random loopback port over a fresh data directory, with a tiny web root. */
export async function startServer(options: ServerOptions = {}): Promise<Running> {
  const dir = await mkdtemp(join(tmpdir(), 'prof-server-test-'));
  const webRoot = join(dir, 'web');
  await mkdir(join(webRoot, 'assets'), { recursive: true });
  await writeFile(
    join(webRoot, 'index.html'),
    '<!doctype html><title>Prof</title><script type="module" src="/assets/app.js"></script>',
  );
  await writeFile(join(webRoot, 'assets', 'app.js'), 'console.log("prof")');
  const server = await createServer({ dataDir: join(dir, 'data'), webRoot, demoDir: null, ...options });
  const url = await server.listen({ port: 0, host: '127.0.0.1' });
  return {
    server,
    url,
    dir,
    webRoot,
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
