import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { fixturesDir } from '../../../scripts/fixtures.mjs';
import {
  assertIntegrity,
  detectFormat,
  documentSummary,
  ProfFormatError,
  readAustin,
  readFolded,
  readSpeedscope,
  type ProfileDocument,
} from '../src/index';
import { readProfileBytes } from '../src/node';

// Real files from py-spy 0.4.2 and Austin 3.7.0 (fixtures/pyspy, fixtures/austin: see their MANIFEST.md).
// Every expected number is computed here from the file's text by a separate, simpler reading.
const pyspy = (name: string) => readFileSync(join(fixturesDir, 'pyspy', name));
const austin = (name: string) => readFileSync(join(fixturesDir, 'austin', name));

function frameNames(doc: ProfileDocument): Set<string> {
  const names = new Set<string>();
  for (let s = 0; s < doc.stacks.length; s++) names.add(doc.strings[doc.frames.name[doc.stacks.frame[s]]]);
  return names;
}

function sum(values: ArrayLike<number>): number {
  let total = 0;
  for (let i = 0; i < values.length; i++) total += values[i];
  return total;
}

function stackLinesOf(doc: ProfileDocument, fn: string): Set<number> {
  const lines = new Set<number>();
  for (let s = 0; s < doc.stacks.length; s++)
    if (doc.strings[doc.frames.name[doc.stacks.frame[s]]] === fn) lines.add(doc.stacks.line[s]);
  return lines;
}

const isSorted = (t: Float64Array) => t.every((v, i) => i === 0 || t[i - 1] <= v);

describe('py-spy speedscope', () => {
  for (const file of ['cpu_work-idle.speedscope.json', 'cpu_work-50hz.speedscope.json']) {
    it(`${file}: samples, per-thread durations, names and executing lines`, async () => {
      const bytes = pyspy(file);
      expect(detectFormat(bytes)).toBe('speedscope');
      const json = JSON.parse(bytes.toString());
      const doc = readSpeedscope(bytes);
      assertIntegrity(doc);
      const sampleCount = json.profiles.reduce((n: number, p: any) => n + p.samples.length, 0);
      expect(doc.samples.length).toBe(sampleCount);
      // Durations: each thread's weights add up to its time; the document lasts as long as the longest.
      const perThread = json.profiles.map((p: any) => p.weights.reduce((a: number, w: number) => a + w, 0) * 1000);
      expect(documentSummary(doc).durationMs).toBeCloseTo(Math.max(...perThread), 6);
      expect(sum(doc.samples.weight!) / 1000).toBeCloseTo(
        perThread.reduce((a: number, b: number) => a + b, 0),
        6,
      );
      expect(doc.samples.timeSource).toBe('recorded');
      expect(isSorted(doc.samples.time)).toBe(true);
      expect(doc.threads.name.slice().sort()).toEqual(['MainThread', 'worker-thread']);
      expect(doc.threads.id.every((id) => /^\d+$/.test(id))).toBe(true);
      expect([...frameNames(doc)]).toEqual(
        expect.arrayContaining(['<module>', 'main', 'worker', 'middle', 'leaf_square_sum']),
      );
      // py-spy's frame line is the executing one: leaf_square_sum runs lines 5 and 6, one frame.
      const leafFrames = json.shared.frames.filter((f: any) => f.name === 'leaf_square_sum');
      expect(stackLinesOf(doc, 'leaf_square_sum')).toEqual(new Set(leafFrames.map((f: any) => f.line)));
      expect(doc.meta.source).toBe('speedscope');
      expect(doc.meta.tags.profiler).toBe('py-spy@0.4.2');
      // The same bytes gzipped take the same path through the node entry.
      const viaNode = await readProfileBytes(gzipSync(bytes));
      expect(viaNode.samples.length).toBe(sampleCount);
    });
  }

  it('a general evented speedscope profile becomes one sample per interval', () => {
    const doc = readSpeedscope(
      JSON.stringify({
        $schema: 'https://www.speedscope.app/file-format-schema.json',
        shared: { frames: [{ name: 'main' }, { name: 'work', file: 'w.py', line: 3 }] },
        profiles: [
          {
            type: 'evented',
            name: 'one',
            unit: 'milliseconds',
            startValue: 0,
            endValue: 10,
            events: [
              { type: 'O', frame: 0, at: 0 },
              { type: 'O', frame: 1, at: 2 },
              { type: 'C', frame: 1, at: 7 },
              { type: 'C', frame: 0, at: 10 },
            ],
          },
        ],
      }),
    );
    assertIntegrity(doc);
    expect(Array.from(doc.samples.time)).toEqual([0, 2, 7]);
    expect(Array.from(doc.samples.weight!)).toEqual([2000, 5000, 3000]);
    expect(doc.frames.line[doc.stacks.frame[doc.samples.stack[1]]]).toBe(3);
  });

  it('refuses a frame index outside shared.frames, naming where', () => {
    const bad = JSON.stringify({
      shared: { frames: [{ name: 'a' }] },
      profiles: [{ type: 'sampled', unit: 'seconds', startValue: 0, samples: [[0, 4]], weights: [1] }],
    });
    expect(() => readSpeedscope(bad)).toThrow(ProfFormatError);
    expect(() => readSpeedscope(bad)).toThrow(/frame index 4 .*profiles\[0\]\.samples\[0\]/);
  });
});

