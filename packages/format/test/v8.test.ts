import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  assertIntegrity,
  decodeDocument,
  detectFormat,
  documentSummary,
  encodeDocument,
  FrameKind,
  ProfFormatError,
  readV8CpuProfile,
} from '../src/index';

// A real `node --cpu-prof` profile, recorded once for this file.
const WORKLOAD = `
function crunchNumbers(ms) {
  // ms of CPU time, not wall time: most samples are in here however loaded the machine is.
  const start = process.cpuUsage();
  let x = 0;
  for (let u = start; u.user + u.system < ms * 1000; u = process.cpuUsage(start))
    for (let i = 0; i < 1e4; i++) x += Math.sqrt(i * x + 1);
  return x;
}
function main() { return crunchNumbers(400); }
main();
`;

let dir: string;
let profileText: string;
let profile: { nodes: unknown[]; samples: number[]; timeDeltas: number[]; startTime: number; endTime: number };

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'prof-v8-'));
  writeFileSync(join(dir, 'workload.js'), WORKLOAD);
  execFileSync(process.execPath, [
    '--cpu-prof',
    '--cpu-prof-dir',
    dir,
    '--cpu-prof-interval',
    '500',
    join(dir, 'workload.js'),
  ]);
  const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
  if (!file) throw new Error('node --cpu-prof wrote no profile');
  profileText = readFileSync(join(dir, file), 'utf8');
  profile = JSON.parse(profileText);
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('readV8CpuProfile on a real node --cpu-prof profile', () => {
  it('is detected by content', () => {
    expect(detectFormat(new TextEncoder().encode(profileText.slice(0, 4096)))).toBe('v8-cpuprofile');
  });

  it('reads every sample with exact recorded times', () => {
    const doc = readV8CpuProfile(profileText);
    assertIntegrity(doc);
    expect(doc.meta.source).toBe('v8-cpuprofile');
    expect(doc.samples.length).toBe(profile.samples.length);
    expect(doc.samples.timeSource).toBe('recorded');
    expect(doc.samples.timeEstimated).toBe(false);
    // Without a wall-clock start, times count from the first sample; each is its recorded time,
    // the running sum of the deltas from the profile's start. Node writes a negative delta now and
    // then (a sample recorded before the one listed ahead of it, or before the start): that one
    // sample takes its predecessor's time.
    let recorded = 0;
    let kept = 0;
    let backwards = 0;
    let first = 0;
    for (let i = 0; i < doc.samples.length; i++) {
      recorded += profile.timeDeltas[i];
      if (recorded < kept) backwards++;
      kept = Math.max(kept, recorded);
      if (i === 0) first = kept;
      expect(doc.samples.time[i]).toBeCloseTo((kept - first) / 1000, 9);
    }
    expect(doc.samples.time[0]).toBe(0);
    expect(doc.warnings.some((w) => w.code === 'time-reordered')).toBe(backwards > 0);
  });

  it('names frames, marks V8 pseudo-frames native, finds the top function', () => {
    const doc = readV8CpuProfile(new TextEncoder().encode(profileText));
    const names = Array.from(doc.frames.name, (s) => doc.strings[s]);
    const crunch = names.indexOf('crunchNumbers');
    expect(crunch).toBeGreaterThanOrEqual(0);
    expect(doc.strings[doc.frames.file[crunch]]).toMatch(/workload\.js$/);
    expect(doc.frames.line[crunch]).toBe(2); // 1-based: the function starts on the file's 2nd line
    expect(doc.frames.kind[crunch]).toBe(FrameKind.JavaScript);
    const program = names.indexOf('(program)');
    if (program >= 0) expect(doc.frames.kind[program]).toBe(FrameKind.Native);
    expect(names).not.toContain('(root)');
    const summary = documentSummary(doc);
    expect(summary.topFunction).toBe('main');
    expect(summary.sampleCount).toBe(profile.samples.length);
    expect(summary.hasMemory).toBe(false);
    // Most samples are inside crunchNumbers.
    let inCrunch = 0;
    for (let i = 0; i < doc.samples.length; i++) {
      for (let s = doc.samples.stack[i]; s >= 0; s = doc.stacks.parent[s]) {
        if (doc.stacks.frame[s] === crunch) {
          inCrunch++;
          break;
        }
      }
    }
    expect(inCrunch).toBeGreaterThan(doc.samples.length / 2);
  });

  it('maps wall clock and memory readings onto samples (latest reading at or before)', () => {
    const wall = 1_764_000_000_000;
    const durationMs = (profile.endTime - profile.startTime) / 1000;
    const time = Float64Array.from([wall - 50, wall + durationMs / 2, wall + durationMs + 100]);
    const bytes = Float64Array.from([100e6, 200e6, 300e6]);
    const doc = readV8CpuProfile(profile, {
      wallClockStartMs: wall,
      memory: { time, bytes },
      project: 'p',
      name: 'job',
      tags: { k: 'v' },
    });
    assertIntegrity(doc);
    expect(doc.meta.startTime).toBe(wall);
    expect(doc.meta.endTime).toBeCloseTo(wall + durationMs, 6);
    expect(doc.meta).toMatchObject({ project: 'p', name: 'job', tags: { k: 'v' }, interpreter: 'node' });
    const mem = doc.samples.memory!;
    for (let i = 0; i < doc.samples.length; i++) {
      const at = wall + doc.samples.time[i];
      expect(mem[i]).toBe(at < time[1] ? 100e6 : 200e6);
    }
    expect(documentSummary(doc).peakMemory).toBe(mem.includes(200e6) ? 200e6 : 100e6);
  });

  it('round-trips through the codec exactly and compactly', () => {
    const doc = readV8CpuProfile(profileText);
    const bytes = encodeDocument(doc);
    expect(decodeDocument(bytes)).toEqual(doc);
    expect(bytes.length).toBeLessThan(profileText.length);
  });
});

