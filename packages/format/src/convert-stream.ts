// Bounded-memory conversion of a vmprof file of any length into a `.msgpack.gz` document, byte for
// byte what `gzipDocument(await readProfileFile(path))` writes. The reader hands its samples to
// column files on disk in chunks; the frames, stacks, strings and threads (which do not grow with
// the run's length) stay in memory. Then each column is read back for its planning passes and
// once more while msgpack + gzip stream out, so memory stays flat whatever the number of samples.
import { closeSync, createWriteStream, openSync, readSync } from 'node:fs';
import { ColumnFile, READ_CHUNK } from './column-file';
import { mkdtemp, open, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip, createGzip } from 'node:zlib';
import type { SampleChunk, SampleSink } from './builder';
import { encodeDocumentStreamed, planSampleColumn, type SampleColumnName } from './codec';
import type { ColumnChunks, ColumnPlan } from './column-codec';
import { DETECT_HEAD_BYTES, detectFormat } from './detect';
import { fileChunks, type GunzipState, gunzipChunks, gzipDocument, GZIP_LEVEL, readProfileFile } from './node';
import { SampleChunkCheck } from './integrity';
import type { SampleGroups, StreamedSamples } from './sample-groups';
import type { ProfileDocument } from './schema';
import { createVmprofReader } from './vmprof/reader';
import type { ReadOptions } from './vmprof/types';

/** Bytes per read of the input. */
const READ_BYTES = 4 << 20;

/**
 * Hands `onChunk` the file's bytes in order, READ_BYTES at a time, the next read already running in
 * the thread pool while `onChunk` parses the current one (two buffers, reused: `onChunk` must keep no
 * reference). Read then parsed one after the other, a 24-hour file off the disk (582 MB/s cold)
 * parsed at 570 MB/s went at 294 MB/s.
 */
async function readAhead(path: string, onChunk: (chunk: Uint8Array, read: number) => void): Promise<void> {
  const file = await open(path, 'r');
  const buffers = [new Uint8Array(READ_BYTES), new Uint8Array(READ_BYTES)];
  let read = 0;
  let next = file.read(buffers[0], 0, READ_BYTES, 0);
  try {
    for (let k = 0; ; k ^= 1) {
      const { bytesRead } = await next;
      if (bytesRead === 0) break;
      read += bytesRead;
      next = file.read(buffers[k ^ 1], 0, READ_BYTES, read);
      onChunk(buffers[k].subarray(0, bytesRead), read);
    }
  } finally {
    // When onChunk throws (a damaged record), a failure of the read in flight is not news.
    await next.catch(() => undefined);
    await file.close();
  }
}

/** Writes the builder's sample chunks to column files in `dir`. */
class FileSampleSink implements SampleSink {
  readonly columns: Partial<Record<SampleColumnName, ColumnFile>> = {};
  count = 0;
  constructor(private readonly dir: string) {
    this.columns.stack = new ColumnFile(join(dir, 'stack'), 'i32');
    this.columns.thread = new ColumnFile(join(dir, 'thread'), 'u32');
  }
  write(chunk: SampleChunk): void {
    const c = this.columns;
    c.stack!.append(chunk.stack);
    c.thread!.append(chunk.thread);
    // The time column holds raw v7 stamps; before v7 it is all zeros and is not written at all.
    if (!c.time && chunk.time.some((t) => !Object.is(t, 0))) {
      c.time = new ColumnFile(join(this.dir, 'time'), 'f64');
      c.time.fill(chunk.start, 0);
    }
    c.time?.append(chunk.time);
    // Optional columns appear with their first value; earlier rows read as "none" (as the builder fills them).
    for (const [name, fill] of [
      ['memory', Number.NaN],
      ['weight', 1],
      ['heap', Number.NaN],
    ] as const) {
      const values = chunk[name];
      if (!values) continue;
      let file = c[name];
      if (!file) {
        file = c[name] = new ColumnFile(join(this.dir, name), 'f64');
        file.fill(chunk.start, fill);
      }
      file.append(values);
    }
    this.count += chunk.length;
  }
  /** The raw time stamps, chunk by chunk (zeros when none was written). */
  *rawTimes(): Generator<Float64Array> {
    if (this.columns.time) {
      yield* this.columns.time.chunks() as Generator<Float64Array>;
      return;
    }
    const zeros = new Float64Array(Math.min(READ_CHUNK, this.count));
    for (let row = 0; row < this.count; row += zeros.length)
      yield zeros.subarray(0, Math.min(zeros.length, this.count - row));
  }
  close(): void {
    for (const file of Object.values(this.columns)) file.close();
  }
}

