// A stored `.msgpack.gz` document read in bounded memory: msgpack parsed as the gzip stream
// inflates, each sample column's varints decoded piece by piece into a column file, everything
// else (meta, strings, frames, stacks, threads, warnings: none grows with the run's length) held
// as `decodeDocument` holds it. The samples are then read back chunk by chunk, all columns in step,
// and checked as `assertIntegrity` checks them. A 24-hour profile inflates to ~2 GB: decoding it
// whole took the server to 1.3 GB of RSS.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { Unpackr } from 'msgpackr';
import {
  checkDocumentHead,
  DEFAULT_MAX_INFLATED_BYTES,
  documentFromWire,
  SAMPLE_COLUMN_TYPES,
  type SampleColumnName,
} from './codec';
import type { SampleChunk } from './builder';
import { ColumnDecoder } from './column-codec';
import { ColumnFile } from './column-file';
import { ProfFormatError } from './errors';
import { SampleChunkCheck } from './integrity';
import type { ProfileDocument } from './schema';

const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true });

/** Consecutive samples of a streamed document, as parallel columns. */
export type DocumentSampleChunk = Omit<SampleChunk, 'start' | 'length'>;

export interface DocumentColumns {
  /** The document with empty sample columns (`samples.length` counts the samples), checked. */
  document: ProfileDocument;
  /**
   * The samples in order, a chunk of up to 262,144 at a time, each checked as `decodeDocument`
   * checks its columns (so a bad value throws when its chunk is reached). Each call starts over;
   * a chunk's arrays are reused by the next one.
   */
  chunks(): Generator<DocumentSampleChunk>;
  /** Removes the column files. */
  close(): Promise<void>;
}

export interface DocumentColumnsOptions {
  /** Stops with `too-large` once the msgpack passes this many bytes (the gzip-bomb guard). */
  maxInflatedBytes?: number;
  /** Folder for the column files (default: the system's temporary folder). */
  tmpDir?: string;
}

/**
 * `gunzipDocument` for documents of any length: the same checks and errors, but the sample columns
 * are left in column files and read back chunk by chunk (`chunks`), so memory does not grow with
 * the number of samples. `close()` when done.
 */
export async function readDocumentColumns(
  gzipped: Uint8Array | AsyncIterable<Uint8Array>,
  options: DocumentColumnsOptions = {},
): Promise<DocumentColumns> {
  const max = options.maxInflatedBytes ?? DEFAULT_MAX_INFLATED_BYTES;
  if (gzipped instanceof Uint8Array && (gzipped.length < 2 || gzipped[0] !== 0x1f || gzipped[1] !== 0x8b)) {
    throw new ProfFormatError('bad-gzip', 'not gzip data', { offset: 0, expected: 'gzip magic 1f 8b' });
  }
  const dir = await mkdtemp(join(options.tmpDir ?? tmpdir(), 'prof-document-'));
  const files: Partial<Record<SampleColumnName, ColumnFile>> = {};
  const gz = createGunzip({ chunkSize: 1 << 18 });
  const input = gzipped instanceof Uint8Array ? Readable.from([gzipped]) : Readable.from(gzipped);
  input.on('error', (e) => gz.destroy(e));
  input.pipe(gz);
  const closeFiles = async () => {
    for (const f of Object.values(files)) f.close();
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const pull = new Pull(inflated(gz, max)[Symbol.asyncIterator]());
    const wire: Record<string, unknown> = {};
    let samples: Record<string, unknown> | null = null;
    const entries = await pull.mapHeader('document');
    for (let e = 0; e < entries; e++) {
      const key = await pull.small();
      // A file that is not a document (its magic and version come first) stops before its samples are read.
      if (key === 'samples') checkDocumentHead(wire), (samples = await readSamples(pull, dir, files));
      else wire[String(key)] = await pull.small();
    }
    await pull.end();
    if (samples === null) {
      documentFromWire(wire); // throws the error a document without samples gets
      throw new Error('unreachable');
    }
    const n = samples.length;
    const empty: Record<string, unknown> = { ...samples };
    for (const name of Object.keys(SAMPLE_COLUMN_TYPES) as SampleColumnName[]) {
      const file = files[name];
      if (!file) continue;
      if (typeof n === 'number' && file.length !== n)
        throw new ProfFormatError('integrity', `samples.${name}: has ${file.length} values for ${n} rows`, {
          record: `samples.${name}`,
        });
      empty[name] = new (file.type === 'f64' ? Float64Array : file.type === 'i32' ? Int32Array : Uint32Array)(0);
    }
    const document = documentFromWire(wire, empty);
    document.samples.length = n as number;
    return {
      document,
      chunks: () => sampleChunks(document, files),
      close: closeFiles,
    };
  } catch (error) {
    gz.destroy();
    await closeFiles();
    throw error;
  } finally {
    input.destroy();
  }
}

