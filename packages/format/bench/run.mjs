// `pnpm --filter @prof/format bench`: figures for the biggest vmprof fixture, each case in its own
// process (peak RSS per case). Benchmarks, not tests: nothing here fails because a machine is slow.
import { execFileSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fixturesDir } from '../../../scripts/fixtures.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const fixtures = join(fixturesDir, 'vmprof-fresh');
const file =
  process.argv[2] ??
  readdirSync(fixtures)
    .filter((f) => f.endsWith('.prof'))
    .map((f) => join(fixtures, f))
    .sort((a, b) => statSync(b).size - statSync(a).size)[0];

const run = (name) =>
  JSON.parse(
    execFileSync(process.execPath, [join(here, 'case.mjs'), name, file], { encoding: 'utf8' })
      .trim()
      .split('\n')
      .at(-1),
  );
const MB = 1e6;
const mbs = (r) => (r.inputBytes / MB / (r.ms / 1000)).toFixed(0);
const rss = (r) => `${(r.peakRssBytes / MB).toFixed(0)} MB`;

const size = statSync(file).size;
console.log(`@prof/format bench — ${file.split('/').pop()} (${(size / MB).toFixed(1)} MB)`);
console.log(`${new Date().toISOString()} · node ${process.version} · ${cpus()[0]?.model ?? '?'} × ${cpus().length}\n`);

const parse = run('parse');
const convert = run('convert');
const decode = run('decode');
const gzip6 = run('gzip6');
const inflateNode = run('inflateNode');

const rows = [
  ['case', 'MB/s', 'ms (best of 3)', 'first run ms', 'peak RSS', 'bytes out', 'target'],
  ['parse .prof (in memory)', mbs(parse), parse.ms.toFixed(0), parse.coldMs.toFixed(0), rss(parse), '', '>= 300 MB/s'],
  [
    'convert file → .msgpack.gz',
    mbs(convert),
    convert.ms.toFixed(0),
    convert.coldMs.toFixed(0),
    rss(convert),
    convert.outputBytes,
    '>= 100 MB/s, RSS <= input + 200 MB, <= 500 KB',
  ],
  ['gzip -6 of the .prof (node:zlib)', mbs(gzip6), gzip6.ms.toFixed(0), '', '', gzip6.outputBytes, 'baseline'],
  ['decode .msgpack.gz → document', '', decode.ms.toFixed(0), decode.coldMs.toFixed(0), rss(decode), '', ''],
  ['inflate .prof.gz, node:zlib stream', mbs(inflateNode), inflateNode.ms.toFixed(0), '', rss(inflateNode), '', ''],
];
const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => String(r[c]).length)));
for (const r of rows) console.log(r.map((v, c) => String(v).padEnd(widths[c])).join(' | '));

const check = (ok, text) => console.log(`${ok ? 'ok  ' : 'MISS'} ${text}`);
console.log('');
check(Number(mbs(parse)) >= 300, `parse ${mbs(parse)} MB/s (target >= 300)`);
check(Number(mbs(convert)) >= 100, `convert ${mbs(convert)} MB/s (target >= 100)`);
check(
  convert.peakRssBytes <= size + 200 * MB,
  `convert peak RSS ${rss(convert)} (target <= ${((size + 200 * MB) / MB).toFixed(0)} MB)`,
);
check(
  convert.outputBytes <= 500_000,
  `output ${convert.outputBytes} bytes vs gzip -6 ${gzip6.outputBytes} bytes (${((convert.outputBytes / gzip6.outputBytes) * 100).toFixed(1)}%; target <= 500,000)`,
);
