/**
 * msgpack codec of the profile document (browser-safe). The document keeps its shape on the wire;
 * only typed-array columns are replaced by compact encoded columns (see column-codec.ts), so any
 * msgpack reader can see the structure. Gzip is applied outside: `gzipDocument` in the Node entry,
 * `Content-Encoding: gzip` or `decodeDocumentGzip` in the browser.
 */
import { Packr, Unpackr } from 'msgpackr';
import {
  type ColumnChunks,
  type ColumnOrder,
  type ColumnPlan,
  type ColumnType,
  decodeColumn,
  encodeColumn,
  ORDERS,
  planColumn,
  writeColumn,
} from './column-codec';
import { ProfFormatError } from './errors';
import { inflateGzip } from './inflate';
import { assertIntegrity } from './integrity';
import { DOCUMENT_MAGIC, type ProfileDocument } from './schema';
import { upgradeWire } from './upgrade';
import { isPlainObject } from './plain-values';

// Plain msgpack maps (no msgpackr record extension), so other msgpack readers can read documents.
const packr = new Packr({ useRecords: false, variableMapSize: true });
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true });

type Columns = Record<string, ColumnType>;
const FRAME_COLUMNS: Columns = { name: 'u32', file: 'u32', line: 'i32', kind: 'u8', raw: 'u32', address: 'u32' };
const STACK_COLUMNS: Columns = { parent: 'i32', frame: 'u32', line: 'i32' };
const SAMPLE_COLUMNS: Columns = { stack: 'i32', time: 'f64', thread: 'u32' };
const OPTIONAL_SAMPLE_COLUMNS: Columns = { memory: 'f64', weight: 'f64', heap: 'f64' };
/** Delta orders tried per column (see `ORDERS`); unlisted columns try every order. */
const COLUMN_ORDERS: Record<string, readonly ColumnOrder[]> = {
  'stacks.parent': ORDERS.parents,
  'stacks.frame': ORDERS.ids,
  'samples.stack': ORDERS.ids,
  'samples.thread': ORDERS.ids,
};

function encodeTable(table: object, name: string, columns: Columns, optional: Columns = {}): Record<string, unknown> {
  const out: Record<string, unknown> = { ...table };
  for (const key of [...Object.keys(columns), ...Object.keys(optional)]) {
    const col = (table as Record<string, never>)[key];
    out[key] = col == null && key in optional ? null : encodeColumn(col, COLUMN_ORDERS[`${name}.${key}`]);
  }
  return out;
}

function wireOf(doc: ProfileDocument, samples: Record<string, unknown>) {
  // `magic` and `version` come first so `detectFormat` finds them in the first bytes.
  return {
    magic: doc.magic,
    version: doc.version,
    producer: doc.producer,
    meta: doc.meta,
    strings: doc.strings,
    frames: encodeTable(doc.frames, 'frames', FRAME_COLUMNS),
    stacks: encodeTable(doc.stacks, 'stacks', STACK_COLUMNS),
    samples,
    threads: doc.threads,
    warnings: doc.warnings,
  };
}

/** Encodes a document as msgpack bytes (not gzipped). */
export function encodeDocument(doc: ProfileDocument): Uint8Array {
  return packr.pack(wireOf(doc, encodeTable(doc.samples, 'samples', SAMPLE_COLUMNS, OPTIONAL_SAMPLE_COLUMNS)));
}

/** The sample columns a streamed document can take from chunks instead of arrays. */
export type SampleColumnName = 'stack' | 'time' | 'thread' | 'memory' | 'weight' | 'heap';

/** `planColumn` with the delta orders `encodeDocument` tries for this sample column. */
export function planSampleColumn(name: SampleColumnName, column: ColumnChunks): ColumnPlan {
  return planColumn(column, COLUMN_ORDERS[`samples.${name}`]);
}

