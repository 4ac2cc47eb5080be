import {
  DOCUMENT_MAGIC,
  SCHEMA_VERSION,
  type DocumentMeta,
  type DocumentProducer,
  type DocumentWarning,
  type FrameKind,
  type ProfileDocument,
  type SampleTable,
} from './schema';
import { FORMAT_PRODUCER } from './producer';

/** A typed array that doubles its capacity as values are appended. */
class Growable<T extends Int32Array | Uint32Array | Float64Array | Uint8Array> {
  array: T;
  length = 0;
  constructor(
    private readonly make: (n: number) => T,
    capacity = 1024,
  ) {
    this.array = make(capacity);
  }
  push(value: number): void {
    if (this.length === this.array.length) this.grow(this.length + 1);
    this.array[this.length++] = value;
  }
  grow(min: number): void {
    const next = this.make(Math.max(min, this.array.length * 2));
    next.set(this.array.subarray(0, this.length));
    this.array = next;
  }
  /** The filled part as an exactly-sized copy (the document must not carry spare capacity). */
  toArray(): T {
    return this.array.slice(0, this.length) as T;
  }
}

// Numeric keys stay below 2^53: (parent + 1) < 2^31 and frame < 2^21.
const FRAME_KEY_LIMIT = 2 ** 21;

export interface FrameSpec {
  /** Function name. */
  name: string;
  /** File name, '' when unknown. */
  file: string;
  /** First line of the function, 0 when unknown. */
  line: number;
  kind: FrameKind;
  /** The source's own full name for the frame. */
  raw: string;
  /** Hex address, '' when the source has none. */
  address: string;
}

/** Samples handed to a `SampleSink`: rows `start` to `start + length` (views, valid during the call only). */
export interface SampleChunk {
  start: number;
  length: number;
  stack: Int32Array;
  time: Float64Array;
  thread: Uint32Array;
  memory: Float64Array | null;
  weight: Float64Array | null;
  heap: Float64Array | null;
}

/** Takes samples off the builder as they come, so a long run's columns need not fit in memory. */
export interface SampleSink {
  write(chunk: SampleChunk): void;
}

export interface BuilderOptions {
  /** Where full chunks of samples go; then `finish` gives a document without sample columns. */
  sink?: SampleSink;
  /** Samples per chunk handed to `sink` (default 65,536). */
  chunkSamples?: number;
}

export interface FinishOptions {
  meta: DocumentMeta;
  warnings?: DocumentWarning[];
  timeEstimated: boolean;
  timeSource: SampleTable['timeSource'];
  /** Replaces the time column (readers that can only estimate times once every sample is known). */
  time?: Float64Array;
  /** Who wrote the document (default `FORMAT_PRODUCER`: this package and its version). */
  producer?: DocumentProducer;
}

/**
 * Builds a `ProfileDocument` incrementally: interns strings, frames and stack prefix-tree nodes, and
 * appends samples to growable typed arrays. Every reader uses it, so all sources share one shape.
 */
export class DocumentBuilder {
  private readonly strings: string[] = [''];
  private readonly stringIds = new Map<string, number>([['', 0]]);

  private readonly frameIds = new Map<string, number>();
  private readonly frameName: number[] = [];
  private readonly frameFile: number[] = [];
  private readonly frameLine: number[] = [];
  private readonly frameKind: number[] = [];
  private readonly frameRaw: number[] = [];
  private readonly frameAddress: number[] = [];

  private readonly stackParent = new Growable((n) => new Int32Array(n));
  private readonly stackFrame = new Growable((n) => new Uint32Array(n));
  private readonly stackLine = new Growable((n) => new Int32Array(n));
  private readonly stackIds = new Map<number, number>();
  private readonly stackIdsWithLine = new Map<string, number>();

  private readonly sampleStack = new Growable((n) => new Int32Array(n));
  private readonly sampleTime = new Growable((n) => new Float64Array(n));
  private readonly sampleThread = new Growable((n) => new Uint32Array(n));
  private sampleMemory: Growable<Float64Array> | null = null;
  private sampleWeight: Growable<Float64Array> | null = null;
  private sampleHeap: Growable<Float64Array> | null = null;

