// Benchmark of @prof/binning on realistic sizes. Run: pnpm --filter @prof/binning bench
// (builds with tsup, then runs this file against dist/). Prints figures; asserts nothing.
// Times are wall clock; "cpu" is this process's CPU time over the same span, which other
// processes loading the machine do not inflate (the wall time of a 2 ms query preempted once is
// 10 ms or more).
import { loadavg } from 'node:os';
import { peakRssBytes } from '../../../bench/peak-rss.mjs';
import {
  aggregateCallTree,
  analyzeStacks,
  buildMemorySummary,
  functionTable,
  memoryGrowth,
  queryBins,
  threadIndices,
} from '../dist/index.js';

const SERIES = 10_000_000;
const STACK_SAMPLES = 1_000_000;
const QUERIES = 1000;
const BINS = 2000;
const WARMUP = 50;

let seed = 12345;
const random = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;

const ms = (t0) => Number(process.hrtime.bigint() - t0) / 1e6;
const now = () => process.hrtime.bigint();
const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const quantile = (xs, q) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
};
const fmt = (x) => x.toFixed(2);
const line = (label, value) => console.log(`${label.padEnd(52)} ${value}`);

// A memory series like vmprof's: ~2 ms period with jitter and stalls; RSS that grows, is freed,
// saws, and spikes for a single sample now and then; values up to ~2^41 bytes.
function makeSeries(n) {
  const time = new Float64Array(n);
  const value = new Float64Array(n);
  const thread = new Uint32Array(n);
  let t = 0;
  let rss = 64 * 2 ** 20;
  for (let i = 0; i < n; i++) {
    t += random() < 0.001 ? 50 + random() * 500 : 1.5 + random();
    time[i] = t;
    rss += (random() - 0.499) * 4 * 2 ** 20;
    if (rss < 16 * 2 ** 20) rss = 16 * 2 ** 20;
    if (rss > 2 ** 41) rss = 2 ** 41;
    value[i] = Math.round(random() < 1e-5 ? rss + random() * 2 ** 40 : rss);
    thread[i] = random() < 0.8 ? 0 : 1 + Math.floor(random() * 3);
  }
  return { time, value, thread };
}

// A stack table like big_memory's: 13 middleware layers picked from a few variants, then handler
// code a few levels deep, about 20 frames in all, a few thousand distinct stacks.
function makeStacks(distinct) {
  const parent = [];
  const frame = [];
  const byKey = new Map();
  const node = (p, f) => {
    const key = p * 100_000 + f;
    let r = byKey.get(key);
    if (r === undefined) {
      r = parent.length;
      byKey.set(key, r);
      parent.push(p);
      frame.push(f);
    }
    return r;
  };
  const leaves = [];
  while (leaves.length < distinct) {
    let r = -1;
    for (let d = 0; d < 4; d++) r = node(r, d); // <module>, run, main, serve
    for (let layer = 0; layer < 13; layer++) r = node(r, 10 + layer * 3 + Math.floor(random() ** 3 * 3));
    const handler = 100 + Math.floor(random() ** 2 * 60);
    r = node(r, handler);
    const depth = 1 + Math.floor(random() * 6);
    for (let d = 0; d < depth; d++) r = node(r, 200 + Math.floor(random() ** 2 * 400));
    leaves.push(r);
  }
  return { stacks: { parent: Int32Array.from(parent), frame: Uint32Array.from(frame) }, leaves: [...new Set(leaves)] };
}

function timeRuns(runs, fn) {
  const times = [];
  const cpu = [];
  let out;
  for (let i = 0; i < runs; i++) {
    const c0 = cpuMs();
    const t0 = now();
    out = fn();
    times.push(ms(t0));
    cpu.push(cpuMs() - c0);
  }
  return { first: times[0], median: quantile(times, 0.5), cpu: quantile(cpu, 0.5), out };
}

/**
 * Random windows, log-uniform widths from the whole series down to 1e-5 of it, after WARMUP
 * untimed ones (a server answers many; the first few run before the JIT has compiled the loop).
 */
