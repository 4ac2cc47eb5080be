/**
 * `inspectVmprof` against vmprof's own reader: every `NAME.expected.json` under
 * `<repoRoot>/../shared/fixtures/vmprof*` (recursively, so fixtures added later are covered) is
 * compared field by field with the inspect JSON of its profile.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { constants, gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { inspectVmprof, ProfFormatError, Sha256, type VmprofInspection } from '../src/index';

const fixturesRoot = resolve(__dirname, '../../../../shared/fixtures');

/** Provenance of the ground truth, not facts about the profile. */
const PROVENANCE = new Set(['reader', 'shims', 'cross_check']);
/** Keys Prof adds that a truth file may lack. */
const PROF_EXTRAS = new Set(['reader', 'warnings', 'memory_summary']);
const PROFILE_SUFFIXES = ['.prof', '.prof.gz', '.tsprof'];
/** Above this size the default (node:crypto) hash is used; below, the pure SHA-256 is exercised on real data. */
const BIG_FILE_BYTES = 10 << 20;

function expectedFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir).sort()) {
    const p = join(dir, entry);
    if (statSync(p).isDirectory()) out.push(...expectedFiles(p));
    else if (entry.endsWith('.expected.json')) out.push(p);
  }
  return out;
}

const truthFiles = readdirSync(fixturesRoot)
  .filter((d) => d.startsWith('vmprof') && statSync(join(fixturesRoot, d)).isDirectory())
  .flatMap((d) => expectedFiles(join(fixturesRoot, d)));

function profileFor(expectedPath: string): string | null {
  const stem = join(dirname(expectedPath), basename(expectedPath, '.expected.json'));
  return PROFILE_SUFFIXES.map((s) => stem + s).find((p) => existsSync(p)) ?? null;
}

interface Loaded {
  bytes: Uint8Array;
  file: { name: string; size: number; sha256: string };
  gzipTruncated: boolean;
}

function load(path: string): Loaded {
  const raw = readFileSync(path);
  const file = { name: basename(path), size: raw.length, sha256: createHash('sha256').update(raw).digest('hex') };
  if (!path.endsWith('.gz')) return { bytes: raw, file, gzipTruncated: false };
  try {
    return { bytes: gunzipSync(raw), file, gzipTruncated: false };
  } catch {
    // A cut-short gzip still inflates up to the cut; the reader then sees a cut-short profile.
    return { bytes: gunzipSync(raw, { finishFlush: constants.Z_SYNC_FLUSH }), file, gzipTruncated: true };
  }
}

/** Paths where `actual` differs from `expected` (at most `limit`), with both values shortened. */
function diff(expected: unknown, actual: unknown, path = '', out: string[] = [], limit = 12): string[] {
  if (out.length >= limit) return out;
  if (Object.is(expected, actual)) return out;
  const show = (v: unknown) => {
    const s = JSON.stringify(v);
    return s === undefined ? 'undefined' : s.length > 300 ? `${s.slice(0, 300)}…` : s;
  };
  if (Array.isArray(expected) && Array.isArray(actual)) {
    if (expected.length !== actual.length) out.push(`${path}: length ${expected.length} expected, got ${actual.length}`);
    for (let i = 0; i < Math.min(expected.length, actual.length) && out.length < limit; i++) {
      diff(expected[i], actual[i], `${path}[${i}]`, out, limit);
    }
    return out;
  }
  if (expected && actual && typeof expected === 'object' && typeof actual === 'object' && !Array.isArray(expected) && !Array.isArray(actual)) {
    const e = expected as Record<string, unknown>;
    const a = actual as Record<string, unknown>;
    for (const k of new Set([...Object.keys(e), ...Object.keys(a)])) {
      if (!(k in a)) out.push(`${path}.${k}: missing (expected ${show(e[k])})`);
      else if (!(k in e)) out.push(`${path}.${k}: unexpected ${show(a[k])}`);
      else diff(e[k], a[k], `${path}.${k}`, out, limit);
      if (out.length >= limit) break;
    }
    return out;
  }
  out.push(`${path}: expected ${show(expected)}, got ${show(actual)}`);
  return out;
}

