import { open, rename, unlink } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';

/** Prefix of every file still being written; start-up repair deletes them. */
export const TEMP_PREFIX = '.tmp-';

export function tempPathFor(finalPath: string): string {
  return join(dirname(finalPath), `${TEMP_PREFIX}${basename(finalPath)}-${randomBytes(6).toString('hex')}`);
}

/** Makes a completed rename survive power loss: the directory entry itself must reach the disk. */
export async function fsyncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Writes all bytes or nothing: temp file, fsync, rename over the final name, fsync of the directory.
 * A crash at any point leaves either the old state or the complete new file (plus, at worst, a temp
 * file that repair removes).
 */
export async function writeFileAtomic(
  finalPath: string,
  bytes: Uint8Array | readonly Uint8Array[] | AsyncIterable<Uint8Array>,
  options: { modifiedAt?: number } = {},
): Promise<void> {
  const temp = tempPathFor(finalPath);
  const handle = await open(temp, 'wx', 0o644);
  try {
    // Parts are written one after the other: a caller with a large file in pieces never joins them.
    for await (const part of bytes instanceof Uint8Array ? [bytes] : bytes) {
      let offset = 0;
      while (offset < part.byteLength) {
        const { bytesWritten } = await handle.write(part, offset, part.byteLength - offset);
        offset += bytesWritten;
      }
    }
    if (options.modifiedAt !== undefined) {
      const at = new Date(options.modifiedAt);
      await handle.utimes(at, at);
    }
    await handle.sync();
  } catch (error) {
    await handle.close().catch(() => {});
    await unlink(temp).catch(() => {});
    throw error;
  }
  await handle.close();
  try {
    await rename(temp, finalPath);
  } catch (error) {
    await unlink(temp).catch(() => {});
    throw error;
  }
  await fsyncDirectory(dirname(finalPath));
}
