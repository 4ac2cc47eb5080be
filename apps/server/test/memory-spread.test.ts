// The spread of each memory bin (`sd`) over HTTP: a real vmprof file uploaded to a real server,
// answered from its summaries container (nothing decoded), against a brute-force pass over the
// samples of the document the server stored (finite readings only, as `mean` counts them).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { BinRow } from '@prof/binning';
import { gunzipDocument, type ProfileDocument } from '@prof/format/node';
import { fixtures, json, startServer, storedBytes, type Running } from './helpers';

let r: Running;
let id: string;
let doc: ProfileDocument;

beforeAll(async () => {
  r = await startServer();
  const up = await fetch(`${r.url}/api/profiles?project=spread`, {
    method: 'POST',
    body: (await readFile(join(fixtures, 'vmprof-fresh/memory_spiky.prof'))) as unknown as BodyInit,
  });
  expect(up.status).toBe(201);
  id = (await json(up)).id;
  doc = await gunzipDocument(await storedBytes(r, id));
});

afterAll(async () => {
  await r?.stop();
});

/** Count, mean and sd (two passes) of the finite readings of the samples in [start, end). */
function brute(start: number, end: number): { count: number; mean: number; sd: number } {
  const { time, memory } = doc.samples;
  const values: number[] = [];
  for (let k = 0; k < time.length; k++) {
    if (time[k] >= start && time[k] < end && Number.isFinite(memory![k])) values.push(memory![k]);
  }
  const mean = values.reduce((a, v) => a + v, 0) / values.length;
  const sd = Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / values.length);
  return { count: values.length, mean, sd };
}

describe('the spread of memory bins', () => {
  it('equals a brute-force pass over the samples, whole run and zoomed, answered from the container', async () => {
    const before = await json(await fetch(`${r.url}/health`));
    const whole = await json(await fetch(`${r.url}/api/profiles/${id}/memory?bins=300`));
    const span = whole.to - whole.from;
    const from = whole.from + span * 0.37;
    const to = whole.from + span * 0.41;
    const zoom = await json(await fetch(`${r.url}/api/profiles/${id}/memory?bins=120&from=${from}&to=${to}`));
    expect((await json(await fetch(`${r.url}/health`))).cache).toEqual(before.cache); // nothing decoded
    for (const [label, bins] of [
      ['whole run', whole.bins],
      ['zoomed', zoom.bins],
    ] as [string, BinRow[]][]) {
      let spread = 0;
      for (const [i, bin] of bins.entries()) {
        const want = brute(bin.start, bin.end);
        expect(bin.count, `${label} bin ${i}`).toBe(want.count);
        if (want.count === 0) {
          expect(bin.sd, `${label} bin ${i}`).toBeNull();
          continue;
        }
        // Both rounded to a whole byte on the wire (a sum's rounding may fall on either side of a half).
        const byte = 0.5 + 1e-9 * Math.max(Math.abs(want.mean), 1);
        expect(Number.isInteger(bin.sd) && Number.isInteger(bin.mean), `${label} bin ${i}: whole bytes`).toBe(true);
        expect(Math.abs(bin.sd! - want.sd), `${label} bin ${i}: ${bin.sd} vs ${want.sd}`).toBeLessThanOrEqual(byte);
        expect(Math.abs(bin.mean! - want.mean), `${label} bin ${i}: ${bin.mean} vs ${want.mean}`).toBeLessThanOrEqual(
          byte,
        );
        // The band mean ± sd the chart draws, clamped to [min, max], is never empty.
        expect(Math.max(bin.min!, bin.mean! - bin.sd!)).toBeLessThanOrEqual(Math.min(bin.max!, bin.mean! + bin.sd!));
        if (bin.sd! > 0) spread++;
      }
      // A spiky run: bins with a spread to show, not only flat ones.
      expect(spread, label).toBeGreaterThan(0);
    }
  });
});
