import {
  DOCUMENT_MAGIC,
  SCHEMA_VERSION,
  type DocumentMeta,
  type DocumentWarning,
  type FrameKind,
  type ProfileDocument,
  type SampleTable,
} from './schema';

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

export interface FinishOptions {
  meta: DocumentMeta;
  warnings?: DocumentWarning[];
  timeEstimated: boolean;
  timeSource: SampleTable['timeSource'];
  /** Replaces the time column (readers that can only estimate times once every sample is known). */
  time?: Float64Array;
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
  }

  private backfilled(count: number, value: number): Growable<Float64Array> {
    const g = new Growable((n) => new Float64Array(n), Math.max(1024, count * 2));
    g.array.fill(value, 0, count);
    g.length = count;
    return g;
  }

  get sampleCount(): number {
    return this.sampleStack.length;
  }

  finish(options: FinishOptions): ProfileDocument {
    const n = this.sampleStack.length;
    const time = options.time ?? this.sampleTime.toArray();
    if (time.length !== n) throw new Error(`time column has ${time.length} values for ${n} samples`);
    return {
      magic: DOCUMENT_MAGIC,
      version: SCHEMA_VERSION,
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
        stack: this.sampleStack.toArray(),
        time,
        timeEstimated: options.timeEstimated,
        timeSource: options.timeSource,
        thread: this.sampleThread.toArray(),
        memory: this.sampleMemory ? this.sampleMemory.toArray() : null,
        weight: this.sampleWeight ? this.sampleWeight.toArray() : null,
        heap: this.sampleHeap ? this.sampleHeap.toArray() : null,
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
