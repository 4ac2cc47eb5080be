import { readFile, writeFile, access } from 'node:fs/promises';
import { join } from 'node:path';
import type { FastifyBaseLogger } from 'fastify';
import type { ProfileStore } from '@prof/store';
import { ingestFile, type IngestLimits } from './ingest';

/** One entry of `demo/demos.json`: a real profile shipped in the repository and how to index it. */
interface DemoEntry {
  file: string;
  project: string;
  name?: string;
  tags?: Record<string, string>;
}

/**
 * On the first start of an empty store, converts the real profiles listed in `demo/demos.json`,
 * under the projects, names and tags given there. A marker file keeps them from coming back after
 * the user deleted them.
 */
export async function loadDemosOnFirstStart(
  store: ProfileStore,
  dataDir: string,
  demoDir: string,
  limits: IngestLimits,
  log: FastifyBaseLogger,
): Promise<number> {
  const marker = join(dataDir, '.demos-loaded');
  if (
    await access(marker).then(
      () => true,
      () => false,
    )
  )
    return 0;
  if ((await store.stats()).count > 0) return 0;
  let entries: DemoEntry[];
  try {
    entries = JSON.parse(await readFile(join(demoDir, 'demos.json'), 'utf8')) as DemoEntry[];
  } catch (error) {
    log.warn({ demoDir, err: error }, 'no demo profiles: demos.json is missing or not JSON');
    return 0;
  }
  let loaded = 0;
  for (const entry of entries) {
    try {
      // Only plain file names: the list must not reach outside the demo directory.
      if (!/^[\w.-]+$/.test(entry.file)) throw new Error(`bad demo file name ${JSON.stringify(entry.file)}`);
      const ingested = await ingestFile(
        join(demoDir, entry.file),
        { project: entry.project, name: entry.name, tags: entry.tags },
        limits,
      );
      await store.put(ingested.bytes, ingested.fields);
      loaded++;
    } catch (error) {
      log.warn({ file: entry.file, err: error }, 'demo profile could not be loaded');
    }
  }
  await writeFile(marker, `${new Date().toISOString()}\n`);
  return loaded;
}
