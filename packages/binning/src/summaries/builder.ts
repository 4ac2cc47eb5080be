import { gain } from '../stackPath.js';
import { blockM2, mergeM2 } from '../summary.js';
import type { StackTree } from '../types.js';
import {
  CONTAINER_VERSION,
  coarseBlocks,
  CPU_BLOCK,
  CPU_FANOUT,
  ELEMENT_BYTES,
  HEADER_BYTES,
  MAGIC,
  MEMORY_BLOCK,
  MEMORY_FANOUT,
  type CpuLevelToc,
  type ElementType,
  type Section,
  type SeriesToc,
  type Toc,
} from './container.js';

type Typed = Float64Array | Int32Array | Uint32Array;

/**
 * Where a builder keeps the columns it will write out when they must not stay in memory (a
 * temporary file: `@prof/binning/node` `fileSpill`): full chunks are appended and read back once,
 * when the container is written. Without one, the chunks stay in memory.
 */
export interface SummariesSpill {
  /** Appends the bytes; returns the offset they were written at. */
  write(bytes: Uint8Array): number;
  /** The `length` bytes written at `offset`. */
  read(offset: number, length: number): Uint8Array;
}

const FIRST_CHUNK = 1024;
const LAST_CHUNK = 65536;

/**
 * A column grown in chunks (never by doubling and copying), which start small (a profile has many
 * short columns: per-thread series, upper levels) and grow to LAST_CHUNK elements. With a spill,
 * each full chunk goes there and its buffer is reused: a column then holds one chunk in memory.
 */
class Column<T extends Typed> {
  private readonly chunks: T[] = [];
  private readonly spilled: { offset: number; length: number }[] = [];
  private current: T;
  private used = 0;
  length = 0;
  constructor(
    private readonly make: (n: number) => T,
    private readonly spill: SummariesSpill | null,
  ) {
    this.current = make(FIRST_CHUNK);
  }
  push(v: number): void {
    if (this.used === this.current.length) this.nextChunk();
    this.current[this.used++] = v;
    this.length++;
  }
  private nextChunk(): void {
    const full = this.current;
    const size = Math.min(LAST_CHUNK, full.length * 2);
    if (this.spill) {
      this.spilled.push({ offset: this.spill.write(bytesOf(full)), length: full.length });
      if (size === full.length) {
        this.used = 0;
        return;
      }
    } else this.chunks.push(full);
    this.current = this.make(size);
    this.used = 0;
  }
  /** The values in order, chunk by chunk (spilled chunks read back into arrays of their own). */
  *segments(): Generator<T> {
    const width = this.current.BYTES_PER_ELEMENT;
    for (const { offset, length } of this.spilled) {
      const bytes = this.spill!.read(offset, length * width);
      const copy = bytes.byteOffset % width === 0 ? bytes : bytes.slice();
      yield new (this.current.constructor as new (b: ArrayBufferLike, o: number, n: number) => T)(
        copy.buffer,
        copy.byteOffset,
        length,
      );
    }
    yield* this.chunks;
    yield this.current.subarray(0, this.used) as T;
  }
  /** Appends the first `count` values of `from`. */
  copyFrom(from: Column<T>, count: number): void {
    let left = count;
    for (const seg of from.segments()) {
      const n = Math.min(left, seg.length);
      for (let i = 0; i < n; i++) this.push(seg[i]);
      left -= n;
      if (left === 0) break;
    }
  }
}

function bytesOf(a: Typed): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

type Make = <T extends Typed>(make: (n: number) => T) => Column<T>;
const F64 = (n: number) => new Float64Array(n);
const I32 = (n: number) => new Int32Array(n);
const U32 = (n: number) => new Uint32Array(n);

/**
 * A pyramid filled node by node, bottom up: level k+1's node j combines nodes jF..jF+F-1 of level
 * k, in `combineLevel`'s order (so the sums and M2s are the same to the bit). A group is passed up
 * only when the next one starts, or at the end when its level has more than F nodes: a level exists
 * exactly when `combineLevel` would have made it.
 */
