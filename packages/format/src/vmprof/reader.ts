import { DocumentBuilder, emptyMeta } from '../builder';
import { type FormatErrorCode, ProfFormatError } from '../errors';
import { FrameKind, type DocumentWarning, type ProfileDocument, type VmprofInfo } from '../schema';
import { UNKNOWN_CODE, chooseNames, parseVmprofName } from './names';
import { decodeUtf8 } from './text';
import { sampleTimes, timeRule } from './time';
import type { ReadOptions, VmprofReadResult, VmprofSymbolRecord } from './types';
import { isSafeHi, signedDecimal, signedHex, toNumber } from './words';
import { concatBytes } from '../plain-values';

/** Memory readings at or above this many bytes are damage, not RSS (assertIntegrity's bound). */
const MAX_MEMORY_BYTES = 2 ** 53;

/** The streaming vmprof reader: push uncompressed bytes in any chunking, then finish. */
export interface VmprofReader {
  push(chunk: Uint8Array): void;
  finish(): ProfileDocument;
  finishDetailed(): VmprofReadResult;
}

/** vmprof's own limit on stack slots per record. */
export const MAX_STACK_SLOTS = 65536;
/** Longest name or meta string accepted; vmprof writers cap names at 1023 bytes. */
export const MAX_STRING_BYTES = 1 << 20;

const NEED_MORE = -1;
/** Bytes past what the record at a chunk seam is known to need, copied to finish it (most records are smaller). */
const SEAM_MARGIN = 4096;
const MARKER = {
  stack: 0x01,
  virtualIp: 0x02,
  trailer: 0x03,
  interpName: 0x04,
  header: 0x05,
  startTime: 0x06,
  meta: 0x07,
  nativeSymbol: 0x08,
  gcStack: 0x09,
  objInfo: 0x0a,
} as const;

const RECORD_NAMES: Record<number, string> = {
  1: 'stack record (0x01)',
  2: 'code name record (0x02)',
  3: 'trailer (0x03)',
  4: 'interpreter name record (0x04)',
  5: 'header record (0x05)',
  6: 'start time record (0x06)',
  7: 'meta record (0x07)',
  8: 'native symbol record (0x08)',
  9: 'GC stack record (0x09)',
  10: 'object info record (0x0a)',
};

/** PyPy stack-slot kinds (format doc §4.1) → frame kinds; other kinds are rejected as vmprof does. */
function pypyKind(kind: number): number {
  switch (kind) {
    case 1:
      return FrameKind.Python;
    case 3:
      return FrameKind.Jit;
    case 6:
      return FrameKind.Asm;
    case 7:
      return FrameKind.Native;
    default:
      return -1;
  }
}

/** Signals the end of reading at a damaged record; becomes an error or a warning. */
class Damage extends Error {
  constructor(
    readonly code: FormatErrorCode,
    readonly text: string,
    readonly details: { offset: number; record: string; expected?: string },
  ) {
    super(text);
  }
}

class VmprofStreamReader implements VmprofReader {
  private readonly builder: DocumentBuilder;
  private readonly warnings: DocumentWarning[] = [];
  private readonly symbols: VmprofSymbolRecord[] = [];

  // Input not yet consumed: the tail of earlier chunks plus chunks waiting for `need` bytes.
  private pending: Uint8Array[] = [];
  private pendingBytes = 0;
  /** Bytes (from the first pending byte) needed before parsing can make progress. */
  private need = 2;
  /** Absolute file offset of the first pending byte. */
  private base = 0;
  private state: 'static' | 'records' | 'done' = 'static';
  private failure: ProfFormatError | null = null;
  private result: VmprofReadResult | null = null;
  private endReason: VmprofReadResult['end'] = { offset: 0, reason: 'eof' };

  // Current buffer while parsing.
  private buf: Uint8Array = new Uint8Array(0);
  private dv: DataView = new DataView(this.buf.buffer);
  private len = 0;

  // Static header.
  private word = 8;
  private addr = 8;
  private periodUs = 0;

  // Header record and derived layout.
  private version = 0;
  private modeByte: number | null = null;
  private interpreter: string | null = null;
  private seenHeader = false;
  private threadSlot = false;
  private memorySlot = false;
  /** Memory words outside [0, 2^53) bytes, kept as NaN. */
  private badMemory = 0;
  private linePairs = false;
  private kindPairs = false;
  private startTimeMs: number | null = null;
  private zone: string | null = null;
  private endTimeMs: number | null = null;
  private readonly meta: Record<string, string> = {};
  private duplicateMeta = 0;
  private invalidUtf8 = 0;

  // Samples.
  private gcSamples = 0;
  private objInfo = 0;
  /** v7: each sample's raw stamp is its builder time until the times are made. */
  private stamped = false;
  private firstStamp = Number.NaN;
  private cpuSamples = 0;
  private records = 0;
  private negativeLine: VmprofReadResult['negativeLine'] = null;
  private cutName: VmprofSymbolRecord | null = null;

