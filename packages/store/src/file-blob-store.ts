import { mkdir, readdir, readFile, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { BlobStore } from './types';
import { assertProfileId, isProfileId } from './ids';
import { TEMP_PREFIX, fsyncDirectory, writeFileAtomic } from './atomic-file';

const SUFFIX = '.msgpack.gz';

/** One `<id>.msgpack.gz` per profile in one directory, written atomically. */
export class FileBlobStore implements BlobStore {
  private constructor(readonly dir: string) {}

  static async open(dir: string): Promise<FileBlobStore> {
    await mkdir(dir, { recursive: true });
    return new FileBlobStore(dir);
  }

  pathOf(id: string): string {
    assertProfileId(id);
    return join(this.dir, id + SUFFIX);
  }

  async put(id: string, bytes: Uint8Array): Promise<void> {
    await writeFileAtomic(this.pathOf(id), bytes);
  }

  async get(id: string): Promise<Buffer | null> {
    if (!isProfileId(id)) return null;
    try {
      return await readFile(this.pathOf(id));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw error;
    }
  }

  async delete(id: string): Promise<void> {
    try {
      await unlink(this.pathOf(id));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }

  async list(options: { modifiedBefore?: number } = {}): Promise<string[]> {
    const ids: string[] = [];
    for (const name of await readdir(this.dir)) {
      if (!name.endsWith(SUFFIX)) continue;
      const id = name.slice(0, -SUFFIX.length);
      if (isProfileId(id) && (await this.writtenBefore(name, options.modifiedBefore))) ids.push(id);
    }
    return ids;
  }

  async removeIncomplete(options: { modifiedBefore?: number } = {}): Promise<number> {
    let removed = 0;
    for (const name of await readdir(this.dir)) {
      if (!name.startsWith(TEMP_PREFIX) || !(await this.writtenBefore(name, options.modifiedBefore))) continue;
      await unlink(join(this.dir, name)).catch(() => {});
      removed++;
    }
    if (removed > 0) await fsyncDirectory(this.dir);
    return removed;
  }

  /** True without a bound (no stat needed), or when the file was last written before it. */
  private async writtenBefore(name: string, bound: number | undefined): Promise<boolean> {
    if (bound === undefined) return true;
    const info = await stat(join(this.dir, name)).catch(() => null);
    return info !== null && info.mtimeMs < bound;
  }
}
