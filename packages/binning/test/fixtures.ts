import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fixturesDir } from '../../../scripts/fixtures.mjs';

export const freshDir = join(fixturesDir, 'vmprof-fresh');

interface TruthSample {
  stack: string[];
  thread: number;
  memory_kb: number | null;
  lines?: number[];
}

/**
 * A fixture's ground truth (vmprof's own reader) turned into our columns without our reader:
 * frames are interned names, stack rows are created root first keyed by (parent, name, line),
 * so lines-mode files get several rows per function, as @prof/format's stack table does.
 */
export interface FixtureProfile {
  name: string;
  names: string[];
  parent: Int32Array;
  frame: Uint32Array;
  sampleStack: Int32Array;
  /** Names per sample, root first, straight from the JSON. */
  sampleNames: string[][];
  /** ms: the sample's position in the file times the period (vmprof 6 has no per-sample time). */
  time: Float64Array;
  /** bytes, or null for CPU-only files. */
  memory: Float64Array | null;
  thread: Uint32Array;
  /** vmprof's function list (`functions` of the truth). */
  functions: { name: string; self: number; total: number }[];
}

export function loadFixture(name: string): FixtureProfile {
  const path = join(freshDir, `${name}.expected.json`);
  if (!existsSync(path)) throw new Error(`fixture ${path} is missing from fixtures/`);
  const truth = JSON.parse(readFileSync(path, 'utf8'));
  const samples: TruthSample[] = truth.samples ?? truth.low_level_reader.samples;
  const periodMs = truth.header.period_usec / 1000;
  // memory_spiky / big_memory keep the first and last 2000 samples: the tail gets its true positions.
  const tailStart = truth.samples_truncated ? truth.sample_count - truth.samples_truncated.tail : samples.length;
  const headCount = truth.samples_truncated ? truth.samples_truncated.head : samples.length;

  const names: string[] = [];
  const nameIds = new Map<string, number>();
  const parent: number[] = [];
  const frame: number[] = [];
  const rowIds = new Map<string, number>();
  const threadIds = new Map<number, number>();
  const n = samples.length;
  const sampleStack = new Int32Array(n);
  const time = new Float64Array(n);
  const memory = samples[0]?.memory_kb == null ? null : new Float64Array(n);
  const thread = new Uint32Array(n);
  samples.forEach((s, i) => {
    let row = -1;
    s.stack.forEach((nm, depth) => {
      let f = nameIds.get(nm);
      if (f === undefined) nameIds.set(nm, (f = names.push(nm) - 1));
      const key = `${row}\u0000${f}\u0000${s.lines ? s.lines[depth] : 0}`;
      let r = rowIds.get(key);
      if (r === undefined) {
        rowIds.set(key, (r = parent.length));
        parent.push(row);
        frame.push(f);
      }
      row = r;
    });
    sampleStack[i] = row;
    time[i] = (i < headCount ? i : tailStart + (i - headCount)) * periodMs;
    if (memory) memory[i] = s.memory_kb! * 1024;
    let t = threadIds.get(s.thread);
    if (t === undefined) threadIds.set(s.thread, (t = threadIds.size));
    thread[i] = t;
  });
  return {
    name,
    names,
    parent: Int32Array.from(parent),
    frame: Uint32Array.from(frame),
    sampleStack,
    sampleNames: samples.map((s) => s.stack),
    time,
    memory,
    thread,
    functions: truth.functions ?? [],
  };
}
