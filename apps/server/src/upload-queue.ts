import { mkdir, readdir, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { FastifyBaseLogger } from 'fastify';
import { DuplicateIdError, TEMP_PREFIX, isProfileId, writeFileAtomic, type ProfileStore } from '@prof/store';
import type { IngestLimits, Overrides } from './ingest';
import type { WorkPool } from './work-pool';
import type { Converted } from './worker/tasks';

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
 */
export class UploadQueue {
  private readonly pending: string[] = [];
  private readonly states = new Map<string, UploadStatus>();
  private running: Promise<void> | null = null;

  constructor(
    readonly dir: string,
    private readonly store: ProfileStore,
    private readonly pool: WorkPool,
    private readonly limits: IngestLimits,
    private readonly log: FastifyBaseLogger,
    /** Called with each profile stored (its summary is then built). */
    private readonly onStored: (id: string) => void = () => {},
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

  /** Records a job before its body is written (so a body never exists without its job). */
  async writeJob(job: UploadJob): Promise<void> {
    await writeFileAtomic(this.jobPath(job.id), Buffer.from(JSON.stringify(job)));
  }

  async discardJob(id: string): Promise<void> {
    await unlink(this.jobPath(id)).catch(() => {});
    await unlink(this.bodyPath(id)).catch(() => {});
  }

  /** Uploads whose conversion failed; their raw bodies are kept until deleted. */
  failedCount(): number {
    let n = 0;
    for (const state of this.states.values()) if (state.state === 'failed') n++;
    return n;
  }

  /** Removes a failed upload (job, raw body, error); false when `id` is no failed upload. */
  async discardFailed(id: string): Promise<boolean> {
    if (this.states.get(id)?.state !== 'failed') return false;
    await this.discardJob(id);
    await unlink(this.errorPath(id)).catch(() => {});
    this.states.delete(id);
    return true;
  }

  /** Removes failed uploads received before `before` (epoch ms); returns how many. */
  async pruneFailed(before: number): Promise<number> {
    let removed = 0;
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
      try {
        // Not put in the decoded cache: only views fill it (200 fresh uploads held it full of documents no one read).
        await this.store.put(ingested.bytes, ingested.fields, { id, uploadedAt: job.receivedAt });
        this.onStored(id);
      } catch (error) {
        if (!(error instanceof DuplicateIdError)) throw error; // already stored before a crash
      }
      await this.discardJob(id);
      this.states.delete(id);
    } catch (error) {
      const code = (error as { code?: string }).code ?? 'conversion-failed';
      const message = (error as Error).message;
      this.log.warn({ id, code, message }, 'upload conversion failed; raw upload kept');
      this.states.set(id, { state: 'failed', code, message });
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
      },
      { always: true, conversion: 'vmprof' },
    );
  }
}
