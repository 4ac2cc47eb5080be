// readDocumentColumns (a stored document read column by column, in bounded memory) gives what
// gunzipDocument gives: the same document and the same samples, on every vmprof fixture, a
// hand-built document and a profile four times longer than big_memory.prof; and the same error
// codes on damaged input. ColumnDecoder decodes a column cut anywhere, varints included.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { Packr } from 'msgpackr';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { makeLongProfile } from '../../../scripts/make-long-profile.mjs';
import { ColumnDecoder, decodeColumn, encodeColumn } from '../src/column-codec';
import {
  encodeDocument,
  gunzipDocument,
  gzipDocument,
  type ProfileDocument,
  readDocumentColumns,
  readProfileFile,
} from '../src/node';
import { handBuiltDocument } from './codec-helpers';
import { fixturesRoot, vmprofFixtureFiles } from './vmprof-helpers';

const work = mkdtempSync(join(tmpdir(), 'prof-document-stream-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const COLUMNS = ['stack', 'time', 'thread', 'memory', 'weight', 'heap'] as const;

/** Reads `gz` column by column and checks it against gunzipDocument; the scratch folder is left empty. */
async function expectSameAsWhole(gz: Uint8Array, pieces?: number): Promise<ProfileDocument> {
  const whole = await gunzipDocument(gz);
  const tmpDir = join(work, 'scratch');
  mkdirSync(tmpDir, { recursive: true });
  const source = pieces
    ? (async function* () {
        for (let at = 0; at < gz.length; at += pieces) yield gz.subarray(at, at + pieces);
      })()
    : gz;
  const read = await readDocumentColumns(source, { tmpDir });
  try {
    const { samples, ...rest } = read.document;
    const { samples: wholeSamples, ...wholeRest } = whole;
    expect(rest).toEqual(wholeRest);
    expect(samples.length).toBe(wholeSamples.length);
    expect(samples.timeEstimated).toBe(wholeSamples.timeEstimated);
    expect(samples.timeSource).toBe(wholeSamples.timeSource);
    for (let pass = 0; pass < 2; pass++) {
      let row = 0;
      for (const chunk of read.chunks()) {
        for (const name of COLUMNS) {
          const want = wholeSamples[name];
          if (!want) {
            expect(chunk[name]).toBeNull();
            continue;
          }
          const got = chunk[name]!;
          const slice = want.subarray(row, row + got.length);
          expect(
            Buffer.from(got.buffer, got.byteOffset, got.byteLength).equals(
              Buffer.from(slice.buffer, slice.byteOffset, slice.byteLength),
            ),
            name,
          ).toBe(true);
        }
        row += chunk.stack.length;
      }
      expect(row).toBe(wholeSamples.length);
    }
  } finally {
    await read.close();
  }
  expect(readdirSync(tmpDir)).toEqual([]);
  return whole;
}

async function codeOf(work: Promise<unknown>): Promise<string> {
  try {
    await work;
    return 'ok';
  } catch (e) {
    return (e as { code?: string }).code ?? String(e);
  }
}

/** The error code of each reader (the column reader's once its chunks are read too). */
async function codes(gz: Uint8Array, options: { maxInflatedBytes?: number } = {}) {
  const whole = await codeOf(gunzipDocument(gz, options));
  const streamed = await codeOf(
    (async () => {
      const read = await readDocumentColumns(gz, { ...options, tmpDir: work });
      try {
        for (const _ of read.chunks());
      } finally {
        await read.close();
      }
    })(),
  );
  return { whole, streamed };
}

describe('readDocumentColumns', () => {
  const profiles = vmprofFixtureFiles((f) => /\.(prof|tsprof)$/.test(f));
  it.each(profiles.map((p) => [p.slice(fixturesRoot.length + 1), p]))(
    '%s: the same document and samples as gunzipDocument',
    async (_, path) => {
      const doc = await readProfileFile(path).catch(() => null);
      if (!doc) return;
      await expectSameAsWhole(await gzipDocument(doc));
    },
  );

  it('a hand-built document (two threads, memory with a hole, weights), fed in 7-byte pieces', async () => {
    await expectSameAsWhole(await gzipDocument(handBuiltDocument()), 7);
  });

  it('a schema-1 document without samples.heap: upgraded as gunzipDocument upgrades it', async () => {
    const doc = await expectSameAsWhole(readFileSync(join(fixturesRoot, 'documents/v1-derived-v3-memory.msgpack.gz')));
    expect(doc.samples.heap).toBeNull();
  });

  it('a profile four times longer than big_memory.prof', async () => {
    const long = join(work, 'x4.prof');
    makeLongProfile({ source: join(fixturesRoot, 'vmprof-fresh/big_memory.prof'), times: 4, out: long });
    const whole = await expectSameAsWhole(await gzipDocument(await readProfileFile(long)));
    expect(whole.samples.length).toBeGreaterThan(1_000_000);
  });

  it('damaged input gives the error gunzipDocument gives', async () => {
    const gz = await gzipDocument(handBuiltDocument());
    const msgpack = encodeDocument(handBuiltDocument());
    const packr = new Packr({ useRecords: false, variableMapSize: true });
    const cases: [string, Uint8Array, { maxInflatedBytes?: number }?][] = [
      ['not gzip', Uint8Array.of(1, 2, 3)],
      ['gzip cut short', gz.subarray(0, gz.length - 20)],
      ['msgpack cut short', gzipSync(msgpack.subarray(0, msgpack.length - 5))],
      ['bytes after the document', gzipSync(Buffer.concat([msgpack, Uint8Array.of(0xc0)]))],
      ['not a map', gzipSync(packr.pack([1, 2]))],
      ['not a document', gzipSync(packr.pack({ magic: 'other', version: 1 }))],
      ['too new', gzipSync(packr.pack({ magic: 'prof.profile', version: 99 }))],
      ['too large', gz, { maxInflatedBytes: 100 }],
    ];
    // A stack id out of range: the column is re-encoded with a bad value.
    const doc = handBuiltDocument();
    doc.samples.stack[doc.samples.length - 1] = doc.stacks.length + 5;
    cases.push(['stack out of range', gzipSync(encodeDocument(doc))]);
    const doc2 = handBuiltDocument();
    doc2.samples.time[1] = -1e9;
    cases.push(['time out of order', gzipSync(encodeDocument(doc2))]);
    for (const [name, bytes, options] of cases) {
      const { whole, streamed } = await codes(bytes, options);
      expect(whole, name).not.toBe('ok');
      expect(streamed, name).toBe(whole);
    }
    expect(readdirSync(work).filter((f) => f.startsWith('prof-document-'))).toEqual([]);
  });
});

describe('ColumnDecoder', () => {
  it('decodes a column cut into any pieces as decodeColumn decodes it whole', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('i32', 'u32', 'f64-int', 'f64-bits'),
        fc.array(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), { maxLength: 300 }),
        fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 20 }),
        (kind, ints, cuts) => {
          const a =
            kind === 'i32'
              ? Int32Array.from(ints)
              : kind === 'u32'
                ? Uint32Array.from(ints, (v) => v >>> 0)
                : Float64Array.from(ints, (v, i) => (kind === 'f64-int' ? v * 1024 : v / 7 + i * 1e-3));
          const wire = encodeColumn(a);
          const want = decodeColumn(wire, 'c', wire.t);
          const decoder = new ColumnDecoder(wire as unknown as Record<string, unknown>, 'c', wire.t);
          const out: number[] = [];
          let at = 0;
          for (let k = 0; at < wire.d.length; k++) {
            const end = Math.min(wire.d.length, at + cuts[k % cuts.length]);
            out.push(...decoder.push(wire.d.subarray(at, end)));
            at = end;
          }
          decoder.end();
          expect(out.map((v) => (Object.is(v, -0) ? 'neg0' : v))).toEqual(
            [...want].map((v) => (Object.is(v, -0) ? 'neg0' : v)),
          );
        },
      ),
      { numRuns: 300 },
    );
  });

  it('a column cut short or with bytes to spare is refused', () => {
    const wire = encodeColumn(Int32Array.of(1, 200, 3000, 5));
    const short = new ColumnDecoder(wire as unknown as Record<string, unknown>, 'c', 'i32');
    short.push(wire.d.subarray(0, wire.d.length - 1));
    expect(() => short.end()).toThrow(/too short/);
    const long = new ColumnDecoder(wire as unknown as Record<string, unknown>, 'c', 'i32');
    expect(() => long.push(Buffer.concat([wire.d, Uint8Array.of(1)]))).toThrow(/trailing bytes/);
  });
});
