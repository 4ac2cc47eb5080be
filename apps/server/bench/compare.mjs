// Bench of /api/compare/*: two ×64 profiles (4.6 h each) compared whole, cold (first requests after
// a start) and warm, with the slowest /health answer during the cold view (the event loop's stall).
// Run: node apps/server/bench/compare.mjs (after a build). BENCH_TIMES=N for another length.
// BENCH_SOURCE=generator (default): both sides are scripts/make-long-profile.mjs's big_memory ×N,
// converted as `prof convert` does (identical runs: the work of a comparison does not depend on how
// much differs). BENCH_SOURCE=repeated: big_memory's samples repeated in memory, the target's memory
// 10% higher and climbing, so the diffs are not zero.
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { convertProfileFile, gzipDocument, readProfileFile } from '@prof/format/node';
import { fixturesDir } from '../../../scripts/fixtures.mjs';
import { makeLongProfile } from '../../../scripts/make-long-profile.mjs';
import { createServer } from '../dist/index.js';
import { describeStalls, watchStalls } from './stall.mjs';

const TIMES = Number(process.env.BENCH_TIMES ?? 64);
const SOURCE = process.env.BENCH_SOURCE ?? 'generator';

/** `doc` with its samples played `times` times in a row, each copy after the previous one ends. */
function repeated(doc, times, memoryScale) {
  const s = doc.samples;
  const n = s.length;
  const span = s.time[n - 1] + (s.time[n - 1] - s.time[0]) / n;
  const stack = new Int32Array(n * times);
  const time = new Float64Array(n * times);
  const thread = new Uint32Array(n * times);
  const memory = new Float64Array(n * times);
  for (let k = 0; k < times; k++) {
    stack.set(s.stack, k * n);
    thread.set(s.thread, k * n);
    for (let i = 0; i < n; i++) {
      time[k * n + i] = s.time[i] + k * span;
      memory[k * n + i] = Math.round(s.memory[i] * memoryScale * (1 + k / times));
    }
  }
  return {
    ...doc,
    meta: { ...doc.meta, endTime: doc.meta.startTime + span * times },
    samples: { ...s, length: n * times, stack, time, thread, memory, heap: null, weight: null },
  };
}

const source = join(fixturesDir, 'vmprof-fresh/big_memory.prof');
const dir = mkdtempSync(join(tmpdir(), 'prof-compare-bench-'));
const options = {
  dataDir: join(dir, 'data'),
  webRoot: null,
  demoDir: null,
  cacheBytes: 4 * 1024 ** 3,
  maxInflatedBytes: 2 * 1024 ** 3,
  logger: false,
};
/** The two documents to compare, gzipped. */
async function documents() {
  if (SOURCE === 'repeated') {
    const big = await readProfileFile(source);
    return [await gzipDocument(repeated(big, TIMES, 1)), await gzipDocument(repeated(big, TIMES, 1.1))];
  }
  if (SOURCE !== 'generator') throw new Error(`BENCH_SOURCE=${SOURCE}: expected generator or repeated`);
  // Kept between runs: generating and converting ×64 takes a minute and writes 4 GB.
  const document = join(tmpdir(), `prof-compare-bench-x${TIMES}.msgpack.gz`);
  if (!existsSync(document)) {
    const t = performance.now();
    const long = makeLongProfile({ source, times: TIMES, out: join(dir, 'long.prof') });
    await convertProfileFile(join(dir, 'long.prof'), join(dir, 'long.msgpack.gz'));
    rmSync(join(dir, 'long.prof'));
    renameSync(join(dir, 'long.msgpack.gz'), document);
    console.log(
      `generated and converted big_memory ×${TIMES}: ${long.samples} samples, ${(long.durationSec / 3600).toFixed(2)} h, ` +
        `${((performance.now() - t) / 1000).toFixed(1)} s`,
    );
  }
  const bytes = readFileSync(document);
  return [bytes, bytes];
}
const ids = [];
{
  const server = await createServer(options);
  const url = await server.listen({ port: 0, host: '127.0.0.1' });
  for (const bytes of await documents()) {
    const res = await fetch(`${url}/api/profiles?project=bench&name=x${TIMES}`, { method: 'POST', body: bytes });
    if (res.status !== 201) throw new Error(`upload: ${res.status} ${await res.text()}`);
    ids.push((await res.json()).id);
    console.log(`uploaded ×${TIMES}: ${(bytes.byteLength / 1e6).toFixed(1)} MB`);
  }
  // Closing waits for the summaries built after each upload.
  await server.close();
}

