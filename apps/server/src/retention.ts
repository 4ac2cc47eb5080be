import type { FastifyBaseLogger } from 'fastify';
import type { PruneOptions, PruneResult } from '@prof/store';
import type { AppContext } from './context';
import { HttpError } from './http-error';

/** What the server keeps: profiles uploaded within `maxAgeMs`, and at most `maxTotalBytes` of them (oldest go first). */
export interface RetentionPolicy {
  maxAgeMs?: number;
  maxTotalBytes?: number;
}

const DURATION_UNITS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};
const SIZE_UNITS: Record<string, number> = {
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  tb: 1e12,
  kib: 2 ** 10,
  mib: 2 ** 20,
  gib: 2 ** 30,
  tib: 2 ** 40,
};

function parseWithUnit(text: string, units: Record<string, number>, what: string, bare: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(text);
  const factor = m ? units[(m[2] || bare).toLowerCase()] : undefined;
  if (!m || factor === undefined) {
    throw new HttpError(
      400,
      'bad-query',
      `${what} ${JSON.stringify(text)}: expected a number with a unit (${Object.keys(units).join(', ')})`,
    );
  }
  return Number(m[1]) * factor;
}

/** `30d`, `12h`, `90m`, `45s`, `2w`; a bare number is days. */
export const parseDuration = (text: string, what = 'duration') => parseWithUnit(text, DURATION_UNITS, what, 'd');
/** `50GB`, `500MiB`, `1tb`; a bare number is bytes. */
export const parseSize = (text: string, what = 'size') => parseWithUnit(text, SIZE_UNITS, what, 'b');

/** Prunes the store and drops the pruned profiles from the caches. */
export async function prune(
  ctx: AppContext,
  options: PruneOptions,
): Promise<PruneResult & { failedUploadsRemoved: number }> {
  const result = await ctx.store.prune(options);
  for (const id of result.deleted) {
    ctx.cache.forget(id);
    ctx.summaries.forget(id);
  }
  // Failed uploads age like profiles: their raw bodies would otherwise stay in incoming/ for good.
  const failedUploadsRemoved =
    options.olderThanMs === undefined
      ? 0
      : await ctx.uploads.pruneFailed((options.now ?? Date.now()) - options.olderThanMs);
  return { ...result, failedUploadsRemoved };
}

const HOUR = 3_600_000;

/** Applies the policy now and then every hour; the returned function stops it (after a prune in progress). */
export function startRetention(ctx: AppContext, policy: RetentionPolicy, log: FastifyBaseLogger): () => Promise<void> {
  if (policy.maxAgeMs === undefined && policy.maxTotalBytes === undefined) return async () => {};
  let running: Promise<void> | null = null;
  const run = () => {
    running ??= prune(ctx, { olderThanMs: policy.maxAgeMs, maxTotalBytes: policy.maxTotalBytes })
      .then(
        (r) =>
          void (
            r.deleted.length &&
            log.info({ deleted: r.deleted.length, freedBytes: r.freedBytes }, 'retention pruned profiles')
          ),
        (err) => log.error({ err }, 'retention prune failed'),
      )
      .finally(() => (running = null));
  };
  run();
  const timer = setInterval(run, HOUR);
  timer.unref();
  return async () => {
    clearInterval(timer);
    await running;
  };
}
