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
