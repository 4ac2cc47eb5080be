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
  const list = await json(await fetch(`${r.url}/api/profiles?project=demo`));
  expect(list.total).toBe(3);
  const byFile = Object.fromEntries(list.items.map((row: any) => [row.tags.demo, row]));
  expect(byFile['memory_spiky.prof']).toMatchObject({ hasMemory: true, interpreter: 'cpython', sampleCount: 28034 });
  expect(byFile['cpu_basic.prof']).toMatchObject({ hasMemory: false, sampleCount: 1508 });
  expect(byFile['node-json-pipeline.cpuprofile'].interpreter).toBe('node');
  // deleting them all and restarting does not bring them back
  for (const row of list.items) await fetch(`${r.url}/api/profiles/${row.id}`, { method: 'DELETE' });
  const { createServer } = await import('../src/index');
  const again = await createServer({ dataDir: r.server.dataDir, demoDir: DEFAULT_DEMO_DIR, webRoot: null });
  expect((await again.store.stats()).count).toBe(0);
  await again.close();
});
