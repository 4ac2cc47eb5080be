import { mkdir, readdir, readFile, rm, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { FastifyBaseLogger } from 'fastify';
import {
  DuplicateIdError,
  TEMP_PREFIX,
  isProfileId,
  writeFileAtomic,
  isStoreUnavailable,
  type ProfileStore,
  type SharedUploads,
} from '@prof/store';
import type { IngestLimits, Overrides } from './ingest';
import type { WorkPool } from './work-pool';
import type { Converted } from './worker/tasks';
import type { BuiltSummary } from './summarize';

/** An upload accepted before conversion (vmprof runtime API, vmprof-viewer `/submit/`). */
export interface UploadJob {
  id: string;
  kind: 'profile' | 'vmprof-viewer';
  contentType: string | null;
  overrides: Overrides;
  receivedAt: number;
}

export type UploadStatus = { state: 'processing' } | { state: 'failed'; code: string; message: string };

/**
 * "Answer fast, convert after": the raw body is stored durably in `incoming/` before the client
 * gets its 200, then converted here one at a time. A conversion that fails keeps the raw upload and
 * its error (shown by the API); a crash before conversion resumes at the next start.
 *
 * With a shared store (`shared`: PostgreSQL + S3) the upload is also recorded there, leased to this
 * instance, before the 200; `incoming/` is then only this instance's working copy. Leases are renewed
 * while the instance lives; jobs whose lease ran out (their instance died) are claimed here and
 * converted from the bucket's copy.
 */
export class UploadQueue {
  private readonly pending: string[] = [];
  private readonly states = new Map<string, UploadStatus>();
  private running: Promise<void> | null = null;
  private timers: NodeJS.Timeout[] = [];
  private claiming: Promise<void> | null = null;
  private closed = false;
  /** Shared-store updates (done, failed) that did not go through, retried with each lease renewal. */
  private readonly unsettled = new Map<string, () => Promise<void>>();

  constructor(
    readonly dir: string,
    private readonly store: ProfileStore,
    private readonly pool: WorkPool,
    private readonly limits: IngestLimits,
    private readonly log: FastifyBaseLogger,
    /** Called with each profile stored, and its summaries container when the conversion built it (else it is then built). */
    private readonly onStored: (id: string, summary?: BuiltSummary) => void = () => {},
    private readonly shared: SharedUploads | null = null,
    /** Where a vmprof upload converted as a stream gets its summaries container built; none: built after. */
    private readonly summaryDir?: string,
  ) {}

  jobPath(id: string) {
    return join(this.dir, `${id}.job.json`);
  }
  bodyPath(id: string) {
    return join(this.dir, `${id}.body`);
  }
  private errorPath(id: string) {
    return join(this.dir, `${id}.error.json`);
  }

  /**
   * Cleans what a crash left (temp files, jobs whose body never arrived, bodies and errors without a
   * job, `<id>.direct` spools of uploads converted in the request) and resumes jobs.
   */
  async start(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    if (this.shared) return this.startShared(this.shared);
    const names = new Set(await readdir(this.dir));
    for (const name of names) {
      const owner = /^([a-z2-7]+)\.(?:body|error\.json)$/.exec(name)?.[1];
      const orphan = owner !== undefined && !names.has(`${owner}.job.json`);
      if (name.startsWith(TEMP_PREFIX) || name.endsWith('.direct') || orphan) {
        await unlink(join(this.dir, name)).catch(() => {});
        this.log.warn({ file: name }, 'removed an upload leftover no job owns');
      }
    }
    for (const name of names) {
      const m = /^([a-z2-7]+)\.job\.json$/.exec(name);
      if (!m || !isProfileId(m[1])) continue;
      const id = m[1];
      if (!names.has(`${id}.body`)) {
        await unlink(this.jobPath(id)).catch(() => {});
      } else if (names.has(`${id}.error.json`)) {
        const error = JSON.parse(await readFile(this.errorPath(id), 'utf8')) as { code: string; message: string };
        this.states.set(id, { state: 'failed', ...error });
      } else {
        this.enqueue(id);
      }
    }
  }

  /**
   * The jobs live in the shared store: what an earlier run left here is a working copy, dropped (its
   * jobs are claimed again, here or elsewhere, once their lease runs out).
   */
  private async startShared(shared: SharedUploads): Promise<void> {
    for (const name of await readdir(this.dir)) await unlink(join(this.dir, name)).catch(() => {});
    const every = (ms: number, fn: () => void) => {
      const timer = setInterval(fn, Math.max(50, ms));
      timer.unref();
      this.timers.push(timer);
    };
    every(shared.leaseMs / 3, () => void this.renew(shared));
    every(shared.leaseMs / 2, () => void this.claimExpired());
    void this.claimExpired();
  }

  private async renew(shared: SharedUploads): Promise<void> {
    try {
      await shared.renew();
      for (const [id, settle] of [...this.unsettled]) {
        await settle();
        this.unsettled.delete(id);
      }
    } catch (err) {
      this.log.warn({ err }, 'could not renew the leases of queued uploads');
    }
  }

  /** Records a done or failed job in the shared store, now or at a later renewal. */
  private async settle(id: string, settle: () => Promise<void>): Promise<void> {
    try {
      await settle();
    } catch (err) {
      this.log.warn({ id, err }, 'could not record an upload as done in the shared store; retrying');
      this.unsettled.set(id, settle);
    }
  }

  /** Takes over jobs of instances that stopped renewing their lease, while this one has nothing waiting. */
  private claimExpired(): Promise<void> {
    const shared = this.shared;
    if (!shared || this.closed || this.claiming) return this.claiming ?? Promise.resolve();
    this.claiming = (async () => {
      try {
        while (!this.closed && this.pending.length === 0) {
          const claimed = await shared.claim();
          if (!claimed) return;
          const { id } = claimed;
          try {
            if (!(await shared.fetchBody(id, this.bodyPath(id)))) {
              // The instance died between the job's row and its body: the upload was never acknowledged.
              await shared.finish(id);
              continue;
            }
            await this.writeJob(JSON.parse(claimed.job) as UploadJob);
          } catch (error) {
            await this.discardJob(id);
            await this.settle(id, () => shared.release(id));
            throw error;
          }
          this.log.warn({ id }, 'took over an upload whose instance stopped renewing its lease');
          this.enqueue(id);
        }
      } catch (err) {
        this.log.warn({ err }, 'could not take over uploads of other instances');
      } finally {
        this.claiming = null;
      }
    })();
    return this.claiming;
  }

  /**
   * Queues an upload whose job and body are written here; with a shared store, once recorded there
   * (false, nothing queued: that id has an upload already, on some instance).
   */
  async accept(job: UploadJob): Promise<boolean> {
    if (this.shared && !(await this.shared.add(job.id, JSON.stringify(job), job.receivedAt, this.bodyPath(job.id))))
      return false;
    this.enqueue(job.id);
    return true;
  }

  /** Records a job before its body is written (so a body never exists without its job). */
  async writeJob(job: UploadJob): Promise<void> {
    await writeFileAtomic(this.jobPath(job.id), Buffer.from(JSON.stringify(job)));
  }

  async discardJob(id: string): Promise<void> {
    await unlink(this.jobPath(id)).catch(() => {});
    await unlink(this.bodyPath(id)).catch(() => {});
  }

  /**
   * Uploads whose conversion failed; their raw bodies are kept until deleted. With a shared store, those
   * of every instance and of earlier runs (this one's states hold only the uploads it converted).
   */
  async failedCount(): Promise<number> {
    if (this.shared) return this.shared.failedCount();
    let n = 0;
    for (const state of this.states.values()) if (state.state === 'failed') n++;
    return n;
  }

  /** Removes a failed upload (job, raw body, error); false when `id` is no failed upload. */
  async discardFailed(id: string): Promise<boolean> {
    if (this.shared) {
      if (this.states.get(id)?.state === 'failed') this.states.delete(id);
      await this.discardJob(id);
      return this.shared.discardFailed(id);
    }
    if (this.states.get(id)?.state !== 'failed') return false;
    await this.discardJob(id);
    await unlink(this.errorPath(id)).catch(() => {});
    this.states.delete(id);
    return true;
  }

  /** Removes failed uploads received before `before` (epoch ms); returns how many. */
  async pruneFailed(before: number): Promise<number> {
    let removed = 0;
    if (this.shared) {
      for (const id of await this.shared.failedBefore(before)) if (await this.discardFailed(id)) removed++;
      return removed;
    }
    for (const [id, state] of [...this.states]) {
      if (state.state !== 'failed') continue;
      const job = await readFile(this.jobPath(id), 'utf8')
        .then((text) => JSON.parse(text) as UploadJob)
        .catch(() => null);
      if (job && job.receivedAt < before && (await this.discardFailed(id))) removed++;
    }
    return removed;
  }

  status(id: string): UploadStatus | undefined {
    return this.states.get(id);
  }

  /** What this instance knows of the upload, else what the shared store says (another instance has it). */
  async statusOf(id: string): Promise<UploadStatus | undefined> {
    return this.states.get(id) ?? (await this.shared?.status(id)) ?? undefined;
  }

  has(id: string): boolean {
    return this.states.has(id);
  }

  reserve(id: string): void {
    this.states.set(id, { state: 'processing' });
  }

  release(id: string): void {
    this.states.delete(id);
  }

  enqueue(id: string): void {
    this.states.set(id, { state: 'processing' });
    this.pending.push(id);
    if (!this.running) this.running = this.drain().finally(() => (this.running = null));
  }

  /** Resolves once every queued conversion has finished (for tests and shutdown). */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  /** Claims nothing more, finishes what is queued (its leases renewed meanwhile), then stops renewing. */
  async close(): Promise<void> {
    this.closed = true;
    await this.claiming;
    await this.idle();
    for (const timer of this.timers) clearInterval(timer);
    this.timers = [];
  }

  private async drain(): Promise<void> {
    while (this.pending.length) {
      const id = this.pending.shift()!;
      // Let the event loop answer requests between conversions.
      await new Promise((resolve) => setImmediate(resolve));
      await this.convert(id);
    }
  }

  private async convert(id: string): Promise<void> {
    try {
      const job = JSON.parse(await readFile(this.jobPath(id), 'utf8')) as UploadJob;
      const ingested = await this.ingest(job);
      const { summary } = ingested;
      try {
        // Not put in the decoded cache: only views fill it (200 fresh uploads held it full of documents no one read).
        await this.store.put(ingested.bytes, ingested.fields, { id, uploadedAt: job.receivedAt });
        this.onStored(id, summary);
      } catch (error) {
        if (summary) await rm(summary.path, { force: true });
        if (!(error instanceof DuplicateIdError)) throw error; // already stored before a crash
      }
      await this.discardJob(id);
      this.states.delete(id);
      const shared = this.shared;
      if (shared) await this.settle(id, () => shared.finish(id));
    } catch (error) {
      const shared = this.shared;
      if (shared && isStoreUnavailable(error)) {
        // Not the upload's fault: given back, converted again (here or elsewhere) once the store answers.
        this.log.warn({ id, err: error }, 'store unavailable: upload given back to the shared queue');
        this.states.delete(id);
        await this.discardJob(id);
        await this.settle(id, () => shared.release(id));
        return;
      }
      const code = (error as { code?: string }).code ?? 'conversion-failed';
      const message = (error as Error).message;
      this.log.warn({ id, code, message }, 'upload conversion failed; raw upload kept');
      this.states.set(id, { state: 'failed', code, message });
      if (shared) {
        // The bucket keeps the raw upload; the working copy goes.
        await this.discardJob(id);
        await this.settle(id, () => shared.fail(id, code, message));
        return;
      }
      await writeFileAtomic(this.errorPath(id), Buffer.from(JSON.stringify({ code, message }))).catch(() => {});
    }
  }

  /** Converted on the worker pool; never refused as busy: this queue is one job at a time and already on disk. */
  private ingest(job: UploadJob): Promise<Converted> {
    const path = this.bodyPath(job.id);
    // Jobs queued on disk before the rename still say 'seed'.
    if (job.kind === 'vmprof-viewer' || (job.kind as string) === 'seed')
      return this.pool.run(
        'convertSubmit',
        { path, overrides: job.overrides, limits: this.limits },
        { always: true, conversion: 'vmprof-viewer' },
      );
    return this.pool.run(
      'ingestUpload',
      {
        path,
        contentType: job.contentType,
        overrides: job.overrides,
        limits: this.limits,
        summaryDir: this.summaryDir,
      },
      { always: true, conversion: 'vmprof' },
    );
  }
}
