import { open, unlink } from 'node:fs/promises';

/**
 * A few MiB held in a file beside the index, given back when the disk is full: SQLite needs room in
 * its WAL even to delete a row, so without it a full disk could not be emptied through the API.
 */
export class SpaceReserve {
  constructor(
    readonly path: string,
    readonly bytes = 4 * 1024 * 1024,
  ) {}

  /** Creates the reserve when missing (best effort: on a full disk it waits for the next call). */
  async restore(): Promise<void> {
    let handle: Awaited<ReturnType<typeof open>> | null = null;
    try {
      handle = await open(this.path, 'wx');
      // Real blocks, not a sparse file: only written bytes are space that can be given back.
      const chunk = Buffer.alloc(64 * 1024);
      for (let written = 0; written < this.bytes; written += chunk.length) await handle.write(chunk);
      await handle.sync();
      await handle.close();
    } catch (error) {
      await handle?.close().catch(() => {});
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') await unlink(this.path).catch(() => {});
    }
  }

  /** Gives the space back; false when there was none to give. */
  async release(): Promise<boolean> {
    try {
      await unlink(this.path);
      return true;
    } catch {
      return false;
    }
  }
}
