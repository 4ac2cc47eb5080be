// The shared store for real: PostgreSQL index and an S3-protocol server (started by the globalSetup).
import { afterEach, describe, expect, inject, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateMultipartUploadCommand, UploadPartCommand } from '@aws-sdk/client-s3';
import {
  MIGRATIONS,
  PostgresProfileIndex,
  S3BlobStore,
  SharedProfileStore,
  StoreUnavailableError,
  newProfileId,
  openConfiguredStore,
  parseS3Url,
} from '../src/index';
import { freshPostgresIndex, freshS3Store, freshS3Url } from './services';
import { fields } from './rows';
import { checkSummaryBlobs } from './summary-blobs';

const closing: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const c of closing.splice(0)) await c.close();
});

describe('S3 blob store', () => {
  it('parses s3:// URLs and says what is wrong with a bad one', () => {
    expect(parseS3Url('s3://ak:s%2Fk@bucket/a/b?endpoint=http://h:9000&region=eu-west-1&forcePathStyle=false')).toEqual(
      {
        bucket: 'bucket',
        prefix: 'a/b',
        credentials: { accessKeyId: 'ak', secretAccessKey: 's/k' },
        endpoint: 'http://h:9000',
        region: 'eu-west-1',
        forcePathStyle: false,
      },
    );
    expect(parseS3Url('s3://bucket')).toEqual({ bucket: 'bucket' });
    expect(() => parseS3Url('http://bucket/x')).toThrow(/expected s3:\/\/bucket/);
    expect(() => parseS3Url('s3://bucket/x?endpont=x')).toThrow(/"endpont" is unknown/);
  });

  it('stores bytes, multipart for large ones, and gives them back identical', async () => {
    const blobs = freshS3Store({ multipartThreshold: 6 * 1024 ** 2, partSize: 5 * 1024 ** 2 });
    closing.push(blobs);
    const small = randomBytes(1000);
    const large = randomBytes(12 * 1024 ** 2 + 17); // three parts
    const [a, b] = [newProfileId(), newProfileId()];
    await blobs.put(a, small);
    await blobs.put(b, large);
    expect(Buffer.compare((await blobs.get(a))!, small)).toBe(0);
    expect(Buffer.compare((await blobs.get(b))!, large)).toBe(0);
    expect((await blobs.list()).sort()).toEqual([a, b].sort());
    expect(await blobs.list({ modifiedBefore: Date.now() - 60_000 })).toEqual([]);
    expect(await blobs.get(newProfileId())).toBeNull();
    expect(await blobs.get('../x')).toBeNull();
    await blobs.delete(a);
    await blobs.delete(a); // deleting what is gone is fine
    expect(await blobs.list()).toEqual([b]);
    expect(await blobs.removeIncomplete()).toBe(0);
    await blobs.ping();
  });

  it('leaves an interrupted multipart upload invisible; aborting what it cannot list is 0, not a failure', async () => {
    const blobs = freshS3Store();
    closing.push(blobs);
    // An instance that died in the middle of a large document: one part sent, never completed.
    const Key = blobs.keyOf(newProfileId());
    const { UploadId } = await blobs.client.send(new CreateMultipartUploadCommand({ Bucket: blobs.bucket, Key }));
    await blobs.client.send(
      new UploadPartCommand({ Bucket: blobs.bucket, Key, UploadId, PartNumber: 1, Body: randomBytes(1024) }),
    );
    expect(await blobs.list()).toEqual([]);
    // s3rver answers ListMultipartUploads with 501 NotImplemented (AWS, MinIO and Ceph list them): the
    // sweep goes on, and a bucket lifecycle rule (AbortIncompleteMultipartUpload) is the backstop (deploy.md).
    expect(await blobs.removeIncomplete({ modifiedBefore: Date.now() + 60_000 })).toBe(0);
  });

  it('fails with StoreUnavailableError when the server cannot be reached', async () => {
    const blobs = S3BlobStore.fromUrl('s3://k:s@prof/x?endpoint=http://127.0.0.1:9&region=us-east-1');
    closing.push(blobs);
    await expect(blobs.get(newProfileId())).rejects.toBeInstanceOf(StoreUnavailableError);
    await expect(blobs.put(newProfileId(), Buffer.from('x'))).rejects.toThrow(/blob store is unavailable/);
    await expect(blobs.ping()).rejects.toBeInstanceOf(StoreUnavailableError);
  });
});

describe('PostgreSQL index', () => {
  it('applies its migrations once when several instances open one database at the same time', async () => {
    const schema = `m_${randomBytes(6).toString('hex')}`;
    const indexes = await Promise.all(
      Array.from({ length: 4 }, () => PostgresProfileIndex.open(inject('pgUrl'), { schema })),
    );
    closing.push(...indexes);
    for (const index of indexes) expect(await index.schemaVersion()).toBe(MIGRATIONS.length);
    const row = { ...fields(), id: newProfileId(), sizeBytes: 3, uploadedAt: 1 };
    await indexes[0].insert(row);
    expect(await indexes[3].get(row.id)).toMatchObject({ id: row.id, sizeBytes: 3 });
  });

  it('fails with StoreUnavailableError when the database cannot be reached', async () => {
    await expect(PostgresProfileIndex.open('postgres://prof@127.0.0.1:9/postgres')).rejects.toBeInstanceOf(
      StoreUnavailableError,
    );
    await expect(PostgresProfileIndex.open('mysql://x@y/z')).rejects.toThrow(/expected a postgres:\/\/ URL/);
  });
});

