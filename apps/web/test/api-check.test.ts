// The browser checks every JSON answer against its @prof/api schema (src/lib/api.ts `checked`): the
// real server's answers to every request the pages make fit them, and an answer of another shape is
// refused with an ApiError naming the field.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiError, checked } from '../src/lib/api';
import type { ResponseName } from '../src/lib/checks';
import { startServer, upload, type Server } from './harness.mjs';

let server: Server;
const ids = { spiky: '', cpu: '' };

beforeAll(async () => {
  server = await startServer();
  ids.spiky = await upload(server, 'memory_spiky.prof', 'checks', 'spiky', ['env=prod']);
  ids.cpu = await upload(server, 'cpu_basic.prof', 'checks', 'cpu');
});

afterAll(async () => server?.close());

async function answer(path: string): Promise<unknown> {
  const res = await fetch(`${server.url}${path}`);
  expect([path, res.status]).toEqual([path, 200]);
  return res.json();
}

describe('response checks', () => {
  it('pass every answer the pages read from the real server', async () => {
    const { spiky, cpu } = ids;
    const compare = `base=${spiky}&target=${cpu}`;
    const cases: [ResponseName, string][] = [
      ['ProjectsResponse', '/api/projects'],
      ['SearchResult', '/api/profiles?tag=env=prod&sort=start'],
      ['ProfileRow', `/api/profiles/${spiky}`],
      ['MemoryResponse', `/api/profiles/${spiky}/memory?bins=50`],
      ['StacksResponse', `/api/profiles/${spiky}/stacks?from=0&to=1000&rank=growth`],
      ['CpuInfoResponse', `/api/profiles/${cpu}/cpu`],
      ['CpuTreeResponse', `/api/profiles/${cpu}/cpu/tree?runner=1`],
      ['CpuFunctionsResponse', `/api/profiles/${cpu}/cpu/functions`],
      ['CpuCallsResponse', `/api/profiles/${cpu}/cpu/calls?frame=1`],
      ['CpuLinesResponse', `/api/profiles/${cpu}/cpu/lines?frame=1`],
      ['CompareFunctionsResponse', `/api/compare/functions?${compare}`],
      ['CompareTreeResponse', `/api/compare/tree?${compare}`],
      ['CompareStacksResponse', `/api/compare/stacks?${compare}`],
      ['CompareMemoryResponse', `/api/compare/memory?base=${spiky}&target=${spiky}&bins=20`],
    ];
    for (const [name, path] of cases) {
      const body = await answer(path);
      expect(await checked(name, body, path)).toBe(body);
    }
  });

  it('refuse an answer of another shape, naming the field', async () => {
    const path = `/api/profiles/${ids.cpu}/cpu/tree`;
    const tree = (await answer(path)) as { nodes: { self: unknown[] }; extra?: number };
    const wrong = structuredClone(tree);
    wrong.nodes.self[0] = 'many';
    const error = await checked('CpuTreeResponse', wrong, path).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).code).toBe('bad-response');
    expect((error as ApiError).message).toMatch(/\/nodes\/self\/0 /);
    // The CPU answers are closed: a field the page does not know is a different contract.
    const more = { ...tree, extra: 1 };
    await expect(checked('CpuTreeResponse', more, path)).rejects.toThrow(/unexpected CpuTreeResponse/);
    const row = (await answer(`/api/profiles/${ids.spiky}`)) as Record<string, unknown>;
    await expect(checked('ProfileRow', { ...row, durationMs: null }, 'row')).rejects.toThrow(/\/durationMs /);
  });
});