  // Frames: (kind, address) → frame row; numeric keys while the address is below 2^53.
  private readonly frameByNumber = [
    new Map<number, number>(),
    new Map<number, number>(),
    new Map<number, number>(),
    new Map<number, number>(),
  ];
  private readonly frameByString = new Map<string, number>();
  private readonly frameAddress: string[] = [];

  private readonly threadByNumber = new Map<number, number>();
  private lastThreadLo = NaN;
  private lastThreadHi = NaN;
  private lastThreadRow = 0;

  // The previous sample's root-first entries and stack rows: consecutive samples share most of it.
  private prevN = 0;
  /** The previous sample's stack entries, root-first: raw bytes as float64s (8-byte units) or int32s (4-byte frames). */
  private prevBits = new Float64Array(512);
  private prevInts = new Int32Array(256);
  private prevStack = new Int32Array(256);

  constructor(private readonly options: ReadOptions) {
    this.builder = new DocumentBuilder({ sink: options.sink, chunkSamples: options.chunkSamples });
  }

  push(chunk: Uint8Array): void {
    if (this.failure) throw this.failure;
    if (this.result) throw new Error('vmprof reader: push() after finish()');
    if (this.state === 'done' || chunk.length === 0) return;
    this.pendingBytes += chunk.length;
    if (this.pendingBytes < this.need) {
      // Kept past this call: copy, since callers may reuse their read buffer.
      this.pending.push(chunk.slice());
      return;
    }
    this.pending.push(chunk);
    this.parsePending();
    this.options.onProgress?.(this.base + this.pendingBytes);
  }

  finish(): ProfileDocument {
    return this.finishDetailed().document;
  }

  finishDetailed(): VmprofReadResult {
    if (this.failure) throw this.failure;
    if (this.result) return this.result;
    if (this.state !== 'done' && this.pendingBytes > 0) this.parsePending();
    if (this.state === 'static') {
      const total = this.base + this.pendingBytes;
      this.fail(
        total === 0
          ? new ProfFormatError('empty', 'the input is empty', { offset: 0, expected: 'a vmprof static header' })
          : new ProfFormatError('truncated', `the input ends after ${total} bytes, inside the static header`, {
              offset: total,
              record: 'static header',
              expected: `${this.need} bytes`,
            }),
      );
    }
    if (this.state === 'records') {
      const at = this.base;
      if (this.pendingBytes > 0) {
        const rest = this.pending.length === 1 ? this.pending[0] : concatBytes(this.pending, this.pendingBytes);
        const marker = rest[0];
        const what = RECORD_NAMES[marker] ?? 'a record';
        if (marker === MARKER.virtualIp || marker === MARKER.nativeSymbol)
          this.cutName = this.cutShortName(rest, marker);
        this.warnings.push({
          code: 'truncated',
          message: `profile is cut short (process killed?): it ends inside ${what} that starts at byte ${at}; everything before it was read`,
          offset: at,
        });
      } else {
        this.warnings.push({
          code: 'no-trailer',
          message: `profile ends at byte ${at} without a trailer (process killed?); every record was complete`,
          offset: at,
        });
      }
      this.endReason = { offset: at, reason: 'eof' };
      this.state = 'done';
    }
    this.pending = [];
    this.buf = new Uint8Array(0);
    this.result = this.build();
    return this.result;
  }

  private fail(e: ProfFormatError): never {
    this.failure = e;
    this.pending = [];
    throw e;
  }

  // ---------------------------------------------------------------------------------------------
  // Buffering

  private parsePending(): void {
    if (this.pending.length === 2 && this.state === 'records' && this.pending[1].length > 4 * this.pending[0].length) {
      this.parseAcross(this.pending[0], this.pending[1]);
      return;
    }
    this.parseBuffer(this.pending.length === 1 ? this.pending[0] : concatBytes(this.pending, this.pendingBytes));
  }

  /**
   * Parses a small unconsumed `tail` followed by a big `chunk` without copying the chunk behind
   * the tail (that copy cost 6% of a conversion): the records across the seam are parsed from a
   * few copied bytes, then the chunk where it lies.
   */
  private parseAcross(first: Uint8Array, chunk: Uint8Array): void {
    let tail = first;
    let off = 0;
    while (tail.length > 0) {
      const take = Math.min(chunk.length - off, Math.max(this.need - tail.length, 0) + SEAM_MARGIN);
      this.parseBuffer(concatBytes([tail, chunk.subarray(off, off + take)], tail.length + take));
      off += take;
      if (this.state === 'done' || off === chunk.length) return;
      const rest = this.pendingBytes;
      if (rest <= take) {
        off -= rest;
        break;
      }
      tail = this.pending[0];
    }
    this.parseBuffer(chunk.subarray(off));
  }

