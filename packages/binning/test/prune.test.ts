import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  aggregateCallTree,
  callTreeFromColumns,
  compactRun,
  functionCalls,
  functionCallsFromColumns,
  functionTable,
  functionTableFromColumns,
  lineTable,
  pruneCallTree,
  type CallTree,
  type PrunedCallTree,
} from '../src/index.js';
import { close } from './reference.js';
import { runArb, type RandomProfile } from './trees.js';

const pruneArb = fc.record({
  minShare: fc.constantFrom(0, 1 / 20000, 0.01, 0.05, 0.3, 1),
  maxNodes: fc.integer({ min: 1, max: 60 }),
});

/** Every kept node's weight is accounted for: self + kept children + cut = total. */
function expectAccounted(t: PrunedCallTree): void {
  const childSum = new Float64Array(t.length);
  for (let n = 1; n < t.length; n++) childSum[t.parent[n]] += t.total[n];
  for (let n = 0; n < t.length; n++) {
    expect(close(t.self[n] + childSum[n] + t.cut[n], t.total[n])).toBe(true);
  }
}

/** Preorder invariants: parents first, subtreeEnd nests, children's offsets tile from the parent's. */
function expectWellFormed(t: PrunedCallTree | CallTree): void {
  for (let n = 1; n < t.length; n++) {
    const p = t.parent[n];
    expect(p).toBeGreaterThanOrEqual(0);
    expect(p).toBeLessThan(n);
    expect(t.depth[n]).toBe(t.depth[p] + 1);
    expect(t.subtreeEnd[n]).toBeLessThanOrEqual(t.subtreeEnd[p]);
  }
  for (let p = 0; p < t.length; p++) {
    let x = t.offset[p];
    for (let c = p + 1; c < t.subtreeEnd[p]; c = t.subtreeEnd[c]) {
      expect(t.parent[c]).toBe(p);
      expect(close(t.offset[c], x)).toBe(true);
      x += t.total[c];
    }
  }
}

describe('pruneCallTree', () => {
  it('keeps the totals of the unpruned tree and accounts for every cut weight', () => {
    fc.assert(
      fc.property(runArb, pruneArb, ({ p, run }, opts) => {
        const full = aggregateCallTree(p, p.sampleStack, run);
        const pruned = pruneCallTree(full, opts);
        expect(pruned.unprunedLength).toBe(full.length);
        expect(pruned.length).toBeLessThanOrEqual(Math.max(1, opts.maxNodes));
        expect(pruned.total[0]).toBe(full.total[0]);
        expect(pruned.samples).toBe(full.samples);
        expectWellFormed(pruned);
        expectAccounted(pruned);
        // Kept nodes are the unpruned ones at the same path with the same weights.
        const key = (t: { parent: Int32Array; frame: Int32Array }, n: number): string =>
          n <= 0 ? '' : `${key(t, t.parent[n])}/${t.frame[n]}`;
        const byPath = new Map<string, number>();
        for (let n = 0; n < full.length; n++) byPath.set(key(full, n), n);
        let cutNodes = 0;
        for (let n = 0; n < pruned.length; n++) {
          const m = byPath.get(key(pruned, n))!;
          expect(m).toBeDefined();
          // `source` names that node, so columns beside the full tree (a diff's) can be read.
          expect(pruned.source[n]).toBe(m);
          expect([pruned.self[n], pruned.total[n], pruned.offset[n]]).toEqual([
            full.self[m],
            full.total[m],
            full.offset[m],
          ]);
          cutNodes += pruned.cutCount[n];
        }
        // Whatever was dropped is under the share limit or lighter than every kept node.
        const limit = opts.minShare * full.total[0];
        const lightestKept = Math.min(...Array.from(pruned.total));
        const keptPaths = new Set(Array.from({ length: pruned.length }, (_, k) => key(pruned, k)));
        for (let n = 1; n < full.length; n++) {
          if (keptPaths.has(key(full, n))) continue;
          // (A float sum can make a child a hair heavier than its kept parent.)
          expect(full.total[n] < limit || full.total[n] <= lightestKept || close(full.total[n], lightestKept)).toBe(
            true,
          );
        }
        expect(cutNodes).toBe(countDirectlyCut(full, pruned));
      }),
      { numRuns: 150 },
    );
  });

  it('pruning a pruned tree again keeps the cut totals', () => {
    fc.assert(
      fc.property(runArb, pruneArb, pruneArb, ({ p, run }, a, b) => {
        const once = pruneCallTree(aggregateCallTree(p, p.sampleStack, run), a);
        const twice = pruneCallTree(once, b);
        expect(twice.total[0]).toBe(once.total[0]);
        expectAccounted(twice);
      }),
      { numRuns: 80 },
    );
  });

  it('keeps the root alone when one node is allowed, with all its children cut', () => {
    const parent = Int32Array.from([-1, 0, -1]);
    const frame = Uint32Array.from([0, 1, 2]);
    const tree = aggregateCallTree({ parent, frame }, Int32Array.from([1, 1, 2, 0, -1]), { start: 0, end: 5 });
    const pruned = pruneCallTree(tree, { maxNodes: 1 });
    expect(pruned.length).toBe(1);
    expect([pruned.total[0], pruned.self[0], pruned.cut[0], pruned.cutCount[0]]).toEqual([5, 1, 4, 2]);
    expect(pruned.subtreeEnd[0]).toBe(1);
  });

  it('refuses nonsense limits', () => {
    const tree = aggregateCallTree({ parent: new Int32Array(0), frame: new Uint32Array(0) }, new Int32Array(0), {
      start: 0,
      end: 0,
    });
    expect(() => pruneCallTree(tree, { minShare: 2 })).toThrow(/minShare/);
    expect(() => pruneCallTree(tree, { maxNodes: 0 })).toThrow(/maxNodes/);
  });
});

