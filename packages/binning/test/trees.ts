import fc from 'fast-check';
import type { PlainSample } from './reference.js';
import { rowPath } from './reference.js';
import { threadIndices } from '../src/index.js';

export interface RandomProfile {
  parent: Int32Array;
  frame: Uint32Array;
  sampleStack: Int32Array;
  memory: Float64Array;
  weight: Float64Array;
  thread: Uint32Array;
}

/**
 * Random prefix trees (parent < child) over few frames, so recursion and sibling rows with the
 * same frame (lines mode) are common; samples hit random rows, sometimes the empty stack.
 */
export const profileArb = fc
  .record({
    rows: fc.integer({ min: 0, max: 80 }),
    frames: fc.integer({ min: 1, max: 12 }),
    samples: fc.integer({ min: 0, max: 400 }),
    emptyShare: fc.constantFrom(0, 0, 0.02),
    hot: fc.double({ min: 0, max: 0.9, noNaN: true }),
    threads: fc.integer({ min: 1, max: 3 }),
    seed: fc.integer({ min: 1, max: 2 ** 30 }),
  })
  .map(({ rows, frames, samples, emptyShare, hot, threads, seed }): RandomProfile => {
    let x = seed;
    const random = () => (x = (Math.imul(x, 1103515245) + 12345) >>> 0) / 2 ** 32;
    const int = (n: number) => Math.floor(random() * n);
    const parent = new Int32Array(rows);
    const frame = new Uint32Array(rows);
    for (let i = 0; i < rows; i++) {
      // Deep chains more often than not: a parent near i.
      parent[i] = i === 0 || random() < 0.15 ? -1 : random() < 0.7 ? i - 1 - int(Math.min(i, 3)) : int(i);
      frame[i] = int(frames);
    }
    const hotRow = rows > 0 ? int(rows) : -1;
    const sampleStack = new Int32Array(samples);
    const memory = new Float64Array(samples);
    const weight = new Float64Array(samples);
    const thread = new Uint32Array(samples);
    let mem = 1e8;
    for (let i = 0; i < samples; i++) {
      sampleStack[i] = rows === 0 || random() < emptyShare ? -1 : random() < hot ? hotRow : int(rows);
      mem = Math.max(0, mem + (random() - 0.45) * 1e6);
      memory[i] = Math.round(mem);
      weight[i] = 1 + int(1000) / 10;
      thread[i] = int(threads);
    }
    return { parent, frame, sampleStack, memory, weight, thread };
  });

/** The samples of positions [start, end) as plain objects for the brute-force references. */
export function plainSamples(
  p: { parent: Int32Array; frame: Uint32Array; sampleStack: Int32Array; memory?: Float64Array; weight?: Float64Array },
  start: number,
  end: number,
  indices?: Uint32Array,
  weighted = false,
): PlainSample[] {
  const out: PlainSample[] = [];
  for (let k = start; k < end; k++) {
    const row = indices ? indices[k] : k;
    const stack = p.sampleStack[row];
    const growth = p.memory && row > 0 ? Math.max(0, p.memory[row] - p.memory[row - 1]) : 0;
    out.push({
      stack,
      frames: rowPath(p.parent, stack).map((r) => p.frame[r]),
      weight: weighted && p.weight ? p.weight[row] : 1,
      growth,
    });
  }
  return out;
}

/** A random profile with a random run of it: whole or one thread's, weighted or not. */
export const runArb = fc
  .tuple(profileArb, fc.nat(), fc.nat(), fc.boolean(), fc.boolean())
  .map(([p, a, b, byThread, w]) => {
    const indices = byThread ? threadIndices(p.thread, 0) : undefined;
    const n = indices ? indices.length : p.sampleStack.length;
    const x = n === 0 ? 0 : a % (n + 1);
    const y = n === 0 ? 0 : b % (n + 1);
    return { p, run: { start: Math.min(x, y), end: Math.max(x, y), indices, weight: w ? p.weight : undefined } };
  });