  /** Parses `buf` (the input from `this.base` on) and keeps a copy of what it could not consume. */
  private parseBuffer(buf: Uint8Array): void {
    this.buf = buf;
    this.dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    this.len = buf.length;
    let pos = 0;
    try {
      pos = this.parse();
    } catch (e) {
      if (!(e instanceof Damage)) throw e;
      const error = new ProfFormatError(e.code, e.text, e.details);
      // Only input with nothing readable is an error; after a complete sample, keep what came before.
      if (this.cpuSamples + this.gcSamples === 0 || this.state === 'static') this.fail(error);
      this.warnings.push({
        code: error.code,
        message: `reading stopped at a damaged record: ${error.message}; the ${this.cpuSamples} sample(s) before it were kept`,
        offset: error.offset,
      });
      this.endReason = { offset: error.offset ?? this.base, reason: 'error', error };
      this.state = 'done';
      pos = this.len;
    }
    this.base += pos;
    if (this.state === 'done') {
      this.pending = [];
      this.pendingBytes = 0;
      this.buf = new Uint8Array(0);
      return;
    }
    // Keep only the unconsumed tail, copied so the big chunk it came from can be freed.
    const rest = this.len - pos;
    this.pending = rest > 0 ? [buf.slice(pos)] : [];
    this.pendingBytes = rest;
  }

  // ---------------------------------------------------------------------------------------------
  // Parsing. Each step returns the position after what it consumed, or NEED_MORE with `this.need`
  // set to the bytes (from `this.base + pos` of the record start) it must see before trying again.

  private parse(): number {
    let pos = 0;
    if (this.state === 'static') {
      const next = this.readStaticHeader();
      if (next === NEED_MORE) return 0;
      pos = next;
      this.state = 'records';
    }
    const len = this.len;
    while (pos < len) {
      const next = this.readRecord(pos);
      if (next === NEED_MORE) return pos;
      this.records++;
      if (this.state === 'done') return len;
      pos = next;
    }
    this.need = 1;
    return pos;
  }

  private damage(code: FormatErrorCode, message: string, offset: number, record: string, expected?: string): never {
    throw new Damage(code, message, { offset: this.base + offset, record, expected });
  }

  private needMore(bytes: number): number {
    this.need = bytes;
    return NEED_MORE;
  }

  private readStaticHeader(): number {
    const b = this.buf;
    if (this.len < 2) return this.needMore(2);
    if (b[0] === 0x1f && b[1] === 0x8b) {
      this.fail(
        new ProfFormatError(
          'gzipped',
          'the input is gzip-compressed: read it with readProfileFile or readProfileBytes from @prof/format/node (they gunzip), or gunzip it before readVmprof',
          {
            offset: 0,
            record: 'static header',
            expected: 'uncompressed vmprof bytes',
          },
        ),
      );
    }
    // Both layouts open with a zero word: reject other input at once, even when it is short.
    for (let i = 0; i < Math.min(this.len, 4); i++) {
      if (b[i] !== 0) {
        this.fail(
          new ProfFormatError('bad-header', 'not a vmprof profile: the static header does not start with a zero word', {
            offset: i,
            record: 'static header',
            expected: 'byte 0',
          }),
        );
      }
    }
    if (this.len < 16) return this.needMore(16);
    const bad = (message: string, expected: string): never =>
      this.fail(new ProfFormatError('bad-header', message, { offset: 0, record: 'static header', expected }));
    if (b[4] === 3) {
      if (this.len < 20) return this.needMore(20);
      this.word = 4;
      const w = (i: number) => this.dv.getInt32(i * 4, true);
      if (w(0) !== 0 || w(1) !== 3 || w(2) !== 0)
        bad('not a vmprof profile: the static header words are not 0, 3, 0', 'words 0, 3, 0');
      const win = w(4);
      if (win !== 0 && win !== 1) bad(`the fifth static header word is ${win}`, '0, or 1 for 64-bit Windows');
      this.addr = win === 1 ? 8 : 4;
      this.periodUs = w(3);
      return 20;
    }
    if (b[7] === 3 || b[15] === 3) {
      this.fail(
        new ProfFormatError('big-endian', 'the profile was written big-endian, which vmprof does not support', {
          offset: b[7] === 3 ? 4 : 8,
          record: 'static header',
          expected: 'a little-endian header (word 1 = 3)',
        }),
      );
    }
    if (b[8] !== 3) bad('not a vmprof profile: could not determine word and address size', 'byte 4 or byte 8 to be 3');
    if (this.len < 40) return this.needMore(40);
    this.word = 8;
    this.addr = 8;
    const w = (i: number) => this.readWord(i * 8);
    if (w(0) !== 0 || w(1) !== 3 || w(2) !== 0)
      bad('not a vmprof profile: the static header words are not 0, 3, 0', 'words 0, 3, 0');
    const win = w(4);
    if (win !== 0 && win !== 1) bad(`the fifth static header word is ${win}`, '0, or 1 for 64-bit Windows');
    const period = w(3);
    this.periodUs = period;
    return 40;
  }

