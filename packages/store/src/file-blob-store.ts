import { mkdir, open, readdir, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { BlobStore, SummaryParts, SummaryReader } from './types';
import { assertProfileId, isProfileId } from './ids';
import { TEMP_PREFIX, fsyncDirectory, writeFileAtomic } from './atomic-file';
import { readRanges, releaseRanges, startRangeReader } from './range-reader';

const SUFFIX = '.msgpack.gz';
const SUMMARY_SUFFIX = '.summary';

/**
 * One `<id>.msgpack.gz` per profile in one directory, written atomically. Unreadable files are moved
 * to `quarantineDir` (default `quarantine/` beside the directory) with a `<id>.reason.txt`.
 */
export class FileBlobStore implements BlobStore {
  private constructor(
    readonly dir: string,
    readonly quarantineDir: string,
  ) {}

  static async open(dir: string, options: { quarantineDir?: string } = {}): Promise<FileBlobStore> {
    await mkdir(dir, { recursive: true });
    // Its summaries are read through the range reader: a thread takes 30-60 ms to start, which the
    // first view after a restart would otherwise wait for (first /memory of big_memory: 81-106 ms,
    // 96-147 ms with the thread started at the first summary opened).
    startRangeReader();
    return new FileBlobStore(dir, options.quarantineDir ?? join(dirname(dir), 'quarantine'));
  }

  pathOf(id: string): string {
    assertProfileId(id);
    return join(this.dir, id + SUFFIX);
  }

  async put(id: string, bytes: Uint8Array, options: { modifiedAt?: number } = {}): Promise<void> {
    await writeFileAtomic(this.pathOf(id), bytes, options);
  }

  async stat(id: string): Promise<{ sizeBytes: number; modifiedAt: number } | null> {
    if (!isProfileId(id)) return null;
    const info = await stat(this.pathOf(id)).catch(() => null);
    // utimes keeps nanoseconds from a double: round back to the whole millisecond that was set
    return info ? { sizeBytes: info.size, modifiedAt: Math.round(info.mtimeMs) } : null;
  }

  async quarantine(id: string, reason: string): Promise<void> {
    await mkdir(this.quarantineDir, { recursive: true });
    // A second file quarantined under one id (restored, then damaged again) must not replace the first.
    const taken = new Set(await readdir(this.quarantineDir));
    let name = id;
    for (let n = 2; taken.has(name + SUFFIX); n++) name = `${id}.${n}`;
    await rename(this.pathOf(id), join(this.quarantineDir, name + SUFFIX));
    // A summary is derived from the document: with the document unreadable it describes nothing.
    await this.deleteSummary(id);
    await writeFile(join(this.quarantineDir, `${name}.reason.txt`), `${new Date().toISOString()} ${reason}\n`);
    await fsyncDirectory(this.quarantineDir);
    await fsyncDirectory(this.dir);
  }

  async quarantined(): Promise<number> {
    const names = await readdir(this.quarantineDir).catch(() => [] as string[]);
    return names.filter((name) => name.endsWith(SUFFIX)).length;
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
    await unlinkIfPresent(this.pathOf(id));
  }

  summaryPathOf(id: string): string {
    assertProfileId(id);
    return join(this.dir, id + SUMMARY_SUFFIX);
  }

  async putSummary(id: string, parts: SummaryParts): Promise<void> {
    const file = Array.isArray(parts) ? undefined : (parts as { path?: string }).path;
    if (file !== undefined) {
      try {
        await rename(file, this.summaryPathOf(id));
        await fsyncDirectory(this.dir);
        return;
      } catch (error) {
        // On another file system (EXDEV): copied from its stream below, as any other.
        if ((error as NodeJS.ErrnoException).code !== 'EXDEV') throw error;
      }
    }
    await writeFileAtomic(
      this.summaryPathOf(id),
      Array.isArray(parts) ? parts : (parts as { open(): AsyncIterable<Uint8Array> }).open(),
    );
  }

  async openSummary(id: string): Promise<SummaryReader | null> {
    if (!isProfileId(id)) return null;
    const handle = await open(this.summaryPathOf(id), 'r').catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return null;
      throw error;
    });
    if (!handle) return null;
    const { size } = await handle.stat();
    const readInto = async (into: Uint8Array, offset: number, length: number): Promise<Uint8Array> => {
      const out = into.subarray(0, length);
      let done = 0;
      while (done < length) {
        const { bytesRead } = await handle.read(out, done, length - done, offset + done);
        if (bytesRead === 0) throw new RangeError(`summary ${id}: read past its end (${offset + length} > ${size})`);
        done += bytesRead;
      }
      return out;
    };
    // Batches out on the range reader's threads: the descriptor is closed only after they are back.
    const inFlight = new Set<Promise<Uint8Array>>();
    const readMany = async (ranges: readonly number[]): Promise<Uint8Array> => {
      for (let i = 0; i < ranges.length; i += 2) {
        const [offset, length] = [ranges[i], ranges[i + 1]];
        if (!(Number.isSafeInteger(offset) && Number.isSafeInteger(length) && offset >= 0 && length >= 0))
          throw new RangeError(`summary ${id}: bad range ${offset}+${length}`);
        if (offset + length > size)
          throw new RangeError(`summary ${id}: read past its end (${offset + length} > ${size})`);
      }
      const batch = readRanges(handle.fd, ranges);
      inFlight.add(batch);
      try {
        return await batch;
      } finally {
        inFlight.delete(batch);
      }
    };
    return {
      size,
      read: (offset: number, length: number) => readInto(new Uint8Array(length), offset, length),
      readInto,
      readMany,
      release: releaseRanges,
      close: async () => {
        await Promise.allSettled(inFlight);
        await handle.close();
      },
    };
  }

  async deleteSummary(id: string): Promise<void> {
    await unlinkIfPresent(this.summaryPathOf(id));
  }

  async listSummaries(): Promise<string[]> {
    const names = await readdir(this.dir);
    return names
      .filter((name) => name.endsWith(SUMMARY_SUFFIX))
      .map((name) => name.slice(0, -SUMMARY_SUFFIX.length))
      .filter((id) => isProfileId(id));
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

async function unlinkIfPresent(path: string): Promise<void> {
  try {
    await unlink(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}
