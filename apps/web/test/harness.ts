// A real Prof server (apps/server/dist/cli.js) on a random port with a temporary data dir, real
// fixtures uploaded over HTTP, and Debian's Chromium driven by playwright-core.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { chromiumPath, fixtures, serverCli } from './paths';

export interface Server {
  url: string;
  proc: ChildProcess;
  dataDir: string;
  close(): Promise<void>;
}

export async function startServer(): Promise<Server> {
  const dataDir = mkdtempSync(join(tmpdir(), 'prof-web-test-'));
  const proc = spawn(process.execPath, [serverCli, '--port', '0', '--host', '127.0.0.1', '--data', dataDir, '--no-demos'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${log}`)), 30_000);
    const onData = (b: Buffer) => {
      log += b.toString();
      const m = /Prof server listening on (http:\/\/\S+)/.exec(log);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    };
    proc.stdout!.on('data', onData);
    proc.stderr!.on('data', onData);
    proc.on('exit', (code) => reject(new Error(`server exited with ${code}:\n${log}`)));
  });
  return {
    url,
    proc,
    dataDir,
    async close() {
      if (proc.exitCode === null) {
        const exited = new Promise((r) => proc.once('exit', r));
        proc.kill('SIGTERM');
        await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
        if (proc.exitCode === null) proc.kill('SIGKILL');
      }
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export async function upload(server: Server, fixture: string, project: string, name: string, tags: string[] = []): Promise<string> {
  const q = new URLSearchParams({ project, name });
  for (const t of tags) q.append('tag', t);
  const res = await fetch(`${server.url}/api/profiles?${q}`, { method: 'POST', body: readFileSync(join(fixtures, fixture)) });
  if (!res.ok) throw new Error(`upload of ${fixture} failed: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { id: string }).id;
}

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
  });
}
