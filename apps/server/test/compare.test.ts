// /api/compare/* over real HTTP on real vmprof files. Expected values come from @prof/binning's
// single-profile analyses run here on each stored document separately, functions matched by name.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { functionTable, memoryGrowth, sampleRange } from '@prof/binning';
import { gunzipDocument, gzipDocument, type ProfileDocument } from '@prof/format/node';
import { fixtures, json, startServer, storedBytes, type Running } from './helpers';

let r: Running;
const ids: Record<string, string> = {};
const docs: Record<string, ProfileDocument> = {};

async function get(path: string): Promise<{ status: number; body: any }> {
  const response = await fetch(`${r.url}${path}`);
  return { status: response.status, body: await json(response) };
}

/** Per function (name, file, first line): self and total samples of [from, to), frame rows merged. */
function tableByKey(
  doc: ProfileDocument,
  from = -Infinity,
  to = Infinity,
  weight?: Float64Array,
): Map<string, { self: number; total: number }> {
  const { start, end } = sampleRange(doc.samples.time, from, to);
  const key = (f: number) =>
    `${doc.strings[doc.frames.name[f]]}|${doc.strings[doc.frames.file[f]]}|${doc.frames.line[f]}`;
  const t = functionTable(doc.stacks, doc.samples.stack, { start, end });
  const out = new Map<string, { self: number; total: number }>();
  // Total counts a sample once per function, so frame rows sharing a key are recounted per sample.
  const merged = new Map<string, Set<number>>();
  for (let i = 0; i < t.length; i++) {
    const k = key(t.frame[i]);
    if (!merged.has(k)) merged.set(k, new Set());
    merged.get(k)!.add(t.frame[i]);
  }
  for (const [k, frames] of merged) {
    let self = 0;
    let total = 0;
    for (let s = start; s < end; s++) {
      const stack = doc.samples.stack[s];
      if (stack < 0) continue;
      const w = weight ? weight[s] : 1;
      if (frames.has(doc.stacks.frame[stack])) self += w;
      for (let n = stack; n >= 0; n = doc.stacks.parent[n]) {
        if (frames.has(doc.stacks.frame[n])) {
          total += w;
          break;
        }
      }
    }
    out.set(k, { self, total });
  }
  return out;
}

const rowKey = (f: { name: string; file: string; line: number }) => `${f.name}|${f.file}|${f.line}`;

beforeAll(async () => {
  r = await startServer();
  for (const name of ['cpu_basic', 'memory_spiky', 'memory_cputimer']) {
    const response = await fetch(`${r.url}/api/profiles?project=cmp&name=${name}`, {
      method: 'POST',
      body: (await readFile(join(fixtures, `vmprof-fresh/${name}.prof`))) as unknown as BodyInit,
    });
    expect(response.status).toBe(201);
    ids[name] = (await json(response)).id;
    docs[name] = await gunzipDocument(await storedBytes(r, ids[name]));
  }
});

afterAll(async () => {
  await r?.stop();
});

describe('GET /api/compare/functions', () => {
  it('shows no change when a profile is compared with itself', async () => {
    const id = ids.memory_spiky;
    const { status, body } = await get(`/api/compare/functions?base=${id}&target=${id}&top=100000`);
    expect(status).toBe(200);
    expect(body.count).toBe(tableByKey(docs.memory_spiky).size);
    expect(body.functions.length).toBe(body.count);
    for (const f of body.functions) {
      expect([f.added, f.removed, f.delta, f.deltaShare]).toEqual([
        false,
        false,
        { self: 0, total: 0 },
        { self: 0, total: 0 },
      ]);
      expect(f.base).toEqual(f.target);
    }
    expect(body.base.samples).toBe(docs.memory_spiky.samples.stack.length);
  });

  it('gives each function both sides of two profiles, computed separately, and marks one-sided ones', async () => {
    const { status, body } = await get(
      `/api/compare/functions?base=${ids.cpu_basic}&target=${ids.memory_spiky}&top=100000`,
    );
    expect(status).toBe(200);
    const base = tableByKey(docs.cpu_basic);
    const target = tableByKey(docs.memory_spiky);
    expect(new Set(body.functions.map(rowKey))).toEqual(new Set([...base.keys(), ...target.keys()]));
    let added = 0;
    for (const f of body.functions) {
      const k = rowKey(f);
      expect([f.base, f.target], k).toEqual([
        base.get(k) ?? { self: 0, total: 0 },
        target.get(k) ?? { self: 0, total: 0 },
      ]);
      expect([f.added, f.removed]).toEqual([!base.has(k), !target.has(k)]);
      expect(f.delta.total).toBe(f.target.total - f.base.total);
      if (f.added) added++;
    }
    expect(added).toBeGreaterThan(0);
    expect(body.functions.some((f: any) => f.removed)).toBe(true);
    // Sorted by the size of the change of total share; `top` cuts the list, not the count.
    const top = await get(`/api/compare/functions?base=${ids.cpu_basic}&target=${ids.memory_spiky}&top=3`);
    expect(top.body.functions).toEqual(body.functions.slice(0, 3));
    expect(top.body.count).toBe(body.count);
  });

  it('compares two ranges of one profile', async () => {
    const id = ids.memory_spiky;
    const { body } = await get(
      `/api/compare/functions?base=${id}&target=${id}&baseFrom=0&baseTo=10000&targetFrom=40000&targetTo=60000&top=100000`,
    );
    const base = tableByKey(docs.memory_spiky, 0, 10000);
    const target = tableByKey(docs.memory_spiky, 40000, 60000);
    expect([body.base.from, body.base.to, body.target.from, body.target.to]).toEqual([0, 10000, 40000, 60000]);
    for (const f of body.functions) {
      const k = rowKey(f);
      expect([f.base, f.target]).toEqual([
        base.get(k) ?? { self: 0, total: 0 },
        target.get(k) ?? { self: 0, total: 0 },
      ]);
    }
    expect(body.functions.some((f: any) => f.delta.total !== 0)).toBe(true);
  });
});

