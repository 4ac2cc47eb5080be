import { open, readFile, rm, stat, unlink } from 'node:fs/promises';
import { randomUUID } from 'node:crypto';
import { dirname, join } from 'node:path';
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import {
  assertIntegrity,
  convertProfileFile,
  decodeDocument,
  detectFormat,
  gunzipDocument,
  gzipDocument,
  nameVmprofRun,
  readProfileBytes,
  sniffProfile,
  readProfileFile,
  ScratchFile,
  type ProfileDocument,
} from '@prof/format/node';
import { fieldsFromDocument, type ProfileFields } from '@prof/store';
import { HttpError } from './http-error';
import { assertTextLimits } from './text-limits';
import { SummaryBuild, writeSummaryFile, type BuiltSummary } from './summarize';

/** What the uploader asked to set on top of what the document says (query parameters, protocol fields). */
export interface Overrides {
  project?: string;
  name?: string;
  tags?: Record<string, string>;
  interpreter?: string;
  argv?: string[];
  /** Project when neither the uploader nor the document names one (the server's `--default-project`). */
  defaultProject?: string;
}

export interface Ingested {
  /** The `.msgpack.gz` bytes to store: as received for our own documents, else freshly encoded. */
  bytes: Buffer;
  fields: ProfileFields;
  /** Its summaries container, when it was built during the conversion (in the `summaryDir` asked for). */
  summary?: BuiltSummary;
}

export interface IngestLimits {
  /** Largest inflated size of an uploaded `.msgpack.gz` document (gzip-bomb guard). */
  maxInflatedBytes: number;
  /**
   * Largest size a gzipped vmprof profile may inflate to (the raw upload limit: it is converted as a
   * stream, never held); past `maxInflatedBytes`, a body that inflates more than `BOMB_RATIO` times
   * is refused as a bomb. Default `maxInflatedBytes`.
   */
  maxRawBytes?: number;
}

/**
 * Past `maxInflatedBytes`, a gzipped vmprof body inflating more than this many bytes per byte read is
 * a bomb: real profiles compress 42-242 times (the vmprof fixtures), a stream of zeros 1,032 times.
 */
export const BOMB_RATIO = 500;

/** vmprof uploads from this size on (or gzipped) are converted as a stream, in bounded memory. */
export const STREAM_CONVERT_BYTES = 32 * 1024 * 1024;

const HEAD_BYTES = 64 * 1024;

type Kind = 'prof-document-gz' | 'prof-document' | 'profile';

/** Our own (gzipped) documents, kept as they are, or a profile to convert: told by content (`sniffProfile`). */
function classify(head: Uint8Array): Kind {
  const { gzipped, format } = sniffProfile(head);
  if (format !== 'prof-document') return 'profile';
  return gzipped ? 'prof-document-gz' : 'prof-document';
}

export function applyOverrides(doc: ProfileDocument, overrides: Overrides): void {
  if (overrides.project !== undefined) doc.meta.project = overrides.project;
  if (overrides.name !== undefined) doc.meta.name = overrides.name;
  if (overrides.tags) doc.meta.tags = { ...doc.meta.tags, ...overrides.tags };
  if (overrides.interpreter !== undefined && !doc.meta.interpreter) doc.meta.interpreter = overrides.interpreter;
  if (overrides.argv !== undefined && !doc.meta.argv) doc.meta.argv = overrides.argv;
  if (doc.meta.project === null && overrides.defaultProject) doc.meta.project = overrides.defaultProject;
}

const overriddenMeta = (doc: ProfileDocument) => {
  const { project, name, tags, interpreter, argv } = doc.meta;
  return JSON.stringify([project, name, tags, interpreter, argv]);
};

async function fromConverted(doc: ProfileDocument, overrides: Overrides): Promise<Ingested> {
  applyOverrides(doc, overrides);
  nameVmprofRun(doc);
  assertIntegrity(doc); // what a converter built is checked like an upload: nothing stored may fail a view
  assertTextLimits(doc);
  return { bytes: await gzipDocument(doc), fields: fieldsFromDocument(doc) };
}

/**
 * A vmprof file converted as a stream (`convertProfileFile`): its samples go through column files
 * beside it, so memory stays bounded whatever the run's length (a ×64 big_memory: 4 GB). With
 * `summaryDir`, the profile's summaries container is built from the same columns as they go by and
 * written there: no second pass inflating the stored document (a 5.6 MB ×64 document is 0.5 GB of msgpack).
 */
async function convertStreamed(path: string, overrides: Overrides, summaryDir?: string): Promise<Ingested> {
  const out = `${path}.converted`;
  let build: SummaryBuild | null = null;
  let spill: ScratchFile | null = null;
  try {
    const result = await convertProfileFile(path, out, {
      tmpDir: dirname(path),
      onSamples(doc) {
        if (summaryDir === undefined) return undefined;
        spill = new ScratchFile(join(summaryDir, `spill-${randomUUID()}`));
        const started = new SummaryBuild(doc, { spill });
        build = started;
        return (chunk) => started.push(chunk);
      },
      prepare(doc, samples) {
        applyOverrides(doc, overrides);
        nameVmprofRun(doc, samples.groups);
        assertIntegrity(doc, { streamedSamples: true }); // the samples were checked as they streamed
        assertTextLimits(doc);
      },
    });
    const summary = build
      ? await writeSummaryFile((build as SummaryBuild).finish(result.document), summaryDir!)
      : undefined;
    try {
      return { bytes: await readFile(out), fields: fieldsFromDocument(result.document, result.samples), summary };
    } catch (error) {
      if (summary) await rm(summary.path, { force: true });
      throw error;
    }
  } finally {
    (spill as ScratchFile | null)?.close();
    await unlink(out).catch(() => {});
  }
}

