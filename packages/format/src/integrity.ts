/**
 * `assertIntegrity`: proves a document is safe to index before anyone walks it. Viewers and the
 * server index tables with values from the document itself, and documents arrive from uploads.
 */
import { ProfFormatError } from './errors';
import { DOCUMENT_MAGIC, FRAME_KIND_NAMES, SCHEMA_VERSION, type ProfileDocument } from './schema';
import { isPlainObject } from './plain-values';

type Ctor = Uint8ArrayConstructor | Int32ArrayConstructor | Uint32ArrayConstructor | Float64ArrayConstructor;

function fail(where: string, message: string, expected?: string): never {
  throw new ProfFormatError('integrity', `${where}: ${message}`, { record: where, expected });
}

/** A value no view can use (a time out of order, a reading no machine has): `bad-value`, not `integrity`. */
function failValue(where: string, message: string, expected: string): never {
  throw new ProfFormatError('bad-value', `${where}: ${message}`, { record: where, expected });
}

/** Largest exact integer of a Float64: memory readings and weights stay below it, so their sums stay exact enough and finite. */
const MAX_READING = 2 ** 53;
/** Epoch ms a `Date` can hold. */
const MAX_EPOCH_MS = 8.64e15;

/** Finite and non-decreasing: every binning, range and bisection of the views relies on it. */
function checkTimes(time: Float64Array, row = 0, previous = -Infinity): number {
  for (let i = 0; i < time.length; i++) {
    const t = time[i];
    if (!Number.isFinite(t))
      failValue(`samples.time[${row + i}]`, `${t} is not a finite number`, 'finite ms since the start');
    if (t < previous)
      failValue(
        `samples.time[${row + i}]`,
        `${t} is before the previous sample's ${previous}`,
        'times in non-decreasing order',
      );
    previous = t;
  }
  return previous;
}

/** Each value in [0, 2^53); NaN only where `missing` allows it (a memory reading not taken). */
function checkReadings(col: Float64Array, where: string, missing: boolean, row = 0): void {
  for (let i = 0; i < col.length; i++) {
    const v = col[i];
    if (Number.isNaN(v)) {
      if (!missing) failValue(`${where}[${row + i}]`, 'NaN is not a number', 'a number from 0 to 2^53');
      continue;
    }
    if (!(v >= 0 && v < MAX_READING)) failValue(`${where}[${row + i}]`, `${v} is out of range`, `0 <= value < 2^53`);
  }
}

function checkLength(table: Record<string, unknown>, name: string): number {
  const n = table.length;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0) fail(`${name}.length`, `${String(n)} is not a row count`);
  return n;
}

function column(table: Record<string, unknown>, name: string, key: string, ctor: Ctor, length: number) {
  const c = table[key];
  if (!(c instanceof ctor)) fail(`${name}.${key}`, `is not a ${ctor.name}`);
  if (c.length !== length) fail(`${name}.${key}`, `has ${c.length} values for ${length} rows`);
  return c;
}

/** Every value of `col` in [min, max); names the first offending row. */
function inRange(col: ArrayLike<number>, where: string, min: number, max: number, what: string, row = 0): void {
  for (let i = 0; i < col.length; i++) {
    const v = col[i];
    if (v < min || v >= max) fail(`${where}[${row + i}]`, `${v} is out of range (${what})`, `${min} <= value < ${max}`);
  }
}

function nullableString(v: unknown): boolean {
  return v === null || typeof v === 'string';
}

function nullableNumber(v: unknown): boolean {
  return v === null || (typeof v === 'number' && Number.isFinite(v));
}

function stringRecord(v: unknown): boolean {
  return isPlainObject(v) && Object.values(v).every((x) => typeof x === 'string');
}

