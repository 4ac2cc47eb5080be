// /api/profiles/:id/cpu* over real HTTP on real profiles. Expected values are @prof/binning's views
// computed here, sample by sample, on each stored document (no folding, no summaries).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  aggregateCallTree,
  bufferSource,
  callTreeFromColumns,
  functionCalls,
  functionTableFromColumns,
  openSummaries,
  functionTable,
  lineTable,
  pruneCallTree,
  sampleRange,
  threadIndices,
  withoutRootFrames,
  type AggregateOptions,
} from '@prof/binning';
import { gunzipDocument, runnerStackRows, type ProfileDocument } from '@prof/format/node';
import { SummariesCpuSource, type CpuProfile } from '../src/cpu-source';
import { joinParts, summarizeDocument } from '../src/summarize';
import { fixtures, json, startServer, storedBytes, type Running } from './helpers';

let r: Running;
const ids: Record<string, string> = {};
const docs: Record<string, ProfileDocument> = {};
const FILES = {
  cpu: 'vmprof-fresh/cpu_basic.prof',
  threads: 'vmprof-fresh/threads_memory_realtime_misaligned.prof',
  lines: 'vmprof-fresh/lines_recursive_cli.prof',
  weighted: 'pyspy/cpu_work-50hz.speedscope.json',
};

async function get(path: string): Promise<{ status: number; body: any; headers: Headers }> {
  const response = await fetch(`${r.url}${path}`);
  return { status: response.status, body: await json(response), headers: response.headers };
}

/** The run of a query as the reference computes it: the document's samples, sample by sample. */
function reference(doc: ProfileDocument, from: number | null, to: number | null, thread?: number): AggregateOptions {
  const indices = thread === undefined ? undefined : threadIndices(doc.samples.thread, thread);
  const { start, end } = sampleRange(doc.samples.time, from ?? -Infinity, to ?? Infinity, indices);
  return { start, end, indices, weight: doc.samples.weight ?? undefined };
}

const close = (a: number, b: number) => Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));
function expectClose(got: number[], want: ArrayLike<number>): void {
  expect(got.length).toBe(want.length);
  const bad = got.findIndex((x, i) => !close(x, want[i]));
  expect(bad, `entry ${bad}: ${got[bad]} vs ${want[bad]}`).toBe(-1);
}

/** A random window inside the run, from a seeded generator so a failure repeats. */
function windows(doc: ProfileDocument, count: number, seed: number): [number, number][] {
  const time = doc.samples.time;
  const last = time[time.length - 1];
  let x = seed;
  const random = () => (x = (Math.imul(x, 1103515245) + 12345) >>> 0) / 2 ** 32;
  const out: [number, number][] = [];
  for (let i = 0; i < count; i++) {
    const a = random() * last;
    const b = random() * last;
    out.push([Math.min(a, b), Math.max(a, b) + 0.5]);
  }
  return out;
}

function query(from: number | null, to: number | null, thread?: number, extra = ''): string {
  const q = new URLSearchParams();
  if (from !== null) q.set('from', String(from));
  if (to !== null) q.set('to', String(to));
  if (thread !== undefined) q.set('thread', String(thread));
  return `?${q}${extra}`;
}

beforeAll(async () => {
  r = await startServer();
  for (const [key, file] of Object.entries(FILES)) {
    const response = await fetch(`${r.url}/api/profiles?project=cpu-api&name=${key}`, {
      method: 'POST',
      body: (await readFile(join(fixtures, file))) as unknown as BodyInit,
    });
    expect(response.status).toBe(201);
    ids[key] = (await json(response)).id;
    docs[key] = await gunzipDocument(await storedBytes(r, ids[key]));
  }
});

afterAll(async () => {
  await r?.stop();
});

