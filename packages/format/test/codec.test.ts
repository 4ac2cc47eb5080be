import fc from 'fast-check';
import { Packr } from 'msgpackr';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import {
  decodeDocument,
  decodeDocumentGzip,
  detectFormat,
  encodeDocument,
  ProfFormatError,
  SCHEMA_VERSION,
  type ProfileDocument,
} from '../src/index';
import { decodeColumn, encodeColumn, ORDERS } from '../src/column-codec';
import { handBuiltDocument } from './codec-helpers';

function errorOf(f: () => unknown): ProfFormatError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(ProfFormatError);
    return e as ProfFormatError;
  }
  throw new Error('expected a ProfFormatError');
}

function bitsOf(a: Float64Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

const plain = new Packr({ useRecords: false });

describe('encodeDocument / decodeDocument', () => {
  it('round-trips a hand-built document exactly (NaN memory, -0 weight, odd floats)', () => {
    const doc = handBuiltDocument();
    expect(Number.isNaN(doc.samples.memory![0])).toBe(true);
    const back = decodeDocument(encodeDocument(doc));
    expect(back).toEqual(doc);
    expect(bitsOf(back.samples.time)).toEqual(bitsOf(doc.samples.time));
    expect(bitsOf(back.samples.weight!)).toEqual(bitsOf(doc.samples.weight!));
    expect(Object.is(back.samples.weight![1], -0)).toBe(true);
  });

  it('round-trips an empty document', () => {
    const doc = handBuiltDocument();
    const empty: ProfileDocument = {
      ...doc,
      samples: {
        ...doc.samples,
        length: 0,
        stack: new Int32Array(0),
        time: new Float64Array(0),
        thread: new Uint32Array(0),
        memory: null,
        weight: null,
        heap: null,
      },
    };
    expect(decodeDocument(encodeDocument(empty))).toEqual(empty);
  });

  it('is plain msgpack whose first entry is the magic (detectFormat sees it)', () => {
    const bytes = encodeDocument(handBuiltDocument());
    expect(detectFormat(bytes)).toBe('prof-document');
    const wire = plain.unpack(bytes) as Record<string, unknown>;
    expect(Object.keys(wire).slice(0, 2)).toEqual(['magic', 'version']);
    // Typed arrays travel as binary, not as lists of numbers.
    expect((wire.samples as { time: { d: unknown } }).time.d).toBeInstanceOf(Uint8Array);
  });

  it('rejects bytes that are not msgpack with bad-msgpack', () => {
    expect(errorOf(() => decodeDocument(new Uint8Array([0xc1, 0xc1, 0xc1]))).code).toBe('bad-msgpack');
  });

  it('rejects other msgpack with bad-magic', () => {
    expect(errorOf(() => decodeDocument(plain.pack({ hello: 'world' }))).code).toBe('bad-magic');
    expect(errorOf(() => decodeDocument(plain.pack([1, 2, 3]))).code).toBe('bad-magic');
  });

  it('rejects a newer schema version with too-new', () => {
    const wire = plain.unpack(encodeDocument(handBuiltDocument())) as Record<string, unknown>;
    wire.version = SCHEMA_VERSION + 1;
    const e = errorOf(() => decodeDocument(plain.pack(wire)));
    expect(e.code).toBe('too-new');
    expect(e.message).toContain(String(SCHEMA_VERSION + 1));
  });

  it('rejects a damaged column with schema, naming the column', () => {
    const wire = plain.unpack(encodeDocument(handBuiltDocument())) as { samples: { time: { d: Uint8Array } } };
    wire.samples.time.d = wire.samples.time.d.subarray(0, 2);
    const e = errorOf(() => decodeDocument(plain.pack(wire)));
    expect(e.code).toBe('schema');
    expect(e.message).toContain('samples.time');
  });

  it('rejects a column that claims more values than it has bytes, before allocating', () => {
    const wire = plain.unpack(encodeDocument(handBuiltDocument())) as { samples: { stack: { n: number } } };
    wire.samples.stack.n = 2 ** 31;
    const e = errorOf(() => decodeDocument(plain.pack(wire)));
    expect(e.code).toBe('schema');
    expect(e.message).toContain('samples.stack');
  });

  it('rejects a decoded document with a bad index with integrity', () => {
    const doc = handBuiltDocument();
    doc.samples.stack[1] = 99;
    expect(errorOf(() => decodeDocument(encodeDocument(doc))).code).toBe('integrity');
  });
});

describe('decodeDocumentGzip (DecompressionStream, as in the browser)', () => {
  it('decodes a gzipped document', async () => {
    const doc = handBuiltDocument();
    expect(await decodeDocumentGzip(gzipSync(encodeDocument(doc)))).toEqual(doc);
  });

  it('stops a gzip bomb with too-large', async () => {
    const bomb = gzipSync(new Uint8Array(8 * 1024 * 1024));
    await expect(decodeDocumentGzip(bomb, { maxInflatedBytes: 1024 * 1024 })).rejects.toMatchObject({
      code: 'too-large',
    });
  });

  it('reports corrupt gzip as bad-gzip', async () => {
    const gz = gzipSync(encodeDocument(handBuiltDocument()));
    await expect(decodeDocumentGzip(new Uint8Array([1, 2, 3]))).rejects.toMatchObject({ code: 'bad-gzip' });
    await expect(decodeDocumentGzip(gz.subarray(0, gz.length >> 1))).rejects.toMatchObject({ code: 'bad-gzip' });
  });
});

describe('column codec', () => {
  it('keeps every Float64 bit pattern (NaN payloads, -0, infinities, subnormals)', () => {
    fc.assert(
      fc.property(fc.float64Array({ maxLength: 200 }), (values) => {
        const back = decodeColumn(encodeColumn(values), 'test', 'f64') as Float64Array;
        expect(bitsOf(back)).toEqual(bitsOf(values));
      }),
      { numRuns: 300 },
    );
    const odd = new Float64Array(4);
    new DataView(odd.buffer).setBigUint64(0, 0x7ff8dead_beef0001n, true); // NaN with a payload
    odd.set([-0, Infinity, -Number.MIN_VALUE], 1);
    expect(bitsOf(decodeColumn(encodeColumn(odd), 'test', 'f64') as Float64Array)).toEqual(bitsOf(odd));
  });

  it('keeps integer series (RSS, microsecond times) exactly and compactly', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 2 ** 30 }), { maxLength: 200 }), (kib) => {
        const rss = Float64Array.from(kib, (k) => k * 1024);
        const us = Float64Array.from(kib, (k) => k / 1000);
        for (const a of [rss, us]) {
          const enc = encodeColumn(a);
          expect(enc.m).toBe('i');
          expect(bitsOf(decodeColumn(enc, 'test', 'f64') as Float64Array)).toEqual(bitsOf(a));
        }
      }),
      { numRuns: 200 },
    );
    const steady = Float64Array.from({ length: 10_000 }, (_, i) => i * 4096 * 3);
    expect(encodeColumn(steady).d.length).toBeLessThan(10_100); // one byte per value
  });

  it('keeps Int32, Uint32 and Uint8 columns in every delta order', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), { maxLength: 100 }), (xs) => {
        const i32 = Int32Array.from(xs);
        const u32 = Uint32Array.from(xs, (x) => x >>> 0);
        const u8 = Uint8Array.from(xs, (x) => x & 255);
        for (const orders of [ORDERS.ids, ORDERS.parents, ORDERS.series]) {
          expect(decodeColumn(encodeColumn(i32, orders), 't', 'i32')).toEqual(i32);
          expect(decodeColumn(encodeColumn(u32, orders), 't', 'u32')).toEqual(u32);
          expect(decodeColumn(encodeColumn(u8, orders), 't', 'u8')).toEqual(u8);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('rejects values outside the column type', () => {
    const enc = encodeColumn(Int32Array.from([1, 2, 300]));
    expect(() => decodeColumn(enc, 'frames.kind', 'u8')).toThrow(/frames\.kind/);
    const u8 = { ...encodeColumn(Uint8Array.from([1, 2, 3]), ORDERS.ids), d: Uint8Array.from([1, 2, 0x80, 0x04]) };
    expect(() => decodeColumn(u8, 'frames.kind', 'u8')).toThrow(ProfFormatError);
  });
});
