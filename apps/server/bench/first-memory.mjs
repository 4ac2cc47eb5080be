// The first /memory after a restart on a long profile: time and server RSS growth.
// Usage: node bench/first-memory.mjs [N]   (after building; N defaults to 16)
//
// The profile is big_memory.prof's samples repeated N times (times shifted, so the run is N× as
// long), stored straight into a fresh data directory as a document with no summary. Then:
//  1. a server starts, and its first /memory builds the summary (the path of a profile stored before
//     summaries existed: decode on the worker pool, build, store);
//  2. a fresh server starts, and its first /memory reads the stored summary: the figure issue 10
//     is about (previously 4,056 ms and +673 MB at ×64, decoding the whole document in the request);
//  3. warm and zoomed /memory, /stacks of one bin and the CPU views (long-queries.mjs), on that server.
// RSS is the server process's VmRSS just before the first query and just after its answer; peak is its VmHWM then.
import { statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { gzipDocument, readProfileFile } from '@prof/format/node';
import { fieldsFromDocument, openStore } from '@prof/store';
import { fixturesDir } from '../../../scripts/fixtures.mjs';
import { fmt, json, lat, line, startServer } from './lib.mjs';
import { firstMemory, longQueries, rssMb } from './long-queries.mjs';

const N = Number(process.argv[2] ?? 16);

/** big_memory's columns N times in a row, the document otherwise as read. */
async function repeatedDocument(times) {
  const doc = await readProfileFile(resolve(fixturesDir, 'vmprof-fresh/big_memory.prof'));
  const s = doc.samples;
  const n = s.length;
  const span = s.time[n - 1] - s.time[0] + (s.time[n - 1] - s.time[0]) / n;
  const repeat = (column, shift) => {
    if (!column) return column;
    const out = new column.constructor(n * times);
    for (let r = 0; r < times; r++) {
      out.set(column, r * n);
      if (shift) for (let i = 0; i < n; i++) out[r * n + i] += r * span;
    }
    return out;
  };
  doc.samples = {
    ...s,
    length: n * times,
    time: repeat(s.time, true),
    stack: repeat(s.stack),
    thread: repeat(s.thread),
    memory: repeat(s.memory),
    weight: repeat(s.weight),
    heap: repeat(s.heap),
  };
  doc.meta.endTime = doc.meta.startTime === null ? null : doc.meta.startTime + span * times;
  doc.meta.name = `big_memory ×${times}`;
  return doc;
}

const dir = await mkdtemp(join(tmpdir(), 'prof-first-memory-'));
try {
  const t = performance.now();
  const doc = await repeatedDocument(N);
  const bytes = await gzipDocument(doc);
  const store = await openStore({ dir });
  const { id } = await store.put(bytes, fieldsFromDocument(doc));
  await store.close();
  console.log(
    `×${N}: ${doc.samples.length.toLocaleString()} samples, document ${(bytes.length / 1e6).toFixed(1)} MB gzipped (made in ${((performance.now() - t) / 1000).toFixed(1)} s)`,
  );

  const first = async (label) => {
    const server = await startServer(dir);
    try {
      const r = await firstMemory(server, id);
      console.log(
        `${label}: ${r.ms.toFixed(0)} ms, server RSS ${r.rssBeforeMb.toFixed(0)} → ${r.rssAfterMb.toFixed(0)} MB (+${(r.rssAfterMb - r.rssBeforeMb).toFixed(0)} MB), peak ${server.peakRssMb().toFixed(0)} MB`,
      );
      return server;
    } catch (error) {
      await server.stop();
      throw error;
    }
  };
  await (await first('first /memory, summary built in it (a profile stored before summaries)')).stop();
  const server = await first('first /memory after a restart (summary stored)');
  try {
    const health = await json(`${server.url}/health`);
    const summaryFile = statSync(join(dir, 'profiles', `${id}.summary`)).size;
    console.log(
      `summary ${(summaryFile / 1e6).toFixed(1)} MB (${(summaryFile / doc.samples.length).toFixed(1)} bytes/sample); /health summaries ${JSON.stringify(health.summaries)}`,
    );
    const q = await longQueries(server.url, id);
    line('warm /memory whole run, 1500 bins', lat(q.memoryWhole));
    line('zoomed /memory (1/10 to 1/10,000 of the run), 1500 bins', lat(q.memoryZoomed));
    line('/stacks of one bin of 1500', lat(q.stacksBin));
    line('/cpu/tree whole run: first, then', `${fmt(q.treeWholeFirst.p50)} ms, ${lat(q.treeWhole)}`);
    line('/cpu/tree of 10 random ranges', lat(q.treeRanges));
    line('/cpu/functions whole run: first, then', `${fmt(q.functionsWholeFirst.p50)} ms, ${lat(q.functionsWhole)}`);
    line('/cpu/functions of 10 random ranges', lat(q.functionsRanges));
    console.log(`server RSS after the queries ${rssMb(server.proc.pid).toFixed(0)} MB`);
  } finally {
    await server.stop();
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}
