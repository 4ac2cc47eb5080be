// The columns the server and the browser really bin: vmprof files read by @prof/format's reader
// (imported from its source, test-only, so the library itself stays free of it), checked against
// brute force and against what the workloads recorded they did.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { readProfileFile } from '@prof/format/node';
import type { ProfileDocument } from '@prof/format';
import {
  aggregateCallTree,
  analyzeStacks,
  buildMemorySummary,
  functionTable,
  memoryGrowth,
  queryBins,
  type MemorySummary,
} from '../src/index.js';
import { expectBinsExact, treeToPlain } from './expect.js';
import { freshDir, loadFixture } from './fixtures.js';
import { bruteCallTree, bruteFunctionTable, bruteStackAnalysis, close, type PlainNode } from './reference.js';
import { plainSamples } from './trees.js';

interface Spike {
  first_sample: number;
  end_sample: number;
  base_kb: number;
  peak_kb: number;
}

const columnsOf = (doc: ProfileDocument) => ({
  parent: doc.stacks.parent,
  frame: doc.stacks.frame,
  sampleStack: doc.samples.stack,
  memory: doc.samples.memory ?? undefined,
});

/** Stack analysis and both aggregations of positions [start, end) against brute force. */
function expectStacksExact(doc: ProfileDocument, start: number, end: number, label: string): void {
  const columns = columnsOf(doc);
  const memory = doc.samples.memory;
  const plain = plainSamples(columns, start, end);
  const ref = bruteStackAnalysis(plain, columns.parent, columns.frame);
  const res = analyzeStacks(doc.stacks, doc.samples.stack, {
    start,
    end,
    memory,
    rankBy: memory ? 'growth' : 'count',
    topK: 5,
  });
  expect(res.prefix, label).toEqual(ref.prefix);
  expect(res.extensionStack, label).toBe(ref.bestStack);
  expect(res.share, label).toBe(ref.share);
  expect(res.distinct, label).toBe(ref.counts.size);
  for (const t of res.top) {
    expect(t.count, label).toBe(ref.counts.get(t.stack)!.count);
    if (memory) expect(t.growth, label).toBe(ref.counts.get(t.stack)!.growth);
  }
  const tree = aggregateCallTree(doc.stacks, doc.samples.stack, { start, end });
  expect(treeToPlain(tree), label).toEqual(bruteCallTree(plain));
  const table = functionTable(doc.stacks, doc.samples.stack, { start, end });
  const refTable = bruteFunctionTable(plain);
  expect(table.length, label).toBe(refTable.total.size);
  for (let r = 0; r < table.length; r++) {
    expect([table.self[r], table.total[r]], label).toEqual([
      refTable.self.get(table.frame[r]) ?? 0,
      refTable.total.get(table.frame[r]),
    ]);
  }
  if (!memory) return;
  // "Which code grew memory": the call tree weighted by growth.
  const grown = aggregateCallTree(doc.stacks, doc.samples.stack, { start, end, weight: memoryGrowth(memory) });
  const weighted = plain.map((s) => ({ ...s, weight: s.growth }));
  expect(roundTree(treeToPlain(grown)), label).toEqual(roundTree(bruteCallTree(weighted)));
}

function roundTree(n: PlainNode): PlainNode {
  return { frame: n.frame, self: Math.round(n.self), total: Math.round(n.total), children: n.children.map(roundTree) };
}

