import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
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
import { responses } from '../contract';
import {
  callTreeFromColumns,
  DEFAULT_MAX_NODES,
  DEFAULT_MIN_SHARE,
  functionCallsFromColumns,
  functionTableFromColumns,
  lineTable,
  MEMORY_SERIES,
  pruneCallTree,
  type MemorySeries,
} from '@prof/binning';
import { FRAME_KIND_NAMES } from '@prof/format';
import { HttpError } from '../http-error';
import { optionalBoolean, single, type QueryObject } from '../query';
import type { AppContext } from '../context';
import type { CpuProfile, CpuRun, WeightBy } from '../cpu-source';
import { idParam } from './read-api';

/** Largest tree a client may ask for: past this a response stops being one screen's worth. */
const MAX_NODES_LIMIT = 1_000_000;
// A stored profile never changes: any answer about it can be cached for good (a deleted one is a 404).
const IMMUTABLE = 'public, max-age=31536000, immutable';

function numberParam(query: QueryObject, key: string, code: 'bad-range' | 'bad-query'): number | undefined {
  const text = single(query, key);
  if (text === undefined || text === '') return undefined;
  const value = Number(text);
  if (!Number.isFinite(value))
    throw new HttpError(
      400,
      code,
      `query parameter ${key}=${JSON.stringify(text.slice(0, 64))} is not a finite number`,
    );
  return value;
}

/** `from`/`to` in ms since the start, `to` exclusive; either may be absent (open end). */
function rangeParam(query: QueryObject): { from: number | null; to: number | null } {
  const from = numberParam(query, 'from', 'bad-range') ?? null;
  const to = numberParam(query, 'to', 'bad-range') ?? null;
  if (from !== null && to !== null && !(to > from))
    throw new HttpError(400, 'bad-range', `the range is empty: from=${from} must be below to=${to} (ms since start)`);
  return { from, to };
}

function threadParam(query: QueryObject): number | undefined {
  const text = single(query, 'thread');
  if (text === undefined || text === '') return undefined;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 0)
    throw new HttpError(
      400,
      'bad-thread',
      `thread=${JSON.stringify(text.slice(0, 64))} is not a thread row (an integer from 0)`,
    );
  return value;
}

/** `weight=samples|time|growth` (growth of `series`); by default time when samples carry a weight. */
function weightParam(query: QueryObject, p: CpuProfile): WeightBy {
  const weight = single(query, 'weight') ?? (p.weighted ? 'time' : 'samples');
  if (weight === 'samples') return 'samples';
  if (weight === 'time') {
    if (!p.weighted)
      throw new HttpError(400, 'bad-query', 'weight=time: this profile records no per-sample weight; use samples');
    return 'time';
  }
  if (weight === 'growth') {
    const series = single(query, 'series') ?? 'rss';
    if (!MEMORY_SERIES.includes(series as MemorySeries))
      throw new HttpError(400, 'bad-query', `series=${JSON.stringify(series)}: expected ${MEMORY_SERIES.join(' or ')}`);
    return { growth: series as MemorySeries };
  }
  throw new HttpError(400, 'bad-query', `weight=${JSON.stringify(weight)}: expected samples, time or growth`);
}

const unitOf = (w: WeightBy) => (w === 'samples' ? 'samples' : w === 'time' ? 'µs' : 'bytes');

function frameParam(query: QueryObject, p: CpuProfile): number {
  const text = single(query, 'frame');
  const count = p.frames.name.length;
  if (text === undefined || text === '')
    throw new HttpError(400, 'bad-frame', 'query parameter frame (a frame row) is required');
  const value = Number(text);
  if (!Number.isInteger(value) || value < 0 || value >= count)
    throw new HttpError(
      400,
      'bad-frame',
      `frame=${JSON.stringify(text.slice(0, 64))} is not a frame of this profile: expected a frame row from 0 to ${count - 1}`,
    );
  return value;
}

function shareParam(query: QueryObject): number {
  const value = numberParam(query, 'minShare', 'bad-query') ?? DEFAULT_MIN_SHARE;
  if (!(value >= 0 && value <= 1))
    throw new HttpError(400, 'bad-query', `query parameter minShare=${value} must be from 0 to 1`);
  return value;
}

function maxNodesParam(query: QueryObject): number {
  const value = numberParam(query, 'maxNodes', 'bad-query') ?? DEFAULT_MAX_NODES;
  if (!Number.isInteger(value) || value < 1 || value > MAX_NODES_LIMIT)
    throw new HttpError(
      400,
      'bad-query',
      `query parameter maxNodes=${value} must be an integer from 1 to ${MAX_NODES_LIMIT}`,
    );
  return value;
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
  app: FastifyInstance,
  ctx: AppContext,
  sourceOf: (id: string) => Promise<CpuProfile>,
): void {
  async function open(request: FastifyRequest): Promise<CpuProfile> {
    const id = idParam(request);
    // A shared index: another instance may have deleted it; this one's caches are not the truth.
    if (ctx.shared && !(await ctx.store.get(id))) throw new HttpError(404, 'not-found', `no profile with id ${id}`);
    return sourceOf(id);
  }

  async function ask(request: FastifyRequest): Promise<Asked> {
    const query = request.query as QueryObject;
    // Parameters are checked before the profile is read, so a bad query costs no decode.
    const range = rangeParam(query);
    const thread = threadParam(query);
    const p = await open(request);
    const weight = weightParam(query, p);
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
      const p = await open(request);
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
          kindNames: FRAME_KIND_NAMES,
        },
        threads: p.threads,
        sampleCount: p.sampleCount,
        durationMs: p.durationMs,
        hasMemory: p.hasMemory,
        timeEstimated: p.timeEstimated,
        timeSource: p.timeSource,
        weighted: p.weighted,
        unit: p.weighted ? 'µs' : 'samples',
        hasLines: p.hasLines,
        hasRunnerFrames: p.hasRunnerFrames,
        warnings: p.warnings,
      };
    },
  );

  app.get(
    '/api/profiles/:id/cpu/tree',
    { schema: { params: IdParams, querystring: CpuTreeQuery, response: responses(CpuTreeResponse) } },
    async (request, reply) => {
      const query = request.query as QueryObject;
      const minShare = shareParam(query);
      const maxNodes = maxNodesParam(query);
      const runner = optionalBoolean(query, 'runner') ?? false;
      const a = await ask(request);
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
      };
    },
  );

  app.get(
    '/api/profiles/:id/cpu/functions',
    { schema: { params: IdParams, querystring: CpuRangeQuery, response: responses(CpuFunctionsResponse) } },
    async (request, reply) => {
      const a = await ask(request);
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
      };
    },
  );

  app.get(
    '/api/profiles/:id/cpu/calls',
    { schema: { params: IdParams, querystring: CpuFrameQuery, response: responses(CpuCallsResponse) } },
    async (request, reply) => {
      const a = await ask(request);
      const frame = frameParam(request.query as QueryObject, a.p);
      const calls = functionCallsFromColumns(a.p.stacks, a.run.columns, frame);
      cached(reply);
      return { ...described(a), ...calls };
    },
  );

  app.get(
    '/api/profiles/:id/cpu/lines',
    { schema: { params: IdParams, querystring: CpuFrameQuery, response: responses(CpuLinesResponse) } },
    async (request, reply) => {
      const a = await ask(request);
      const frame = frameParam(request.query as QueryObject, a.p);
      const { sampleStack, weight } = a.run.columns;
      const lines = lineTable(a.p.stacks, sampleStack, frame, { start: 0, end: sampleStack.length, weight });
      cached(reply);
      return { ...described(a), frame, lines };
    },
  );
}
