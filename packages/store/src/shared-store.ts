import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { BlobStore, IndexRowInput, ProfileIndex, ProfileRow, PruneOptions, PruneResult } from './types';
import { CompositeProfileStore, openStore } from './embedded-store';
import {
  type RebuildReport,
  type StoreLog,
  STORED_MAX_INFLATED_BYTES,
  UnreadableBlobError,
  rowFromBlob,
  silentLog,
} from './reindex';
import { FileBlobStore } from './file-blob-store';
import { SqliteProfileIndex } from './sqlite-index';
import { type LOCKS, PostgresProfileIndex } from './postgres-index';
import { S3BlobStore } from './s3-blob-store';
import { SharedUploads } from './shared-uploads';

/** What a blob store or an index may offer beyond its contract. */
interface Pingable {
  ping?(): Promise<void>;
}
interface Replaceable {
  replace?(row: IndexRowInput): Promise<boolean>;
}
interface Lockable {
  exclusive?<T>(key: keyof typeof LOCKS, fn: () => Promise<T>): Promise<{ ran: true; value: T } | { ran: false }>;
}

export interface SharedReindexOptions {
  /** Called after each document, and once at the start with `done` 0. */
  onProgress?: (done: number, total: number) => void;
  log?: StoreLog;
  maxInflatedBytes?: number;
  /** Documents read at once (S3 round trips overlap); default 8. */
  concurrency?: number;
}

export interface SharedReindexReport extends RebuildReport {
  /** Rows whose document is gone, removed. */
  rowsWithoutBlob: number;
  /** Rows rewritten because their fields differed from their document's. */
  rewritten: number;
}

/** The fields a row takes from its document, equal whatever the key order of `tags`. */
function sameFields(a: ProfileRow, b: IndexRowInput): boolean {
  for (const key of Object.keys(b) as (keyof IndexRowInput)[]) {
    const x = a[key] ?? null;
    const y = b[key] ?? null;
    if (key === 'tags') {
      const ta = Object.entries(x as Record<string, string>).sort();
      const tb = Object.entries(y as Record<string, string>).sort();
      if (JSON.stringify(ta) !== JSON.stringify(tb)) return false;
    } else if (JSON.stringify(x) !== JSON.stringify(y)) return false;
  }
  return true;
}

export interface SweepReport {
  /** Interrupted multipart uploads aborted. */
  incomplete: number;
  /** Blobs older than the grace period without an index row (an upload that failed between blob and row). */
  orphans: number;
  /** Summaries whose document is gone. */
  orphanSummaries: number;
  /** Raw uploads under `incoming/` that no upload job owns. */
  incoming: number;
}

/** How long a blob without a row is left alone: another instance may be between its blob and its row. */
export const DEFAULT_GRACE_MS = 10 * 60_000;

/**
 * A store several servers share (PostgreSQL index, S3 bucket). The write order of
 * `CompositeProfileStore` holds (blob, then row; row, then blob), so a failure between the two
 * leaves only a blob without a row, which `sweep` removes once older than the grace period.
 * Retention and sweeps run on one instance at a time (PostgreSQL advisory locks).
 */
export class SharedProfileStore extends CompositeProfileStore {
  /**
   * Uploads acknowledged before conversion, kept in the index and the bucket so that any instance
   * converts them when the one that took them dies; null unless both are shared (PostgreSQL and S3).
   */
  readonly uploads: SharedUploads | null;

  constructor(
    blobs: BlobStore & Pingable,
    index: ProfileIndex & Pingable & Lockable,
    readonly graceMs = DEFAULT_GRACE_MS,
    options: { uploadLeaseMs?: number } = {},
  ) {
    super(blobs, index);
    this.uploads =
      index instanceof PostgresProfileIndex && blobs instanceof S3BlobStore
        ? new SharedUploads(index, blobs, options.uploadLeaseMs)
        : null;
  }

  /** Resolves when both the index and the blob store answer; rejects with the first failure. */
  async ready(): Promise<void> {
    await Promise.all([(this.index as Pingable).ping?.(), (this.blobs as Pingable).ping?.()]);
  }

  private exclusive<T>(key: keyof typeof LOCKS, fn: () => Promise<T>) {
    const index = this.index as Lockable;
    return index.exclusive ? index.exclusive(key, fn) : fn().then((value) => ({ ran: true as const, value }));
  }

  /** Removes what failed uploads left, older than the grace period; null when another instance is sweeping. */
  async sweep(options: { graceMs?: number; now?: number } = {}): Promise<SweepReport | null> {
    const result = await this.exclusive('sweep', async () => {
      const bound = { modifiedBefore: (options.now ?? Date.now()) - (options.graceMs ?? this.graceMs) };
      const incomplete = await this.blobs.removeIncomplete(bound);
      // Summaries before blobs: a summary is written after its document, so one listed here whose
      // document is not in the next listing has really lost it.
      const summaries = await this.blobs.listSummaries();
      const orphanSummaries = summaries.length
        ? await this.removeOrphanSummaries(summaries, new Set(await this.blobs.list()))
        : 0;
      const incoming = (await this.uploads?.sweep(bound.modifiedBefore)) ?? 0;
      // Blobs first, rows after: a row committed after the listing is still seen.
      const old = await this.blobs.list(bound);
      if (!old.length) return { incomplete, orphans: 0, orphanSummaries, incoming };
      const rows = new Set(await this.index.ids());
      const orphans = old.filter((id) => !rows.has(id));
      for (const id of orphans) {
        await this.blobs.deleteSummary(id);
        await this.blobs.delete(id);
      }
      return { incomplete, orphans: orphans.length, orphanSummaries, incoming };
    });
    return result.ran ? result.value : null;
  }

