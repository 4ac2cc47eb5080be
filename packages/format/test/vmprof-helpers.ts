// Shared by the vmprof-*.test.ts files: fixture discovery and vmprof-compatible views of a result.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { constants, gunzipSync } from 'node:zlib';
import { FrameKind, type ProfileDocument } from '../src/index';
import type { VmprofReadResult } from '../src/vmprof/types';
import { fixturesDir } from '../../../scripts/fixtures.mjs';

const here = dirname(fileURLToPath(import.meta.url));
export const repoRoot = resolve(here, '../../..');
export const fixturesRoot = fixturesDir;

export interface Fixture {
  /** Path relative to `fixturesRoot`, e.g. `vmprof/v6-cp311-cpu.prof`. */
  name: string;
  profile: string;
  expected: string;
}

/** Every file under `fixtures/vmprof*` (recursively, sorted) whose name passes `keep`. */
export function vmprofFixtureFiles(keep: (name: string) => boolean): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir).sort()) {
      const path = join(dir, entry);
      if (statSync(path).isDirectory()) walk(path);
      else if (keep(entry)) out.push(path);
    }
  };
  for (const entry of readdirSync(fixturesRoot).sort()) {
    if (entry.startsWith('vmprof') && statSync(join(fixturesRoot, entry)).isDirectory())
      walk(join(fixturesRoot, entry));
  }
  return out;
}

/** The profile beside a `NAME.expected.json` (`.prof`, `.tsprof` or `.prof.gz`), or null. */
export function profileBeside(expected: string): string | null {
  const stem = expected.slice(0, -'.expected.json'.length);
  return ['.prof', '.tsprof', '.prof.gz'].map((ext) => stem + ext).find((p) => existsSync(p)) ?? null;
}

/** Every `NAME.expected.json` under `fixtures/vmprof*` with its profile, found at run time. */
export function vmprofFixtures(): Fixture[] {
  return vmprofFixtureFiles((entry) => entry.endsWith('.expected.json')).flatMap((expected) => {
    const profile = profileBeside(expected);
    return profile ? [{ name: profile.slice(fixturesRoot.length + 1), profile, expected }] : [];
  });
}

/** The uncompressed bytes of a fixture; a cut gzip stream yields what inflates before the cut. */
export function fixtureBytes(path: string): Uint8Array {
  const raw = readFileSync(path);
  if (raw[0] !== 0x1f || raw[1] !== 0x8b) return new Uint8Array(raw.buffer, raw.byteOffset, raw.length);
  const out = gunzipSync(raw, { finishFlush: constants.Z_SYNC_FLUSH });
  return new Uint8Array(out.buffer, out.byteOffset, out.length);
}

/** Python's `<` on str: code point order (JS compares UTF-16 code units). */
export function codePointCompare(a: string, b: string): number {
  const x = Array.from(a);
  const y = Array.from(b);
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const d = x[i].codePointAt(0)! - y[i].codePointAt(0)!;
    if (d !== 0) return d;
  }
  return x.length - y.length;
}

/** vmprof's name table: per id, the name that sorts last (format doc §7.2). */
export function vmprofNames(result: VmprofReadResult): Map<string, string> {
  const names = new Map<string, string>();
  for (const s of result.symbols) {
    const cur = names.get(s.address);
    if (cur === undefined || codePointCompare(s.name, cur) > 0) names.set(s.address, s.name);
  }
  return names;
}

/** All names recorded per address, for telling a deliberate naming difference from a bug. */
export function namesByAddress(result: VmprofReadResult): Map<string, Set<string>> {
  const all = new Map<string, Set<string>>();
  for (const s of result.symbols) {
    let set = all.get(s.address);
    if (!set) all.set(s.address, (set = new Set()));
    set.add(s.name);
  }
  return all;
}

