/**
 * Lossless coding of one typed-array column into bytes that gzip well.
 *
 * A column becomes a sequence of integers (its values, or for Float64 columns either scaled
 * integers or raw IEEE-754 bit patterns), optionally made relative to the row index or
 * delta-coded once or twice, zigzag-mapped and written as LEB128 varints. Profiles are full of
 * slowly varying series (time, RSS, thread, stack prefix trees), which this turns into runs of
 * small bytes; gzip then removes the rest. Every transform is exact: decoding reproduces every
 * value bit for bit, NaN payloads and -0 included.
 */
import { ProfFormatError } from './errors';

export type ColumnType = 'u8' | 'i32' | 'u32' | 'f64';
type TypedColumn = Uint8Array | Int32Array | Uint32Array | Float64Array;

/** The wire form of a column inside the msgpack document. */
export interface EncodedColumn {
  /** Element type. */
  t: ColumnType;
  /** Number of values. */
  n: number;
  /** `i` (integers) or `b` (Float64 bit patterns). */
  m: 'i' | 'b';
  /** 0 = values, 1 = first differences, 2 = second differences, -1 = row index minus value. */
  o: number;
  /** Float64 integers: value = k * mul / div (both 1 for plain integers). */
  x?: number;
  y?: number;
  /** The varints. */
  d: Uint8Array;
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

// Float64 `int` mode keeps |values| <= 2^48 so second differences and their zigzag stay below
// 2^53, where doubles are still exact integers.
const INT_LIMIT = 2 ** 48;

function typeOf(a: TypedColumn): ColumnType {
  if (a instanceof Float64Array) return 'f64';
  if (a instanceof Int32Array) return 'i32';
  if (a instanceof Uint32Array) return 'u32';
  return 'u8';
}

/** Bytes a varint of the zigzag of `v` takes (v an exact integer below 2^51 in magnitude). */
function varintSize(v: number): number {
  const z = v >= 0 ? v * 2 : -v * 2 - 1;
  if (z < 0x80) return 1;
  if (z < 0x4000) return 2;
  if (z < 0x200000) return 3;
  if (z < 0x10000000) return 4;
  return 4 + Math.ceil(Math.log2(z / 0x10000000 + 1) / 7);
}

/** Bytes `ByteWriter.signed64(hi, lo)` writes. */
function varint64Size(hi: number, lo: number): number {
  const sign = hi >> 31;
  const zhi = (((hi << 1) | (lo >>> 31)) ^ sign) >>> 0;
  const zlo = ((lo << 1) ^ sign) >>> 0;
  const bits = zhi !== 0 ? 64 - Math.clz32(zhi) : 32 - Math.clz32(zlo);
  return bits <= 7 ? 1 : Math.ceil(bits / 7);
}

function gcd(a: number, b: number): number {
  while (b) {
    const r = a % b;
    a = b;
    b = r;
  }
  return a;
}

// div: 1 (integers), 1000 (milliseconds with microsecond steps), 1e6 (nanosecond steps).
const DIVS = [1, 1000, 1e6] as const;

/**
 * Finds an exact integer representation of a Float64 column: value = k * mul / div with integer k,
 * verified value by value with the same arithmetic the decoder uses. One divisor at a time, each
 * over the whole column, stopping at its first miss: RSS passes as integers in one pass, where
 * trying the three divisors side by side took two full passes (78 ns a value in all).
 */
function integerForm(column: ColumnChunks): { mul: number; div: number } | null {
  for (let d = 0; d < DIVS.length; d++) {
    const div = DIVS[d];
    let g = 0;
    let ok = true;
    for (const a of column.chunks()) {
      const values = a as Float64Array;
      for (let i = 0; i < values.length; i++) {
        const v = values[i];
        const k = Math.round(v * div);
        if (!(Math.abs(k) <= INT_LIMIT) || k / div !== v || Object.is(v, -0)) {
          ok = false;
          break;
        }
        // k / g is an integer exactly when g divides k (|k| <= 2^48: the fraction, at least 1/g,
        // outweighs the rounding), and a division costs less than the remainder of two doubles.
        if (d === 0 && g !== 1) {
          const q = k / g;
          if (g === 0 || q !== Math.floor(q)) g = gcd(g, Math.abs(k));
        }
      }
      if (!ok) break;
    }
    if (!ok) continue;
    // A common factor (RSS is KiB * 1024) is divided out so the varints shrink.
    if (d === 0 && g > 1) return { mul: g, div: 1 };
    return { mul: 1, div };
  }
  return null;
}

/** A growable byte buffer for varints; `take` empties it for the next chunk of a streamed column. */
class ByteWriter {
  bytes: Uint8Array;
  pos = 0;
  constructor(capacity: number) {
    this.bytes = new Uint8Array(Math.max(16, capacity));
  }
  ensure(extra: number): void {
    if (this.pos + extra <= this.bytes.length) return;
    const next = new Uint8Array(Math.max(this.bytes.length * 2, this.pos + extra));
    next.set(this.bytes.subarray(0, this.pos));
    this.bytes = next;
  }
  /** Zigzag varint of an exact integer below 2^51 in magnitude. */
  signed(v: number): void {
    this.ensure(8);
    let z = v >= 0 ? v * 2 : -v * 2 - 1;
    const b = this.bytes;
    while (z >= 128) {
      b[this.pos++] = (z % 128) | 128;
      z = Math.floor(z / 128);
    }
    b[this.pos++] = z;
  }
  /** Zigzag varint of the 64-bit two's complement integer hi:lo. */
  signed64(hi: number, lo: number): void {
    this.ensure(10);
    const sign = hi >> 31; // 0 or -1
    let zhi = (((hi << 1) | (lo >>> 31)) ^ sign) >>> 0;
    let zlo = ((lo << 1) ^ sign) >>> 0;
    const b = this.bytes;
    while (zhi !== 0 || zlo >= 128) {
      b[this.pos++] = (zlo & 127) | 128;
      zlo = ((zlo >>> 7) | (zhi << 25)) >>> 0;
      zhi >>>= 7;
    }
    b[this.pos++] = zlo;
  }
  result(): Uint8Array {
    return this.bytes.slice(0, this.pos);
  }
}

export type ColumnOrder = -1 | 0 | 1 | 2;

/**
 * Column kinds, measured on big_memory.prof (318,694 samples): sample stack ids gzip to 78 KB as
 * plain values but 87 KB as differences (gzip finds repeated id sequences, differences hide
 * them), while time and RSS shrink 50-100x as first or second differences. So `ids` columns keep
 * their values, `series` columns take whichever order gives the fewest varint bytes.
 */
export const ORDERS = {
  ids: [0] as const,
  /** Prefix-tree parents: row index minus parent is 1 for most rows. */
  parents: [-1] as const,
  series: [0, 1, 2] as const,
};

/** How a column is written: its wire fields but the data, and the data's length in bytes. */
export type ColumnPlan = Omit<EncodedColumn, 'd'> & { bytes: number };

/**
 * A column given chunk by chunk, as often as asked (each call of `chunks` starts over): a column
 * too long to hold is read back from disk once per pass. Plain arrays are one chunk.
 */
export interface ColumnChunks {
  type: ColumnType;
  chunks(): Iterable<TypedColumn>;
}

const one = (a: TypedColumn): ColumnChunks => ({ type: typeOf(a), chunks: () => [a] });

/**
 * The integers a chunk is coded as: the values themselves, or the Float64 values scaled by
 * `x / y` (`Math.round(v * y / x)`, as the decoder multiplies back) in `scratch`'s buffer.
 */
class IntegerChunks {
  private buffer = new Float64Array(0);
  constructor(private readonly plan: { t: ColumnType; x?: number; y?: number }) {}
  of(a: TypedColumn): ArrayLike<number> {
    if (this.plan.t !== 'f64') return a;
    if (this.buffer.length < a.length) this.buffer = new Float64Array(a.length);
    const out = this.buffer;
    const mul = this.plan.x ?? 1;
    const div = this.plan.y ?? 1;
    if (mul === 1 && div === 1) return a;
    for (let i = 0; i < a.length; i++) out[i] = Math.round((a[i] * div) / mul);
    return out;
  }
}

/** First passes: the column's coding (integer form, delta order) and its data length, without writing it. */
export function planColumn(column: ColumnChunks, orders: readonly ColumnOrder[] = ORDERS.series): ColumnPlan {
  const t = column.type;
  let n = 0;
  let form: { mul: number; div: number } | null = null;
  if (t === 'f64') {
    form = integerForm(column);
    if (!form) {
      let bytes = 0;
      const bits = new BitsDelta();
      for (const a of column.chunks()) {
        const count = bits.of(a as Float64Array);
        const { hi, lo } = bits;
        for (let i = 0; i < count; i++) bytes += varint64Size(hi[i], lo[i]);
        n += count;
      }
      return { t, n, m: 'b', o: 2, bytes };
    }
    const allowed = orders.filter((x) => x >= 0);
    orders = allowed.length ? allowed : ORDERS.series;
  }
  const plan = { t, x: form?.mul, y: form?.div };
  // Sizes of every order, in one pass (bestOrder of the in-memory coder, chunk by chunk).
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let sIndex = 0;
  const wanted = new Set(orders);
  const all = wanted.size > 1 || !wanted.has(0);
  const byIndex = wanted.has(-1);
  let p1 = 0;
  let p2 = 0;
  const ints = new IntegerChunks(plan);
  for (const a of column.chunks()) {
    const k = ints.of(a);
    const count = a.length;
    if (!all) {
      for (let i = 0; i < count; i++) s0 += varintSize(k[i]);
    } else {
      for (let i = 0; i < count; i++) {
        const v = k[i];
        const d1 = v - p1;
        s0 += varintSize(v);
        s1 += varintSize(d1);
        s2 += varintSize(d1 - p2);
        if (byIndex) sIndex += varintSize(n + i - v);
        p1 = v;
        p2 = d1;
      }
    }
    n += count;
  }
  const size = { '-1': sIndex, 0: s0, 1: s1, 2: s2 };
  let o = orders[0];
  for (const x of orders) if (size[x] < size[o]) o = x;
  const bytes = size[o];
  return form ? { t, n, m: 'i', o, x: form.mul, y: form.div, bytes } : { t, n, m: 'i', o, bytes };
}

/**
 * Float64 bit patterns as second differences in wrapping 64-bit arithmetic (exact for any bits),
 * a chunk at a time into `hi` and `lo` (reused): the passes then loop over arrays, where a callback
 * per value cost 29 ns a value over both passes.
 */
class BitsDelta {
  private ph = 0;
  private pl = 0; // previous value
  private dh = 0;
  private dl = 0; // previous first difference
  hi = new Uint32Array(0);
  lo = new Uint32Array(0);
  /** Fills `hi[0..n)` and `lo[0..n)` with the chunk's second differences; returns n. */
  of(a: Float64Array): number {
    const u = wordsOf(a);
    const n = a.length;
    if (this.hi.length < n) {
      this.hi = new Uint32Array(n);
      this.lo = new Uint32Array(n);
    }
    const outHi = this.hi;
    const outLo = this.lo;
    let { ph, pl, dh, dl } = this;
    for (let i = 0; i < n; i++) {
      const l = u[2 * i];
      const h = u[2 * i + 1];
      // d1 = v - prev
      const d1l = (l - pl) >>> 0;
      const d1h = (h - ph - (l < pl ? 1 : 0)) >>> 0;
      // d2 = d1 - prevD1
      outLo[i] = (d1l - dl) >>> 0;
      outHi[i] = (d1h - dh - (d1l < dl ? 1 : 0)) >>> 0;
      pl = l;
      ph = h;
      dl = d1l;
      dh = d1h;
    }
    Object.assign(this, { ph, pl, dh, dl });
    return n;
  }
}

/**
 * Last pass: the column's data as `plan` says, in pieces of about `pieceBytes` (each piece is
 * valid until the next is asked for). Their lengths add up to `plan.bytes`.
 */
export function* writeColumn(column: ColumnChunks, plan: ColumnPlan, pieceBytes = 1 << 20): Generator<Uint8Array> {
  const w = new ByteWriter(Math.min(pieceBytes + 16, Math.max(16, plan.bytes)));
  if (plan.m === 'b') {
    const bits = new BitsDelta();
    for (const a of column.chunks()) {
      // One chunk's varints at most 10 bytes each: write it whole, then hand it on.
      const count = bits.of(a as Float64Array);
      const { hi, lo } = bits;
      for (let i = 0; i < count; i++) w.signed64(hi[i], lo[i]);
      if (w.pos >= pieceBytes) {
        yield w.bytes.subarray(0, w.pos);
        w.pos = 0;
      }
    }
  } else {
    const order = plan.o;
    let p1 = 0;
    let p2 = 0;
    let row = 0;
    const ints = new IntegerChunks(plan);
    for (const a of column.chunks()) {
      const k = ints.of(a);
      const count = a.length;
      for (let i = 0; i < count; i++) {
        const v = k[i];
        if (order === 0) w.signed(v);
        else if (order === -1) w.signed(row + i - v);
        else {
          const d1 = v - p1;
          w.signed(order === 1 ? d1 : d1 - p2);
          p1 = v;
          p2 = d1;
        }
      }
      row += count;
      if (w.pos >= pieceBytes) {
        yield w.bytes.subarray(0, w.pos);
        w.pos = 0;
      }
    }
  }
  if (w.pos > 0) yield w.bytes.subarray(0, w.pos);
}

/** Encodes a typed-array column, trying only the delta orders in `orders`. */
export function encodeColumn(a: TypedColumn, orders: readonly ColumnOrder[] = ORDERS.series): EncodedColumn {
  const column = one(a);
  const plan = planColumn(column, orders);
  const { bytes, ...wire } = plan;
  const d = new Uint8Array(bytes);
  let at = 0;
  for (const piece of writeColumn(column, plan, Math.max(1 << 20, bytes))) {
    d.set(piece, at);
    at += piece.length;
  }
  return { ...wire, d };
}

function wordsOf(a: Float64Array): Uint32Array {
  if (!LITTLE_ENDIAN) throw new Error('@prof/format needs a little-endian platform');
  return new Uint32Array(a.buffer, a.byteOffset, a.length * 2);
}

/** A varint reader that reports corrupt data as a typed error naming the column. */
class ByteReader {
  pos = 0;
  constructor(
    private readonly bytes: Uint8Array,
    private readonly column: string,
    /** Where `bytes` start in the column's data (for errors). */
    private readonly base = 0,
  ) {}
  private fail(): never {
    throw new ProfFormatError('schema', 'column data is corrupt or too short', {
      offset: this.base + this.pos,
      record: `column ${this.column}`,
      expected: 'a complete zigzag varint',
    });
  }
  signed(): number {
    const b = this.bytes;
    let z = 0;
    let mul = 1;
    for (;;) {
      if (this.pos >= b.length || mul > 2 ** 49) this.fail();
      const byte = b[this.pos++];
      z += (byte & 127) * mul;
      if (byte < 128) break;
      mul *= 128;
    }
    return z % 2 === 0 ? z / 2 : -(z + 1) / 2;
  }
  /** Returns the zigzag-decoded 64-bit value in `out` as [hi, lo]. */
  signed64(out: Uint32Array): void {
    const b = this.bytes;
    let lo = 0;
    let hi = 0;
    let shift = 0;
    for (;;) {
      if (this.pos >= b.length || shift > 63) this.fail();
      const byte = b[this.pos++] & 127;
      if (shift < 32) {
        lo = (lo | (byte << shift)) >>> 0;
        if (shift > 25) hi = (hi | (byte >>> (32 - shift))) >>> 0;
      } else hi = (hi | (byte << (shift - 32))) >>> 0;
      if (b[this.pos - 1] < 128) break;
      shift += 7;
    }
    const sign = -(lo & 1); // 0 or -1
    out[1] = (((lo >>> 1) | (hi << 31)) ^ sign) >>> 0;
    out[0] = ((hi >>> 1) ^ sign) >>> 0;
  }
}

const CONSTRUCTORS = { u8: Uint8Array, i32: Int32Array, u32: Uint32Array, f64: Float64Array } as const;
const RANGES: Record<ColumnType, [number, number]> = {
  u8: [0, 255],
  i32: [-(2 ** 31), 2 ** 31 - 1],
  u32: [0, 2 ** 32 - 1],
  f64: [-Infinity, Infinity],
};

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !ArrayBuffer.isView(v);
}

