import { readdir, writeFile, access } from 'node:fs/promises';
import { join } from 'node:path';
import type { FastifyBaseLogger } from 'fastify';
import type { ProfileStore } from '@prof/store';
import { ingestFile, type IngestLimits } from './ingest';

const DEMO_FILE = /\.(prof|cpuprofile)$/;

/**
 * On the first start of an empty store, converts the real profiles shipped in `demo/` (project
 * `demo`). A marker file keeps them from coming back after the user deleted them.
 */
export async function loadDemosOnFirstStart(store: ProfileStore, dataDir: string, demoDir: string, limits: IngestLimits, log: FastifyBaseLogger): Promise<number> {
  const marker = join(dataDir, '.demos-loaded');
  if (await access(marker).then(() => true, () => false)) return 0;
  if ((await store.stats()).count > 0) return 0;
  let names: string[];
  try {
    names = (await readdir(demoDir)).filter((n) => DEMO_FILE.test(n)).sort();
  } catch {
    return 0;
  }
  let loaded = 0;
  for (const name of names) {
    try {
      const ingested = await ingestFile(join(demoDir, name), { project: 'demo', tags: { demo: name } }, limits);
      await store.put(ingested.bytes, ingested.fields);
      loaded++;
    } catch (error) {
      log.warn({ name, err: error }, 'demo profile could not be loaded');
    }
  }
  await writeFile(marker, `${new Date().toISOString()}\n`);
  return loaded;
}
