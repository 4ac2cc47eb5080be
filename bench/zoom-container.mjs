#!/usr/bin/env node
// Zoomed memory bins read from a long profile's summaries container, in-process: what a zoomed /memory
// costs the server without HTTP, the browser or a 16.9 GB upload. For each size: big_memory ×N built
// straight into a container (the decoded samples pushed N times, times shifted by the run's length;
// kept in DIR between runs), then the 30 seeded zooms of long-queries.mjs (1/10 to 1/10,000 of the
// run, 1,500 bins), a first pass with the container dropped from the OS page cache (`dd iflag=nocache`)
// and a second pass warm, through the server's 32 MiB page cache and a file source like the store's.
// Prints per pass the zoom's p50/max ms, reads per zoom (p50/max), MB read, and the 30 zooms' total time, the
// process's CPU time (the reader threads' too) and the garbage collector's. Zooms ask as the memory view
// does (`snap`; `--exact` without). Before them, the whole run's first query (the first view) with the
// container out of the OS cache; after them, 200 stack analyses of one bin of the whole run (/stacks).
// With `--rehearse`, the whole run's query is followed by `rehearse` (as the server runs it after a
// profile's first view), timed with the event loop's longest wait: the first zoom then runs warm code.
//
//   node bench/zoom-container.mjs [N...] [--dir DIR] [--layout 1|2|3|4] [--source batched|single] [--exact]
//                                 [--rehearse]
import { execFileSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readSync, rmSync, writeSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { SummariesBuilder, openSummaries, PageCache } from '../packages/binning/dist/index.js';
import { readVmprof } from '../packages/format/dist/index.js';
import { readRanges } from '../packages/store/dist/index.js';
import { rng } from '../apps/server/bench/lib.mjs';
import { fixturesDir } from '../scripts/fixtures.mjs';

const { values, positionals } = parseArgs({
  args: process.argv.slice(2).filter((a) => a !== '--'),
  allowPositionals: true,
  options: {
    dir: { type: 'string', default: join(tmpdir(), 'prof-bench-zoom-container') },
    layout: { type: 'string', default: '4' },
    // `readMany` through the store's range-reader thread (as the server's file store), or one read each.
    source: { type: 'string', default: 'batched' },
    exact: { type: 'boolean', default: false },
    rehearse: { type: 'boolean', default: false },
  },
});
const sizes = positionals.length ? positionals.map(Number) : [1, 64, 270];
const layout = Number(values.layout);
mkdirSync(values.dir, { recursive: true });

/** big_memory ×times as a container at `path` (columns spilled to a scratch file, as the server does). */
function buildContainer(times, path) {
  const doc = readVmprof(readFileSync(join(fixturesDir, 'vmprof-fresh/big_memory.prof')));
  const s = doc.samples;
  const spillPath = `${path}.spill`;
  const spillFd = openSync(spillPath, 'w+');
  let spilled = 0;
  const spill = {
    write(bytes) {
      for (let o = 0; o < bytes.length; ) o += writeSync(spillFd, bytes, o, bytes.length - o, spilled + o);
      spilled += bytes.length;
      return spilled - bytes.length;
    },
    read(offset, length) {
      const out = new Uint8Array(length);
      for (let o = 0; o < length; ) o += readSync(spillFd, out, o, length - o, offset + o);
      return out;
    },
  };
  const builder = new SummariesBuilder({
    stacks: doc.stacks,
    threads: doc.threads.length,
    memory: !!s.memory,
    heap: !!s.heap,
    weight: !!s.weight,
    spill,
    layout,
  });
  const period = s.time[s.length - 1] - s.time[0] + (s.time[1] - s.time[0]);
  for (let k = 0; k < times; k++) {
    const time = s.time.map((t) => t + k * period);
    builder.pushColumns({ ...s, time });
  }
  const fd = openSync(`${path}.part`, 'w');
  for (const piece of builder.finishStreamed().pieces())
    for (let o = 0; o < piece.length; ) o += writeSync(fd, piece, o, piece.length - o);
  closeSync(fd);
  closeSync(spillFd);
  rmSync(spillPath);
  execFileSync('mv', [`${path}.part`, path]);
}

// Garbage collection during the zooms (the page cache's objects are the collector's work).
let gcMs = 0;
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) gcMs += e.duration;
}).observe({ entryTypes: ['gc'] });

const pct = (xs, p) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))];

