import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import Tinypool from 'tinypool';
import { ProfFormatError } from '@prof/format';
import { HttpError, httpError, RETRY_AFTER_SECONDS } from './http-error';
import type { TaskFailure, Tasks } from './worker/tasks';

/** The pool's queue is full: routes answer 503 `busy` with Retry-After (see `handleError`). */
export class BusyError extends HttpError {
  constructor(message: string) {
    super(503, 'busy', message);
  }
}

export type TaskName = keyof Tasks;
type TaskInput<K extends TaskName> = Parameters<Tasks[K]>[0];
type TaskOutput<K extends TaskName> = Exclude<Awaited<ReturnType<Tasks[K]>>, TaskFailure>;

export interface WorkPoolOptions {
  /** Worker threads; default the machine's available cores. */
  threads?: number;
  /** Tasks waiting for a thread; more are refused with `BusyError`. Default 1000. */
  maxQueue?: number;
}

const here = fileURLToPath(new URL('.', import.meta.url));
/**
 * The worker runs the built module whether the server runs from dist/ or from src/ under vitest (both
 * sit one level below apps/server): a worker given a .ts path, or a path that does not exist, hangs.
 */
export const WORKER_MODULE = resolve(here, '../dist/worker/tasks.js');

/**
 * The one pool of worker threads of the server: every heavy step (inflating, decoding, converting,
 * checking an upload) runs here as a named task of `worker/tasks.ts`, so no request holds the event
 * loop for it, and a bounded queue turns saturation into 503 instead of unbounded waiting.
 */
export class WorkPool {
  private readonly pool: Tinypool;
  private inFlight = 0;
  readonly threads: number;
  readonly maxQueue: number;

  constructor(options: WorkPoolOptions = {}) {
    if (!existsSync(WORKER_MODULE)) throw new Error(`${WORKER_MODULE} is missing: build @prof/server first`);
    this.threads = Math.max(1, options.threads ?? availableParallelism());
    this.maxQueue = Math.max(0, options.maxQueue ?? 1000);
    this.pool = new Tinypool({
      filename: WORKER_MODULE,
      minThreads: 0,
      maxThreads: this.threads,
      // Our own bound below decides; tinypool's only must not refuse first.
      maxQueue: Number.POSITIVE_INFINITY,
      idleTimeout: 30_000,
      // Vitest's workers carry loader flags a plain worker thread cannot start with.
      execArgv: [],
    });
  }

  /**
   * Runs task `name` on a worker thread. `transfer` lists buffers moved rather than copied (the caller
   * must not use them afterwards). Rejects with `BusyError` when every thread is busy and the queue
   * full, unless `always` (for callers that are themselves one at a time, like the upload queue).
   */
  async run<K extends TaskName>(
    name: K,
    input: TaskInput<K>,
    options: { transfer?: ArrayBuffer[]; always?: boolean; conversion?: string } = {},
  ): Promise<TaskOutput<K>> {
    if (!options.always && this.inFlight >= this.threads + this.maxQueue)
      throw new BusyError(
        `the server is busy with ${this.inFlight} uploads (${this.threads} at a time); retry in ${RETRY_AFTER_SECONDS} s`,
      );
    this.inFlight++;
    const started = performance.now();
    let outcome = 'ok';
    try {
      const result = (await this.pool.run(input, { name, transferList: options.transfer ?? [] })) as
        | TaskOutput<K>
        | TaskFailure;
      if (isFailure(result)) {
        outcome = result.error.code ?? 'failed';
        throw rebuild(result);
      }
      return result;
    } catch (error) {
      if (outcome === 'ok') outcome = 'worker-error';
      throw error;
    } finally {
      this.inFlight--;
      // Time in the pool, queue wait included: what an uploader waits for before the store write.
      if (options.conversion) this.onConversion?.(options.conversion, (performance.now() - started) / 1000, outcome);
    }
  }

  /** Told of every run marked `conversion` (its kind, seconds, and 'ok' or the error code): the metrics. */
  onConversion?: (kind: string, seconds: number, outcome: string) => void;

  get load(): { running: number; queued: number } {
    return { running: this.inFlight - this.pool.queueSize, queued: this.pool.queueSize };
  }

  async close(): Promise<void> {
    await this.pool.destroy();
  }
}

const isFailure = (value: unknown): value is TaskFailure =>
  typeof value === 'object' && value !== null && (value as { failed?: unknown }).failed === true;

/** The worker's error as the type the error handler maps (structured clone keeps only message and stack). */
function rebuild(failure: TaskFailure): Error {
  const { error } = failure;
  if (error.kind === 'http') return httpError(error.code, error.message);
  if (error.kind === 'format') return new ProfFormatError(error.code, error.message);
  return Object.assign(new Error(error.message), error.code ? { code: error.code } : {});
}

/** A buffer's memory may be moved to a worker only when the buffer owns all of it (not a slice of Node's pool). */
export function movable(bytes: Uint8Array): ArrayBuffer[] {
  return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && bytes.buffer instanceof ArrayBuffer
    ? [bytes.buffer]
    : [];
}
