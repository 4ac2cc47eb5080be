import { LRUCache } from 'lru-cache';
import { gunzipDocument, documentDuration, type ProfileDocument } from '@prof/format/node';
import { functionKeys, keyedStacks, ProfileColumns, type KeyedStacks } from '@prof/binning';
import { HttpError } from './http-error';
import type { BytesCache } from './bytes-cache';

/**
 * A decoded document plus what the decoding endpoints derive from it once (@prof/binning's
 * `ProfileColumns`: thread rows, memory summaries, growth, folded runs), measured for the cache.
 */
export class DecodedProfile extends ProfileColumns {
  readonly durationMs: number;
  private keyed: KeyedStacks | null = null;
  private keyedBytes = 0;
  private readonly documentBytes: number;

  /** `durationMs` when the caller already summarised the document (an upload), saving a pass. */
  constructor(
    readonly doc: ProfileDocument,
    durationMs?: number,
  ) {
    super({ stacks: doc.stacks, samples: doc.samples, threads: doc.threads.length });
    this.durationMs = durationMs ?? documentDuration(doc);
    this.documentBytes = documentBytes(doc);
  }

  /** Bytes held, for the cache's bound; grows as summaries are added. */
  get bytes(): number {
    return this.documentBytes + this.derivedBytes + this.keyedBytes;
  }

  /**
   * The stack tree with frames merged by function identity (name, file, first line): how a
   * comparison matches this profile's functions with another's.
   */
  functionStacks(): KeyedStacks {
    if (!this.keyed) {
      this.keyed = keyedStacks(this.doc.stacks, functionKeys(this.doc.frames, this.doc.strings));
      this.keyedBytes += this.keyed.stacks.parent.byteLength * 2 + this.keyed.frameOf.byteLength;
      for (const key of this.keyed.keys) this.keyedBytes += 40 + key.length * 2;
    }
    return this.keyed;
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
 * single decode (lru-cache's `fetch`). Summaries added later are accounted for by re-inserting the entry.
 */
export class DecodedCache {
  private readonly lru: LRUCache<string, DecodedProfile>;
  private hits = 0;
  private misses = 0;

  constructor(
    /** The stored bytes the documents are decoded from (also what the document route serves). */
    readonly bytes: BytesCache,
    maxBytes: number,
    private readonly maxInflatedBytes: number,
  ) {
    this.lru = new LRUCache<string, DecodedProfile>({
      maxSize: maxBytes,
      sizeCalculation: (value) => Math.max(1, Math.min(value.bytes, maxBytes)),
      // Shared by concurrent requests for one cold id; a throw (404, stored-corrupt) is not kept.
      fetchMethod: (id) => this.load(id),
      // A decode overtaken by forget() or remember() still answers its callers; it is just not kept.
      ignoreFetchAbort: true,
    });
  }

  async get(id: string): Promise<DecodedProfile> {
    const status: LRUCache.Status<string, DecodedProfile> = {};
    const decoded = this.lru.fetch(id, { status });
    if (status.fetch === 'hit') this.hits++;
    else this.misses++;
    return (await decoded) as DecodedProfile; // load() throws rather than answering undefined
  }

  private async load(id: string): Promise<DecodedProfile> {
    const bytes = await this.bytes.get(id);
    if (!bytes) throw new HttpError(404, 'not-found', `no profile with id ${id}`);
    return new DecodedProfile(await gunzipDocument(bytes, { maxInflatedBytes: this.maxInflatedBytes }));
  }

  /** Puts a document decoded elsewhere (a fresh upload) and its stored bytes, so its first view is warm. */
  remember(id: string, doc: ProfileDocument, bytes: Buffer, durationMs: number): void {
    this.lru.set(id, new DecodedProfile(doc, durationMs));
    this.bytes.remember(id, bytes);
  }

  /** Re-measures an entry whose size grew (and evicts others if it no longer fits). */
  touch(id: string, decoded: DecodedProfile): void {
    if (this.lru.peek(id) !== decoded) return;
    // lru-cache keeps the old size when the same object is set again: take it out first.
    this.lru.delete(id);
    this.lru.set(id, decoded);
  }

  forget(id: string): void {
    this.lru.delete(id);
    this.bytes.forget(id);
  }

  /** Hits and misses of both caches (for /metrics). */
  stats() {
    return {
      bytes: { hits: this.bytes.hits, misses: this.bytes.misses },
      decoded: { hits: this.hits, misses: this.misses },
    };
  }

  get size(): { entries: number; bytes: number } {
    return { entries: this.lru.size, bytes: this.lru.calculatedSize };
  }
}
