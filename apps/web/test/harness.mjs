// @ts-check
// The real parts the browser tests and the bench run against: a Prof server (apps/server/dist/cli.js)
// on a random port with its own data dir, real fixtures uploaded over HTTP, and Debian's Chromium
// driven by playwright-core. Plain JS (typed by JSDoc) so `node bench/bench.mjs` runs it unbuilt.
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { fixturesDir } from '../../../scripts/fixtures.mjs';

export const webRoot = join(dirname(fileURLToPath(import.meta.url)), '..');
export const repoRoot = join(webRoot, '..', '..');
export const fixtures = join(fixturesDir, 'vmprof-fresh');
export const resultsDir = join(repoRoot, 'test-results');
export const serverCli = join(repoRoot, 'apps', 'server', 'dist', 'cli.js');
export const clientCli = join(repoRoot, 'packages', 'client', 'dist', 'cli.js');
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
  const proc = spawn(
    process.execPath,
    [serverCli, '--port', '0', '--host', '127.0.0.1', '--data', dataDir, '--no-demos'],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let log = '';
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${log}`)), 30_000);
    /** @param {Buffer} b */
    const onData = (b) => {
      log += b.toString();
      const m = /Prof server listening on (http:\/\/\S+)\n/.exec(log);
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
  const res = await fetch(`${server.url}/api/profiles?${q}`, {
    method: 'POST',
    body: readFileSync(join(fixtures, fixture)),
  });
  if (!res.ok) throw new Error(`upload of ${fixture} failed: ${res.status} ${await res.text()}`);
  return /** @type {{ id: string }} */ (await res.json()).id;
}

/**
 * Runs a Node program under `prof run` (our client's CLI: CPU, RSS and V8 heap), which uploads its
 * profile to the server, and returns the profile's id.
 * @param {Server} server
 * @param {string} project
 * @param {string} program  the source of the script, run as `node job.js`
 * @param {Record<string, string>} [env]  extra environment (e.g. TZ)
 * @returns {Promise<string>}
 */
export async function recordNodeProfile(server, project, program, env = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'prof-web-node-'));
  try {
    writeFileSync(join(dir, 'job.js'), program);
    const args = [
      clientCli,
      'run',
      '--project',
      project,
      '--server',
      server.url,
      '--json',
      '--',
      process.execPath,
      'job.js',
    ];
    const stdout = await new Promise((resolve, reject) => {
      execFile(
        process.execPath,
        args,
        { cwd: dir, timeout: 120_000, env: { ...process.env, ...env, PROF_SPOOL: join(dir, 'spool') } },
        (err, out, errOut) => (err ? reject(new Error(`prof run failed: ${err.message}\n${errOut}`)) : resolve(out)),
      );
    });
    const report = JSON.parse(String(stdout).trim().split('\n').at(-1) ?? '{}');
    if (!report.ok) throw new Error(`prof run could not upload: ${stdout}`);
    return report.results[0].id;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** @returns {Promise<import('playwright-core').Browser>} */
export function launchBrowser() {
  return chromium.launch({
    executablePath: chromiumPath,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-quic',
    ],
  });
}
