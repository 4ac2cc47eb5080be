// @ts-check
// The real parts the browser tests and the bench run against: a Prof server (apps/server/dist/cli.js)
// on a random port with its own data dir, real fixtures uploaded over HTTP, and Debian's Chromium
// driven by playwright-core. Plain JS (typed by JSDoc) so `node bench/bench.mjs` runs it unbuilt.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { fixturesDir } from '../../../scripts/shared-dir.mjs';

export const webRoot = join(dirname(fileURLToPath(import.meta.url)), '..');
export const repoRoot = join(webRoot, '..', '..');
export const fixtures = join(fixturesDir, 'vmprof-fresh');
export const resultsDir = join(repoRoot, 'test-results');
export const serverCli = join(repoRoot, 'apps', 'server', 'dist', 'cli.js');
export const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/**
 * @typedef {object} Server
 * @property {string} url
 * @property {import('node:child_process').ChildProcess} proc
 * @property {string} dataDir
 * @property {() => Promise<void>} stop  stops the process, keeps the data dir
 * @property {() => Promise<void>} close stops the process and removes the data dir
 */

/**
 * Starts the built server; `dataDir` reuses a store (a restart sees the same profiles, cold caches).
 * @param {{ dataDir?: string }} [options]
 * @returns {Promise<Server>}
 */
export async function startServer(options = {}) {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'prof-web-test-'));
  const proc = spawn(process.execPath, [serverCli, '--port', '0', '--host', '127.0.0.1', '--data', dataDir, '--no-demos'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${log}`)), 30_000);
    /** @param {Buffer} b */
    const onData = (b) => {
      log += b.toString();
      const m = /Prof server listening on (http:\/\/\S+)/.exec(log);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    };
    proc.stdout.on('data', onData);
    proc.stderr.on('data', onData);
    proc.on('exit', (code) => reject(new Error(`server exited with ${code}:\n${log}`)));
  });
  async function stop() {
    if (proc.exitCode !== null) return;
    const exited = new Promise((r) => proc.once('exit', r));
    proc.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
    if (proc.exitCode === null) proc.kill('SIGKILL');
  }
  return {
    url,
    proc,
    dataDir,
    stop,
    async close() {
      await stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * Uploads a fixture of vmprof-fresh as a user would (POST /api/profiles) and returns its id.
 * @param {Server} server
 * @param {string} fixture
 * @param {string} project
 * @param {string} name
 * @param {string[]} [tags]
 * @returns {Promise<string>}
 */
export async function upload(server, fixture, project, name, tags = []) {
  const q = new URLSearchParams({ project, name });
  for (const t of tags) q.append('tag', t);
  const res = await fetch(`${server.url}/api/profiles?${q}`, { method: 'POST', body: readFileSync(join(fixtures, fixture)) });
  if (!res.ok) throw new Error(`upload of ${fixture} failed: ${res.status} ${await res.text()}`);
  return /** @type {{ id: string }} */ (await res.json()).id;
}

/** @returns {Promise<import('playwright-core').Browser>} */
export function launchBrowser() {
  return chromium.launch({
    executablePath: chromiumPath,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
  });
}