function checkMeta(meta: unknown): void {
  if (!isPlainObject(meta)) fail('meta', 'is not an object');
  for (const key of ['project', 'name', 'interpreter', 'zone', 'host'] as const) {
    if (!nullableString(meta[key])) fail(`meta.${key}`, 'is not a string or null');
  }
  for (const key of ['startTime', 'endTime', 'periodUs'] as const) {
    if (!nullableNumber(meta[key])) fail(`meta.${key}`, 'is not a finite number or null');
  }
  for (const key of ['startTime', 'endTime'] as const) {
    const v = meta[key] as number | null;
    if (v !== null && Math.abs(v) > MAX_EPOCH_MS)
      failValue(`meta.${key}`, `${v} is no date`, 'epoch ms within ±8.64e15');
  }
  if (!stringRecord(meta.tags)) fail('meta.tags', 'is not a map of strings');
  const argv = meta.argv;
  if (argv !== null && !(Array.isArray(argv) && argv.every((a) => typeof a === 'string'))) {
    fail('meta.argv', 'is not a list of strings or null');
  }
  if (!['vmprof', 'v8-cpuprofile', 'node-client', 'speedscope', 'folded', 'austin'].includes(meta.source as string)) {
    fail('meta.source', `unknown source ${JSON.stringify(meta.source)}`);
  }
  const vm = meta.vmprof;
  if (vm !== null) {
    if (!isPlainObject(vm)) fail('meta.vmprof', 'is not an object or null');
    for (const key of ['version', 'wordSize', 'addrSize'] as const) {
      if (typeof vm[key] !== 'number') fail(`meta.vmprof.${key}`, 'is not a number');
    }
    if (!nullableNumber(vm.modeByte)) fail('meta.vmprof.modeByte', 'is not a number or null');
    for (const key of ['memory', 'lines', 'rpython', 'gzipped'] as const) {
      if (typeof vm[key] !== 'boolean') fail(`meta.vmprof.${key}`, 'is not a boolean');
    }
    for (const key of ['native', 'realTime'] as const) {
      if (vm[key] !== null && typeof vm[key] !== 'boolean') fail(`meta.vmprof.${key}`, 'is not a boolean or null');
    }
    if (!stringRecord(vm.meta)) fail('meta.vmprof.meta', 'is not a map of strings');
  }
}

/** Longest producer name or version: a name and a semver, not a place to smuggle megabytes. */
const MAX_PRODUCER_TEXT = 200;

function checkProducer(producer: unknown): void {
  if (producer === null) return;
  if (!isPlainObject(producer)) fail('producer', 'is not an object or null');
  for (const key of ['name', 'version'] as const) {
    const v = producer[key];
    if (typeof v !== 'string' || v.length > MAX_PRODUCER_TEXT)
      fail(`producer.${key}`, 'is not a short string', `at most ${MAX_PRODUCER_TEXT} characters`);
  }
}

/**
 * Throws ProfFormatError `integrity` unless every table has the right types and column lengths
 * and every cross-table index is in range: strings, frames, stacks (a parent precedes its child),
 * samples (stack, thread). The message names table, column and row: `samples.stack[12]: ...`.
 * Throws `bad-value` for values no view can use: sample times not finite or not non-decreasing,
 * memory/heap readings outside [0, 2^53) (NaN = no reading is allowed), weights not finite or
 * negative, start/end times outside a Date's range.
 */