describe('weight=growth', () => {
  it('gives each function the memory growth under it on both sides', async () => {
    const [a, b] = [ids.memory_spiky, ids.memory_cputimer];
    const { status, body } = await get(`/api/compare/functions?base=${a}&target=${b}&weight=growth&top=100000`);
    expect(status).toBe(200);
    expect(body.unit).toBe('bytes');
    const base = tableByKey(docs.memory_spiky, -Infinity, Infinity, memoryGrowth(docs.memory_spiky.samples.memory!));
    const target = tableByKey(
      docs.memory_cputimer,
      -Infinity,
      Infinity,
      memoryGrowth(docs.memory_cputimer.samples.memory!),
    );
    const near = (x: number, y: number) => Math.abs(x - y) <= 1e-6 * Math.max(1, Math.abs(y));
    for (const f of body.functions) {
      const k = rowKey(f);
      const x = base.get(k) ?? { self: 0, total: 0 };
      const y = target.get(k) ?? { self: 0, total: 0 };
      expect([near(f.base.total, x.total), near(f.base.self, x.self), near(f.target.total, y.total)], k).toEqual([
        true,
        true,
        true,
      ]);
    }
    expect(body.functions.some((f: any) => f.target.total > 0)).toBe(true);
    const tree = await get(`/api/compare/tree?base=${a}&target=${b}&weight=growth&minShare=0`);
    expect(tree.body.unit).toBe('bytes');
    expect(
      near(
        tree.body.nodes[0].base.total,
        [...memoryGrowth(docs.memory_spiky.samples.memory!)].reduce((p, q) => p + q, 0),
      ),
    ).toBe(true);
    const bad = await get(`/api/compare/functions?base=${a}&target=${b}&weight=cpu`);
    expect([bad.status, bad.body.error.message]).toEqual([400, 'weight="cpu": expected samples or growth']);
    const cpu = await get(`/api/compare/tree?base=${ids.cpu_basic}&target=${b}&weight=growth`);
    expect([cpu.status, cpu.body.error.code]).toEqual([409, 'no-memory']);
    expect(cpu.body.error.message).toMatch(/^base: /);
  });
});