export interface ConvertFileOptions extends Pick<ReadOptions, 'project' | 'name' | 'tags'> {
  /**
   * Called as the file is read (`read`: file bytes so far and in total), then as the document is
   * encoded (`write`: msgpack bytes so far and in total, before gzip).
   */
  onProgress?(bytesRead: number, totalBytes: number, phase: 'read' | 'write'): void;
  /**
   * Called before the document is written, with the document (sample columns empty, `samples.length`
   * set) and what the samples hold: set names and meta here, check it (throwing stops the conversion).
   */
  prepare?(doc: ProfileDocument, samples: StreamedSamples): void | Promise<void>;
  /**
   * Called once the file is read, with the document (its stack table final, sample columns empty);
   * the function it returns is handed every sample chunk in order, all columns final (times as
   * stored), before `prepare`: what needs the samples (a summaries build) reads them here instead
   * of inflating the document again. Chunks are views into reused buffers: copy what is kept.
   */
  onSamples?(doc: ProfileDocument): ((chunk: SampleChunk) => void) | undefined;
  /** Folder for the column files (default: the system's temporary folder). */
  tmpDir?: string;
  /** Samples per chunk the reader hands on (tests use small chunks). */
  chunkSamples?: number;
}

export interface ConvertFileResult {
  /** The document without its sample columns (`samples.length` counts them). */
  document: ProfileDocument;
  samples: StreamedSamples;
  /** Bytes written to `outPath`. */
  bytes: number;
}

async function readHead(path: string): Promise<Uint8Array> {
  const fd = openSync(path, 'r');
  try {
    const head = new Uint8Array(DETECT_HEAD_BYTES);
    return head.subarray(0, readSync(fd, head, 0, head.length, 0));
  } finally {
    closeSync(fd);
  }
}

/** Counts (stack, thread) pairs; consecutive samples mostly repeat the previous pair. */
class GroupCounter {
  private readonly index = new Map<number, number>();
  private stack: number[] = [];
  private thread: number[] = [];
  private count: number[] = [];
  constructor(private readonly stackRows: number) {}
  add(stacks: Int32Array, threads: Uint32Array): void {
    const rows = this.stackRows + 1;
    let lastKey = -1;
    let last = -1;
    for (let i = 0; i < stacks.length; i++) {
      const key = threads[i] * rows + stacks[i] + 1;
      if (key !== lastKey) {
        let at = this.index.get(key);
        if (at === undefined) {
          at = this.count.length;
          this.index.set(key, at);
          this.stack.push(stacks[i]);
          this.thread.push(threads[i]);
          this.count.push(0);
        }
        lastKey = key;
        last = at;
      }
      this.count[last]++;
    }
  }
  result(): SampleGroups {
    return {
      length: this.count.length,
      stack: Int32Array.from(this.stack),
      thread: Uint32Array.from(this.thread),
      count: Float64Array.from(this.count),
    };
  }
}

/**
 * Converts the profile file `inPath` (vmprof, plain or gzipped) into the `.msgpack.gz` document
 * `outPath`, in memory bounded by the profile's distinct stacks, never by its number of samples.
 * Other formats (bounded by their own size limits) are converted in memory.
 */
