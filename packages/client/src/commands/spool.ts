import type { Command } from 'commander';
import { resolveSpoolDir } from '../config';
import { listSpool } from '../spool/spool-dir';

export function registerSpool(program: Command): void {
  program
    .command('spool')
    .description('list profiles waiting in the spool (send them with: prof upload --spool)')
    .option('--spool-dir <dir>', 'spool directory (default: $PROF_SPOOL or ~/.prof/spool)')
    .option('--json', 'print the entries as JSON')
    .action((opts: { spoolDir?: string; json?: boolean }) => {
      const dir = resolveSpoolDir(opts.spoolDir);
      const { entries, broken } = listSpool(dir);
      if (opts.json) {
        process.stdout.write(
          JSON.stringify(
            { dir, entries: entries.map((e) => ({ id: e.id, path: e.dataPath, ...e.meta })), broken },
            null,
            2,
          ) + '\n',
        );
        return;
      }
      process.stdout.write(`${entries.length} profile(s) in ${dir}\n`);
      for (const e of entries) {
        process.stdout.write(
          `${new Date(e.meta.spooledAt).toISOString()}  ${e.meta.project ?? '-'}  ${e.meta.name ?? '-'}  ${e.meta.reason}\n`,
        );
      }
      for (const b of broken) process.stdout.write(`unreadable: ${b}\n`);
    });
}
