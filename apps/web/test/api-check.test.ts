// The browser checks every JSON answer against its @prof/api schema (src/lib/api.ts `checked`): the
// real server's answers to every request the pages make fit them, and an answer of another shape is
// refused with an ApiError naming the field.
import fc from 'fast-check';
import { Check } from 'typebox/value';
import compiledChecks from 'virtual:response-checks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiError, checked } from '../src/lib/api';
import type { ResponseName } from '../src/lib/checks';
import { RESPONSE_SCHEMAS } from '../src/lib/responseSchemas';
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

/** A request of each kind the pages make, by the name of the schema its answer has. */
function cases(): [ResponseName, string][] {
  const { spiky, cpu } = ids;
  const compare = `base=${spiky}&target=${cpu}`;
  return [
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
}

describe('response checks', () => {
  it('pass every answer the pages read from the real server', async () => {
    for (const [name, path] of cases()) {
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

  // The page runs the checks compiled at build time (responseChecks.ts); TypeBox reading the schema
  // is the reference. Each real answer, and each answer with one value replaced, one key removed or
  // one key added anywhere in it, gets the same verdict from both.
  it('compiled when the page is built, agree with TypeBox on every answer and on changed ones', async () => {
    for (const [name, path] of cases()) {
      const body = await answer(path);
      const where = paths(body);
      const edit = fc.record({
        at: fc.integer({ min: 0, max: where.length - 1 }),
        how: fc.constantFrom('replace', 'remove', 'add'),
        value: fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.constant(null), fc.integer(), fc.double()),
      });
      fc.assert(
        fc.property(edit, ({ at, how, value }) => {
          const changed = edited(body, where[at], how, value);
          expect([name, where[at].join('/'), how, compiledChecks[name](changed)]).toEqual([
            name,
            where[at].join('/'),
            how,
            Check(RESPONSE_SCHEMAS[name], changed),
          ]);
        }),
        { seed: 10, numRuns: 300 },
      );
      expect(compiledChecks[name](body)).toBe(true);
    }
  });
});

/** Every path in a JSON value (at most 40 keys of each object or array, so big answers stay quick). */
function paths(value: unknown, at: string[] = [], out: string[][] = []): string[][] {
  out.push(at);
  if (value && typeof value === 'object')
    for (const key of Object.keys(value).slice(0, 40))
      paths((value as Record<string, unknown>)[key], [...at, key], out);
  return out;
}

/** `body` with the value at `at` replaced or removed, or with a key added to it. */
function edited(body: unknown, at: string[], how: 'replace' | 'remove' | 'add', value: unknown): unknown {
  const root = { body: structuredClone(body) };
  let parent: Record<string, unknown> = root;
  let key = 'body';
  for (const k of at) {
    parent = parent[key] as Record<string, unknown>;
    key = k;
  }
  const target = parent[key];
  if (how === 'replace') parent[key] = value;
  else if (how === 'remove') {
    if (Array.isArray(parent)) parent.splice(Number(key), 1);
    else delete parent[key];
  } else if (target && typeof target === 'object' && !Array.isArray(target))
    (target as Record<string, unknown>).unexpected = value;
  else parent[key] = [target, value];
  return root.body;
}
