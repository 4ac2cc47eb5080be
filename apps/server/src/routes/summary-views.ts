// /memory and /stacks answered from a profile's summaries container: the same JSON as from the
// decoded document (read-api.ts), reading only the parts of the container a query touches.
import type { MemoryQuery, StacksQuery } from '@prof/api';
import {
  binRows,
  checkThread,
  missingSeries,
  type MemoryBinsOptions,
  type MemorySeries,
  type StackAnalysis,
  type Summaries,
} from '@prof/binning';
import { FRAME_KIND_NAMES } from '@prof/format';
import type { Static } from 'typebox';
import { flag } from '../contract';
import type { SummaryMeta } from '../summarize';
import { DEFAULT_BINS, windowFrom, type FrameJson, type Window } from './read-api';

const windowOf = (asked: Window, s: Summaries) =>
  s.samples ? windowFrom(asked, s.firstTime, s.lastTime) : windowFrom(asked, 0, 0);

/**
 * The /memory answer from the summaries; `pause` is what the zooms rehearsed after it (@prof/binning
 * `rehearse`, once per opened container) wait for before each step.
 */
export async function memoryFromSummaries(
  s: Summaries,
  query: Static<typeof MemoryQuery>,
  pause: () => Promise<unknown>,
) {
  const { thread, bins = DEFAULT_BINS, series = 'rss' } = query;
  const { from, to } = windowOf(query, s);
  // In the order the document path checks them: the series first, then the thread.
  if (!s.available.includes(series)) throw missingSeries(series, s.available);
  if (thread !== undefined) checkThread(thread, s.threads);
  const options: MemoryBinsOptions = { series, align: flag(query.align) ?? false, snap: flag(query.snap) ?? false };
  const result = await s.memoryBins(thread, from, to, bins, options);
  void s.rehearse(thread, from, to, bins, { ...options, pause });
  const meta = s.meta as unknown as SummaryMeta;
  return {
    bins: binRows(result),
    unit: 'bytes',
    from: result.from,
    to: result.to,
    durationMs: meta.durationMs,
    timeEstimated: meta.timeEstimated,
    series,
    available: s.available,
  };
}

export async function stacksFromSummaries(s: Summaries, query: Static<typeof StacksQuery>) {
  const { thread, topK, rank, growthFrom } = stacksQuery(query, s.available);
  if (growthFrom && !s.available.includes(growthFrom)) throw missingSeries(growthFrom, s.available);
  const { from, to } = windowOf(query, s);
  if (thread !== undefined) checkThread(thread, s.threads);
  const [analysis, names] = await Promise.all([
    s.analyzeStacks(thread, from, to, { topK, rankBy: rank, series: growthFrom ?? undefined }),
    frameNamer(s),
  ]);
  return stacksJson(analysis, from, to, names);
}

/** The /stacks answer (`StacksResponse` of @prof/api) of an analysis, frames named by `frame`. */
export function stacksJson(analysis: StackAnalysis, from: number, to: number, frame: (row: number) => FrameJson) {
  const frames = (rows: number[]) => rows.map(frame);
  return {
    samples: analysis.samples,
    from,
    to,
    prefix: frames(analysis.prefix),
    extension: frames(analysis.extension),
    share: analysis.share,
    top: analysis.top.map((t) => ({
      stack: frames(t.frames),
      count: t.count,
      ...(t.growth !== undefined ? { growth: t.growth } : {}),
    })),
  };
}

/** The /stacks parameters; `available`: the profile's memory series. */
export function stacksQuery(query: Static<typeof StacksQuery>, available: readonly MemorySeries[]) {
  const { thread, top: topK = 10, rank = 'count', series = 'rss' } = query;
  // Growth is credited from the series asked for; without one, from RSS when the profile has it.
  const growthFrom: MemorySeries | null =
    query.series !== undefined || rank === 'growth' || available.includes(series) ? series : null;
  return { thread, topK, rank, growthFrom };
}

/** Frame row → its JSON, from the frame and string tables stored in the container. */
export async function frameNamer(s: Summaries): Promise<(frame: number) => FrameJson> {
  const [name, file, line, kind] = await Promise.all(
    ['frames.name', 'frames.file', 'frames.line', 'frames.kind'].map((n) => s.array(n)),
  );
  const strings = s.json('strings') as string[];
  if (!name || !file || !line || !kind || !Array.isArray(strings))
    throw new Error('summaries container without its frame table');
  return (f) => ({
    name: strings[name[f]],
    file: strings[file[f]],
    line: line[f],
    kind: FRAME_KIND_NAMES[kind[f]] ?? 'unknown',
  });
}