describe('folded stacks (py-spy --format raw)', () => {
  for (const file of ['cpu_work.raw.txt', 'cpu_work-threads.raw.txt']) {
    it(`${file}: one weighted sample per line, frames and threads`, () => {
      const bytes = pyspy(file);
      expect(detectFormat(bytes)).toBe('folded');
      const lines = bytes.toString().trim().split('\n');
      const doc = readFolded(bytes);
      assertIntegrity(doc);
      expect(doc.samples.length).toBe(lines.length);
      expect(sum(doc.samples.weight!)).toBe(lines.reduce((n, l) => n + Number(l.slice(l.lastIndexOf(' ') + 1)), 0));
      expect([...frameNames(doc)]).toEqual(expect.arrayContaining(['worker', 'middle', 'leaf_square_sum']));
      expect([...frameNames(doc)].some((n) => n.startsWith('thread ('))).toBe(false);
      expect(stackLinesOf(doc, 'leaf_square_sum')).toEqual(new Set([5, 6]));
      const threadNames = new Set(lines.map((l) => /^thread \(\d+\): ([^;]+)/.exec(l)?.[1]).filter(Boolean));
      expect(doc.threads.length).toBe(Math.max(1, threadNames.size));
      if (threadNames.size) expect(new Set(doc.threads.name)).toEqual(threadNames);
      expect(doc.samples.timeEstimated).toBe(true);
      expect(doc.warnings.map((w) => w.code)).toContain('no-time');
    });
  }

  it('reads plain folded stacks and refuses a line without a count, naming it', () => {
    const doc = readFolded('main;work;leaf 12\nmain;idle 3\n');
    expect(doc.samples.length).toBe(2);
    expect(Array.from(doc.samples.weight!)).toEqual([12, 3]);
    expect(() => readFolded('main;work 3\nmain;oops\n')).toThrow(/line 2 is not/);
  });
});

/** Austin samples computed the simple way: split each `P…` line at its last space. */
function austinLines(text: string) {
  return text
    .split('\n')
    .filter((l) => l.startsWith('P'))
    .map((l) => {
      const cut = l.lastIndexOf(' ');
      const thread = /^P\d+;T\d+:(\d+)/.exec(l)![1];
      return {
        thread,
        metrics: l
          .slice(cut + 1)
          .split(',')
          .map(Number),
      };
    });
}
const header = (text: string, key: string) => new RegExp(`^# ${key}: (.*)$`, 'm').exec(text)?.[1];

describe('Austin', () => {
  it('wall mode: sample count, per-thread time and total', () => {
    const bytes = austin('alloc_work-wall.austin');
    expect(detectFormat(bytes)).toBe('austin');
    const lines = austinLines(bytes.toString());
    const doc = readAustin(bytes);
    assertIntegrity(doc);
    expect(doc.samples.length).toBe(lines.length);
    const perThread = new Map<string, number>();
    for (const l of lines) perThread.set(l.thread, (perThread.get(l.thread) ?? 0) + l.metrics[0]);
    expect(documentSummary(doc).durationMs).toBeCloseTo(Math.max(...perThread.values()) / 1000, 6);
    expect(sum(doc.samples.weight!)).toBe(lines.reduce((n, l) => n + l.metrics[0], 0));
    expect(doc.samples.memory).toBeNull();
    expect(doc.samples.timeSource).toBe('recorded');
    expect(doc.meta.periodUs).toBe(Number(header(bytes.toString(), 'interval')));
    expect(doc.meta.tags).toMatchObject({ profiler: 'austin 3.7.0', 'austin.mode': 'wall' });
    expect([...frameNames(doc)]).toEqual(expect.arrayContaining(['main', 'allocate', 'leaf_square_sum']));
  });

  it('memory mode: the RSS changes add up to the memory column, spread over the run', () => {
    const bytes = austin('alloc_work-memory.austin');
    const text = bytes.toString();
    const lines = austinLines(text);
    const doc = readAustin(bytes);
    assertIntegrity(doc);
    expect(doc.samples.length).toBe(lines.length);
    let running = 0;
    const expected = lines.map((l) => (running += l.metrics[0]));
    expect(Array.from(doc.samples.memory!)).toEqual(expected);
    expect(Math.max(...doc.samples.memory!)).toBe(Math.max(...expected));
    // 40 MiB allocated: the series climbs by at least that much before half is released.
    expect(Math.max(...expected)).toBeGreaterThan(40 * 1024 * 1024);
    expect(doc.samples.timeSource).toBe('spread-start-end');
    const durationMs = Number(header(text, 'duration')) / 1000;
    expect(doc.samples.time.at(-1)!).toBeLessThan(durationMs);
    expect(doc.samples.time.at(-1)!).toBeGreaterThan(durationMs * 0.9);
    expect(doc.warnings.map((w) => w.code)).toEqual(['no-time', 'memory-relative']);
  });

  it('full mode: time, idle and memory metrics; time recorded, memory accumulated in time order', () => {
    const bytes = austin('alloc_work-full.austin');
    const lines = austinLines(bytes.toString());
    const doc = readAustin(bytes);
    assertIntegrity(doc);
    expect(doc.samples.length).toBe(lines.length);
    expect(lines.every((l) => l.metrics.length === 3)).toBe(true);
    expect(sum(doc.samples.weight!)).toBe(lines.reduce((n, l) => n + l.metrics[0], 0));
    const finalRss = lines.reduce((n, l) => n + l.metrics[2], 0);
    // One thread here, so file order is time order: the last sample holds the sum of all changes.
    expect(doc.samples.memory!.at(-1)).toBe(finalRss);
    expect(documentSummary(doc).durationMs).toBeCloseTo(lines.reduce((n, l) => n + l.metrics[0], 0) / 1000, 6);
  });

  it('refuses a broken sample line with its line number', () => {
    expect(() => readAustin('# austin: 3.7.0\n# mode: full\n\nP1;T0:1;a.py:f:1 10\n')).toThrow(/line 4: full mode/);
  });
});