  /** A signed word as a number (exact up to 2^53; beyond, only good for range checks). */
  private readWord(o: number): number {
    if (this.word === 4) return this.dv.getInt32(o, true);
    return toNumber(this.dv.getUint32(o, true), this.dv.getInt32(o + 4, true));
  }

  /** The exact decimal of a signed word, for messages about absurd values. */
  private wordText(o: number): string {
    if (this.word === 4) return String(this.dv.getInt32(o, true));
    return signedDecimal(this.dv.getUint32(o, true), this.dv.getInt32(o + 4, true));
  }

  private readAddrNumber(o: number): number {
    if (this.addr === 4) return this.dv.getInt32(o, true);
    return toNumber(this.dv.getUint32(o, true), this.dv.getInt32(o + 4, true));
  }

  private readRecord(p: number): number {
    const marker = this.buf[p];
    switch (marker) {
      case MARKER.stack:
        return this.readStack(p, true);
      case MARKER.gcStack:
        return this.readStack(p, false);
      case MARKER.virtualIp:
      case MARKER.nativeSymbol:
        return this.readSymbol(p, marker);
      case MARKER.header:
        return this.readHeader(p);
      case MARKER.startTime:
        return this.readTime(p, 'start');
      case MARKER.meta:
        return this.readMeta(p);
      case MARKER.trailer:
        return this.readTrailer(p);
      case MARKER.interpName:
        return this.readInterpName(p);
      case MARKER.objInfo:
        return this.readObjInfo(p);
      default:
        return this.damage(
          'unknown-marker',
          `unknown record marker 0x${marker.toString(16).padStart(2, '0')}`,
          p,
          'record marker',
          'one of 0x01-0x0a',
        );
    }
  }

  /** Checks a string length word; lengths come from the file and must not size an allocation unchecked. */
  private stringLength(o: number, record: string, field: string): number {
    const n = this.readWord(o);
    if (n < 0 || n > MAX_STRING_BYTES) {
      this.damage(
        'length-out-of-range',
        `${field} is ${this.wordText(o)}`,
        o,
        record,
        `0 to ${MAX_STRING_BYTES} bytes`,
      );
    }
    return n;
  }

  private decode(start: number, length: number, offset: number): string {
    const { text, valid } = decodeUtf8(this.buf.subarray(start, start + length));
    if (!valid) {
      this.invalidUtf8++;
      if (this.invalidUtf8 === 1) {
        this.warnings.push({
          code: 'invalid-utf8',
          message: `the string at byte ${this.base + start} (record at byte ${this.base + offset}) is not valid UTF-8; invalid bytes were shown as U+FFFD`,
          offset: this.base + offset,
        });
      }
    }
    return text;
  }

  private readSymbol(p: number, marker: 0x02 | 0x08): number {
    const a = this.addr;
    const w = this.word;
    if (p + 1 + a + w > this.len) return this.needMore(1 + a + w);
    const record = RECORD_NAMES[marker];
    const n = this.stringLength(p + 1 + a, record, 'name length');
    const size = 1 + a + w + n;
    if (p + size > this.len) return this.needMore(size);
    let lo: number;
    let hi: number;
    if (a === 8) {
      lo = this.dv.getUint32(p + 1, true);
      hi = this.dv.getInt32(p + 5, true);
    } else {
      const v = this.dv.getInt32(p + 1, true);
      lo = v >>> 0;
      hi = v < 0 ? -1 : 0;
    }
    const before = this.invalidUtf8;
    const name = this.decode(p + 1 + a + w, n, p);
    this.symbols.push({
      address: signedHex(lo, hi),
      name,
      invalidUtf8: this.invalidUtf8 !== before,
      offset: this.base + p,
      marker,
    });
    return p + size;
  }

  /**
   * The unfinished name record `rest` (the input's last bytes, from its marker on) as vmprof's
   * reader sees it: `read(length)` returns fewer bytes at the end of the file without complaint.
   * Null when the id or the length word is cut too (vmprof fails on those).
   */
  private cutShortName(rest: Uint8Array, marker: 0x02 | 0x08): VmprofSymbolRecord | null {
    const a = this.addr;
    const w = this.word;
    if (rest.length < 1 + a + w) return null;
    const dv = new DataView(rest.buffer, rest.byteOffset, rest.byteLength);
    const lo = a === 8 ? dv.getUint32(1, true) : dv.getInt32(1, true) >>> 0;
    const hi = a === 8 ? dv.getInt32(5, true) : dv.getInt32(1, true) < 0 ? -1 : 0;
    const { text, valid } = decodeUtf8(rest.subarray(1 + a + w));
    return { address: signedHex(lo, hi), name: text, invalidUtf8: !valid, offset: this.base, marker };
  }

