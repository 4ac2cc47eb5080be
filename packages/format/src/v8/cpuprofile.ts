/**
 * V8 CPU profiles (`node --cpu-prof`, Chrome DevTools "Save profile") into the Prof document.
 * Format: `{ nodes: [{ id, callFrame: { functionName, url, lineNumber, columnNumber, scriptId },
 * children?: [id], parent?: id, hitCount?, positionTicks? }], startTime, endTime (µs, monotonic),
 * samples: [node id], timeDeltas: [µs] }`.
 */
import { DocumentBuilder, emptyMeta } from '../builder';
import { ProfFormatError } from '../errors';
import { FrameKind, type DocumentWarning, type ProfileDocument } from '../schema';
import type { ReadOptions } from '../vmprof/types';
import { isPlainObject } from '../plain-values';

/** Memory readings taken beside the CPU profile (the Node client samples RSS on a timer). */
export interface MemoryReadings {
  /** Reading times, epoch milliseconds, ascending. */
  time: Float64Array;
  /** Resident set size in bytes at each reading. */
  bytes: Float64Array;
  /** V8 heap used in bytes at each reading (NaN where unknown); becomes the `heap` column. */
  heap?: Float64Array;
}

export interface V8ReadOptions extends ReadOptions {
  /** Epoch milliseconds of the profile's own `startTime` (which is monotonic µs, not wall clock). */
  wallClockStartMs?: number;
  /** Memory readings; each sample gets the latest reading at or before its time (else the first). */
  memory?: MemoryReadings;
  /** Runtime to record in `meta.interpreter` (default `node`). */
  interpreter?: string;
  /** Command line of the profiled process. */
  argv?: string[];
  host?: string;
  zone?: string;
}

interface V8CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}

interface V8Node {
  id: number;
  callFrame: V8CallFrame;
  children?: number[];
  parent?: number;
}

// Pseudo-frames V8 adds for time outside JavaScript.
const V8_NATIVE = new Set(['(root)', '(program)', '(idle)', '(garbage collector)']);

function bad(message: string, record: string, expected?: string): never {
  throw new ProfFormatError('bad-cpuprofile', message, { record, expected });
}

function isIntArray(v: unknown): v is number[] {
  return Array.isArray(v) && v.every((x) => typeof x === 'number' && Number.isFinite(x));
}

function parseInput(input: string | Uint8Array | object): Record<string, unknown> {
  if (typeof input === 'object' && !(input instanceof Uint8Array)) {
    if (!isPlainObject(input)) bad('profile is not an object', 'profile');
    return input;
  }
  const text = typeof input === 'string' ? input : new TextDecoder().decode(input);
  let value: unknown;
  try {
    value = JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  } catch (e) {
    throw new ProfFormatError('bad-json', `not valid JSON: ${(e as Error).message}`, {
      expected: 'a V8 .cpuprofile (JSON)',
    });
  }
  if (!isPlainObject(value)) bad('profile is not a JSON object', 'profile');
  return value;
}

function checkNode(v: unknown, i: number): V8Node {
  const where = `nodes[${i}]`;
  if (!isPlainObject(v) || typeof v.id !== 'number') bad('node has no numeric id', where);
  const cf = v.callFrame;
  if (!isPlainObject(cf) || typeof cf.functionName !== 'string')
    bad('node has no callFrame.functionName', `${where}.callFrame`);
  if (v.children !== undefined && !isIntArray(v.children)) bad('children is not a list of ids', `${where}.children`);
  if (v.parent !== undefined && typeof v.parent !== 'number') bad('parent is not an id', `${where}.parent`);
  return {
    id: v.id,
    callFrame: {
      functionName: cf.functionName,
      url: typeof cf.url === 'string' ? cf.url : '',
      lineNumber: typeof cf.lineNumber === 'number' ? cf.lineNumber : -1,
      columnNumber: typeof cf.columnNumber === 'number' ? cf.columnNumber : -1,
    },
    children: v.children as number[] | undefined,
    parent: v.parent as number | undefined,
  };
}

