// Uploads/s and read latencies on the embedded store vs PostgreSQL + S3 (s3rver), one instance vs three
// behind a round-robin client. Run: node scripts/pnpm.mjs --filter @prof/server exec node bench/shared.mjs
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readProfileFile, gzipDocument } from '@prof/format/node';
import { fixturesDir } from '../../../scripts/fixtures.mjs';
import { startPostgres, startS3 } from '../../../scripts/services.mjs';
import { startServer } from './lib.mjs';

const UPLOADS = 150;
const CONCURRENCY = 6;

async function timed(fn) {
  const s = performance.now();
  await fn();
  return performance.now() - s;
}
const pct = (xs, p) => xs.slice().sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))];

async function scenario(label, instances, args, doc) {
  const dirs = Array.from({ length: instances }, () => mkdtempSync(join(tmpdir(), 'prof-bench-shared-')));
  const servers = await Promise.all(dirs.map((d) => startServer(d, args)));
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
  const search = [];
  for (let k = 0; k < 40; k++)
    search.push(await timed(async () => (await fetch(`${pick()}/api/profiles?q=p1`)).text()));
  const cold = [];
  const warm = [];
  for (const id of ids.slice(0, 12)) {
    const url = pick();
    cold.push(await timed(async () => (await fetch(`${url}/api/profiles/${id}/memory`)).text()));
    warm.push(await timed(async () => (await fetch(`${url}/api/profiles/${id}/memory`)).text()));
  }
  console.log(
    `${label}: ${perSecond.toFixed(0)} uploads/s; search p50 ${pct(search, 0.5).toFixed(1)} ms; /memory cold p50 ${pct(cold, 0.5).toFixed(1)} ms, warm p50 ${pct(warm, 0.5).toFixed(1)} ms`,
  );
  for (const s of servers) await s.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
}

const doc = await gzipDocument(await readProfileFile(join(fixturesDir, 'vmprof-fresh/memory_spiky.prof')));
console.log(`document ${doc.byteLength} bytes, ${UPLOADS} uploads, ${CONCURRENCY} at a time`);
await scenario('embedded, 1 instance', 1, [], doc);
const [pg, s3] = await Promise.all([startPostgres({ fast: true }), startS3()]);
try {
  await scenario('PostgreSQL + S3, 1 instance', 1, ['--index', `${pg.url}?schema=one`, '--blobs', s3.url('one')], doc);
  await scenario(
    'PostgreSQL + S3, 3 instances',
    3,
    ['--index', `${pg.url}?schema=three`, '--blobs', s3.url('three')],
    doc,
  );
} finally {
  await pg.destroy();
  await s3.destroy();
}
