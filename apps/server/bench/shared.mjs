// Uploads/s and read latencies on the embedded store vs PostgreSQL + S3 (s3rver), one instance vs three
// behind a round-robin client: search at 100,000 profiles (rows seeded straight through the store API),
// /memory cold (first request for a profile after a restart) and warm.
// Run: node scripts/pnpm.mjs --filter @prof/server exec node bench/shared.mjs
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readProfileFile, gzipDocument } from '@prof/format/node';
import { PostgresProfileIndex, SqliteProfileIndex, newProfileId } from '@prof/store';
import { fixturesDir } from '../../../scripts/fixtures.mjs';
import { startPostgres, startS3 } from '../../../scripts/services.mjs';
import { startServer } from './lib.mjs';

const UPLOADS = 150;
const CONCURRENCY = 6;
const SEEDED = 100_000;
const SEARCHES = 60;
const MEMORY_IDS = 12;
const WARM_REPEATS = 5;

async function timed(fn) {
  const s = performance.now();
  await fn();
  return performance.now() - s;
}
const pct = (xs, p) => xs.slice().sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))];
const pp = (xs) => `${pct(xs, 0.5).toFixed(1)} / ${pct(xs, 0.99).toFixed(1)}`;

/** Index rows without documents, in 1,000-row transactions: only searches read them. */
async function seed(index) {
  const started = performance.now();
  for (let at = 0; at < SEEDED; at += 1000) {
    const rows = [];
    for (let i = at; i < at + 1000; i++)
      rows.push({
        id: newProfileId(),
        project: `seed${i % 50}`,
        name: `fn_${i % 997}`,
        tags: { env: i % 3 ? 'prod' : 'dev' },
        interpreter: 'cpython',
        host: null,
        start: 1_600_000_000_000 + i * 1000,
        end: null,
        durationMs: 1000 + (i % 5000),
        sampleCount: i % 10_000,
        peakMemory: i % 2 ? i * 10 : null,
        hasMemory: i % 2 === 1,
        threads: 1,
        zone: 'UTC',
        sizeBytes: 10_000 + i,
        uploadedAt: 1_600_000_000_000 + i * 1000,
      });
    await index.insertMany(rows);
  }
  await index.close();
  return (performance.now() - started) / 1000;
}

async function scenario(label, instances, args, doc, openIndex) {
  const dirs = Array.from({ length: instances }, () => mkdtempSync(join(tmpdir(), 'prof-bench-shared-')));
  let servers = await Promise.all(dirs.map((d) => startServer(d, args)));
  let next = 0;
  const pick = () => servers[next++ % servers.length].url;
  let i = 0;
  const ids = [];
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (i++ < UPLOADS) {
        const r = await fetch(`${pick()}/api/profiles?project=p${i % 10}`, { method: 'POST', body: doc });
        if (r.status !== 201) throw new Error(`upload: ${r.status} ${await r.text()}`);
        ids.push((await r.json()).id);
      }
    }),
  );
  const perSecond = UPLOADS / ((performance.now() - started) / 1000);
  // Seeded while the servers run (the embedded one's start-up repair would drop rows without documents).
  const seedSeconds = await seed(await openIndex(dirs[0]));
  const newest = [];
  const substring = [];
  for (let k = 0; k < SEARCHES; k++) {
    newest.push(await timed(async () => (await fetch(`${pick()}/api/profiles`)).text()));
    substring.push(await timed(async () => (await fetch(`${pick()}/api/profiles?q=fn_12`)).text()));
  }
  // Cold: the first /memory of each profile after every instance restarted; warm: the ones after it.
  await Promise.all(servers.map((s) => s.stop()));
  servers = await Promise.all(dirs.map((d) => startServer(d, args)));
  const cold = [];
  const warm = [];
  for (const id of ids.slice(0, MEMORY_IDS)) {
    const url = pick();
    cold.push(await timed(async () => (await fetch(`${url}/api/profiles/${id}/memory`)).text()));
    for (let k = 0; k < WARM_REPEATS; k++)
      warm.push(await timed(async () => (await fetch(`${url}/api/profiles/${id}/memory`)).text()));
  }
  const row = `| ${label.padEnd(28)} | ${perSecond.toFixed(0).padStart(9)} | ${pp(newest).padEnd(13)} | ${pp(substring).padEnd(13)} | ${pp(cold).padEnd(13)} | ${pp(warm).padEnd(13)} |`;
  console.log(row);
  console.error(`  (${SEEDED} rows seeded in ${seedSeconds.toFixed(1)} s)`);
  await Promise.all(servers.map((s) => s.stop()));
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
}

const doc = await gzipDocument(await readProfileFile(join(fixturesDir, 'vmprof-fresh/memory_spiky.prof')));
console.log(
  `document ${doc.byteLength} bytes, ${UPLOADS} uploads ${CONCURRENCY} at a time; search over ${UPLOADS + SEEDED} rows ` +
    `(${SEARCHES} each); /memory of ${MEMORY_IDS} profiles after a restart, then ${WARM_REPEATS} more each. p50 / p99 in ms\n`,
);
console.log(
  '| setup                        | uploads/s | newest page   | search fn_12  | /memory cold  | /memory warm  |',
);
console.log(
  '| ---------------------------- | --------- | ------------- | ------------- | ------------- | ------------- |',
);
await scenario('embedded, 1 instance', 1, [], doc, (dir) => new SqliteProfileIndex(join(dir, 'index.sqlite')));
const [pg, s3] = await Promise.all([startPostgres({ fast: true }), startS3()]);
try {
  for (const [label, n, schema] of [
    ['PostgreSQL + S3, 1 instance', 1, 'one'],
    ['PostgreSQL + S3, 3 instances', 3, 'three'],
  ]) {
    const index = `${pg.url}?schema=${schema}`;
    await scenario(label, n, ['--index', index, '--blobs', s3.url(schema)], doc, () =>
      PostgresProfileIndex.open(index),
    );
  }
} finally {
  await pg.destroy();
  await s3.destroy();
}