describe('memory_spiky.prof as @prof/format reads it: all 28,034 samples, 12 planted spikes', () => {
  let doc: ProfileDocument;
  let memory: Float64Array;
  let summary: MemorySummary;
  const spikes: Spike[] = JSON.parse(readFileSync(resolve(freshDir, 'memory_spiky.events.json'), 'utf8'))
    .spikes_in_samples.spikes;
  const names = (frames: number[]) => frames.map((f) => doc.strings[doc.frames.name[f]]);

  beforeAll(async () => {
    doc = await readProfileFile(resolve(freshDir, 'memory_spiky.prof'));
    memory = doc.samples.memory!;
    summary = buildMemorySummary(doc.samples.time, memory);
  });

  it('is the series of the ground truth', () => {
    const truth = loadFixture('memory_spiky');
    expect(doc.samples.length).toBe(28_034);
    expect(Array.from(memory.subarray(0, 2000))).toEqual(Array.from(truth.memory!.subarray(0, 2000)));
    expect(Array.from(memory.subarray(-2000))).toEqual(Array.from(truth.memory!.subarray(-2000)));
    expect(spikes.length).toBe(12);
  });

  it('every spike is the max of its bin at every zoom, and every bin equals brute force', () => {
    const time = doc.samples.time;
    const whole = time[time.length - 1] - time[0];
    for (const spike of spikes) {
      let at = spike.first_sample;
      for (let k = spike.first_sample; k < spike.end_sample; k++) if (memory[k] > memory[at]) at = k;
      const peak = spike.peak_kb * 1024;
      expect(memory[at]).toBe(peak);
      for (let width = whole * 1.01; width > 4; width /= 3) {
        for (const [bins, align] of [
          [2000, false],
          [300, true],
          [7, false],
        ] as const) {
          const from = time[at] - width * 0.61;
          const res = queryBins(summary, { from, to: from + width, bins, align });
          expectBinsExact(res, time, memory, null, from, from + width);
          let holder = -1;
          for (let i = 0; i < res.bins; i++) if (res.firstIndex[i] <= at && at < res.endIndex[i]) holder = i;
          expect(res.max[holder]).toBeGreaterThanOrEqual(peak);
        }
      }
    }
  });

  it('a 3-sample spike stands out by its max in a 500-bin overview, not by its mean', () => {
    const spike = spikes.find((s) => s.end_sample - s.first_sample === 3)!;
    const time = doc.samples.time;
    const res = queryBins(summary, { from: 0, to: time[time.length - 1] + 1, bins: 500 });
    const i = res.firstIndex.findIndex((lo, b) => lo <= spike.first_sample && spike.first_sample < res.endIndex[b]);
    expect(res.max[i]).toBe(spike.peak_kb * 1024);
    expect(res.mean[i]).toBeLessThan((spike.base_kb + 0.2 * (spike.peak_kb - spike.base_kb)) * 1024);
  });

  it("each spike's samples share the workload's spike() frame, and the growth is credited to the allocating code", () => {
    for (const spike of spikes) {
      const res = analyzeStacks(doc.stacks, doc.samples.stack, {
        start: spike.first_sample,
        end: spike.end_sample,
        memory,
        rankBy: 'growth',
        topK: 1,
      });
      expect(names(res.prefix)).toContain('spike');
      // The spike's jump happened inside the range, so the range's growth covers most of it.
      expect(res.growth!).toBeGreaterThan(0.5 * (spike.peak_kb - spike.base_kb) * 1024);
      expect(res.top[0].growth!).toBeGreaterThan(0.5 * res.growth!);
    }
  });

  it('stack analysis and aggregation equal brute force over each spike, 20 slices and the whole run', () => {
    const n = doc.samples.length;
    for (const s of spikes) expectStacksExact(doc, s.first_sample, s.end_sample, `spike ${s.first_sample}`);
    for (let i = 0; i < 20; i++)
      expectStacksExact(doc, Math.floor((n * i) / 20), Math.floor((n * (i + 1)) / 20), `slice ${i}`);
    expectStacksExact(doc, 0, n, 'whole run');
  });
});

describe('big_memory.prof as @prof/format reads it: 318,694 samples, 20 frames deep', () => {
  let doc: ProfileDocument;

  beforeAll(async () => {
    doc = await readProfileFile(resolve(freshDir, 'big_memory.prof'));
  });

  it('memory bins equal brute force from the whole run down to a few samples', () => {
    const { time } = doc.samples;
    const memory = doc.samples.memory!;
    expect(doc.samples.length).toBe(318_694);
    const summary = buildMemorySummary(time, memory);
    let at = 0;
    for (let k = 1; k < memory.length; k++) if (memory[k] > memory[at]) at = k;
    for (let width = (time[time.length - 1] - time[0]) * 1.01; width > 2; width /= 7) {
      for (const [bins, align] of [
        [2000, false],
        [333, true],
      ] as const) {
        const from = time[at] - width * 0.29;
        const res = queryBins(summary, { from, to: from + width, bins, align });
        expectBinsExact(res, time, memory, null, from, from + width);
        expect(Math.max(...res.max.filter((m) => !Number.isNaN(m)))).toBe(memory[at]);
      }
    }
  });

  it('stack analysis and aggregation equal brute force over 8 slices and the whole run', () => {
    const n = doc.samples.length;
    for (let i = 0; i < 8; i++)
      expectStacksExact(doc, Math.floor((n * i) / 8), Math.floor((n * (i + 1)) / 8), `slice ${i}`);
    expectStacksExact(doc, 0, n, 'whole run');
    // The same sums whichever way they are taken.
    const table = functionTable(doc.stacks, doc.samples.stack, {
      start: 0,
      end: n,
      weight: memoryGrowth(doc.samples.memory!),
    });
    expect(
      close(
        table.weightTotal,
        memoryGrowth(doc.samples.memory!).reduce((a, b) => a + b, 0),
      ),
    ).toBe(true);
  });
});