describe('shared store (PostgreSQL + S3)', () => {
  async function open(blobsUrl = freshS3Url(), index?: PostgresProfileIndex) {
    const store = new SharedProfileStore(S3BlobStore.fromUrl(blobsUrl), index ?? (await freshPostgresIndex()));
    closing.push(store);
    return store;
  }

  it('is what openConfiguredStore opens for a postgres:// index and an s3:// bucket', async () => {
    const schema = `o_${randomBytes(6).toString('hex')}`;
    const store = await openConfiguredStore({ index: `${inject('pgUrl')}?schema=${schema}`, blobs: freshS3Url() });
    closing.push(store);
    expect(store).toBeInstanceOf(SharedProfileStore);
    const row = await store.put(Buffer.from('bytes'), fields());
    expect((await store.getBytes(row.id))!.toString()).toBe('bytes');
    expect((await store.search()).items.map((r) => r.id)).toEqual([row.id]);
  });

  it('shows a profile to another instance once stored, and forgets it everywhere once deleted', async () => {
    const url = freshS3Url();
    const a = await open(url);
    const b = await open(url, await reopen(a));
    const bytes = randomBytes(50_000);
    const row = await a.put(bytes, fields());
    expect(await b.get(row.id)).toEqual(row);
    expect(Buffer.compare((await b.getBytes(row.id))!, bytes)).toBe(0);
    expect(await b.delete(row.id)).toBe(true);
    expect(await a.get(row.id)).toBeNull();
    expect(await a.getBytes(row.id)).toBeNull();
  });

  it('leaves no row and no blob when the row cannot be committed', async () => {
    const store = await open();
    // PostgreSQL refuses a thread count beyond its integer column after the blob is written
    await expect(store.put(Buffer.from('x'), fields({ threads: 2 ** 40 }))).rejects.toThrow(/out of range/);
    expect(await store.blobs.list()).toEqual([]);
    expect(await store.stats()).toEqual({ count: 0, totalBytes: 0 });
  });

  it('sweeps blobs left without a row once older than the grace period, one instance at a time', async () => {
    const url = freshS3Url();
    const store = await open(url);
    const kept = await store.put(Buffer.from('kept'), fields());
    const orphan = newProfileId(); // an instance died between its blob and its row
    await store.blobs.put(orphan, Buffer.from('never indexed'));
    expect(await store.sweep()).toEqual({ incomplete: 0, orphans: 0, orphanSummaries: 0, incoming: 0 }); // young: maybe still being indexed
    expect((await store.blobs.list()).sort()).toEqual([kept.id, orphan].sort());
    const other = await open(url, await reopen(store));
    let release!: () => void;
    const held = (store.index as PostgresProfileIndex).exclusive(
      'sweep',
      () => new Promise<void>((r) => (release = r)),
    );
    await expect.poll(() => release !== undefined).toBe(true);
    expect(await other.sweep({ now: Date.now() + store.graceMs + 1000 })).toBeNull(); // the lock is held
    release();
    await held;
    expect(await other.sweep({ now: Date.now() + store.graceMs + 1000 })).toEqual({
      incomplete: 0,
      orphans: 1,
      orphanSummaries: 0,
      incoming: 0,
    });
    expect(await store.blobs.list()).toEqual([kept.id]);
    expect((await store.getBytes(kept.id))!.toString()).toBe('kept');
  });

  it('sweeps and prunes in its own schema while another schema of the same database holds its locks', async () => {
    const mine = await open();
    const theirs = await open();
    await mine.put(Buffer.alloc(10), fields(), { uploadedAt: 1 });
    const releases: Array<() => void> = [];
    const held = (['sweep', 'retention'] as const).map((key) =>
      (theirs.index as PostgresProfileIndex).exclusive(key, () => new Promise<void>((r) => releases.push(r))),
    );
    await expect.poll(() => releases.length).toBe(2);
    try {
      expect(await mine.sweep()).toEqual({ incomplete: 0, orphans: 0, orphanSummaries: 0, incoming: 0 });
      expect((await mine.prune({ maxTotalBytes: 0 })).freedBytes).toBe(10);
      expect(await theirs.sweep()).toBeNull();
    } finally {
      for (const release of releases) release();
      await Promise.all(held);
    }
  });

  it('stores summary blobs with ranged reads, deleted, pruned and quarantined with their document', async () => {
    const store = await open();
    // Multipart above the threshold: the summary's parts are streamed, never joined.
    (store.blobs as unknown as { multipartThreshold: number }).multipartThreshold = 50_000;
    await checkSummaryBlobs(store);
    expect((await store.sweep())!.orphanSummaries).toBe(1);
    const [kept] = await store.blobs.listSummaries();
    await store.blobs.quarantine(kept, 'test');
    expect(await store.openSummary(kept)).toBeNull();
  });

  it('prunes on one instance at a time', async () => {
    const store = await open();
    await store.put(Buffer.alloc(10), fields(), { uploadedAt: 1 });
    let release!: () => void;
    const held = (store.index as PostgresProfileIndex).exclusive(
      'retention',
      () => new Promise<void>((r) => (release = r)),
    );
    await expect.poll(() => release !== undefined).toBe(true);
    expect(await store.prune({ maxTotalBytes: 0 })).toEqual({ deleted: [], freedBytes: 0 });
    release();
    await held;
    expect((await store.prune({ maxTotalBytes: 0 })).freedBytes).toBe(10);
    expect(await store.blobs.list()).toEqual([]);
  });
});

