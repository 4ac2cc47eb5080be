import { MessageChannel, Worker, receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { monotonicNowMs } from './clock';

/** Memory readings over a time range; `time` is monotonic ms (see clock.ts), sorted ascending. */
export interface MemorySeries {
  time: Float64Array;
  /** Resident set size of the whole process, bytes. */
  rss: Float64Array;
  /** V8 heap used by the main thread's isolate, bytes; NaN where it could not be read. */
  heap: Float64Array;
}

/** One reading: monotonic ms, RSS and main-thread heap in bytes (heap NaN when unknown). */
export interface MemoryPoint {
  time: number;
  rss: number;
  heap: number;
}

/** Readings the worker posted: sample numbers [from, to). */
interface SampleBatch {
  from: number;
  to: number;
  slots: Float64Array;
}

/** Ring slots shared with the worker; holds the readings not yet posted (posted every BATCH). */
const RING_CAPACITY = 8192;
const BATCH = 32;
/** Float64 slots per reading: time, rss, heap. */
const STRIDE = 3;

/**
 * Runs in a worker thread so that a main thread stuck in a CPU-bound loop is still measured: RSS
 * is process-wide, and the main isolate's heap is asked through an inspector session on the main
 * thread, which V8 answers by interrupt even while that thread runs JavaScript (0-4 ms here). Each
 * reading goes into a SharedArrayBuffer ring at once (heap filled in when its answer comes), and
 * in batches to the main thread: the main thread can so read everything up to the latest tick
 * synchronously, even from a process 'exit' handler, without waking up for every reading.
 * CommonJS source in a string: it needs no bundle entry of its own and runs the same from src/
 * and dist/.
 */
const WORKER_SOURCE = `
const { workerData } = require('node:worker_threads');
const { port, intervalMs, ring, capacity, batch, stride } = workerData;
const head = new Int32Array(ring, 0, 1);
const slots = new Float64Array(ring, 8, capacity * stride);
const now = () => Number(process.hrtime.bigint()) / 1e6;
let inspector = null;
try {
  const { Session } = require('node:inspector');
  inspector = new Session();
  inspector.connectToMainThread();
} catch { inspector = null; }
let posted = 0, timer = null;
function post() {
  const n = Atomics.load(head, 0);
  if (n === posted) return;
  const from = Math.max(posted, n - capacity);
  const out = new Float64Array((n - from) * stride);
  for (let k = from; k < n; k++) {
    const i = (k % capacity) * stride;
    for (let j = 0; j < stride; j++) out[(k - from) * stride + j] = slots[i + j];
  }
  port.postMessage({ from, to: n, slots: out }, [out.buffer]);
  posted = n;
}
function tick() {
  const n = Atomics.load(head, 0), i = (n % capacity) * stride;
  slots[i] = now();
  slots[i + 1] = process.memoryUsage.rss();
  slots[i + 2] = NaN;
  if (inspector) {
    try {
      inspector.post('Runtime.getHeapUsage', (err, r) => {
        if (!err && r && Atomics.load(head, 0) - n < capacity) slots[i + 2] = r.usedSize;
      });
    } catch { inspector = null; }
  }
  Atomics.store(head, 0, n + 1);
  if (n + 1 - posted >= batch) post();
}
port.on('message', (m) => {
  if (m === 'start' && timer === null) { tick(); timer = setInterval(tick, intervalMs); }
  else if (m === 'stop' && timer !== null) { clearInterval(timer); timer = null; tick(); post(); }
});
`;

/** The main thread's side of one sampler worker: starts it, and reads what it measured. */
class SamplerLink {
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
    this.slots = new Float64Array(ring, 8, RING_CAPACITY * STRIDE);
  }

  /** A worker that never keeps the process alive and never prints; null when workers are unavailable. */
  static open(intervalMs: number): SamplerLink | null {
    const { port1, port2 } = new MessageChannel();
    const ring = new SharedArrayBuffer(8 + RING_CAPACITY * STRIDE * 8);
    let worker: Worker;
    try {
      worker = new Worker(WORKER_SOURCE, {
        eval: true,
        workerData: { port: port2, intervalMs, ring, capacity: RING_CAPACITY, batch: BATCH, stride: STRIDE },
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

  /** How many readings the worker has written to the ring; readable while this thread never yields. */
  readingsWritten(): number {
    return Atomics.load(this.head, 0);
  }

  send(message: 'start' | 'stop'): void {
    this.port.postMessage(message);
  }

  /**
   * Every reading taken so far and not yet returned, synchronously: posted batches, then the ring
   * (whose newest heap values may still be on their way: those stay NaN).
   */
  take(into: MemoryPoint[]): void {
    for (let r = receiveMessageOnPort(this.port); r; r = receiveMessageOnPort(this.port)) {
      const b = r.message as SampleBatch;
      for (let k = Math.max(b.from, this.received); k < b.to; k++) into.push(pointAt(b.slots, (k - b.from) * STRIDE));
      this.received = Math.max(this.received, b.to);
    }
    const n = Atomics.load(this.head, 0);
    for (let k = Math.max(this.received, n - RING_CAPACITY); k < n; k++)
      into.push(pointAt(this.slots, (k % RING_CAPACITY) * STRIDE));
    this.received = Math.max(this.received, n);
  }
}

function pointAt(slots: Float64Array, i: number): MemoryPoint {
  return { time: slots[i], rss: slots[i + 1], heap: slots[i + 2] };
}

/**
 * One sampler per process and interval, shared by every profiled call: it samples only while at
 * least one call holds it, and each call cuts its own time range out of the shared series.
 */
export class MemorySampler {
  private link: SamplerLink | null = null;
  private holders = 0;
  private points: MemoryPoint[] = [];
  /** Start times of calls that still need readings; older readings are dropped. */
  private readonly openRanges = new Map<number, number>();
  private nextRangeId = 1;

  constructor(private readonly intervalMs: number) {}

  /** Starts the worker ahead of the first call (it takes tens of ms to boot). */
  warmUp(): void {
    this.link ??= SamplerLink.open(this.intervalMs);
  }

  /**
   * Readings taken since the worker started, read from shared memory: a caller that never yields
   * can still wait for the sampler to have measured something (0 when workers are unavailable).
   */
  readingsTaken(): number {
    return this.link?.readingsWritten() ?? 0;
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
    this.link?.take(this.points);
    return toSeries(this.points.filter((p) => p.time >= from && p.time <= to));
  }

  /**
   * The whole series of one call: the worker's readings between the call's own `start` and `end`
   * readings, with those two merged in; the range is then forgotten. Synchronous (exit hooks use it).
   */
  seriesOf(rangeId: number, start: MemoryPoint, end: MemoryPoint): MemorySeries {
    const series = withPoints(this.collect(start.time, end.time), [start, end]);
    this.forget(rangeId);
    return series;
  }

  forget(rangeId: number): void {
    this.openRanges.delete(rangeId);
    const oldest = Math.min(...this.openRanges.values());
    let keep = 0;
    while (keep < this.points.length && this.points[keep].time < oldest) keep++;
    this.points = this.points.slice(keep);
  }
}

function toSeries(points: MemoryPoint[]): MemorySeries {
  return {
    time: Float64Array.from(points, (p) => p.time),
    rss: Float64Array.from(points, (p) => p.rss),
    heap: Float64Array.from(points, (p) => p.heap),
  };
}

/** A reading taken on the calling thread itself, for the exact start and end of a call. */
export function readMemoryHere(): MemoryPoint {
  const m = process.memoryUsage();
  return { time: monotonicNowMs(), rss: m.rss, heap: m.heapUsed };
}

/** Merges point readings into a series, in time order. */
function withPoints(series: MemorySeries, points: MemoryPoint[]): MemorySeries {
  const all: MemoryPoint[] = [...points];
  for (let i = 0; i < series.time.length; i++)
    all.push({ time: series.time[i], rss: series.rss[i], heap: series.heap[i] });
  all.sort((a, b) => a.time - b.time);
  return toSeries(all);
}
