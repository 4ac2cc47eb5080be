import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type {
  BlobStore,
  ProfileFields,
  ProfileIndex,
  ProfileRow,
  ProfileStore,
  PruneOptions,
  PruneResult,
  PutOptions,
  SearchQuery,
  SummaryParts,
  SummaryReader,
} from './types';
import { FileBlobStore } from './file-blob-store';
import { InvalidIdError, isProfileId, newProfileId } from './ids';
import { openIndexOrReplace, rowFromBlob, silentLog, UnreadableBlobError, type StoreLog } from './reindex';
import { SpaceReserve } from './reserve';

export interface OpenStoreOptions {
  /**
   * Data directory; default `./prof-data`. Holds `profiles/<id>.msgpack.gz`, `index.sqlite` and
   * `quarantine/` (unreadable documents moved aside).
   */
  dir?: string;
  /** Where repair reports what it re-indexed, quarantined or replaced. Default: nowhere. */
  log?: StoreLog;
  /** Largest inflated document repair reads. Default `STORED_MAX_INFLATED_BYTES` (2 GiB). */
  maxInflatedBytes?: number;
}

export interface RepairReport {
  /** Temp files of interrupted writes removed. */
  tempFiles: number;
  /** Documents without an index row (crash between file and row, lost or stale index) indexed again. */
  reindexed: number;
  /** Documents without an index row that could not be read: moved to quarantine, not deleted. */
  quarantined: number;
  /** Index rows whose file is gone removed. */
  rowsWithoutFile: number;
  /** Summaries whose document is gone removed. */
  orphanSummaries: number;
}

const isDiskFull = (error: unknown) => {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'ENOSPC' || code === 'EDQUOT' || code === 'SQLITE_FULL';
};

export class DuplicateIdError extends Error {
  override readonly name = 'DuplicateIdError';
  readonly code = 'duplicate-id';
  constructor(id: string) {
    super(`a profile with id ${id} already exists`);
  }
}

/**
 * A `ProfileStore` over any blob store and index. The documents are the truth and the index a cache
 * of them. The write order is the consistency rule: put = blob then row, delete = row then blob. So
 * a crash can only leave a blob without a row, which `repair` indexes again from the document;
 * readers never see a row whose bytes are missing.
 */
export class CompositeProfileStore implements ProfileStore {
  /** Ids being written right now, so two puts with one chosen id cannot overwrite each other. */
  private readonly writing = new Set<string>();
  lastRepair: RepairReport = { tempFiles: 0, reindexed: 0, quarantined: 0, rowsWithoutFile: 0, orphanSummaries: 0 };

  constructor(
    readonly blobs: BlobStore,
    readonly index: ProfileIndex,
    private readonly options: { log?: StoreLog; maxInflatedBytes?: number; reserve?: SpaceReserve } = {},
  ) {}

  /**
   * Makes the index match the documents: removes temp files of interrupted writes, indexes every
   * document that has no row (a crash between file and row, or an index lost, emptied or restored
   * without its WAL), moves documents that cannot be read to quarantine, and drops rows whose file is
   * gone. Nothing readable is ever deleted. One process owning the store (the embedded default)
   * repairs everything at start. With several instances over one data set, pass `graceMs`: a blob
   * younger than that may be another instance's upload between its blob and its row, so it is left.
   */
  async repair(options: { graceMs?: number } = {}): Promise<RepairReport> {
    const log = this.options.log ?? silentLog;
    const bound = options.graceMs ? { modifiedBefore: Date.now() - options.graceMs } : {};
    const tempFiles = await this.blobs.removeIncomplete(bound);
    // Rows before blobs: a put writes its blob before its row, so every row read here has its blob
    // in the listing that follows unless the blob is really gone.
    const rowIds = new Set(await this.index.ids());
    // Summaries before blobs, for the same reason: a summary is written after its document.
    const summaryIds = await this.blobs.listSummaries();
    const blobIds = new Set(await this.blobs.list());
    const oldBlobs = options.graceMs ? await this.blobs.list(bound) : [...blobIds];
    const orphans = oldBlobs.filter((id) => !rowIds.has(id));
    let reindexed = 0;
    let quarantined = 0;
    for (const id of orphans) {
      const outcome = await this.reindexOne(id, log);
      if (outcome === 'indexed') reindexed++;
      else if (outcome === 'quarantined') quarantined++;
    }
    if (reindexed > 0)
      log.warn({ reindexed, of: blobIds.size }, `re-indexed ${reindexed} profile(s) that had no index row`);
    const missing = [...rowIds].filter((id) => !blobIds.has(id));
    if (missing.length) {
      await this.index.remove(missing);
      log.warn({ rowsWithoutFile: missing.length }, `removed ${missing.length} index row(s) whose file is gone`);
    }
    const orphanSummaries = await this.removeOrphanSummaries(summaryIds, blobIds);
    this.lastRepair = { tempFiles, reindexed, quarantined, rowsWithoutFile: missing.length, orphanSummaries };
    return this.lastRepair;
  }

  /** Deletes the summaries (listed before `blobIds`) whose document is not there. */
  protected async removeOrphanSummaries(summaryIds: string[], blobIds: Set<string>): Promise<number> {
    const orphans = summaryIds.filter((id) => !blobIds.has(id));
    for (const id of orphans) await this.blobs.deleteSummary(id);
    return orphans.length;
  }

