// Node entry of @prof/format: file and stream helpers that use Node built-ins.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { constants, createGunzip, gunzip, gunzipSync, gzip } from 'node:zlib';
import { decodeDocument, DEFAULT_MAX_INFLATED_BYTES, encodeDocument } from './codec';
import { DETECT_HEAD_BYTES, detectFormat, type DetectedFormat } from './detect';
import { ProfFormatError } from './errors';
import type { DocumentWarning, ProfileDocument } from './schema';
import { MAX_TEXT_PROFILE_BYTES, readFormat, unknownFormat } from './import';
import { inspectFromResult, type VmprofInspection } from './vmprof/inspect';
import { createVmprofReader } from './vmprof/reader';
import type { VmprofReadResult } from './vmprof/types';
import { concatBytes } from './plain-values';

export * from './index';

const gzipAsync = promisify(gzip);
const gunzipAsync = promisify(gunzip);

export interface ReadFileOptions {
  /** Called as the file is read, with file bytes (compressed bytes for gzip files) so far and in total. */
  onProgress?(bytesRead: number, totalBytes: number): void;
  /** Cap for an inflated `.msgpack.gz` document (default 1 GiB). */
  maxInflatedBytes?: number;
}

/**
 * The gzip level of every document, for both converters (so their bytes stay equal). Level 9 took
 * 68 ms against 14 ms on big_memory's 1.3 MB of msgpack for 4% (89.5 against 93.1 KB), a tenth of
 * `prof convert`; past 16 MiB 5.6x the time for 4%.
 */
export const GZIP_LEVEL = 6;

/** `.msgpack.gz` bytes of a document: msgpack (see codec.ts), then gzip (`GZIP_LEVEL`). */
export async function gzipDocument(doc: ProfileDocument): Promise<Buffer> {
  const msgpack = encodeDocument(doc);
  return gzipAsync(msgpack, { level: GZIP_LEVEL });
}

/**
 * Inverse of `gzipDocument`. Inflating stops as soon as the output passes `maxInflatedBytes`
 * (`too-large`, the gzip-bomb guard); corrupt gzip gives `bad-gzip`, bad msgpack `bad-msgpack`,
 * and the result has passed `assertIntegrity`.
 */
export async function gunzipDocument(
  bytes: Uint8Array,
  options: { maxInflatedBytes?: number } = {},
): Promise<ProfileDocument> {
  return decodeDocument(await inflateBounded(bytes, options.maxInflatedBytes ?? DEFAULT_MAX_INFLATED_BYTES));
}

async function inflateBounded(bytes: Uint8Array, max: number): Promise<Buffer> {
  if (bytes.length < 2 || bytes[0] !== 0x1f || bytes[1] !== 0x8b) {
    throw new ProfFormatError('bad-gzip', 'not gzip data', { offset: 0, expected: 'gzip magic 1f 8b' });
  }
  try {
    return await gunzipAsync(bytes, { maxOutputLength: max });
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'ERR_BUFFER_TOO_LARGE' || err instanceof RangeError) {
      throw new ProfFormatError('too-large', `document inflates to more than ${max} bytes`, {
        expected: `at most ${max} bytes after gunzip`,
      });
    }
    throw new ProfFormatError('bad-gzip', `gzip data is corrupt: ${err.message}`);
  }
}

/** File chunks, reporting progress as they are read. @internal */
export async function* fileChunks(path: string, onProgress?: (read: number, total: number) => void) {
  const total = (await stat(path)).size;
  let read = 0;
  onProgress?.(0, total);
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) {
    read += (chunk as Buffer).length;
    onProgress?.(read, total);
    yield chunk as Buffer;
  }
}

/** Result of gunzipping a stream that may end early. @internal */
export interface GunzipState {
  /** Set when the gzip stream was cut short or corrupt after some output. */
  warning: DocumentWarning | null;
  inflated: number;
}

/** @internal */
export async function* gunzipChunks(source: AsyncIterable<Uint8Array>, state: GunzipState) {
  const gz = createGunzip({ chunkSize: 1 << 18 });
  const input = Readable.from(source);
  input.on('error', (e) => gz.destroy(e));
  input.pipe(gz);
  try {
    for await (const chunk of gz) {
      state.inflated += (chunk as Buffer).length;
      yield chunk as Buffer;
    }
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err instanceof ProfFormatError) throw err;
    const cut = err.errno === constants.Z_BUF_ERROR || /unexpected end/i.test(err.message);
    if (state.inflated === 0) {
      throw new ProfFormatError('bad-gzip', `gzip data is ${cut ? 'cut short' : 'corrupt'}: ${err.message}`);
    }
    // Keep what inflated: a profile gzipped while it was written and then killed is still useful.
    state.warning = {
      code: cut ? 'truncated-gzip' : 'bad-gzip',
      message: `gzip stream ${cut ? 'ends early' : 'is corrupt'} after ${state.inflated} inflated bytes: ${err.message}`,
      offset: state.inflated,
    };
  } finally {
    input.destroy();
  }
}

/** Reads the first `DETECT_HEAD_BYTES` of a chunk stream and gives them back with the rest. */
async function peek(source: AsyncIterable<Uint8Array>): Promise<{ head: Uint8Array; all: AsyncIterable<Uint8Array> }> {
  const it = source[Symbol.asyncIterator]();
  const first: Uint8Array[] = [];
  let size = 0;
  let done = false;
  while (size < DETECT_HEAD_BYTES) {
    const r = await it.next();
    if (r.done) {
      done = true;
      break;
    }
    first.push(r.value);
    size += r.value.length;
  }
  const head = concatBytes(first, size).subarray(0, DETECT_HEAD_BYTES);
  async function* all() {
    yield* first;
    if (!done) for (let r = await it.next(); !r.done; r = await it.next()) yield r.value;
  }
  return { head, all: all() };
}

