import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  aggregateCallTree,
  analyzeStacks,
  functionCalls,
  functionTable,
  memoryGrowth,
  threadIndices,
} from '../src/index.js';
import { treeToPlain } from './expect.js';
import {
  bruteCallTree,
  bruteCalls,
  bruteFunctionTable,
  bruteStackAnalysis,
  close,
  rowPath,
  type PlainNode,
} from './reference.js';
import { plainSamples, profileArb } from './trees.js';

/** A profile plus a run of it: all samples, a sub-range, or one thread's samples. */
const caseArb = fc
  .tuple(profileArb, fc.nat(), fc.nat(), fc.boolean(), fc.boolean())
  .map(([p, a, b, byThread, weighted]) => {
    const indices = byThread ? threadIndices(p.thread, 0) : undefined;
    const n = indices ? indices.length : p.sampleStack.length;
    const x = n === 0 ? 0 : a % (n + 1);
    const y = n === 0 ? 0 : b % (n + 1);
    return { p, start: Math.min(x, y), end: Math.max(x, y), indices, weighted };
  });

/** Rounds weights so sums taken in different orders compare equal. */
function rounded(n: PlainNode): PlainNode {
  return { frame: n.frame, self: +n.self.toFixed(6), total: +n.total.toFixed(6), children: n.children.map(rounded) };
}

describe('analyzeStacks', () => {
  it('equals brute force on random prefix trees: prefix, most common extension, share, top K, growth', () => {
    fc.assert(
      fc.property(
        caseArb,
        fc.integer({ min: 0, max: 6 }),
        fc.boolean(),
        ({ p, start, end, indices }, topK, byGrowth) => {
          const res = analyzeStacks(p, p.sampleStack, {
            start,
            end,
            indices,
            topK,
            memory: p.memory,
            rankBy: byGrowth ? 'growth' : 'count',
          });
          const plain = plainSamples(p, start, end, indices);
          const ref = bruteStackAnalysis(plain, p.parent, p.frame);
          expect(res.samples).toBe(plain.length);
          expect(res.distinct).toBe(ref.counts.size);
          expect(res.prefixStack).toBe(ref.prefixStack);
          expect(res.prefix).toEqual(ref.prefix);
          if (plain.length === 0) {
            expect(res.top).toEqual([]);
            return;
          }
          expect(res.extensionStack).toBe(ref.bestStack);
          const framesOf = (row: number) => rowPath(p.parent, row).map((r) => p.frame[r]);
          expect([...res.prefix, ...res.extension]).toEqual(framesOf(ref.bestStack));
          expect(res.share).toBe(ref.share);
          const growth = plain.reduce((a, s) => a + s.growth, 0);
          expect(close(res.growth!, growth)).toBe(true);

          const rank = [...ref.counts.entries()].sort(([sa, a], [sb, b]) =>
            byGrowth ? b.growth - a.growth || b.count - a.count || sa - sb : b.count - a.count || sa - sb,
          );
          expect(res.top.map((t) => t.stack)).toEqual(rank.slice(0, topK).map(([s]) => s));
          for (const t of res.top) {
            const e = ref.counts.get(t.stack)!;
            expect(t.count).toBe(e.count);
            expect(close(t.growth!, e.growth)).toBe(true);
            expect(t.frames).toEqual(framesOf(t.stack));
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('rejects a stack row that does not exist and a parent that is not smaller', () => {
    const parent = Int32Array.of(-1, 0);
    const frame = Uint32Array.of(0, 1);
    expect(() => analyzeStacks({ parent, frame }, Int32Array.of(0, 2), { start: 0, end: 2 })).toThrow(
      /sample 1 has stack 2/,
    );
    expect(() =>
      analyzeStacks({ parent: Int32Array.of(-1, 1), frame }, Int32Array.of(0), { start: 0, end: 1 }),
    ).toThrow(/stacks.parent\[1\] = 1/);
    expect(() => analyzeStacks({ parent, frame }, Int32Array.of(0), { start: 0, end: 2 })).toThrow(/end=2/);
    expect(() => analyzeStacks({ parent, frame }, Int32Array.of(0), { start: 0, end: 1, rankBy: 'growth' })).toThrow(
      /memory/,
    );
  });
});

describe('aggregateCallTree', () => {
  it('equals brute force on random prefix trees, merging rows of the same function', () => {
    fc.assert(
      fc.property(caseArb, ({ p, start, end, indices, weighted }) => {
        const weight = weighted ? p.weight : undefined;
        const tree = aggregateCallTree(p, p.sampleStack, { start, end, indices, weight });
        const plain = plainSamples(p, start, end, indices, weighted);
        expect(tree.samples).toBe(plain.length);
        expect(rounded(treeToPlain(tree))).toEqual(rounded(bruteCallTree(plain)));
        expect(tree.subtreeEnd[0]).toBe(tree.length);
        // Every sample's stack row maps to the node whose path is that stack's frames.
        for (const s of plain) {
          if (s.stack < 0) continue;
          const path: number[] = [];
          for (let n = tree.stackNode[s.stack]; n > 0; n = tree.parent[n]) path.unshift(tree.frame[n]);
          expect(path).toEqual(s.frames);
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('functionTable and functionCalls', () => {
  it('equal brute force on random prefix trees, recursive functions counted once per sample', () => {
    fc.assert(
      fc.property(caseArb, fc.nat(), ({ p, start, end, indices, weighted }, pick) => {
        const weight = weighted ? p.weight : undefined;
        const table = functionTable(p, p.sampleStack, { start, end, indices, weight });
        const plain = plainSamples(p, start, end, indices, weighted);
        const ref = bruteFunctionTable(plain);
        expect(table.length).toBe(ref.total.size);
        expect(
          close(
            table.weightTotal,
            plain.reduce((a, s) => a + s.weight, 0),
          ),
        ).toBe(true);
        for (let r = 0; r < table.length; r++) {
          const f = table.frame[r];
          expect(close(table.total[r], ref.total.get(f)!)).toBe(true);
          expect(close(table.self[r], ref.self.get(f) ?? 0)).toBe(true);
          if (r > 0) expect(table.total[r]).toBeLessThanOrEqual(table.total[r - 1]);
        }
        if (table.length === 0) return;
        const target = table.frame[pick % table.length];
        const calls = functionCalls(p, p.sampleStack, target, { start, end, indices, weight });
        const refCalls = bruteCalls(plain, target);
        expect(close(calls.total, refCalls.total)).toBe(true);
        expect(close(calls.self, refCalls.self)).toBe(true);
        const asMap = (edges: { frame: number; total: number }[]) =>
          new Map(edges.map((e) => [e.frame, +e.total.toFixed(6)]));
        const roundMap = (m: Map<number, number>) => new Map([...m].map(([k, v]) => [k, +v.toFixed(6)]));
        expect(asMap(calls.callers)).toEqual(roundMap(refCalls.callers));
        expect(asMap(calls.callees)).toEqual(roundMap(refCalls.callees));
      }),
      { numRuns: 300 },
    );
  });
});

describe('memoryGrowth', () => {
  it('credits each positive step to the sample that saw it', () => {
    expect(Array.from(memoryGrowth(Float64Array.of(10, 15, 12, 20, 20)))).toEqual([0, 5, 0, 8, 0]);
  });
});
