// Benchmark of the summaries container. Run: pnpm --filter @prof/binning bench:summaries [N]
// (builds with tsup, then runs this file against dist/). The document is big_memory.prof's samples
// repeated N times (default 16), times shifted so the run is N× as long. Prints build time,
// container bytes per sample, then query times through a file source (cold = first query of a
// freshly opened container with an empty page cache). Asserts nothing.
import { open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { readProfileFile } from '@prof/format/node';
import { fixturesDir } from '../../../scripts/fixtures.mjs';
import { openSummaries, PageCache, SummariesBuilder } from '../dist/index.js';

const N = Number(process.argv[2] ?? 16);
const now = () => performance.now();

const doc = await readProfileFile(resolve(fixturesDir, 'vmprof-fresh/big_memory.prof'));
const s = doc.samples;
const n = s.time.length;
const span = s.time[n - 1] - s.time[0] + (s.time[n - 1] - s.time[0]) / n;

const t0 = now();
const builder = new SummariesBuilder({
  stacks: doc.stacks,
  threads: doc.threads.length,
  memory: !!s.memory,
  heap: !!s.heap,
  weight: !!s.weight,
});
const time = new Float64Array(n);
for (let r = 0; r < N; r++) {
  for (let i = 0; i < n; i++) time[i] = s.time[i] + r * span;
  builder.push({ time, stack: s.stack, thread: s.thread, memory: s.memory, heap: s.heap, weight: s.weight });
}
const parts = builder.finish();
const buildMs = now() - t0;
const bytes = parts.reduce((a, p) => a + p.byteLength, 0);
const path = join(tmpdir(), `summaries-bench-${process.pid}.summary`);
const file = await open(path, 'w');
for (const p of parts) await file.write(p);
await file.close();

const handle = await open(path, 'r');
const source = {
  size: bytes,
  async read(offset, length) {
    const out = Buffer.allocUnsafe(length);
    await handle.read(out, 0, length, offset);
    return out;
  },
};
const samples = n * N;
const last = span * N;
console.log(`×${N}: ${samples.toLocaleString()} samples`);
console.log(
  `build ${buildMs.toFixed(0)} ms (${(((samples / buildMs) * 1000) / 1e6).toFixed(1)} M samples/s), container ${(bytes / 1e6).toFixed(1)} MB = ${(bytes / samples).toFixed(1)} bytes/sample`,
);

async function timed(label, fn, runs = 1) {
  const times = [];
  for (let i = 0; i < runs; i++) {
    const t = now();
    await fn(i);
    times.push(now() - t);
  }
  times.sort((a, b) => a - b);
  const median = times[Math.floor(times.length / 2)];
  const p99 = times[Math.min(times.length - 1, Math.floor(times.length * 0.99))];
  console.log(
    `${label}: ${runs > 1 ? `median ${median.toFixed(1)} ms, p99 ${p99.toFixed(1)} ms` : `${median.toFixed(1)} ms`}`,
  );
}

let seed = 7;
const random = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
const cache = new PageCache(32 * 1024 * 1024);
let sum;
await timed('open', async () => {
  sum = await openSummaries(source, { cache });
});
await timed('cold memoryBins whole run, 1500 bins', () => sum.memoryBins(undefined, 0, last, 1500));
await timed('warm memoryBins whole run, 1500 bins', () => sum.memoryBins(undefined, 0, last, 1500), 20);
await timed(
  'memoryBins random zoom (1/10..1/10000 of the run), 1500 bins',
  () => {
    const w = last / 10 ** (1 + random() * 3);
    const from = random() * (last - w);
    return sum.memoryBins(undefined, from, from + w, 1500);
  },
  50,
);
await timed('compactRun whole run', () => sum.compactRun(undefined, 0, last), 5);
await timed(
  'compactRun random range',
  () => {
    const a = random() * last;
    const b = random() * last;
    return sum.compactRun(undefined, Math.min(a, b), Math.max(a, b));
  },
  20,
);
await timed('analyzeStacks whole run (growth)', () => sum.analyzeStacks(undefined, 0, last, { series: 'rss' }), 5);
await timed(
  'analyzeStacks one bin of 1500',
  () => {
    const from = random() * last;
    return sum.analyzeStacks(undefined, from, from + last / 1500, { series: 'rss' });
  },
  20,
);
console.log(`page cache ${(cache.bytes / 1e6).toFixed(1)} MB, resident ${(sum.residentBytes / 1e6).toFixed(2)} MB`);
await handle.close();
await rm(path);
