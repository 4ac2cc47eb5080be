import { afterAll, beforeAll, expect, it } from 'vitest';
import { json, startServer, type Running } from './helpers';
import { DEFAULT_DEMO_DIR } from '../src/index';

let r: Running;
beforeAll(async () => {
  r = await startServer({ demoDir: DEFAULT_DEMO_DIR });
});
afterAll(async () => {
  await r?.stop();
});

it('loads the shipped demo profiles on the first start of an empty store, once', async () => {
  const list = await json(await fetch(`${r.url}/api/profiles?tag=demo=yes`));
  expect(list.total).toBe(4);
  const byProject = Object.fromEntries(list.items.map((row: any) => [row.project, row]));
  expect(byProject['nightly-etl']).toMatchObject({
    name: 'main',
    hasMemory: true,
    interpreter: 'cpython',
    sampleCount: 28034,
    tags: { env: 'staging' },
  });
  // a `python -m vmprof` run without a name in demos.json is named after its script
  expect(byProject['search-indexer']).toMatchObject({ name: 'cpu_basic.py', hasMemory: false, sampleCount: 1508 });
  expect(byProject['json-pipeline']).toMatchObject({ name: 'pipeline', interpreter: 'node' });
  expect(byProject['ingest-worker']).toMatchObject({
    name: 'ingest_batches',
    hasMemory: true,
    interpreter: 'node v20.20.2',
  });
  // the landing page shows each project with its top-level function
  const projects = await json(await fetch(`${r.url}/api/projects`));
  expect(projects.projects.map((p: any) => [p.project, p.names.map((n: any) => n.name)]).sort()).toEqual([
    ['ingest-worker', ['ingest_batches']],
    ['json-pipeline', ['pipeline']],
    ['nightly-etl', ['main']],
    ['search-indexer', ['cpu_basic.py']],
  ]);
  // the memory demo shows its spikes: the peak bin is far above the median one
  const mem = await json(await fetch(`${r.url}/api/profiles/${byProject['nightly-etl'].id}/memory?bins=200`));
  const maxes = mem.bins
    .filter((b: any) => b.count)
    .map((b: any) => b.max)
    .sort((a: number, b: number) => a - b);
  expect(maxes.at(-1)).toBeGreaterThan(2 * maxes[maxes.length >> 1]);
  // deleting them all and restarting does not bring them back
  for (const row of list.items) await fetch(`${r.url}/api/profiles/${row.id}`, { method: 'DELETE' });
  const { createServer } = await import('../src/index');
  const again = await createServer({
    dataDir: r.server.dataDir,
    demoDir: DEFAULT_DEMO_DIR,
    webRoot: null,
    ...r.storeOptions, // the same store (PROF_TEST_STORE=shared: its schema and prefix)
  });
  expect((await again.store.stats()).count).toBe(0);
  await again.close();
});
