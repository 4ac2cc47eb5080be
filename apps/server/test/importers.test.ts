import { afterAll, beforeAll, expect, it } from 'vitest';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fixtures, json, startServer, type Running } from './helpers';

// py-spy, Austin and folded stacks uploaded as they come out of the tools: detected by content.
let r: Running;
beforeAll(async () => {
  r = await startServer();
});
afterAll(async () => {
  await r?.stop();
});

async function upload(path: string, query: string) {
  const response = await fetch(`${r.url}/api/profiles?${query}`, { method: 'POST', body: await readFile(path) });
  return { status: response.status, body: await json(response) };
}

it('py-spy speedscope, py-spy raw and Austin memory mode are stored and served by every view', async () => {
  const cases = [
    { file: 'pyspy/cpu_work-idle.speedscope.json', source: 'speedscope', memory: false },
    { file: 'pyspy/cpu_work-threads.raw.txt', source: 'folded', memory: false },
    { file: 'austin/alloc_work-memory.austin', source: 'austin', memory: true },
  ];
  for (const c of cases) {
    const up = await upload(join(fixtures, c.file), 'project=imports');
    expect(up.status, JSON.stringify(up.body)).toBe(201);
    const row = await json(await fetch(`${r.url}/api/profiles/${up.body.id}`));
    expect(row.project).toBe('imports');
    expect(row.hasMemory).toBe(c.memory);
    const stacks = await json(await fetch(`${r.url}/api/profiles/${up.body.id}/stacks?top=20`));
    const names = stacks.top.flatMap((t: any) => t.stack.map((f: any) => f.name));
    expect(names).toContain(c.source === 'austin' ? 'allocate' : 'leaf_square_sum');
    if (c.memory) {
      const mem = await json(await fetch(`${r.url}/api/profiles/${up.body.id}/memory?bins=10`));
      const filled = mem.bins.filter((b: any) => b.count > 0);
      expect(Math.max(...filled.map((b: any) => b.max))).toBeGreaterThan(40 * 1024 * 1024);
    }
  }
});

it('a broken Austin file is refused with 400 naming the line', async () => {
  const response = await fetch(`${r.url}/api/profiles`, {
    method: 'POST',
    body: '# austin: 3.7.0\n# mode: full\n\nP1;T0:1;a.py:f:1 10\n',
  });
  expect(response.status).toBe(400);
  const body = await json(response);
  expect(body.error.code).toBe('bad-austin');
  expect(body.error.message).toMatch(/line 4/);
});
