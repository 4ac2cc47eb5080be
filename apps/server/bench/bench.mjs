// Benchmark of the Prof server. Run: pnpm --filter @prof/server bench (builds with tsup, then runs
// this file against dist/). The server runs as `prof-server` in its own process on loopback; load
// comes from autocannon (throughput) and a sequential keep-alive client (latency). Prints figures;
// asserts nothing. BENCH_QUICK=1 shortens every phase.
import autocannon from 'autocannon';
import { spawn, spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipDocument, readProfileFile } from '@prof/format/node';
import { fmt, json, lat, latency, line, rng, startServer, timed } from './lib.mjs';
import { populateIndex, syntheticDocument } from './data.mjs';
import { fixturesDir } from '../../../scripts/fixtures.mjs';

const QUICK = process.env.BENCH_QUICK === '1';
const DURATION = QUICK ? 3 : 10;
const fixtures = join(fixturesDir, 'vmprof-fresh');
const BIG = join(fixtures, 'big_memory.prof');
const INDEXED = QUICK ? 20_000 : 100_000;
const COLD_RUNS = QUICK ? 5 : 15;
const WARM_RUNS = QUICK ? 50 : 300;

// autocannon appends every response body to a string (`req.body += chunk`): on a 1 MB binary body
// that UTF-8 decoding is the bottleneck (~30 MB/s, 25 GET/s whatever the server). Only byte counts
// are used here, so the append is switched off.
createRequire(import.meta.url)('autocannon/lib/pipelinedRequestsQueue.js').prototype.addBody = () => {};

const cannon = (opts) =>
  new Promise((resolve, reject) =>
    autocannon({ connections: 10, duration: DURATION, ...opts }, (err, res) => (err ? reject(err) : resolve(res))),
  );
const throughput = (res) =>
  `${fmt(res.requests.average, 0)} req/s  ${fmt(res.throughput.average / 2 ** 20)} MB/s  latency p50 ${res.latency.p50} ms p99 ${res.latency.p99} ms  (non-2xx ${res.non2xx}, errors ${res.errors})`;

const root = mkdtempSync(join(tmpdir(), 'prof-server-bench-'));
const load = () =>
  loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');
console.log(
  `Prof server benchmark — Node ${process.version}, ${cpus().length} CPUs, load average ${load()}, ${DURATION} s per throughput run`,
);
try {
  await documentsAndUploads(join(root, 'a'));
  await search(join(root, 'b'));
  console.log(`\nload average at the end: ${load()}`);
} finally {
  rmSync(root, { recursive: true, force: true });
}

/** Requests/s of `curl --parallel` fetching `url` again and again. */
function curlRate(url, parallel) {
  const n = QUICK ? 500 : 3000;
  const args = ['-s', '-f', '--parallel', '--parallel-max', String(parallel)];
  for (let i = 0; i < n; i++) args.push('-o', '/dev/null', url);
  const t = performance.now();
  const run = spawnSync('curl', args);
  if (run.status !== 0) throw new Error(`curl ${url}: exit ${run.status} ${run.stderr}`);
  return n / ((performance.now() - t) / 1000);
}

