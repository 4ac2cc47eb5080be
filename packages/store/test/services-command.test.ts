// `npm run services`: a PostgreSQL and an S3-protocol server for trying the shared setup on one machine.
import { expect, inject, it } from 'vitest';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { connect } from 'node:net';
import { fileURLToPath } from 'node:url';
import { PostgresProfileIndex, S3BlobStore, newProfileId } from '../src/index';
import './services';

const script = fileURLToPath(new URL('../../../scripts/services.mjs', import.meta.url));

const listening = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });

it('prints PROF_INDEX and PROF_BLOBS that work, and leaves nothing running after SIGTERM', async () => {
  const proc = spawn(process.execPath, [script], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout.on('data', (d) => (out += d));
  proc.stderr.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => proc.once('exit', resolve));
  try {
    await expect.poll(() => out, { timeout: 60_000 }).toMatch(/PROF_BLOBS=\S+\n/);
    const index = /^PROF_INDEX=(postgres:\/\/\S+)$/m.exec(out)![1];
    const blobs = /^PROF_BLOBS=(s3:\/\/\S+)$/m.exec(out)![1];
    const pg = await PostgresProfileIndex.open(index);
    expect((await pg.stats()).count).toBe(0);
    await pg.close();
    const s3 = S3BlobStore.fromUrl(blobs);
    const id = newProfileId();
    const bytes = randomBytes(100);
    await s3.put(id, bytes);
    expect(Buffer.compare((await s3.get(id))!, bytes)).toBe(0);
    await s3.close();
    const ports = [new URL(index).port, new URL(new URL(blobs).searchParams.get('endpoint')!).port].map(Number);
    for (const port of ports) expect(await listening(port)).toBe(true);
    proc.kill('SIGTERM');
    expect(await exited).toBe(0);
    for (const port of ports) expect(await listening(port)).toBe(false);
  } finally {
    proc.kill('SIGKILL');
  }
});

it('its S3 server shows an object only once whole, as S3 does: 404 during the PUT, then every byte', async () => {
  // s3rver alone answered a HEAD during the PUT with the part written so far (a summary read half-stored).
  const s3 = inject('s3');
  const url = new URL(`${s3.endpoint}/${s3.bucket}/whole-${randomBytes(6).toString('hex')}/object`);
  const put = request(url, { method: 'PUT', headers: { 'content-length': 2_000_000 } });
  const answered = new Promise<number | undefined>((resolve, reject) => {
    put.once('response', (res) => {
      res.resume();
      resolve(res.statusCode);
    });
    put.once('error', reject);
  });
  await new Promise<void>((resolve) => put.write(Buffer.alloc(1_000_000, 1), () => resolve()));
  // the first half has left this process; whether or not s3rver has written it yet, none of it shows
  for (let i = 0; i < 20; i++) expect((await fetch(url, { method: 'HEAD' })).status).toBe(404);
  put.end(Buffer.alloc(1_000_000, 2));
  expect(await answered).toBe(200);
  const head = await fetch(url, { method: 'HEAD' });
  expect([head.status, head.headers.get('content-length')]).toEqual([200, '2000000']);
});
