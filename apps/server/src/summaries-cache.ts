import { createReadStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { LRUCache } from 'lru-cache';
import { openSummaries, PageCache, type Summaries } from '@prof/binning';
import type { ProfileStore, SummaryReader } from '@prof/store';
import { SUMMARY_VERSION } from './summarize';
import { movable, type WorkPool } from './work-pool';

interface Entry {
  summaries: Summaries;
  reader: SummaryReader;
}

interface Log {
  warn(object: object, message: string): void;
}

export interface SummariesCacheOptions {
  /** Largest inflated document a build decodes. */
  maxInflatedBytes: number;
  /** Folder for a build's scratch files (its sample columns and the container before it is stored). */
  scratchDir: string;
  /**
   * Checks the stored document before its summary answers for it: false when the profile is gone,
   * throws when the document is damaged (the views must say so, as when they decoded it).
   */
  checkDocument(id: string): Promise<boolean>;
  /** Open containers kept (each holds a file handle and its table of contents). Default 64. */
  maxOpen?: number;
  /** Bytes of container pages kept, all profiles together. Default 32 MiB. */
  pageCacheBytes?: number;
}

/**
 * The profiles' summaries containers (@prof/binning `openSummaries`), opened on demand and kept in an
 * LRU of open handles; their pages share one bounded cache. A profile stored without one (before
 * summaries existed, or a build that failed) gets it built on the worker pool at its first query.
 * Memory held does not grow with a profile's length: a handle is its table of contents and a few
 * small index arrays; the pages are bounded all together.
 */
export class SummariesCache {
  private readonly lru: LRUCache<string, Entry>;
  private readonly opening = new Map<string, Promise<Entry | null>>();
  private readonly building = new Map<string, Promise<boolean>>();
  readonly pages: PageCache;
  private readonly gaveUp = new Set<string>();
  private built = 0;
  private rebuilt = 0;
  private failed = 0;

  constructor(
    private readonly store: ProfileStore,
    private readonly pool: WorkPool,
    private readonly log: Log,
    private readonly options: SummariesCacheOptions,
  ) {
    this.pages = new PageCache(options.pageCacheBytes ?? 32 * 1024 ** 2);
    this.lru = new LRUCache<string, Entry>({
      max: options.maxOpen ?? 64,
      dispose: (entry) => void entry.reader.close().catch(() => {}),
    });
  }

  /**
   * The profile's opened summaries, or null when it has none and none can be built (no such profile,
   * or a build that failed): the caller then answers from the document as before.
   */
  async get(id: string): Promise<Summaries | null> {
    const hit = this.lru.get(id);
    if (hit) return hit.summaries;
    let pending = this.opening.get(id);
    if (!pending) {
      pending = this.load(id).finally(() => this.opening.delete(id));
      this.opening.set(id, pending);
    }
    return (await pending)?.summaries ?? null;
  }

  private async load(id: string): Promise<Entry | null> {
    if (!(await this.options.checkDocument(id))) return null;
    // A build that failed is not tried again by every query (the views answer from the document).
    if (this.gaveUp.has(id)) return null;
    const found = await this.open(id);
    if (typeof found !== 'string') return found;
    // None yet (stored before summaries), or an outdated or unreadable one: built afresh, once.
    if (!(await this.build(id))) return null;
    if (found === 'stale') this.rebuilt++;
    const again = await this.open(id);
    if (typeof again !== 'string') return again;
    this.failed++;
    this.log.warn({ id }, 'summary unusable after a rebuild: answering from the document');
    return null;
  }

  private async open(id: string): Promise<Entry | 'missing' | 'stale'> {
    const reader = await this.store.openSummary(id);
    if (!reader) return 'missing';
    try {
      const summaries = await openSummaries(reader, { cache: this.pages });
      if (summaries.meta.summaryVersion !== SUMMARY_VERSION) {
        await reader.close().catch(() => {});
        return 'stale';
      }
      const entry = { summaries, reader };
      this.lru.set(id, entry);
      return entry;
    } catch (error) {
      await reader.close().catch(() => {});
      this.log.warn({ id, err: error }, 'unreadable summary: rebuilding it');
      return 'stale';
    }
  }

  /**
   * Builds and stores the summary of a stored profile (decoded on the worker pool); concurrent calls
   * share one build. True when the summary is stored.
   */
  build(id: string): Promise<boolean> {
    let pending = this.building.get(id);
    if (!pending) {
      pending = this.buildNow(id).finally(() => this.building.delete(id));
      this.building.set(id, pending);
    }
    return pending;
  }

  private async buildNow(id: string): Promise<boolean> {
    try {
      const bytes = await this.store.getBytes(id);
      if (!bytes) return false;
      await mkdir(this.options.scratchDir, { recursive: true });
      const built = await this.pool.run(
        'buildSummary',
        { bytes, maxInflatedBytes: this.options.maxInflatedBytes, scratchDir: this.options.scratchDir },
        // A read never waits behind a full upload queue for its own summary, nor makes it busy.
        { transfer: movable(bytes), always: true },
      );
      try {
        // Deleted while it was built: no summary without its document.
        if (!(await this.store.get(id))) return false;
        await this.store.putSummary(id, { size: built.bytes, open: () => fileStream(built.path) });
      } finally {
        await rm(built.path, { force: true });
      }
      this.built++;
      return true;
    } catch (error) {
      this.failed++;
      this.gaveUp.add(id);
      this.log.warn({ id, err: error }, 'summary build failed: answering from the document');
      return false;
    }
  }

  /** A profile just stored: its summary is built in the background, so its first view finds it. */
  stored(id: string): void {
    void this.build(id);
  }

  forget(id: string): void {
    this.lru.delete(id);
    this.gaveUp.delete(id);
  }

  /** Waits for the builds under way (before the pool and the store close). */
  async idle(): Promise<void> {
    while (this.building.size) await Promise.allSettled([...this.building.values()]);
  }

  async close(): Promise<void> {
    await this.idle();
    this.lru.clear();
  }

  /** For /health. */
  stats() {
    return {
      open: this.lru.size,
      building: this.building.size,
      built: this.built,
      rebuilt: this.rebuilt,
      failed: this.failed,
      pageCacheBytes: this.pages.bytes,
    };
  }
}

async function* fileStream(path: string): AsyncGenerator<Uint8Array> {
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) yield chunk as Buffer;
}
