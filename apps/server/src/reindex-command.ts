import { parseArgs } from 'node:util';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Presets, SingleBar } from 'cli-progress';
import { type SharedProfileStore, openConfiguredStore, rebuildIndex } from '@prof/store';

export const REINDEX_USAGE = `Usage: prof-server reindex [--data DIR] [--index postgres://... --blobs s3://...]
  Rebuilds the whole index from the stored documents. The previous index only lends its upload times.
  Embedded store (index.sqlite + DIR/profiles): stop the server first; unreadable documents are moved
  to DIR/quarantine/. Shared store (--index and/or --blobs): every row is rebuilt in place while the
  servers keep running; unreadable documents go to the bucket's quarantine/ prefix.
  --data DIR        data directory (env PROF_DATA; default ./prof-data)
  --index URL       postgres://... index (env PROF_INDEX)
  --blobs URL       s3://bucket/prefix?endpoint=...&region=... documents (env PROF_BLOBS)
  -h, --help        this help`;

/** The pid of a live server on `dir` (its server.pid names a running process), or null. */
function runningServer(dir: string): number | null {
  let pid: number;
  try {
    pid = Number(readFileSync(join(dir, 'server.pid'), 'utf8').trim());
  } catch {
    return null;
  }
  if (!Number.isInteger(pid) || pid <= 0) return null;
  try {
    process.kill(pid, 0); // signal 0: only asks whether the process exists
    return pid;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM' ? pid : null; // alive, not ours; or gone (stale file)
  }
}

/** `prof-server reindex`: a bar on stderr (a line every few seconds when stderr is not a terminal). */
export async function reindexCommand(args: string[]): Promise<number> {
  let values: { data?: string; index?: string; blobs?: string; help?: boolean };
  try {
    values = parseArgs({
      args,
      options: {
        data: { type: 'string' },
        index: { type: 'string' },
        blobs: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }).values;
  } catch (error) {
    console.error(`prof-server reindex: ${(error as Error).message}\n\n${REINDEX_USAGE}`);
    return 2;
  }
  if (values.help) {
    console.log(REINDEX_USAGE);
    return 0;
  }
  const dir = resolve(values.data ?? (process.env.PROF_DATA || './prof-data'));
  const index = values.index ?? (process.env.PROF_INDEX || undefined);
  const blobs = values.blobs ?? (process.env.PROF_BLOBS || undefined);
  // A SQLite index has one writer: a server on it must be stopped; a PostgreSQL one is shared.
  const running = index ? null : runningServer(dir);
  if (running !== null) {
    console.error(`prof-server reindex: a server (pid ${running}) is using ${dir}; stop it first`);
    return 1;
  }
  const bar = new SingleBar(
    {
      format: 'reindex {bar} {percentage}% | {value}/{total} documents | {eta_formatted} left',
      stream: process.stderr,
      hideCursor: true,
      noTTYOutput: true,
      notTTYSchedule: 2000,
    },
    Presets.shades_classic,
  );
  const started = performance.now();
  let barStarted = false;
  const onProgress = (done: number, total: number) => {
    if (!barStarted) {
      bar.start(total, done);
      barStarted = true;
    } else bar.update(done);
  };
  const log = {
    warn: (fields: object, message: string) => process.stderr.write(`\n${message}: ${JSON.stringify(fields)}\n`),
  };
  const seconds = () => ((performance.now() - started) / 1000).toFixed(1);
  if (index || blobs) {
    let store: SharedProfileStore;
    try {
      store = (await openConfiguredStore({ dir, index, blobs, log, sweep: false })) as SharedProfileStore;
    } catch (error) {
      console.error(`prof-server reindex: ${(error as Error).message}`);
      return 1;
    }
    try {
      let report = await store.reindex({ onProgress, log });
      // A sweep holds the same lock for seconds; another reindex for longer: wait a minute at most.
      for (let tries = 0; !report && tries < 60; tries++) {
        await new Promise((r) => setTimeout(r, 1000));
        report = await store.reindex({ onProgress, log });
      }
      if (barStarted) bar.stop();
      if (!report) {
        console.error(
          'prof-server reindex: another instance kept sweeping or reindexing this store for a minute; nothing done',
        );
        return 1;
      }
      console.error(
        `prof-server reindex: indexed ${report.indexed} document(s) in ${seconds()} s` +
          (report.rewritten ? `; ${report.rewritten} row(s) rewritten from their document` : '') +
          (report.rowsWithoutBlob ? `; ${report.rowsWithoutBlob} row(s) without a document removed` : '') +
          (report.quarantined ? `; ${report.quarantined} unreadable moved to quarantine/` : ''),
      );
      return 0;
    } finally {
      await store.close();
    }
  }
  const report = await rebuildIndex({ dir, onProgress, log });
  if (barStarted) bar.stop();
  console.error(
    `prof-server reindex: indexed ${report.indexed} document(s) in ${seconds()} s into ${dir}` +
      (report.quarantined ? `; ${report.quarantined} unreadable moved to quarantine/` : ''),
  );
  return 0;
}
