import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import {
  DeleteResponse,
  IdParams,
  MemoryQuery,
  MemoryResponse,
  ProfileRow,
  ProjectsResponse,
  PruneQuery,
  PruneResponse,
  SearchQuery,
  SearchResult,
  StacksQuery,
  StacksResponse,
} from '@prof/api';
import { epochMs, flag, responses, tagsOf } from '../contract';
import { FRAME_KIND_NAMES, type ProfileDocument } from '@prof/format';
import { analyzeStacks, binRows, queryBins, wholeRun } from '@prof/binning';
import type { SortKey } from '@prof/store';
import { HttpError } from '../http-error';
import { parseDuration, parseSize, prune } from '../retention';
import type { AppContext } from '../context';
import type { DecodedProfile } from '../decoded-cache';
import { memoryFromSummaries, stacksFromSummaries, stacksJson, stacksQuery } from './summary-views';

export const DEFAULT_BINS = 500;

export interface FrameJson {
  name: string;
  file: string;
  line: number;
  kind: string;
}

export function frameJson(doc: ProfileDocument, frame: number): FrameJson {
  const f = doc.frames;
  return {
    name: doc.strings[f.name[frame]],
    file: doc.strings[f.file[frame]],
    line: f.line[frame],
    kind: FRAME_KIND_NAMES[f.kind[frame]] ?? 'unknown',
  };
}

/** A window asked for: `from`/`to` in ms since the start, either absent. */
export interface Window {
  from?: number;
  to?: number;
}

/** The whole run when absent: `to` is exclusive in @prof/binning, so it goes just past the last sample. */
export function windowOf(asked: Window, doc: ProfileDocument): { from: number; to: number } {
  const time = doc.samples.time;
  return windowFrom(asked, time.length ? time[0] : 0, time.length ? time[time.length - 1] : 0);
}

/** `windowOf` from the first and last sample times (0 and 0 without samples). */
export function windowFrom(asked: Window, first: number, last: number): { from: number; to: number } {
  const whole = wholeRun(first, last);
  const from = asked.from ?? whole.from;
  const to = asked.to ?? whole.to;
  if (!(to > from)) throw new HttpError(400, 'bad-query', `the window is empty: from=${from} must be below to=${to}`);
  return { from, to };
}

