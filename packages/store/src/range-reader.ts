import { read } from 'node:fs';
import { Worker } from 'node:worker_threads';

/**
 * Many small reads of one file in one hop to a thread of their own: the thread does them with
 * `readSync` (1-2 µs each from the OS page cache) and hands back one buffer. A zoom on a 24-hour
 * profile's summaries container needs ~1,600 reads of 512 bytes far apart; each `FileHandle.read`
 * is a round trip through libuv's thread pool (15-40 µs on a loaded machine), and the event loop
 * saw every one. A batch of a few ranges (`POOL_RUNS`) is read on that pool all the same, every
 * range in flight at once: then the hop to the thread costs more than the reads.
 *
 * Inline (`eval`) rather than a worker file: the store is bundled by tsup and imported from src/ by
 * the tests, and twenty lines need no path resolution; Tinypool (the server's task pool) would
 * queue these behind conversions.
 */
const THREAD_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { readSync } = require('node:fs');
parentPort.on('message', ({ id, fd, ranges, buffer }) => {
  try {
    const bytes = new Uint8Array(buffer);
    let at = 0;
    for (let i = 0; i < ranges.length; i += 2) {
      const offset = ranges[i];
      const length = ranges[i + 1];
      for (let done = 0; done < length; ) {
        const n = readSync(fd, bytes, at + done, length - done, offset + done);
        if (n === 0) throw new RangeError('read past the end of the file (' + (offset + length) + ')');
        done += n;
      }
      at += length;
    }
    parentPort.postMessage({ id, buffer }, [buffer]);
  } catch (error) {
    parentPort.postMessage({ id, error: String(error && error.message || error) });
  }
});
`;

interface Pending {
  resolve(bytes: Uint8Array): void;
  reject(error: Error): void;
}

/**
 * Up to THREADS threads, the second started when batches overlap: a zoom on a container the OS has
 * not cached waits on the disk for each read. 1,024 random 512-byte reads from a 1.85 GB container
 * out of the cache: 208 ms on one thread, 152-168 ms on two, 140 ms on four, 119-168 ms on eight;
 * each thread holds ~9 MB. A thread started for an overlap serves the batches after it is up, never
 * the one that started it: a thread takes 30-60 ms to start, which the first view after a restart
 * waited for.
 */
const THREADS = 2;

class ReaderThread {
  private readonly worker: Worker;
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;
  exited = false;
  /** Started: batches sent before wait in its queue; the first thread is used from the start. */
  online = false;

  constructor() {
    this.worker = new Worker(THREAD_SOURCE, { eval: true, name: 'prof-range-reader' });
    this.worker.on('message', (message: { id: number; buffer?: ArrayBuffer; error?: string }) => {
      const waiting = this.pending.get(message.id);
      if (!waiting) return;
      this.pending.delete(message.id);
      if (this.pending.size === 0) this.worker.unref();
      if (message.buffer) waiting.resolve(new Uint8Array(message.buffer));
      else waiting.reject(new Error(`range reader: ${message.error}`));
    });
    const fail = (error: Error) => {
      // Whatever was waiting fails; the next batch starts another thread.
      this.exited = true;
      for (const waiting of this.pending.values()) waiting.reject(error);
      this.pending.clear();
    };
    this.worker.once('online', () => (this.online = true));
    this.worker.on('error', fail);
    this.worker.on('exit', (code) => fail(new Error(`range reader: thread exited (${code})`)));
    this.worker.unref();
  }

  get load(): number {
    return this.pending.size;
  }

  read(fd: number, ranges: readonly number[], buffer: ArrayBuffer): Promise<Uint8Array> {
    const id = this.nextId++;
    return new Promise<Uint8Array>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      // Held while a batch is out, so a process waiting only on it does not exit under it.
      this.worker.ref();
      this.worker.postMessage({ id, fd, ranges: Float64Array.from(ranges), buffer }, [buffer]);
    });
  }
}

let threads: ReaderThread[] = [];

/** The threads still running, the first one started if there is none. */
function live(): ReaderThread[] {
  threads = threads.filter((t) => !t.exited);
  if (threads.length === 0) threads.push(new ReaderThread());
  return threads;
}

/** The least busy thread that is up (the first one even before); another started when all are busy. */
function threadFor(): ReaderThread {
  const threads = live();
  let best: ReaderThread | undefined;
  for (const t of threads) if ((t.online || t === threads[0]) && (!best || t.load < best.load)) best = t;
  const starting = threads.some((t) => !t.online && t !== threads[0]);
  if (best!.load > 0 && threads.length < THREADS && !starting) threads.push(new ReaderThread());
  return best!;
}

/** Starts the first thread ahead of the first batch (a thread takes 30-60 ms to start). */
export function startRangeReader(): void {
  live();
}

/**
 * Batches of up to this many ranges are read on libuv's thread pool (`readOnPool`) rather than by a
 * range reader thread. A batch's hop to the thread and back cost ~0.25 ms however small it was (1 read
 * of 512 bytes: 0.25 ms against 0.06 on the pool; 40 of 64 KiB: 1.14 against 0.45 ms), and a zoom
 * waits for two or three. ×64 zooms over HTTP (300 a restarted server, thread and pool alternated, 3 and
 * 5 rounds): p50 5.6 → 4.7 and 7.2 → 6.2 ms, p90 10.7 → 8.9 and 12.8 → 11.1 ms. Larger
 * batches (a whole-run view of a long run: several of 256) stay on the thread, so the event loop is
 * not woken once per read.
 */
const POOL_RUNS = 64;

/**
 * Buffers given back (`releaseRanges`), reused by later batches that fit: a batch of up to 4 MiB
 * took ~0.8 ms to allocate, and a wide zoom on a ×64 container reads 20 MB. At most four are kept.
 */
const POOLED_BUFFERS = 4;
const pool: ArrayBuffer[] = [];

/**
 * Reads `ranges` (offset, length pairs) of the open file descriptor `fd` into one buffer, each range
 * after the one before. The caller keeps `fd` open until the promise settles, and may hand the bytes
 * back with `releaseRanges` once it no longer reads them.
 */
export function readRanges(fd: number, ranges: readonly number[]): Promise<Uint8Array> {
  let total = 0;
  for (let i = 1; i < ranges.length; i += 2) total += ranges[i];
  if (total === 0) return Promise.resolve(new Uint8Array(0));
  // The smallest kept buffer that holds the batch, else a new one of its size.
  let best = -1;
  for (let i = 0; i < pool.length; i++)
    if (pool[i].byteLength >= total && (best < 0 || pool[i].byteLength < pool[best].byteLength)) best = i;
  const buffer = best >= 0 ? pool.splice(best, 1)[0] : new ArrayBuffer(total);
  if (ranges.length <= 2 * POOL_RUNS) return readOnPool(fd, ranges, new Uint8Array(buffer, 0, total));
  return threadFor()
    .read(fd, ranges, buffer)
    .then((bytes) => bytes.subarray(0, total));
}

/** Takes back bytes `readRanges` returned: their buffer serves a later batch. Nothing may read them after. */
export function releaseRanges(bytes: Uint8Array): void {
  const buffer = bytes.buffer;
  if (!(buffer instanceof ArrayBuffer) || buffer.byteLength === 0 || pool.includes(buffer)) return;
  if (pool.length < POOLED_BUFFERS) pool.push(buffer);
  else {
    // Full: the buffer replaces the smallest kept one if it is larger.
    let smallest = 0;
    for (let i = 1; i < pool.length; i++) if (pool[i].byteLength < pool[smallest].byteLength) smallest = i;
    if (pool[smallest].byteLength < buffer.byteLength) pool[smallest] = buffer;
  }
}

/** Each range by `fs.read` on libuv's thread pool, all in flight at once, into `bytes` one after another. */
function readOnPool(fd: number, ranges: readonly number[], bytes: Uint8Array): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    let pending = 0;
    let failed = false;
    const readAt = (at: number, offset: number, length: number) => {
      pending++;
      read(fd, bytes, at, length, offset, (error, n) => {
        pending--;
        if (failed) return;
        if (error || n === 0) {
          failed = true;
          reject(
            new Error(`range reader: ${error ? error.message : `read past the end of the file (${offset + length})`}`),
          );
          return;
        }
        if (n < length) readAt(at + n, offset + n, length - n);
        else if (pending === 0) resolve(bytes);
      });
    };
    let at = 0;
    for (let i = 0; i < ranges.length; i += 2) {
      if (ranges[i + 1] > 0) readAt(at, ranges[i], ranges[i + 1]);
      at += ranges[i + 1];
    }
    if (pending === 0) resolve(bytes);
  });
}
