import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  aggregateCallTree,
  buildMemorySummary,
  clockWindows,
  compactRun,
  compareMemory,
  compareMemoryBins,
  diffCallTrees,
  diffFunctionTables,
  diffStacks,
  functionTable,
  keyedStacks,
  matchFrames,
  queryBins,
} from '../src/index.js';
import { close } from './reference.js';
import { profileArb, runArb, type RandomProfile } from './trees.js';

/** Keys that merge some frames (f and f + 5 are one function), so matching is not the identity. */
const keysOf = (p: RandomProfile, salt: number) => {
  let frames = 0;
  for (const f of p.frame) frames = Math.max(frames, f + 1);
  return Array.from({ length: frames }, (_, f) => `fn${(f + salt) % 5}`);
};

describe('comparison of a profile with itself', () => {
  it('has zero change everywhere: functions, call tree, memory', () => {
    fc.assert(
      fc.property(runArb, fc.integer({ min: 1, max: 40 }), ({ p, run }, bins) => {
        const table = functionTable(p, p.sampleStack, run);
        const fd = diffFunctionTables(table, table);
        expect(fd.rows.length).toBe(table.length);
        for (const r of fd.rows) {
          expect([r.added, r.removed]).toEqual([false, false]);
          expect([r.delta.self, r.delta.total, r.deltaShare.self, r.deltaShare.total]).toEqual([0, 0, 0, 0]);
          expect(r.base).toEqual(r.target);
        }
        const tree = aggregateCallTree(p, p.sampleStack, run);
        const td = diffCallTrees(tree, tree);
        expect([...td.baseNode]).toEqual(Array.from({ length: tree.length }, (_, i) => i));
        expect(td.baseTotal).toEqual(tree.total);
        expect(td.baseSelf).toEqual(tree.self);
        expect([...td.removedTotal].every((x) => x === 0)).toBe(true);

        const time = Float64Array.from(p.memory, (_, i) => i * 10);
        const summary = buildMemorySummary(time, p.memory, run.indices);
        const to = time.length * 10 + 1;
        const md = compareMemory(summary, summary, { base: { from: 0, to }, target: { from: 0, to }, bins });
        for (let i = 0; i < md.start.length; i++) {
          const empty = md.base.count[i] === 0;
          expect(empty ? Number.isNaN(md.meanDelta[i]) : md.meanDelta[i] === 0).toBe(true);
          expect(empty ? Number.isNaN(md.maxDelta[i]) : md.maxDelta[i] === 0).toBe(true);
        }
      }),
      { numRuns: 200 },
    );
  });
});

describe('compactRun', () => {
  it('gives the same function table and call tree as the run it folds', () => {
    fc.assert(
      fc.property(runArb, ({ p, run }) => {
        const c = compactRun(p, p.sampleStack, run);
        expect(c.samples).toBe(run.end - run.start);
        const folded = { start: 0, end: c.sampleStack.length, weight: c.weight };
        const a = functionTable(p, p.sampleStack, run);
        const b = functionTable(p, c.sampleStack, folded);
        const byFrame = (t: typeof a) => new Map(Array.from(t.frame, (f, i) => [f, [t.self[i], t.total[i]]]));
        expect(byFrame(b).size).toBe(a.length);
        for (const [f, w] of byFrame(a))
          expect(
            byFrame(b)
              .get(f)!
              .map((x, i) => close(x, w[i])),
          ).toEqual([true, true]);
        expect(close(b.weightTotal, a.weightTotal)).toBe(true);
        const ta = aggregateCallTree(p, p.sampleStack, run);
        const tb = aggregateCallTree(p, c.sampleStack, folded);
        expect(tb.length).toBe(ta.length);
        // Counts are exact integers, so sibling order (by total) is the same; float weights may break ties apart.
        if (!run.weight) {
          expect([...tb.frame]).toEqual([...ta.frame]);
          expect([...tb.total]).toEqual([...ta.total]);
          expect([...tb.self]).toEqual([...ta.self]);
        }
      }),
      { numRuns: 200 },
    );
  });
});