export async function convertProfileFile(
  inPath: string,
  outPath: string,
  options: ConvertFileOptions = {},
): Promise<ConvertFileResult> {
  const total = (await stat(inPath)).size;
  const head = await readHead(inPath);
  let format = detectFormat(head);
  let gzipped = false;
  if (format === 'gzip') {
    gzipped = true;
    const inner = await new Promise<Uint8Array>((resolve) => {
      const gz = createGunzip();
      const parts: Buffer[] = [];
      gz.on('data', (c: Buffer) => parts.push(c));
      gz.on('error', () => resolve(Buffer.concat(parts)));
      gz.on('end', () => resolve(Buffer.concat(parts)));
      gz.end(head);
    });
    format = detectFormat(inner.subarray(0, DETECT_HEAD_BYTES));
  }
  if (format !== 'vmprof') return convertInMemory(inPath, outPath, options);

  const dir = await mkdtemp(join(options.tmpDir ?? tmpdir(), 'prof-convert-'));
  const sink = new FileSampleSink(dir);
  try {
    const reader = createVmprofReader({
      project: options.project,
      name: options.name,
      tags: options.tags,
      sink,
      chunkSamples: options.chunkSamples,
    });
    // A gzip stream cut short keeps what inflated, with a warning, as readProfileFile does.
    const gunzip: GunzipState = { warning: null, inflated: 0 };
    if (gzipped) {
      const file = fileChunks(inPath, (done, all) => options.onProgress?.(done, all, 'read'));
      for await (const chunk of gunzipChunks(file, gunzip)) reader.push(chunk);
    } else {
      options.onProgress?.(0, total, 'read');
      await readAhead(inPath, (chunk, read) => {
        reader.push(chunk);
        options.onProgress?.(read, total, 'read');
      });
    }
    const result = reader.finishDetailed();
    const doc = result.document;
    if (gzipped && doc.meta.vmprof) doc.meta.vmprof.gzipped = true;
    const streamed = result.streamed;
    if (!streamed) throw new Error('vmprof reader did not stream its samples');

    const cols = sink.columns;
    const n = doc.samples.length;
    // The time column: made from the raw stamps (v7) or the row index, afresh on every pass.
    let timeStats = streamed.time().result();
    const time: ColumnChunks = {
      type: 'f64',
      *chunks() {
        const rule = streamed.time();
        const out = new Float64Array(READ_CHUNK);
        let row = 0;
        for (const raw of sink.rawTimes()) {
          const view = out.subarray(0, raw.length);
          rule.fill(view, row, raw as Float64Array);
          row += raw.length;
          yield view;
        }
        timeStats = rule.result();
      },
    };

    // One pass over stack, thread, time and memory: checks, counts, summary figures.
    const groups = new GroupCounter(doc.stacks.length);
    const samples: StreamedSamples = { groups: groups.result(), firstTime: NaN, lastTime: NaN, peakMemory: -Infinity };
    {
      const stacks = cols.stack!.chunks();
      const threads = cols.thread!.chunks();
      const times = time.chunks()[Symbol.iterator]();
      const memory = cols.memory?.chunks();
      const onSamples = options.onSamples?.(doc);
      const weights = onSamples && cols.weight?.chunks();
      const heaps = onSamples && cols.heap?.chunks();
      const check = new SampleChunkCheck(doc.stacks.length, doc.threads.length);
      let row = 0;
      for (let s = stacks.next(); !s.done; s = stacks.next()) {
        const th = threads.next().value as Uint32Array;
        const tm = times.next().value as Float64Array;
        const mem = memory?.next().value as Float64Array | undefined;
        check.check(s.value as Int32Array, th, tm, { memory: mem });
        onSamples?.({
          start: row,
          length: s.value.length,
          stack: s.value as Int32Array,
          time: tm,
          thread: th,
          memory: mem ?? null,
          weight: (weights?.next().value as Float64Array | undefined) ?? null,
          heap: (heaps?.next().value as Float64Array | undefined) ?? null,
        });
        groups.add(s.value as Int32Array, th);
        if (row === 0) samples.firstTime = tm[0];
        samples.lastTime = tm[tm.length - 1];
        if (mem) for (let i = 0; i < mem.length; i++) if (mem[i] > samples.peakMemory) samples.peakMemory = mem[i];
        row += s.value.length;
      }
      if (!times.next().done) throw new Error('time column longer than the stack column');
      samples.groups = groups.result();
    }
    doc.warnings.push(...streamed.warnings(timeStats));
    if (gunzip.warning) doc.warnings.push(gunzip.warning);
    await options.prepare?.(doc, samples);

    const planned: Partial<Record<SampleColumnName, { column: ColumnChunks; plan: ColumnPlan }>> = {};
    for (const name of ['stack', 'time', 'thread', 'memory', 'weight', 'heap'] as const) {
      const column = name === 'time' ? time : cols[name];
      if (column) planned[name] = { column, plan: planSampleColumn(name, column) };
    }
    if (planned.stack!.plan.n !== n) throw new Error(`streamed ${planned.stack!.plan.n} samples, read ${n}`);

    let written = 0;
    const msgpack = encodeDocumentStreamed(doc, planned);
    // Copied: the encoder reuses its buffers, and zlib reads its input later.
    let encoded = 0;
    const pieces = (function* () {
      for (const piece of msgpack.pieces()) {
        encoded += piece.length;
        options.onProgress?.(encoded, msgpack.bytes, 'write');
        yield Buffer.from(piece);
      }
    })();
    const out = createWriteStream(outPath);
    await pipeline(
      Readable.from(pieces, { objectMode: false, highWaterMark: 1 }),
      // The level gzipDocument takes: the same bytes, whatever the chunking of the input.
      createGzip({ level: GZIP_LEVEL, chunkSize: 1 << 16 }),
      async function* count(source: AsyncIterable<Buffer>) {
        for await (const c of source) {
          written += c.length;
          yield c;
        }
      },
      out,
    );
    return { document: doc, samples, bytes: written };
  } finally {
    sink.close();
    await rm(dir, { recursive: true, force: true });
  }
}

async function convertInMemory(
  inPath: string,
  outPath: string,
  options: ConvertFileOptions,
): Promise<ConvertFileResult> {
  const doc = await readProfileFile(inPath, {
    onProgress: (done, all) => options.onProgress?.(done, all, 'read'),
  });
  if (options.project !== undefined) doc.meta.project = options.project;
  if (options.name !== undefined) doc.meta.name = options.name;
  if (options.tags !== undefined) doc.meta.tags = { ...options.tags };
  const samples = summarizeHeld(doc);
  await options.prepare?.(doc, samples);
  const bytes = await gzipDocument(doc);
  await writeFile(outPath, bytes);
  return { document: doc, samples, bytes: bytes.length };
}

/** `StreamedSamples` of a document held in memory. */
export function summarizeHeld(doc: ProfileDocument): StreamedSamples {
  const { samples: s, stacks } = doc;
  const groups = new GroupCounter(stacks.length);
  groups.add(s.stack, s.thread);
  let peakMemory = -Infinity;
  if (s.memory) for (let i = 0; i < s.length; i++) if (s.memory[i] > peakMemory) peakMemory = s.memory[i];
  return {
    groups: groups.result(),
    firstTime: s.length ? s.time[0] : NaN,
    lastTime: s.length ? s.time[s.length - 1] : NaN,
    peakMemory,
  };
}