function countDirectlyCut(full: CallTree, pruned: PrunedCallTree): number {
  const key = (t: { parent: Int32Array; frame: Int32Array }, n: number): string =>
    n <= 0 ? '' : `${key(t, t.parent[n])}/${t.frame[n]}`;
  const kept = new Set<string>();
  for (let n = 0; n < pruned.length; n++) kept.add(key(pruned, n));
  let count = 0;
  for (let n = 1; n < full.length; n++) if (!kept.has(key(full, n)) && kept.has(key(full, full.parent[n]))) count++;
  return count;
}

describe('views from per-stack columns', () => {
  it('equal the views of the samples themselves', () => {
    fc.assert(
      fc.property(runArb, fc.nat(12), ({ p, run }, target) => {
        const columns = compactRun(p, p.sampleStack, run);
        const direct = aggregateCallTree(p, p.sampleStack, run);
        const folded = callTreeFromColumns(p, columns);
        expect(folded.samples).toBe(direct.samples);
        expect(folded.length).toBe(direct.length);
        expect(folded.frame).toEqual(direct.frame);
        expect(folded.subtreeEnd).toEqual(direct.subtreeEnd);
        for (let n = 0; n < direct.length; n++) {
          expect(close(folded.total[n], direct.total[n])).toBe(true);
          expect(close(folded.self[n], direct.self[n])).toBe(true);
        }
        const table = functionTable(p, p.sampleStack, run);
        const fromColumns = functionTableFromColumns(p, columns);
        expect([fromColumns.samples, fromColumns.length]).toEqual([table.samples, table.length]);
        expect(close(fromColumns.weightTotal, table.weightTotal)).toBe(true);
        const calls = functionCalls(p, p.sampleStack, target, run);
        const callsFolded = functionCallsFromColumns(p, columns, target);
        expect(close(callsFolded.total, calls.total)).toBe(true);
        expect(callsFolded.callers.map((e) => e.frame).sort()).toEqual(calls.callers.map((e) => e.frame).sort());
      }),
      { numRuns: 150 },
    );
  });
});

/** Brute force: per line of `target`, the samples running it and those holding it innermost on the stack. */
function bruteLines(
  p: RandomProfile,
  line: Int32Array,
  run: { start: number; end: number; indices?: Uint32Array; weight?: Float64Array },
  target: number,
) {
  const self = new Map<number, number>();
  const total = new Map<number, number>();
  for (let k = run.start; k < run.end; k++) {
    const i = run.indices ? run.indices[k] : k;
    const s = p.sampleStack[i];
    const w = run.weight ? run.weight[i] : 1;
    if (s < 0) continue;
    if (p.frame[s] === target) self.set(line[s], (self.get(line[s]) ?? 0) + w);
    for (let r = s; r >= 0; r = p.parent[r]) {
      if (p.frame[r] === target) {
        total.set(line[r], (total.get(line[r]) ?? 0) + w);
        break;
      }
    }
  }
  return { self, total };
}

describe('lineTable', () => {
  it('matches a brute-force pass over the samples, from samples and from folded columns', () => {
    fc.assert(
      fc.property(runArb, fc.nat(12), ({ p, run }, target) => {
        const line = Int32Array.from(p.parent, (_, i) => (i * 7) % 5);
        const stacks = { parent: p.parent, frame: p.frame, line };
        const want = bruteLines(p, line, run, target);
        const rows = lineTable(stacks, p.sampleStack, target, run);
        expect(rows.length).toBe(want.total.size);
        for (const r of rows) {
          expect(close(r.total, want.total.get(r.line)!)).toBe(true);
          expect(close(r.self, want.self.get(r.line) ?? 0)).toBe(true);
        }
        for (let i = 1; i < rows.length; i++) expect(rows[i - 1].total >= rows[i].total).toBe(true);
        const c = compactRun(p, p.sampleStack, run);
        const folded = lineTable(stacks, c.sampleStack, target, {
          start: 0,
          end: c.sampleStack.length,
          weight: c.weight,
        });
        expect(folded.map((r) => r.line)).toEqual(rows.map((r) => r.line));
      }),
      { numRuns: 150 },
    );
  });
});
