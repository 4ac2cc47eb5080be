import type { FastifyInstance } from 'fastify';
import { Health } from '@prof/api';
import { responses } from './contract';
import type { ProfileStore } from '@prof/store';
import { freeSpace } from './disk';
import type { AppContext } from './context';

/** How old the disk and quarantine readings of `/health` may be before a call refreshes them. */
const MAX_AGE_MS = 1000;

/**
 * What `/health` reports that costs I/O: the data disk's free space (statfs) and the quarantined
 * documents (a directory listing, or a bucket listing with S3). Read in the background, at most once
 * per `maxAgeMs`, never while a request waits: under a flood of uploads those calls queued in libuv's
 * thread pool behind every upload's fsyncs, and `/health` took 230-844 ms for them.
 */
export class HealthProbe {
  private disk: { freeBytes: number | null; low: boolean } = { freeBytes: null, low: false };
  private quarantined: number | null = null;
  private readAt = 0;
  private reading: Promise<void> | null = null;
  /** A write found the disk full: the next answer waits for a fresh reading instead of saying ok. */
  private stale = true;

  constructor(
    private readonly dataDir: string,
    private readonly store: ProfileStore,
    private readonly maxAgeMs = MAX_AGE_MS,
  ) {}

  /** One reading at a time; callers share it. */
  refresh(): Promise<void> {
    this.reading ??= (async () => {
      this.stale = false;
      const [disk, quarantined] = await Promise.all([
        freeSpace(this.dataDir),
        this.store.quarantined().catch(() => null), // a down shared store leaves it unknown
      ]);
      this.disk = disk;
      this.quarantined = quarantined;
      this.readAt = Date.now();
    })().finally(() => (this.reading = null));
    return this.reading;
  }

  /** The disk filled (a write answered 507): the next `/health` reads the disk again before it answers. */
  invalidate(): void {
    this.stale = true;
  }

  async current(): Promise<{ disk: { freeBytes: number | null; low: boolean }; quarantined: number | null }> {
    if (this.stale) await this.refresh();
    else if (Date.now() - this.readAt >= this.maxAgeMs) void this.refresh();
    return { disk: this.disk, quarantined: this.quarantined };
  }
}

/** `/health`, liveness: answered from memory (and the index's kept counts), so it stays fast whatever the load. */
export function registerHealth(app: FastifyInstance, ctx: AppContext, probe: HealthProbe): void {
  app.addHook('onResponse', async (_request, reply) => {
    if (reply.statusCode === 507) probe.invalidate();
  });

  app.get('/health', { schema: { response: responses(Health) } }, async () => {
    // Liveness: a down shared index leaves the counts unknown, never the answer. On a shared store both
    // counts are queries: sent together, one round trip of waiting instead of two.
    const [{ disk, quarantined }, stats, failedUploads] = await Promise.all([
      probe.current(),
      ctx.store.stats().catch(() => null),
      ctx.uploads.failedCount().catch(() => null),
    ]);
    return {
      // degraded: the data directory's disk is (nearly) full, so uploads will get 507 storage-full
      status: disk.low ? 'degraded' : 'ok',
      freeBytes: disk.freeBytes,
      profiles: stats?.count ?? null,
      storedBytes: stats?.totalBytes ?? null,
      cache: ctx.cache.size,
      // opened summaries containers (what /memory and /stacks read), builds done and failed
      summaries: ctx.summaries.stats(),
      // unreadable documents moved to <data>/quarantine/ by start-up repair (never deleted)
      quarantined,
      // uploads whose conversion failed: raw bodies kept in <data>/incoming/ (a shared store: the bucket's
      // incoming/, counted in upload_jobs; null while the index is down) until DELETE /api/profiles/<id>
      failedUploads,
    };
  });
}