async function collect(source: AsyncIterable<Uint8Array>, max: number, what: string): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const c of source) {
    size += c.length;
    if (size > max) throw new ProfFormatError('too-large', `${what} is larger than ${max} bytes`);
    chunks.push(c);
  }
  return concatBytes(chunks, size);
}

interface StreamResult {
  document: ProfileDocument;
  /** Set for vmprof input: what `inspectFromResult` needs. */
  vmprof: VmprofReadResult | null;
}

async function readStream(
  source: AsyncIterable<Uint8Array>,
  options: ReadFileOptions,
  gzipped = false,
): Promise<StreamResult> {
  const { head, all } = await peek(source);
  const format = detectFormat(head);
  switch (format) {
    case 'gzip': {
      if (gzipped) throw new ProfFormatError('unknown-format', 'gzip inside gzip is not a profile', { offset: 0 });
      const state: GunzipState = { warning: null, inflated: 0 };
      const result = await readStream(gunzipChunks(all, state), options, true);
      if (state.warning) result.document.warnings.push(state.warning);
      return result;
    }
    case 'vmprof': {
      const reader = createVmprofReader();
      for await (const chunk of all) reader.push(chunk);
      const result = reader.finishDetailed();
      if (gzipped && result.document.meta.vmprof) result.document.meta.vmprof.gzipped = true;
      return { document: result.document, vmprof: result };
    }
    case 'prof-document': {
      const max = options.maxInflatedBytes ?? DEFAULT_MAX_INFLATED_BYTES;
      return { document: decodeDocument(await collect(all, max, 'document')), vmprof: null };
    }
    case 'unknown':
      throw unknownFormat(head);
    default: {
      const bytes = await collect(all, MAX_TEXT_PROFILE_BYTES, 'profile');
      return { document: await readFormat(format, bytes, options), vmprof: null };
    }
  }
}

/** What `sniffProfile` tells from the first bytes of an upload. */
export interface Sniffed {
  gzipped: boolean;
  /**
   * The format of the (inflated) content; `unknown` only inside gzip, where the head may inflate to
   * too little to tell (or to a bomb's zeros): reading the whole stream decides, with its own error.
   */
  format: Exclude<DetectedFormat, 'gzip'>;
}

const SNIFF_INFLATE_BYTES = 4 * 1024 * 1024;

/**
 * The format of a profile from its first bytes (64 KiB is plenty), looking inside gzip; throws
 * `unknown-format` naming the first bytes (of content that is not gzipped), or `bad-gzip` when gzip-looking bytes do not inflate. A
 * head that inflates past 4 MiB from 1 KiB is taken for a Prof document: no profile compresses so
 * well, only our own (or a bomb, which the caller's inflate bound refuses).
 */
export function sniffProfile(head: Uint8Array): Sniffed {
  let format = detectFormat(head);
  const gzipped = format === 'gzip';
  if (gzipped) {
    const inner = inflatedHead(head);
    format = inner === null ? 'prof-document' : detectFormat(inner);
  }
  if (format === 'gzip' || (format === 'unknown' && !gzipped)) throw unknownFormat(head);
  return { gzipped, format };
}

/** The first inflated bytes of a gzipped head (truncated input allowed), or null past the cap. */
function inflatedHead(head: Uint8Array): Uint8Array | null {
  // A smaller piece when the head inflates past the cap: a vmprof head compresses over 100 times.
  for (const piece of [head, head.subarray(0, 1024)]) {
    try {
      return gunzipSync(piece, { finishFlush: constants.Z_SYNC_FLUSH, maxOutputLength: SNIFF_INFLATE_BYTES });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') continue;
      throw new ProfFormatError(
        'bad-gzip',
        `upload starts like gzip but does not inflate: ${(error as Error).message}`,
      );
    }
  }
  return null;
}

async function* once(bytes: Uint8Array) {
  yield bytes;
}

/**
 * Reads any supported profile file (vmprof, gzipped or not; V8 `.cpuprofile`; Prof document),
 * detected by content. vmprof files stream through the reader in bounded memory.
 */
export async function readProfileFile(path: string, options: ReadFileOptions = {}): Promise<ProfileDocument> {
  return (await readStream(fileChunks(path, options.onProgress), options)).document;
}

/** Reads any supported profile from bytes (gzip ok). */
export async function readProfileBytes(
  bytes: Uint8Array,
  options: Omit<ReadFileOptions, 'onProgress'> = {},
): Promise<ProfileDocument> {
  return (await readStream(once(bytes), options)).document;
}

/**
 * The `prof inspect --json` output for a vmprof file (gzip ok): exactly the schema of vmprof's own
 * reader in fixtures/vmprof/*.expected.json, so the two can be diffed.
 */
export async function inspectFile(path: string): Promise<VmprofInspection> {
  const hash = createHash('sha256');
  const size = (await stat(path)).size;
  async function* hashed() {
    for await (const chunk of fileChunks(path)) {
      hash.update(chunk);
      yield chunk;
    }
  }
  const result = await readStream(hashed(), {});
  if (!result.vmprof) {
    throw new ProfFormatError(
      'not-vmprof',
      `${basename(path)} is not a vmprof profile; inspect --json reads vmprof files`,
    );
  }
  // The gzip layer's warnings (stream cut short) are in the document by now, so they show too.
  return inspectFromResult(
    result.vmprof,
    { name: basename(path), size, sha256: hash.digest('hex') },
    { createHash: () => createHash('sha256') },
  );
}
export * from './convert-stream';
export {
  readDocumentColumns,
  type DocumentColumns,
  type DocumentColumnsOptions,
  type DocumentSampleChunk,
} from './document-stream';
export { ScratchFile } from './column-file';