function* sampleChunks(
  doc: ProfileDocument,
  files: Partial<Record<SampleColumnName, ColumnFile>>,
): Generator<DocumentSampleChunk> {
  const it = (name: SampleColumnName) => files[name]?.chunks();
  const stack = it('stack')!;
  const time = it('time')!;
  const thread = it('thread')!;
  const memory = it('memory');
  const weight = it('weight');
  const heap = it('heap');
  const check = new SampleChunkCheck(doc.stacks.length, doc.threads.length);
  for (let s = stack.next(); !s.done; s = stack.next()) {
    const chunk: DocumentSampleChunk = {
      stack: s.value as Int32Array,
      time: time.next().value as Float64Array,
      thread: thread.next().value as Uint32Array,
      memory: (memory?.next().value as Float64Array | undefined) ?? null,
      weight: (weight?.next().value as Float64Array | undefined) ?? null,
      heap: (heap?.next().value as Float64Array | undefined) ?? null,
    };
    check.check(chunk.stack, chunk.thread, chunk.time, chunk);
    yield chunk;
  }
}

async function* inflated(gz: AsyncIterable<Buffer>, max: number): AsyncGenerator<Uint8Array> {
  let total = 0;
  try {
    for await (const chunk of gz) {
      total += chunk.length;
      if (total > max)
        throw new ProfFormatError('too-large', `document inflates to more than ${max} bytes`, {
          expected: `at most ${max} bytes after gunzip`,
        });
      yield chunk;
    }
  } catch (e) {
    if (e instanceof ProfFormatError) throw e;
    throw new ProfFormatError('bad-gzip', `gzip data is corrupt: ${(e as Error).message}`);
  }
}

/** The sample table: its columns' data streamed into column files, the rest read whole. */
async function readSamples(
  pull: Pull,
  dir: string,
  files: Partial<Record<SampleColumnName, ColumnFile>>,
): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  const entries = await pull.mapHeader('samples');
  for (let e = 0; e < entries; e++) {
    const key = String(await pull.small());
    const type = SAMPLE_COLUMN_TYPES[key as SampleColumnName];
    if (type && (await pull.peekMap())) {
      const name = key as SampleColumnName;
      if (files[name])
        throw new ProfFormatError('schema', `samples.${name} appears twice`, { record: `samples.${name}` });
      out[name] = true;
      files[name] = await readColumn(pull, name, new ColumnFile(join(dir, name), type as 'i32' | 'u32' | 'f64'));
    } else out[key] = await pull.small();
  }
  return out;
}

async function readColumn(pull: Pull, name: SampleColumnName, file: ColumnFile): Promise<ColumnFile> {
  const where = `samples.${name}`;
  const header: Record<string, unknown> = {};
  const entries = await pull.mapHeader(where);
  let decoded = false;
  for (let e = 0; e < entries; e++) {
    const key = String(await pull.small());
    const bytes = key === 'd' ? await pull.binHeader() : -1;
    if (bytes < 0) {
      header[key] = await pull.small();
      continue;
    }
    // Writers put `d` last (encodeDocument does): the header is known when the data starts.
    const decoder = new ColumnDecoder(header, where, SAMPLE_COLUMN_TYPES[name]);
    if (decoder.length > bytes)
      throw new ProfFormatError('schema', `bad column ${where}: length ${decoder.length}`, {
        record: `column ${where}`,
      });
    for await (const piece of pull.take(bytes)) file.append(decoder.push(piece) as Int32Array);
    decoder.end();
    decoded = true;
  }
  if (!decoded) {
    // No data: the header's own error (decodeColumn's "data is not binary").
    throw new ProfFormatError('schema', `bad column ${where}: data is not binary`, { record: `column ${where}` });
  }
  return file;
}

/**
 * msgpack read from a stream of pieces: values skimmed to their end (keeping their bytes) and
 * unpacked whole when small, long bins handed on piece by piece.
 */
class Pull {
  private buf: Uint8Array = new Uint8Array(0);
  private pos = 0;
  private keep = -1;
  constructor(private readonly it: AsyncIterator<Uint8Array>) {}

  private async more(): Promise<void> {
    const { done, value } = await this.it.next();
    if (done) throw new ProfFormatError('bad-msgpack', 'not valid msgpack: the document ends early');
    const from = this.keep >= 0 ? this.keep : this.pos;
    const rest = this.buf.length - from;
    if (rest === 0) this.buf = value;
    else {
      const next = new Uint8Array(rest + value.length);
      next.set(this.buf.subarray(from));
      next.set(value, rest);
      this.buf = next;
    }
    this.pos -= from;
    if (this.keep >= 0) this.keep = 0;
  }

  private async need(n: number): Promise<void> {
    while (this.buf.length - this.pos < n) await this.more();
  }

  private async byte(): Promise<number> {
    if (this.pos === this.buf.length) await this.need(1);
    return this.buf[this.pos++];
  }

