// The first /memory after a restart on a long profile: time and server RSS growth.
// Usage: node bench/first-memory.mjs [N]   (after building; N defaults to 16)
//
// The profile is big_memory.prof's samples repeated N times (times shifted, so the run is N× as
// long), stored straight into a fresh data directory as a document with no summary. Then:
//  1. a server starts, and its first /memory builds the summary (the path of a profile stored before
//     summaries existed: decode on the worker pool, build, store);
//  2. a fresh server starts, and its first /memory reads the stored summary: the figure issue 10
//     is about (previously 4,056 ms and +673 MB at ×64, decoding the whole document in the request);
//  3. warm and zoomed /memory, and /stacks of one bin, on that server.
// RSS is the server process's VmRSS just before the first query and just after its answer.
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { gzipDocument, readProfileFile } from '@prof/format/node';
import { fieldsFromDocument, openStore } from '@prof/store';
import { fixturesDir } from '../../../scripts/fixtures.mjs';
import { json, quantile, startServer, timed } from './lib.mjs';

const N = Number(process.argv[2] ?? 16);
const rssMb = (pid) => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]) / 1024;

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
      const before = rssMb(server.proc.pid);
      const r = await timed(`${server.url}/api/profiles/${id}/memory?bins=1500`);
      if (r.status !== 200) throw new Error(`/memory: ${r.status} ${r.body}`);
      const after = rssMb(server.proc.pid);
      console.log(
        `${label}: ${r.ms.toFixed(0)} ms, server RSS ${before.toFixed(0)} → ${after.toFixed(0)} MB (+${(after - before).toFixed(0)} MB)`,
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
    const summaryFile = (await import('node:fs')).statSync(join(dir, 'profiles', `${id}.summary`)).size;
    console.log(
      `summary ${(summaryFile / 1e6).toFixed(1)} MB (${(summaryFile / doc.samples.length).toFixed(1)} bytes/sample); /health summaries ${JSON.stringify(health.summaries)}`,
    );
    const whole = await json(`${server.url}/api/profiles/${id}/memory?bins=1500`);
    const end = whole.to;
    const sample = async (label, makeQuery, runs = 30) => {
      const ms = [];
      let seed = 11;
      const random = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
      for (let i = 0; i < runs; i++) {
        const r = await timed(`${server.url}/api/profiles/${id}/${makeQuery(random)}`);
        if (r.status !== 200) throw new Error(`${label}: ${r.status} ${r.body}`);
        ms.push(r.ms);
      }
      console.log(`${label}: median ${quantile(ms, 0.5).toFixed(1)} ms, p99 ${quantile(ms, 0.99).toFixed(1)} ms`);
    };
    await sample('warm /memory whole run, 1500 bins', () => 'memory?bins=1500');
    await sample('zoomed /memory (1/10 to 1/10,000 of the run), 1500 bins', (random) => {
      const w = end / 10 ** (1 + 3 * random());
      const from = random() * (end - w);
      return `memory?bins=1500&from=${from}&to=${from + w}`;
    });
    await sample('/stacks of one bin of 1500', (random) => {
      const from = random() * end;
      return `stacks?from=${from}&to=${from + end / 1500}`;
    });
    await sample('/stacks of the whole run', () => 'stacks', 5);
    console.log(`server RSS after the queries ${rssMb(server.proc.pid).toFixed(0)} MB`);
  } finally {
    await server.stop();
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}
