import { pythonFloatRepr, pythonJsonString } from './compat-json';
import { HashWriter, type IncrementalHash } from './compat-sha256';
import { FrameKind, type ProfileDocument } from '../schema';

/** One sample as vmprof's reader shows it (the expected JSON's `samples` entries). */
export interface VmprofSampleJson {
  /** Frame names root first, one per entry (assembler entries included). */
  stack: string[];
  thread: number | string;
  /** RSS in KiB, null when memory profiling was off. */
  memory_kb: number | null;
  count: 1;
  /** Lines mode: the line executing in each frame (0 for native frames). */
  lines?: number[];
  /** Present when some entry is not plain code. */
  kinds?: ('code' | 'native' | 'jit' | 'asm')[];
  /** Version 7: the raw float64 stamp (writer's monotonic clock, seconds). */
  time?: number;
}

const KIND_NAMES: Record<number, 'code' | 'native' | 'jit' | 'asm'> = {
  [FrameKind.Python]: 'code',
  [FrameKind.Native]: 'native',
  [FrameKind.Jit]: 'jit',
  [FrameKind.Asm]: 'asm',
  [FrameKind.JavaScript]: 'code',
};

export interface SampleViewOptions {
  /** Name of each frame row, as vmprof resolves its address. */
  frameNames: string[];
  /** Emit `lines` (lines-mode profiles). */
  lines: boolean;
  /** Memory column holds RSS (bytes) per sample. */
  memory: boolean;
  /** v7 raw time stamps, else null. */
  rawTimes: Float64Array | null;
  /**
   * Map frame kinds for the `kinds` key; vmprof 0.3.15 (the truth for version-0 files) does not
   * mark odd addresses as native, so the caller can fold `native` into `code` there.
   */
  kindName?: (kind: number) => 'code' | 'native' | 'jit' | 'asm';
}

interface RowView {
  stack: string[];
  lines: number[] | null;
  kinds: ('code' | 'native' | 'jit' | 'asm')[] | null;
}

/**
 * Renders document samples back into vmprof's per-sample form and hashes them all. Distinct stacks
 * are few compared with samples (big_memory: 318,694 samples), so each stack row's JSON pieces are
 * built and UTF-8 encoded once and every sample only adds its memory, thread and time numbers.
 */
export class VmprofSampleView {
  private readonly views = new Map<number, RowView>();
  private readonly chunks = new Map<number, { head: Uint8Array; mid: Uint8Array }>();
  private readonly threadNumbers: (number | string)[];
  private readonly encoder = new TextEncoder();
  private readonly kindName: (kind: number) => 'code' | 'native' | 'jit' | 'asm';

  constructor(
    private readonly doc: ProfileDocument,
    private readonly options: SampleViewOptions,
  ) {
    this.threadNumbers = doc.threads.id.map((id) => {
      const v = Number(id);
      return Number.isSafeInteger(v) ? v : id;
    });
    this.kindName = options.kindName ?? ((k) => KIND_NAMES[k] ?? 'code');
  }

  threadOf(i: number): number | string {
    return this.threadNumbers[this.doc.samples.thread[i]];
  }

  memoryKbOf(i: number): number | null {
    const m = this.doc.samples.memory;
    if (!this.options.memory || !m || Number.isNaN(m[i])) return null;
    return Math.round(m[i] / 1024);
  }

  private rowView(row: number): RowView {
    let v = this.views.get(row);
    if (v) return v;
    const { stacks, frames } = this.doc;
    const stack: string[] = [];
    const lines: number[] = [];
    const kinds: ('code' | 'native' | 'jit' | 'asm')[] = [];
    let plain = true;
    for (let r = row; r >= 0; r = stacks.parent[r]) {
      const f = stacks.frame[r];
      stack.push(this.options.frameNames[f]);
      lines.push(stacks.line[r]);
      const k = this.kindName(frames.kind[f]);
      if (k !== 'code') plain = false;
      kinds.push(k);
    }
    stack.reverse();
    lines.reverse();
    kinds.reverse();
    v = { stack, lines: this.options.lines ? lines : null, kinds: plain ? null : kinds };
    this.views.set(row, v);
    return v;
  }

  /** Sample `i` as vmprof shows it (keys in the expected JSON's order). */
  sample(i: number): VmprofSampleJson {
    const v = this.rowView(this.doc.samples.stack[i]);
    const out: VmprofSampleJson = {
      stack: v.stack.slice(),
      thread: this.threadOf(i),
      memory_kb: this.memoryKbOf(i),
      count: 1,
    };
    if (v.lines) out.lines = v.lines.slice();
    if (v.kinds) out.kinds = v.kinds.slice();
    if (this.options.rawTimes) out.time = this.options.rawTimes[i];
    return out;
  }

  /**
   * `samples_sha256`: SHA-256 over every sample's canonical JSON (keys sorted, compact, raw UTF-8)
   * plus `\n`, in file order. Sorted key order is count, kinds, lines, memory_kb, stack, thread, time.
   */
  sha256(hash: IncrementalHash): string {
    const w = new HashWriter(hash);
    const { samples } = this.doc;
    const times = this.options.rawTimes;
    for (let i = 0; i < samples.length; i++) {
      const c = this.rowChunks(samples.stack[i]);
      w.bytes(c.head);
      const mem = this.memoryKbOf(i);
      w.ascii(mem === null ? 'null' : String(mem));
      w.bytes(c.mid);
      const t = this.threadOf(i);
      if (typeof t === 'number') w.ascii(String(t));
      else w.text(pythonJsonString(t));
      if (times) w.ascii(`,"time":${pythonFloatRepr(times[i])}}\n`);
      else w.ascii('}\n');
    }
    return w.digest();
  }

  private rowChunks(row: number): { head: Uint8Array; mid: Uint8Array } {
    let c = this.chunks.get(row);
    if (c) return c;
    const v = this.rowView(row);
    let head = '{"count":1,';
    if (v.kinds) head += `"kinds":[${v.kinds.map((k) => `"${k}"`).join(',')}],`;
    if (v.lines) head += `"lines":[${v.lines.join(',')}],`;
    head += '"memory_kb":';
    const mid = `,"stack":[${v.stack.map(pythonJsonString).join(',')}],"thread":`;
    c = { head: this.encoder.encode(head), mid: this.encoder.encode(mid) };
    this.chunks.set(row, c);
    return c;
  }
}