  private readHeader(p: number): number {
    const record = RECORD_NAMES[MARKER.header];
    if (p + 3 > this.len) return this.needMore(3);
    const version = (this.buf[p + 1] << 8) | this.buf[p + 2];
    const hasMode = version >= 4;
    const fixed = 3 + (hasMode ? 1 : 0) + 1;
    if (p + fixed > this.len) return this.needMore(fixed);
    const nameLength = this.buf[p + fixed - 1];
    const size = fixed + nameLength;
    if (p + size > this.len) return this.needMore(size);
    if (version > 7)
      this.damage(
        'unsupported-version',
        `format version ${version} is newer than any known writer`,
        p + 1,
        record,
        'version 0 to 7',
      );
    if (this.seenHeader && version !== 0)
      this.damage('duplicate-header', 'a second header record', p, record, 'one header record');
    if (this.cpuSamples + this.gcSamples > 0)
      this.damage(
        'late-header',
        'a header record after the first sample',
        p,
        record,
        'the header record before any sample',
      );
    const interp = this.decode(p + fixed, nameLength, p);
    if (version !== 0) this.seenHeader = true;
    this.version = version;
    this.modeByte = hasMode ? this.buf[p + 3] : null;
    this.interpreter = interp;
    const mode = this.modeByte ?? 0;
    this.threadSlot = version >= 1;
    this.memorySlot = version === 3 || (mode & 0x01) !== 0;
    this.kindPairs = (mode & 0x08) !== 0 || interp === 'pypy' || version === 2;
    this.linePairs = (mode & 0x02) !== 0 && !this.kindPairs;
    if (version >= 7) this.stamped = true;
    return p + size;
  }

  private readInterpName(p: number): number {
    if (p + 2 > this.len) return this.needMore(2);
    const size = 2 + this.buf[p + 1];
    if (p + size > this.len) return this.needMore(size);
    this.interpreter ??= this.decode(p + 2, this.buf[p + 1], p);
    return p + size;
  }

  private readTime(p: number, which: 'start' | 'end'): number {
    if (p + 25 > this.len) return this.needMore(25);
    const sec = toNumber(this.dv.getUint32(p + 1, true), this.dv.getInt32(p + 5, true));
    const usec = toNumber(this.dv.getUint32(p + 9, true), this.dv.getInt32(p + 13, true));
    const ms = sec * 1000 + usec / 1000;
    const value = Number.isFinite(ms) && Math.abs(ms) < 8.64e15 ? ms : null;
    if (which === 'start') {
      this.startTimeMs = value;
      this.zone = zoneName(this.buf.subarray(p + 17, p + 25));
    } else this.endTimeMs = value;
    return p + 25;
  }

  private readMeta(p: number): number {
    const w = this.word;
    const record = RECORD_NAMES[MARKER.meta];
    if (p + 1 + w > this.len) return this.needMore(1 + w);
    const k = this.stringLength(p + 1, record, 'meta key length');
    if (p + 1 + w + k + w > this.len) return this.needMore(1 + w + k + w);
    const v = this.stringLength(p + 1 + w + k, record, 'meta value length');
    const size = 1 + w + k + w + v;
    if (p + size > this.len) return this.needMore(size);
    const key = this.decode(p + 1 + w, k, p);
    const value = this.decode(p + 1 + w + k + w, v, p);
    if (Object.hasOwn(this.meta, key)) {
      if (++this.duplicateMeta === 1) {
        this.warnings.push({
          code: 'duplicate-meta',
          message: `meta key ${JSON.stringify(key)} occurs again at byte ${this.base + p}; the first value was kept`,
          offset: this.base + p,
        });
      }
    } else {
      Object.defineProperty(this.meta, key, { value, enumerable: true, writable: true, configurable: true });
    }
    return p + size;
  }

  private readTrailer(p: number): number {
    let size = 1;
    if (this.version >= 5) {
      size = this.readTime(p, 'end');
      if (size === NEED_MORE) return NEED_MORE;
      size -= p;
    }
    this.endReason = { offset: this.base + p, reason: 'trailer' };
    this.state = 'done';
    return p + size;
  }

  private readObjInfo(p: number): number {
    const w = this.word;
    const head = 1 + (this.version >= 7 ? 8 : w) + w;
    if (p + head > this.len) return this.needMore(head);
    const depth = this.readWord(p + head - w);
    if (depth < 0 || depth > MAX_STACK_SLOTS) {
      this.damage(
        'depth-out-of-range',
        `object info depth is ${this.wordText(p + head - w)}`,
        p + head - w,
        RECORD_NAMES[MARKER.objInfo],
        `0 to ${MAX_STACK_SLOTS}`,
      );
    }
    const size = head + depth * this.addr;
    if (p + size > this.len) return this.needMore(size);
    this.objInfo++;
    return p + size;
  }