class MemoryPyramid {
  /** [sum, min, max, m2] per node (no m2 before version 3), interleaved: a bin edge's node is one small read per level. */
  readonly levels: Column<Float64Array>[] = [];
  private readonly nodes: number[] = [];
  private readonly acc: { sum: number; min: number; max: number; m2: number; count: number; n: number }[] = [];
  constructor(
    private readonly column: () => Column<Float64Array>,
    private readonly withM2: boolean,
  ) {}
  /** A node of `count` values. */
  add(level: number, sum: number, min: number, max: number, m2: number, count: number): void {
    if (level === this.levels.length) {
      this.levels.push(this.column());
      this.nodes.push(0);
      this.acc.push({ sum: 0, min: Infinity, max: -Infinity, m2: 0, count: 0, n: 0 });
    }
    const l = this.levels[level];
    l.push(sum);
    l.push(min);
    l.push(max);
    if (this.withM2) l.push(m2);
    this.nodes[level]++;
    const a = this.acc[level];
    if (a.n === MEMORY_FANOUT) this.up(level);
    a.m2 = mergeM2(a.count, a.sum, a.m2, count, sum, m2);
    a.count += count;
    a.sum += sum;
    if (min < a.min) a.min = min;
    if (max > a.max) a.max = max;
    a.n++;
  }
  private up(level: number): void {
    const a = this.acc[level];
    const { sum, min, max, m2, count } = a;
    a.sum = 0;
    a.min = Infinity;
    a.max = -Infinity;
    a.m2 = 0;
    a.count = 0;
    a.n = 0;
    this.add(level + 1, sum, min, max, m2, count);
  }
  /** Passes the last groups up; the levels are then complete. */
  finish(): Column<Float64Array>[] {
    if (this.levels.length === 0) this.levels.push(this.column());
    for (let k = 0; k < this.levels.length; k++) if (this.nodes[k] > MEMORY_FANOUT && this.acc[k].n > 0) this.up(k);
    return this.levels;
  }
}

/** One memory series being summarised as its samples arrive (level 0 as `buildMemorySummary` fills it). */
class SeriesBuilder {
  readonly time: Column<Float64Array>;
  readonly value: Column<Float64Array>;
  readonly blockTime: Column<Float64Array>;
  readonly coarseTime: Column<Float64Array>;
  /** Every MEMORY_FANOUT-th block time (version 4 on), else null. */
  readonly nodeTime: Column<Float64Array> | null;
  readonly pyramid: MemoryPyramid;
  length = 0;
  private sum = 0;
  private min = Infinity;
  private max = -Infinity;
  private inBlock = 0;
  /** The current block's readings (its M2 takes a second pass over them). */
  private readonly block = new Float64Array(MEMORY_BLOCK);
  /**
   * While every sample so far had a finite reading, the series is the builder's own time and value
   * columns: nothing is copied unless a reading is missing (then `materialize`).
   */
  lazy: boolean;
  /** Blocks per coarse time entry, as the container's version has them. */
  private readonly coarse: number;
  constructor(column: Make, version: number, lazy = false) {
    this.time = column(F64);
    this.value = column(F64);
    this.blockTime = column(F64);
    this.coarseTime = column(F64);
    this.nodeTime = version >= 4 ? column(F64) : null;
    this.pyramid = new MemoryPyramid(() => column(F64), version >= 3);
    this.coarse = coarseBlocks(version);
    this.lazy = lazy;
  }
  push(t: number, v: number): void {
    if (this.inBlock === 0) {
      if (this.blockTime.length % this.coarse === 0) this.coarseTime.push(t);
      if (this.nodeTime && this.blockTime.length % MEMORY_FANOUT === 0) this.nodeTime.push(t);
      this.blockTime.push(t);
    }
    if (!this.lazy) {
      this.time.push(t);
      this.value.push(v);
    }
    this.length++;
    this.block[this.inBlock] = v;
    this.sum += v;
    this.min = Math.min(v, this.min);
    this.max = Math.max(v, this.max);
    if (++this.inBlock === MEMORY_BLOCK) this.closeBlock();
  }
  /** The readings so far were the first `length` of these columns; from now on they are copied. */
  materialize(time: Column<Float64Array>, value: Column<Float64Array>): void {
    this.time.copyFrom(time, this.length);
    this.value.copyFrom(value, this.length);
    this.lazy = false;
  }
  closeBlock(): void {
    if (this.inBlock === 0) return;
    this.pyramid.add(0, this.sum, this.min, this.max, blockM2(this.block, 0, this.inBlock, this.sum), this.inBlock);
    this.sum = 0;
    this.min = Infinity;
    this.max = -Infinity;
    this.inBlock = 0;
  }
}

