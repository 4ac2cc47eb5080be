import { randomBytes } from 'node:crypto';
import type { PostgresProfileIndex } from './postgres-index';
import type { S3BlobStore } from './s3-blob-store';

/** How long an instance's claim on a job lasts unless renewed; it renews every third of it. */
export const DEFAULT_UPLOAD_LEASE_MS = 30_000;

/** A job taken over from an instance whose lease ran out. */
export interface ClaimedUpload {
  id: string;
  /** What the server recorded with the upload (its own JSON). */
  job: string;
}

export type SharedUploadStatus = { state: 'processing' } | { state: 'failed'; code: string; message: string };

/** PostgreSQL's clock in epoch ms: every instance reads leases against the same clock. */
const NOW = '(extract(epoch from clock_timestamp()) * 1000)';

/**
 * Uploads acknowledged before they are converted (the vmprof runtime protocol, `/submit/`), kept where
 * every instance sees them: the raw body under the bucket's `incoming/` prefix, a row with a lease in
 * PostgreSQL's `upload_jobs`. The instance that took the upload holds the lease and renews it while it
 * lives; when it dies, the lease runs out and any live instance claims the job and converts it. So a
 * 200 means the upload survives the instance that gave it.
 *
 * Write order: row (with the lease), then body, then the answer; done = row, then body. A crash between
 * the row and the body leaves a row without body: never acknowledged, dropped by whoever claims it. A
 * crash between the two deletes leaves a body without row, removed by `sweep` after the grace period.
 */
export class SharedUploads {
  /** This instance, as the owner of its leases. */
  readonly owner = `${process.pid}-${randomBytes(6).toString('hex')}`;

  constructor(
    private readonly index: PostgresProfileIndex,
    readonly blobs: S3BlobStore,
    readonly leaseMs = DEFAULT_UPLOAD_LEASE_MS,
  ) {}

  /**
   * Records the upload (leased to this instance) and stores its raw body from file `bodyPath`; false when
   * a job with this id exists already (a second upload to one runtime id, on any instance).
   */
  async add(id: string, job: string, receivedAt: number, bodyPath: string): Promise<boolean> {
    try {
      await this.index.query(
        `INSERT INTO upload_jobs (id, job, received_at, owner, lease_until) VALUES ($1, $2, $3, $4, ${NOW} + $5)`,
        [id, job, receivedAt, this.owner, this.leaseMs],
      );
    } catch (error) {
      if ((error as { code?: string }).code === '23505') return false; // unique_violation
      throw error;
    }
    try {
      await this.blobs.putIncoming(id, bodyPath);
    } catch (error) {
      await this.index.query('DELETE FROM upload_jobs WHERE id = $1', [id]).catch(() => {});
      throw error;
    }
    return true;
  }

  /** Extends the leases of every job this instance holds (called every third of the lease). */
  async renew(): Promise<void> {
    await this.index.query(
      `UPDATE upload_jobs SET lease_until = ${NOW} + $2 WHERE owner = $1 AND failed_code IS NULL`,
      [this.owner, this.leaseMs],
    );
  }

  /** Takes over the oldest job whose lease ran out, or null; two instances never claim the same one. */
  async claim(): Promise<ClaimedUpload | null> {
    const { rows } = await this.index.query<ClaimedUpload>(
      `UPDATE upload_jobs SET owner = $1, lease_until = ${NOW} + $2
       WHERE id = (SELECT id FROM upload_jobs WHERE failed_code IS NULL AND lease_until < ${NOW}
                   ORDER BY received_at LIMIT 1 FOR UPDATE SKIP LOCKED)
       RETURNING id, job`,
      [this.owner, this.leaseMs],
    );
    return rows[0] ?? null;
  }

  /** Gives a job back (this instance could not convert it now: the store was down): anyone may claim it at once. */
  async release(id: string): Promise<void> {
    await this.index.query('UPDATE upload_jobs SET lease_until = 0 WHERE id = $1 AND owner = $2', [id, this.owner]);
  }

  /** The raw body of a job, written to `path`; false when it never arrived (the upload was not acknowledged). */
  fetchBody(id: string, path: string): Promise<boolean> {
    return this.blobs.getIncoming(id, path);
  }

  /** The profile is stored (or the job was never acknowledged): the job and its raw body go. */
  async finish(id: string): Promise<void> {
    await this.index.query('DELETE FROM upload_jobs WHERE id = $1', [id]);
    await this.blobs.deleteIncoming(id);
  }

  /** The conversion failed: kept with its error (raw body included) until deleted, never claimed again. */
  async fail(id: string, code: string, message: string): Promise<void> {
    await this.index.query('UPDATE upload_jobs SET failed_code = $2, failed_message = $3 WHERE id = $1', [
      id,
      code,
      message,
    ]);
  }

  async status(id: string): Promise<SharedUploadStatus | null> {
    const { rows } = await this.index.query<{ failed_code: string | null; failed_message: string | null }>(
      'SELECT failed_code, failed_message FROM upload_jobs WHERE id = $1',
      [id],
    );
    if (!rows.length) return null;
    const [row] = rows;
    return row.failed_code === null
      ? { state: 'processing' }
      : { state: 'failed', code: row.failed_code, message: row.failed_message ?? '' };
  }

  /** Removes a failed job and its raw body; false when `id` is no failed job. */
  async discardFailed(id: string): Promise<boolean> {
    const { rowCount } = await this.index.query('DELETE FROM upload_jobs WHERE id = $1 AND failed_code IS NOT NULL', [
      id,
    ]);
    if (!rowCount) return false;
    await this.blobs.deleteIncoming(id);
    return true;
  }

  /** How many failed jobs are kept, whichever instance took them. */
  async failedCount(): Promise<number> {
    const { rows } = await this.index.query<{ n: string }>(
      'SELECT count(*) AS n FROM upload_jobs WHERE failed_code IS NOT NULL',
    );
    return Number(rows[0].n);
  }

  /** Failed jobs received before `before` (epoch ms). */
  async failedBefore(before: number): Promise<string[]> {
    const { rows } = await this.index.query<{ id: string }>(
      'SELECT id FROM upload_jobs WHERE failed_code IS NOT NULL AND received_at < $1',
      [before],
    );
    return rows.map((r) => r.id);
  }

  /** Raw bodies older than `modifiedBefore` that no job owns (a crash between the two deletes of `finish`). */
  async sweep(modifiedBefore: number): Promise<number> {
    const old = (await this.blobs.listIncoming()).filter((b) => b.modifiedAt < modifiedBefore);
    if (!old.length) return 0;
    const { rows } = await this.index.query<{ id: string }>('SELECT id FROM upload_jobs WHERE id = ANY($1::text[])', [
      old.map((b) => b.id),
    ]);
    const owned = new Set(rows.map((r) => r.id));
    const orphans = old.filter((b) => !owned.has(b.id));
    for (const { id } of orphans) await this.blobs.deleteIncoming(id);
    return orphans.length;
  }
}
