// /api/compare/* answered from the summaries containers equals the answer from the decoded documents,
// on real vmprof profiles, for random ranges and threads of each side. Three servers of the same
// routes over the same stored profiles: the real one (its summaries, default blocks), one reading
// containers built here with tiny blocks (every level and block edge is met), and one reading the
// decoded documents (the fallback).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Fastify, { type FastifyInstance } from 'fastify';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { bufferSource, openSummaries, type Summaries } from '@prof/binning';
import { gunzipDocument, gzipDocument, type ProfileDocument } from '@prof/format/node';
import { fieldsFromDocument } from '@prof/store';
import { BytesCache } from '../src/bytes-cache';
import { CompareSource } from '../src/compare-source';
import { DecodedCache } from '../src/decoded-cache';
import { handleError } from '../src/http-error';
import { registerCompareApi } from '../src/routes/compare-api';
import { CONTRACT_KEYWORDS } from '../src/contract';
import { joinParts, summarizeDocument } from '../src/summarize';
import { fixtures, json, startServer, storedBytes, type Running } from './helpers';

const FILES = {
  spiky: 'vmprof-fresh/memory_spiky.prof',
  cputimer: 'vmprof-fresh/memory_cputimer.prof',
  threads: 'vmprof-fresh/threads.prof',
  threadsMemory: 'vmprof-fresh/threads_memory_realtime_misaligned.prof',
  cpu: 'vmprof-fresh/cpu_basic.prof',
};
type Key = keyof typeof FILES;

let r: Running;
const ids = {} as Record<Key, string>;
const docs = {} as Record<Key, ProfileDocument>;
const apps: FastifyInstance[] = [];
let smallBlocksUrl = '';
let decodedUrl = '';

async function routesOn(source: CompareSource): Promise<string> {
  const app = Fastify({ ajv: { customOptions: { keywords: CONTRACT_KEYWORDS } } });
  app.setErrorHandler(handleError);
  registerCompareApi(app, { shared: false, store: r.server.store }, source);
  apps.push(app);
  return app.listen({ port: 0, host: '127.0.0.1' });
}

beforeAll(async () => {
  r = await startServer();
  const small = new Map<string, Summaries>();
  for (const [key, file] of Object.entries(FILES) as [Key, string][]) {
    const response = await fetch(`${r.url}/api/profiles?project=compare-summaries&name=${key}`, {
      method: 'POST',
      body: (await readFile(join(fixtures, file))) as unknown as BodyInit,
    });
    expect(response.status).toBe(201);
    ids[key] = (await json(response)).id;
    docs[key] = await gunzipDocument(await storedBytes(r, ids[key]));
    const parts = summarizeDocument(docs[key], { cpuBlock: 16, cpuFanout: 4 });
    small.set(ids[key], await openSummaries(bufferSource(joinParts(parts))));
  }
  smallBlocksUrl = await routesOn(new CompareSource(async (id) => small.get(id) ?? null, r.server.cache));
  // The reference decodes into a cache of its own: the real server's must stay untouched.
  const decoded = new DecodedCache(new BytesCache(r.server.store, 256 * 1024 ** 2), 1024 ** 3, 1024 ** 3);
  decodedUrl = await routesOn(new CompareSource(async () => null, decoded));
});

afterAll(async () => {
  for (const app of apps) await app.close();
  await r?.stop();
});

async function get(base: string, path: string): Promise<{ status: number; body: unknown }> {
  const response = await fetch(`${base}${path}`);
  return { status: response.status, body: await json(response) };
}

/** Equal, numbers within float summation order (memory growth is summed in block order from the summaries). */
function expectNear(got: unknown, want: unknown, path: string): void {
  if (typeof want === 'number' && typeof got === 'number') {
    if (Math.abs(got - want) > 1e-9 * Math.max(1, Math.abs(got), Math.abs(want))) expect(got, path).toBe(want);
    return;
  }
  if (Array.isArray(want) && Array.isArray(got)) {
    expect(got.length, `${path}.length`).toBe(want.length);
    for (const [i, w] of want.entries()) expectNear(got[i], w, `${path}[${i}]`);
    return;
  }
  if (want && typeof want === 'object' && got && typeof got === 'object') {
    expect(Object.keys(got).sort(), path).toEqual(Object.keys(want).sort());
    for (const [k, w] of Object.entries(want)) expectNear((got as Record<string, unknown>)[k], w, `${path}.${k}`);
    return;
  }
  expect(got, path).toEqual(want);
}