describe('GET /api/profiles/:id/cpu', () => {
  it('describes threads, totals, time span and the frame table, cacheable for good', async () => {
    for (const key of Object.keys(FILES)) {
      const doc = docs[key];
      const { status, body, headers } = await get(`/api/profiles/${ids[key]}/cpu`);
      expect(status).toBe(200);
      expect(headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
      expect(body.sampleCount).toBe(doc.samples.length);
      expect(body.threads.map((t: { id: string }) => t.id)).toEqual(doc.threads.id);
      expect(body.threads.reduce((s: number, t: { samples: number }) => s + t.samples, 0)).toBe(doc.samples.length);
      expect(body.frames.name).toEqual(Array.from(doc.frames.name, (s) => doc.strings[s]));
      expect(body.weighted).toBe(doc.samples.weight !== null);
      expect(body.durationMs).toBeGreaterThanOrEqual(doc.samples.time[doc.samples.length - 1] - doc.samples.time[0]);
    }
    expect((await get(`/api/profiles/${ids.lines}/cpu`)).body).toMatchObject({ hasLines: true, hasRunnerFrames: true });
    expect((await get(`/api/profiles/${ids.threads}/cpu`)).body.threads.length).toBeGreaterThan(1);
    expect((await get(`/api/profiles/${ids.weighted}/cpu`)).body.unit).toBe('µs');
  });
});

describe('GET /api/profiles/:id/cpu/tree', () => {
  it("equals @prof/binning's call tree of the samples, whole run and random ranges, per thread", async () => {
    for (const key of Object.keys(FILES)) {
      const doc = docs[key];
      const threads = [undefined, ...doc.threads.id.map((_, i) => i)].slice(0, 4);
      const cases: [number | null, number | null][] = [[null, null], ...windows(doc, 6, 7 + key.length)];
      for (const thread of threads) {
        for (const [from, to] of cases) {
          for (const runner of [false, true]) {
            const stacks = runner ? doc.stacks : withoutRootFrames(doc.stacks, runnerStackRows(doc));
            const want = pruneCallTree(aggregateCallTree(stacks, doc.samples.stack, reference(doc, from, to, thread)));
            const { status, body } = await get(
              `/api/profiles/${ids[key]}/cpu/tree${query(from, to, thread, runner ? '&runner=1' : '')}`,
            );
            expect(status).toBe(200);
            expect(body.samples).toBe(want.samples);
            expect(body.nodes.length).toBe(want.length);
            expect(body.nodes.frame).toEqual(Array.from(want.frame));
            expect(body.nodes.parent).toEqual(Array.from(want.parent));
            expect(body.nodes.subtreeEnd).toEqual(Array.from(want.subtreeEnd));
            expectClose(body.nodes.total, want.total);
            expectClose(body.nodes.self, want.self);
            expectClose(body.nodes.offset, want.offset);
            expectClose(body.nodes.cut, want.cut);
          }
        }
      }
    }
    // Answered from the summaries containers built at upload: no document was decoded for them.
    expect((await get('/health')).body.cache.entries).toBe(0);
  });

  it('cuts to maxNodes and minShare, every dropped weight on its parent', async () => {
    const doc = docs.lines;
    const full = aggregateCallTree(doc.stacks, doc.samples.stack, reference(doc, null, null));
    const { body } = await get(`/api/profiles/${ids.lines}/cpu/tree?maxNodes=4&runner=1`);
    expect(body.nodes.length).toBe(Math.min(4, full.length));
    expect(body.unprunedNodes).toBe(full.length);
    expect(body.weightTotal).toBe(full.total[0]);
    const n = body.nodes;
    const childSum = new Array<number>(n.length).fill(0);
    for (let i = 1; i < n.length; i++) childSum[n.parent[i]] += n.total[i];
    for (let i = 0; i < n.length; i++) expect(close(n.self[i] + childSum[i] + n.cut[i], n.total[i])).toBe(true);
    expect(n.cutCount.reduce((a: number, b: number) => a + b, 0)).toBeGreaterThan(0);

    const share = await get(`/api/profiles/${ids.lines}/cpu/tree?minShare=0.2&runner=1`);
    const limit = 0.2 * full.total[0];
    expect(share.body.nodes.total.slice(1).every((t: number) => t >= limit)).toBe(true);
  });
});

describe('functions, calls and lines', () => {
  it("equal @prof/binning's on the samples, whole run and random ranges", async () => {
    for (const key of Object.keys(FILES)) {
      const doc = docs[key];
      for (const [from, to] of [[null, null], ...windows(doc, 4, 99)] as [number | null, number | null][]) {
        const run = reference(doc, from, to);
        const want = functionTable(doc.stacks, doc.samples.stack, run);
        const { body } = await get(`/api/profiles/${ids[key]}/cpu/functions${query(from, to)}`);
        expect(body.samples).toBe(want.samples);
        expect(close(body.weightTotal, want.weightTotal)).toBe(true);
        expect(body.functions.frame).toEqual(Array.from(want.frame));
        expectClose(body.functions.total, want.total);
        expectClose(body.functions.self, want.self);
        if (want.length === 0) continue;
        const frame = want.frame[Math.min(2, want.length - 1)];
        const calls = functionCalls(doc.stacks, doc.samples.stack, frame, run);
        const got = (await get(`/api/profiles/${ids[key]}/cpu/calls${query(from, to, undefined, `&frame=${frame}`)}`))
          .body;
        expect(got.frame).toBe(frame);
        expect(close(got.total, calls.total) && close(got.self, calls.self)).toBe(true);
        expect(got.callers.map((e: { frame: number }) => e.frame)).toEqual(calls.callers.map((e) => e.frame));
        expect(got.callees.map((e: { frame: number }) => e.frame)).toEqual(calls.callees.map((e) => e.frame));
        const lines = lineTable(doc.stacks, doc.samples.stack, frame, run);
        const gotLines = (
          await get(`/api/profiles/${ids[key]}/cpu/lines${query(from, to, undefined, `&frame=${frame}`)}`)
        ).body.lines;
        expect(gotLines).toEqual(lines);
      }
    }
  });

  it('lists the executing lines of a lines profile', async () => {
    const doc = docs.lines;
    const top = functionTable(doc.stacks, doc.samples.stack, reference(doc, null, null)).frame[0];
    const { body } = await get(`/api/profiles/${ids.lines}/cpu/lines?frame=${top}`);
    expect(body.lines.length).toBeGreaterThan(0);
    expect(body.lines.some((l: { line: number }) => l.line > 0)).toBe(true);
  });
});

describe('bad requests', () => {
  it('say what is wrong with a clear 4xx', async () => {
    const id = ids.threads;
    const cases: [string, number, string, RegExp][] = [
      [`/api/profiles/${id}/cpu/tree?from=abc`, 400, 'bad-range', /from="abc" is not a finite number/],
      [`/api/profiles/${id}/cpu/tree?from=5&to=5`, 400, 'bad-range', /from=5 must be below to=5/],
      [`/api/profiles/${id}/cpu/functions?to=Infinity`, 400, 'bad-range', /to="Infinity"/],
      [`/api/profiles/${id}/cpu/tree?thread=99`, 400, 'bad-thread', /thread=99 is not a thread of this profile/],
      [`/api/profiles/${id}/cpu/tree?thread=-1`, 400, 'bad-thread', /not a thread row/],
      [`/api/profiles/${id}/cpu/calls`, 400, 'bad-frame', /frame \(a frame row\) is required/],
      [`/api/profiles/${id}/cpu/calls?frame=999999`, 400, 'bad-frame', /not a frame of this profile/],
      [`/api/profiles/${id}/cpu/lines?frame=1.5`, 400, 'bad-frame', /not a frame of this profile/],
      [`/api/profiles/${id}/cpu/tree?maxNodes=0`, 400, 'bad-query', /maxNodes=0/],
      [`/api/profiles/${id}/cpu/tree?minShare=2`, 400, 'bad-query', /minShare=2/],
      [`/api/profiles/${id}/cpu/tree?weight=time`, 400, 'bad-query', /no per-sample weight/],
      [`/api/profiles/aaaaaaaaaaaaaaaaaaaaaaaa/cpu/tree`, 404, 'not-found', /no profile/],
      [`/api/profiles/nope/cpu`, 400, 'bad-id', /invalid profile id/],
    ];
    for (const [path, status, code, message] of cases) {
      const got = await get(path);
      expect([path, got.status, got.body.error?.code]).toEqual([path, status, code]);
      expect(got.body.error.message).toMatch(message);
    }
  });
});

/** A summaries container of `doc` as the server stores it, with small blocks so every level and edge is met. */
async function summariesOf(doc: ProfileDocument) {
  return openSummaries(bufferSource(joinParts(summarizeDocument(doc, { cpuBlock: 16, cpuFanout: 4 }))));
}

describe('the summaries source', () => {
  it('folds any range and thread as the samples do, at every block edge', async () => {
    const noFallback = { open: async (): Promise<CpuProfile> => Promise.reject(new Error('fell back')) };
    for (const key of Object.keys(FILES)) {
      const doc = docs[key];
      const summaries = await summariesOf(doc);
      const p = await new SummariesCpuSource(async () => summaries, noFallback).open(key);
      expect(p.threads.map((t) => t.samples).reduce((a, b) => a + b, 0)).toBe(doc.samples.length);
      if (key === 'lines') expect(p.hasLines).toBe(true);
      const threads = [undefined, ...doc.threads.id.map((_, i) => i)].slice(0, 4);
      for (const thread of threads) {
        for (const [from, to] of [[null, null], ...windows(doc, 8, 3 + key.length)] as [
          number | null,
          number | null,
        ][]) {
          const run = reference(doc, from, to, thread);
          const weight = doc.samples.weight ? 'time' : 'samples';
          const { columns } = await p.run(thread, from ?? -Infinity, to ?? Infinity, weight);
          expect(columns.samples).toBe(run.end - run.start);
          const want = aggregateCallTree(doc.stacks, doc.samples.stack, run);
          const got = callTreeFromColumns(p.stacks, columns);
          expect(Array.from(got.frame)).toEqual(Array.from(want.frame));
          expectClose(Array.from(got.total), want.total);
          const table = functionTableFromColumns(p.stacks, columns);
          expect(close(table.weightTotal, functionTable(doc.stacks, doc.samples.stack, run).weightTotal)).toBe(true);
        }
      }
    }
  });
});
