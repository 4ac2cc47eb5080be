import { HttpError } from './http-error';

/** Seconds a client is asked to wait when the server is saturated. */
export const RETRY_AFTER_SECONDS = 5;

/**
 * Runs at most `concurrency` jobs at once (validating, converting, summarizing an upload), with at
 * most `maxWaiting` waiting; beyond that, 503 `busy` with Retry-After instead of a queue without
 * bound. Jobs wait holding only what was already read of their request.
 */
export class Limiter {
  private active = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(
    readonly concurrency: number,
    readonly maxWaiting: number,
  ) {}

  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.active < this.concurrency) this.active++;
    else {
      if (this.waiting.length >= this.maxWaiting)
        throw new HttpError(
          503,
          'busy',
          `the server is converting ${this.active} uploads with ${this.waiting.length} waiting; retry in ${RETRY_AFTER_SECONDS} s`,
        );
      await new Promise<void>((resolve) => this.waiting.push(resolve)); // the slot is handed over
    }
    try {
      // Let requests that wait for the event loop (reads, /health) in before this job's synchronous parts.
      await new Promise((resolve) => setImmediate(resolve));
      return await work();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.active--;
    }
  }

  get load(): { active: number; waiting: number } {
    return { active: this.active, waiting: this.waiting.length };
  }
}