function timeQueries(summary, time, count, aligned) {
  const span = time[time.length - 1] - time[0];
  const wall = [];
  const cpu = [];
  for (let i = -WARMUP; i < count; i++) {
    const width = span * 10 ** (-5 * random());
    const from = time[0] + random() * (span - width);
    const c0 = cpuMs();
    const t0 = now();
    queryBins(summary, { from, to: from + width, bins: BINS, align: aligned && i % 2 === 0 });
    if (i < 0) continue;
    wall.push(ms(t0));
    cpu.push(cpuMs() - c0);
  }
  return `${fmt(quantile(wall, 0.5))} / ${fmt(quantile(wall, 0.99))}  (cpu ${fmt(quantile(cpu, 0.5))} / ${fmt(quantile(cpu, 0.99))})`;
}

console.log(
  `@prof/binning bench — Node ${process.version}, ${SERIES.toLocaleString('en')} samples, load average ${loadavg()[0].toFixed(2)}`,
);

const { time, value, thread } = makeSeries(SERIES);
{
  const build = timeRuns(5, () => buildMemorySummary(time, value));
  const summary = build.out;
  line(
    'summary build (ms, first call / median of 5 / cpu)',
    `${fmt(build.first)} / ${fmt(build.median)} / ${fmt(build.cpu)}`,
  );
  line(
    'summary size (bytes, bytes per sample)',
    `${summary.bytes.toLocaleString('en')} (${fmt(summary.bytes / SERIES)}; series 16)`,
  );
  line(`${BINS}-bin window queries x${QUERIES} (ms, median / p99)`, timeQueries(summary, time, QUERIES, true));
  const whole = timeRuns(20, () => queryBins(summary, { from: time[0], to: time[SERIES - 1] + 1, bins: BINS }));
  line(`${BINS}-bin query of the whole series (ms, median / cpu)`, `${fmt(whole.median)} / ${fmt(whole.cpu)}`);

  const idx = threadIndices(thread, 0);
  const tb = timeRuns(3, () => buildMemorySummary(time, value, idx));
  line(
    `one thread (${idx.length.toLocaleString('en')} samples): build (ms, median / cpu)`,
    `${fmt(tb.median)} / ${fmt(tb.cpu)}`,
  );
  line(`one thread: ${BINS}-bin queries x200 (ms, median / p99)`, timeQueries(tb.out, time, 200, false));
}

{
  const { stacks, leaves } = makeStacks(4000);
  let depthSum = 0;
  const sampleStack = new Int32Array(STACK_SAMPLES);
  for (let i = 0; i < STACK_SAMPLES; i++) {
    // Zipf-like popularity: a few hot stacks, a long tail.
    const s = leaves[Math.floor(leaves.length * random() ** 3)];
    sampleStack[i] = s;
  }
  for (const l of leaves) for (let r = l; r >= 0; r = stacks.parent[r]) depthSum++;
  const memory = value.subarray(0, STACK_SAMPLES);
  line(
    `stack table (rows, distinct leaf stacks, mean depth)`,
    `${stacks.parent.length}, ${leaves.length}, ${fmt(depthSum / leaves.length)}`,
  );
  const all = { start: 0, end: STACK_SAMPLES };
  const growth = memoryGrowth(memory);
  const report = (label, runs) =>
    line(`${label} (ms, first / median / cpu)`, `${fmt(runs.first)} / ${fmt(runs.median)} / ${fmt(runs.cpu)}`);
  report(
    'analyzeStacks, 1M samples',
    timeRuns(5, () => analyzeStacks(stacks, sampleStack, { ...all, topK: 10 })),
  );
  report(
    'analyzeStacks by memory growth, 1M',
    timeRuns(5, () => analyzeStacks(stacks, sampleStack, { ...all, topK: 10, memory, rankBy: 'growth' })),
  );
  report(
    'analyzeStacks of one 5000-sample bin',
    timeRuns(20, () => analyzeStacks(stacks, sampleStack, { start: 500_000, end: 505_000, memory })),
  );
  const ct = timeRuns(5, () => aggregateCallTree(stacks, sampleStack, all));
  report(`aggregateCallTree, 1M (${ct.out.length} nodes)`, ct);
  report(
    'aggregateCallTree weighted by growth, 1M',
    timeRuns(5, () => aggregateCallTree(stacks, sampleStack, { ...all, weight: growth })),
  );
  const ft = timeRuns(5, () => functionTable(stacks, sampleStack, all));
  report(`functionTable, 1M (${ft.out.length} functions)`, ft);
}

line('peak RSS (MiB)', fmt(peakRssBytes() / 1024 / 1024));
