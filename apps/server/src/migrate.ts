import { parseArgs } from 'node:util';
import { openConfiguredStore, openStore, type CompositeProfileStore, type ProfileRow } from '@prof/store';

export const MIGRATE_USAGE = `Usage: prof-server migrate --from DIR --to-index postgres://... --to-blobs s3://...
  Copies every profile of an embedded store (the data directory of a single prof-server) into a
  shared one, with the same ids, fields and upload times. Resumable: profiles already in the
  target are skipped, so run it again after an interruption (or while the old server still runs,
  then once more after stopping it).
  --from DIR          the data directory (default ./prof-data)
  --to-index URL      postgres:// URL of the shared index (env PROF_INDEX)
  --to-blobs URL      s3:// URL of the shared bucket (env PROF_BLOBS)
  --concurrency N     profiles copied at once (default 4)`;

export interface MigrateReport {
  copied: number;
  skipped: number;
  bytes: number;
}

/** Copies `source` into `target` oldest first; a profile whose row is in the target is skipped. */
export async function migrateStore(
  source: CompositeProfileStore,
  target: CompositeProfileStore,
  options: { concurrency?: number; onProgress?: (report: MigrateReport, total: number) => void } = {},
): Promise<MigrateReport> {
  const report: MigrateReport = { copied: 0, skipped: 0, bytes: 0 };
  const { total } = await source.search({ limit: 0 });
  const page = 1000;
  for (let offset = 0; offset < total; offset += page) {
    const { items } = await source.search({ sort: 'uploadedAt', order: 'asc', limit: page, offset });
    const queue = [...items];
    const worker = async () => {
      for (let row = queue.shift(); row; row = queue.shift()) await copyOne(row);
    };
    await Promise.all(Array.from({ length: Math.max(1, options.concurrency ?? 4) }, worker));
    options.onProgress?.(report, total);
  }
  return report;

  async function copyOne(row: ProfileRow): Promise<void> {
    if (await target.get(row.id)) {
      report.skipped++;
      return;
    }
    const bytes = await source.getBytes(row.id);
    if (!bytes) return; // deleted since the listing
    // Blob then row, as every put: an interruption leaves at most a blob, overwritten by the next run.
    const { id: _id, sizeBytes: _size, uploadedAt, ...fields } = row;
    await target.put(bytes, fields, { id: row.id, uploadedAt });
    report.copied++;
    report.bytes += bytes.byteLength;
  }
}

/** `prof-server migrate ...`; returns the exit code. */
export async function migrateCommand(args: string[]): Promise<number> {
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({
      args,
      options: {
        from: { type: 'string' },
        'to-index': { type: 'string' },
        'to-blobs': { type: 'string' },
        concurrency: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }).values;
  } catch (error) {
    console.error(`prof-server migrate: ${(error as Error).message}\n\n${MIGRATE_USAGE}`);
    return 2;
  }
  if (values.help) {
    console.log(MIGRATE_USAGE);
    return 0;
  }
  const index = (values['to-index'] as string | undefined) ?? (process.env.PROF_INDEX || undefined);
  const blobs = (values['to-blobs'] as string | undefined) ?? (process.env.PROF_BLOBS || undefined);
  const concurrency = Number(values.concurrency ?? 4);
  if (!index || !blobs || !(concurrency >= 1)) {
    console.error(`prof-server migrate: --to-index and --to-blobs are both needed\n\n${MIGRATE_USAGE}`);
    return 2;
  }
  const from = (values.from as string | undefined) ?? './prof-data';
  const source = await openStore({ dir: from });
  let target: CompositeProfileStore | null = null;
  try {
    target = await openConfiguredStore({ index, blobs });
    const started = Date.now();
    const report = await migrateStore(source, target, {
      concurrency,
      onProgress: (r, total) =>
        console.log(`${r.copied + r.skipped} of ${total} (copied ${r.copied}, skipped ${r.skipped})`),
    });
    const seconds = (Date.now() - started) / 1000;
    console.log(
      `done: copied ${report.copied} profiles (${(report.bytes / 1e6).toFixed(1)} MB) in ${seconds.toFixed(1)} s, skipped ${report.skipped} already there`,
    );
    return 0;
  } catch (error) {
    console.error(`prof-server migrate: ${(error as Error).message} (run it again to resume)`);
    return 1;
  } finally {
    await source.close();
    await target?.close();
  }
}
