/**
 * `inspectVmprof` against vmprof's own reader: every `NAME.expected.json` under
 * `fixtures/vmprof*` (recursively, so fixtures added later are covered) is
 * compared field by field with the inspect JSON of its profile.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { inspectVmprof, ProfFormatError, Sha256, type VmprofInspection } from '../src/index';
import {
  expectBetterThanVmprof,
  expectNothingReadable,
  expectSameAsVmprof,
  loadProfile,
  truthCases,
  type LoadedProfile,
} from './inspect-truth';
import { fixturesRoot } from './vmprof-helpers';

/** Above this size the default (node:crypto) hash is used; below, the pure SHA-256 is exercised on real data. */
const BIG_FILE_BYTES = 10 << 20;

function inspect(loaded: LoadedProfile): VmprofInspection {
  const big = loaded.bytes.length > BIG_FILE_BYTES;
  return inspectVmprof(loaded.bytes, loaded.file, big ? {} : { createHash: () => new Sha256() });
}

describe("inspectVmprof reproduces vmprof's reader on every fixture", () => {
  const cases = truthCases();
  it('finds the fixtures', () => {
    expect(cases.length).toBeGreaterThan(40);
  });

  for (const { label, truthPath, profile, truth } of cases) {
    if (!truth.error) {
      it(`${label}: every field equals vmprof's`, () => {
        expect(profile, `no profile beside ${truthPath}`).not.toBeNull();
        expectSameAsVmprof(truth, inspect(loadProfile(profile!)));
      });
      continue;
    }
    it(`${label}: reads what vmprof's reader read before failing (${truth.error.slice(0, 60)})`, () => {
      expect(profile, `no profile beside ${truthPath}`).not.toBeNull();
      const loaded = loadProfile(profile!);
      let ours: VmprofInspection;
      try {
        ours = inspect(loaded);
      } catch (e) {
        expect(e).toBeInstanceOf(ProfFormatError);
        expectNothingReadable(truth, { code: (e as ProfFormatError).code, offset: (e as ProfFormatError).offset });
        return;
      }
      expectBetterThanVmprof(truth, ours, loaded);
    });
  }
});

describe('inspectVmprof on cut-short files', () => {
  it('every prefix of a small fixture gives the JSON with a located warning, or the typed error', () => {
    const full = readFileSync(join(fixturesRoot, 'vmprof/v6-cp311-lines.prof'));
    const whole = inspect({ bytes: full, file: { name: 'x', size: 0, sha256: '' }, gzipTruncated: false });
    let results = 0;
    let errors = 0;
    // Every byte near the start (header, first records) and the end (name records, trailer), a
    // stride in between: each prefix walks the same code paths as its neighbours there.
    const lengths = new Set<number>();
    for (let n = 0; n <= 600; n++) lengths.add(n);
    for (let n = 600; n < full.length - 1300; n += 257) lengths.add(n);
    for (let n = full.length - 1300; n <= full.length; n++) lengths.add(n);
    for (const n of lengths) {
      const bytes = full.subarray(0, n);
      let out: VmprofInspection;
      try {
        out = inspectVmprof(bytes, undefined, { createHash: () => createHash('sha256') });
      } catch (e) {
        expect(e, `prefix ${n}`).toBeInstanceOf(ProfFormatError);
        errors++;
        continue;
      }
      results++;
      expect(out.sample_count).toBeLessThanOrEqual(whole.sample_count);
      if (n < full.length) {
        expect(
          out.warnings?.some((w) => typeof w.offset === 'number' && w.offset <= n),
          `prefix ${n}`,
        ).toBe(true);
      }
      if (n === full.length) expect(out.samples_sha256).toBe(whole.samples_sha256);
    }
    expect(results).toBeGreaterThan(1500);
    expect(errors).toBeGreaterThan(0);
  });
});
