// `pnpm --filter @prof/format bench:long [TIMES...]`: convert figures for profiles N times longer
// than big_memory.prof (default ×1, ×16, ×64), made with scripts/make-long-profile.mjs in the
// system's temporary folder (kept between runs, removed with --clean). Each conversion runs in a
// fresh process, so its peak RSS is its own: the streaming converter (`convertProfileFile`, what
// `prof convert` and the server use) and, with --before, the in-memory one it replaced
// (`gzipDocument(readProfileFile)`). Benchmarks, not tests: a slow machine fails nothing.
// `convertFigures` is what the whole long-profile bench (bench/long.mjs at the root) runs.
import { execFileSync } from 'node:child_process';
import { rmSync, statSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fixturesDir } from '../../../scripts/fixtures.mjs';
import { longProfileFile } from '../../../scripts/make-long-profile.mjs';
import { printTable } from '../../../bench/table.mjs';
import { peakRssBytes } from '../../../bench/peak-rss.mjs';

const self = fileURLToPath(import.meta.url);
const MB = 1e6;

/**
 * Converts `file` in a fresh process (`how`: 'stream' or 'in-memory'): wall and CPU ms, the
 * process's peak RSS and the document's size in bytes. The output is removed.
 */
export function convertFigures(file, how = 'stream') {
  const out = join(tmpdir(), `prof-bench-${basename(file, '.prof')}-${process.pid}.msgpack.gz`);
  try {
    const r = JSON.parse(
      execFileSync(process.execPath, [self, '--case', how, file, out], { encoding: 'utf8', maxBuffer: 1 << 20 })
        .trim()
        .split('\n')
        .at(-1),
    );
    return { ...r, inputBytes: statSync(file).size, outputBytes: statSync(out).size };
  } finally {
    rmSync(out, { force: true });
  }
}

if (process.argv[2] === '--case') {
  // Child: one conversion, one JSON line.
  const [, , , how, file, out] = process.argv;
  const { convertProfileFile, gzipDocument, readProfileFile } = await import('../dist/node.js');
  const { writeFile } = await import('node:fs/promises');
  const t = performance.now();
  if (how === 'stream') await convertProfileFile(file, out);
  else await writeFile(out, await gzipDocument(await readProfileFile(file)));
  const ms = performance.now() - t;
  const cpu = process.cpuUsage();
  console.log(JSON.stringify({ ms, cpuMs: (cpu.user + cpu.system) / 1000, rss: peakRssBytes() }));
  process.exit(0);
} else if (process.argv[1] === self) {
  const args = process.argv.slice(2);
  const before = args.includes('--before');
  const clean = args.includes('--clean');
  const sizes = args.filter((a) => /^\d+$/.test(a)).map(Number);
  const source = join(fixturesDir, 'vmprof-fresh/big_memory.prof');
  console.log(`@prof/format bench:long — big_memory.prof × N`);
  console.log(
    `${new Date().toISOString()} · node ${process.version} · ${cpus()[0]?.model ?? '?'} × ${cpus().length}\n`,
  );
  const rows = [['N', 'input', 'samples', 'how', 'wall s', 'CPU s', 'MB/s (wall)', 'peak RSS', 'output']];
  for (const times of sizes.length ? sizes : [1, 16, 64]) {
    const file = longProfileFile({ source, times });
    if (!file) {
      console.log(`×${times}: would not fit in ${tmpdir()}`);
      continue;
    }
    for (const how of before ? ['in-memory', 'stream'] : ['stream']) {
      const r = convertFigures(file, how);
      rows.push([
        `×${times}`,
        `${(r.inputBytes / MB).toFixed(0)} MB`,
        String(318694 * times),
        how,
        (r.ms / 1000).toFixed(2),
        (r.cpuMs / 1000).toFixed(2),
        (r.inputBytes / MB / (r.ms / 1000)).toFixed(0),
        `${(r.rss / MB).toFixed(0)} MB`,
        `${(r.outputBytes / MB).toFixed(2)} MB`,
      ]);
    }
    if (clean && file !== source) rmSync(file, { force: true });
  }
  printTable(rows);
}