export interface SummariesBuilderOptions {
  /** The profile's stack tree (`doc.stacks`): stored so stack analyses need nothing else. */
  stacks: StackTree;
  /** Number of thread rows (`doc.threads.length`). */
  threads: number;
  /** Which optional columns the chunks will carry. */
  memory?: boolean;
  heap?: boolean;
  weight?: boolean;
  /** Anything the caller wants back from `Summaries.meta` (JSON). */
  meta?: Record<string, unknown>;
  /** Samples per CPU block and blocks per next-level node: only tests change them, to reach every level with few samples. */
  cpuBlock?: number;
  cpuFanout?: number;
  /**
   * Where full column chunks go (a temporary file), so the builder's memory does not grow with the
   * number of samples; the container is then written with `finishStreamed`.
   */
  spill?: SummariesSpill;
  /**
   * Container version to write: CONTAINER_VERSION (times and readings interleaved, M2 in the memory
   * nodes, a coarse time every 64 blocks), 3 (every 128 blocks), 2 (no M2) or 1 (every array
   * contiguous, no M2), which tests write to check that containers stored before are still read.
   */
  layout?: 1 | 2 | 3 | 4;
}

/** Consecutive samples, as parallel columns (a slice of `doc.samples`). */
export interface SampleChunk {
  time: Float64Array;
  stack: Int32Array;
  thread: Uint32Array;
  memory?: Float64Array | null;
  heap?: Float64Array | null;
  weight?: Float64Array | null;
}

type MemoryKind = 'rss' | 'heap';

/** (thread, stack) aggregates of one node being filled: a block's samples, or the nodes below it. */
class CpuBlock {
  private readonly index = new Map<number, number>();
  readonly thread: number[] = [];
  private readonly stack: number[] = [];
  private readonly count: number[] = [];
  private readonly weight: number[] = [];
  private readonly rss: number[] = [];
  private readonly heap: number[] = [];
  /** Nodes of the level below added since the last emit (for the levels above the blocks). */
  nodes = 0;

  add(thread: number, stack: number, c: number, w: number, r: number, h: number): void {
    const key = thread * 2 ** 31 + stack + 1;
    let at = this.index.get(key);
    if (at === undefined) {
      at = this.thread.length;
      this.index.set(key, at);
      this.thread.push(thread);
      this.stack.push(stack);
      this.count.push(0);
      this.weight.push(0);
      this.rss.push(0);
      this.heap.push(0);
    }
    this.count[at] += c;
    this.weight[at] += w;
    this.rss[at] += r;
    this.heap[at] += h;
  }

  /** The entries, sorted by thread then stack; empties the node. */
  take(): { thread: number[]; stack: number[]; count: number[]; weight: number[]; rss: number[]; heap: number[] } {
    const order = Array.from(this.thread.keys()).sort(
      (x, y) => this.thread[x] - this.thread[y] || this.stack[x] - this.stack[y],
    );
    const pick = (column: number[]) => order.map((i) => column[i]);
    const out = {
      thread: pick(this.thread),
      stack: pick(this.stack),
      count: pick(this.count),
      weight: pick(this.weight),
      rss: pick(this.rss),
      heap: pick(this.heap),
    };
    this.index.clear();
    for (const column of [this.thread, this.stack, this.count, this.weight, this.rss, this.heap]) column.length = 0;
    this.nodes = 0;
    return out;
  }
}