/** The header fields of an encoded column, checked (its data `d` may come later, in pieces). */
interface ColumnHeader {
  t: ColumnType;
  n: number;
  m: 'i' | 'b';
  o: ColumnOrder;
  x: number;
  y: number;
}

function checkHeader(wire: Record<string, unknown>, name: string, expected: ColumnType): ColumnHeader {
  const bad = (what: string): never => {
    throw new ProfFormatError('schema', `bad column ${name}: ${what}`, { record: `column ${name}` });
  };
  const { t, n, m, o, x = 1, y = 1 } = wire as Partial<EncodedColumn>;
  if (t !== expected) return bad(`type ${String(t)}, expected ${expected}`);
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0) return bad(`length ${String(n)}`);
  if (m !== 'i' && m !== 'b') return bad(`mode ${String(m)}`);
  if (o !== -1 && o !== 0 && o !== 1 && o !== 2) return bad(`delta order ${String(o)}`);
  if (m === 'b' && (t !== 'f64' || o !== 2)) return bad('bit-pattern mode needs f64 and order 2');
  if (m === 'i' && (typeof x !== 'number' || typeof y !== 'number' || !(x >= 1) || !(y >= 1))) return bad('scale');
  return { t, n, m, o, x, y };
}

/**
 * Decodes a column's varints piece by piece (its data read from a stream), carrying the delta
 * state and a varint cut at a piece's end over to the next piece. `decodeColumn` is one piece.
 */
