import type { IncomingMessage } from 'node:http';
import { open, rename, unlink, type FileHandle } from 'node:fs/promises';
import { HttpError } from './http-error';
import { fsyncDirectory, tempPathFor } from '@prof/store';
import { dirname } from 'node:path';

const interrupted = () => new HttpError(400, 'aborted', 'the upload was interrupted before the whole body arrived');

/**
 * Every chunk of a request body, refusing more than `limit` bytes; a client that goes away before
 * the whole body arrived is an `aborted` error (on some Node versions the iteration just ends early).
 */
async function* bodyChunks(raw: IncomingMessage, limit: number): AsyncGenerator<Buffer> {
  // Refused from the header, before a byte is read: a declared 3 GiB is not waited for.
  const declared = Number(raw.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit)
    throw new HttpError(413, 'too-large', `the request body of ${declared} bytes exceeds the limit of ${limit} bytes`);
  let size = 0;
  try {
    for await (const chunk of raw as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > limit) throw new HttpError(413, 'too-large', `the request body exceeds the limit of ${limit} bytes`);
      yield chunk;
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ECONNRESET' || (error as Error).message === 'aborted')
      throw interrupted();
    throw error;
  }
  if (!raw.complete) throw interrupted();
  raw.setTimeout(0); // the body is in: what follows (conversion) may take as long as it takes
}

/**
 * Drops a request whose body stops arriving for `idleMs` (a client that declares 2 GiB and sends 10
 * bytes held a socket and a temp file for good). Armed for requests with a body; the body reader
 * disarms it once the body is complete.
 */
export function armBodyTimeout(raw: IncomingMessage, idleMs: number): void {
  if (idleMs <= 0) return;
  raw.setTimeout(idleMs, () => {
    raw.destroy(new HttpError(408, 'body-timeout', `no byte of the request body arrived for ${idleMs} ms`));
  });
}

/** Reads and drops a body (uploads we accept but keep nothing of: JIT logs). */
export async function drainBody(raw: IncomingMessage, limit: number): Promise<void> {
  for await (const _chunk of bodyChunks(raw, limit));
}

/** Reads a body into memory (protocol JSON, uploads of known small size), refusing more than `limit` bytes. */
export async function readSmallBody(raw: IncomingMessage, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of bodyChunks(raw, limit)) chunks.push(chunk);
  return Buffer.concat(chunks);
}

export function parseJsonBody(bytes: Buffer): unknown {
  if (bytes.length === 0) return {}; // the vmprof client's freeze claims JSON but sends nothing
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch (error) {
    throw new HttpError(400, 'bad-json', `request body is not JSON: ${(error as Error).message}`);
  }
}

/** Body bytes held while the disk catches up; past them the socket is left unread. */
const MAX_PENDING_BYTES = 8 * 1024 * 1024;
/** Buffers per writev, under the usual IOV_MAX of 1024. */
const MAX_BATCH_CHUNKS = 512;

/** Writes every byte of `chunks` at the file's position, resuming after a short write. */
async function writeAll(handle: FileHandle, chunks: Buffer[]): Promise<void> {
  let first = 0;
  while (first < chunks.length) {
    let written = (await handle.writev(first === 0 ? chunks : chunks.slice(first))).bytesWritten;
    while (first < chunks.length && written >= chunks[first].length) written -= chunks[first++].length;
    if (written > 0) chunks[first] = chunks[first].subarray(written);
  }
}

/**
 * Streams a request body into a temp file beside `finalPath`, fsyncs it, and renames it into place
 * only once the whole body arrived. A client that disconnects, or a process killed meanwhile, leaves
 * only a temp file (removed here, or by start-up cleanup), never a file under the final name.
 */
export async function streamBodyToFile(
  raw: IncomingMessage,
  finalPath: string,
  limit: number,
  options: { durable?: boolean } = {},
): Promise<number> {
  const durable = options.durable ?? true;
  const temp = tempPathFor(finalPath);
  const handle = await open(temp, 'wx', 0o600);
  let size = 0;
  let done = false;
  let writing: Promise<void> | null = null;
  try {
    const declared = Number(raw.headers['content-length']);
    if (Number.isFinite(declared) && declared > limit) {
      throw new HttpError(413, 'too-large', `upload of ${declared} bytes exceeds the limit of ${limit} bytes`);
    }
    // Chunks that arrive while a write is in flight go out together in the next writev: one write per
    // 64 KiB socket read made 61,000 thread-pool submissions for a 4 GB upload, and the event loop
    // slept on the pool's lock behind preempted threads (stalls of 100-150 ms on a loaded machine).
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    let failure: unknown = null;
    const flush = async () => {
      while (pending.length) {
        const batch = pending;
        pending = [];
        pendingBytes = 0;
        await writeAll(handle, batch);
      }
    };
    for await (const chunk of bodyChunks(raw, limit)) {
      if (failure) throw failure;
      size += chunk.length;
      pending.push(chunk);
      pendingBytes += chunk.length;
      writing ??= flush()
        .catch((error: unknown) => {
          failure = error;
        })
        .finally(() => {
          writing = null;
        });
      // Backpressure: the socket is not read further while this much waits for the disk.
      if (pendingBytes >= MAX_PENDING_BYTES || pending.length >= MAX_BATCH_CHUNKS) await writing;
    }
    while (writing) await writing;
    if (failure) throw failure;
    if (durable) await handle.sync();
    await handle.close();
    done = true;
    await rename(temp, finalPath);
    if (durable) await fsyncDirectory(dirname(finalPath));
    return size;
  } catch (error) {
    // A write still in flight finishes (into the temp file removed below) before the handle closes.
    while (writing) await writing;
    if (!done) await handle.close().catch(() => {});
    await unlink(temp).catch(() => {});
    throw error;
  }
}