  /**
   * Rebuilds every row from its document, like `rebuildIndex` does for the directory, while other
   * instances keep serving: a row is only ever inserted, replaced in one transaction or removed, never
   * absent in between. Rows keep their upload time; documents without a row get one (an upload racing
   * this keeps its own row: `put` replaces a row a reindex inserted first); unreadable documents go to
   * quarantine with their row; rows whose document is gone (listed before the documents, checked again
   * at the end) are removed. It holds the sweep's lock, so no sweep takes a document whose row is
   * missing for an orphan meanwhile; null when another instance holds it (sweeping or reindexing).
   */
  async reindex(options: SharedReindexOptions = {}): Promise<SharedReindexReport | null> {
    const log = options.log ?? silentLog;
    const result = await this.exclusive('sweep', async () => {
      const report: SharedReindexReport = {
        indexed: 0,
        quarantined: 0,
        uploadTimesKept: 0,
        rowsWithoutBlob: 0,
        rewritten: 0,
      };
      // Rows before blobs: a put writes its blob first, so a listed row whose blob is not listed after is gone.
      const rowIds = await this.index.ids();
      const ids = await this.blobs.list();
      options.onProgress?.(0, ids.length);
      let next = 0;
      let done = 0;
      const one = async (id: string) => {
        let row: IndexRowInput | null;
        try {
          row = await rowFromBlob(this.blobs, id, options.maxInflatedBytes ?? STORED_MAX_INFLATED_BYTES);
        } catch (error) {
          if (!(error instanceof UnreadableBlobError)) throw error;
          await this.index.remove([id]);
          await this.blobs.quarantine(id, error.message);
          log.warn({ id, reason: error.message }, 'unreadable profile moved to quarantine');
          report.quarantined++;
          return;
        }
        if (!row) return; // deleted meanwhile
        const before = await this.index.get(id);
        if (before) {
          row.uploadedAt = before.uploadedAt;
          report.uploadTimesKept++;
          if (!sameFields(before, row)) {
            const replace = (this.index as Replaceable).replace;
            if (replace) await replace.call(this.index, row);
            else if (await this.index.remove([id])) await this.index.insert(row);
            report.rewritten++;
          }
        } else {
          try {
            await this.index.insert(row);
          } catch (error) {
            if (!(await this.index.get(id))) throw error; // else its own upload indexed it meanwhile
          }
        }
        // A delete racing this removes the row, then the blob: a row inserted after it has no blob.
        if (!(await this.blobs.stat(id))) {
          await this.index.remove([id]);
          return;
        }
        report.indexed++;
      };
      const worker = async () => {
        while (next < ids.length) {
          await one(ids[next++]);
          options.onProgress?.(++done, ids.length);
        }
      };
      await Promise.all(Array.from({ length: Math.max(1, options.concurrency ?? 8) }, worker));
      const listed = new Set(ids);
      for (const id of rowIds) {
        if (listed.has(id) || (await this.blobs.stat(id))) continue;
        report.rowsWithoutBlob += await this.index.remove([id]);
      }
      if (report.rowsWithoutBlob)
        log.warn({ rowsWithoutBlob: report.rowsWithoutBlob }, 'removed index rows whose document is gone');
      return report;
    });
    return result.ran ? result.value : null;
  }

  /** Prunes on one instance at a time; the others find nothing to do (an empty result). */
  override async prune(options: PruneOptions): Promise<PruneResult> {
    const result = await this.exclusive('retention', () => super.prune(options));
    return result.ran ? result.value : { deleted: [], freedBytes: 0 };
  }

  override async close(): Promise<void> {
    await super.close();
    await (this.blobs as { close?(): Promise<void> }).close?.();
  }
}

export interface OpenSharedStoreOptions {
  /** Where the embedded store's start-up repair reports what it re-indexed or quarantined. */
  log?: StoreLog;
  /** Data directory for what is not shared (default `./prof-data`). */
  dir?: string;
  /** `postgres://...` for a shared index; absent: SQLite in `dir`. */
  index?: string;
  /** `s3://bucket/prefix?endpoint=...` for shared blobs; absent: files in `dir`. */
  blobs?: string;
  graceMs?: number;
  /** Lease of an upload job held by an instance (`SharedUploads`); default 30 s. */
  uploadLeaseMs?: number;
  /** Sweep at open (default true); `reindex` opens without, so rows it is about to restore keep their documents. */
  sweep?: boolean;
}

/**
 * The store a server runs on: the embedded one (SQLite + directory, repaired at start) when neither
 * `index` nor `blobs` is given, a `SharedProfileStore` otherwise (swept at start, with the grace period).
 */
export async function openConfiguredStore(options: OpenSharedStoreOptions): Promise<CompositeProfileStore> {
  if (!options.index && !options.blobs) return openStore({ dir: options.dir, log: options.log });
  const dir = resolve(options.dir ?? './prof-data');
  if (!options.index || !options.blobs) await mkdir(dir, { recursive: true });
  const blobs = options.blobs ? S3BlobStore.fromUrl(options.blobs) : await FileBlobStore.open(join(dir, 'profiles'));
  let index: ProfileIndex;
  try {
    index = options.index
      ? await PostgresProfileIndex.open(options.index)
      : new SqliteProfileIndex(join(dir, 'index.sqlite'));
  } catch (error) {
    await (blobs as { close?(): Promise<void> }).close?.();
    throw error;
  }
  const store = new SharedProfileStore(blobs, index, options.graceMs, { uploadLeaseMs: options.uploadLeaseMs });
  try {
    await store.ready();
    if (options.sweep !== false) await store.sweep();
  } catch (error) {
    await store.close();
    throw error;
  }
  return store;
}
