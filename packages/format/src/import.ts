// The one entry of every importer: `importProfile` tells the format by content and returns a document.
import { readAustin } from './austin/reader';
import { decodeDocument, DEFAULT_MAX_INFLATED_BYTES } from './codec';
import { DETECT_HEAD_BYTES, detectFormat, type DetectedFormat } from './detect';
import { ProfFormatError } from './errors';
import { readFolded } from './folded/reader';
import { inflateGzip } from './inflate';
import { concatBytes } from './plain-values';
import type { ProfileDocument } from './schema';
import { readSpeedscope } from './speedscope/reader';
import { readV8CpuProfile } from './v8/cpuprofile';
import { readVmprof } from './vmprof/reader';
import { readVmprofTree } from './vmprof-tree/reader';
import { readVmprofViewerSubmit } from './vmprof-viewer/reader';

/** A format `importProfile` reads (what `detectFormat` tells, but gzip, which it opens). */
export type ProfileFormat = Exclude<DetectedFormat, 'gzip' | 'unknown'>;

export interface ImportHints {
  /** Read as this format, without detecting it (a route that knows what it receives). */
  format?: ProfileFormat;
  /** Most bytes read into memory from a stream (default 500 MiB: V8 caps a JSON string near 512 MB). */
  maxBytes?: number;
  /** Most bytes a gzipped input, a Prof document or a protocol blob may inflate to (default 1 GiB). */
  maxInflatedBytes?: number;
}

export type ImportInput = Uint8Array | AsyncIterable<Uint8Array> | ReadableStream<Uint8Array>;

/** Largest text profile read (JSON must be one string; V8 caps strings near 512 MB). */
export const MAX_TEXT_PROFILE_BYTES = 500 * 1024 * 1024;

const EXPECTED_FORMATS =
  'a vmprof .prof, a V8 .cpuprofile, speedscope JSON, Austin or folded stacks, a vmprof client upload, or a Prof .msgpack.gz document (gzipped or not)';

/** `unknown-format`, naming the first bytes so a wrong upload can be recognised. */
export function unknownFormat(head: Uint8Array): ProfFormatError {
  const hex = Array.from(head.subarray(0, 8), (b) => b.toString(16).padStart(2, '0')).join('');
  return new ProfFormatError(
    'unknown-format',
    head.length === 0 ? 'the input is empty' : `not a profile this reader knows (first bytes ${hex})`,
    { offset: 0, expected: EXPECTED_FORMATS },
  );
}

/**
 * Reads `bytes` (whole, not gzipped) as `format`. The streaming Node readers share it for every
 * format they do not stream.
 */
export async function readFormat(
  format: ProfileFormat,
  bytes: Uint8Array,
  hints: Pick<ImportHints, 'maxInflatedBytes'> = {},
): Promise<ProfileDocument> {
  const maxInflatedBytes = hints.maxInflatedBytes ?? DEFAULT_MAX_INFLATED_BYTES;
  switch (format) {
    case 'vmprof':
      return readVmprof(bytes);
    case 'v8-cpuprofile':
      return readV8CpuProfile(bytes);
    case 'speedscope':
      return readSpeedscope(bytes);
    case 'austin':
      return readAustin(bytes);
    case 'folded':
      return readFolded(bytes);
    case 'prof-document':
      return decodeDocument(bytes);
    case 'vmprof-viewer':
      return readVmprofViewerSubmit(bytes, { maxInflatedBytes });
    case 'vmprof-tree':
      return readVmprofTree(bytes);
  }
}

async function collect(input: ImportInput, max: number): Promise<Uint8Array> {
  if (input instanceof Uint8Array) return input;
  const chunks: Uint8Array[] = [];
  let size = 0;
  const iterable: AsyncIterable<Uint8Array> =
    Symbol.asyncIterator in input ? input : readableChunks(input as ReadableStream<Uint8Array>);
  for await (const chunk of iterable) {
    size += chunk.length;
    if (size > max) throw new ProfFormatError('too-large', `the input is larger than ${max} bytes`);
    chunks.push(chunk);
  }
  return concatBytes(chunks, size);
}

async function* readableChunks(stream: ReadableStream<Uint8Array>): AsyncGenerator<Uint8Array> {
  const reader = stream.getReader();
  try {
    for (let r = await reader.read(); !r.done; r = await reader.read()) yield r.value;
  } finally {
    reader.releaseLock();
  }
}

/**
 * Any supported profile, told by its content (never by a name): vmprof, V8 `.cpuprofile`,
 * speedscope, Austin, folded stacks, the vmprof clients' upload bodies, a Prof document; gzipped or
 * not. Returns a checked document or throws `ProfFormatError` (`unknown-format`, `too-large`, the
 * reader's own codes). Browser-safe; in Node, `readProfileFile` streams vmprof files instead of
 * holding them.
 */
export async function importProfile(input: ImportInput, hints: ImportHints = {}): Promise<ProfileDocument> {
  let bytes = await collect(input, hints.maxBytes ?? MAX_TEXT_PROFILE_BYTES);
  let gzipped = false;
  if (detectFormat(bytes.subarray(0, 2)) === 'gzip') {
    bytes = await inflateGzip(bytes, hints.maxInflatedBytes ?? DEFAULT_MAX_INFLATED_BYTES, 'the gzipped input');
    gzipped = true;
  }
  const head = bytes.subarray(0, DETECT_HEAD_BYTES);
  const detected = hints.format ?? detectFormat(head);
  if (detected === 'gzip' || detected === 'unknown') throw unknownFormat(head);
  const doc = await readFormat(detected, bytes, hints);
  if (gzipped && doc.meta.vmprof && detected === 'vmprof') doc.meta.vmprof.gzipped = true;
  return doc;
}