export class ColumnDecoder {
  private readonly h: ColumnHeader;
  private row = 0;
  private p1 = 0;
  private p2 = 0;
  private readonly bits = new Uint32Array(4); // previous value hi, lo; previous difference hi, lo
  private carry: Uint8Array = new Uint8Array(0);
  private offset = 0;

  /** `wire`: the column's map without its data (or with it: `d` is ignored here). */
  constructor(
    wire: Record<string, unknown>,
    private readonly name: string,
    expected: ColumnType,
  ) {
    this.h = checkHeader(wire, name, expected);
  }

  get length(): number {
    return this.h.n;
  }

  private bad(what: string): never {
    throw new ProfFormatError('schema', `bad column ${this.name}: ${what}`, { record: `column ${this.name}` });
  }

  /** The values whose varints end in `piece` (with what was carried over). */
  push(piece: Uint8Array, into?: TypedColumn): TypedColumn {
    let bytes = piece;
    if (this.carry.length) {
      bytes = new Uint8Array(this.carry.length + piece.length);
      bytes.set(this.carry);
      bytes.set(piece, this.carry.length);
    }
    // The complete varints end at the last byte without its high bit.
    let end = bytes.length;
    while (end > 0 && bytes[end - 1] >= 128) end--;
    if (bytes.length - end > 10) {
      throw new ProfFormatError('schema', 'column data is corrupt or too short', {
        offset: this.offset + end,
        record: `column ${this.name}`,
        expected: 'a complete zigzag varint',
      });
    }
    this.carry = bytes.slice(end);
    let count = 0;
    for (let i = 0; i < end; i++) if (bytes[i] < 128) count++;
    if (count > this.h.n - this.row) this.bad('trailing bytes');
    const out = into && into.length === count ? into : new CONSTRUCTORS[this.h.t](count);
    const r = new ByteReader(bytes.subarray(0, end), this.name, this.offset);
    this.decode(r, out, count);
    this.offset += end;
    return out;
  }