for (const times of sizes) {
  const path = join(values.dir, `big_memory-x${times}-v${layout}.summary`);
  if (!existsSync(path)) {
    const t0 = performance.now();
    buildContainer(times, path);
    console.log(`built ${path} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }
  execFileSync('dd', [`if=${path}`, 'iflag=nocache', 'count=0', 'status=none']);
  const handle = await open(path, 'r');
  const { size } = await handle.stat();
  let reads = 0;
  let bytes = 0;
  // As the file store's summary reader (packages/store file-blob-store.ts), counting.
  const readInto = async (into, offset, length) => {
    reads++;
    bytes += length;
    const out = into.subarray(0, length);
    for (let done = 0; done < length; ) done += (await handle.read(out, done, length - done, offset + done)).bytesRead;
    return out;
  };
  let hops = 0;
  const source = { size, read: (o, l) => readInto(new Uint8Array(l), o, l), readInto };
  if (values.source === 'batched')
    source.readMany = (ranges) => {
      hops++;
      reads += ranges.length / 2;
      for (let i = 1; i < ranges.length; i += 2) bytes += ranges[i];
      return readRanges(handle.fd, ranges);
    };
  else if (values.source !== 'single') throw new Error('--source: batched or single');
  const s = await openSummaries(source, { cache: new PageCache(32 * 1024 ** 2) });
  const first = s.firstTime;
  const end = s.lastTime;
  const snap = !values.exact;
  {
    const [r, b] = [reads, bytes];
    const t0 = performance.now();
    await s.memoryBins(undefined, first, end + 1, 1500, { snap });
    console.log(
      `×${times} v${layout} whole run, first query: ${(performance.now() - t0).toFixed(1)} ms, ` +
        `${reads - r} reads, ${((bytes - b) / 1e6).toFixed(2)} MB read`,
    );
    if (values.rehearse) {
      const delay = monitorEventLoopDelay({ resolution: 1 });
      delay.enable();
      const t1 = performance.now();
      await s.rehearse(undefined, first, end + 1, 1500, { snap });
      delay.disable();
      console.log(
        `×${times} v${layout} rehearsal: ${(performance.now() - t1).toFixed(1)} ms, ` +
          `the event loop waited ${(delay.max / 1e6).toFixed(1)} ms at most`,
      );
    }
  }
  for (const pass of ['cold', 'warm']) {
    const random = rng(11);
    const ms = [];
    const perZoom = [];
    const hopsPerZoom = [];
    const bytesBefore = bytes;
    const cpuBefore = process.cpuUsage();
    const gcBefore = gcMs;
    for (let i = 0; i < 30; i++) {
      const w = (end - first) / 10 ** (1 + 3 * random());
      const from = first + random() * (end - first - w);
      const r = reads;
      const h = hops;
      const t0 = performance.now();
      await s.memoryBins(undefined, from, from + w, 1500, { snap });
      ms.push(performance.now() - t0);
      perZoom.push(reads - r);
      hopsPerZoom.push(hops - h);
    }
    const cpu = process.cpuUsage(cpuBefore);
    // Collections are reported after they end: let the last one in.
    await new Promise((r) => setTimeout(r, 20));
    console.log(
      `×${times} v${layout} ${values.source} ${pass}: first zoom ${ms[0].toFixed(1)} ms, p50 ${pct(ms, 0.5).toFixed(1)} ms, max ${Math.max(...ms).toFixed(1)} ms; ` +
        `reads per zoom p50 ${pct(perZoom, 0.5)}, max ${Math.max(...perZoom)}` +
        (values.source === 'batched' ? ` in ${Math.max(...hopsPerZoom)} hops at most; ` : '; ') +
        `${((bytes - bytesBefore) / 1e6).toFixed(1)} MB read; all 30 in ${ms.reduce((a, b) => a + b, 0).toFixed(0)} ms, ` +
        `process CPU ${((cpu.user + cpu.system) / 1000).toFixed(0)} ms, GC ${(gcMs - gcBefore).toFixed(0)} ms; load ${loadavg()[0].toFixed(1)}`,
    );
  }
  // The stacks panel of one bin of the whole-run chart (1/1500 of the run), as /stacks asks it.
  const random = rng(5);
  const ms = [];
  const bytesBefore = bytes;
  for (let i = 0; i < 200; i++) {
    const from = first + random() * (end - first);
    const t0 = performance.now();
    await s.analyzeStacks(undefined, from, from + (end - first) / 1500, { topK: 10, rankBy: 'count', series: 'rss' });
    ms.push(performance.now() - t0);
  }
  console.log(
    `×${times} v${layout} stacks of one bin: p50 ${pct(ms, 0.5).toFixed(2)} ms, p90 ${pct(ms, 0.9).toFixed(2)} ms, ` +
      `${((bytes - bytesBefore) / 1e6 / 200).toFixed(3)} MB read each`,
  );
  await handle.close();
}
