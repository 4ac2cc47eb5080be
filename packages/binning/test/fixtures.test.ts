import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  aggregateCallTree,
  analyzeStacks,
  buildMemorySummary,
  functionTable,
  queryBins,
  threadIndices,
} from '../src/index.js';
import { freshDir, loadFixture, type FixtureProfile } from './fixtures.js';
import { expectBinsExact, treeToPlain } from './expect.js';
import { bruteCallTree, type PlainSample } from './reference.js';

const FIXTURES = [
  'memory_spiky',
  'memory_cputimer',
  'big_memory',
  'cpu_basic',
  'lines',
  'lines_recursive_cli',
  'native',
  'threads',
  'pypy_jit',
  'unicode_and_hostile',
];

/** Brute force straight from the JSON name lists: no prefix tree involved. */
function nameAnalysis(stacks: string[][]) {
  let prefix = stacks[0] ?? [];
  const counts = new Map<string, number>();
  for (const s of stacks) {
    let i = 0;
    while (i < prefix.length && i < s.length && prefix[i] === s[i]) i++;
    prefix = prefix.slice(0, i);
    const key = JSON.stringify(s);
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return { prefix, counts };
}

/** Runs of a profile to check: all samples, 40 even slices, and each thread. */
function runsOf(p: FixtureProfile): { start: number; end: number; indices?: Uint32Array; label: string }[] {
  const n = p.sampleStack.length;
  const runs: { start: number; end: number; indices?: Uint32Array; label: string }[] = [
    { start: 0, end: n, label: 'all' },
  ];
  for (let i = 0; i < 40; i++)
    runs.push({ start: Math.floor((n * i) / 40), end: Math.floor((n * (i + 1)) / 40), label: `slice ${i}` });
  const threads = Math.max(...p.thread) + 1;
  if (threads > 1) {
    for (let t = 0; t < threads; t++) {
      const indices = threadIndices(p.thread, t);
      runs.push({ start: 0, end: indices.length, indices, label: `thread ${t}` });
    }
  }
  return runs;
}

function namesOf(p: FixtureProfile, frames: number[]): string[] {
  return frames.map((f) => p.names[f]);
}

/** Stack key as the truth spells it, to compare counts with brute force. */
function keyOf(p: FixtureProfile, frames: number[]): string {
  return JSON.stringify(namesOf(p, frames));
}

describe.each(FIXTURES)('fixture %s (vmprof ground truth)', (name) => {
  const p = loadFixture(name);

  it('analyzeStacks equals brute force over the name lists', () => {
    expect(p.sampleStack.length).toBeGreaterThan(1000);
    for (const run of runsOf(p)) {
      const rows = run.indices ? Array.from(run.indices.subarray(run.start, run.end)) : range(run.start, run.end);
      const ref = nameAnalysis(rows.map((r) => p.sampleNames[r]));
      const res = analyzeStacks(p, p.sampleStack, { ...run, topK: 5 });
      expect(res.samples, run.label).toBe(rows.length);
      expect(namesOf(p, res.prefix), run.label).toEqual(ref.prefix);
      if (rows.length === 0) continue;
      // Stacks are function lists: lines-mode rows that differ only by line count as one.
      const best = Math.max(...ref.counts.values());
      expect(res.share, run.label).toBe(best / rows.length);
      expect(ref.counts.get(keyOf(p, [...res.prefix, ...res.extension])), run.label).toBe(best);
      expect(res.distinct, run.label).toBe(ref.counts.size);
      const sorted = [...ref.counts.values()].sort((a, b) => b - a).slice(0, 5);
      expect(
        res.top.map((t) => t.count),
        run.label,
      ).toEqual(sorted);
      for (const t of res.top) expect(ref.counts.get(keyOf(p, t.frames))).toBe(t.count);
    }
  });

  it('call tree and function table equal brute force; totals equal vmprof where its tree is plain', () => {
    for (const run of runsOf(p)) {
      const rows = run.indices ? Array.from(run.indices.subarray(run.start, run.end)) : range(run.start, run.end);
      const plain: PlainSample[] = rows.map((r) => ({
        stack: p.sampleStack[r],
        frames: p.sampleNames[r].map((nm) => p.names.indexOf(nm)),
        weight: 1,
        growth: 0,
      }));
      const tree = aggregateCallTree(p, p.sampleStack, run);
      expect(treeToPlain(tree), run.label).toEqual(bruteCallTree(plain));
      const table = functionTable(p, p.sampleStack, run);
      const total = new Map<string, number>();
      const self = new Map<string, number>();
      for (const r of rows) {
        const s = p.sampleNames[r];
        for (const nm of new Set(s)) total.set(nm, (total.get(nm) ?? 0) + 1);
        if (s.length) self.set(s[s.length - 1], (self.get(s[s.length - 1]) ?? 0) + 1);
      }
      expect(table.length, run.label).toBe(total.size);
      for (let i = 0; i < table.length; i++) {
        const nm = p.names[table.frame[i]];
        expect([table.total[i], table.self[i]], `${run.label} ${nm}`).toEqual([total.get(nm), self.get(nm) ?? 0]);
      }
    }
    // vmprof's own function list (its tree, recursion counted once) for single-thread CPython files.
    if (['cpu_basic', 'memory_cputimer', 'lines', 'native', 'unicode_and_hostile'].includes(name)) {
      const table = functionTable(p, p.sampleStack, { start: 0, end: p.sampleStack.length });
      const byName = new Map<string, [number, number]>();
      for (let i = 0; i < table.length; i++) byName.set(p.names[table.frame[i]], [table.total[i], table.self[i]]);
      expect(p.functions.length).toBeGreaterThan(5);
      for (const f of p.functions) expect(byName.get(f.name), f.name).toEqual([f.total, f.self]);
    }
  });

  if (p.memory)
    it('memory bins equal brute force, and the peak sample stays the max at every zoom', () => {
      const memory = p.memory!;
      const summary = buildMemorySummary(p.time, memory);
      let peak = 0;
      for (let i = 1; i < memory.length; i++) if (memory[i] > memory[peak]) peak = i;
      const tPeak = p.time[peak];
      const first = p.time[0];
      const last = p.time[p.time.length - 1];
      for (let width = last - first + 1; width >= 1; width /= 4) {
        for (const bins of [1, 7, 200, 2000]) {
          const from = Math.max(first, tPeak - width / 3);
          const res = queryBins(summary, { from, to: from + width, bins, align: bins === 200 });
          expectBinsExact(res, p.time, memory, null, from, from + width);
          let holder = -1;
          for (let i = 0; i < res.bins; i++) if (res.firstIndex[i] <= peak && peak < res.endIndex[i]) holder = i;
          expect(res.max[holder]).toBe(memory[peak]);
        }
      }
      // The growth-ranked stacks of the whole range name the code that grew memory, and agree with a scan.
      const res = analyzeStacks(p, p.sampleStack, { start: 0, end: memory.length, memory, rankBy: 'growth', topK: 3 });
      const growth = new Map<number, number>();
      for (let i = 1; i < memory.length; i++) {
        const d = memory[i] - memory[i - 1];
        if (d > 0) growth.set(p.sampleStack[i], (growth.get(p.sampleStack[i]) ?? 0) + d);
      }
      const ranked = [...growth.values()].sort((a, b) => b - a).slice(0, 3);
      expect(res.top.map((t) => t.growth)).toEqual(ranked);
    });
});

describe('memory_spiky: the spike the workload planted', () => {
  const p = loadFixture('memory_spiky');
  const events = JSON.parse(readFileSync(resolve(freshDir, 'memory_spiky.events.json'), 'utf8'));
  // The truth keeps the first and last 2000 samples; the last spike (600 MB, 26 samples) is in the tail.
  const spike = events.spikes_in_samples.spikes.at(-1);
  const periodMs = 2;
  const peak = spike.peak_kb * 1024;
  const tStart = spike.first_sample * periodMs;
  const summary = buildMemorySummary(p.time, p.memory!);

  it('is the max of its bin at every zoom, from the whole run to single samples, while its mean is not', () => {
    expect(Math.max(...p.memory!.subarray(2000))).toBe(peak);
    const whole = p.time[p.time.length - 1] + periodMs;
    for (let width = whole; width >= periodMs; width /= 2) {
      for (const [bins, align] of [
        [2000, false],
        [300, true],
        [7, false],
      ] as const) {
        const from = Math.max(0, tStart - width * 0.37);
        const res = queryBins(summary, { from, to: from + width, bins, align });
        const holder = binOf(res.start, tStart);
        expect(res.end[holder]).toBeGreaterThan(tStart);
        expect(res.max[holder]).toBe(peak);
      }
    }
    // A 100-bin overview: the spike's bin averages far below its peak — a mean-only plot hides it.
    const overview = queryBins(summary, { from: 0, to: whole, bins: 100 });
    const i = binOf(overview.start, tStart);
    expect(overview.max[i]).toBe(peak);
    expect(overview.mean[i]).toBeLessThan(peak - 400 * 2 ** 20);
    // Between the head and the tail the truth has no samples: empty bins, not interpolated.
    expect(Array.from(overview.count).filter((c) => c === 0).length).toBeGreaterThan(50);
    expect(Array.from(overview.count).reduce((a, b) => a + b, 0)).toBe(4000);
  });

  it("names the code that spiked: the spike's samples share the workload's spike() frame", () => {
    const res = queryBins(summary, { from: tStart, to: spike.end_sample * periodMs, bins: 1 });
    expect(res.count[0]).toBe(spike.samples);
    const first = res.firstIndex[0];
    const a = analyzeStacks(p, p.sampleStack, {
      start: first,
      end: res.endIndex[0],
      memory: p.memory!,
      topK: 1,
      rankBy: 'growth',
    });
    const prefix = a.prefix.map((f) => p.names[f].split(':')[1]);
    expect(prefix).toContain('spike');
    expect(a.share).toBeGreaterThan(0.9);
    // The jump to the peak happened at the spike's first sample: its stack carries the growth.
    expect(a.top[0].growth).toBe(peak - p.memory![first - 1]);
    expect(a.top[0].frames.join()).toBe(stackNames(p, first));
  });
});

/** Last bin starting at or before t. */
function binOf(start: Float64Array, t: number): number {
  let i = 0;
  while (i + 1 < start.length && start[i + 1] <= t) i++;
  return i;
}

function stackNames(p: FixtureProfile, row: number): string {
  const frames: number[] = [];
  for (let s = p.sampleStack[row]; s >= 0; s = p.parent[s]) frames.unshift(p.frame[s]);
  return frames.join();
}

function range(a: number, b: number): number[] {
  return Array.from({ length: b - a }, (_, i) => a + i);
}