/** Seeded, so a failure repeats. */
function random(seed: number): () => number {
  let x = seed;
  return () => (x = (Math.imul(x, 1103515245) + 12345) >>> 0) / 2 ** 32;
}

/** A side's window and thread: the whole run, or a random window (and thread, when it has several). */
function sideParams(side: 'base' | 'target', doc: ProfileDocument, next: () => number): Record<string, string> {
  const out: Record<string, string> = {};
  const time = doc.samples.time;
  const last = time[time.length - 1];
  if (next() < 0.75) {
    const a = next() * last;
    const b = next() * last;
    out[`${side}From`] = String(Math.min(a, b));
    out[`${side}To`] = String(Math.max(a, b) + 0.5);
  }
  const threads = doc.threads.id.length;
  if (threads > 1 && next() < 0.6) out[`${side}Thread`] = String(Math.floor(next() * threads));
  return out;
}

const PAIRS: [Key, Key][] = [
  ['spiky', 'cputimer'],
  ['cputimer', 'spiky'],
  ['spiky', 'spiky'],
  ['threads', 'threads'],
  ['threadsMemory', 'threadsMemory'],
  ['threads', 'cpu'],
];
const hasMemory = (k: Key) => docs[k].samples.memory !== null;

describe('compare answers from the summaries', () => {
  it('equal the answers from the decoded documents, whole runs and random ranges and threads', async () => {
    const decodes = r.server.cache.stats().decoded.misses;
    let checked = 0;
    for (const [i, [a, b]] of PAIRS.entries()) {
      const next = random(17 + i);
      for (let round = 0; round < 6; round++) {
        const params = {
          base: ids[a],
          target: ids[b],
          ...(round === 0 ? {} : { ...sideParams('base', docs[a], next), ...sideParams('target', docs[b], next) }),
        };
        const q = new URLSearchParams(params).toString();
        const paths = [`/api/compare/functions?${q}&top=100000`, `/api/compare/tree?${q}&minShare=0`];
        if (hasMemory(a) && hasMemory(b)) {
          paths.push(
            `/api/compare/functions?${q}&weight=growth&top=100000`,
            `/api/compare/tree?${q}&weight=growth&minShare=0.001`,
            `/api/compare/stacks?${q}&weight=growth&top=1000`,
            `/api/compare/memory?${q}&bins=${1 + Math.floor(next() * 300)}`,
          );
          if (docs[a].meta.startTime !== null && docs[b].meta.startTime !== null)
            paths.push(`/api/compare/memory?${q}&bins=64&align=clock`);
        } else paths.push(`/api/compare/stacks?${q}&top=200`, `/api/compare/memory?${q}`);
        for (const path of paths) {
          const want = await get(decodedUrl, path);
          for (const url of [r.url, smallBlocksUrl]) {
            const got = await get(url, path);
            expect(got.status, `${url}${path}`).toBe(want.status);
            expectNear(got.body, want.body, `${url === r.url ? 'server' : 'small blocks'} ${path}`);
          }
          if (want.status === 200) checked++;
        }
      }
    }
    expect(checked).toBeGreaterThan(100);
    // Neither the real server nor the small-block routes decoded a document.
    expect(r.server.cache.stats().decoded.misses).toBe(decodes);
  });

  it('builds the container of a profile stored without one on the worker pool, then answers from it', async () => {
    // Stored straight into the store (as before summaries existed): no container beside the document.
    const doc = docs.cputimer;
    const { id } = await r.server.store.put(await gzipDocument(doc), fieldsFromDocument(doc));
    const decodes = r.server.cache.stats().decoded.misses;
    const built = ((await get(r.url, '/health')).body as any).summaries.built;
    const q = (a: string, b: string) => `?base=${a}&target=${b}&targetFrom=1000&targetTo=4000&top=100000`;
    const lazy = await get(r.url, `/api/compare/functions${q(ids.spiky, id)}`);
    const stored = await get(r.url, `/api/compare/functions${q(ids.spiky, ids.cputimer)}`);
    expect(lazy.status).toBe(200);
    expect({ ...(lazy.body as any), target: null }).toEqual({ ...(stored.body as any), target: null });
    expect(((await get(r.url, '/health')).body as any).summaries.built).toBe(built + 1);
    expect(r.server.cache.stats().decoded.misses).toBe(decodes);
  });
});
