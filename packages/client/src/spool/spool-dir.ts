import { randomBytes } from 'node:crypto';
import {
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';

/** What is needed to send a spooled profile later; the token is never written to disk. */
export interface SpoolMeta {
  version: 1;
  /** Server the profile was meant for. */
  server: string;
  project: string | null;
  name: string | null;
  tags: Record<string, string>;
  /** Epoch ms when it was spooled. */
  spooledAt: number;
  /** Why it was not sent. */
  reason: string;
}

export interface SpoolEntry {
  id: string;
  meta: SpoolMeta;
  /** Path of the `.msgpack.gz` document. */
  dataPath: string;
  metaPath: string;
}

const ID_PATTERN = /^\d{13}-[0-9a-f]{12}$/;

/**
 * Spools synchronously so that it also works from a process 'exit' handler. The document is written
 * first and the sidecar last, each via a temporary name and a rename, so an entry is either complete
 * or invisible.
 */
export function spoolSync(dir: string, bytes: Uint8Array, meta: Omit<SpoolMeta, 'version' | 'spooledAt'>): SpoolEntry {
  mkdirSync(dir, { recursive: true });
  const id = `${Date.now()}-${randomBytes(6).toString('hex')}`;
  const dataPath = join(dir, `${id}.msgpack.gz`);
  const metaPath = join(dir, `${id}.json`);
  const full: SpoolMeta = { version: 1, spooledAt: Date.now(), ...meta };
  writeAtomic(dataPath, bytes);
  writeAtomic(metaPath, Buffer.from(JSON.stringify(full, null, 2) + '\n'));
  return { id, meta: full, dataPath, metaPath };
}

/** Writes `path` whole or not at all: a temporary name, fsync, then a rename (also used by `prof convert`). */
export function writeAtomic(path: string, bytes: Uint8Array, mode = 0o600): void {
  const tmp = `${path}.tmp-${process.pid}`;
  try {
    const fd = openSync(tmp, 'w', mode);
    try {
      let off = 0;
      while (off < bytes.byteLength) off += writeSync(fd, bytes, off);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true }); // a full disk must not leave half a file behind
    throw e;
  }
}

/** Complete entries, oldest first; unreadable sidecars are skipped (listed in `broken`). */
export function listSpool(dir: string): { entries: SpoolEntry[]; broken: string[] } {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return { entries: [], broken: [] };
  }
  const present = new Set(names);
  const entries: SpoolEntry[] = [];
  const broken: string[] = [];
  for (const file of names.sort()) {
    if (!file.endsWith('.json')) continue;
    const id = file.slice(0, -'.json'.length);
    if (!ID_PATTERN.test(id)) continue;
    const metaPath = join(dir, file);
    const dataPath = join(dir, `${id}.msgpack.gz`);
    try {
      const meta = JSON.parse(readFileSync(metaPath, 'utf8')) as SpoolMeta;
      if (meta.version !== 1 || !present.has(`${id}.msgpack.gz`)) throw new Error('incomplete');
      entries.push({ id, meta, dataPath, metaPath });
    } catch {
      broken.push(metaPath);
    }
  }
  return { entries, broken };
}

/** Removes a sent entry: sidecar first, so a crash in between leaves an orphan, never a duplicate. */
export function removeSpoolEntry(entry: SpoolEntry): void {
  rmSync(entry.metaPath, { force: true });
  rmSync(entry.dataPath, { force: true });
}
