// /metrics: the conversion-latency histogram moves with each conversion, by kind and outcome.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fixtures, json, type Running, startServer, waitForProfile } from './helpers';

const TOKEN = 'metrics-token';
const auth = { authorization: `Bearer ${TOKEN}` };
let r: Running;

beforeAll(async () => {
  r = await startServer({ token: TOKEN });
});
afterAll(async () => {
  await r.stop();
});

/** The value of one sample line of the exposition (0 when the series does not exist yet). */
async function sample(name: string, labels: string): Promise<number> {
  const text = await (await fetch(`${r.url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}} `));
  return line ? Number(line.split(' ')[1]) : 0;
}

describe('/metrics conversion latency', () => {
  it('counts and times each conversion by kind and outcome', async () => {
    const count = 'prof_conversion_duration_seconds_count';
    const sum = 'prof_conversion_duration_seconds_sum';
    expect(await sample(count, 'kind="prof",outcome="ok"')).toBe(0);
    const prof = await readFile(join(fixtures, 'vmprof-fresh/memory_spiky.prof'));
    const direct = await fetch(`${r.url}/api/profiles`, {
      method: 'POST',
      body: prof as unknown as BodyInit,
      headers: auth,
    });
    expect(direct.status).toBe(201);
    expect(await sample(count, 'kind="prof",outcome="ok"')).toBe(1);
    expect(await sample(sum, 'kind="prof",outcome="ok"')).toBeGreaterThan(0);

    const bad = await fetch(`${r.url}/api/profiles`, { method: 'POST', body: 'not a profile', headers: auth });
    expect(bad.status).toBe(400);
    const { code } = (await json(bad)).error;
    expect(await sample(count, `kind="prof",outcome="${code}"`)).toBe(1);

    // the vmprof client's runtime protocol: converted by the queue after the answer
    const rid = (await json(await fetch(`${r.url}/api/runtime/new`, { method: 'POST', body: '{}', headers: auth })))
      .runtime_id;
    const cpu = await readFile(join(fixtures, 'vmprof-fresh/memory_cputimer.prof'));
    const add = await fetch(`${r.url}/api/runtime/upload/cpu/${rid}/add`, {
      method: 'POST',
      body: cpu as unknown as BodyInit,
      headers: auth,
    });
    expect(add.status).toBe(200);
    expect((await fetch(`${r.url}/api/runtime/${rid}/freeze/`, { method: 'POST', headers: auth })).status).toBe(200);
    await waitForProfile(r.url, rid);
    expect(await sample(count, 'kind="vmprof",outcome="ok"')).toBe(1);
  });
});