async function documentsAndUploads(dataDir) {
  let server = await startServer(dataDir);
  const upload = async (body, query) => json(`${server.url}/api/profiles?${query}`, { method: 'POST', body });

  // --- inputs
  const megabyte = await syntheticDocument(1024 * 1024);
  const megaId = (await upload(megabyte, 'project=bench&name=mega')).id;
  const smallDoc = await gzipDocument(await readProfileFile(join(fixtures, 'cpu_basic.prof')));
  const spikyId = (await upload(readFileSync(join(fixtures, 'memory_spiky.prof')), 'project=bench&name=spiky')).id;
  const bigBytes = readFileSync(BIG);
  const t0 = performance.now();
  const big = await upload(bigBytes, 'project=bench&name=big_memory');
  const convertMs = performance.now() - t0;
  const bigRow = await json(`${server.url}/api/profiles/${big.id}`);
  console.log('\n# uploads');
  line(
    `raw vmprof upload, converted once: big_memory.prof (${fmt(bigBytes.length / 1e6)} MB)`,
    `${fmt(convertMs, 0)} ms → ${bigRow.sizeBytes} B stored, ${bigRow.sampleCount} samples`,
  );

  // --- memory bins and stacks on the biggest fixture
  const duration = bigRow.durationMs;
  const windows = [
    ['whole run', duration],
    ['half', duration / 2],
    ['10%', duration / 10],
    ['1%', duration / 100],
    ['0.01%', duration / 10_000],
    ['10 ms', 10],
  ];
  const random = rng(3);
  const windowUrl = (path, width, extra) => {
    const from = width >= duration ? 0 : random() * (duration - width);
    return `${server.url}/api/profiles/${big.id}/${path}?from=${from}&to=${from + width}${extra}`;
  };

  console.log(
    `\n# memory bins, big_memory.prof (${bigRow.sampleCount} samples, ${fmt(duration / 1000)} s), 1,000 bins, warm (decoded, in the cache)`,
  );
  await latency(20, () => windowUrl('memory', duration, '&bins=1000'));
  const warmAll = [];
  for (const [label, width] of windows) {
    const r = await latency(WARM_RUNS, () => windowUrl('memory', width, '&bins=1000'));
    warmAll.push(r);
    line(`  window ${label}`, lat(r));
  }
  line('  worst window p99', `${fmt(Math.max(...warmAll.map((r) => r.p99)))} ms`);

  console.log('\n# stacks of a range (common prefix, extension, top 10), big_memory.prof, warm');
  for (const [label, width] of windows)
    line(`  window ${label}`, lat(await latency(QUICK ? 20 : 100, () => windowUrl('stacks', width, ''))));
  line('server peak RSS so far', `${fmt(server.peakRssMb(), 0)} MB`);

  // --- document GETs
  console.log('\n# document GETs (stored bytes, Content-Encoding: gzip, never decoded)');
  const docUrl = `${server.url}/api/profiles/${megaId}/document`;
  for (const connections of [1, 4, 10]) {
    const gets = await cannon({ url: docUrl, connections, headers: { 'accept-encoding': 'gzip' } });
    line(
      `GET /document ${fmt(megabyte.length / 2 ** 20, 2)} MB, autocannon, ${connections} connection(s)`,
      throughput(gets),
    );
  }
  if (spawnSync('curl', ['--version']).status === 0) {
    // curl's C client takes less of the shared 2 cores than autocannon's JS HTTP parser does. The
    // bare node:http server sending the same bytes from memory is the ceiling on this machine.
    const file = join(dataDir, 'mega.msgpack.gz');
    writeFileSync(file, megabyte);
    const bare = spawn(process.execPath, [fileURLToPath(new URL('bare-server.mjs', import.meta.url)), file], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const bareUrl = await new Promise((resolve) =>
      bare.stdout.once('data', (d) => resolve(/(http:\S+)/.exec(String(d))[1])),
    );
    for (const parallel of [1, 4]) {
      line(
        `GET /document ${fmt(megabyte.length / 2 ** 20, 2)} MB, curl --parallel ${parallel}`,
        `${fmt(curlRate(docUrl, parallel), 0)} req/s`,
      );
      line(
        `  ceiling: bare node:http sending the bytes from memory, same client`,
        `${fmt(curlRate(bareUrl, parallel), 0)} req/s`,
      );
    }
    bare.kill();
  }
  const bigDoc = await cannon({ url: `${server.url}/api/profiles/${big.id}/document` });
  line(`GET /document big_memory (${fmt(bigRow.sizeBytes / 1024)} KB), autocannon, 10 connections`, throughput(bigDoc));
  const conditional = await cannon({ url: docUrl, headers: { 'if-none-match': `"${megaId}"` } });
  line(
    'GET /document with If-None-Match (304)',
    `${fmt(conditional.requests.average, 0)} req/s  latency p50 ${conditional.latency.p50} ms p99 ${conditional.latency.p99} ms`,
  );
  const rows = await cannon({ url: `${server.url}/api/profiles/${megaId}` });
  line(
    'GET /api/profiles/:id (index row)',
    `${fmt(rows.requests.average, 0)} req/s  latency p50 ${rows.latency.p50} ms p99 ${rows.latency.p99} ms`,
  );

  console.log('\n# uploads/s (stored with fsync of file, directory and index: durable when answered)');
  const docUploads = await cannon({
    url: `${server.url}/api/profiles?project=bench-upload`,
    method: 'POST',
    body: smallDoc,
  });
  line(
    `uploads/s, .msgpack.gz document (${fmt(smallDoc.length / 1024)} KB, as @prof/client sends)`,
    throughput(docUploads),
  );
  const megaUploads = await cannon({
    url: `${server.url}/api/profiles?project=bench-upload`,
    method: 'POST',
    body: megabyte,
  });
  line(`uploads/s, .msgpack.gz document (${fmt(megabyte.length / 2 ** 20, 2)} MB)`, throughput(megaUploads));
  const cpuBasic = readFileSync(join(fixtures, 'cpu_basic.prof'));
  const rawUploads = await cannon({
    url: `${server.url}/api/profiles?project=bench-upload`,
    method: 'POST',
    body: cpuBasic,
  });
  line(
    `uploads/s, raw vmprof converted here (cpu_basic.prof, ${fmt(cpuBasic.length / 1024)} KB)`,
    throughput(rawUploads),
  );

  console.log(
    `\n# memory bins, big_memory.prof, cold: first query after a restart (${COLD_RUNS} restarts; the server has answered one query on another profile)`,
  );
  const cold = [];
  const starts = [];
  for (let i = 0; i < COLD_RUNS; i++) {
    await server.stop();
    server = await startServer(dataDir);
    starts.push(server.startMs);
    await timed(`${server.url}/api/profiles/${spikyId}/memory?bins=1000`);
    const [, width] = windows[i % windows.length];
    const r = await timed(windowUrl('memory', width, '&bins=1000'));
    if (r.status !== 200) throw new Error(`cold query: ${r.status} ${r.body}`);
    cold.push(r.ms);
  }
  const sorted = [...cold].sort((a, b) => a - b);
  line(
    '  cold query (read file, gunzip, decode, summarise, bin)',
    `p50 ${fmt(sorted[Math.floor(sorted.length / 2)])} ms  p99 ${fmt(sorted.at(-1))} ms (max of ${cold.length})`,
  );
  line(
    '  server start (process spawn to listening)',
    `median ${fmt([...starts].sort((a, b) => a - b)[Math.floor(starts.length / 2)], 0)} ms`,
  );
  await server.stop();
}

async function search(dataDir) {
  console.log(`\n# search at ${INDEXED.toLocaleString('en')} indexed profiles`);
  const t0 = performance.now();
  const sample = populateIndex(dataDir, INDEXED);
  line(
    'populate (index rows + one small file each)',
    `${fmt((performance.now() - t0) / 1000)} s, index ${fmt(statSync(join(dataDir, 'index.sqlite')).size / 2 ** 20)} MB`,
  );
  const server = await startServer(dataDir);
  line('server start with start-up repair over every file and row', `${fmt(server.startMs, 0)} ms`);
  const health = await json(`${server.url}/health`);
  if (health.profiles !== INDEXED) throw new Error(`expected ${INDEXED} profiles, the server has ${health.profiles}`);
  const enc = encodeURIComponent;
  const queries = [
    ['newest 50 (landing list)', ''],
    ['q= common substring "etl"', 'q=etl'],
    ['q= rare substring (one function)', `q=${enc(sample.rareName.toUpperCase())}`],
    ['q= no match', 'q=zzzz-nothing'],
    ['project filter', `project=${enc(sample.project)}`],
    ['project + name filter', `project=${enc(sample.project)}&name=${enc(sample.name)}`],
    ['tag filter env=prod', 'tag=env=prod'],
    ['tag + hasMemory + q', 'tag=team=ml&hasMemory=true&q=sync'],
    ['time range (last 30 days)', `from=${Date.now() - 30 * 86_400_000}`],
    ['sort by peak memory', 'sort=peakMemory&order=desc'],
    ['sort by duration, deep page offset=50000', 'sort=durationMs&offset=50000'],
    ['q + sort by duration ascending', 'q=index&sort=durationMs&order=asc'],
  ];
  const all = [];
  for (const [label, query] of queries) {
    const r = await latency(QUICK ? 20 : 100, () => `${server.url}/api/profiles?${query}`);
    all.push(r);
    line(`  ${label}`, lat(r));
  }
  line('  worst search p99', `${fmt(Math.max(...all.map((r) => r.p99)))} ms`);
  line(
    '  GET /api/projects (landing page: projects, names, counts)',
    lat(await latency(QUICK ? 10 : 50, () => `${server.url}/api/projects`)),
  );
  line('server peak RSS', `${fmt(server.peakRssMb(), 0)} MB`);
  await server.stop();
}
