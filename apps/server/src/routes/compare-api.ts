import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import {
  CompareFunctionsQuery,
  CompareFunctionsResponse,
  CompareMemoryResponse,
  CompareQuery,
  CompareStacksQuery,
  CompareStacksResponse,
  CompareTreeResponse,
} from '@prof/api';
import { responses } from '../contract';
import {
  aggregateCallTree,
  clockWindows,
  compareMemoryBins,
  diffCallTrees,
  diffFunctionTables,
  diffStacks,
  functionTable,
  matchFrames,
  pruneCallTree,
  type AggregateOptions,
  type CompactRun,
  type BinQuery,
  type KeyedStacks,
  BinningError,
  checkThread,
  isBinningError,
  missingSeries,
  wholeMean,
  type MemorySeries,
} from '@prof/binning';
import { HttpError } from '../http-error';
import type { AppContext } from '../context';
import type { CompareProfile, CompareSource } from '../compare-source';
import { DEFAULT_BINS, type FrameJson, type Window } from './read-api';

type Side = 'base' | 'target';
const SIDES: Side[] = ['base', 'target'];

/** One side of a comparison: its profile, window and thread. */
interface SideRun {
  id: string;
  p: CompareProfile;
  from: number;
  to: number;
  thread: number | undefined;
}

/**
 * `weight=samples` (default: CPU samples) or `weight=growth`: bytes of memory gained while each stack
 * was on top, in `series` (rss or heap), so the views show whose memory growth changed.
 */
const growthOf = (query: CompareQuery): MemorySeries | undefined =>
  query.weight === 'growth' ? (query.series ?? 'rss') : undefined;

/** `baseFrom` etc. for one side, falling back to the shared `from`, `to`, `thread`. */
function sideQuery(query: CompareQuery, side: Side): Window & { thread?: number } {
  return side === 'base'
    ? { from: query.baseFrom ?? query.from, to: query.baseTo ?? query.to, thread: query.baseThread ?? query.thread }
    : {
        from: query.targetFrom ?? query.from,
        to: query.targetTo ?? query.to,
        thread: query.targetThread ?? query.thread,
      };
}

function sideError(side: Side, error: unknown): never {
  if (error instanceof HttpError) throw new HttpError(error.status, error.code, `${side}: ${error.message}`);
  if (isBinningError(error)) throw new BinningError(error.code, `${side}: ${error.message}`);
  throw error;
}

/** Runs `fn` for one side, so a client error says which side it is about. */
async function onSide<T>(side: Side, fn: () => T | Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    sideError(side, error);
  }
}

/** The two windows on one wall clock; 409 when a side's start time is unknown (e.g. a V8 profile). */
function clockAligned(base: SideRun, target: SideRun) {
  const startOf = (s: SideRun, side: Side) => {
    const t = s.p.startTime;
    if (t === null || !Number.isFinite(t))
      throw new HttpError(
        409,
        'no-clock',
        `${side}: this profile has no wall-clock start time; compare with align=runtime`,
      );
    return t;
  };
  return clockWindows(
    { from: base.from, to: base.to, startTime: startOf(base, 'base') },
    { from: target.from, to: target.to, startTime: startOf(target, 'target') },
  );
}

const DEFAULT_TOP = 1000;
const DEFAULT_TOP_STACKS = 20;
/** Frames of a listed stack: the ones nearest the leaf, where paths differ; `depth` gives the whole length. */
const STACK_FRAMES = 64;
const DEFAULT_MIN_SHARE = 0.0002;

/**
 * `/api/compare/*`: what changed between two profiles (or two ranges of one). Each side is read as
 * the single views read it (`source`: its summaries container, else its decoded document), so
 * comparing two long profiles costs two range aggregations of O(screen) parts, not two decodes.
 */