describe('comparison of two profiles', () => {
  it('gives each whole call path the difference of its weights, one-sided paths whole', () => {
    fc.assert(
      fc.property(runArb, runArb, fc.integer({ min: 0, max: 4 }), fc.boolean(), (a, b, salt, itself) => {
        if (itself) b = a;
        const keysA = keysOf(a.p, 0);
        const keysB = itself ? keysA : keysOf(b.p, salt);
        const match = matchFrames(keysA, keysB);
        const runA = compactRun(a.p, a.p.sampleStack, a.run);
        const runB = compactRun(b.p, b.p.sampleStack, b.run);
        const { rows, count } = diffStacks({ stacks: a.p, run: runA }, { stacks: b.p, run: runB }, match);
        expect(count).toBe(rows.length);
        // Brute force: every sample's call path spelled with its functions' keys, weights summed.
        const brute = (p: RandomProfile, keys: string[], run: (typeof a)['run']) => {
          const out = new Map<string, number>();
          for (let i = run.start; i < run.end; i++) {
            const s = run.indices ? run.indices[i] : i;
            const stack = p.sampleStack[s];
            if (stack < 0) continue;
            const path: string[] = [];
            for (let n = stack; n >= 0; n = p.parent[n]) path.unshift(keys[p.frame[n]]);
            const w = run.weight ? run.weight[s] : 1;
            if (w !== 0) out.set(path.join('/'), (out.get(path.join('/')) ?? 0) + w);
          }
          return out;
        };
        const wa = brute(a.p, keysA, a.run);
        const wb = brute(b.p, keysB, b.run);
        const pathOf = (p: RandomProfile, keys: string[], n: number) => {
          const path: string[] = [];
          for (; n >= 0; n = p.parent[n]) path.unshift(keys[p.frame[n]]);
          return path.join('/');
        };
        const seen = new Set<string>();
        for (const r of rows) {
          const key = r.targetStack >= 0 ? pathOf(b.p, keysB, r.targetStack) : pathOf(a.p, keysA, r.baseStack);
          if (r.baseStack >= 0 && r.targetStack >= 0) expect(pathOf(a.p, keysA, r.baseStack)).toBe(key);
          expect(seen.has(key)).toBe(false);
          seen.add(key);
          expect(close(r.base, wa.get(key) ?? 0)).toBe(true);
          expect(close(r.target, wb.get(key) ?? 0)).toBe(true);
          expect(close(r.delta, r.target - r.base)).toBe(true);
          // A path only one side has carries that side's whole weight.
          if (!wa.has(key)) expect([r.baseStack, r.base]).toEqual([-1, 0]);
          if (!wb.has(key)) expect([r.targetStack, r.target]).toEqual([-1, 0]);
          if (itself) expect(r.delta).toBe(0);
        }
        expect(seen).toEqual(new Set([...wa.keys(), ...wb.keys()]));
        for (let i = 1; i < rows.length; i++) {
          expect(Math.abs(rows[i - 1].delta)).toBeGreaterThanOrEqual(Math.abs(rows[i].delta));
        }
      }),
      { numRuns: 200 },
    );
  });

  it('gives each function the difference of the two function tables computed separately', () => {
    fc.assert(
      fc.property(runArb, runArb, fc.integer({ min: 0, max: 4 }), (a, b, salt) => {
        const ka = keyedStacks(a.p, keysOf(a.p, 0));
        const kb = keyedStacks(b.p, keysOf(b.p, salt));
        const ta = functionTable(ka.stacks, a.p.sampleStack, a.run);
        const tb = functionTable(kb.stacks, b.p.sampleStack, b.run);
        const byKey = (t: typeof ta, keys: string[]) =>
          new Map(Array.from(t.frame, (f, i) => [keys[f], { self: t.self[i], total: t.total[i] }]));
        const sa = byKey(ta, ka.keys);
        const sb = byKey(tb, kb.keys);
        const diff = diffFunctionTables(ta, tb, matchFrames(ka.keys, kb.keys));
        const seen = new Set<string>();
        for (const r of diff.rows) {
          const key = r.baseFrame >= 0 ? ka.keys[r.baseFrame] : kb.keys[r.targetFrame];
          if (r.baseFrame >= 0 && r.targetFrame >= 0) expect(kb.keys[r.targetFrame]).toBe(key);
          expect(seen.has(key)).toBe(false);
          seen.add(key);
          const x = sa.get(key) ?? { self: 0, total: 0 };
          const y = sb.get(key) ?? { self: 0, total: 0 };
          expect([r.base, r.target]).toEqual([x, y]);
          expect(r.delta).toEqual({ self: y.self - x.self, total: y.total - x.total });
          const share = (v: number, t: number) => (t > 0 ? v / t : 0);
          expect(close(r.deltaShare.total, share(y.total, tb.weightTotal) - share(x.total, ta.weightTotal))).toBe(true);
          expect([r.added, r.removed]).toEqual([!sa.has(key), !sb.has(key)]);
        }
        expect(seen).toEqual(new Set([...sa.keys(), ...sb.keys()]));
        // Sorted by the size of the change of total share.
        for (let i = 1; i < diff.rows.length; i++) {
          expect(Math.abs(diff.rows[i - 1].deltaShare.total)).toBeGreaterThanOrEqual(
            Math.abs(diff.rows[i].deltaShare.total),
          );
        }
      }),
      { numRuns: 200 },
    );
  });

  it('reports a function present in one side only as added / removed with its whole weight', () => {
    fc.assert(
      fc.property(
        profileArb.filter((p) => p.parent.length > 0 && p.sampleStack.length > 0),
        fc.nat(),
        fc.double({ min: 0.05, max: 1, noNaN: true }),
        (p, at, fraction) => {
          // The target calls one more function, `extra`, under a stack row of the base.
          const extra = keysOf(p, 0).length;
          // Under a stack the base samples, so no other function appears with it.
          const under = p.sampleStack[at % p.sampleStack.length];
          const target = {
            parent: Int32Array.from([...p.parent, under]),
            frame: Uint32Array.from([...p.frame, extra]),
          };
          const newRow = p.parent.length;
          const n = p.sampleStack.length;
          // Every base sample stays, and `moved` more samples are spent in `extra`.
          const moved = Math.max(1, Math.floor(n * fraction));
          const targetStacks = Int32Array.from([...p.sampleStack, ...new Array<number>(moved).fill(newRow)]);
          const run = { start: 0, end: n };
          const targetRun = { start: 0, end: n + moved };
          const keys = Array.from({ length: extra }, (_, f) => `f${f}`);
          const targetKeys = [...keys, 'extra'];
          const baseTable = functionTable(p, p.sampleStack, run);
          const targetTable = functionTable(target, targetStacks, targetRun);

          for (const [from, to, mb, mt, added] of [
            [baseTable, targetTable, keys, targetKeys, true],
            [targetTable, baseTable, targetKeys, keys, false],
          ] as const) {
            const diff = diffFunctionTables(from, to, matchFrames(mb, mt));
            const rows = diff.rows.filter((r) => r.added || r.removed);
            expect(rows.length).toBe(1);
            const r = rows[0];
            expect([r.added, r.removed]).toEqual([added, !added]);
            const side = added ? r.target : r.base;
            const other = added ? r.base : r.target;
            expect(side).toEqual({ self: moved, total: moved });
            expect(other).toEqual({ self: 0, total: 0 });
            expect(r.delta.total).toBe(added ? moved : -moved);
            expect(r.deltaShare.total).toBe(added ? moved / (n + moved) : -moved / (n + moved));
          }

          const td = diffCallTrees(
            aggregateCallTree(p, p.sampleStack, run),
            aggregateCallTree(target, targetStacks, targetRun),
            matchFrames(keys, targetKeys),
          );
          const extraNodes = [...td.target.frame.keys()].filter((n) => td.target.frame[n] === extra);
          expect(extraNodes.length).toBe(1);
          expect(td.baseNode[extraNodes[0]]).toBe(-1);
          expect([td.baseTotal[extraNodes[0]], td.target.total[extraNodes[0]]]).toEqual([0, moved]);
          expect([td.baseTotal[0], td.target.total[0]]).toEqual([n, n + moved]);
          expect([...td.removedTotal].every((x) => x === 0)).toBe(true);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('bins each memory series exactly as the single view, aligned by time since each window start', async () => {
    await fc.assert(
      fc.asyncProperty(
        runArb,
        runArb,
        fc.integer({ min: 1, max: 50 }),
        fc.nat(3000),
        async ({ p: a }, { p: b }, bins, shift) => {
          const ta = Float64Array.from(a.memory, (_, i) => i * 7);
          const tb = Float64Array.from(b.memory, (_, i) => shift + i * 11);
          const sa = buildMemorySummary(ta, a.memory);
          const sb = buildMemorySummary(tb, b.memory);
          const wa = { from: 0, to: ta.length * 7 + 1 };
          const wb = { from: shift, to: shift + tb.length * 11 + 1 };
          const md = compareMemory(sa, sb, { base: wa, target: wb, bins });
          // From any source of bins (a summaries container's memoryBins), the same answer.
          const async = await compareMemoryBins(
            async (q) => queryBins(sa, q),
            async (q) => queryBins(sb, q),
            { base: wa, target: wb, bins },
          );
          expect(async).toEqual(md);
          const span = Math.max(wa.to - wa.from, wb.to - wb.from);
          const single = (s: typeof sa, w: typeof wa) => queryBins(s, { from: w.from, to: w.from + span, bins });
          expect(md.base).toEqual(single(sa, wa));
          expect(md.target).toEqual(single(sb, wb));
          for (let i = 0; i < md.start.length; i++) {
            expect(close(md.start[i], md.base.start[i] - wa.from, 1e-12)).toBe(true);
            expect(close(md.meanDelta[i], md.target.mean[i] - md.base.mean[i])).toBe(true);
            expect(close(md.maxDelta[i], md.target.max[i] - md.base.max[i])).toBe(true);
          }
        },
      ),
      { numRuns: 150 },
    );
  });

  it('aligned by clock, puts the same wall-clock moment in the same bin of both sides', () => {
    const epoch = 1.7e12;
    const windowArb = fc
      .tuple(fc.integer({ min: -5000, max: 5000 }), fc.integer({ min: 1, max: 20000 }))
      .map(([from, length]) => ({ from, to: from + length }));
    fc.assert(
      fc.property(
        windowArb,
        windowArb,
        fc.double({ min: -86_400_000, max: 86_400_000, noNaN: true }),
        fc.integer({ min: 1, max: 60 }),
        (wa, wb, shift, bins) => {
          const base = { ...wa, startTime: epoch };
          const target = { ...wb, startTime: epoch + shift };
          const c = clockWindows(base, target);
          // One span, starting at one moment on both sides, covering both windows.
          expect(close(c.base.to - c.base.from, c.target.to - c.target.from, 1e-9)).toBe(true);
          expect(close(base.startTime + c.base.from, target.startTime + c.target.from, 1e-9)).toBe(true);
          expect(c.base.from <= wa.from && c.base.to >= wa.to).toBe(true);
          expect(c.target.from <= wb.from + 1e-6 && c.target.to >= wb.to - 1e-6).toBe(true);
          expect(close(c.origin + c.offsets.base, base.startTime, 1e-9)).toBe(true);
          expect(close(c.origin + c.offsets.target, target.startTime, 1e-9)).toBe(true);
          expect(Math.min(c.offsets.base + wa.from, c.offsets.target + wb.from)).toBeCloseTo(0, 3);

          // A sample of each side at the same clock moment lands in the same bin index.
          const moment = base.startTime + (wa.from + wa.to) / 2;
          const ta = Float64Array.of(moment - base.startTime);
          const tb = Float64Array.of(moment - target.startTime);
          const md = compareMemory(
            buildMemorySummary(ta, Float64Array.of(1)),
            buildMemorySummary(tb, Float64Array.of(2)),
            { base: c.base, target: c.target, bins },
          );
          const filled = (r: typeof md.base) => [...r.count].findIndex((n) => n > 0);
          const at = filled(md.base);
          // Float edges may put a sample exactly on a bin edge on one side and a hair past it on the other.
          expect(Math.abs(at - filled(md.target))).toBeLessThanOrEqual(at >= 0 ? 1 : 0);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('refuses a window without a known clock', () => {
    expect(() => clockWindows({ from: 0, to: 1, startTime: Number.NaN }, { from: 0, to: 1, startTime: 0 })).toThrow(
      /base window/,
    );
  });
});