interface CpuLevel {
  offsets: Column<Float64Array>;
  thread: Column<Uint32Array>;
  stack: Column<Int32Array>;
  count: Column<Float64Array>;
  weight: Column<Float64Array>;
  rss: Column<Float64Array>;
  heap: Column<Float64Array>;
  /** Nodes written. */
  nodes: number;
  /** The group of this level's nodes being merged into the next level's node. */
  up: CpuBlock;
}

/**
 * Builds the summaries container of a profile from its samples, pushed in chunks in sample order
 * (so a streaming converter can feed it): memory min/mean/max pyramids for all threads and per
 * thread, per-block stack aggregates at several levels, and the per-sample columns the partial
 * blocks need. Every level is filled as the samples arrive; with a `spill`, nothing the builder
 * holds grows with the number of samples. `finish()` returns the container as parts to write one
 * after the other; `finishStreamed()` gives them one at a time.
 */
export class SummariesBuilder {
  private readonly opts: SummariesBuilderOptions;
  private readonly column: Make;
  private samples = 0;
  private firstTime = Number.NaN;
  private lastTime = Number.NaN;
  private readonly perThread: number[];
  private readonly time: Column<Float64Array>;
  private readonly stack: Column<Int32Array>;
  private readonly thread: Column<Uint32Array>;
  private readonly memory: Column<Float64Array> | null;
  private readonly heap: Column<Float64Array> | null;
  private readonly weight: Column<Float64Array> | null;
  private readonly series = new Map<string, SeriesBuilder>();
  private readonly carried: Record<MemoryKind, Column<Float64Array> | null>;
  private readonly lastReading: Record<MemoryKind, number> = { rss: Number.NaN, heap: Number.NaN };
  private readonly cpuBlockTime: Column<Float64Array>;
  private readonly block = new CpuBlock();
  private readonly cpuLevels: CpuLevel[] = [];
  private readonly extra = new Map<string, Typed>();
  private readonly json: Record<string, unknown> = {};
  private readonly cpuBlock: number;
  private readonly cpuFanout: number;
  /** The container version written (`layout`). */
  private readonly version: number;
  private finished = false;

  constructor(options: SummariesBuilderOptions) {
    this.opts = options;
    const spill = options.spill ?? null;
    this.column = (make) => new Column(make, spill);
    this.cpuBlock = options.cpuBlock ?? CPU_BLOCK;
    this.cpuFanout = options.cpuFanout ?? CPU_FANOUT;
    this.version = options.layout ?? CONTAINER_VERSION;
    if (
      !(
        Number.isInteger(this.cpuBlock) &&
        this.cpuBlock >= 1 &&
        Number.isInteger(this.cpuFanout) &&
        this.cpuFanout >= 2
      )
    )
      throw new RangeError('SummariesBuilder: cpuBlock must be an integer >= 1 and cpuFanout >= 2');
    const column = this.column;
    this.time = column(F64);
    this.stack = column(I32);
    this.thread = column(U32);
    this.memory = options.memory ? column(F64) : null;
    this.heap = options.heap ? column(F64) : null;
    this.weight = options.weight ? column(F64) : null;
    this.carried = { rss: options.memory ? column(F64) : null, heap: options.heap ? column(F64) : null };
    this.cpuBlockTime = column(F64);
    this.perThread = new Array<number>(options.threads).fill(0);
    this.newCpuLevel();
  }

  /**
   * What the samples pushed so far say about the run: how many there are, per thread row too, and
   * the times of the first and last (NaN before any).
   */
  get pushed(): { samples: number; perThread: readonly number[]; firstTime: number; lastTime: number } {
    return { samples: this.samples, perThread: this.perThread, firstTime: this.firstTime, lastTime: this.lastTime };
  }

  private newCpuLevel(): CpuLevel {
    const column = this.column;
    const level: CpuLevel = {
      offsets: column(F64),
      thread: column(U32),
      stack: column(I32),
      count: column(F64),
      weight: column(F64),
      rss: column(F64),
      heap: column(F64),
      nodes: 0,
      up: new CpuBlock(),
    };
    level.offsets.push(0);
    this.cpuLevels.push(level);
    return level;
  }

