// The read queries a viewer of a long profile makes, timed against a running server: the first
// /memory after a (re)start with the server's RSS around it, then warm and zoomed /memory, /stacks of
// one bin, and the CPU views (/cpu/tree: flame graph and call tree; /cpu/functions: function table)
// of the whole run and of random ranges. /memory is asked as the memory view asks it (`snap=1`: inner
// edges at block starts when bins are wide). Used by first-memory.mjs and by the whole long-profile
// bench (bench/long.mjs at the root). Seeded: every run asks the same ranges.
import { readFileSync } from 'node:fs';
import { json, latency, rng, timed } from './lib.mjs';

export const rssMb = (pid) => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]) / 1024;

/** As the memory view asks its bins. */
const MEMORY = 'memory?bins=1500&snap=1';

/** The first /memory (1,500 bins) of a fresh server: ms, and its RSS in MB before and after. */
export async function firstMemory(server, id) {
  const before = rssMb(server.proc.pid);
  const r = await timed(`${server.url}/api/profiles/${id}/${MEMORY}`);
  if (r.status !== 200) throw new Error(`/memory: ${r.status} ${r.body}`);
  return { ms: r.ms, rssBeforeMb: before, rssAfterMb: rssMb(server.proc.pid) };
}

/** A range of 1/10 to 1/10,000 of `[0, end)`, log-uniform: from a zoom on the chart to a few bins. */
function randomRange(random, end) {
  const w = end / 10 ** (1 + 3 * random());
  const from = random() * (end - w);
  return `from=${from}&to=${from + w}`;
}

/**
 * Warm and zoomed queries on `id` (p50/p99/max in ms from lib.mjs `latency`). `runs` per memory
 * shape and for /stacks: 300, so that a p99 is the third slowest (of 30 it was the maximum, and of
 * 100 one query that waited for the disk or a collection set it; the ×64 / ×1 ratios of figures of
 * a few ms then changed from run to run); the first 30 zooms are those of the earlier tables. The CPU
 * views: the whole run once (the first ask) then `wholeRuns` times (30: of 5, one slow answer moved
 * the p50), and `ranges` random ranges once each. `round` (from 0) picks the seeds: bench/long.mjs asks
 * each size in several rounds on restarted servers, interleaved with the other sizes.
 */
export async function longQueries(url, id, { runs = 300, wholeRuns = 30, ranges = 10, round = 0 } = {}) {
  const base = `${url}/api/profiles/${id}`;
  const end = (await json(`${base}/${MEMORY}`)).to;
  const out = {};
  // Round 0 asks what every earlier table asked; each later round (bench/long.mjs) other windows.
  let random = rng(11 + 1000 * round);
  out.memoryWhole = await latency(runs, () => `${base}/${MEMORY}`);
  out.memoryZoomed = await latency(runs, () => `${base}/${MEMORY}&${randomRange(random, end)}`);
  out.stacksBin = await latency(runs, () => {
    const from = random() * end;
    return `${base}/stacks?from=${from}&to=${from + end / 1500}`;
  });
  out.cpuInfo = await latency(wholeRuns, () => `${base}/cpu`);
  for (const [key, path] of [
    ['tree', '/cpu/tree'],
    ['functions', '/cpu/functions'],
  ]) {
    out[`${key}WholeFirst`] = await latency(1, () => `${base}${path}`);
    out[`${key}Whole`] = await latency(wholeRuns, () => `${base}${path}`);
    random = rng(23 + 1000 * round);
    out[`${key}Ranges`] = await latency(ranges, () => `${base}${path}?${randomRange(random, end)}`);
  }
  return out;
}