describe('GET /api/compare/tree', () => {
  it("gives the target's tree with the base's weights at each path", async () => {
    const self = await get(`/api/compare/tree?base=${ids.memory_spiky}&target=${ids.memory_spiky}&minShare=0`);
    expect(self.status).toBe(200);
    for (const n of self.body.nodes) {
      expect(n.base).toEqual(n.target);
      expect([n.added, n.removedTotal]).toEqual([false, 0]);
    }
    const { body } = await get(`/api/compare/tree?base=${ids.cpu_basic}&target=${ids.memory_spiky}&minShare=0`);
    const nodes = body.nodes;
    expect(nodes[0].target.total).toBe(docs.memory_spiky.samples.stack.length);
    expect(nodes[0].base.total).toBe(docs.cpu_basic.samples.stack.length);
    // Children sum to at most their parent, on both sides; added nodes have no base weight.
    const childSum = new Map<number, number>();
    nodes.forEach((n: any, i: number) => {
      if (i > 0) childSum.set(n.parent, (childSum.get(n.parent) ?? 0) + n.target.total);
      if (n.added) expect(n.base).toEqual({ self: 0, total: 0 });
      if (i > 0) expect(n.depth).toBe(nodes[n.parent].depth + 1);
    });
    for (const [p, sum] of childSum) expect(sum + nodes[p].target.self).toBe(nodes[p].target.total);
    expect(nodes.some((n: any) => n.added)).toBe(true);
    // The base's paths that the target lacks are charged to the root.
    expect(nodes[0].removedTotal).toBeGreaterThan(0);
    // Thin nodes go with minShare, and the root still holds everything.
    const thin = await get(`/api/compare/tree?base=${ids.cpu_basic}&target=${ids.memory_spiky}&minShare=0.05`);
    expect(thin.body.nodes.length).toBeLessThan(nodes.length);
    expect(thin.body.nodes[0]).toEqual(nodes[0]);
    for (const n of thin.body.nodes.slice(1))
      expect(n.target.total).toBeGreaterThanOrEqual(0.05 * nodes[0].target.total);
  });
});

describe('GET /api/compare/memory', () => {
  it('bins both series as the single view does, aligned by time since start, with their difference', async () => {
    const [a, b] = [ids.memory_spiky, ids.memory_cputimer];
    const { status, body } = await get(`/api/compare/memory?base=${a}&target=${b}&bins=50`);
    expect(status).toBe(200);
    expect(body.bins.length).toBe(50);
    const span = body.bins.at(-1).end;
    expect(span).toBe(Math.max(body.base.to - body.base.from, body.target.to - body.target.from));
    for (const [side, id] of [
      ['base', a],
      ['target', b],
    ] as const) {
      const from = body[side].from;
      const single = await get(`/api/profiles/${id}/memory?from=${from}&to=${from + span}&bins=50`);
      expect(body.bins.map((x: any) => x[side])).toEqual(
        single.body.bins.map(({ count, mean, max, min }: any) => ({ count, mean, max, min })),
      );
    }
    for (const bin of body.bins) {
      const both = bin.base.count > 0 && bin.target.count > 0;
      expect(bin.delta).toEqual(
        both
          ? { mean: bin.target.mean - bin.base.mean, max: bin.target.max - bin.base.max }
          : { mean: null, max: null },
      );
    }
    const self = await get(`/api/compare/memory?base=${a}&target=${a}&bins=20`);
    expect(self.body.bins.every((x: any) => x.delta.mean === 0 && x.delta.max === 0)).toBe(true);
  });
});

describe('GET /api/compare/stacks', () => {
  it('lists the whole call paths whose memory growth differs most, with each side exact', async () => {
    const [a, b] = [ids.memory_spiky, ids.memory_cputimer];
    const { status, body } = await get(`/api/compare/stacks?base=${a}&target=${b}&weight=growth&top=1000`);
    expect(status).toBe(200);
    expect(body.unit).toBe('bytes');
    expect(body.count).toBeLessThanOrEqual(1000);
    expect(body.stacks.length).toBe(body.count);
    const total = (d: ProfileDocument) => [...memoryGrowth(d.samples.memory!)].reduce((p, q) => p + q, 0);
    const sum = (k: 'base' | 'target') => body.stacks.reduce((n: number, s: any) => n + s[k], 0);
    expect(sum('base')).toBeCloseTo(total(docs.memory_spiky), 0);
    expect(sum('target')).toBeCloseTo(total(docs.memory_cputimer), 0);
    for (let i = 1; i < body.stacks.length; i++) {
      expect(Math.abs(body.stacks[i - 1].delta)).toBeGreaterThanOrEqual(Math.abs(body.stacks[i].delta));
    }
    for (const s of body.stacks) {
      expect(s.delta).toBeCloseTo(s.target - s.base, 3);
      expect([s.added, s.removed]).toEqual([s.base === 0 && s.target > 0, s.target === 0 && s.base > 0]);
      expect(s.stack.length).toBe(Math.min(s.depth, 64));
    }
    const self = await get(`/api/compare/stacks?base=${a}&target=${a}&weight=growth&top=5`);
    expect(self.body.stacks.length).toBe(5);
    expect(self.body.stacks.every((s: any) => s.delta === 0 && !s.added && !s.removed)).toBe(true);
    const bad = await get(`/api/compare/stacks?base=${a}&target=${b}&top=5000`);
    expect([bad.status, bad.body.error.code]).toEqual([400, 'bad-query']);
  });
});