  private readStack(p: number, cpu: boolean): number {
    const w = this.word;
    const a = this.addr;
    const v7 = this.version >= 7;
    const head = 1 + (v7 ? 8 : w) + w;
    const len = this.len;
    if (p + head > len) return this.needMore(head);
    const record = RECORD_NAMES[this.buf[p]];
    const dv = this.dv;
    let stamp = 0;
    if (v7) {
      stamp = dv.getFloat64(p + 1, true);
    } else {
      const count = this.readWord(p + 1);
      if (count !== 1) {
        if (this.cpuSamples === 0 && this.base + p === 5 * this.word && this.readWord(p) === 1) {
          this.damage(
            'legacy-gperftools',
            'this is a 2015 prototype profile in the gperftools layout (no record markers), which no vmprof reader can read',
            p,
            'first record',
            'a record marker',
          );
        }
        this.damage('bad-count', `sample count is ${this.wordText(p + 1)}`, p + 1, record, '1');
      }
    }
    const depth = this.readWord(p + 1 + (v7 ? 8 : w));
    if (depth < 0 || depth > MAX_STACK_SLOTS) {
      this.damage(
        'depth-out-of-range',
        `stack depth is ${this.wordText(p + head - w)}`,
        p + head - w,
        record,
        `0 to ${MAX_STACK_SLOTS} slots`,
      );
    }
    const pairs = this.kindPairs || this.linePairs;
    if (pairs && (depth & 1) !== 0) {
      this.damage(
        'odd-depth',
        `stack depth is ${depth}, an odd number of slots`,
        p + head - w,
        record,
        'an even depth (two slots per frame)',
      );
    }
    const threadAt = p + head + depth * a;
    const size = head + depth * a + (this.threadSlot ? a : 0) + (this.memorySlot ? a : 0);
    if (p + size > len) return this.needMore(size);
    if (!cpu) {
      this.gcSamples++;
      return p + size;
    }

    // Walk root-first (the file is leaf-first). Consecutive samples mostly share their root part:
    // first skip the frames whose raw bytes equal the previous sample's, then decode the rest.
    // Frames of 8 or 16 bytes compare as float64s, one read per 8 bytes: equal doubles have equal
    // bits except +0 and -0, told apart below (NaN bits never compare equal, which only means
    // decoding that frame again). 4-byte frames (32-bit writers) compare as int32s.
    const entries = p + head;
    const frames = pairs ? depth >> 1 : depth;
    const stride = pairs ? 2 * a : a;
    const units = stride >> 3; // float64s per frame; 0 for 4-byte frames
    if (frames > this.prevStack.length) this.growPrev(frames);
    const prevBits = this.prevBits;
    const prevInts = this.prevInts;
    const prevStack = this.prevStack;
    const limit = Math.min(frames, this.prevN);
    let j = 0;
    let o = entries + (frames - 1) * stride;
    if (units === 0) {
      for (; j < limit && dv.getInt32(o, true) === prevInts[j]; j++) o -= 4;
    } else {
      for (; j < limit; j++, o -= stride) {
        let u = 0;
        for (; u < units; u++) {
          const v = dv.getFloat64(o + 8 * u, true);
          const w = prevBits[j * units + u];
          if (v !== w || (v === 0 && 1 / v !== 1 / w)) break;
        }
        if (u < units) break;
      }
    }
    let parent = j > 0 ? prevStack[j - 1] : -1;

    // Then decode the rest, frame by frame.
    const builder = this.builder;
    const kindPairs = this.kindPairs;
    const linePairs = this.linePairs;
    const a8 = a === 8;
    for (; j < frames; j++, o -= stride) {
      const valueAt = pairs ? o + a : o;
      let lo: number;
      let hi: number;
      if (a8) {
        lo = dv.getUint32(valueAt, true);
        hi = dv.getInt32(valueAt + 4, true);
      } else {
        const v = dv.getInt32(valueAt, true);
        lo = v >>> 0;
        hi = v < 0 ? -1 : 0;
      }
      let kind: number;
      let line = 0;
      if (kindPairs) {
        const k = a8 ? (dv.getInt32(o + 4, true) === 0 ? dv.getUint32(o, true) : -1) : dv.getInt32(o, true);
        kind = pypyKind(k);
        if (kind < 0) {
          this.damage(
            'unknown-pypy-kind',
            `PyPy stack slot kind is ${a8 ? this.readAddrNumber(o) : k}`,
            o,
            record,
            'kind 1, 3, 6 or 7',
          );
        }
      } else {
        // vmprof marks every positive odd entry as native, whatever the mode flags say.
        kind = (lo & 1) === 1 && hi >= 0 ? FrameKind.Native : FrameKind.Python;
        if (linePairs) line = this.readAddrNumber(o);
      }
      if (line < 0 && this.negativeLine === null)
        this.negativeLine = { sample: this.cpuSamples, offset: this.base + p, line };
      parent = builder.stack(parent, this.frameFor(kind, lo, hi), line);
      if (units === 0) prevInts[j] = dv.getInt32(o, true);
      else for (let u = 0; u < units; u++) prevBits[j * units + u] = dv.getFloat64(o + 8 * u, true);
      prevStack[j] = parent;
    }
    this.prevN = frames;

    let thread = 0;
    if (this.threadSlot) {
      let lo: number;
      let hi: number;
      if (a8) {
        lo = dv.getUint32(threadAt, true);
        hi = dv.getInt32(threadAt + 4, true);
      } else {
        const v = dv.getInt32(threadAt, true);
        lo = v >>> 0;
        hi = v < 0 ? -1 : 0;
      }
      thread = lo === this.lastThreadLo && hi === this.lastThreadHi ? this.lastThreadRow : this.threadFor(lo, hi);
    } else if (this.cpuSamples === 0) {
      thread = builder.thread('0');
    }
    if (this.memorySlot) {
      const bytes = this.readAddrNumber(threadAt + (this.threadSlot ? a : 0)) * 1024;
      // A reading no machine has (damaged word) is no reading: NaN, as the schema says for missing.
      const valid = bytes >= 0 && bytes < MAX_MEMORY_BYTES;
      if (!valid) this.badMemory++;
      builder.sample(parent, stamp, thread, valid ? bytes : Number.NaN);
    } else {
      builder.sample(parent, stamp, thread);
    }
    if (this.cpuSamples === 0) this.firstStamp = stamp;
    this.cpuSamples++;
    return p + size;
  }