  private async reindexOne(id: string, log: StoreLog): Promise<'indexed' | 'quarantined' | 'skipped'> {
    let row: Awaited<ReturnType<typeof rowFromBlob>>;
    try {
      row = await rowFromBlob(this.blobs, id, this.options.maxInflatedBytes);
    } catch (error) {
      if (!(error instanceof UnreadableBlobError)) throw error; // an I/O failure is no proof of damage
      await this.blobs.quarantine(id, error.message);
      log.warn({ id, reason: error.message }, 'unreadable profile moved to quarantine');
      return 'quarantined';
    }
    if (!row) return 'skipped'; // deleted meanwhile
    try {
      await this.index.insert(row);
    } catch (error) {
      if (await this.index.get(id)) return 'skipped'; // its own upload indexed it meanwhile
      throw error;
    }
    return 'indexed';
  }

  async put(bytes: Uint8Array, fields: ProfileFields, options: PutOptions = {}): Promise<ProfileRow> {
    const id = options.id ?? newProfileId();
    if (!isProfileId(id)) throw new InvalidIdError(id);
    if (this.writing.has(id) || (await this.index.get(id))) throw new DuplicateIdError(id);
    this.writing.add(id);
    try {
      const row: ProfileRow = {
        ...fields,
        tags: { ...fields.tags },
        zone: fields.zone ?? null,
        id,
        sizeBytes: bytes.byteLength,
        uploadedAt: options.uploadedAt ?? Date.now(),
      };
      await this.blobs.put(id, bytes, { modifiedAt: row.uploadedAt });
      try {
        await this.index.insert(row);
      } catch (error) {
        if (await this.index.get(id).catch(() => null)) {
          // Another instance's repair indexed this blob from its document first: the upload's row wins.
          await this.index.remove([id]);
          await this.index.insert(row);
          return row;
        }
        await this.blobs.delete(id).catch(() => {});
        throw error;
      }
      return row;
    } finally {
      this.writing.delete(id);
    }
  }

  async get(id: string): Promise<ProfileRow | null> {
    return isProfileId(id) ? this.index.get(id) : null;
  }

  async getBytes(id: string): Promise<Buffer | null> {
    return isProfileId(id) ? this.blobs.get(id) : null;
  }

  search(query: SearchQuery = {}) {
    return this.index.search(query);
  }

  projects() {
    return this.index.projects();
  }

  async delete(id: string): Promise<boolean> {
    if (!isProfileId(id)) return false;
    let removed: number;
    try {
      removed = await this.index.remove([id]);
    } catch (error) {
      if (!isDiskFull(error) || !(await this.index.get(id))) throw error;
      // SQLite needs room in its WAL to delete: free the document's space and the reserve, then the
      // row. Until then the row has no bytes (404); repair drops such rows at the next start anyway.
      await this.blobs.delete(id);
      await this.options.reserve?.release();
      removed = await this.index.remove([id]);
      await this.options.reserve?.restore();
    }
    // The summary first: a crash between the two leaves a document without one (rebuilt when viewed).
    await this.blobs.deleteSummary(id);
    await this.blobs.delete(id);
    return removed > 0;
  }

  async prune(options: PruneOptions): Promise<PruneResult> {
    const now = options.now ?? Date.now();
    const candidates = await this.index.pruneCandidates({
      before: options.olderThanMs !== undefined ? now - options.olderThanMs : undefined,
      maxTotalBytes: options.maxTotalBytes,
    });
    const ids = candidates.map((c) => c.id);
    if (ids.length) await this.index.remove(ids);
    for (const id of ids) {
      await this.blobs.deleteSummary(id);
      await this.blobs.delete(id);
    }
    return { deleted: ids, freedBytes: candidates.reduce((sum, c) => sum + c.sizeBytes, 0) };
  }

  stats() {
    return this.index.stats();
  }

  async putSummary(id: string, parts: SummaryParts): Promise<void> {
    if (!isProfileId(id)) throw new InvalidIdError(id);
    await this.blobs.putSummary(id, parts);
  }

  async openSummary(id: string): Promise<SummaryReader | null> {
    return isProfileId(id) ? this.blobs.openSummary(id) : null;
  }

  quarantined() {
    return this.blobs.quarantined();
  }

  async close(): Promise<void> {
    await this.index.close();
  }
}

/**
 * Opens (creating if needed) the embedded store and repairs what a crash may have left: an index
 * that is missing, empty, stale or unreadable is filled again from the documents.
 */
export async function openStore(options: OpenStoreOptions = {}): Promise<CompositeProfileStore> {
  const dir = resolve(options.dir ?? './prof-data');
  const log = options.log ?? silentLog;
  await mkdir(dir, { recursive: true });
  const blobs = await FileBlobStore.open(join(dir, 'profiles'), { quarantineDir: join(dir, 'quarantine') });
  const index = await openIndexOrReplace(join(dir, 'index.sqlite'), log);
  const reserve = new SpaceReserve(join(dir, '.space-reserve'));
  await reserve.restore();
  const store = new CompositeProfileStore(blobs, index, { log, maxInflatedBytes: options.maxInflatedBytes, reserve });
  await store.repair();
  return store;
}
