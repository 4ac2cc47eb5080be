/** The memory series a profile can have: `rss` is the `samples.memory` column, `heap` the `samples.heap` one. */
export const MEMORY_SERIES = ['rss', 'heap'] as const;
export type MemorySeries = (typeof MEMORY_SERIES)[number];

const SERIES_NAMES: Record<MemorySeries, string> = { rss: 'RSS (memory)', heap: 'V8 heap (heap)' };

/**
 * What a caller asked of a profile that the profile cannot answer: a thread it does not have, a
 * memory series it did not record. The codes are the server's error codes (@prof/api `ERRORS`),
 * which maps them to statuses; this library knows nothing of HTTP.
 */
export type BinningErrorCode = 'bad-thread' | 'no-memory' | 'no-series';

export class BinningError extends Error {
  override readonly name = 'BinningError';
  constructor(
    readonly code: BinningErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** True for a `BinningError`, also one from another copy of this package (checked by shape). */
export function isBinningError(error: unknown): error is BinningError {
  return error instanceof Error && error.name === 'BinningError' && typeof (error as BinningError).code === 'string';
}

/** `bad-thread` unless `thread` is a thread row of a profile with `threads` of them. */
export function checkThread(thread: number, threads: number): void {
  if (Number.isInteger(thread) && thread >= 0 && thread < threads) return;
  throw new BinningError(
    'bad-thread',
    threads === 0
      ? `thread=${thread}: this profile has no threads`
      : `thread must be a thread row from 0 to ${threads - 1}; thread=${thread} is not a thread of this profile`,
  );
}

/**
 * The error for a series the profile does not have (`available` lists those it has): `no-memory`
 * for RSS, what most views need, `no-series` for another one.
 */
export function missingSeries(series: MemorySeries, available: readonly string[]): BinningError {
  const has = available.length ? `; it has ${available.join(', ')}` : '';
  if (series === 'rss') return new BinningError('no-memory', `this profile has no memory samples${has}`);
  return new BinningError(
    'no-series',
    `this profile has no ${SERIES_NAMES[series]} series${has || '; it has no memory series at all'}`,
  );
}
