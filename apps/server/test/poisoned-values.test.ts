// Issue 11 §3: a document whose values no view can use (times NaN, infinite, reversed or shuffled;
// absurd memory readings) is refused with 422 naming the column and row, on every way in, so no
// stored profile ever makes a view fail. Real server over HTTP, a real profile poisoned.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { encodeDocument, gzipDocument, readProfileFile, type ProfileDocument } from '@prof/format/node';
import { fixtures, json, startServer, type Running } from './helpers';

let r: Running;
let spiky: ProfileDocument;

beforeAll(async () => {
  r = await startServer();
  spiky = await readProfileFile(join(fixtures, 'vmprof-fresh/memory_spiky.prof'));
});

afterAll(async () => {
  await r.stop();
});

function poisoned(poison: (doc: ProfileDocument) => void): ProfileDocument {
  const doc = structuredClone(spiky);
  poison(doc);
  return doc;
}

/** A seeded shuffle: the same order on every run. */
function shuffle(values: Float64Array): void {
  let seed = 12345;
  for (let i = values.length - 1; i > 0; i--) {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    const j = seed % (i + 1);
    [values[i], values[j]] = [values[j], values[i]];
  }
}

const CASES: [string, (doc: ProfileDocument) => void, RegExp][] = [
  ['NaN time', (d) => (d.samples.time[7] = Number.NaN), /samples\.time\[7\]: NaN is not a finite number/],
  ['infinite time', (d) => (d.samples.time[9] = Infinity), /samples\.time\[9\]: Infinity is not a finite number/],
  ['reversed times', (d) => d.samples.time.reverse(), /samples\.time\[1\]: .* is before the previous sample's/],
  ['shuffled times', (d) => shuffle(d.samples.time), /samples\.time\[\d+\]: .* is before the previous sample's/],
  ['memory 1.7e308', (d) => (d.samples.memory![3] = 1.7e308), /samples\.memory\[3\]: 1\.7e\+308 is out of range/],
  ['negative memory', (d) => (d.samples.memory![0] = -4096), /samples\.memory\[0\]: -4096 is out of range/],
  ['infinite memory', (d) => (d.samples.memory![5] = -Infinity), /samples\.memory\[5\]: -Infinity is out of range/],
  ['start time no date', (d) => (d.meta.startTime = 1e300), /meta\.startTime: 1e\+300 is no date/],
];

describe('poisoned values are refused with 422 bad-value naming column and row', () => {
  it.each(CASES)('%s (.msgpack.gz and plain msgpack)', async (_name, poison, message) => {
    const doc = poisoned(poison);
    for (const body of [await gzipDocument(doc), Buffer.from(encodeDocument(doc))]) {
      const res = await fetch(`${r.url}/api/profiles`, { method: 'POST', body: new Uint8Array(body) });
      const answer = await json(res);
      expect(res.status, JSON.stringify(answer)).toBe(422);
      expect(answer.error.code).toBe('bad-value');
      expect(answer.error.message).toMatch(message);
    }
  });

  it('nothing poisoned was stored; a sound profile serves every view', async () => {
    expect((await json(await fetch(`${r.url}/api/profiles`))).total).toBe(0);
    const res = await fetch(`${r.url}/api/profiles`, {
      method: 'POST',
      body: new Uint8Array(await gzipDocument(spiky)),
    });
    expect(res.status).toBe(201);
    const { id } = await json(res);
    for (const view of ['memory?bins=100', 'stacks', 'document']) {
      expect((await fetch(`${r.url}/api/profiles/${id}/${view}`)).status, view).toBe(200);
    }
  });
});