/**
 * `encodeDocument` for a document whose sample columns are too long to hold: `columns` gives each
 * one as chunks with its plan (the document's own sample columns are ignored; `samples.length`
 * and the optional columns' presence come from `columns`). `bytes` is the msgpack's length, known
 * before it is written; `pieces()` yields it, the same bytes `encodeDocument` gives.
 */
export function encodeDocumentStreamed(
  doc: ProfileDocument,
  columns: Partial<Record<SampleColumnName, { column: ColumnChunks; plan: ColumnPlan }>>,
): { bytes: number; pieces(): Generator<Uint8Array> } {
  // Everything but the column data is packed by msgpackr; each column's data is a unique 16-byte
  // placeholder, replaced in the output by its real length and the data written pass by pass.
  const names = (Object.keys(columns) as SampleColumnName[]).filter((k) => columns[k]);
  const markers = names.map(() => Uint8Array.from({ length: 16 }, () => Math.floor(Math.random() * 256)));
  const samples: Record<string, unknown> = { ...doc.samples };
  for (const key of [...Object.keys(SAMPLE_COLUMNS), ...Object.keys(OPTIONAL_SAMPLE_COLUMNS)]) {
    const i = names.indexOf(key as SampleColumnName);
    if (i < 0) {
      if (key in SAMPLE_COLUMNS) throw new Error(`streamed document lacks column samples.${key}`);
      samples[key] = null;
      continue;
    }
    const { bytes: _, ...wire } = columns[names[i]]!.plan;
    samples[key] = { ...wire, d: markers[i] };
  }
  // A copy: msgpackr's buffer is shared with later pack() calls, and this one is read across yields.
  const packed = Uint8Array.from(packr.pack(wireOf(doc, samples)));
  const found = markers.map((m) => findMarker(packed, m));
  const order = names.map((_, i) => i).sort((a, b) => found[a] - found[b]);
  let bytes = packed.length;
  for (const name of names) bytes += binHeader(columns[name]!.plan.bytes).length + columns[name]!.plan.bytes - 18;
  function* pieces(): Generator<Uint8Array> {
    let at = 0;
    for (const i of order) {
      const { column, plan } = columns[names[i]]!;
      yield packed.subarray(at, found[i] - 2); // up to the placeholder's bin8 header (c4 10)
      yield binHeader(plan.bytes);
      let written = 0;
      for (const piece of writeColumn(column, plan)) {
        written += piece.length;
        yield piece;
      }
      if (written !== plan.bytes)
        throw new Error(`column samples.${names[i]}: ${written} bytes written, ${plan.bytes} planned`);
      at = found[i] + 16;
    }
    yield packed.subarray(at);
  }
  return { bytes, pieces };
}

function findMarker(bytes: Uint8Array, marker: Uint8Array): number {
  let found = -1;
  for (let i = 2; i + 16 <= bytes.length; i++) {
    if (bytes[i] !== marker[0] || bytes[i - 2] !== 0xc4 || bytes[i - 1] !== 16) continue;
    let j = 1;
    while (j < 16 && bytes[i + j] === marker[j]) j++;
    if (j < 16) continue;
    if (found >= 0) throw new Error('column placeholder found twice');
    found = i;
  }
  if (found < 0) throw new Error('column placeholder not found');
  return found;
}

/** msgpack bin header for `n` bytes, as msgpackr writes it. */
function binHeader(n: number): Uint8Array {
  if (n < 0x100) return Uint8Array.of(0xc4, n);
  if (n < 0x10000) return Uint8Array.of(0xc5, n >>> 8, n & 0xff);
  return Uint8Array.of(0xc6, n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff);
}

function decodeTable(wire: unknown, name: string, columns: Columns, optional: Columns = {}): Record<string, unknown> {
  if (!isPlainObject(wire)) {
    throw new ProfFormatError('schema', `document field ${name} is not a map`, { record: name });
  }
  const out: Record<string, unknown> = { ...wire };
  for (const [key, type] of Object.entries(columns)) out[key] = decodeColumn(wire[key], `${name}.${key}`, type);
  for (const [key, type] of Object.entries(optional)) {
    out[key] = wire[key] == null ? null : decodeColumn(wire[key], `${name}.${key}`, type);
  }
  return out;
}