  /** Appends samples (in time order). */
  push(chunk: SampleChunk): void {
    if (this.finished) throw new Error('SummariesBuilder.push: the container is already finished');
    const n = chunk.time.length;
    const { memory, heap, weight } = chunk;
    if (chunk.stack.length !== n || chunk.thread.length !== n)
      throw new RangeError('SummariesBuilder.push: the columns of a chunk must have the same length');
    if (this.memory && (!memory || memory.length !== n))
      throw new RangeError('SummariesBuilder.push: this builder expects a memory column');
    if (this.heap && (!heap || heap.length !== n))
      throw new RangeError('SummariesBuilder.push: this builder expects a heap column');
    if (this.weight && (!weight || weight.length !== n))
      throw new RangeError('SummariesBuilder.push: this builder expects a weight column');
    const rows = this.opts.stacks.parent.length;
    for (let i = 0; i < n; i++) {
      const t = chunk.time[i];
      const s = chunk.stack[i];
      const th = chunk.thread[i];
      if (!(t >= this.lastTime) && this.samples > 0)
        throw new RangeError(`SummariesBuilder: time must be ascending, sample ${this.samples} has ${t}`);
      if (s < -1 || s >= rows)
        throw new RangeError(`SummariesBuilder: sample ${this.samples} has stack ${s} (there are ${rows} rows)`);
      if (th >= this.opts.threads)
        throw new RangeError(`SummariesBuilder: sample ${this.samples} has thread ${th} of ${this.opts.threads}`);
      if (this.samples % this.cpuBlock === 0) {
        this.cpuBlockTime.push(t);
        this.carried.rss?.push(this.lastReading.rss);
        this.carried.heap?.push(this.lastReading.heap);
      }
      if (this.samples === 0) this.firstTime = t;
      this.lastTime = t;
      this.time.push(t);
      this.stack.push(s);
      if (this.opts.threads > 1) this.thread.push(th);
      const m = memory ? memory[i] : Number.NaN;
      const h = heap ? heap[i] : Number.NaN;
      const w = weight ? weight[i] : 1;
      this.memory?.push(m);
      this.heap?.push(h);
      this.weight?.push(w);
      const gr = this.memory ? this.growth('rss', m) : 0;
      const gh = this.heap ? this.growth('heap', h) : 0;
      if (this.memory) this.reading('rss', th, t, m);
      if (this.heap) this.reading('heap', th, t, h);
      this.block.add(th, s, 1, w, gr, gh);
      this.perThread[th]++;
      this.samples++;
      if (this.samples % this.cpuBlock === 0) this.closeCpuBlock();
    }
  }

  /** Appends whole columns, in chunks of `chunk` samples (as a streaming converter would). */
  pushColumns(columns: SampleChunk, chunk = 65_536): void {
    const n = columns.time.length;
    for (let i = 0; i < n; i += chunk) {
      const j = Math.min(n, i + chunk);
      this.push({
        time: columns.time.subarray(i, j),
        stack: columns.stack.subarray(i, j),
        thread: columns.thread.subarray(i, j),
        memory: columns.memory?.subarray(i, j),
        heap: columns.heap?.subarray(i, j),
        weight: columns.weight?.subarray(i, j),
      });
    }
  }

  /** Bytes gained at this sample over the last reading (as `memoryGrowth` of the carried-forward column). */
  private growth(kind: MemoryKind, v: number): number {
    if (!Number.isFinite(v)) return 0;
    const before = this.lastReading[kind];
    this.lastReading[kind] = v;
    return Number.isNaN(before) ? 0 : gain(before, v);
  }

  private seriesOf(key: string, lazy = false): SeriesBuilder {
    let s = this.series.get(key);
    if (!s) this.series.set(key, (s = new SeriesBuilder(this.column, this.version, lazy)));
    return s;
  }

  /**
   * A reading goes to the all-threads series and to its thread's. With one thread, the thread's
   * series is the all-threads one (stored as an alias), so it is not built.
   */
  private reading(kind: MemoryKind, thread: number, t: number, v: number): void {
    const all = this.seriesOf(`${kind}:all`, true);
    if (!Number.isFinite(v)) {
      if (all.lazy) all.materialize(this.time, kind === 'rss' ? this.memory! : this.heap!);
      return;
    }
    all.push(t, v);
    if (this.opts.threads > 1) this.seriesOf(`${kind}:${thread}`).push(t, v);
  }

