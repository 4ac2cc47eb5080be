// Scratch files for work too long to hold in memory: sample columns appended chunk by chunk and
// read back pass by pass, and append-only spills (a summaries builder's full chunks).
import { closeSync, openSync, readSync, unlinkSync, writeSync } from 'node:fs';
import type { ColumnChunks, ColumnType } from './column-codec';

type Typed = Int32Array | Uint32Array | Float64Array;
const CTOR = { i32: Int32Array, u32: Uint32Array, f64: Float64Array } as const;
/** Values per read-back chunk: 2 MB of float64s, few system calls per pass. */
export const READ_CHUNK = 1 << 18;

/** One sample column kept in a file, appended chunk by chunk and read back as often as asked. */
export class ColumnFile implements ColumnChunks {
  private readonly fd: number;
  length = 0;
  constructor(
    readonly path: string,
    readonly type: Exclude<ColumnType, 'u8'>,
  ) {
    this.fd = openSync(path, 'w+');
  }
  append(values: Typed): void {
    const bytes = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
    let at = 0;
    while (at < bytes.length) at += writeSync(this.fd, bytes, at, bytes.length - at, this.length * this.width + at);
    this.length += values.length;
  }
  fill(count: number, value: number): void {
    const block = new CTOR[this.type](Math.min(count, READ_CHUNK)).fill(value);
    for (let left = count; left > 0; left -= block.length) this.append(block.subarray(0, Math.min(left, block.length)));
  }
  private get width(): number {
    return this.type === 'f64' ? 8 : 4;
  }
  *chunks(): Generator<Typed> {
    const buffer = new CTOR[this.type](READ_CHUNK);
    const bytes = new Uint8Array(buffer.buffer);
    for (let row = 0; row < this.length; ) {
      const count = Math.min(READ_CHUNK, this.length - row);
      let got = 0;
      while (got < count * this.width) {
        const n = readSync(this.fd, bytes, got, count * this.width - got, row * this.width + got);
        if (n === 0) throw new Error(`column file ${this.path} is shorter than written`);
        got += n;
      }
      yield buffer.subarray(0, count);
      row += count;
    }
  }
  close(): void {
    closeSync(this.fd);
  }
}

/**
 * An append-only scratch file (unlinked as soon as it is open: nothing is left behind, even by a
 * crash), e.g. the `spill` of @prof/binning's `SummariesBuilder`.
 */
export class ScratchFile {
  private readonly fd: number;
  private size = 0;
  constructor(path: string) {
    this.fd = openSync(path, 'wx+');
    unlinkSync(path);
  }
  /** Appends the bytes; returns the offset they were written at. */
  write(bytes: Uint8Array): number {
    const offset = this.size;
    let at = 0;
    while (at < bytes.length) at += writeSync(this.fd, bytes, at, bytes.length - at, offset + at);
    this.size += bytes.length;
    return offset;
  }
  /** The `length` bytes written at `offset`. */
  read(offset: number, length: number): Uint8Array {
    const out = new Uint8Array(length);
    let got = 0;
    while (got < length) {
      const n = readSync(this.fd, out, got, length - got, offset + got);
      if (n === 0) throw new Error('scratch file is shorter than written');
      got += n;
    }
    return out;
  }
  close(): void {
    closeSync(this.fd);
  }
}