  private growPrev(frames: number): void {
    const n = Math.max(frames, this.prevStack.length * 2);
    this.prevBits = new Float64Array(2 * n);
    this.prevInts = new Int32Array(n);
    this.prevStack = new Int32Array(n);
    this.prevN = 0; // nothing to compare with: the next sample decodes every frame
  }

  private frameFor(kind: number, lo: number, hi: number): number {
    let key: number | string;
    let map: Map<number | string, number>;
    if (isSafeHi(hi)) {
      key = toNumber(lo, hi);
      map = this.frameByNumber[kind] as Map<number | string, number>;
    } else {
      key = `${kind}:${signedHex(lo, hi)}`;
      map = this.frameByString as Map<number | string, number>;
    }
    let row = map.get(key);
    if (row === undefined) {
      const address = signedHex(lo, hi);
      row = this.builder.frame(`${kind}:${address}`, () => ({
        name: UNKNOWN_CODE,
        file: '',
        line: 0,
        kind: kind as FrameKind,
        raw: UNKNOWN_CODE,
        address,
      }));
      this.frameAddress[row] = address;
      map.set(key, row);
    }
    return row;
  }

  private threadFor(lo: number, hi: number): number {
    let row: number;
    if (isSafeHi(hi)) {
      const key = toNumber(lo, hi);
      const known = this.threadByNumber.get(key);
      if (known === undefined) {
        row = this.builder.thread(String(key));
        this.threadByNumber.set(key, row);
      } else row = known;
    } else {
      row = this.builder.thread(signedDecimal(lo, hi));
    }
    this.lastThreadLo = lo;
    this.lastThreadHi = hi;
    this.lastThreadRow = row;
    return row;
  }

  // ---------------------------------------------------------------------------------------------
  // Document

