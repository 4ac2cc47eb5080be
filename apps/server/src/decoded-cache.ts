import { LRUCache } from 'lru-cache';
import { gunzipDocument, documentSummary, type ProfileDocument } from '@prof/format/node';
import { buildMemorySummary, threadIndices, type MemorySummary } from '@prof/binning';
import { HttpError } from './http-error';
import type { BytesCache } from './bytes-cache';

/** A decoded document plus what the decoding endpoints derive from it once. */
export class DecodedProfile {
  readonly durationMs: number;
  private readonly threadRows = new Map<number, Uint32Array>();
  private readonly memorySummaries = new Map<number, MemorySummary>();
  /** Bytes held, for the cache's bound; grows as summaries are added. */
  bytes: number;

  /** `durationMs` when the caller already summarised the document (an upload), saving a pass. */
  constructor(readonly doc: ProfileDocument, durationMs?: number) {
    this.durationMs = durationMs ?? documentSummary(doc).durationMs;
    this.bytes = documentBytes(doc);
  }

  /** Sample rows of one thread (all samples when `thread` is undefined). */
  rowsOf(thread: number | undefined): Uint32Array | undefined {
    if (thread === undefined) return undefined;
    if (!Number.isInteger(thread) || thread < 0 || thread >= this.doc.threads.length) {
      throw new HttpError(400, 'bad-thread', `thread must be a thread row from 0 to ${this.doc.threads.length - 1}, got ${thread}`);
    }
    let rows = this.threadRows.get(thread);
    if (!rows) {
      rows = threadIndices(this.doc.samples.thread, thread);
      this.threadRows.set(thread, rows);
      this.bytes += rows.byteLength;
    }
    return rows;
  }

  memorySummary(thread: number | undefined): MemorySummary {
    const memory = this.doc.samples.memory;
    if (!memory) throw new HttpError(409, 'no-memory', 'this profile has no memory samples');
    const key = thread ?? -1;
    let summary = this.memorySummaries.get(key);
    if (!summary) {
      summary = buildMemorySummary(this.doc.samples.time, memory, this.rowsOf(thread));
      this.memorySummaries.set(key, summary);
      this.bytes += summary.bytes;
    }
    return summary;
  }
}

function documentBytes(doc: ProfileDocument): number {
  let bytes = 0;
  for (const table of [doc.frames, doc.stacks, doc.samples] as unknown as Record<string, unknown>[]) {
    for (const column of Object.values(table)) if (ArrayBuffer.isView(column)) bytes += column.byteLength;
  }
  for (const s of doc.strings) bytes += 40 + s.length * 2;
  return bytes + 1024;
}

/**
 * Decoded documents in an LRU bounded by bytes. Concurrent requests for one cold profile share a
 * single decode. Summaries added later are accounted for by re-inserting the entry.
 */
export class DecodedCache {
  private readonly lru: LRUCache<string, DecodedProfile>;
  private readonly loading = new Map<string, Promise<DecodedProfile>>();

  constructor(
    /** The stored bytes the documents are decoded from (also what the document route serves). */
    readonly bytes: BytesCache,
    maxBytes: number,
    private readonly maxInflatedBytes: number,
  ) {
    this.lru = new LRUCache<string, DecodedProfile>({
      maxSize: maxBytes,
      sizeCalculation: (value) => Math.max(1, Math.min(value.bytes, maxBytes)),
    });
  }

  async get(id: string): Promise<DecodedProfile> {
    const hit = this.lru.get(id);
    if (hit) return hit;
    let pending = this.loading.get(id);
    if (!pending) {
      pending = this.load(id).finally(() => this.loading.delete(id));
      this.loading.set(id, pending);
    }
    return pending;
  }

  private async load(id: string): Promise<DecodedProfile> {
    const bytes = await this.bytes.get(id);
    if (!bytes) throw new HttpError(404, 'not-found', `no profile with id ${id}`);
    const decoded = new DecodedProfile(await gunzipDocument(bytes, { maxInflatedBytes: this.maxInflatedBytes }));
    this.lru.set(id, decoded);
    return decoded;
  }

  /** Puts a document decoded elsewhere (a fresh upload) and its stored bytes, so its first view is warm. */
  remember(id: string, doc: ProfileDocument, bytes: Buffer, durationMs: number): void {
    this.lru.set(id, new DecodedProfile(doc, durationMs));
    this.bytes.remember(id, bytes);
  }

  /** Re-inserts an entry whose size grew. */
  touch(id: string, decoded: DecodedProfile): void {
    if (this.lru.has(id)) this.lru.set(id, decoded);
  }

  forget(id: string): void {
    this.lru.delete(id);
    this.bytes.forget(id);
  }

  get size(): { entries: number; bytes: number } {
    return { entries: this.lru.size, bytes: this.lru.calculatedSize };
  }
}