  /** Checks that every value came and nothing is left over. */
  end(): void {
    if (this.carry.length || this.row !== this.h.n) {
      if (this.row === this.h.n) this.bad('trailing bytes');
      throw new ProfFormatError('schema', 'column data is corrupt or too short', {
        offset: this.offset,
        record: `column ${this.name}`,
        expected: `${this.h.n} zigzag varints, found ${this.row}`,
      });
    }
  }

  private decode(r: ByteReader, out: TypedColumn, count: number): void {
    const { t, m, o, x, y } = this.h;
    const base = this.row;
    if (m === 'b') {
      const u = wordsOf(out as Float64Array);
      const hl = new Uint32Array(2);
      let [ph, pl, dh, dl] = this.bits;
      for (let i = 0; i < count; i++) {
        r.signed64(hl);
        const d1l = (hl[1] + dl) >>> 0;
        const d1h = (hl[0] + dh + (d1l < dl ? 1 : 0)) >>> 0;
        const l = (d1l + pl) >>> 0;
        const h = (d1h + ph + (l < pl ? 1 : 0)) >>> 0;
        (u[2 * i] = l), (u[2 * i + 1] = h);
        (pl = l), (ph = h), (dl = d1l), (dh = d1h);
      }
      this.bits.set([ph, pl, dh, dl]);
    } else {
      const [min, max] = RANGES[t];
      let { p1, p2 } = this;
      for (let i = 0; i < count; i++) {
        const s = r.signed();
        let v: number;
        if (o === 0) v = s;
        else if (o === -1) v = base + i - s;
        else {
          const d1 = o === 1 ? s : s + p2;
          v = p1 + d1;
          p1 = v;
          p2 = d1;
        }
        if (t === 'f64') {
          if (Math.abs(v) > INT_LIMIT) this.bad(`value out of range at row ${base + i}`);
          out[i] = (v * x) / y;
        } else {
          if (v < min || v > max) this.bad(`value ${v} out of range at row ${base + i}`);
          out[i] = v;
        }
      }
      this.p1 = p1;
      this.p2 = p2;
    }
    this.row += count;
  }
}

/** Decodes a column written by `encodeColumn`; `name` (e.g. `samples.time`) goes into errors. */
export function decodeColumn(wire: unknown, name: string, expected: ColumnType): TypedColumn {
  if (!isPlainObject(wire)) {
    throw new ProfFormatError('schema', `bad column ${name}: not an encoded column`, { record: `column ${name}` });
  }
  const decoder = new ColumnDecoder(wire, name, expected);
  const d = wire.d;
  if (!(d instanceof Uint8Array)) {
    throw new ProfFormatError('schema', `bad column ${name}: data is not binary`, { record: `column ${name}` });
  }
  // Each value takes at least one byte, so `n` can never make us allocate more than the input.
  if (decoder.length > d.length) {
    throw new ProfFormatError('schema', `bad column ${name}: length ${decoder.length}`, { record: `column ${name}` });
  }
  const out = decoder.push(d);
  decoder.end();
  return out;
}
