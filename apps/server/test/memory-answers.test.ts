// /memory answers from a profile's summaries are kept serialized: the same query again is the same
// bytes from the cache (counted in /health), another query is computed, and a deleted profile's
// kept answer is never served.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixtures, json, startServer, type Running } from './helpers';

let r: Running;
let id: string;
const token = 'answers-token';
beforeAll(async () => {
  r = await startServer({ token });
  const body = await readFile(join(fixtures, 'vmprof-fresh/memory_spiky.prof'));
  const up = await fetch(`${r.url}/api/profiles?name=answers`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${token}` },
    body,
  });
  expect(up.status).toBe(201);
  id = (await json(up)).id;
});
afterAll(async () => {
  await r?.stop();
});

const answers = async () => (await json(await fetch(`${r.url}/health`))).summaries.answers;

describe('memory answers kept serialized', () => {
  it('the same query twice: the same bytes, the second from the cache; another query is computed', async () => {
    const before = await answers();
    const first = await fetch(`${r.url}/api/profiles/${id}/memory?bins=200`);
    expect(first.status).toBe(200);
    const firstBody = await first.text();
    const second = await fetch(`${r.url}/api/profiles/${id}/memory?bins=200`);
    expect(second.status).toBe(200);
    expect(second.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(await second.text()).toBe(firstBody);
    expect(await answers()).toMatchObject({ hits: before.hits + 1, misses: before.misses + 1 });

    const whole = JSON.parse(firstBody);
    expect(whole.bins).toHaveLength(200);
    const mid = (whole.from + whole.to) / 2;
    const zoomed = await json(await fetch(`${r.url}/api/profiles/${id}/memory?bins=200&from=${whole.from}&to=${mid}`));
    expect(zoomed.to).toBe(mid);
    expect(zoomed.bins[0].max).not.toBeUndefined();
    const after = await answers();
    expect(after).toMatchObject({ hits: before.hits + 1, misses: before.misses + 2 });
    expect(after.chars).toBeGreaterThan(firstBody.length);
  });

  it('snap=1: inner edges at block starts, each bin where it says, the same samples in all', async () => {
    // memory_spiky's 28,034 samples are ~876 blocks: 20 bins of ~44 blocks move their edges.
    const even = await json(await fetch(`${r.url}/api/profiles/${id}/memory?bins=20`));
    const snapped = await json(await fetch(`${r.url}/api/profiles/${id}/memory?bins=20&snap=1`));
    expect(snapped.bins).toHaveLength(20);
    const total = (a: { count: number }[]) => a.reduce((n, b) => n + b.count, 0);
    expect(total(snapped.bins)).toBe(total(even.bins));
    expect(snapped.bins[0].start).toBe(even.bins[0].start);
    expect(snapped.bins[19].end).toBe(even.bins[19].end);
    const moved = snapped.bins.filter((b: { start: number }, i: number) => i > 0 && b.start !== even.bins[i].start);
    expect(moved.length).toBeGreaterThan(10);
    for (let i = 1; i < 20; i++) {
      expect(snapped.bins[i].start).toBe(snapped.bins[i - 1].end);
      // Forward, never past the next even edge.
      expect(snapped.bins[i].start).toBeGreaterThanOrEqual(even.bins[i].start);
      expect(snapped.bins[i].start).toBeLessThan(even.bins[i].end);
    }
    // The highest reading is in some bin either way.
    const top = (a: { max: number | null }[]) => Math.max(...a.map((b) => b.max ?? -Infinity));
    expect(top(snapped.bins)).toBe(top(even.bins));
  });

  it('a deleted profile: 404, not the answer kept for it', async () => {
    expect((await fetch(`${r.url}/api/profiles/${id}/memory?bins=200`)).status).toBe(200);
    const del = await fetch(`${r.url}/api/profiles/${id}`, {
      method: 'DELETE',
      headers: { Authorization: `Bearer ${token}` },
    });
    expect(del.status).toBe(200);
    const gone = await fetch(`${r.url}/api/profiles/${id}/memory?bins=200`);
    expect(gone.status).toBe(404);
  });
});
