// The response serializers: every schema's anyOf of one scalar type (and null) written without Ajv,
// and what they write is what JSON.stringify writes.
import * as Api from '@prof/api';
import { Value } from 'typebox/value';
import { describe, expect, it } from 'vitest';
import { compileSerializer, forWriting } from '../src/serializer';

const anyOfs = (schema: unknown): unknown[] => {
  if (!schema || typeof schema !== 'object') return [];
  const s = schema as Record<string, unknown>;
  return [...(Array.isArray(s.anyOf) ? [s] : []), ...Object.values(s).flatMap(anyOfs)];
};

describe('response serializers', () => {
  it('write the memory answer without an anyOf, as JSON.stringify does', () => {
    expect(anyOfs(Api.MemoryResponse).length).toBeGreaterThan(4);
    expect(anyOfs(forWriting(Api.MemoryResponse))).toEqual([]);
    const write = compileSerializer({ schema: Api.MemoryResponse });
    const answer = {
      bins: [
        { start: 0, end: 10.5, count: 3, mean: 1.25e9, max: 2e9, min: 5, sd: 0.125 },
        { start: 10.5, end: 21, count: 0, mean: null, max: null, min: null, sd: null },
        { start: 21, end: 31.5, count: 1, mean: -0, max: 7, min: 7, sd: 0 },
      ],
      unit: 'bytes',
      from: 0,
      to: 31.5,
      durationMs: 31.5,
      timeEstimated: false,
      series: 'heap',
      available: ['rss', 'heap'],
    };
    expect(Value.Check(Api.MemoryResponse, answer)).toBe(true);
    expect(JSON.parse(write(answer))).toEqual(JSON.parse(JSON.stringify(answer)));
  });

  it('leave other unions as they are, and compile every response schema of the API', () => {
    const objectOrNull = { anyOf: [{ type: 'object', properties: { a: { type: 'number' } } }, { type: 'null' }] };
    expect(forWriting(objectOrNull)).toEqual(objectOrNull);
    const mixed = { anyOf: [{ type: 'number' }, { type: 'string' }] };
    expect(forWriting(mixed)).toEqual(mixed);
    // A bounded number or null keeps its bounds; literals of one type become that type.
    expect(forWriting({ anyOf: [{ type: 'integer', minimum: 0 }, { type: 'null' }] })).toEqual({
      type: ['integer', 'null'],
      minimum: 0,
    });
    expect(
      forWriting({
        anyOf: [
          { const: 'a', type: 'string' },
          { const: 'b', type: 'string' },
        ],
      }),
    ).toEqual({
      type: 'string',
    });
    const responses = Object.entries(Api).filter(([name]) => name.endsWith('Response') || name === 'ProfileRow');
    expect(responses.length).toBeGreaterThan(10);
    for (const [name, schema] of responses) expect(() => compileSerializer({ schema }), name).not.toThrow();
  });
});