  private readonly threadIds = new Map<string, number>();
  private readonly threadId: string[] = [];
  private readonly threadName: (string | null)[] = [];

  private readonly sink: SampleSink | null;
  private readonly chunkSamples: number;
  /** Samples already handed to the sink. */
  private flushed = 0;

  constructor(options: BuilderOptions = {}) {
    this.sink = options.sink ?? null;
    this.chunkSamples = options.chunkSamples ?? 65536;
  }

  /** Index of `s` in the string table, adding it if new. */
  string(s: string): number {
    let id = this.stringIds.get(s);
    if (id === undefined) {
      id = this.strings.length;
      this.strings.push(s);
      this.stringIds.set(s, id);
    }
    return id;
  }

  /** Frame row for `key` (any string that identifies the frame in its source), created from `spec()` if new. */
  frame(key: string, spec: () => FrameSpec): number {
    let id = this.frameIds.get(key);
    if (id === undefined) {
      const f = spec();
      id = this.frameName.length;
      this.frameName.push(this.string(f.name));
      this.frameFile.push(this.string(f.file));
      this.frameLine.push(f.line);
      this.frameKind.push(f.kind);
      this.frameRaw.push(this.string(f.raw));
      this.frameAddress.push(this.string(f.address));
      this.frameIds.set(key, id);
    }
    return id;
  }

  get frameCount(): number {
    return this.frameName.length;
  }

  /** Renames frame `id` (readers that learn names only after the samples, as vmprof does). */
  updateFrame(id: number, spec: Partial<FrameSpec>): void {
    if (spec.name !== undefined) this.frameName[id] = this.string(spec.name);
    if (spec.file !== undefined) this.frameFile[id] = this.string(spec.file);
    if (spec.line !== undefined) this.frameLine[id] = spec.line;
    if (spec.kind !== undefined) this.frameKind[id] = spec.kind;
    if (spec.raw !== undefined) this.frameRaw[id] = this.string(spec.raw);
    if (spec.address !== undefined) this.frameAddress[id] = this.string(spec.address);
  }

  /** Stack row for `parent` (-1 for a root) extended by `frame` executing `line` (0 = not recorded). */
  stack(parent: number, frame: number, line = 0): number {
    if (line === 0 && frame < FRAME_KEY_LIMIT) {
      const key = (parent + 1) * FRAME_KEY_LIMIT + frame;
      let id = this.stackIds.get(key);
      if (id === undefined) {
        id = this.addStack(parent, frame, 0);
        this.stackIds.set(key, id);
      }
      return id;
    }
    const key = `${parent},${frame},${line}`;
    let id = this.stackIdsWithLine.get(key);
    if (id === undefined) {
      id = this.addStack(parent, frame, line);
      this.stackIdsWithLine.set(key, id);
    }
    return id;
  }

  private addStack(parent: number, frame: number, line: number): number {
    const id = this.stackParent.length;
    this.stackParent.push(parent);
    this.stackFrame.push(frame);
    this.stackLine.push(line);
    return id;
  }

  get stackCount(): number {
    return this.stackParent.length;
  }

  /** Thread row for the source's thread id. */
  thread(id: string, name: string | null = null): number {
    let row = this.threadIds.get(id);
    if (row === undefined) {
      row = this.threadId.length;
      this.threadId.push(id);
      this.threadName.push(name);
      this.threadIds.set(id, row);
    }
    return row;
  }

  /** Appends a sample. `memory`, `weight` and `heap` columns appear once any sample sets them. */
  sample(stack: number, time: number, thread: number, memory?: number, weight?: number, heap?: number): void {
    const i = this.sampleStack.length;
    this.sampleStack.push(stack);
    this.sampleTime.push(time);
    this.sampleThread.push(thread);
    if (memory !== undefined) {
      if (!this.sampleMemory) this.sampleMemory = this.backfilled(i, NaN);
      this.sampleMemory.push(memory);
    } else if (this.sampleMemory) this.sampleMemory.push(NaN);
    if (weight !== undefined) {
      if (!this.sampleWeight) this.sampleWeight = this.backfilled(i, 1);
      this.sampleWeight.push(weight);
    } else if (this.sampleWeight) this.sampleWeight.push(1);
    if (heap !== undefined) {
      if (!this.sampleHeap) this.sampleHeap = this.backfilled(i, NaN);
      this.sampleHeap.push(heap);
    } else if (this.sampleHeap) this.sampleHeap.push(NaN);
    if (this.sink !== null && i + 1 === this.chunkSamples) this.flushSamples();
  }

