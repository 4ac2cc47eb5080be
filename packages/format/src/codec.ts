/**
 * msgpack codec of the profile document (browser-safe). The document keeps its shape on the wire;
 * only typed-array columns are replaced by compact encoded columns (see column-codec.ts), so any
 * msgpack reader can see the structure. Gzip is applied outside: `gzipDocument` in the Node entry,
 * `Content-Encoding: gzip` or `decodeDocumentGzip` in the browser.
 */
import { Packr, Unpackr } from 'msgpackr';
import { decodeColumn, encodeColumn, ORDERS, type ColumnOrder, type ColumnType } from './column-codec';
import { ProfFormatError } from './errors';
import { assertIntegrity } from './integrity';
import { DOCUMENT_MAGIC, SCHEMA_VERSION, type ProfileDocument } from './schema';
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

/** Encodes a document as msgpack bytes (not gzipped). */
export function encodeDocument(doc: ProfileDocument): Uint8Array {
  // `magic` and `version` come first so `detectFormat` finds them in the first bytes.
  const wire = {
    magic: doc.magic,
    version: doc.version,
    meta: doc.meta,
    strings: doc.strings,
    frames: encodeTable(doc.frames, 'frames', FRAME_COLUMNS),
    stacks: encodeTable(doc.stacks, 'stacks', STACK_COLUMNS),
    samples: encodeTable(doc.samples, 'samples', SAMPLE_COLUMNS, OPTIONAL_SAMPLE_COLUMNS),
    threads: doc.threads,
    warnings: doc.warnings,
  };
  return packr.pack(wire);
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
 * Decodes msgpack bytes written by `encodeDocument` (already inflated). Checks the magic and the
 * schema version (`too-new` for documents from a newer Prof), rebuilds the columns, and runs
 * `assertIntegrity`, so the result is safe to index.
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
  if (!isPlainObject(wire) || wire.magic !== DOCUMENT_MAGIC) {
    throw new ProfFormatError('bad-magic', 'not a Prof document', {
      record: 'magic',
      expected: `a map whose "magic" is "${DOCUMENT_MAGIC}"`,
    });
  }
  const version = wire.version;
  if (typeof version !== 'number' || !Number.isInteger(version) || version < 1) {
    throw new ProfFormatError('schema', `bad schema version ${String(version)}`, { record: 'version' });
  }
  if (version > SCHEMA_VERSION) {
    throw new ProfFormatError(
      'too-new',
      `document has schema version ${version}, this @prof/format reads up to ${SCHEMA_VERSION}; upgrade @prof/format`,
      { record: 'version', expected: `<= ${SCHEMA_VERSION}` },
    );
  }
  const doc = {
    magic: DOCUMENT_MAGIC,
    version,
    meta: wire.meta,
    strings: wire.strings,
    frames: decodeTable(wire.frames, 'frames', FRAME_COLUMNS),
    stacks: decodeTable(wire.stacks, 'stacks', STACK_COLUMNS),
    samples: decodeTable(wire.samples, 'samples', SAMPLE_COLUMNS, OPTIONAL_SAMPLE_COLUMNS),
    threads: wire.threads,
    warnings: wire.warnings,
  } as unknown as ProfileDocument;
  assertIntegrity(doc);
  return doc;
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
  const max = options.maxInflatedBytes ?? DEFAULT_MAX_INFLATED_BYTES;
  if (bytes.length < 2 || bytes[0] !== 0x1f || bytes[1] !== 0x8b) {
    throw new ProfFormatError('bad-gzip', 'not gzip data', { offset: 0, expected: 'gzip magic 1f 8b' });
  }
  const stream = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream().pipeThrough(new DecompressionStream('gzip'));
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.length;
      if (total > max) {
        await reader.cancel();
        throw new ProfFormatError('too-large', `document inflates to more than ${max} bytes`, {
          expected: `at most ${max} bytes after gunzip`,
        });
      }
      chunks.push(value);
    }
  } catch (e) {
    if (e instanceof ProfFormatError) throw e;
    throw new ProfFormatError('bad-gzip', `gzip data is corrupt: ${(e as Error).message}`);
  }
  const all = new Uint8Array(total);
  let pos = 0;
  for (const c of chunks) all.set(c, pos), (pos += c.length);
  return decodeDocument(all);
}
