import { createReadStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { LRUCache } from 'lru-cache';
import { openSummaries, PageCache, type Summaries } from '@prof/binning';
import type { ProfileStore, SummaryReader } from '@prof/store';
import { SUMMARY_VERSION, type BuiltSummary } from './summarize';
import { HttpError } from './http-error';
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
  /**
   * Largest profile (samples) whose views are answered from its decoded document when its summary
   * cannot be built; a longer one gets 503 `summary-unavailable` instead. Default
   * `DEFAULT_FALLBACK_MAX_SAMPLES`.
   */
  fallbackMaxSamples?: number;
}

/**
 * Decoding a document costs about 25 bytes a sample and runs in the request (a 24-hour profile: 2.2 GB,
 * seconds of the event loop): only profiles up to this many samples (about 50 MB decoded) fall back to it.
 */
export const DEFAULT_FALLBACK_MAX_SAMPLES = 2_000_000;
/** Characters of serialized memory answers kept, all profiles together (a 1,500-bin answer: ~230,000). */
const ANSWER_CACHE_CHARS = 8 * 1024 * 1024;
/** A failed build is tried again by the first query this long after it failed. */
const RETRY_BUILD_MS = 60_000;

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
  /** Profiles whose build failed: when, and why (what a `summary-unavailable` answer says). */
  private readonly gaveUp = new Map<string, { at: number; reason: string }>();
  private built = 0;
  private rebuilt = 0;
  private failed = 0;
  /**
   * Memory answers already serialized, by container and query (`memoryAnswer`): the whole run is what
   * every visit of a profile asks first, and a zoom reset asks it again. A stored profile never
   * changes, and a rebuilt or reopened container is another instance, so an answer is never stale.
   */
  private readonly answers = new LRUCache<string, string>({
    maxSize: ANSWER_CACHE_CHARS,
    sizeCalculation: (json) => Math.max(1, json.length),
  });
  private answerHits = 0;
  private answerMisses = 0;

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
   * The profile's opened summaries, or null when there is no such profile, or when none can be built
   * and the profile is short enough to answer from its decoded document; a longer one throws 503
   * `summary-unavailable` (its build is tried again a minute after it failed).
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
    // A build that failed is not tried again by every query, only once a while has passed.
    const failed = this.gaveUp.get(id);
    if (failed && Date.now() - failed.at < RETRY_BUILD_MS) return this.unbuilt(id, failed);
    const found = await this.open(id);
    if (typeof found !== 'string') return found;
    // None yet (stored before summaries), or an outdated or unreadable one: built afresh, once.
    if (!(await this.build(id))) {
      const failure = this.gaveUp.get(id);
      return failure ? this.unbuilt(id, failure) : null; // else gone meanwhile
    }
    if (found === 'stale') this.rebuilt++;
    const again = await this.open(id);
    if (typeof again !== 'string') return again;
    this.gaveUpOn(id, new Error('the container built is unreadable'));
    return this.unbuilt(id, this.gaveUp.get(id)!);
  }

  /** No summary for `id`: null (answer from the document) for a short profile, else 503. */
  private async unbuilt(id: string, failure: { at: number; reason: string }): Promise<null> {
    const row = await this.store.get(id);
    const max = this.options.fallbackMaxSamples ?? DEFAULT_FALLBACK_MAX_SAMPLES;
    if (!row || row.sampleCount <= max) return null;
    const retryIn = Math.max(0, Math.ceil((failure.at + RETRY_BUILD_MS - Date.now()) / 1000));
    throw new HttpError(
      503,
      'summary-unavailable',
      `the summaries of profile ${id} could not be built (${failure.reason}); its ${row.sampleCount} samples are ` +
        `too many to decode for a view; the build is tried again ${retryIn ? `in ${retryIn} s` : 'at the next request'}`,
    );
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
    let built: BuiltSummary;
    try {
      const bytes = await this.store.getBytes(id);
      if (!bytes) return false;
      await mkdir(this.options.scratchDir, { recursive: true });
      built = await this.pool.run(
        'buildSummary',
        { bytes, maxInflatedBytes: this.options.maxInflatedBytes, scratchDir: this.options.scratchDir },
        // A read never waits behind a full upload queue for its own summary, nor makes it busy.
        { transfer: movable(bytes), always: true },
      );
    } catch (error) {
      this.gaveUpOn(id, error);
      return false;
    }
    return this.storeBuilt(id, built);
  }

  /** Stores a container built into a scratch file (moved into place where the store can), then removes the file. */
  private async storeBuilt(id: string, built: BuiltSummary): Promise<boolean> {
    try {
      // Deleted while it was built: no summary without its document.
      if (!(await this.store.get(id))) return false;
      await this.store.putSummary(id, { size: built.bytes, open: () => fileStream(built.path), path: built.path });
      this.built++;
      this.gaveUp.delete(id);
      return true;
    } catch (error) {
      this.gaveUpOn(id, error);
      return false;
    } finally {
      await rm(built.path, { force: true });
    }
  }

  private gaveUpOn(id: string, error: unknown): void {
    this.failed++;
    this.gaveUp.set(id, { at: Date.now(), reason: String((error as Error)?.message ?? error).slice(0, 300) });
    this.log.warn({ id, err: error }, 'summary build failed');
  }

  /** A profile just stored: its summary is built in the background, so its first view finds it. */
  stored(id: string): void {
    void this.build(id);
  }

  /**
   * A profile just stored whose container was built during its conversion (`built`, a scratch file
   * this cache now owns): stored as its summary, and queries for it wait for that instead of a build.
   */
  adopt(id: string, built: BuiltSummary): void {
    if (this.building.has(id)) {
      void rm(built.path, { force: true });
      return;
    }
    const pending = this.storeBuilt(id, built).finally(() => this.building.delete(id));
    this.building.set(id, pending);
  }

  /** Where builds write their scratch files (an upload's conversion builds its container there too). */
  get scratchDir(): string {
    return this.options.scratchDir;
  }

  /**
   * The serialized memory answer to `query` (its parameters as the route parsed them) on
   * `summaries`: the one kept, else the one `make` gives, then kept.
   */
  async memoryAnswer(summaries: Summaries, query: object, make: () => Promise<string>): Promise<string> {
    const key = `${summaries.id} ${JSON.stringify(query)}`;
    const kept = this.answers.get(key);
    if (kept !== undefined) {
      this.answerHits++;
      return kept;
    }
    this.answerMisses++;
    const json = await make();
    this.answers.set(key, json);
    return json;
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
      answers: { hits: this.answerHits, misses: this.answerMisses, chars: this.answers.calculatedSize },
    };
  }
}

async function* fileStream(path: string): AsyncGenerator<Uint8Array> {
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) yield chunk as Buffer;
}
