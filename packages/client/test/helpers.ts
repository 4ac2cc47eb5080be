import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AddressInfo } from 'node:net';
import { fixturesDir } from '../../../scripts/fixtures.mjs';

export const packageDir = join(dirname(fileURLToPath(import.meta.url)), '..');
export const repoRoot = join(packageDir, '..', '..');
export { fixturesDir };
export const serverCli = join(repoRoot, 'apps', 'server', 'dist', 'cli.js');
export const clientCli = join(packageDir, 'dist', 'cli.js');
export const clientDist = join(packageDir, 'dist', 'index.js');

export function tempDir(prefix: string): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/** A real apps/server child process on a random port, on its own data directory. */
export interface ProfServer {
  url: string;
  stop(): Promise<void>;
}

export async function startProfServer(extraArgs: string[] = []): Promise<ProfServer> {
  const data = tempDir('prof-client-server-');
  const child = spawn(
    process.execPath,
    [serverCli, '--port', '0', '--host', '127.0.0.1', '--data', data.path, ...extraArgs],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    const onData = (chunk: Buffer): void => {
      out += chunk.toString();
      const m = /listening on (http:\/\/\S+)\n/.exec(out);
      if (m) resolve(m[1].replace(/\/+$/, ''));
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.on('exit', (code) => reject(new Error(`server exited with ${code} before listening: ${out}`)));
    setTimeout(() => reject(new Error(`server did not start: ${out}`)), 30_000).unref();
  });
  return {
    url,
    async stop() {
      await stopChild(child);
      data.remove();
    },
  };
}

export async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  await new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

/** Whether a built file is the real thing rather than the workspace's placeholder. */
export function built(path: string): boolean {
  return existsSync(path) && statSync(path).size > 200;
}

/**
 * Plain node:http servers standing in for a Prof server that is slow or refuses: they simulate the
 * network, they do not imitate our server's logic.
 */
export async function startRawServer(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<{
  url: string;
  requests: number;
  close(): Promise<void>;
}> {
  const sockets = new Set<import('node:net').Socket>();
  const state = { url: '', requests: 0, close: async () => {} };
  const server: Server = createServer((req, res) => {
    state.requests++;
    handler(req, res);
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  state.close = () =>
    new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    });
  return state;
}

/** A port on which nothing listens (bound, then released). */
export async function closedPortUrl(): Promise<string> {
  const s = await startRawServer(() => {});
  const url = s.url;
  await s.close();
  return url;
}

export interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the built `prof` CLI (dist/cli.js) in a child process and collects its exit code and output. */
export function runProf(args: string[], options: { env?: Record<string, string>; cwd?: string } = {}): Promise<Ran> {
  if (!built(clientCli)) throw new Error(`build first: ${clientCli} is missing (npm test builds it)`);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [clientCli, ...args], {
      env: { ...process.env, ...options.env },
      cwd: options.cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr!.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/**
 * Keeps this thread busy (never yielding) until `done()` holds, for tests of samplers that must
 * measure a thread stuck in JavaScript; throws after a deadline generous enough for a loaded machine.
 */
export function spinUntil(done: () => boolean, what: string, deadlineMs = 60_000): void {
  const end = performance.now() + deadlineMs;
  while (!done()) {
    if (performance.now() > end) throw new Error(`waited ${deadlineMs} ms for ${what}`);
  }
}

/**
 * True once this process has spent `ms` of CPU time since `since()` was called: the V8 sampler
 * takes a CPU sample per interval of the thread's running time, so a spin that waits for this (and
 * not for wall time) has provably given the profiler its samples, however loaded the machine is.
 */
export function cpuSpent(ms: number): () => boolean {
  const start = process.cpuUsage();
  return () => {
    const now = process.cpuUsage(start);
    return now.user + now.system >= ms * 1000;
  };
}