  private async uint(bytes: number): Promise<number> {
    await this.need(bytes);
    let v = 0;
    for (let i = 0; i < bytes; i++) v = v * 256 + this.buf[this.pos++];
    return v;
  }

  async peekMap(): Promise<boolean> {
    await this.need(1);
    const b = this.buf[this.pos];
    return (b >= 0x80 && b <= 0x8f) || b === 0xde || b === 0xdf;
  }

  async mapHeader(where: string): Promise<number> {
    const b = await this.byte();
    if (b >= 0x80 && b <= 0x8f) return b & 0x0f;
    if (b === 0xde) return this.uint(2);
    if (b === 0xdf) return this.uint(4);
    if (where === 'document')
      throw new ProfFormatError('bad-magic', 'not a Prof document', {
        record: 'magic',
        expected: 'a map whose "magic" is "prof.profile"',
      });
    throw new ProfFormatError('schema', `document field ${where} is not a map`, { record: where });
  }

  /** The length of the bin that starts here (consumed), or -1 (nothing consumed) when it is not a bin. */
  async binHeader(): Promise<number> {
    await this.need(1);
    const b = this.buf[this.pos];
    if (b < 0xc4 || b > 0xc6) return -1;
    this.pos++;
    return this.uint(b === 0xc4 ? 1 : b === 0xc5 ? 2 : 4);
  }

  /** The next `n` bytes, in pieces (each valid until the next is asked for). */
  async *take(n: number): AsyncGenerator<Uint8Array> {
    while (n > 0) {
      if (this.pos === this.buf.length) await this.more();
      const count = Math.min(n, this.buf.length - this.pos);
      yield this.buf.subarray(this.pos, this.pos + count);
      this.pos += count;
      n -= count;
    }
  }

  /** The next value, unpacked whole (for the parts of a document that do not grow with its samples). */
  async small(): Promise<unknown> {
    this.keep = this.pos;
    try {
      await this.skip();
      const bytes = this.buf.slice(this.keep, this.pos);
      this.keep = -1;
      return unpackr.unpack(bytes);
    } catch (e) {
      if (e instanceof ProfFormatError) throw e;
      throw new ProfFormatError('bad-msgpack', `not valid msgpack: ${(e as Error).message}`, {
        expected: 'a msgpack-encoded Prof document',
      });
    } finally {
      this.keep = -1;
    }
  }

  /** Moves past one value. */
  private async skip(): Promise<void> {
    let left = 1;
    while (left > 0) {
      left--;
      const b = await this.byte();
      if (b <= 0x7f || b >= 0xe0 || b === 0xc0 || b === 0xc2 || b === 0xc3) continue;
      if (b <= 0x8f) left += 2 * (b & 0x0f);
      else if (b <= 0x9f) left += b & 0x0f;
      else if (b <= 0xbf) await this.skipBytes(b & 0x1f);
      else if (b === 0xc4 || b === 0xd9) await this.skipBytes(await this.uint(1));
      else if (b === 0xc5 || b === 0xda) await this.skipBytes(await this.uint(2));
      else if (b === 0xc6 || b === 0xdb) await this.skipBytes(await this.uint(4));
      else if (b === 0xc7) await this.skipBytes((await this.uint(1)) + 1);
      else if (b === 0xc8) await this.skipBytes((await this.uint(2)) + 1);
      else if (b === 0xc9) await this.skipBytes((await this.uint(4)) + 1);
      else if (b === 0xca || b === 0xce || b === 0xd2) await this.skipBytes(4);
      else if (b === 0xcb || b === 0xcf || b === 0xd3) await this.skipBytes(8);
      else if (b === 0xcc || b === 0xd0) await this.skipBytes(1);
      else if (b === 0xcd || b === 0xd1) await this.skipBytes(2);
      else if (b >= 0xd4 && b <= 0xd8) await this.skipBytes(1 + (1 << (b - 0xd4)));
      else if (b === 0xdc) left += await this.uint(2);
      else if (b === 0xdd) left += await this.uint(4);
      else if (b === 0xde) left += 2 * (await this.uint(2));
      else if (b === 0xdf) left += 2 * (await this.uint(4));
      else throw new ProfFormatError('bad-msgpack', `not valid msgpack: byte 0x${b.toString(16)}`);
    }
  }

  private async skipBytes(n: number): Promise<void> {
    await this.need(n);
    this.pos += n;
  }

  /** Nothing may follow the document. */
  async end(): Promise<void> {
    if (this.pos < this.buf.length)
      throw new ProfFormatError('bad-msgpack', 'not valid msgpack: bytes after the document');
    for (let r = await this.it.next(); !r.done; r = await this.it.next())
      if (r.value.length) throw new ProfFormatError('bad-msgpack', 'not valid msgpack: bytes after the document');
  }
}