  /** The time column of the samples still held (all of them without a sink). */
  heldTimes(): Float64Array {
    return this.sampleTime.array.subarray(0, this.sampleTime.length);
  }

  /** Hands the samples held to the sink and starts the next chunk. */
  private flushSamples(): void {
    const length = this.sampleStack.length;
    if (this.sink === null || length === 0) return;
    const view = (g: Growable<Float64Array> | null) => (g ? g.array.subarray(0, length) : null);
    this.sink.write({
      start: this.flushed,
      length,
      stack: this.sampleStack.array.subarray(0, length),
      time: this.sampleTime.array.subarray(0, length),
      thread: this.sampleThread.array.subarray(0, length),
      memory: view(this.sampleMemory),
      weight: view(this.sampleWeight),
      heap: view(this.sampleHeap),
    });
    this.flushed += length;
    for (const g of [this.sampleStack, this.sampleTime, this.sampleThread, this.sampleMemory, this.sampleWeight])
      if (g) g.length = 0;
    if (this.sampleHeap) this.sampleHeap.length = 0;
  }

  private backfilled(count: number, value: number): Growable<Float64Array> {
    const g = new Growable((n) => new Float64Array(n), Math.max(1024, count * 2));
    g.array.fill(value, 0, count);
    g.length = count;
    return g;
  }

  get sampleCount(): number {
    return this.flushed + this.sampleStack.length;
  }

  /**
   * The document. With a sink, every sample goes to it first, and the sample columns are empty
   * (`samples.length` still counts every sample, `options.time` is ignored).
   */
  finish(options: FinishOptions): ProfileDocument {
    this.flushSamples();
    const n = this.sampleCount;
    const held = this.sink === null;
    const time = held ? (options.time ?? this.sampleTime.toArray()) : new Float64Array(0);
    if (held && time.length !== n) throw new Error(`time column has ${time.length} values for ${n} samples`);
    const column = <T extends Int32Array | Uint32Array | Float64Array>(g: Growable<T>): T =>
      held ? g.toArray() : (g.array.slice(0, 0) as T);
    return {
      magic: DOCUMENT_MAGIC,
      version: SCHEMA_VERSION,
      producer: options.producer ?? { ...FORMAT_PRODUCER },
      meta: options.meta,
      strings: this.strings.slice(),
      frames: {
        length: this.frameName.length,
        name: Uint32Array.from(this.frameName),
        file: Uint32Array.from(this.frameFile),
        line: Int32Array.from(this.frameLine),
        kind: Uint8Array.from(this.frameKind),
        raw: Uint32Array.from(this.frameRaw),
        address: Uint32Array.from(this.frameAddress),
      },
      stacks: {
        length: this.stackParent.length,
        parent: this.stackParent.toArray(),
        frame: this.stackFrame.toArray(),
        line: this.stackLine.toArray(),
      },
      samples: {
        length: n,
        stack: column(this.sampleStack),
        time,
        timeEstimated: options.timeEstimated,
        timeSource: options.timeSource,
        thread: column(this.sampleThread),
        memory: this.sampleMemory ? column(this.sampleMemory) : null,
        weight: this.sampleWeight ? column(this.sampleWeight) : null,
        heap: this.sampleHeap ? column(this.sampleHeap) : null,
      },
      threads: { length: this.threadId.length, id: this.threadId.slice(), name: this.threadName.slice() },
      warnings: options.warnings ?? [],
    };
  }
}

/** An empty `DocumentMeta` for `source`, for readers to fill in. */
export function emptyMeta(source: DocumentMeta['source']): DocumentMeta {
  return {
    project: null,
    name: null,
    tags: {},
    interpreter: null,
    startTime: null,
    endTime: null,
    zone: null,
    periodUs: null,
    argv: null,
    host: null,
    source,
    vmprof: null,
  };
}
