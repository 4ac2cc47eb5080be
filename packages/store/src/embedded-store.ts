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
} from './types';
import { FileBlobStore } from './file-blob-store';
import { SqliteProfileIndex } from './sqlite-index';
import { InvalidIdError, isProfileId, newProfileId } from './ids';

export interface OpenStoreOptions {
  /** Data directory; default `./prof-data`. Holds `profiles/<id>.msgpack.gz` and `index.sqlite`. */
  dir?: string;
}

export interface RepairReport {
  /** Temp files of interrupted writes removed. */
  tempFiles: number;
  /** Files without an index row (crash between file and row) removed. */
  orphanFiles: number;
  /** Index rows whose file is gone removed. */
  rowsWithoutFile: number;
}

export class DuplicateIdError extends Error {
  override readonly name = 'DuplicateIdError';
  readonly code = 'duplicate-id';
  constructor(id: string) {
    super(`a profile with id ${id} already exists`);
  }
}

/**
 * A `ProfileStore` over any blob store and index. The write order is the consistency rule:
 * put = blob then row, delete = row then blob. So a crash can only leave a blob without a row,
 * which `repair` removes; readers never see a row whose bytes are missing.
 */
export class CompositeProfileStore implements ProfileStore {
  /** Ids being written right now, so two puts with one chosen id cannot overwrite each other. */
  private readonly writing = new Set<string>();
  lastRepair: RepairReport = { tempFiles: 0, orphanFiles: 0, rowsWithoutFile: 0 };

  constructor(
    readonly blobs: BlobStore,
    readonly index: ProfileIndex,
  ) {}

  /**
   * Removes what an interrupted write left. One process owning the store (the embedded default)
   * repairs everything at start. With several instances over one data set, pass `graceMs`: a blob
   * younger than that may be another instance's upload between its blob and its row, so it is left.
   */
  async repair(options: { graceMs?: number } = {}): Promise<RepairReport> {
    const bound = options.graceMs ? { modifiedBefore: Date.now() - options.graceMs } : {};
    const tempFiles = await this.blobs.removeIncomplete(bound);
    // Rows before blobs: a put writes its blob before its row, so every row read here has its blob
    // in the listing that follows unless the blob is really gone.
    const rowIds = new Set(await this.index.ids());
    const blobIds = new Set(await this.blobs.list());
    const oldBlobs = options.graceMs ? await this.blobs.list(bound) : [...blobIds];
    const orphans = oldBlobs.filter((id) => !rowIds.has(id));
    for (const id of orphans) await this.blobs.delete(id);
    const missing = [...rowIds].filter((id) => !blobIds.has(id));
    if (missing.length) await this.index.remove(missing);
    this.lastRepair = { tempFiles, orphanFiles: orphans.length, rowsWithoutFile: missing.length };
    return this.lastRepair;
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
      await this.blobs.put(id, bytes);
      try {
        await this.index.insert(row);
      } catch (error) {
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
    const removed = await this.index.remove([id]);
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
    for (const id of ids) await this.blobs.delete(id);
    return { deleted: ids, freedBytes: candidates.reduce((sum, c) => sum + c.sizeBytes, 0) };
  }

  stats() {
    return this.index.stats();
  }

  async close(): Promise<void> {
    await this.index.close();
  }
}

/** Opens (creating if needed) the embedded store and repairs what a crash may have left. */
export async function openStore(options: OpenStoreOptions = {}): Promise<CompositeProfileStore> {
  const dir = resolve(options.dir ?? './prof-data');
  await mkdir(dir, { recursive: true });
  const blobs = await FileBlobStore.open(join(dir, 'profiles'));
  const index = new SqliteProfileIndex(join(dir, 'index.sqlite'));
  const store = new CompositeProfileStore(blobs, index);
  await store.repair();
  return store;
}