/** A second connection pool on the same schema as `store`'s index: another instance. */
async function reopen(store: SharedProfileStore): Promise<PostgresProfileIndex> {
  return PostgresProfileIndex.open(inject('pgUrl'), { schema: (store.index as PostgresProfileIndex).schema });
}

describe('uploads acknowledged before conversion (SharedUploads)', () => {
  it('survive the instance that took them: its lease runs out, another claims the job and its raw body', async () => {
    const url = freshS3Url();
    const index = await freshPostgresIndex();
    // Long enough that the checks of a lease that holds (a few queries and a 70 KB put after it was
    // taken) pass on a loaded machine; the lease is waited out where it must have run out.
    const LEASE_MS = 2000;
    const a = new SharedProfileStore(S3BlobStore.fromUrl(url), index, undefined, { uploadLeaseMs: LEASE_MS });
    const other = await PostgresProfileIndex.open(inject('pgUrl'), { schema: index.schema });
    const b = new SharedProfileStore(S3BlobStore.fromUrl(url), other, undefined, { uploadLeaseMs: LEASE_MS });
    closing.push(a, b);
    const dir = await mkdtemp(join(tmpdir(), 'prof-shared-uploads-'));
    try {
      const body = randomBytes(70_000);
      await writeFile(join(dir, 'in'), body);
      const id = newProfileId();
      expect(await a.uploads!.add(id, '{"kind":"profile"}', 5, join(dir, 'in'))).toBe(true);
      expect(await b.uploads!.add(id, '{}', 6, join(dir, 'in'))).toBe(false); // one job per id, on any instance
      expect(await b.uploads!.status(id)).toEqual({ state: 'processing' });
      expect(await b.uploads!.claim()).toBeNull(); // a's lease holds
      await a.uploads!.renew();
      // a stops renewing (it died): b claims the job once the lease ran out, and nobody else does
      let claimed = null;
      while (!(claimed = await b.uploads!.claim())) await new Promise((r) => setTimeout(r, 50));
      expect(claimed).toEqual({ id, job: '{"kind":"profile"}' });
      expect(await a.uploads!.claim()).toBeNull();
      expect(await b.uploads!.fetchBody(id, join(dir, 'out'))).toBe(true);
      expect(Buffer.compare(await readFile(join(dir, 'out')), body)).toBe(0);
      // a failure is kept with its body, never claimed again, listed and removable
      await b.uploads!.fail(id, 'bad-vmprof', 'cut short');
      expect(await a.uploads!.status(id)).toEqual({ state: 'failed', code: 'bad-vmprof', message: 'cut short' });
      await new Promise((r) => setTimeout(r, LEASE_MS + 50)); // b's lease has run out: only the failure keeps the job
      expect(await a.uploads!.claim()).toBeNull();
      expect(await a.uploads!.failedBefore(6)).toEqual([id]);
      expect(await a.uploads!.discardFailed(id)).toBe(true);
      expect(await a.uploads!.status(id)).toBeNull();
      expect(await b.uploads!.fetchBody(id, join(dir, 'gone'))).toBe(false);
      // a row whose body never arrived (a crash before the answer): no body to fetch; done = both gone
      const lost = newProfileId();
      expect(await a.uploads!.add(lost, '{}', 7, join(dir, 'in'))).toBe(true);
      await a.uploads!.blobs.deleteIncoming(lost);
      expect(await b.uploads!.fetchBody(lost, join(dir, 'lost'))).toBe(false);
      await a.uploads!.finish(lost);
      expect(await a.uploads!.status(lost)).toBeNull();
      // a raw body no job owns goes with the sweep, after the grace period
      const orphan = newProfileId();
      await a.uploads!.blobs.putIncoming(orphan, join(dir, 'in'));
      expect((await a.sweep())!.incoming).toBe(0);
      expect((await a.sweep({ now: Date.now() + a.graceMs + 1000 }))!.incoming).toBe(1);
      expect(await a.uploads!.blobs.listIncoming()).toEqual([]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
