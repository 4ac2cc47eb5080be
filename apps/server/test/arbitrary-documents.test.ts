// Issue 11 §3, as a property: an arbitrary document (any doubles in its time, memory, heap and
// weight columns, any start time) is either refused with a typed 4xx, or stored and then served by
// /memory, /stacks and /document without a 5xx. Real server over HTTP; fast-check generates.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { DocumentBuilder, emptyMeta, FrameKind, type ProfileDocument } from '@prof/format';
import { gzipDocument } from '@prof/format/node';
import { json, startServer, type Running } from './helpers';

let r: Running;

beforeAll(async () => {
  r = await startServer();
});

afterAll(async () => {
  await r.stop();
});

/** Doubles a hostile uploader would pick, and ordinary ones. */
const anyDouble = fc.oneof(
  fc.double(),
  fc.constantFrom(Number.NaN, Infinity, -Infinity, 1.7e308, -0, 2 ** 53, 2 ** 53 - 1, Number.MIN_VALUE),
  fc.double({ min: 0, max: 1e10, noNaN: true }),
);

interface Shape {
  samples: { stack: number; thread: number; time: number; memory: number | null; weight: number | null }[];
  heap: boolean;
  clean: boolean;
  startTime: number | null;
}

const shape: fc.Arbitrary<Shape> = fc.record({
  samples: fc.array(
    fc.record({
      stack: fc.integer({ min: -1, max: 2 }),
      thread: fc.integer({ min: 0, max: 1 }),
      time: anyDouble,
      memory: fc.option(anyDouble),
      weight: fc.option(anyDouble),
    }),
    { minLength: 1, maxLength: 40 },
  ),
  heap: fc.boolean(),
  // half the cases are made valid (finite ordered times, readings in range) so many are stored and viewed
  clean: fc.boolean(),
  startTime: fc.option(anyDouble),
});

function documentOf(s: Shape): ProfileDocument {
  const b = new DocumentBuilder();
  const frame = (name: string) =>
    b.frame(name, () => ({ name, file: 'app.py', line: 1, kind: FrameKind.Python, raw: `py:${name}`, address: name }));
  const root = b.stack(-1, frame('main'));
  const stacks = [-1, root, b.stack(root, frame('work'), 3), b.stack(root, frame('io'))];
  const threads = [b.thread('1', 'MainThread'), b.thread('2', null)];
  const valid = (v: number) => (Number.isFinite(v) ? Math.min(Math.abs(v), 2 ** 53 - 1) : 0);
  const times = s.samples.map((x) => (s.clean ? valid(x.time) : x.time));
  if (s.clean) times.sort((a, c) => a - c);
  const reading = (v: number | null) => (v === null ? undefined : s.clean ? valid(v) : v);
  const anyMemory = s.samples.some((x) => x.memory !== null);
  s.samples.forEach((x, i) => {
    const memory = anyMemory ? (reading(x.memory) ?? Number.NaN) : undefined;
    const heap = s.heap ? (reading(x.memory) ?? times[i]) : undefined;
    b.sample(stacks[x.stack + 1], times[i], threads[x.thread], memory, reading(x.weight), heap);
  });
  const meta = emptyMeta('vmprof');
  meta.project = 'fuzz';
  meta.startTime = s.startTime !== null && Number.isFinite(s.startTime) ? s.startTime : null;
  return b.finish({ meta, timeEstimated: false, timeSource: 'recorded' });
}

describe('arbitrary documents', () => {
  it('are refused with a typed 4xx or served by every view without a 5xx', async () => {
    let stored = 0;
    let refused = 0;
    await fc.assert(
      fc.asyncProperty(shape, async (s) => {
        const body = await gzipDocument(documentOf(s));
        const res = await fetch(`${r.url}/api/profiles`, { method: 'POST', body: new Uint8Array(body) });
        const answer = await json(res);
        if (res.status !== 201) {
          expect(res.status, JSON.stringify(answer)).toBeGreaterThanOrEqual(400);
          expect(res.status, JSON.stringify(answer)).toBeLessThan(500);
          expect(answer.error.code).toMatch(/^[a-z-]+$/);
          refused++;
          return;
        }
        stored++;
        for (const view of ['memory?bins=50', 'memory?bins=50&series=heap', 'stacks', 'document', '']) {
          const got = await fetch(`${r.url}/api/profiles/${answer.id}${view ? `/${view}` : ''}`);
          await got.arrayBuffer();
          expect(got.status, `${view} of ${JSON.stringify(s)}`).toBeLessThan(500);
        }
      }),
      { numRuns: 150, seed: 20261205 },
    );
    expect(stored).toBeGreaterThan(10);
    expect(refused).toBeGreaterThan(10);
  });
});