function inspect(loaded: Loaded): VmprofInspection {
  const big = loaded.bytes.length > BIG_FILE_BYTES;
  return inspectVmprof(loaded.bytes, loaded.file, big ? {} : { createHash: () => new Sha256() });
}

/** Header fields vmprof has settled before any record can fail (meta and end time come later). */
const EARLY_HEADER_FIELDS = ['version', 'word_size', 'addr_size', 'period_usec', 'mode_byte', 'profile_lines', 'profile_memory', 'profile_native', 'profile_rpython', 'profile_real_time', 'interp', 'start_time'];

describe('inspectVmprof reproduces vmprof\'s reader on every fixture', () => {
  it('finds the fixtures', () => {
    expect(truthFiles.length).toBeGreaterThan(40);
  });

  for (const truthPath of truthFiles) {
    const label = truthPath.slice(fixturesRoot.length + 1).replace(/\.expected\.json$/, '');
    const profile = profileFor(truthPath);
    const truth = JSON.parse(readFileSync(truthPath, 'utf8')) as Record<string, any>;

    if (!truth.error) {
      it(`${label}: every field equals vmprof's`, () => {
        expect(profile, `no profile beside ${truthPath}`).not.toBeNull();
        const ours = inspect(load(profile!)) as unknown as Record<string, unknown>;
        const expected = Object.fromEntries(Object.entries(truth).filter(([k]) => !PROVENANCE.has(k)));
        const actual = Object.fromEntries(
          Object.entries(ours).filter(([k]) => !(PROF_EXTRAS.has(k) && !(k in expected))),
        );
        const differences = diff(expected, actual);
        expect(differences, `differences from vmprof:\n${differences.join('\n')}`).toEqual([]);
      });
      continue;
    }

    const partial = truth.low_level_reader ?? truth.partial;
    it(`${label}: reads what vmprof's reader read before failing (${truth.error.slice(0, 60)})`, () => {
      expect(profile, `no profile beside ${truthPath}`).not.toBeNull();
      const loaded = load(profile!);
      let ours: VmprofInspection;
      try {
        ours = inspect(loaded);
      } catch (e) {
        // Only input with nothing readable may be an error, and then the typed one.
        expect(e).toBeInstanceOf(ProfFormatError);
        expect(partial.sample_count).toBe(0);
        expect((e as ProfFormatError).details.offset).toBeTypeOf('number');
        return;
      }
      // Python's gzip module stops at its last whole buffer; inflating up to the cut gives more.
      if (loaded.gzipTruncated) expect(ours.sample_count).toBeGreaterThanOrEqual(partial.sample_count);
      else expect(ours.sample_count).toBe(partial.sample_count);
      if (partial.samples_sha256) expect(ours.samples_sha256).toBe(partial.samples_sha256);
      if (partial.thread_ids) expect(ours.thread_ids).toEqual(partial.thread_ids);
      if (partial.samples) {
        const differences = diff(partial.samples, ours.samples, 'samples');
        expect(differences, differences.join('\n')).toEqual([]);
      }
      if (truth.header?.version !== null && partial.sample_count > 0) {
        const pick = (h: Record<string, unknown>) => Object.fromEntries(EARLY_HEADER_FIELDS.map((k) => [k, h[k]]));
        expect(diff(pick(truth.header), pick(ours.header as unknown as Record<string, unknown>))).toEqual([]);
      }
      // Prof says what vmprof choked on, and where.
      const located = (ours.warnings ?? []).filter((w) => typeof w.offset === 'number');
      expect(located.length, JSON.stringify(ours.warnings)).toBeGreaterThan(0);
      for (const w of located) {
        expect(w.offset).toBeLessThanOrEqual(loaded.bytes.length);
        // A negative line is located by its stack record: the offset must hold that record's marker.
        if (w.code === 'negative-line') expect(loaded.bytes[w.offset!]).toBe(0x01);
      }
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
        expect(out.warnings?.some((w) => typeof w.offset === 'number' && w.offset <= n), `prefix ${n}`).toBe(true);
      }
      if (n === full.length) expect(out.samples_sha256).toBe(whole.samples_sha256);
    }
    expect(results).toBeGreaterThan(1500);
    expect(errors).toBeGreaterThan(0);
  });
});
