import { parseArgs } from 'node:util';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Presets, SingleBar } from 'cli-progress';
import { rebuildIndex } from '@prof/store';

export const REINDEX_USAGE = `Usage: prof-server reindex [--data DIR]
  Rebuilds the whole index (index.sqlite) from the stored documents; stop the server first.
  Unreadable documents are moved to DIR/quarantine/. The previous index only lends its upload times.
  --data DIR    data directory (env PROF_DATA; default ./prof-data)
  -h, --help    this help`;

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
  let values: { data?: string; help?: boolean };
  try {
    values = parseArgs({
      args,
      options: { data: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
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
  const running = runningServer(dir);
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
  const report = await rebuildIndex({
    dir,
    onProgress(done, total) {
      if (!barStarted) {
        bar.start(total, done);
        barStarted = true;
      } else bar.update(done);
    },
    log: { warn: (fields, message) => process.stderr.write(`\n${message}: ${JSON.stringify(fields)}\n`) },
  });
  if (barStarted) bar.stop();
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  console.error(
    `prof-server reindex: indexed ${report.indexed} document(s) in ${seconds} s into ${dir}` +
      (report.quarantined ? `; ${report.quarantined} unreadable moved to quarantine/` : ''),
  );
  return 0;
}
