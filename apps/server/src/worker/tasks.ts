// The tasks of the server's worker pool (`work-pool.ts`), one named export each; run from the built
// dist/worker/tasks.js. Each returns plain data or a `TaskFailure`: an error crossing the thread
// boundary keeps only its message, and the routes need its status and code.
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { setPriority } from 'node:os';
import { join } from 'node:path';
import type { ErrorCode } from '@prof/api';
import {
  assertIntegrity,
  gzipDocument,
  isProfFormatError,
  nameVmprofRun,
  readVmprofViewerSubmit,
  vmprofTreeToDocument,
  readDocumentColumns,
  ScratchFile,
  type FormatErrorCode,
  type ProfileDocument,
} from '@prof/format/node';
import { fieldsFromDocument, type ProfileFields } from '@prof/store';
import {
  applyOverrides,
  assertHeldWithin,
  ingestBytes,
  ingestFile,
  type Ingested,
  type IngestLimits,
  type Overrides,
} from '../ingest';
import { HttpError } from '../http-error';
import { multipartBoundary, multipartPart } from '../multipart';
import { assertTextLimits } from '../text-limits';
import { parseJsonBody } from '../body';
import { summarizeSamples, writeSummaryFile, type BuiltSummary } from '../summarize';

/**
 * Nice of the pool's threads (Linux sets it per thread): conversions use every core, and at equal
 * priority the event loop waited its turn behind them, so a flood of uploads held `/health` 100-250 ms
 * on a busy machine. Niced, the workers yield the CPU whenever the loop has a request to answer.
 * `PROF_WORKER_NICE` (0-19) sets another: the test command runs them at 0, since beside two busy loops
 * at nice 0 a niced pool got a tenth of a core and its tests waited 20 times longer.
 */
export const WORKER_NICE = workerNice(process.env.PROF_WORKER_NICE);

function workerNice(value: string | undefined): number {
  const n = Number(value);
  return value !== undefined && value !== '' && Number.isInteger(n) && n >= 0 && n <= 19 ? n : 10;
}
try {
  setPriority(WORKER_NICE);
} catch {
  // a platform without per-thread priorities: the pool runs at the process's
}

/**
 * A multipart form is read whole to find its file part: at most the 2 GiB uploads had before they
 * were streamed (a raw body, `curl --data-binary @run.prof`, has no such bound).
 */
const MULTIPART_MAX_BYTES = 2 * 1024 ** 3;

export interface TaskFailure {
  failed: true;
  error:
    | { kind: 'http'; code: ErrorCode; message: string }
    | { kind: 'format'; code: FormatErrorCode; message: string }
    | { kind: 'other'; code?: string; message: string };
}

/** A checked document ready to store: its `.msgpack.gz` bytes and its index row. */
export interface Converted {
  bytes: Uint8Array;
  fields: ProfileFields;
  /** Its summaries container, built during a streamed conversion (see `ingestUpload`'s `summaryDir`). */
  summary?: BuiltSummary;
}

async function guarded<T>(work: () => Promise<T>): Promise<T | TaskFailure> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof HttpError)
      return { failed: true, error: { kind: 'http', code: error.code, message: error.message } };
    if (isProfFormatError(error))
      return { failed: true, error: { kind: 'format', code: error.code, message: error.message } };
    const code = (error as { code?: unknown }).code;
    return {
      failed: true,
      error: {
        kind: 'other',
        message: String((error as Error)?.message ?? error),
        ...(typeof code === 'string' ? { code } : {}),
      },
    };
  }
}

async function checked(doc: ProfileDocument, overrides: Overrides): Promise<Converted> {
  applyOverrides(doc, overrides);
  assertIntegrity(doc); // the uploader's numbers: checked like a document
  assertTextLimits(doc);
  return { bytes: await gzipDocument(doc), fields: fieldsFromDocument(doc) };
}

/**
 * An upload of any supported format, in memory (`bytes`) or spooled (`path`, read as a stream when
 * large), a multipart form's `file` part when `contentType` says so: inflated within the bound,
 * decoded or converted, checked.
 */
export function ingestUpload(input: {
  bytes?: Uint8Array;
  path?: string;
  contentType?: string | null;
  overrides: Overrides;
  limits: IngestLimits;
  /** Where a vmprof file converted as a stream gets its summaries container built (the caller stores it). */
  summaryDir?: string;
}): Promise<Converted | TaskFailure> {
  return guarded(async () => {
    const { overrides, limits } = input;
    const boundary = multipartBoundary(input.contentType ?? undefined);
    let ingested: Ingested;
    if (input.path !== undefined) {
      if (boundary)
        await assertHeldWithin(
          input.path,
          MULTIPART_MAX_BYTES,
          'a multipart upload',
          'POST the file as the raw body instead: curl --data-binary @FILE',
        );
      ingested = boundary
        ? await ingestBytes(multipartPart(await readFile(input.path), boundary, 'file'), overrides, limits)
        : await ingestFile(input.path, overrides, limits, input.summaryDir);
    } else {
      const bytes = Buffer.from(input.bytes!.buffer, input.bytes!.byteOffset, input.bytes!.byteLength);
      ingested = await ingestBytes(boundary ? multipartPart(bytes, boundary, 'file') : bytes, overrides, limits);
    }
    return { bytes: ingested.bytes, fields: ingested.fields, summary: ingested.summary };
  });
}

/** A vmprof-viewer client's `/submit/` body (one msgpack map), spooled at `path`. */
export function convertSubmit(input: {
  path: string;
  overrides: Overrides;
  limits: IngestLimits;
}): Promise<Converted | TaskFailure> {
  return guarded(async () => {
    const doc = await readVmprofViewerSubmit(await readFile(input.path), {
      maxInflatedBytes: input.limits.maxInflatedBytes,
    });
    return checked(doc, input.overrides);
  });
}

/** A vmprof 0.1-0.3 call-tree upload (JSON): work bounded by what the body holds (`vmprofTreeToDocument`). */
export function convertLegacyTree(input: { body: Uint8Array; overrides: Overrides }): Promise<Converted | TaskFailure> {
  return guarded(async () => {
    const body = Buffer.from(input.body.buffer, input.body.byteOffset, input.body.byteLength);
    const doc = vmprofTreeToDocument(parseJsonBody(body), body.length);
    applyOverrides(doc, input.overrides);
    nameVmprofRun(doc);
    return checked(doc, {});
  });
}

/**
 * Builds a stored document's summaries container in bounded memory: the document is read column by
 * column (`readDocumentColumns`, sample columns in scratch files), the builder spills its full
 * chunks to a scratch file, and the container is written to `scratchDir`. Decoding the whole
 * document took a 24-hour profile's server to 1.3 GB of RSS.
 */
export function buildSummary(input: {
  bytes: Uint8Array;
  maxInflatedBytes: number;
  scratchDir: string;
}): Promise<BuiltSummary | TaskFailure> {
  return guarded(async () => {
    const { scratchDir } = input;
    const columns = await readDocumentColumns(input.bytes, {
      maxInflatedBytes: input.maxInflatedBytes,
      tmpDir: scratchDir,
    });
    const spill = new ScratchFile(join(scratchDir, `spill-${randomUUID()}`));
    try {
      return await writeSummaryFile(summarizeSamples(columns.document, columns.chunks(), { spill }), scratchDir);
    } finally {
      spill.close();
      await columns.close();
    }
  });
}

export interface Tasks {
  buildSummary: typeof buildSummary;
  ingestUpload: typeof ingestUpload;
  convertSubmit: typeof convertSubmit;
  convertLegacyTree: typeof convertLegacyTree;
}