const [base, target] = ids;
const views = [
  `/api/compare/functions?base=${base}&target=${target}`,
  `/api/compare/tree?base=${base}&target=${target}`,
  `/api/compare/memory?base=${base}&target=${target}&bins=400`,
];
let server = await createServer(options);
let url = await server.listen({ port: 0, host: '127.0.0.1' });
/** Times /health answers until `done` resolves: the longest is how long the event loop stalled. */
async function slowestHealth(done) {
  let finished = false;
  done.finally(() => (finished = true));
  let slowest = 0;
  while (!finished) {
    const t = performance.now();
    await (await fetch(`${url}/health`)).arrayBuffer();
    slowest = Math.max(slowest, performance.now() - t);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return slowest;
}
const stalls = watchStalls();
async function firstView(label, extra = '') {
  await stalls.read();
  const t0 = performance.now();
  const all = Promise.all(
    views.map(async (view) => {
      const v = view + extra;
      const t = performance.now();
      const res = await fetch(url + v);
      if (!res.ok) throw new Error(`${v}: ${res.status} ${await res.text()}`);
      await res.arrayBuffer();
      return `${v.slice(13, v.indexOf('?'))} ${(performance.now() - t).toFixed(0)} ms`;
    }),
  );
  const [each, health] = await Promise.all([all, slowestHealth(all)]);
  console.log(
    `${label}: first view (3 requests at once) ${(performance.now() - t0).toFixed(0)} ms — ${each.join(', ')}; ` +
      `slowest /health meanwhile ${health.toFixed(0)} ms; ${describeStalls(await stalls.read())}`,
  );
}
await firstView('cold (after a restart)');
for (let i = 0; i < 2; i++) await firstView('again');
const hour = 3600e3;
const { durationMs } = await (await fetch(`${url}/api/profiles/${target}`)).json();
await firstView('first hour against last hour', `&baseFrom=0&baseTo=${hour}&targetFrom=${durationMs - hour}`);
await server.close();

// As after a visit of both profiles: each one's own views were asked for, never compared.
server = await createServer(options);
url = await server.listen({ port: 0, host: '127.0.0.1' });
for (const id of ids) await (await fetch(`${url}/api/profiles/${id}/memory?bins=1`)).arrayBuffer();
await firstView('both profiles viewed before, first comparison');
console.log('cache:', JSON.stringify((await (await fetch(`${url}/health`)).json()).cache));
await server.close();

// The comparison page in Chromium on a freshly started server (the built web app): navigation →
// differential flame graph and memory chart both painted. BENCH_BROWSER=0 skips it.
if (process.env.BENCH_BROWSER !== '0') {
  const { chromium } = await import('playwright-core');
  const { webRoot: _none, ...withWeb } = options;
  server = await createServer(withWeb);
  url = await server.listen({ port: 0, host: '127.0.0.1' });
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run'],
  });
  const page = await (await browser.newContext({ viewport: { width: 1400, height: 900 } })).newPage();
  const painted = (async () => {
    await page.goto(`${url}/compare/${base}/${target}`, { waitUntil: 'commit' });
    await page.waitForFunction(
      () => window.__profTest?.compareFlame?.draws && window.__profTest?.compareMemory?.draws,
      {
        timeout: 120_000,
        polling: 10,
      },
    );
    return page.evaluate(() => [window.__profTest.compareFlame.paintedAt, window.__profTest.compareMemory.paintedAt]);
  })();
  await stalls.read();
  const [[flame, memory], health] = await Promise.all([painted, slowestHealth(painted)]);
  console.log(
    `browser, cold server: navigation → flame graph ${flame.toFixed(0)} ms, memory chart ${memory.toFixed(0)} ms; ` +
      `slowest /health meanwhile ${health.toFixed(0)} ms; ${describeStalls(await stalls.read())}`,
  );
  await browser.close();
  await server.close();
}
await stalls.stop();
rmSync(dir, { recursive: true, force: true });