describe('GET /api/compare/memory?align=clock', () => {
  it('puts both runs on the wall clock: the same moment in the same bin, over the union of both windows', async () => {
    const [a, b] = [ids.memory_spiky, ids.memory_cputimer];
    const [startA, startB] = [docs.memory_spiky.meta.startTime!, docs.memory_cputimer.meta.startTime!];
    expect(startA !== startB).toBe(true);
    const { status, body } = await get(`/api/compare/memory?base=${a}&target=${b}&bins=50&align=clock`);
    expect(status).toBe(200);
    expect(body.align).toBe('clock');
    // Offset 0 is one wall-clock moment on both sides, the earlier of the two starts.
    expect(startA + body.base.from).toBeCloseTo(startB + body.target.from, 3);
    expect(body.origin).toBeCloseTo(Math.min(startA, startB), 3);
    expect(body.offsets.base).toBeCloseTo(startA - body.origin, 3);
    expect(body.offsets.target).toBeCloseTo(startB - body.origin, 3);
    const span = body.bins.at(-1).end;
    // The union covers both whole runs: every memory sample of each side is in a bin.
    const counted = (side: 'base' | 'target') => body.bins.reduce((n: number, x: any) => n + x[side].count, 0);
    for (const [side, id] of [
      ['base', a],
      ['target', b],
    ] as const) {
      const whole = await get(`/api/profiles/${id}/memory?bins=10`);
      expect(counted(side)).toBe(whole.body.bins.reduce((n: number, x: any) => n + x.count, 0));
    }
    // Each side is binned as its own single view of the widened window.
    for (const [side, id] of [
      ['base', a],
      ['target', b],
    ] as const) {
      const from = body[side].from;
      const single = await get(`/api/profiles/${id}/memory?from=${from}&to=${from + span}&bins=50`);
      expect(body.bins.map((x: any) => x[side])).toEqual(
        single.body.bins.map(({ count, mean, max, min }: any) => ({ count, mean, max, min })),
      );
    }
    const runtime = await get(`/api/compare/memory?base=${a}&target=${b}&bins=50`);
    expect([runtime.body.align, runtime.body.origin]).toEqual(['runtime', undefined]);
  });

  it('answers 409 no-clock for a profile without a start time and 400 for an unknown alignment', async () => {
    const undated = { ...docs.memory_spiky, meta: { ...docs.memory_spiky.meta, startTime: null, endTime: null } };
    const upload = await fetch(`${r.url}/api/profiles`, {
      method: 'POST',
      body: (await gzipDocument(undated)) as unknown as BodyInit,
    });
    expect(upload.status).toBe(201);
    const id = (await json(upload)).id;
    const noClock = await get(`/api/compare/memory?base=${ids.memory_spiky}&target=${id}&align=clock`);
    expect([noClock.status, noClock.body.error.code]).toEqual([409, 'no-clock']);
    expect(noClock.body.error.message).toMatch(/^target: this profile has no wall-clock start time/);
    const bad = await get(`/api/compare/memory?base=${id}&target=${id}&align=sideways`);
    expect([bad.status, bad.body.error.code]).toEqual([400, 'bad-query']);
    expect(bad.body.error.message).toMatch(/align="sideways"/);
  });
});

describe('bad comparisons', () => {
  it('answer 4xx naming the side and the parameter', async () => {
    const a = ids.memory_spiky;
    const cases: [string, number, string, RegExp][] = [
      [`/api/compare/functions?target=${a}`, 400, 'bad-query', /base \(a profile id\) is required/],
      [`/api/compare/functions?base=${a}&target=nope`, 400, 'bad-id', /^target="nope" is not a profile id/],
      [`/api/compare/tree?base=${'a'.repeat(24)}&target=${a}`, 404, 'not-found', /^base: no profile/],
      [`/api/compare/memory?base=${ids.cpu_basic}&target=${a}`, 409, 'no-memory', /^base: this profile has no memory/],
      [`/api/compare/functions?base=${a}&target=${a}&targetThread=9`, 400, 'bad-thread', /^target: thread must be/],
      [
        `/api/compare/functions?base=${a}&target=${a}&baseFrom=50&baseTo=10`,
        400,
        'bad-query',
        /^base: the window is empty/,
      ],
      [`/api/compare/tree?base=${a}&target=${a}&minShare=2`, 400, 'bad-query', /minShare=2/],
      [`/api/compare/memory?base=${a}&target=${a}&bins=0`, 400, 'bad-query', /bins=0/],
    ];
    for (const [path, status, code, message] of cases) {
      const res = await get(path);
      expect([res.status, res.body.error?.code], path).toEqual([status, code]);
      expect(res.body.error.message, path).toMatch(message);
    }
  });
});
