// Bench of /api/compare/*: two ×64 profiles (big_memory.prof repeated 64 times: 20.4 M samples,
// 4.6 h each), compared whole, cold (first requests after a start: both documents decoded) and warm.
// Run: node apps/server/bench/compare.mjs (after a build). Prints ms per request and per first view.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipDocument, readProfileFile } from '@prof/format/node';
import { fixturesDir } from '../../../scripts/fixtures.mjs';
import { createServer } from '../dist/index.js';

const TIMES = Number(process.env.BENCH_TIMES ?? 64);

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

const big = await readProfileFile(join(fixturesDir, 'vmprof-fresh/big_memory.prof'));
const dir = mkdtempSync(join(tmpdir(), 'prof-compare-bench-'));
const options = { dataDir: join(dir, 'data'), webRoot: null, demoDir: null, cacheBytes: 4 * 1024 ** 3, logger: false };
const ids = [];
{
  const server = await createServer(options);
  const url = await server.listen({ port: 0, host: '127.0.0.1' });
  for (const scale of [1, 1.1]) {
    const bytes = await gzipDocument(repeated(big, TIMES, scale));
    const res = await fetch(`${url}/api/profiles?project=bench&name=x${TIMES}`, { method: 'POST', body: bytes });
    ids.push((await res.json()).id);
    console.log(`uploaded ×${TIMES}: ${(bytes.byteLength / 1e6).toFixed(1)} MB, ${big.samples.length * TIMES} samples`);
  }
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
async function firstView(label) {
  const t0 = performance.now();
  const each = await Promise.all(
    views.map(async (v) => {
      const t = performance.now();
      const res = await fetch(url + v);
      if (!res.ok) throw new Error(`${v}: ${res.status} ${await res.text()}`);
      await res.arrayBuffer();
      return `${v.slice(13, v.indexOf('?'))} ${(performance.now() - t).toFixed(0)} ms`;
    }),
  );
  console.log(
    `${label}: first view (3 requests at once) ${(performance.now() - t0).toFixed(0)} ms — ${each.join(', ')}`,
  );
}
await firstView('cold (after a restart: both documents decoded first)');
for (let i = 0; i < 2; i++) await firstView('again (folded runs cached)');
await server.close();

// As after an upload or a visit of both profiles: documents decoded, never compared.
server = await createServer(options);
url = await server.listen({ port: 0, host: '127.0.0.1' });
for (const id of ids) await (await fetch(`${url}/api/profiles/${id}/memory?bins=1`)).arrayBuffer();
await firstView('documents in the cache, first comparison');
console.log('cache:', JSON.stringify((await (await fetch(`${url}/health`)).json()).cache));
await server.close();
rmSync(dir, { recursive: true, force: true });
