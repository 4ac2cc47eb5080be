import type { FastifyInstance, FastifyReply } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import {
  CpuCallsResponse,
  CpuFrameQuery,
  CpuFunctionsResponse,
  CpuInfoResponse,
  CpuLinesResponse,
  CpuRangeQuery,
  CpuTreeQuery,
  CpuTreeResponse,
  IdParams,
} from '@prof/api';
import { flag, responses } from '../contract';
import {
  callTreeFromColumns,
  DEFAULT_MAX_NODES,
  DEFAULT_MIN_SHARE,
  functionCallsFromColumns,
  functionTableFromColumns,
  lineTable,
  pruneCallTree,
} from '@prof/binning';
import { FRAME_KIND_NAMES } from '@prof/format';
import { HttpError } from '../http-error';
import type { Static } from 'typebox';
import type { AppContext } from '../context';
import type { CpuProfile, CpuRun, WeightBy } from '../cpu-source';

// A stored profile never changes: any answer about it can be cached for good (a deleted one is a 404).
const IMMUTABLE = 'public, max-age=31536000, immutable';

type RangeQuery = Static<typeof CpuRangeQuery>;

/** `from`/`to` in ms since the start, `to` exclusive; either may be absent (open end). */
function rangeOf(query: RangeQuery): { from: number | null; to: number | null } {
  const { from = null, to = null } = query;
  if (from !== null && to !== null && !(to > from))
    throw new HttpError(400, 'bad-range', `the range is empty: from=${from} must be below to=${to} (ms since start)`);
  return { from, to };
}

/** `weight=samples|time|growth` (growth of `series`); by default time when samples carry a weight. */
function weightOf(query: RangeQuery, p: CpuProfile): WeightBy {
  const weight = query.weight ?? (p.weighted ? 'time' : 'samples');
  if (weight === 'time' && !p.weighted)
    throw new HttpError(400, 'bad-query', 'weight=time: this profile records no per-sample weight; use samples');
  return weight === 'growth' ? { growth: query.series ?? 'rss' } : weight;
}

const unitOf = (w: WeightBy): CpuTreeResponse['unit'] => (w === 'samples' ? 'samples' : w === 'time' ? 'µs' : 'bytes');

/** The schema checked it is a row; only the profile knows how many it has. */
function frameOf(frame: number, p: CpuProfile): number {
  const count = p.frames.name.length;
  if (frame >= count)
    throw new HttpError(
      400,
      'bad-frame',
      `frame=${frame} is not a frame of this profile: expected a frame row from 0 to ${count - 1}`,
    );
  return frame;
}

/** The profile, the range's folded run and what it was asked with. */
interface Asked {
  p: CpuProfile;
  run: CpuRun;
  thread: number | undefined;
  range: { from: number | null; to: number | null };
  weight: WeightBy;
}

/**
 * `/api/profiles/:id/cpu*`: the CPU views of a range and thread, computed where the profile is and
 * cut to what a screen shows, so a browser never downloads every sample to draw a flame graph.
 * `sourceOf` picks how a profile's per-stack counts are read (precomputed summaries or the decoded
 * document).
 */