/**
 * Decodes msgpack bytes written by `encodeDocument` (already inflated). Checks the magic, upgrades
 * an older schema version to `SCHEMA_VERSION` (`too-new` for documents from a newer Prof, see
 * upgrade.ts), rebuilds the columns, and runs `assertIntegrity`, so the result is safe to index.
 */
export function decodeDocument(bytes: Uint8Array): ProfileDocument {
  let wire: unknown;
  try {
    wire = unpackr.unpack(bytes);
  } catch (e) {
    throw new ProfFormatError('bad-msgpack', `not valid msgpack: ${(e as Error).message}`, {
      expected: 'a msgpack-encoded Prof document',
    });
  }
  return documentFromWire(wire);
}

/** The sample columns' element types, for a reader that decodes them itself (document-stream.ts). @internal */
export const SAMPLE_COLUMN_TYPES = { ...SAMPLE_COLUMNS, ...OPTIONAL_SAMPLE_COLUMNS } as Record<
  SampleColumnName,
  ColumnType
>;

/**
 * The document of a decoded msgpack map: magic, upgrade of an older schema version (upgrade.ts),
 * columns, `assertIntegrity`. `streamedSamples`: the sample table with empty columns (`length`
 * counts the samples), when the caller decodes and checks the sample columns chunk by chunk
 * itself. @internal
 */
export function documentFromWire(wire: unknown, streamedSamples?: Record<string, unknown>): ProfileDocument {
  checkDocumentHead(wire);
  if (streamedSamples) wire.samples = streamedSamples;
  upgradeWire(wire);
  const doc = {
    magic: DOCUMENT_MAGIC,
    version: wire.version,
    producer: wire.producer,
    meta: wire.meta,
    strings: wire.strings,
    frames: decodeTable(wire.frames, 'frames', FRAME_COLUMNS),
    stacks: decodeTable(wire.stacks, 'stacks', STACK_COLUMNS),
    samples: streamedSamples
      ? wire.samples
      : decodeTable(wire.samples, 'samples', SAMPLE_COLUMNS, OPTIONAL_SAMPLE_COLUMNS),
    threads: wire.threads,
    warnings: wire.warnings,
  } as unknown as ProfileDocument;
  assertIntegrity(doc, { streamedSamples: !!streamedSamples });
  return doc;
}

/** Checks the magic and schema version of a decoded map (`bad-magic`, `schema`, `too-new`). @internal */
export function checkDocumentHead(wire: unknown): asserts wire is Record<string, unknown> {
  if (!isPlainObject(wire) || wire.magic !== DOCUMENT_MAGIC) {
    throw new ProfFormatError('bad-magic', 'not a Prof document', {
      record: 'magic',
      expected: `a map whose "magic" is "${DOCUMENT_MAGIC}"`,
    });
  }
  // The version's checks (`schema`, `too-new`), on a copy: the samples may not have been read yet.
  upgradeWire({ version: wire.version });
}

/** Default cap on inflated document size: far above any real document (big_memory: ~2 MB). */
export const DEFAULT_MAX_INFLATED_BYTES = 1024 * 1024 * 1024;

/**
 * Decodes a gzipped document (`.msgpack.gz`) with the platform's `DecompressionStream` (browsers,
 * Node >= 18), stopping with `too-large` as soon as the inflated size passes `maxInflatedBytes`.
 */
export async function decodeDocumentGzip(
  bytes: Uint8Array,
  options: { maxInflatedBytes?: number } = {},
): Promise<ProfileDocument> {
  return decodeDocument(await inflateGzip(bytes, options.maxInflatedBytes ?? DEFAULT_MAX_INFLATED_BYTES, 'document'));
}