/**
 * Heap readings with the gaps (NaN: the answer did not come in time) filled by the nearest earlier
 * reading (the first known one before it), so every sample gets a number; null when none is known.
 */
function filledHeap(heap: Float64Array | undefined): Float64Array | null {
  if (!heap) return null;
  const first = heap.findIndex((h) => Number.isFinite(h));
  if (first < 0) return null;
  const out = new Float64Array(heap.length);
  let last = heap[first];
  for (let i = 0; i < heap.length; i++) out[i] = last = Number.isFinite(heap[i]) ? heap[i] : last;
  return out;
}

/** Index of the latest reading at or before `t` (the first reading when `t` precedes them all). */
function readingAt(times: Float64Array, t: number, from: number): number {
  let i = from;
  while (i + 1 < times.length && times[i + 1] <= t) i++;
  return i;
}

/** Reads a V8 `.cpuprofile` (JSON text, its UTF-8 bytes, or the parsed object) into a document. */
export function readV8CpuProfile(input: string | Uint8Array | object, options: V8ReadOptions = {}): ProfileDocument {
  const profile = parseInput(input);
  if (!Array.isArray(profile.nodes)) bad('no "nodes" list', 'nodes', 'a V8 CPU profile');
  const nodes = profile.nodes.map(checkNode);
  const samples = profile.samples ?? [];
  if (!isIntArray(samples)) bad('"samples" is not a list of node ids', 'samples');
  const deltas = profile.timeDeltas;
  if (deltas !== undefined && (!isIntArray(deltas) || deltas.length !== samples.length)) {
    bad('"timeDeltas" is not a list of numbers as long as "samples"', 'timeDeltas');
  }
  const startUs = typeof profile.startTime === 'number' ? profile.startTime : 0;
  const endUs = typeof profile.endTime === 'number' ? profile.endTime : null;

  const byId = new Map<number, number>();
  nodes.forEach((node, i) => {
    if (byId.has(node.id)) bad(`duplicate node id ${node.id}`, `nodes[${i}].id`);
    byId.set(node.id, i);
  });
  // Parent of each node, from `children` (Node, DevTools) or `parent` (trace-derived profiles).
  const parentOf = new Int32Array(nodes.length).fill(-1);
  nodes.forEach((node, i) => {
    if (node.parent !== undefined) {
      const p = byId.get(node.parent);
      if (p === undefined) bad(`unknown parent id ${node.parent}`, `nodes[${i}].parent`);
      parentOf[i] = p;
    }
    for (const child of node.children ?? []) {
      const c = byId.get(child);
      if (c === undefined) bad(`unknown child id ${child}`, `nodes[${i}].children`);
      if (parentOf[c] !== -1 && parentOf[c] !== i) bad(`node ${child} has two parents`, `nodes[${i}].children`);
      parentOf[c] = i;
    }
  });

  const b = new DocumentBuilder();
  const frameOf = (node: V8Node): number => {
    const cf = node.callFrame;
    const name = cf.functionName || '(anonymous)';
    const line = cf.lineNumber >= 0 ? cf.lineNumber + 1 : 0; // V8 lines are 0-based
    const key = `${name}\u0000${cf.url}\u0000${cf.lineNumber}\u0000${cf.columnNumber}`;
    return b.frame(key, () => ({
      name,
      file: cf.url,
      line,
      kind: V8_NATIVE.has(name) && !cf.url ? FrameKind.Native : FrameKind.JavaScript,
      raw: `js:${name}:${line}:${cf.url}`,
      address: '',
    }));
  };
  // Stack row per node; `(root)` itself is no frame, its children are root stacks. Parents are
  // resolved before children by climbing iteratively (deep JS stacks would overflow recursion).
  const UNSET = -2;
  const stackOf = new Int32Array(nodes.length).fill(UNSET);
  const path: number[] = [];
  for (let i = 0; i < nodes.length; i++) {
    let j = i;
    while (j >= 0 && stackOf[j] === UNSET) {
      path.push(j);
      if (path.length > nodes.length) bad('node parents form a cycle', `nodes[${i}]`);
      j = parentOf[j];
    }
    let parentStack = j >= 0 ? stackOf[j] : -1;
    while (path.length) {
      const k = path.pop()!;
      const isRoot = parentOf[k] < 0 && nodes[k].callFrame.functionName === '(root)';
      stackOf[k] = isRoot ? -1 : b.stack(parentStack, frameOf(nodes[k]));
      parentStack = stackOf[k];
    }
  }

  const warnings: DocumentWarning[] = [];
  const n = samples.length;
  const memory = options.memory;
  if (
    memory &&
    (memory.time.length !== memory.bytes.length || (memory.heap && memory.heap.length !== memory.time.length))
  ) {
    bad('memory time, bytes and heap differ in length', 'options.memory');
  }
  const heapReadings = filledHeap(memory?.heap);
  const wall = options.wallClockStartMs;
  const thread = b.thread('0', 'main');
  // Times: µs since the profile's start, exact from the deltas. The deltas are differences of
  // recorded timestamps, so their running sum is each sample's own timestamp. A sample recorded
  // before the one listed ahead of it (node --cpu-prof and DevTools both write a few) is moved up
  // to that one's time so the column stays sorted for binary search; the samples after it keep
  // their recorded times (adding the clamped time instead would shift them all later).
  const timeUs = new Float64Array(n);
  let recorded = startUs;
  let t = startUs;
  let clamped = 0;
  for (let i = 0; i < n; i++) {
    recorded = deltas
      ? recorded + (deltas as number[])[i]
      : startUs + (endUs === null ? i : ((endUs - startUs) * i) / n);
    if (recorded < t) clamped++;
    t = Math.max(t, recorded);
    timeUs[i] = t - startUs;
  }
  if (clamped)
    warnings.push({ code: 'time-reordered', message: `${clamped} samples had a negative time delta; kept in order` });
  let reading = 0;
  // Without a wall clock start the first sample is time 0 (schema: time since the first sample).
  const origin = wall === undefined && n > 0 ? timeUs[0] : 0;
  for (let i = 0; i < n; i++) {
    const node = byId.get(samples[i]);
    if (node === undefined) bad(`sample refers to unknown node ${samples[i]}`, `samples[${i}]`);
    const timeMs = (timeUs[i] - origin) / 1000;
    const endOfSample = i + 1 < n ? timeUs[i + 1] : endUs !== null ? Math.max(endUs - startUs, timeUs[i]) : timeUs[i];
    let mem: number | undefined;
    let heap: number | undefined;
    if (memory?.time.length) {
      const at = (wall ?? memory.time[0]) + timeUs[i] / 1000;
      reading = readingAt(memory.time, at, reading);
      mem = memory.bytes[reading];
      heap = heapReadings?.[reading];
    }
    b.sample(stackOf[node], timeMs, thread, mem, endOfSample - timeUs[i], heap);
  }

  const meta = emptyMeta('v8-cpuprofile');
  meta.interpreter = options.interpreter ?? 'node';
  meta.project = options.project ?? null;
  meta.name = options.name ?? null;
  meta.tags = { ...(options.tags ?? {}) };
  meta.argv = options.argv ?? null;
  meta.host = options.host ?? null;
  meta.zone = options.zone ?? null;
  if (wall !== undefined) {
    meta.startTime = wall;
    meta.endTime = endUs !== null ? wall + (endUs - startUs) / 1000 : null;
  }
  if (deltas && n > 1) {
    const sorted = Float64Array.from(deltas as number[]).sort();
    meta.periodUs = sorted[sorted.length >> 1];
  }
  return b.finish({ meta, warnings, timeEstimated: !deltas, timeSource: deltas ? 'recorded' : 'spread-start-end' });
}
