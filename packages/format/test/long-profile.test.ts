// scripts/make-long-profile.mjs writes valid vmprof files N times longer than a real one.
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { makeLongProfile } from '../../../scripts/make-long-profile.mjs';
import { readProfileFile } from '../src/node';
import { fixturesRoot } from './vmprof-helpers';

const work = mkdtempSync(join(tmpdir(), 'prof-long-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('makeLongProfile', () => {
  it('repeats big_memory.prof: N times the samples and the duration, memory kept, no warning', async () => {
    const source = join(fixturesRoot, 'vmprof-fresh/big_memory.prof');
    const one = await readProfileFile(source);
    const out = join(work, 'x3.prof');
    const made = makeLongProfile({ source, times: 3, out });
    expect(made.bytes).toBe(statSync(out).size);
    const doc = await readProfileFile(out);
    expect(doc.warnings).toEqual([]);
    expect(doc.samples.length).toBe(3 * one.samples.length);
    expect(made.samples).toBe(doc.samples.length);
    const duration = (d: typeof doc) => (d.meta.endTime ?? 0) - (d.meta.startTime ?? 0);
    expect(duration(doc)).toBeCloseTo(3 * duration(one), 0);
    expect(doc.meta.vmprof?.memory).toBe(true);
    const n = one.samples.length;
    for (const i of [0, 1, 1000, n - 1]) {
      expect(doc.samples.stack[2 * n + i]).toBe(one.samples.stack[i]);
      expect(doc.samples.memory?.[2 * n + i]).toBe(one.samples.memory?.[i]);
    }
    expect(doc.stacks.length).toBe(one.stacks.length);
  });

  it('shifts v7 time stamps so they keep increasing over the repetitions', async () => {
    const source = join(fixturesRoot, 'vmprof/v7-cpython-cpuburn.tsprof');
    const one = await readProfileFile(source);
    const out = join(work, 'v7x3.prof');
    makeLongProfile({ source, times: 3, out });
    const doc = await readProfileFile(out);
    expect(doc.warnings).toEqual([]);
    expect(doc.samples.timeSource).toBe('recorded');
    const n = one.samples.length;
    expect(doc.samples.length).toBe(3 * n);
    const span = (one.meta.endTime ?? 0) - (one.meta.startTime ?? 0);
    expect(doc.samples.time[2 * n + 5] - one.samples.time[5]).toBeCloseTo(2 * span, 3);
  });

  it('refuses a count below 1', () => {
    expect(() =>
      makeLongProfile({ source: join(fixturesRoot, 'vmprof-fresh/big_memory.prof'), times: 0, out: join(work, 'x') }),
    ).toThrow(/times/);
  });
});
