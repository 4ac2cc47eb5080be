// Issue 10: long profiles upload in bounded memory. A vmprof file three times longer than
// big_memory.prof (188 MB, made by scripts/make-long-profile.mjs) goes through curl's route as is
// and through the vmprof client's route gzipped; both are converted as a stream on the worker
// pool, stored byte for byte as the in-memory converter writes them, served, and the memory view
// shows the whole run. A vmprof header followed by zeros, gzipped, is refused as a bomb.
import { createReadStream, readFileSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip, gunzipSync, gzipSync } from 'node:zlib';
import { createWriteStream } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeDocument, gunzipDocument, gzipDocument, nameVmprofRun, readProfileFile } from '@prof/format/node';
import { makeLongProfile } from '../../../scripts/make-long-profile.mjs';
import { fixtures, json, startServer, storedBytes, waitForProfile, type Running } from './helpers';

const TIMES = 3;
let r: Running;
let work: string;
let long: string;
let expected: Buffer;
let one: Awaited<ReturnType<typeof readProfileFile>>;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'prof-long-upload-'));
  long = join(work, `big_memory-x${TIMES}.prof`);
  makeLongProfile({ source: join(fixtures, 'vmprof-fresh/big_memory.prof'), times: TIMES, out: long });
  one = await readProfileFile(join(fixtures, 'vmprof-fresh/big_memory.prof'));
  // What the in-memory converter stores for it (name from the script, as the server names vmprof runs).
  r = await startServer();
});

afterAll(async () => {
  await r?.stop();
  await rm(work, { recursive: true, force: true });
});

/** The body of a file as a request stream: the test never holds the long profile either. */
const fileBody = (path: string) => Readable.toWeb(createReadStream(path)) as ReadableStream;

async function checkStored(id: string): Promise<void> {
  const stored = await storedBytes(r, id);
  const doc = await gunzipDocument(stored, { maxInflatedBytes: 1 << 30 });
  expect(doc.samples.length).toBe(TIMES * one.samples.length);
  expect(doc.samples.memory).not.toBeNull();
  // Served as stored (fetch inflates the Content-Encoding: gzip).
  const served = Buffer.from(await (await fetch(`${r.url}/api/profiles/${id}/document`)).arrayBuffer());
  expect(Buffer.compare(served, gunzipSync(stored))).toBe(0);
  // The memory view covers the whole run: every sample counted, the run's peak in its bins.
  const meta = await json(await fetch(`${r.url}/api/profiles/${id}`));
  expect(meta.sampleCount).toBe(TIMES * one.samples.length);
  expect(meta.durationMs).toBeCloseTo(TIMES * ((one.meta.endTime ?? 0) - (one.meta.startTime ?? 0)), -1);
  const mem = await json(await fetch(`${r.url}/api/profiles/${id}/memory?bins=300`));
  expect(mem.bins).toHaveLength(300);
  expect(mem.bins.reduce((s: number, b: { count: number }) => s + b.count, 0)).toBe(TIMES * one.samples.length);
  const peak = (one.samples.memory as Float64Array).reduce((a, b) => Math.max(a, b), 0);
  expect(Math.max(...mem.bins.map((b: { max: number | null }) => b.max ?? 0))).toBe(peak);
  // The last third repeats the first: its bins show the same peak.
  const third = mem.bins.slice(200);
  expect(Math.max(...third.map((b: { max: number | null }) => b.max ?? 0))).toBe(peak);
}

describe('long vmprof uploads', () => {
  it(`POST /api/profiles with a ×${TIMES} big_memory.prof (${TIMES * 63} MB): converted as a stream, the same bytes as in memory`, async () => {
    expected ??= await gzipDocument(await renamed(long));
    const response = await fetch(`${r.url}/api/profiles`, {
      method: 'POST',
      body: fileBody(long),
      headers: { 'content-length': String(statSync(long).size) },
      duplex: 'half',
    } as RequestInit);
    const answer = await json(response);
    expect(response.status, JSON.stringify(answer)).toBe(201);
    expect(Buffer.compare(await storedBytes(r, answer.id), expected)).toBe(0);
    await checkStored(answer.id);
  });

  it('the vmprof client route with the same profile gzipped (inflating past --max-inflated)', async () => {
    const gz = join(work, 'long.prof.gz');
    await pipeline(createReadStream(long), createGzip({ level: 1 }), createWriteStream(gz));
    const { runtime_id: rid } = await json(await fetch(`${r.url}/api/runtime/new`, { method: 'POST', body: '{}' }));
    const response = await fetch(`${r.url}/api/runtime/upload/cpu/${rid}/add`, {
      method: 'POST',
      body: fileBody(gz),
      duplex: 'half',
    } as RequestInit);
    expect(response.status, await response.clone().text()).toBe(200);
    await waitForProfile(r.url, rid, 120_000);
    await checkStored(rid);
  });

  it('a Prof document larger than --max-inflated is refused before it is read into memory', async () => {
    const doc = encodeDocument(one);
    const response = await fetch(`${r.url}/api/profiles`, {
      method: 'POST',
      body: Buffer.concat([doc, Buffer.alloc((64 << 20) + 1 - doc.length)]),
    });
    const answer = await json(response);
    expect(response.status, JSON.stringify(answer)).toBe(413);
    expect(answer.error.message).toMatch(
      /a Prof document of 67108865 bytes is read into memory.*64 MiB.*--max-inflated/,
    );
  });

  it('a gzipped vmprof header followed by zeros is refused as a bomb, past 64 MiB', async () => {
    const prof = readFileSync(join(fixtures, 'vmprof-fresh/cpu_basic.prof'));
    const member = gzipSync(Buffer.alloc(16 << 20), { level: 9 });
    const body = Buffer.concat([gzipSync(prof), ...Array.from({ length: 8 }, () => member)]);
    const response = await fetch(`${r.url}/api/profiles`, { method: 'POST', body });
    const answer = await json(response);
    expect(response.status).toBe(413);
    expect(answer.error.message).toMatch(/more than 500 times past 64 MiB/);
  });
});

/** The document the server stores for a vmprof file: named after its script, as uploads are. */
async function renamed(path: string) {
  const doc = await readProfileFile(path);
  nameVmprofRun(doc);
  return doc;
}