const KIND_NAMES: Record<number, string> = {
  [FrameKind.Python]: 'code',
  [FrameKind.Native]: 'native',
  [FrameKind.Jit]: 'jit',
  [FrameKind.Asm]: 'asm',
};

export interface SampleView {
  /** Frame rows root-first. */
  frames: number[];
  lines: number[];
}

/** Root-first frame rows and lines of sample `i`. */
export function sampleFrames(doc: ProfileDocument, i: number): SampleView {
  const frames: number[] = [];
  const lines: number[] = [];
  for (let s = doc.samples.stack[i]; s >= 0; s = doc.stacks.parent[s]) {
    frames.push(doc.stacks.frame[s]);
    lines.push(doc.stacks.line[s]);
  }
  return { frames: frames.reverse(), lines: lines.reverse() };
}

/** Sample `i` in the form of the expected JSON, names by vmprof's rule (`names`), keys sorted. */
export function vmprofSample(
  doc: ProfileDocument,
  result: VmprofReadResult,
  names: Map<string, string>,
  i: number,
  /** vmprof 0.3.15 (the truth for v0 files) does not mark native entries. */
  withKinds = true,
): Record<string, unknown> {
  const { frames, lines } = sampleFrames(doc, i);
  const stack = frames.map((f) => names.get(doc.strings[doc.frames.address[f]]) ?? '<unknown code>');
  const kinds = frames.map((f) => KIND_NAMES[doc.frames.kind[f]]);
  const sample: Record<string, unknown> = { count: 1 };
  if (withKinds && kinds.some((k) => k !== 'code')) sample.kinds = kinds;
  if (doc.meta.vmprof?.lines) sample.lines = lines;
  sample.memory_kb = doc.samples.memory ? doc.samples.memory[i] / 1024 : null;
  sample.stack = stack;
  sample.thread = Number(doc.threads.id[doc.samples.thread[i]]);
  if (result.rawSampleTimes) sample.time = result.rawSampleTimes[i];
  return sample;
}

/** `json.dumps(sample, sort_keys=True, ensure_ascii=False, separators=(",", ":"))`. */
export function pythonJson(value: unknown): string {
  if (typeof value === 'number') {
    if (Number.isInteger(value)) return Number.isSafeInteger(value) ? String(value) : `${value}.0`;
    return String(value);
  }
  if (Array.isArray(value)) return `[${value.map(pythonJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const keys = Object.keys(value).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${pythonJson((value as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

export function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/**
 * samples_sha256 of a document as vmprof's truth computes it. Samples share a few stacks, so each
 * stack's JSON is built once (big_memory: 318,694 samples, 84 stacks).
 */
export function vmprofSamplesSha256(
  doc: ProfileDocument,
  result: VmprofReadResult,
  names: Map<string, string>,
  withKinds = true,
): string {
  const perStack = new Map<number, { head: string; stack: string }>();
  const hash = createHash('sha256');
  let text = '';
  for (let i = 0; i < doc.samples.length; i++) {
    const row = doc.samples.stack[i];
    let parts = perStack.get(row);
    if (!parts) {
      const s = vmprofSample(doc, result, names, i, withKinds);
      parts = {
        head: (s.kinds ? `"kinds":${pythonJson(s.kinds)},` : '') + (s.lines ? `"lines":${pythonJson(s.lines)},` : ''),
        stack: pythonJson(s.stack),
      };
      perStack.set(row, parts);
    }
    const memory = doc.samples.memory ? String(doc.samples.memory[i] / 1024) : 'null';
    const time = result.rawSampleTimes ? `,"time":${pythonJson(result.rawSampleTimes[i])}` : '';
    text += `{"count":1,${parts.head}"memory_kb":${memory},"stack":${parts.stack},"thread":${doc.threads.id[doc.samples.thread[i]]}${time}}\n`;
    if (text.length > 1 << 20) {
      hash.update(text, 'utf8');
      text = '';
    }
  }
  hash.update(text, 'utf8');
  return hash.digest('hex');
}
