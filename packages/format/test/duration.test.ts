// One definition of a profile's duration (profileDuration), whatever holds the samples: the index
// row and the decoded views (documentSummary, documentDuration), the summaries' meta (first and last
// time as they streamed by).
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fixturesDir } from '../../../scripts/fixtures.mjs';
import { documentDuration, documentSummary, profileDuration } from '../src/index';
import { readProfileFile } from '../src/node';

describe('profileDuration', () => {
  it('is end − start when both are known, else the span from the start (or an earlier first sample)', () => {
    const known = { startTime: 1_000, endTime: 61_000 };
    const unknown = { startTime: null, endTime: null };
    expect(profileDuration(known, 'spread-start-end', 10, 3, 59_000)).toBe(60_000);
    expect(profileDuration({ startTime: 5, endTime: 2 }, 'recorded', 10, 0, 9)).toBe(0);
    expect(profileDuration(unknown, 'recorded', 10, 20, 600)).toBe(600);
    expect(profileDuration(unknown, 'recorded', 10, -50, 600)).toBe(650);
    expect(profileDuration({ startTime: 1_000, endTime: null }, 'period', 3, 0, 8)).toBe(8);
  });

  it('is 0 (unknown, never invented) without samples or without recorded time', () => {
    const unknown = { startTime: null, endTime: null };
    expect(profileDuration(unknown, 'recorded', 0, Number.NaN, Number.NaN)).toBe(0);
    expect(profileDuration(unknown, 'none', 100, 0, 99)).toBe(0);
  });

  it('documentDuration and documentSummary give the same figure on real profiles', async () => {
    for (const file of [
      'vmprof-fresh/cpu_basic.prof',
      'vmprof-fresh/threads.prof',
      'pyspy/cpu_work-50hz.speedscope.json',
      'austin/alloc_work-wall.austin',
    ]) {
      const doc = await readProfileFile(join(fixturesDir, file));
      const { meta, samples } = doc;
      const want = profileDuration(meta, samples.timeSource, samples.length, samples.time[0], samples.time.at(-1)!);
      expect(want, file).toBeGreaterThan(0);
      expect([documentDuration(doc), documentSummary(doc).durationMs], file).toEqual([want, want]);
    }
  });
});