export function registerCompareApi(
  server: FastifyInstance,
  ctx: Pick<AppContext, 'shared' | 'store'>,
  source: CompareSource,
): void {
  const app = server.withTypeProvider<TypeBoxTypeProvider>();
  async function sides(query: CompareQuery): Promise<[SideRun, SideRun]> {
    const ids = [query.base, query.target];
    const opened = await Promise.all(
      ids.map(async (id, i) => {
        // A shared index: another instance may have deleted it; this one's caches are not the truth.
        if (ctx.shared && !(await ctx.store.get(id)))
          sideError(SIDES[i], new HttpError(404, 'not-found', `no profile with id ${id}`));
        return source.open(id).catch((error: unknown) => sideError(SIDES[i], error));
      }),
    );
    return (await Promise.all(
      SIDES.map((side, i) =>
        onSide(side, (): SideRun => {
          const { thread, ...window } = sideQuery(query, side);
          const p = opened[i];
          const { from, to } = p.window(window);
          if (thread !== undefined) checkThread(thread, p.threads);
          return { id: ids[i], p, from, to, thread };
        }),
      ),
    )) as [SideRun, SideRun];
  }

  const info = (s: SideRun, samples: number) => ({
    id: s.id,
    from: s.from,
    to: s.to,
    thread: s.thread ?? null,
    samples,
  });

  /** Each side's run folded per distinct stack, and its stack tree keyed by function. */
  function folded(runs: SideRun[], growthOf: MemorySeries | undefined): Promise<[CompactRun, KeyedStacks][]> {
    return Promise.all(
      runs.map((s, i) => onSide(SIDES[i], () => Promise.all([s.p.run(s.thread, s.from, s.to, growthOf), s.p.keyed()]))),
    );
  }

  /** A folded run as aggregation arguments. */
  const args = (c: CompactRun): [Int32Array, AggregateOptions] => [
    c.sampleStack,
    { start: 0, end: c.sampleStack.length, weight: c.weight },
  ];

  app.get(
    '/api/compare/functions',
    { schema: { querystring: CompareFunctionsQuery, response: responses(CompareFunctionsResponse) } },
    async ({ query }) => {
      const { top = DEFAULT_TOP } = query;
      const growth = growthOf(query);
      const runs = await sides(query);
      const sides2 = await folded(runs, growth);
      const tables = sides2.map(([run, keyed]) => functionTable(keyed.stacks, ...args(run)));
      const [[baseRun, baseKeyed], [targetRun, targetKeyed]] = sides2;
      const diff = diffFunctionTables(tables[0], tables[1], matchFrames(baseKeyed.keys, targetKeyed.keys));
      const [base, target] = runs;
      return {
        base: info(base, baseRun.samples),
        target: info(target, targetRun.samples),
        unit: growth ? 'bytes' : 'samples',
        count: diff.rows.length,
        functions: diff.rows.slice(0, top).map((r) => ({
          ...(r.targetFrame >= 0
            ? target.p.frame(targetKeyed.frameOf[r.targetFrame])
            : base.p.frame(baseKeyed.frameOf[r.baseFrame])),
          base: r.base,
          target: r.target,
          baseShare: r.baseShare,
          targetShare: r.targetShare,
          delta: r.delta,
          deltaShare: r.deltaShare,
          added: r.added,
          removed: r.removed,
        })),
      };
    },
  );

  app.get(
    '/api/compare/tree',
    { schema: { querystring: CompareQuery, response: responses(CompareTreeResponse) } },
    async ({ query }) => {
      const { minShare = DEFAULT_MIN_SHARE } = query;
      const growth = growthOf(query);
      const runs = await sides(query);
      const sides2 = await folded(runs, growth);
      const trees = sides2.map(([run, keyed]) => aggregateCallTree(keyed.stacks, ...args(run)));
      const [[baseRun, baseKeyed], [targetRun, targetKeyed]] = sides2;
      const diff = diffCallTrees(trees[0], trees[1], matchFrames(baseKeyed.keys, targetKeyed.keys));
      const tree = diff.target;
      const target = runs[1].p;
      const names = new Map<number, FrameJson>();
      const frameOf = (key: number) => {
        let f = names.get(key);
        if (!f) names.set(key, (f = target.frame(targetKeyed.frameOf[key])));
        return f;
      };
      // Nodes too thin to draw are dropped with their subtrees; the parent's total still counts them.
      const kept = pruneCallTree(tree, { minShare, maxNodes: Number.MAX_SAFE_INTEGER });
      const nodes = Array.from({ length: kept.length }, (_, k) => {
        const n = kept.source[k];
        const frame = n === 0 ? { name: '(root)', file: '', line: 0, kind: 'root' } : frameOf(tree.frame[n]);
        return {
          ...frame,
          parent: kept.parent[k],
          depth: tree.depth[n],
          base: { self: diff.baseSelf[n], total: diff.baseTotal[n] },
          target: { self: tree.self[n], total: tree.total[n] },
          added: diff.baseNode[n] < 0,
          removedTotal: diff.removedTotal[n],
        };
      });
      return {
        base: info(runs[0], baseRun.samples),
        target: info(runs[1], targetRun.samples),
        unit: growth ? 'bytes' : 'samples',
        minShare,
        nodes,
      };
    },
  );

  app.get(
    '/api/compare/stacks',
    { schema: { querystring: CompareStacksQuery, response: responses(CompareStacksResponse) } },
    async ({ query }) => {
      const { top = DEFAULT_TOP_STACKS } = query;
      const growth = growthOf(query);
      const runs = await sides(query);
      const sides2 = await folded(runs, growth);
      const [[baseRun, baseKeyed], [targetRun, targetKeyed]] = sides2;
      const diff = diffStacks(
        { stacks: baseKeyed.stacks, run: baseRun },
        { stacks: targetKeyed.stacks, run: targetRun },
        matchFrames(baseKeyed.keys, targetKeyed.keys),
        top,
      );
      const pathOf = (i: number, node: number) => {
        const [, { stacks, frameOf }] = sides2[i];
        const p = runs[i].p;
        const frames: FrameJson[] = [];
        let depth = 0;
        for (let n = node; n >= 0; n = stacks.parent[n], depth++) {
          if (depth < STACK_FRAMES) frames.push(p.frame(frameOf[stacks.frame[n]]));
        }
        return { stack: frames.reverse(), depth };
      };
      return {
        base: info(runs[0], baseRun.samples),
        target: info(runs[1], targetRun.samples),
        unit: growth ? 'bytes' : 'samples',
        count: diff.count,
        stacks: diff.rows.map((r) => ({
          ...(r.targetStack >= 0 ? pathOf(1, r.targetStack) : pathOf(0, r.baseStack)),
          base: r.base,
          target: r.target,
          delta: r.delta,
          added: r.baseStack < 0,
          removed: r.targetStack < 0,
        })),
      };
    },
  );

  app.get(
    '/api/compare/memory',
    { schema: { querystring: CompareQuery, response: responses(CompareMemoryResponse) } },
    async ({ query }) => {
      const { bins = DEFAULT_BINS, series = 'rss', align = 'runtime' } = query;
      const runs = await sides(query);
      const [base, target] = runs;
      runs.forEach((s, i) => {
        if (!s.p.available.includes(series)) sideError(SIDES[i], missingSeries(series, s.p.available));
      });
      // Samples of each side's own window, before a clock alignment widens it.
      const samples = await Promise.all(
        runs.map((s, i) => onSide(SIDES[i], () => s.p.sampleCount(s.thread, s.from, s.to))),
      );
      const clock = align === 'clock' ? clockAligned(base, target) : undefined;
      if (clock) {
        // Both sides now span the union of the two windows on the clock.
        [base.from, base.to, target.from, target.to] = [
          clock.base.from,
          clock.base.to,
          clock.target.from,
          clock.target.to,
        ];
      }
      const binsOf = (i: number) => (q: BinQuery) => runs[i].p.memoryBins(runs[i].thread, series, q);
      const diff = await compareMemoryBins(
        (q) => onSide('base', () => binsOf(0)(q)),
        (q) => onSide('target', () => binsOf(1)(q)),
        { base, target, bins },
      );
      // Means in whole bytes as the single view answers them (`binRows`), and their difference.
      const mean = (r: typeof diff.base, i: number) => wholeMean(r.mean[i], r.min[i], r.max[i]);
      const stats = (r: typeof diff.base, i: number) =>
        r.count[i] === 0
          ? { count: 0, mean: null, max: null, min: null }
          : { count: r.count[i], mean: mean(r, i), max: r.max[i], min: r.min[i] };
      const orNull = (x: number) => (Number.isNaN(x) ? null : x);
      const rows = Array.from(diff.start, (start, i) => ({
        start,
        end: diff.end[i],
        base: stats(diff.base, i),
        target: stats(diff.target, i),
        delta: {
          mean: Number.isNaN(diff.meanDelta[i]) ? null : mean(diff.target, i) - mean(diff.base, i),
          max: orNull(diff.maxDelta[i]),
        },
      }));
      return {
        base: info(base, samples[0]),
        target: info(target, samples[1]),
        unit: 'bytes',
        series,
        align,
        ...(clock ? { origin: clock.origin, offsets: clock.offsets } : {}),
        bins: rows,
      };
    },
  );
}