  private build(): VmprofReadResult {
    const builder = this.builder;
    // Names come last in the file (format doc §6), so frames are named only now.
    const names = chooseNames(this.symbols);
    for (let row = 0; row < this.frameAddress.length; row++) {
      const raw = names.get(this.frameAddress[row]);
      if (raw === undefined) continue;
      const parsed = parseVmprofName(raw);
      builder.updateFrame(row, { name: parsed.name, file: parsed.file, line: parsed.line, raw });
    }
    if (this.invalidUtf8 > 1) {
      const w = this.warnings.find((x) => x.code === 'invalid-utf8');
      if (w) w.message += ` (${this.invalidUtf8} strings in total)`;
    }
    if (this.duplicateMeta > 1) {
      const w = this.warnings.find((x) => x.code === 'duplicate-meta');
      if (w) w.message += ` (${this.duplicateMeta} repeated keys in total)`;
    }

    const mode = this.modeByte;
    const hasMode = mode !== null;
    const realTime = hasMode ? (mode & 0x10) !== 0 : null;
    const streamed = this.options.sink !== undefined;
    const rawTimes = this.stamped && !streamed ? builder.heldTimes().slice(0, this.cpuSamples) : null;
    const startOffset = this.meta.start_time_offset !== undefined ? Number(this.meta.start_time_offset) : NaN;
    const timeInputs = {
      sampleCount: this.cpuSamples,
      rawTimes,
      startOffsetSec: Number.isFinite(startOffset) ? startOffset : null,
      startTimeMs: this.startTimeMs,
      endTimeMs: this.endTimeMs,
      periodUs: this.periodUs,
      realTime,
    };
    // Streamed, the times are made (and their warnings known) only as the sink's columns are written.
    const times = streamed ? null : sampleTimes(timeInputs);
    const streamedRule = () => timeRule({ ...timeInputs, rawTimes: this.stamped }, this.firstStamp);
    const timeWarnings = (t: { invalidStamps: number; reorderedStamps?: number }): DocumentWarning[] => {
      const out: DocumentWarning[] = [];
      if (t.reorderedStamps) {
        out.push({
          code: 'time-reordered',
          message: `${t.reorderedStamps} sample time stamps are earlier than the one before; each was given the previous sample's time`,
        });
      }
      if (this.badMemory > 0) {
        out.push({
          code: 'bad-memory',
          message: `${this.badMemory} memory readings are negative or beyond 2^53 bytes; they were left out (no reading)`,
        });
      }
      if (t.invalidStamps > 0) {
        out.push({
          code: 'bad-time',
          message: `${t.invalidStamps} sample time stamps are not finite numbers; each was given the previous sample's time`,
        });
      }
      return out;
    };
    if (times) this.warnings.push(...timeWarnings(times));
    const vmprof: VmprofInfo = {
      version: this.version,
      wordSize: this.word,
      addrSize: this.addr,
      modeByte: mode,
      memory: this.memorySlot,
      lines: this.linePairs,
      native: hasMode ? (mode & 0x04) !== 0 : null,
      rpython: this.kindPairs,
      realTime,
      gzipped: false,
      meta: { ...this.meta },
    };
    const meta = emptyMeta('vmprof');
    meta.interpreter = this.interpreter;
    meta.startTime = this.startTimeMs;
    meta.endTime = this.endTimeMs;
    meta.zone = this.zone;
    meta.periodUs = this.periodUs;
    meta.vmprof = vmprof;
    if (this.options.project !== undefined) meta.project = this.options.project;
    if (this.options.name !== undefined) meta.name = this.options.name;
    if (this.options.tags !== undefined) meta.tags = { ...this.options.tags };

    const document = builder.finish({
      meta,
      warnings: this.warnings,
      time: times?.time,
      timeEstimated: times ? times.timeEstimated : streamedRule().result().timeEstimated,
      timeSource: times ? times.timeSource : streamedRule().result().timeSource,
    });
    // Prof's Python client writes meta `thread:<id>` = the thread's name (vmprof has no record for it).
    document.threads.name = document.threads.name.map(
      (name, i) => this.meta[`thread:${document.threads.id[i]}`] ?? name,
    );
    return {
      document,
      symbols: this.symbols,
      end: this.endReason,
      rawSampleTimes: rawTimes,
      gcSampleCount: this.gcSamples,
      objInfoCount: this.objInfo,
      recordCount: this.records,
      cutName: this.cutName,
      negativeLine: this.negativeLine,
      ...(streamed ? { streamed: { time: streamedRule, warnings: timeWarnings } } : {}),
    };
  }
}

/**
 * The zone field of a time record (8 bytes). Released writers leave it zero (no zone: the times
 * are UTC instants); a writer that fills it is taken to write a zone abbreviation, as vmprof's
 * unreleased `vmprof_gettimezone` did (`tm_zone`, e.g. `CET`). Kept only when it is printable ASCII.
 */
function zoneName(bytes: Uint8Array): string | null {
  let end = bytes.length;
  while (end > 0 && bytes[end - 1] === 0) end--;
  if (end === 0) return null;
  for (let i = 0; i < end; i++) if (bytes[i] < 0x21 || bytes[i] > 0x7e) return null;
  return String.fromCharCode(...bytes.subarray(0, end));
}

/**
 * A push parser for uncompressed vmprof bytes (gunzip first: gzip input throws code `gzipped`).
 * Memory stays proportional to the document: only an unfinished record's bytes are kept between pushes.
 */
export function createVmprofReader(options: ReadOptions = {}): VmprofReader {
  return new VmprofStreamReader(options);
}

/** Reads a whole uncompressed vmprof profile into a document. */
export function readVmprof(bytes: Uint8Array, options: ReadOptions = {}): ProfileDocument {
  return readVmprofDetailed(bytes, options).document;
}

/** Like `readVmprof`, plus the name records, where reading ended and v7 extras (for `inspectVmprof`). */
export function readVmprofDetailed(bytes: Uint8Array, options: ReadOptions = {}): VmprofReadResult {
  const reader = createVmprofReader(options);
  reader.push(bytes);
  return reader.finishDetailed();
}
