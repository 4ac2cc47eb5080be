import { MessageChannel, Worker, receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { monotonicNowMs } from './clock';

/** Memory readings over a time range; `time` is monotonic ms (see clock.ts), sorted ascending. */
export interface MemorySeries {
  time: Float64Array;
  /** Resident set size of the whole process, bytes. */
  rss: Float64Array;
}

/** Readings the worker posted: sample numbers [from, to). */
interface SampleBatch {
  from: number;
  to: number;
  time: Float64Array;
  rss: Float64Array;
}

/** Ring slots shared with the worker; holds the readings not yet posted (posted every BATCH). */
export const RING_CAPACITY = 8192;
const BATCH = 32;

/**
 * Runs in a worker thread so that a main thread stuck in a CPU-bound loop is still measured (RSS
 * is process-wide). Each reading goes into a SharedArrayBuffer ring at once, and in batches to the
 * main thread: the main thread can so read everything up to the latest tick synchronously, even
 * from a process 'exit' handler, without waking up for every reading. CommonJS source in a string:
 * it needs no bundle entry of its own and runs the same from src/ and dist/.
 */
export const WORKER_SOURCE = `
const { workerData } = require('node:worker_threads');
const { port, intervalMs, ring, capacity, batch } = workerData;
const head = new Int32Array(ring, 0, 1);
const slots = new Float64Array(ring, 8, capacity * 2);
const now = () => Number(process.hrtime.bigint()) / 1e6;
let posted = 0, timer = null;
function post() {
  const n = Atomics.load(head, 0);
  if (n === posted) return;
  const from = Math.max(posted, n - capacity);
  const time = new Float64Array(n - from), rss = new Float64Array(n - from);
  for (let k = from; k < n; k++) { const i = (k % capacity) * 2; time[k - from] = slots[i]; rss[k - from] = slots[i + 1]; }
  port.postMessage({ from, to: n, time, rss }, [time.buffer, rss.buffer]);
  posted = n;
}
function tick() {
  const n = Atomics.load(head, 0), i = (n % capacity) * 2;
  slots[i] = now();
  slots[i + 1] = process.memoryUsage.rss();
  Atomics.store(head, 0, n + 1);
  if (n + 1 - posted >= batch) post();
}
port.on('message', (m) => {
  if (m === 'start' && timer === null) { tick(); timer = setInterval(tick, intervalMs); }
  else if (m === 'stop' && timer !== null) { clearInterval(timer); timer = null; tick(); post(); }
});
`;

/** The main thread's side of one sampler worker: starts it, and reads what it measured. */
export class SamplerLink {
  readonly port: MessagePort;
  private readonly head: Int32Array;
  private readonly slots: Float64Array;
  private received = 0;

  private constructor(
    readonly worker: Worker,
    port: MessagePort,
    ring: SharedArrayBuffer,
  ) {
    this.port = port;
    this.head = new Int32Array(ring, 0, 1);
    this.slots = new Float64Array(ring, 8, RING_CAPACITY * 2);
  }

  /** A worker that never keeps the process alive and never prints; null when workers are unavailable. */
  static open(intervalMs: number): SamplerLink | null {
    const { port1, port2 } = new MessageChannel();
    const ring = new SharedArrayBuffer(8 + RING_CAPACITY * 16);
    let worker: Worker;
    try {
      worker = new Worker(WORKER_SOURCE, {
        eval: true,
        workerData: { port: port2, intervalMs, ring, capacity: RING_CAPACITY, batch: BATCH },
        transferList: [port2],
        stdout: true,
        stderr: true,
      });
    } catch {
      return null;
    }
    worker.unref();
    port1.unref();
    return new SamplerLink(worker, port1, ring);
  }

  send(message: 'start' | 'stop'): void {
    this.port.postMessage(message);
  }

  /** Every reading taken so far and not yet returned, synchronously: posted batches, then the ring. */
  take(): { time: number[]; rss: number[] } {
    const time: number[] = [];
    const rss: number[] = [];
    for (let r = receiveMessageOnPort(this.port); r; r = receiveMessageOnPort(this.port)) {
      const b = r.message as SampleBatch;
      for (let k = Math.max(b.from, this.received); k < b.to; k++) {
        time.push(b.time[k - b.from]);
        rss.push(b.rss[k - b.from]);
      }
      this.received = Math.max(this.received, b.to);
    }
    const n = Atomics.load(this.head, 0);
    for (let k = Math.max(this.received, n - RING_CAPACITY); k < n; k++) {
      const i = (k % RING_CAPACITY) * 2;
      time.push(this.slots[i]);
      rss.push(this.slots[i + 1]);
    }
    this.received = Math.max(this.received, n);
    return { time, rss };
  }
}

/**
 * One sampler per process and interval, shared by every profiled call: it samples only while at
 * least one call holds it, and each call cuts its own time range out of the shared series.
 */
export class MemorySampler {
  private link: SamplerLink | null = null;
  private holders = 0;
  private time: number[] = [];
  private rss: number[] = [];
  /** Start times of calls that still need readings; older readings are dropped. */
  private readonly openRanges = new Map<number, number>();
  private nextRangeId = 1;

  constructor(private readonly intervalMs: number) {}

  /** Starts the worker ahead of the first call (it takes tens of ms to boot). */
  warmUp(): void {
    this.link ??= SamplerLink.open(this.intervalMs);
  }

  /** Starts sampling (if not yet running) and returns a handle to the range that begins now. */
  acquire(): number {
    this.warmUp();
    const id = this.nextRangeId++;
    this.openRanges.set(id, monotonicNowMs());
    if (this.holders++ === 0) this.link?.send('start');
    return id;
  }

  /** Stops sampling once no call holds the sampler. The range stays readable until `forget`. */
  release(): void {
    if (this.holders > 0 && --this.holders === 0) this.link?.send('stop');
  }

  /** Readings in [from, to] (monotonic ms); synchronous, so it also works at process exit. */
  collect(from: number, to: number): MemorySeries {
    if (this.link) {
      const fresh = this.link.take();
      for (let i = 0; i < fresh.time.length; i++) {
        this.time.push(fresh.time[i]);
        this.rss.push(fresh.rss[i]);
      }
    }
    const time: number[] = [];
    const rss: number[] = [];
    for (let i = 0; i < this.time.length; i++) {
      if (this.time[i] < from || this.time[i] > to) continue;
      time.push(this.time[i]);
      rss.push(this.rss[i]);
    }
    return { time: Float64Array.from(time), rss: Float64Array.from(rss) };
  }

  forget(rangeId: number): void {
    this.openRanges.delete(rangeId);
    const oldest = Math.min(...this.openRanges.values());
    let keep = 0;
    while (keep < this.time.length && this.time[keep] < oldest) keep++;
    this.time = this.time.slice(keep);
    this.rss = this.rss.slice(keep);
  }
}

/** A reading taken on the calling thread itself, for the exact start and end of a call. */
export function readMemoryHere(): { time: number; rss: number } {
  return { time: monotonicNowMs(), rss: process.memoryUsage.rss() };
}

/** Merges point readings into a series, in time order. */
export function withPoints(series: MemorySeries, points: { time: number; rss: number }[]): MemorySeries {
  const all = points.map((p) => [p.time, p.rss] as [number, number]);
  for (let i = 0; i < series.time.length; i++) all.push([series.time[i], series.rss[i]]);
  all.sort((a, b) => a[0] - b[0]);
  return { time: Float64Array.from(all, (r) => r[0]), rss: Float64Array.from(all, (r) => r[1]) };
}
