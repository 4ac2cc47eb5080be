import { gain } from '../stackPath.js';
import { combineLevel, type SummaryLevel } from '../summary.js';
import type { StackTree } from '../types.js';
import {
  COARSE_BLOCKS,
  CONTAINER_VERSION,
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
 * A column grown in fixed chunks (never by doubling and copying): the builder holds one copy of
 * what it will write, written out chunk by chunk.
 */
class Column<T extends Typed> {
  private readonly chunks: T[] = [];
  private current: T;
  private used = 0;
  length = 0;
  constructor(
    private readonly make: (n: number) => T,
    private readonly chunk = 65536,
  ) {
    this.current = make(chunk);
  }
  push(v: number): void {
    if (this.used === this.chunk) {
      this.chunks.push(this.current);
      this.current = this.make(this.chunk);
      this.used = 0;
    }
    this.current[this.used++] = v;
    this.length++;
  }
  parts(): T[] {
    return [...this.chunks, this.current.subarray(0, this.used) as T];
  }
  at(i: number): number {
    const c = Math.floor(i / this.chunk);
    return c < this.chunks.length ? this.chunks[c][i % this.chunk] : this.current[i % this.chunk];
  }
}

const f64 = () => new Column((n) => new Float64Array(n));

/** One memory series being summarised as its samples arrive (level 0 as `buildMemorySummary` fills it). */
class SeriesBuilder {
  readonly time = f64();
  readonly value = f64();
  readonly blockTime = f64();
  readonly sum0 = f64();
  readonly min0 = f64();
  readonly max0 = f64();
  private sum = 0;
  private min = Infinity;
  private max = -Infinity;
  private inBlock = 0;
  push(t: number, v: number): void {
    if (this.inBlock === 0) this.blockTime.push(t);
    this.time.push(t);
    this.value.push(v);
    this.sum += v;
    this.min = Math.min(v, this.min);
    this.max = Math.max(v, this.max);
    if (++this.inBlock === MEMORY_BLOCK) this.closeBlock();
  }
  closeBlock(): void {
    if (this.inBlock === 0) return;
    this.sum0.push(this.sum);
    this.min0.push(this.min);
    this.max0.push(this.max);
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

  /** Appends the entries, sorted by thread then stack, as the next node of `level`; empties the node. */
  emit(level: CpuLevel): void {
    const order = Array.from(this.thread.keys()).sort(
      (x, y) => this.thread[x] - this.thread[y] || this.stack[x] - this.stack[y],
    );
    for (const i of order) {
      level.thread.push(this.thread[i]);
      level.stack.push(this.stack[i]);
      level.count.push(this.count[i]);
      level.weight.push(this.weight[i]);
      level.rss.push(this.rss[i]);
      level.heap.push(this.heap[i]);
    }
    level.offsets.push(level.thread.length);
    this.index.clear();
    for (const column of [this.thread, this.stack, this.count, this.weight, this.rss, this.heap]) column.length = 0;
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
}

const newLevel = (): CpuLevel => ({
  offsets: f64(),
  thread: new Column((n) => new Uint32Array(n)),
  stack: new Column((n) => new Int32Array(n)),
  count: f64(),
  weight: f64(),
  rss: f64(),
  heap: f64(),
});

/**
 * Builds the summaries container of a profile from its samples, pushed in chunks in sample order
 * (so a streaming converter can feed it): memory min/mean/max pyramids for all threads and per
 * thread, per-block stack aggregates at several levels, and the per-sample columns the partial
 * blocks need. `finish()` returns the container as parts to write one after the other.
 */
export class SummariesBuilder {
  private readonly opts: SummariesBuilderOptions;
  private samples = 0;
  private firstTime = Number.NaN;
  private lastTime = Number.NaN;
  private readonly time = f64();
  private readonly stack = new Column((n) => new Int32Array(n));
  private readonly thread = new Column((n) => new Uint32Array(n));
  private readonly memory: Column<Float64Array> | null;
  private readonly heap: Column<Float64Array> | null;
  private readonly weight: Column<Float64Array> | null;
  private readonly series = new Map<string, SeriesBuilder>();
  private readonly carried: Record<MemoryKind, Column<Float64Array> | null>;
  private readonly lastReading: Record<MemoryKind, number> = { rss: Number.NaN, heap: Number.NaN };
  private readonly cpuBlockTime = f64();
  private readonly block = new CpuBlock();
  private readonly level0 = newLevel();
  private readonly extra = new Map<string, Typed>();
  private readonly json: Record<string, unknown> = {};
  private readonly cpuBlock: number;
  private readonly cpuFanout: number;

  constructor(options: SummariesBuilderOptions) {
    this.opts = options;
    this.cpuBlock = options.cpuBlock ?? CPU_BLOCK;
    this.cpuFanout = options.cpuFanout ?? CPU_FANOUT;
    if (
      !(
        Number.isInteger(this.cpuBlock) &&
        this.cpuBlock >= 1 &&
        Number.isInteger(this.cpuFanout) &&
        this.cpuFanout >= 2
      )
    )
      throw new RangeError('SummariesBuilder: cpuBlock must be an integer >= 1 and cpuFanout >= 2');
    this.memory = options.memory ? f64() : null;
    this.heap = options.heap ? f64() : null;
    this.weight = options.weight ? f64() : null;
    this.carried = { rss: options.memory ? f64() : null, heap: options.heap ? f64() : null };
    this.level0.offsets.push(0);
  }

  /** Appends samples (in time order). */
  push(chunk: SampleChunk): void {
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
      if (this.memory && Number.isFinite(m)) this.pushSeries('rss', th, t, m);
      if (this.heap && Number.isFinite(h)) this.pushSeries('heap', th, t, h);
      this.block.add(th, s, 1, w, gr, gh);
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

  /** A reading goes to the all-threads series and to its thread's. */
  private pushSeries(kind: MemoryKind, thread: number, t: number, v: number): void {
    for (const key of [`${kind}:all`, `${kind}:${thread}`]) {
      let s = this.series.get(key);
      if (!s) this.series.set(key, (s = new SeriesBuilder()));
      s.push(t, v);
    }
  }

  private closeCpuBlock(): void {
    if (this.block.thread.length > 0) this.block.emit(this.level0);
  }

  /** An extra typed array stored as is (e.g. the frame table), read back with `Summaries.array`. */
  addArray(name: string, array: Typed): void {
    this.extra.set(name, array);
  }

  /** An extra JSON value (e.g. the string table), read back with `Summaries.json`. */
  addJson(name: string, value: unknown): void {
    this.json[name] = value;
  }

  /** The container, as parts whose concatenation is the file. */
  finish(): Uint8Array[] {
    this.closeCpuBlock();
    for (const s of this.series.values()) s.closeBlock();
    const out = new Writer();
    const opts = this.opts;
    const columns: Toc['columns'] = {
      time: out.column('f64', this.time.parts()),
      stack: out.column('i32', this.stack.parts()),
    };
    // One thread: the column would say 0 for every sample (4 of ~25 bytes a sample).
    if (opts.threads > 1) columns.thread = out.column('u32', this.thread.parts());
    if (this.memory) columns.memory = out.column('f64', this.memory.parts());
    if (this.heap) columns.heap = out.column('f64', this.heap.parts());
    if (this.weight) columns.weight = out.column('f64', this.weight.parts());
    const carried: Toc['carried'] = {};
    if (this.carried.rss) carried.rss = out.column('f64', this.carried.rss.parts());
    if (this.carried.heap) carried.heap = out.column('f64', this.carried.heap.parts());

    const series: Toc['series'] = {};
    for (const kind of ['rss', 'heap'] as const) {
      const column = kind === 'rss' ? this.memory : this.heap;
      if (!column) continue;
      const all = this.series.get(`${kind}:all`) ?? new SeriesBuilder();
      // Every reading finite: the series is the column itself, its times the time column.
      const whole = all.time.length === this.samples;
      const allToc = this.writeSeries(
        out,
        all,
        whole ? columns.time : null,
        whole ? (kind === 'rss' ? columns.memory! : columns.heap!) : null,
      );
      series[`${kind}:all`] = allToc;
      for (let t = 0; t < opts.threads; t++) {
        const one = this.series.get(`${kind}:${t}`) ?? new SeriesBuilder();
        series[`${kind}:${t}`] = one.time.length === all.time.length ? `${kind}:all` : this.writeSeries(out, one);
      }
    }

    const cpuLevels: CpuLevelToc[] = [];
    let level = this.level0;
    for (;;) {
      cpuLevels.push(this.writeCpuLevel(out, level));
      if (level.offsets.length - 1 <= this.cpuFanout) break;
      level = combineCpu(level, this.cpuFanout);
    }

    const extra: Record<string, Section> = {};
    for (const [name, array] of this.extra) {
      const type: ElementType = array instanceof Float64Array ? 'f64' : array instanceof Int32Array ? 'i32' : 'u32';
      extra[name] = out.column(type, [array]);
    }
    const toc: Toc = {
      version: CONTAINER_VERSION,
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
      cpuBlockTime: out.column('f64', this.cpuBlockTime.parts()),
      carried,
      cpuLevels,
      series,
      extra,
      json: this.json,
    };
    return out.finish(toc);
  }

  private writeSeries(out: Writer, s: SeriesBuilder, time?: Section | null, value?: Section | null): SeriesToc {
    const blockTime = s.blockTime.parts();
    const coarse: number[] = [];
    for (let b = 0; b < s.blockTime.length; b += COARSE_BLOCKS) coarse.push(s.blockTime.at(b));
    const levels: SeriesToc['levels'] = [];
    let below: SummaryLevel = { sum: concat(s.sum0.parts()), min: concat(s.min0.parts()), max: concat(s.max0.parts()) };
    for (;;) {
      // Interleaved: a bin edge's nodes are then one small read per level, not three.
      const nodes = new Float64Array(below.sum.length * 3);
      for (let i = 0; i < below.sum.length; i++) {
        nodes[3 * i] = below.sum[i];
        nodes[3 * i + 1] = below.min[i];
        nodes[3 * i + 2] = below.max[i];
      }
      levels.push(out.column('f64', [nodes]));
      if (below.sum.length <= MEMORY_FANOUT) break;
      below = combineLevel(below);
    }
    return {
      length: s.time.length,
      time: time ?? out.column('f64', s.time.parts()),
      value: value ?? out.column('f64', s.value.parts()),
      blockTime: out.column('f64', blockTime),
      coarseTime: out.column('f64', [Float64Array.from(coarse)]),
      levels,
    };
  }

  private writeCpuLevel(out: Writer, l: CpuLevel): CpuLevelToc {
    const toc: CpuLevelToc = {
      offsets: out.column('f64', l.offsets.parts()),
      thread: out.column('u32', l.thread.parts()),
      stack: out.column('i32', l.stack.parts()),
      count: out.column('f64', l.count.parts()),
    };
    if (this.weight) toc.weight = out.column('f64', l.weight.parts());
    if (this.memory) toc.rss = out.column('f64', l.rss.parts());
    if (this.heap) toc.heap = out.column('f64', l.heap.parts());
    return toc;
  }
}

function concat(parts: Float64Array[]): Float64Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Float64Array(n);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** The next CPU level: `fanout` nodes' entries merged by (thread, stack), kept sorted. */
function combineCpu(below: CpuLevel, fanout: number): CpuLevel {
  const up = newLevel();
  up.offsets.push(0);
  const nodes = below.offsets.length - 1;
  const acc = new CpuBlock();
  for (let j = 0; j < nodes; j += fanout) {
    const to = below.offsets.at(Math.min(nodes, j + fanout));
    for (let e = below.offsets.at(j); e < to; e++) {
      acc.add(
        below.thread.at(e),
        below.stack.at(e),
        below.count.at(e),
        below.weight.at(e),
        below.rss.at(e),
        below.heap.at(e),
      );
    }
    acc.emit(up);
  }
  return up;
}

/** Lays sections out after the header, each 8-byte aligned; the TOC goes last. */
class Writer {
  private readonly parts: Uint8Array[] = [new Uint8Array(HEADER_BYTES)];
  private size = HEADER_BYTES;

  column(type: ElementType, arrays: Typed[]): Section {
    const offset = this.size;
    let length = 0;
    for (const a of arrays) {
      if (a.length === 0) continue;
      this.parts.push(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
      length += a.length;
      this.size += a.byteLength;
    }
    const pad = (8 - (this.size % 8)) % 8;
    if (pad) {
      this.parts.push(new Uint8Array(pad));
      this.size += pad;
    }
    if (ELEMENT_BYTES[type] * length + offset + pad !== this.size) throw new Error('summaries: bad section size');
    return { offset, length, type };
  }

  finish(toc: Toc): Uint8Array[] {
    const json = new TextEncoder().encode(JSON.stringify(toc));
    const header = new DataView(this.parts[0].buffer);
    for (let i = 0; i < MAGIC.length; i++) header.setUint8(i, MAGIC.charCodeAt(i));
    header.setUint32(8, CONTAINER_VERSION, true);
    header.setUint32(12, json.byteLength, true);
    header.setFloat64(16, this.size, true);
    return [...this.parts, json];
  }
}