export function registerCpuApi(
  server: FastifyInstance,
  ctx: AppContext,
  sourceOf: (id: string) => Promise<CpuProfile>,
): void {
  const app = server.withTypeProvider<TypeBoxTypeProvider>();
  async function open(id: string): Promise<CpuProfile> {
    // A shared index: another instance may have deleted it; this one's caches are not the truth.
    if (ctx.shared && !(await ctx.store.get(id))) throw new HttpError(404, 'not-found', `no profile with id ${id}`);
    return sourceOf(id);
  }

  async function ask(id: string, query: RangeQuery): Promise<Asked> {
    // Parameters are checked before the profile is read, so a bad query costs no decode.
    const range = rangeOf(query);
    const { thread } = query;
    const p = await open(id);
    const weight = weightOf(query, p);
    const run = await p.run(thread, range.from ?? -Infinity, range.to ?? Infinity, weight);
    return { p, run, thread, range, weight };
  }

  const described = (a: Asked) => ({
    from: a.range.from,
    to: a.range.to,
    thread: a.thread ?? null,
    unit: unitOf(a.weight),
    samples: a.run.columns.samples,
  });

  const cached = (reply: FastifyReply) => reply.header('Cache-Control', IMMUTABLE);

  app.get(
    '/api/profiles/:id/cpu',
    { schema: { params: IdParams, response: responses(CpuInfoResponse) } },
    async (request, reply) => {
      const p = await open(request.params.id);
      const f = p.frames;
      const m = p.meta;
      cached(reply);
      return {
        meta: {
          project: m.project,
          name: m.name,
          interpreter: m.interpreter,
          startTime: m.startTime,
          endTime: m.endTime,
          zone: m.zone,
          argv: m.argv,
          host: m.host,
          source: m.source,
          tags: m.tags,
        },
        frames: {
          name: Array.from(f.name, (s) => p.strings[s]),
          file: Array.from(f.file, (s) => p.strings[s]),
          line: Array.from(f.line),
          kind: Array.from(f.kind),
          kindNames: [...FRAME_KIND_NAMES],
        },
        threads: p.threads,
        sampleCount: p.sampleCount,
        durationMs: p.durationMs,
        hasMemory: p.hasMemory,
        timeEstimated: p.timeEstimated,
        timeSource: p.timeSource,
        weighted: p.weighted,
        unit: p.weighted ? ('µs' as const) : ('samples' as const),
        hasLines: p.hasLines,
        hasRunnerFrames: p.hasRunnerFrames,
        warnings: p.warnings,
      } satisfies CpuInfoResponse;
    },
  );

  app.get(
    '/api/profiles/:id/cpu/tree',
    { schema: { params: IdParams, querystring: CpuTreeQuery, response: responses(CpuTreeResponse) } },
    async (request, reply) => {
      const { query } = request;
      const { minShare = DEFAULT_MIN_SHARE, maxNodes = DEFAULT_MAX_NODES } = query;
      const runner = flag(query.runner) ?? false;
      const a = await ask(request.params.id, query);
      const stacks = runner ? a.p.stacks : a.p.stacksWithoutRunner();
      const tree = pruneCallTree(callTreeFromColumns(stacks, a.run.columns), { minShare, maxNodes });
      cached(reply);
      return {
        ...described(a),
        runner,
        minShare,
        maxNodes,
        weightTotal: tree.length ? tree.total[0] : 0,
        unprunedNodes: tree.unprunedLength,
        // Columns, one entry per node in preorder (see @prof/binning's CallTree): compact to send and to read.
        nodes: {
          length: tree.length,
          frame: Array.from(tree.frame),
          parent: Array.from(tree.parent),
          depth: Array.from(tree.depth),
          self: Array.from(tree.self),
          total: Array.from(tree.total),
          subtreeEnd: Array.from(tree.subtreeEnd),
          offset: Array.from(tree.offset),
          cut: Array.from(tree.cut),
          cutCount: Array.from(tree.cutCount),
        },
      } satisfies CpuTreeResponse;
    },
  );

  app.get(
    '/api/profiles/:id/cpu/functions',
    { schema: { params: IdParams, querystring: CpuRangeQuery, response: responses(CpuFunctionsResponse) } },
    async (request, reply) => {
      const a = await ask(request.params.id, request.query);
      const table = functionTableFromColumns(a.p.stacks, a.run.columns);
      cached(reply);
      return {
        ...described(a),
        weightTotal: table.weightTotal,
        functions: {
          length: table.length,
          frame: Array.from(table.frame),
          self: Array.from(table.self),
          total: Array.from(table.total),
        },
      } satisfies CpuFunctionsResponse;
    },
  );

  app.get(
    '/api/profiles/:id/cpu/calls',
    { schema: { params: IdParams, querystring: CpuFrameQuery, response: responses(CpuCallsResponse) } },
    async (request, reply) => {
      const a = await ask(request.params.id, request.query);
      const frame = frameOf(request.query.frame, a.p);
      const calls = functionCallsFromColumns(a.p.stacks, a.run.columns, frame);
      cached(reply);
      return { ...described(a), ...calls } satisfies CpuCallsResponse;
    },
  );

  app.get(
    '/api/profiles/:id/cpu/lines',
    { schema: { params: IdParams, querystring: CpuFrameQuery, response: responses(CpuLinesResponse) } },
    async (request, reply) => {
      const a = await ask(request.params.id, request.query);
      const frame = frameOf(request.query.frame, a.p);
      const { sampleStack, weight } = a.run.columns;
      const lines = lineTable(a.p.stacks, sampleStack, frame, { start: 0, end: sampleStack.length, weight });
      cached(reply);
      return { ...described(a), frame, lines } satisfies CpuLinesResponse;
    },
  );
}
