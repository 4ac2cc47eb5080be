import { statfs } from 'node:fs/promises';

const LOW_BYTES = 64 * 1024 * 1024;

/** Free space for the data directory, and whether it is low: under 64 MiB or 5% of the disk. */
export async function freeSpace(dir: string): Promise<{ freeBytes: number | null; low: boolean }> {
  try {
    const s = await statfs(dir);
    const free = s.bavail * s.bsize;
    return { freeBytes: free, low: free < Math.min(LOW_BYTES, s.blocks * s.bsize * 0.05) };
  } catch {
    return { freeBytes: null, low: false }; // a platform without statfs: nothing to report
  }
}
