// Issue 10: a vmprof upload converted as a stream gets its summaries container built from the
// converter's own sample columns as they go by (no second pass inflating the stored document), and
// that container is byte for byte the one the stored document gives: on the real vmprof fixtures
// and on a profile eight times longer than memory_spiky.prof; over HTTP, the stored summary is that
// container, moved into place, and no scratch file is left.
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gunzipDocument, gzipDocument, readProfileFile, type ProfileDocument } from '@prof/format/node';
import { fieldsFromDocument } from '@prof/store';
import { makeLongProfile } from '../../../scripts/make-long-profile.mjs';
import { joinParts, summarizeDocument } from '../src/summarize';
import { ingestUpload } from '../src/worker/tasks';
import { fixtures, json, startServer, waitForProfile, type Running } from './helpers';

let work: string;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'prof-summaries-at-upload-'));
});
afterAll(() => rm(work, { recursive: true, force: true }));

/** A gzipped copy of a vmprof file: converted as a stream whatever its size. */
async function gzipped(path: string, name: string): Promise<string> {
  const out = join(work, `${name}.prof.gz`);
  await pipeline(createReadStream(path), createGzip(), createWriteStream(out));
  return out;
}

/** The container the whole stored document gives (what a build after the upload stores). */
async function fromDocument(bytes: Uint8Array): Promise<Buffer> {
  return Buffer.from(joinParts(summarizeDocument(await gunzipDocument(bytes, { maxInflatedBytes: 2 ** 31 }))));
}

async function expectBuiltWhileConverting(path: string): Promise<void> {
  const summaryDir = join(work, 'scratch');
  await rm(summaryDir, { recursive: true, force: true });
  await mkdir(summaryDir);
  const converted = await ingestUpload({
    path,
    overrides: { project: 'p' },
    limits: { maxInflatedBytes: 2 ** 26, maxRawBytes: 2 ** 34 },
    summaryDir,
  });
  if ('failed' in converted) throw new Error(converted.error.message);
  const { summary } = converted;
  expect(summary).toBeDefined();
  const got = await readFile(summary!.path);
  expect(got.length).toBe(summary!.bytes);
  const whole = await fromDocument(converted.bytes);
  expect(got.length).toBe(whole.length);
  expect(got.equals(whole)).toBe(true);
  await rm(summary!.path);
  // Nothing else is left behind: the builder's spill is gone.
  expect(await readdir(summaryDir)).toEqual([]);
}

describe('summaries built during a streamed conversion', () => {
  const names = ['big_memory', 'memory_spiky', 'threads', 'threads_memory_realtime_misaligned', 'cpu_basic', 'native'];
  it.each(names)('%s: byte for byte the container of the stored document', async (name) => {
    await expectBuiltWhileConverting(await gzipped(join(fixtures, `vmprof-fresh/${name}.prof`), name));
  });

  // memory_spiky ×8 (224,000 samples, four of the converter's 65,536-sample chunks) crosses the same chunk seams
  // as big_memory ×3 did, at a tenth of the bytes (×3 took 28-40 s of a loaded run).
  it('a profile eight times longer than memory_spiky.prof (several column chunks): the same container', async () => {
    const long = join(work, 'x8.prof');
    makeLongProfile({ source: join(fixtures, 'vmprof-fresh/memory_spiky.prof'), times: 8, out: long });
    // Gzipped, so it is converted as a stream (a plain one is only from 32 MiB).
    await expectBuiltWhileConverting(await gzipped(long, 'x8'));
  });
});

describe('over HTTP', () => {
  let r: Running;
  afterAll(async () => {
    await r?.stop();
  });

  it('the stored summary is the container built during the conversion; no scratch file is left', async () => {
    r = await startServer();
    const file = await gzipped(join(fixtures, 'vmprof-fresh/memory_spiky.prof'), 'http');
    // Streamed without a length: spooled to disk and converted as a stream (a body under 1 MiB with
    // its length is read into memory and converted there).
    const up = await fetch(`${r.url}/api/profiles?name=x`, {
      method: 'POST',
      body: Readable.toWeb(createReadStream(file)) as ReadableStream,
      duplex: 'half',
    } as RequestInit);
    expect(up.status).toBe(201);
    const { id } = await json(up);
    await waitForProfile(r.url, id);
    // The first view waits for the summary being stored (no build of its own).
    const memory = await fetch(`${r.url}/api/profiles/${id}/memory?bins=50`);
    expect(memory.status).toBe(200);
    const health = await json(await fetch(`${r.url}/health`));
    expect(health.summaries).toMatchObject({ built: 1, failed: 0, building: 0 });
    const reader = (await r.server.store.openSummary(id))!;
    let stored: Uint8Array;
    try {
      stored = await reader.read(0, reader.size);
    } finally {
      await reader.close();
    }
    const whole = await fromDocument((await r.server.store.getBytes(id))!);
    expect(Buffer.from(stored).equals(whole)).toBe(true);
    expect(await readdir(join(r.server.dataDir, 'scratch'))).toEqual([]);
  });
});

describe('a summary that cannot be built', () => {
  let r: Running;
  afterAll(async () => {
    await r?.stop();
  });

  /** A document stored past the upload checks: two samples out of time order (the build refuses it). */
  async function unbuildable(): Promise<{ bytes: Uint8Array; doc: ProfileDocument }> {
    const doc = await readProfileFile(join(fixtures, 'vmprof-fresh/memory_spiky.prof'));
    const t = doc.samples.time;
    [t[10], t[11]] = [t[11] + 1, t[10]];
    return { bytes: await gzipDocument(doc), doc };
  }

  it('a long profile answers 503 summary-unavailable with the reason, never decoding its document', async () => {
    const { bytes, doc } = await unbuildable();
    // Every profile counts as long here: the fallback is for at most one sample.
    r = await startServer({ fallbackMaxSamples: 1 });
    const { id } = await r.server.store.put(bytes, fieldsFromDocument(doc));
    for (const path of ['memory?bins=20', 'stacks', 'cpu/tree']) {
      const answer = await fetch(`${r.url}/api/profiles/${id}/${path}`);
      expect(answer.status, path).toBe(503);
      expect(answer.headers.get('retry-after'), path).not.toBeNull();
      const { error } = await json(answer);
      expect(error.code, path).toBe('summary-unavailable');
      expect(error.message, path).toContain('could not be built (samples.time[11]:');
    }
    const health = await json(await fetch(`${r.url}/health`));
    // One build, not one per query; no document decoded.
    expect(health.summaries.failed).toBe(1);
    expect(health.cache.entries).toBe(0);
    await r.stop();
  });

  it('a short one is answered as its decoded document answers (here: the bad value it holds)', async () => {
    const { bytes, doc } = await unbuildable();
    r = await startServer();
    const { id } = await r.server.store.put(bytes, fieldsFromDocument(doc));
    const answer = await fetch(`${r.url}/api/profiles/${id}/memory?bins=20`);
    expect(answer.status).toBe(422);
    expect((await json(answer)).error).toMatchObject({ code: 'bad-value' });
    expect((await json(await fetch(`${r.url}/health`))).summaries.failed).toBe(1);
  });
});