  private closeCpuBlock(): void {
    if (this.block.thread.length > 0) this.emitCpu(0, this.block);
  }

  /** Writes `node` as the next node of level `k`, and adds it to the group that will be level k+1's node. */
  private emitCpu(k: number, node: CpuBlock): void {
    const level = this.cpuLevels[k];
    const entries = node.take();
    const n = entries.thread.length;
    for (let i = 0; i < n; i++) {
      level.thread.push(entries.thread[i]);
      level.stack.push(entries.stack[i]);
      level.count.push(entries.count[i]);
      level.weight.push(entries.weight[i]);
      level.rss.push(entries.rss[i]);
      level.heap.push(entries.heap[i]);
    }
    level.offsets.push(level.thread.length);
    level.nodes++;
    // The group passes up when the next one starts (or at the end): a level exists only when the
    // one below has more than `cpuFanout` nodes.
    if (level.up.nodes === this.cpuFanout) this.passUp(k);
    for (let i = 0; i < n; i++)
      level.up.add(
        entries.thread[i],
        entries.stack[i],
        entries.count[i],
        entries.weight[i],
        entries.rss[i],
        entries.heap[i],
      );
    level.up.nodes++;
  }

  private passUp(k: number): void {
    if (k + 1 === this.cpuLevels.length) this.newCpuLevel();
    this.emitCpu(k + 1, this.cpuLevels[k].up);
  }

  /** An extra typed array stored as is (e.g. the frame table), read back with `Summaries.array`. */
  addArray(name: string, array: Typed): void {
    this.extra.set(name, array);
  }

  /** An extra JSON value (e.g. the string table), read back with `Summaries.json`. */
  addJson(name: string, value: unknown): void {
    this.json[name] = value;
  }

  /** The container, as parts whose concatenation is the file (held in memory: see `finishStreamed`). */
  finish(): Uint8Array[] {
    return [...this.finishStreamed().pieces()];
  }