describe('readV8CpuProfile on hand-written profiles', () => {
  const base = {
    nodes: [
      {
        id: 1,
        callFrame: { functionName: '(root)', url: '', lineNumber: -1, columnNumber: -1, scriptId: '0' },
        children: [2, 3],
      },
      {
        id: 2,
        callFrame: { functionName: 'work', url: 'file:///a.js', lineNumber: 0, columnNumber: 0, scriptId: '1' },
        children: [4],
      },
      {
        id: 3,
        callFrame: { functionName: '(garbage collector)', url: '', lineNumber: -1, columnNumber: -1, scriptId: '0' },
      },
      { id: 4, callFrame: { functionName: '', url: 'file:///a.js', lineNumber: 4, columnNumber: 2, scriptId: '1' } },
    ],
    startTime: 1000,
    endTime: 5000,
    samples: [2, 4, 3, 4],
    timeDeltas: [100, 1000, -200, 1000],
  };

  it('builds the stack tree from children lists, clamps backward deltas and warns', () => {
    const doc = readV8CpuProfile(base);
    expect(doc.stacks.length).toBe(3);
    // Recorded at 100, 1100, 900, 1900 µs: the third moves up to 1100, the fourth keeps 1900.
    expect(Array.from(doc.samples.time)).toEqual([0, 1, 1, 1.8]);
    expect(doc.warnings.map((w) => w.code)).toEqual(['time-reordered']);
    const leaf = doc.samples.stack[1];
    expect(doc.strings[doc.frames.name[doc.stacks.frame[leaf]]]).toBe('(anonymous)');
    expect(doc.strings[doc.frames.name[doc.stacks.frame[doc.stacks.parent[leaf]]]]).toBe('work');
    expect(Array.from(doc.samples.weight!)).toEqual([1000, 0, 800, 4000 - 1900]);
  });

  it('accepts parent links instead of children lists', () => {
    const nodes = base.nodes.map(({ children: _c, ...n }) => ({
      ...n,
      parent: n.id === 1 ? undefined : n.id === 4 ? 2 : 1,
    }));
    expect(readV8CpuProfile({ ...base, nodes }).stacks).toEqual(readV8CpuProfile(base).stacks);
  });

  it.each([
    ['not JSON', '{"nodes": [', 'bad-json'],
    ['no nodes', '{"samples": []}', 'bad-cpuprofile'],
    ['unknown sample node', JSON.stringify({ ...base, samples: [2, 99, 3, 4] }), 'bad-cpuprofile'],
    ['unknown child', JSON.stringify({ ...base, nodes: [{ ...base.nodes[0], children: [7] }] }), 'bad-cpuprofile'],
    ['deltas length', JSON.stringify({ ...base, timeDeltas: [1] }), 'bad-cpuprofile'],
    [
      'cycle',
      JSON.stringify({
        ...base,
        nodes: [
          { ...base.nodes[1], children: [4] },
          { ...base.nodes[3], children: [2] },
        ],
        samples: [2],
        timeDeltas: [1],
      }),
      'bad-cpuprofile',
    ],
  ])('rejects %s with a typed error', (_what, text, code) => {
    let err: unknown;
    try {
      readV8CpuProfile(text);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ProfFormatError);
    expect((err as ProfFormatError).code).toBe(code);
  });
});