export function registerReadApi(server: FastifyInstance, ctx: AppContext): void {
  const app = server.withTypeProvider<TypeBoxTypeProvider>();
  /** Runs `derive` on a cached profile and re-measures the entry when it made the profile hold more. */
  function derived<T>(id: string, decoded: DecodedProfile, derive: () => T): T {
    const before = decoded.bytes;
    const value = derive();
    if (decoded.bytes !== before) ctx.cache.touch(id, decoded);
    return value;
  }

  /**
   * With a shared index another instance may have deleted the profile: the caches of this one are
   * only trusted once the row is still there (one primary-key lookup).
   */
  async function ensureLive(id: string): Promise<void> {
    if (!ctx.shared || (await ctx.store.get(id))) return;
    ctx.cache.forget(id);
    ctx.summaries.forget(id);
    throw new HttpError(404, 'not-found', `no profile with id ${id}`);
  }

  app.get(
    '/api/profiles',
    { schema: { querystring: SearchQuery, response: responses(SearchResult) } },
    async ({ query }) => {
      const tags = tagsOf(query.tag);
      return ctx.store.search({
        ...query,
        q: query.q || undefined,
        tags: Object.keys(tags).length ? tags : undefined,
        from: epochMs('from', query.from),
        to: epochMs('to', query.to),
        hasMemory: flag(query.hasMemory),
        sort: query.sort as SortKey | undefined,
      });
    },
  );

  app.get('/api/projects', { schema: { response: responses(ProjectsResponse) } }, async () => ({
    projects: await ctx.store.projects(),
  }));

  app.get('/api/profiles/:id', { schema: { params: IdParams, response: responses(ProfileRow) } }, async (request) => {
    const { id } = request.params;
    const row = await ctx.store.get(id);
    if (row) return row;
    const status = await ctx.uploads.statusOf(id);
    if (status?.state === 'processing')
      throw new HttpError(404, 'processing', `profile ${id} was received and is being converted; try again shortly`);
    if (status?.state === 'failed')
      throw new HttpError(
        422,
        'conversion-failed',
        `profile ${id} was received but could not be converted: ${status.message}`,
      );
    throw new HttpError(404, 'not-found', `no profile with id ${id}`);
  });

  app.get(
    '/api/profiles/:id/document',
    { schema: { params: IdParams, response: responses(null) } },
    async (request, reply) => {
      const { id } = request.params;
      await ensureLive(id);
      const etag = `"${id}"`; // a profile's bytes never change once stored
      const ifNoneMatch = request.headers['if-none-match'];
      const matches = ifNoneMatch?.split(',').some((tag) => tag.trim().replace(/^W\//, '') === etag);
      // Only a stored profile is "not modified": a deleted or never-stored id is a 404 whatever the client cached.
      if (matches && (await ctx.store.get(id))) {
        return reply
          .code(304)
          .header('ETag', etag)
          .header('Cache-Control', 'public, max-age=31536000, immutable')
          .send();
      }
      const bytes = await ctx.cache.bytes.get(id);
      if (!bytes) throw new HttpError(404, 'not-found', `no profile with id ${id}`);
      return reply
        .header('Content-Type', 'application/x-msgpack')
        .header('Content-Encoding', 'gzip')
        .header('ETag', etag)
        .header('Cache-Control', 'public, max-age=31536000, immutable')
        .send(bytes);
    },
  );

  app.get(
    '/api/profiles/:id/memory',
    { schema: { params: IdParams, querystring: MemoryQuery, response: responses(MemoryResponse) } },
    async (request, reply) => {
      const { id } = request.params;
      const { query } = request;
      await ensureLive(id);
      const summaries = await ctx.summaries.get(id);
      if (summaries) {
        // Kept serialized: a repeated query (the whole run, at every visit) costs a lookup.
        const json = await ctx.summaries.memoryAnswer(
          summaries,
          query,
          async () => reply.serialize(await memoryFromSummaries(summaries, query, rehearsalPause(ctx))) as string,
        );
        return reply.type('application/json; charset=utf-8').send(json);
      }
      const decoded = await ctx.cache.get(id);
      const { thread, bins = DEFAULT_BINS, series = 'rss' } = query;
      const { from, to } = windowOf(query, decoded.doc);
      const summary = derived(id, decoded, () => decoded.memorySummary(thread, series));
      const result = queryBins(summary, {
        from,
        to,
        bins,
        align: flag(query.align) ?? false,
        snap: flag(query.snap) ?? false,
      });
      return {
        bins: binRows(result),
        unit: 'bytes',
        from: result.from,
        to: result.to,
        durationMs: decoded.durationMs,
        timeEstimated: decoded.doc.samples.timeEstimated,
        series,
        available: decoded.available,
      };
    },
  );

  app.get(
    '/api/profiles/:id/stacks',
    { schema: { params: IdParams, querystring: StacksQuery, response: responses(StacksResponse) } },
    async (request) => {
      const { id } = request.params;
      const { query } = request;
      await ensureLive(id);
      const summaries = await ctx.summaries.get(id);
      if (summaries) return stacksFromSummaries(summaries, query);
      const decoded = await ctx.cache.get(id);
      const doc = decoded.doc;
      const { thread, topK, rank, growthFrom } = stacksQuery(query, decoded.available);
      const memory = growthFrom && derived(id, decoded, () => decoded.growthColumn(growthFrom));
      const { from, to } = windowOf(query, doc);
      const { start, end, indices } = derived(id, decoded, () => decoded.run(thread, from, to));
      const analysis = analyzeStacks(doc.stacks, doc.samples.stack, {
        start,
        end,
        indices,
        topK,
        memory: memory || undefined,
        rankBy: rank,
      });
      return stacksJson(analysis, from, to, (f) => frameJson(doc, f));
    },
  );

  app.delete(
    '/api/profiles/:id',
    { schema: { params: IdParams, response: responses(DeleteResponse) } },
    async (request) => {
      const { id } = request.params;
      const deleted = (await ctx.store.delete(id)) || (await ctx.uploads.discardFailed(id));
      ctx.cache.forget(id);
      ctx.summaries.forget(id);
      if (!deleted) throw new HttpError(404, 'not-found', `no profile with id ${id}`);
      return { deleted: id };
    },
  );

  // Retention on demand: `olderThan` (30d, 12h; bare number = days) and/or `maxTotalSize` (50GB, 500MiB).
  app.post(
    '/api/prune',
    { schema: { querystring: PruneQuery, response: responses(PruneResponse) } },
    async (request) => {
      const { olderThan, maxTotalSize } = request.query;
      if (olderThan === undefined && maxTotalSize === undefined) {
        throw new HttpError(400, 'bad-query', 'prune needs olderThan (e.g. 30d) and/or maxTotalSize (e.g. 50GB)');
      }
      return prune(ctx, {
        olderThanMs: olderThan === undefined ? undefined : parseDuration(olderThan, 'olderThan'),
        maxTotalBytes: maxTotalSize === undefined ? undefined : parseSize(maxTotalSize, 'maxTotalSize'),
      });
    },
  );
}

/** How long a step of a zoom rehearsal waits for a quiet moment before the rehearsal is dropped. */
const REHEARSAL_PATIENCE_MS = 10_000;

/** Each step of a zoom rehearsal waits for a quiet moment; on a server busy that long it is dropped. */
function rehearsalPause(ctx: AppContext) {
  return async () => {
    if (!(await ctx.quiet.wait(REHEARSAL_PATIENCE_MS))) throw new Error('no quiet moment for the rehearsal');
  };
}