  /**
   * The container's length, and its bytes piece by piece (spilled columns read back one chunk at a
   * time); `pieces` can be iterated once.
   */
  finishStreamed(): { bytes: number; pieces(): Generator<Uint8Array> } {
    if (this.finished) throw new Error('SummariesBuilder: finish may be called once');
    this.finished = true;
    this.closeCpuBlock();
    for (const s of this.series.values()) s.closeBlock();
    const opts = this.opts;
    const layout = this.version;
    const out = new Writer(layout);
    let columns: Toc['columns'];
    if (layout === 1 || !(this.memory || this.heap)) {
      columns = { time: out.column('f64', this.time), stack: out.column('i32', this.stack) };
      // One thread: the column would say 0 for every sample (4 of ~25 bytes a sample).
      if (opts.threads > 1) columns.thread = out.column('u32', this.thread);
      if (this.memory) columns.memory = out.column('f64', this.memory);
      if (this.heap) columns.heap = out.column('f64', this.heap);
    } else {
      // The times beside the readings, block by block: the all-threads series are these columns
      // when every reading is finite, and a bin edge then reads its times and readings at once.
      const [time, ...readings] = out.interleaved([this.time, ...[this.memory, this.heap].filter((c) => !!c)]);
      columns = { time, stack: out.column('i32', this.stack) };
      if (opts.threads > 1) columns.thread = out.column('u32', this.thread);
      if (this.memory) columns.memory = readings.shift();
      if (this.heap) columns.heap = readings.shift();
    }
    if (this.weight) columns.weight = out.column('f64', this.weight);
    const carried: Toc['carried'] = {};
    if (this.carried.rss) carried.rss = out.column('f64', this.carried.rss);
    if (this.carried.heap) carried.heap = out.column('f64', this.carried.heap);

    const series: Toc['series'] = {};
    for (const kind of ['rss', 'heap'] as const) {
      const column = kind === 'rss' ? this.memory : this.heap;
      if (!column) continue;
      const all = this.series.get(`${kind}:all`) ?? new SeriesBuilder(this.column, this.version, true);
      // Every reading finite: the series is the column itself, its times the time column.
      const whole = all.lazy;
      const allToc = this.writeSeries(
        out,
        all,
        whole ? columns.time : null,
        whole ? (kind === 'rss' ? columns.memory! : columns.heap!) : null,
      );
      series[`${kind}:all`] = allToc;
      for (let t = 0; t < opts.threads; t++) {
        const one = opts.threads > 1 ? this.series.get(`${kind}:${t}`) : all;
        const length = one?.length ?? 0;
        series[`${kind}:${t}`] =
          length === all.length
            ? `${kind}:all`
            : this.writeSeries(out, one ?? new SeriesBuilder(this.column, this.version));
      }
    }

    const cpuLevels: CpuLevelToc[] = [];
    for (let k = 0; ; k++) {
      const level = this.cpuLevels[k];
      cpuLevels.push(this.writeCpuLevel(out, level));
      if (level.nodes <= this.cpuFanout) break;
      if (level.up.nodes > 0) this.passUp(k);
    }

    const extra: Record<string, Section> = {};
    for (const [name, array] of this.extra) {
      const type: ElementType = array instanceof Float64Array ? 'f64' : array instanceof Int32Array ? 'i32' : 'u32';
      extra[name] = out.column(type, [array]);
    }
    const toc: Toc = {
      version: layout,
      samples: this.samples,
      threads: opts.threads,
      stackRows: opts.stacks.parent.length,
      firstTime: this.firstTime,
      lastTime: this.lastTime,
      meta: opts.meta ?? {},
      columns,
      stacks: {
        parent: out.column('i32', [opts.stacks.parent]),
        frame: out.column('u32', [opts.stacks.frame]),
      },
      cpuBlock: this.cpuBlock,
      cpuFanout: this.cpuFanout,
      cpuBlockTime: out.column('f64', this.cpuBlockTime),
      carried,
      cpuLevels,
      series,
      extra,
      json: this.json,
    };
    return out.finish(toc);
  }

  private writeSeries(out: Writer, s: SeriesBuilder, time?: Section | null, value?: Section | null): SeriesToc {
    const levels = s.pyramid.finish().map((l) => out.column('f64', l));
    if (!time || !value) {
      if (out.version === 1) {
        time = out.column('f64', s.time);
        value = out.column('f64', s.value);
      } else [time, value] = out.interleaved([s.time, s.value]);
    }
    const toc: SeriesToc = {
      length: s.length,
      time,
      value,
      blockTime: out.column('f64', s.blockTime),
      coarseTime: out.column('f64', s.coarseTime),
      levels,
    };
    if (s.nodeTime) toc.nodeTime = out.column('f64', s.nodeTime);
    return toc;
  }

  private writeCpuLevel(out: Writer, l: CpuLevel): CpuLevelToc {
    const toc: CpuLevelToc = {
      offsets: out.column('f64', l.offsets),
      thread: out.column('u32', l.thread),
      stack: out.column('i32', l.stack),
      count: out.column('f64', l.count),
    };
    if (this.weight) toc.weight = out.column('f64', l.weight);
    if (this.memory) toc.rss = out.column('f64', l.rss);
    if (this.heap) toc.heap = out.column('f64', l.heap);
    return toc;
  }
}

/** Interleaved groups start on a 4 KiB boundary: a block's group (512 bytes for times and readings) never straddles a disk page. */
const GROUP_ALIGN = 4096;

/**
 * Lays sections out after the header, each 8-byte aligned, the TOC last; the bytes are produced
 * only when asked for, so spilled columns are read back one chunk at a time.
 */
class Writer {
  private readonly sections: { bytes: number; pieces: () => Iterable<Typed | Uint8Array>; pad: number }[] = [];
  private size = HEADER_BYTES;

  constructor(readonly version: number) {}

  column(type: ElementType, source: Column<Typed> | Typed[]): Section {
    const offset = this.size;
    const length = Array.isArray(source) ? source.reduce((n, a) => n + a.length, 0) : source.length;
    const bytes = ELEMENT_BYTES[type] * length;
    this.add(bytes, 8, () => (Array.isArray(source) ? source : source.segments()));
    return { offset, length, type };
  }

