// `pnpm --filter @prof/format bench:long [TIMES...]`: convert figures for profiles N times longer
// than big_memory.prof (default ×1, ×16, ×64), made with scripts/make-long-profile.mjs in the
// system's temporary folder (kept between runs, removed with --clean). Each conversion runs in a
// fresh process, so its peak RSS is its own: the streaming converter (`convertProfileFile`, what
// `prof convert` and the server use) and, with --before, the in-memory one it replaced
// (`gzipDocument(readProfileFile)`). Benchmarks, not tests: a slow machine fails nothing.
import { execFileSync } from 'node:child_process';
import { existsSync, rmSync, statSync, statfsSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fixturesDir } from '../../../scripts/fixtures.mjs';
import { makeLongProfile } from '../../../scripts/make-long-profile.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const before = args.includes('--before');
const clean = args.includes('--clean');
const sizes = args.filter((a) => /^\d+$/.test(a)).map(Number);
const source = join(fixturesDir, 'vmprof-fresh/big_memory.prof');
const MB = 1e6;

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
  console.log(
    JSON.stringify({ ms, cpuMs: (cpu.user + cpu.system) / 1000, rss: process.resourceUsage().maxRSS * 1024 }),
  );
  process.exit(0);
}

const run = (how, file, out) =>
  JSON.parse(
    execFileSync(process.execPath, [fileURLToPath(import.meta.url), '--case', how, file, out], {
      encoding: 'utf8',
      maxBuffer: 1 << 20,
    })
      .trim()
      .split('\n')
      .at(-1),
  );

console.log(`@prof/format bench:long — big_memory.prof × N`);
console.log(`${new Date().toISOString()} · node ${process.version} · ${cpus()[0]?.model ?? '?'} × ${cpus().length}\n`);
const rows = [['N', 'input', 'samples', 'how', 'wall s', 'CPU s', 'MB/s (wall)', 'peak RSS', 'output']];
for (const times of sizes.length ? sizes : [1, 16, 64]) {
  const file = join(tmpdir(), `prof-bench-big_memory-x${times}.prof`);
  const expected = (statSync(source).size - 25) * times + 25; // header and trailer once: close enough to tell
  if (!existsSync(file) || Math.abs(statSync(file).size - expected) > expected * 0.01) {
    const free = statfsSync(tmpdir()).bavail * statfsSync(tmpdir()).bsize;
    if (free < expected * 1.2) {
      console.log(
        `×${times}: ${(expected / 1e9).toFixed(1)} GB would not fit in ${tmpdir()} (${(free / 1e9).toFixed(1)} GB free)`,
      );
      continue;
    }
    makeLongProfile({ source, times, out: file });
  }
  const size = statSync(file).size;
  const out = join(tmpdir(), `prof-bench-x${times}.msgpack.gz`);
  for (const how of before ? ['in-memory', 'stream'] : ['stream']) {
    const r = run(how, file, out);
    rows.push([
      `×${times}`,
      `${(size / MB).toFixed(0)} MB`,
      String(318694 * times),
      how,
      (r.ms / 1000).toFixed(2),
      (r.cpuMs / 1000).toFixed(2),
      (size / MB / (r.ms / 1000)).toFixed(0),
      `${(r.rss / MB).toFixed(0)} MB`,
      `${(statSync(out).size / MB).toFixed(2)} MB`,
    ]);
    rmSync(out, { force: true });
  }
  if (clean) rmSync(file, { force: true });
}
const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => String(r[c]).length)));
for (const r of rows) console.log(r.map((v, c) => String(v).padEnd(widths[c])).join(' | '));
void here;
