#!/usr/bin/env node
// The shared setup on one machine: a throwaway PostgreSQL cluster (Debian's `postgresql`, initdb in a
// temporary folder, run as an unprivileged user) and an S3-protocol server (s3rver) on loopback, on
// free ports. Tests import `startPostgres` / `startS3`; `npm run services` starts both, prints the
// `PROF_INDEX=` and `PROF_BLOBS=` lines for prof-server and keeps them until Ctrl-C or SIGTERM.
import { spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { chownSync, createWriteStream, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';

/** A port nothing listens on right now. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** The newest installed PostgreSQL's bin folder (Debian keeps them under /usr/lib/postgresql/<major>/bin). */
export function postgresBin() {
  const base = '/usr/lib/postgresql';
  const majors = existsSync(base)
    ? readdirSync(base)
        .filter((v) => existsSync(join(base, v, 'bin', 'initdb')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (!majors.length) throw new Error("PostgreSQL is not installed: apt-get install postgresql (Debian's package)");
  return join(base, majors[0], 'bin');
}

/** initdb and postgres refuse root: as root, the cluster runs as `nobody`. */
function unprivileged() {
  if (process.getuid?.() !== 0) return {};
  const id = (flag) => Number(spawnSync('id', [flag, 'nobody'], { encoding: 'utf8' }).stdout.trim());
  return { uid: id('-u'), gid: id('-g') };
}

const until = async (what, ready, timeoutMs = 30_000) => {
  const deadline = Date.now() + timeoutMs;
  while (!(await ready())) {
    if (Date.now() > deadline) throw new Error(`${what} did not start within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
};

/**
 * Starts a fresh cluster on a free loopback port. `fast` turns fsync off (tests: nothing there needs
 * to survive a power cut). The handle can `stop()` and `start()` it again on the same port and data
 * (to test an outage) and `destroy()` it, removing its folder.
 */
export async function startPostgres({ fast = false, maxConnections = 200 } = {}) {
  const bin = postgresBin();
  const user = unprivileged();
  const dir = mkdtempSync(join(tmpdir(), 'prof-pg-'));
  const data = join(dir, 'data');
  const password = randomBytes(12).toString('hex');
  writeFileSync(join(dir, 'pw'), password);
  if (user.uid !== undefined) chownSync(dir, user.uid, user.gid);
  const init = spawnSync(
    join(bin, 'initdb'),
    ['-D', data, '-U', 'prof', `--pwfile=${join(dir, 'pw')}`, '--auth=scram-sha-256', '-E', 'UTF8', '--locale=C.UTF-8'],
    { ...user, encoding: 'utf8' },
  );
  if (init.status !== 0) throw new Error(`initdb failed: ${init.stderr || init.stdout}`);
  const port = await freePort();
  const settings = [
    ['port', port],
    ['listen_addresses', '127.0.0.1'],
    ['unix_socket_directories', dir],
    ['max_connections', maxConnections],
    ['shared_buffers', '64MB'],
    ...(fast
      ? [
          ['fsync', 'off'],
          ['synchronous_commit', 'off'],
          ['full_page_writes', 'off'],
        ]
      : []),
  ];
  const args = ['-D', data, ...settings.flatMap(([k, v]) => ['-c', `${k}=${v}`])];
  let child = null;
  const isReady = () =>
    spawnSync(join(bin, 'pg_isready'), ['-h', '127.0.0.1', '-p', String(port), '-q'], { stdio: 'ignore' }).status === 0;
  const handle = {
    url: `postgres://prof:${password}@127.0.0.1:${port}/postgres`,
    port,
    dir,
    async start() {
      if (child) return;
      const started = spawn(join(bin, 'postgres'), args, { ...user, stdio: ['ignore', 'ignore', 'pipe'] });
      let log = '';
      started.stderr.on('data', (d) => {
        log = (log + d).slice(-4000);
      });
      started.once('exit', () => {
        if (child === started) child = null;
      });
      child = started;
      await until('PostgreSQL', () => {
        if (child !== started) throw new Error(`postgres exited: ${log}`);
        return isReady();
      });
    },
    /** Fast shutdown (SIGINT): connections are cut, the data stays. */
    async stop() {
      const running = child;
      if (!running) return;
      child = null;
      await new Promise((resolve) => {
        running.once('exit', resolve);
        running.kill('SIGINT');
      });
    },
    async destroy() {
      await handle.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  await handle.start();
  return handle;
}

/**
 * s3rver writes an object in place, and answers the PUT before its file is complete: a HEAD or GET
 * meanwhile (even just after) sees it truncated, which S3 never shows (an object appears whole, at
 * once). A server reading a summary stored by another request saw half a container. Here an object
 * is written to a temporary file (not listed: no object suffix), then renamed into place.
 */
function atomicPuts(store) {
  store.putObject = async (object) => {
    const path = store.getResourcePath(object.bucket, object.key, 'object');
    await mkdir(dirname(path), { recursive: true });
    const temp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
    const md5 = createHash('md5');
    let size = 0;
    const count = new Transform({
      transform(chunk, _encoding, done) {
        md5.update(chunk);
        size += chunk.length;
        done(null, chunk);
      },
    });
    const content = Buffer.isBuffer(object.content) ? Readable.from([object.content]) : object.content;
    try {
      await pipeline(content, count, createWriteStream(temp));
      const digest = md5.digest('hex');
      await store.putMetadata(object.bucket, object.key, object.metadata, digest);
      await rename(temp, path);
      return { size, md5: digest };
    } finally {
      await rm(temp, { force: true });
    }
  };
}

/**
 * Starts an S3-protocol server (s3rver) on a free loopback port with one bucket. `url(prefix)` is a
 * `PROF_BLOBS` value with its credentials; `stop()` / `start()` take it down and up on the same port.
 */
export async function startS3({ bucket = 'prof' } = {}) {
  const { default: S3rver } = await import('s3rver');
  const dir = mkdtempSync(join(tmpdir(), 'prof-s3-'));
  const port = await freePort();
  const accessKeyId = 'S3RVER'; // s3rver's only credentials
  const secretAccessKey = 'S3RVER';
  let server = null;
  const endpoint = `http://127.0.0.1:${port}`;
  const handle = {
    endpoint,
    bucket,
    port,
    accessKeyId,
    secretAccessKey,
    url: (prefix = '') =>
      `s3://${accessKeyId}:${secretAccessKey}@${bucket}/${prefix}?endpoint=${encodeURIComponent(endpoint)}&region=us-east-1`,
    async start() {
      if (server) return;
      server = new S3rver({
        address: '127.0.0.1',
        port,
        directory: dir,
        silent: true,
        configureBuckets: [{ name: bucket }],
      });
      atomicPuts(server.store);
      await server.run();
    },
    async stop() {
      const running = server;
      server = null;
      if (running) await running.close();
    },
    async destroy() {
      await handle.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  await handle.start();
  return handle;
}

async function main() {
  const pg = await startPostgres();
  const s3 = await startS3();
  console.log(`PROF_INDEX=${pg.url}`);
  console.log(`PROF_BLOBS=${s3.url('profiles')}`);
  console.log('# running; Ctrl-C or SIGTERM stops both and removes their data');
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await Promise.allSettled([pg.destroy(), s3.destroy()]);
    process.exit(0);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main().catch((error) => {
    console.error(`services: ${error.message}`);
    process.exit(1);
  });
}