  /**
   * Columns of the same length stored block by block: MEMORY_BLOCK elements of the first, then of
   * the second, … (the last block padded with zeros). One section each, with its `stride`.
   */
  interleaved(columns: Column<Float64Array>[]): Section[] {
    const length = columns[0].length;
    const group = MEMORY_BLOCK * 8;
    const stride = group * columns.length;
    const blocks = Math.ceil(length / MEMORY_BLOCK);
    // Padding up to the aligned start, as a section of its own.
    const lead = (GROUP_ALIGN - (this.size % GROUP_ALIGN)) % GROUP_ALIGN;
    if (lead) this.add(lead, 1, () => [new Uint8Array(lead)]);
    const offset = this.size;
    this.add(blocks * stride, 8, () => interleave(columns, blocks));
    return columns.map((_, j) => ({ offset: offset + j * group, length, type: 'f64' as const, stride }));
  }

  private add(bytes: number, align: number, pieces: () => Iterable<Typed | Uint8Array>): void {
    this.size += bytes;
    const pad = (align - (this.size % align)) % align;
    this.size += pad;
    this.sections.push({ bytes, pieces, pad });
  }

  finish(toc: Toc): { bytes: number; pieces(): Generator<Uint8Array> } {
    const json = new TextEncoder().encode(JSON.stringify(toc));
    const header = new Uint8Array(HEADER_BYTES);
    const view = new DataView(header.buffer);
    for (let i = 0; i < MAGIC.length; i++) view.setUint8(i, MAGIC.charCodeAt(i));
    view.setUint32(8, this.version, true);
    view.setUint32(12, json.byteLength, true);
    view.setFloat64(16, this.size, true);
    const sections = this.sections;
    const tocAt = this.size;
    let used = false;
    return {
      bytes: tocAt + json.byteLength,
      *pieces() {
        if (used) throw new Error('summaries: the container pieces can be read once');
        used = true;
        yield header;
        let at = HEADER_BYTES;
        for (const { bytes, pieces, pad } of sections) {
          const start = at;
          for (const a of pieces()) {
            if (a.length === 0) continue;
            at += a.byteLength;
            yield a instanceof Uint8Array ? a : bytesOf(a);
          }
          if (at - start !== bytes) throw new Error('summaries: bad section size');
          if (pad) {
            at += pad;
            yield new Uint8Array(pad);
          }
        }
        if (at !== tocAt) throw new Error('summaries: bad section size');
        yield json;
      },
    };
  }
}

/** Blocks written per piece of an interleaved section. */
const INTERLEAVE_BLOCKS = 2048;

/** The bytes of `Writer.interleaved`: each column's segments walked in step, block by block. */
function* interleave(columns: Column<Float64Array>[], blocks: number): Generator<Uint8Array> {
  const k = columns.length;
  const cursors = columns.map((c) => ({ segments: c.segments(), seg: new Float64Array(0) as Float64Array, at: 0 }));
  for (let b0 = 0; b0 < blocks; b0 += INTERLEAVE_BLOCKS) {
    const count = Math.min(INTERLEAVE_BLOCKS, blocks - b0);
    // A fresh buffer per piece: a caller may keep every piece before writing any (`finish`).
    const out = new Float64Array(count * k * MEMORY_BLOCK);
    for (let b = 0; b < count; b++) {
      for (let j = 0; j < k; j++) {
        const c = cursors[j];
        let to = (b * k + j) * MEMORY_BLOCK;
        let want = MEMORY_BLOCK;
        while (want > 0) {
          if (c.at === c.seg.length) {
            const next = c.segments.next();
            if (next.done) break; // the last block: zeros after the column's end
            c.seg = next.value;
            c.at = 0;
            continue;
          }
          const n = Math.min(want, c.seg.length - c.at);
          out.set(c.seg.subarray(c.at, c.at + n), to);
          c.at += n;
          to += n;
          want -= n;
        }
      }
    }
    yield bytesOf(out);
  }
}