const MiB = 1024 * 1024;
const sizeText = (bytes: number) => (bytes % MiB === 0 ? `${bytes / MiB} MiB` : `${bytes} bytes`);

/**
 * Gzip-bomb guard for every gzipped upload: counts the inflated bytes (keeping none) and refuses
 * the upload once they pass the limit, so a bomb costs at most `maxInflatedBytes` of zlib work, no
 * memory. A vmprof profile (converted as a stream, never held) may inflate up to `maxRawBytes`, as
 * long as it inflates less than `BOMB_RATIO` times what was read.
 */
export async function assertInflatesWithin(source: Readable, limits: IngestLimits): Promise<void> {
  let inflated = 0;
  let read = 0;
  let max = limits.maxInflatedBytes;
  let ratio = Number.POSITIVE_INFINITY;
  // Large output chunks: fewer turns of the loop for the same inflation (4 MiB of zeros per 16 KiB in).
  const gunzip = createGunzip({ chunkSize: 256 * 1024 });
  source.on('error', (error) => gunzip.destroy(error));
  source.on('data', (chunk: Buffer) => {
    read += chunk.length;
  });
  try {
    for await (const chunk of source.pipe(gunzip)) {
      if (inflated === 0 && detectFormat(chunk as Buffer) === 'vmprof' && (limits.maxRawBytes ?? 0) > max) {
        max = limits.maxRawBytes!;
        ratio = BOMB_RATIO;
      }
      inflated += (chunk as Buffer).length;
      if (inflated > max)
        throw new HttpError(
          413,
          'too-large',
          max === limits.maxInflatedBytes
            ? `the gzipped upload inflates to more than ${sizeText(max)}, the server's limit (prof-server --max-inflated)`
            : `the gzipped profile inflates to more than ${sizeText(max)}, the server's upload limit (prof-server --max-upload)`,
        );
      if (inflated > limits.maxInflatedBytes && inflated > ratio * read)
        throw new HttpError(
          413,
          'too-large',
          `the gzipped upload inflates more than ${BOMB_RATIO} times past ${sizeText(limits.maxInflatedBytes)} (a gzip bomb?); no profile compresses so well`,
        );
    }
  } catch (error) {
    if (error instanceof HttpError) throw error;
    if (inflated === 0)
      throw new HttpError(400, 'bad-gzip', `upload starts like gzip but does not inflate: ${(error as Error).message}`);
    // A gzip stream cut short after some output is the reader's to report (it keeps what inflated).
  } finally {
    source.destroy();
    gunzip.destroy();
  }
}

export const isGzip = (head: Uint8Array) => head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b;

/** Validates or converts an upload held in memory. */
export async function ingestBytes(bytes: Buffer, overrides: Overrides, limits: IngestLimits): Promise<Ingested> {
  const kind = classify(bytes.subarray(0, HEAD_BYTES));
  // Counted before anything is inflated into memory, so a bomb costs a pass of zlib, not gigabytes.
  if (isGzip(bytes)) await assertInflatesWithin(Readable.from([bytes]), limits);
  if (kind === 'prof-document-gz') {
    const doc = await gunzipDocument(bytes, { maxInflatedBytes: limits.maxInflatedBytes });
    const before = overriddenMeta(doc);
    applyOverrides(doc, overrides);
    assertTextLimits(doc);
    // Kept byte for byte unless the uploader changed what it says: the index is rebuilt from the
    // stored documents, so what the uploader set must be in the document, not only in its row.
    if (overriddenMeta(doc) === before) return { bytes, fields: fieldsFromDocument(doc) };
    return { bytes: await gzipDocument(doc), fields: fieldsFromDocument(doc) };
  }
  if (kind === 'prof-document') {
    const doc = decodeDocument(bytes);
    assertIntegrity(doc);
    return fromConverted(doc, overrides);
  }
  return fromConverted(await readProfileBytes(bytes, { maxInflatedBytes: limits.maxInflatedBytes }), overrides);
}

/** Validates or converts an upload spooled to a file (large vmprof files are read as a stream). */
export async function ingestFile(
  path: string,
  overrides: Overrides,
  limits: IngestLimits,
  summaryDir?: string,
): Promise<Ingested> {
  const handle = await open(path, 'r');
  const head = Buffer.alloc(HEAD_BYTES);
  let headLength: number;
  try {
    headLength = (await handle.read(head, 0, HEAD_BYTES, 0)).bytesRead;
  } finally {
    await handle.close();
  }
  const { gzipped, format } = sniffProfile(head.subarray(0, headLength));
  if (format !== 'prof-document') {
    if (gzipped) await assertInflatesWithin(createReadStream(path), limits);
    if (format === 'vmprof' && (gzipped || (await stat(path)).size >= STREAM_CONVERT_BYTES))
      return convertStreamed(path, overrides, summaryDir);
    return fromConverted(await readProfileFile(path, { maxInflatedBytes: limits.maxInflatedBytes }), overrides);
  }
  // A document is read into memory: one larger than it may inflate to is refused before that.
  await assertHeldWithin(path, limits.maxInflatedBytes, 'a Prof document', 'prof-server --max-inflated');
  return ingestBytes(await readFile(path), overrides, limits);
}

/** Refuses (413) a spooled body of more than `max` bytes that would be read into memory whole. */
export async function assertHeldWithin(path: string, max: number, what: string, hint: string): Promise<void> {
  const size = (await stat(path)).size;
  if (size > max)
    throw new HttpError(
      413,
      'too-large',
      `${what} of ${size} bytes is read into memory, and the limit is ${sizeText(max)} (${hint})`,
    );
}
