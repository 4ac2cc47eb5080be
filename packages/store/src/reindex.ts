import { existsSync } from 'node:fs';
import { mkdir, rename, unlink } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { gunzipDocument } from '@prof/format/node';
import { fsyncDirectory } from './atomic-file';
import { FileBlobStore } from './file-blob-store';
import { fieldsFromDocument } from './from-document';
import { SqliteProfileIndex } from './sqlite-index';
import type { BlobStore, IndexRowInput } from './types';

/** Where the store reports what repair did (pino's `(fields, message)` shape, so a Fastify logger fits). */
export interface StoreLog {
  warn(fields: Record<string, unknown>, message: string): void;
}

export const silentLog: StoreLog = { warn() {} };

/**
 * Largest inflated document repair reads: the largest upload servers ever accepted (2 GiB), so no
 * document that was once stored is called unreadable for its size.
 */
export const STORED_MAX_INFLATED_BYTES = 2 * 1024 ** 3;

/** A blob that is there but cannot be read as a valid document (it goes to quarantine, never away). */
export class UnreadableBlobError extends Error {
  override readonly name = 'UnreadableBlobError';
}

/**
 * The index row of a stored document, from the document alone: every field is in it (the server
 * writes the uploader's overrides into the document), the size is the file's and the upload time is
 * the file's modification time (set to the upload time when it was written). Null when the blob is gone.
 */
export async function rowFromBlob(
  blobs: BlobStore,
  id: string,
  maxInflatedBytes = STORED_MAX_INFLATED_BYTES,
): Promise<IndexRowInput | null> {
  const [bytes, info] = await Promise.all([blobs.get(id), blobs.stat(id)]);
  if (!bytes || !info) return null;
  try {
    const doc = await gunzipDocument(bytes, { maxInflatedBytes });
    return { ...fieldsFromDocument(doc), id, sizeBytes: bytes.byteLength, uploadedAt: info.modifiedAt };
  } catch (error) {
    throw new UnreadableBlobError((error as Error).message);
  }
}

const INDEX_FILE = 'index.sqlite';
const SQLITE_SIDE_FILES = ['-wal', '-shm'];

/**
 * Opens the index; a file SQLite cannot read (not a database, corrupt) is moved aside with its WAL
 * and a fresh index is made, which repair then fills from the documents.
 */
export async function openIndexOrReplace(file: string, log: StoreLog): Promise<SqliteProfileIndex> {
  try {
    return new SqliteProfileIndex(file);
  } catch (error) {
    const code = String((error as { code?: unknown }).code ?? '');
    if (!/^SQLITE_(NOTADB|CORRUPT)/.test(code)) throw error;
    const aside = `${file}.damaged-${Date.now()}`;
    for (const suffix of ['', ...SQLITE_SIDE_FILES]) {
      if (existsSync(file + suffix)) await rename(file + suffix, aside + suffix);
    }
    log.warn(
      { file, movedTo: aside, code },
      'the index could not be read; moved aside, rebuilding it from the documents',
    );
    return new SqliteProfileIndex(file);
  }
}

export interface RebuildOptions {
  /** Data directory; default `./prof-data`. */
  dir?: string;
  /** Called after each document, and once at the start with `done` 0. */
  onProgress?: (done: number, total: number) => void;
  maxInflatedBytes?: number;
  log?: StoreLog;
}

export interface RebuildReport {
  /** Documents indexed. */
  indexed: number;
  /** Unreadable documents moved to quarantine. */
  quarantined: number;
  /** Rows whose upload time came from the previous index rather than the file's modification time. */
  uploadTimesKept: number;
}

const BATCH = 200;

/**
 * Rebuilds the whole index from the documents into a new file, then puts it in place of the old one
 * (stop the server first). The previous index, when it still opens, only lends its upload times:
 * everything else comes from the documents.
 */
export async function rebuildIndex(options: RebuildOptions = {}): Promise<RebuildReport> {
  const dir = resolve(options.dir ?? './prof-data');
  const log = options.log ?? silentLog;
  await mkdir(dir, { recursive: true });
  const blobs = await FileBlobStore.open(join(dir, 'profiles'));
  const file = join(dir, INDEX_FILE);
  let previous: SqliteProfileIndex | null = null;
  try {
    if (existsSync(file)) previous = new SqliteProfileIndex(file);
  } catch {
    previous = null; // unreadable: the documents and their file times are all there is
  }
  const fresh = join(dir, `${INDEX_FILE}.rebuild`);
  for (const suffix of ['', ...SQLITE_SIDE_FILES]) await unlink(fresh + suffix).catch(() => {});
  const index = new SqliteProfileIndex(fresh);
  const report: RebuildReport = { indexed: 0, quarantined: 0, uploadTimesKept: 0 };
  try {
    const ids = await blobs.list();
    options.onProgress?.(0, ids.length);
    let batch: IndexRowInput[] = [];
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i];
      try {
        const row = await rowFromBlob(blobs, id, options.maxInflatedBytes);
        if (row) {
          const before = await previous?.get(id);
          if (before) {
            row.uploadedAt = before.uploadedAt;
            report.uploadTimesKept++;
          }
          batch.push(row);
        }
      } catch (error) {
        if (!(error instanceof UnreadableBlobError)) throw error;
        await blobs.quarantine(id, error.message);
        log.warn({ id, reason: error.message }, 'unreadable profile moved to quarantine');
        report.quarantined++;
      }
      if (batch.length >= BATCH) {
        index.insertMany(batch);
        report.indexed += batch.length;
        batch = [];
      }
      options.onProgress?.(i + 1, ids.length);
    }
    index.insertMany(batch);
    report.indexed += batch.length;
  } finally {
    await index.close();
    await previous?.close();
  }
  // The old WAL belongs to the old file: it must not be replayed into the new one.
  for (const suffix of SQLITE_SIDE_FILES) await unlink(file + suffix).catch(() => {});
  await rename(fresh, file);
  await fsyncDirectory(dir);
  return report;
}