export function assertIntegrity(doc: ProfileDocument, options: { streamedSamples?: boolean } = {}): void {
  const d = doc as unknown as Record<string, unknown>;
  if (!isPlainObject(d)) fail('document', 'is not an object');
  if (d.magic !== DOCUMENT_MAGIC) fail('magic', `is ${JSON.stringify(d.magic)}`, JSON.stringify(DOCUMENT_MAGIC));
  // Decoding upgrades older documents, so anything else was built by hand with a stale shape.
  if (d.version !== SCHEMA_VERSION)
    fail('version', `${String(d.version)} is not the schema version`, `${SCHEMA_VERSION}`);
  checkProducer(d.producer);
  checkMeta(d.meta);

  const strings = d.strings;
  if (!Array.isArray(strings)) fail('strings', 'is not a list');
  for (let i = 0; i < strings.length; i++) {
    if (typeof strings[i] !== 'string') fail(`strings[${i}]`, 'is not a string');
  }

  const threads = d.threads;
  if (!isPlainObject(threads)) fail('threads', 'is not a table');
  const threadCount = checkLength(threads, 'threads');
  for (const key of ['id', 'name'] as const) {
    const list = threads[key];
    if (!Array.isArray(list) || list.length !== threadCount) fail(`threads.${key}`, `is not a list of ${threadCount}`);
    for (let i = 0; i < threadCount; i++) {
      const v = list[i];
      if (key === 'id' ? typeof v !== 'string' : !nullableString(v)) fail(`threads.${key}[${i}]`, 'has the wrong type');
    }
  }

  const frames = d.frames;
  if (!isPlainObject(frames)) fail('frames', 'is not a table');
  const frameCount = checkLength(frames, 'frames');
  for (const key of ['name', 'file', 'raw', 'address'] as const) {
    const c = column(frames, 'frames', key, Uint32Array, frameCount);
    inRange(c, `frames.${key}`, 0, strings.length, `strings has ${strings.length} entries`);
  }
  column(frames, 'frames', 'line', Int32Array, frameCount);
  const kind = column(frames, 'frames', 'kind', Uint8Array, frameCount);
  inRange(kind, 'frames.kind', 0, FRAME_KIND_NAMES.length, 'frame kinds');

  const stacks = d.stacks;
  if (!isPlainObject(stacks)) fail('stacks', 'is not a table');
  const stackCount = checkLength(stacks, 'stacks');
  const parent = column(stacks, 'stacks', 'parent', Int32Array, stackCount);
  for (let i = 0; i < stackCount; i++) {
    if (parent[i] < -1 || parent[i] >= i) {
      fail(`stacks.parent[${i}]`, `${parent[i]} is not -1 or an earlier stack row`, `-1 <= parent < ${i}`);
    }
  }
  const stackFrame = column(stacks, 'stacks', 'frame', Uint32Array, stackCount);
  inRange(stackFrame, 'stacks.frame', 0, frameCount, `frames has ${frameCount} rows`);
  column(stacks, 'stacks', 'line', Int32Array, stackCount);

  const samples = d.samples;
  if (!isPlainObject(samples)) fail('samples', 'is not a table');
  const n = checkLength(samples, 'samples');
  // Streamed samples are not in the document (they are checked chunk by chunk, SampleChunkCheck).
  const rows = options.streamedSamples ? 0 : n;
  const stack = column(samples, 'samples', 'stack', Int32Array, rows);
  inRange(stack, 'samples.stack', -1, stackCount, `stacks has ${stackCount} rows`);
  const time = column(samples, 'samples', 'time', Float64Array, rows);
  const thread = column(samples, 'samples', 'thread', Uint32Array, rows);
  inRange(thread, 'samples.thread', 0, threadCount, `threads has ${threadCount} rows`);
  for (const key of ['memory', 'weight', 'heap'] as const) {
    if (samples[key] != null) column(samples, 'samples', key, Float64Array, rows);
  }
  checkTimes(time as Float64Array);
  for (const key of ['memory', 'heap'] as const) {
    if (samples[key] != null) checkReadings(samples[key] as Float64Array, `samples.${key}`, true);
  }
  if (samples.weight != null) checkReadings(samples.weight as Float64Array, 'samples.weight', false);
  if (typeof samples.timeEstimated !== 'boolean') fail('samples.timeEstimated', 'is not a boolean');
  if (!['recorded', 'spread-start-end', 'period', 'none'].includes(samples.timeSource as string)) {
    fail('samples.timeSource', `unknown time source ${JSON.stringify(samples.timeSource)}`);
  }

  const warnings = d.warnings;
  if (!Array.isArray(warnings)) fail('warnings', 'is not a list');
  warnings.forEach((w: unknown, i) => {
    if (!isPlainObject(w) || typeof w.code !== 'string' || typeof w.message !== 'string') {
      fail(`warnings[${i}]`, 'is not a {code, message} warning');
    }
    if (w.offset !== undefined && typeof w.offset !== 'number') fail(`warnings[${i}].offset`, 'is not a number');
  });
}

/**
 * `assertIntegrity`'s checks of the sample columns, for samples that come chunk by chunk in row
 * order (a document streamed to disk); the rest of the document is checked by
 * `assertIntegrity(doc, { streamedSamples: true })`.
 */
export class SampleChunkCheck {
  private previous = -Infinity;
  private row = 0;
  constructor(
    private readonly stackCount: number,
    private readonly threadCount: number,
  ) {}
  check(
    stack: Int32Array,
    thread: Uint32Array,
    time: Float64Array,
    readings: { memory?: Float64Array | null; heap?: Float64Array | null; weight?: Float64Array | null } = {},
  ): void {
    const row = this.row;
    inRange(stack, 'samples.stack', -1, this.stackCount, `stacks has ${this.stackCount} rows`, row);
    inRange(thread, 'samples.thread', 0, this.threadCount, `threads has ${this.threadCount} rows`, row);
    this.previous = checkTimes(time, row, this.previous);
    if (readings.memory) checkReadings(readings.memory, 'samples.memory', true, row);
    if (readings.heap) checkReadings(readings.heap, 'samples.heap', true, row);
    if (readings.weight) checkReadings(readings.weight, 'samples.weight', false, row);
    this.row += stack.length;
  }
}
