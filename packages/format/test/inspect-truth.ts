/**
 * How an inspect JSON is held against vmprof's own reader (`NAME.expected.json` under
 * `fixtures/vmprof*`, found at run time). Shared by format's inspect-fixtures test (the
 * library call) and client's inspect-cli test (the real `prof inspect --json` command).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { constants, gunzipSync } from 'node:zlib';
import { expect } from 'vitest';
import { fixturesRoot, profileBeside, vmprofFixtureFiles } from './vmprof-helpers';

/** Provenance of the ground truth, not facts about the profile. */
const PROVENANCE = new Set(['reader', 'shims', 'cross_check']);
/** Keys Prof adds that a truth file may lack. */
const PROF_EXTRAS = new Set(['reader', 'warnings', 'memory_summary']);
/** Header fields vmprof has settled before any record can fail (meta and end time come later). */
const EARLY_HEADER_FIELDS = [
  'version',
  'word_size',
  'addr_size',
  'period_usec',
  'mode_byte',
  'profile_lines',
  'profile_memory',
  'profile_native',
  'profile_rpython',
  'profile_real_time',
  'interp',
  'start_time',
];

export interface TruthCase {
  /** e.g. `vmprof/bad/flipped-marker`. */
  label: string;
  truthPath: string;
  /** The `.prof`, `.prof.gz` or `.tsprof` beside the truth; null is a broken fixture set. */
  profile: string | null;
  truth: Record<string, any>;
}

/** Every `NAME.expected.json` with its profile: a fixture added later is covered without code changes. */
export function truthCases(): TruthCase[] {
  return vmprofFixtureFiles((entry) => entry.endsWith('.expected.json')).map((truthPath) => ({
    label: truthPath.slice(fixturesRoot.length + 1).replace(/\.expected\.json$/, ''),
    truthPath,
    profile: profileBeside(truthPath),
    truth: JSON.parse(readFileSync(truthPath, 'utf8')),
  }));
}

export interface LoadedProfile {
  /** Uncompressed bytes: what the offsets in warnings point into. */
  bytes: Uint8Array;
  /** The stored file as the truth's `file` names it. */
  file: { name: string; size: number; sha256: string };
  /** A gzip stream cut short: it inflates up to the cut, which is more than Python's gzip gives. */
  gzipTruncated: boolean;
}

export function loadProfile(path: string): LoadedProfile {
  const raw = readFileSync(path);
  const file = { name: basename(path), size: raw.length, sha256: createHash('sha256').update(raw).digest('hex') };
  if (!path.endsWith('.gz')) return { bytes: raw, file, gzipTruncated: false };
  try {
    return { bytes: gunzipSync(raw), file, gzipTruncated: false };
  } catch {
    return { bytes: gunzipSync(raw, { finishFlush: constants.Z_SYNC_FLUSH }), file, gzipTruncated: true };
  }
}

/** Paths where `actual` differs from `expected` (at most `limit`), with both values shortened. */
export function diff(expected: unknown, actual: unknown, path = '', out: string[] = [], limit = 12): string[] {
  if (out.length >= limit) return out;
  if (Object.is(expected, actual)) return out;
  const show = (v: unknown) => {
    const s = JSON.stringify(v);
    return s === undefined ? 'undefined' : s.length > 300 ? `${s.slice(0, 300)}…` : s;
  };
  if (Array.isArray(expected) && Array.isArray(actual)) {
    if (expected.length !== actual.length)
      out.push(`${path}: length ${expected.length} expected, got ${actual.length}`);
    for (let i = 0; i < Math.min(expected.length, actual.length) && out.length < limit; i++) {
      diff(expected[i], actual[i], `${path}[${i}]`, out, limit);
    }
    return out;
  }
  if (
    expected &&
    actual &&
    typeof expected === 'object' &&
    typeof actual === 'object' &&
    !Array.isArray(expected) &&
    !Array.isArray(actual)
  ) {
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

/** Where vmprof's reader succeeded: every field of the truth, and nothing else but Prof's extras. */
export function expectSameAsVmprof(truth: Record<string, any>, ours: object): void {
  const expected = Object.fromEntries(Object.entries(truth).filter(([k]) => !PROVENANCE.has(k)));
  const actual = Object.fromEntries(Object.entries(ours).filter(([k]) => !(PROF_EXTRAS.has(k) && !(k in expected))));
  const differences = diff(expected, actual);
  expect(differences, `differences from vmprof:\n${differences.join('\n')}`).toEqual([]);
}

interface InspectionLike {
  sample_count: number;
  samples_sha256: string;
  thread_ids: unknown[];
  samples: unknown[];
  header: object;
  warnings?: { code: string; message: string; offset?: number }[];
}

/**
 * Where vmprof's reader failed: Prof reads what vmprof's low-level reader read (`low_level_reader`,
 * else `partial`), or everything before the bad record, and says what was wrong and at which byte.
 */
export function expectBetterThanVmprof(truth: Record<string, any>, ours: InspectionLike, loaded: LoadedProfile): void {
  const partial = truth.low_level_reader ?? truth.partial;
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
    expect(diff(pick(truth.header), pick(ours.header as Record<string, unknown>))).toEqual([]);
  }
  const located = (ours.warnings ?? []).filter((w) => typeof w.offset === 'number');
  expect(located.length, JSON.stringify(ours.warnings)).toBeGreaterThan(0);
  for (const w of located) {
    expect(w.offset).toBeLessThanOrEqual(loaded.bytes.length);
    // A negative line is located by its stack record: the offset must hold that record's marker.
    if (w.code === 'negative-line') expect(loaded.bytes[w.offset!]).toBe(0x01);
  }
}

/** Only input with nothing readable may fail, and then with the typed error naming a byte offset. */
export function expectNothingReadable(truth: Record<string, any>, error: { code?: unknown; offset?: unknown }): void {
  expect(truth.error, 'vmprof read this file; Prof must too').toBeTruthy();
  expect((truth.low_level_reader ?? truth.partial).sample_count).toBe(0);
  expect(error.code).toBeTypeOf('string');
  expect(error.offset).toBeTypeOf('number');
}
