import { isLauncherFile } from './runner-frames';
import { eachSample, type SampleGroups, type StreamedSamples } from './sample-groups';
import { FrameKind, type ProfileDocument } from './schema';

export interface DocumentSummary {
  /**
   * Wall-clock length: end − start when both are known, else the span of the sample times; 0 when
   * the source records no time (`timeSource` `none`): unknown, never invented.
   */
  durationMs: number;
  sampleCount: number;
  /** Highest memory reading in bytes, null without memory. */
  peakMemory: number | null;
  hasMemory: boolean;
  /** The profiled program's top-level function (see `topFunction`), null when none is found. */
  topFunction: string | null;
}

// Frames that are not functions of the program: module top-level code, V8's pseudo-frames.
const NOT_A_FUNCTION = new Set(['<module>', '(root)', '(program)', '(idle)', '(garbage collector)', '', '(anonymous)']);

/**
 * The name of the function the program runs under: from the root, follow the heaviest branch
 * (most samples), skipping launcher frames (see `isLauncherFile`), module top-level code and
 * native frames, and wrappers that hand all their samples to one function in another file (a
 * workload runner calling `main`). Returns the first frame past those, e.g. `main`.
 */
export function topFunction(doc: ProfileDocument, groups?: SampleGroups): string | null {
  const { stacks, frames, strings } = doc;
  const n = stacks.length;
  if (n === 0) return null;
  const total = new Float64Array(n);
  const self = new Float64Array(n);
  eachSample(doc, groups, (s, _, count) => {
    if (s >= 0) self[s] += count;
  });
  total.set(self);
  // Parents precede children, so a reverse pass carries counts up to every ancestor.
  for (let i = n - 1; i >= 0; i--) if (stacks.parent[i] >= 0) total[stacks.parent[i]] += total[i];
  // heaviest[p + 1] = heaviest child of row p (index 0 = among the roots).
  const heaviest = new Int32Array(n + 1).fill(-1);
  for (let i = 0; i < n; i++) {
    const slot = stacks.parent[i] + 1;
    const h = heaviest[slot];
    if (h < 0 || total[i] > total[h]) heaviest[slot] = i;
  }
  const isSkipped = (row: number): boolean => {
    const f = stacks.frame[row];
    const kind = frames.kind[f];
    if (kind === FrameKind.Native || kind === FrameKind.Asm) return true;
    return NOT_A_FUNCTION.has(strings[frames.name[f]]) || isLauncherFile(strings[frames.file[f]]);
  };
  const isWrapper = (row: number): boolean => {
    const child = heaviest[row + 1];
    if (child < 0 || self[row] > total[row] * 0.01 || total[child] < total[row] * 0.99) return false;
    return frames.file[stacks.frame[child]] !== frames.file[stacks.frame[row]];
  };
  for (let row = heaviest[0]; row >= 0; row = heaviest[row + 1]) {
    if (total[row] === 0) return null;
    if (isSkipped(row) || isWrapper(row)) continue;
    return strings[frames.name[stacks.frame[row]]];
  }
  return null;
}

/**
 * A profile's wall-clock length in ms, the one definition every view shows (the index row, the
 * landing page, /memory, the CPU facts, `prof inspect`): end − start when the document knows both,
 * else the span from the start (or the first sample, if earlier) to the last sample; 0 when there
 * are no samples or the source records no time (`timeSource` `none`): unknown, never invented.
 * `firstTime`/`lastTime` are the first and last sample times, so a streamed document needs no
 * sample column.
 */
export function profileDuration(
  meta: Pick<ProfileDocument['meta'], 'startTime' | 'endTime'>,
  timeSource: ProfileDocument['samples']['timeSource'],
  sampleCount: number,
  firstTime: number,
  lastTime: number,
): number {
  if (meta.startTime !== null && meta.endTime !== null) return Math.max(0, meta.endTime - meta.startTime);
  if (sampleCount > 0 && timeSource !== 'none') return Math.max(0, lastTime - Math.min(0, firstTime));
  return 0;
}

/** `profileDuration` of a document whose sample columns are held (no other pass over the samples). */
export function documentDuration(doc: ProfileDocument): number {
  const { meta, samples } = doc;
  const n = samples.length;
  return profileDuration(meta, samples.timeSource, n, samples.time[0], samples.time[n - 1]);
}

/**
 * The figures an index or a landing page needs, computed in one pass over the columns, or from
 * `streamed` for a document whose samples are not held.
 */
export function documentSummary(doc: ProfileDocument, streamed?: StreamedSamples): DocumentSummary {
  const { samples, meta } = doc;
  const n = samples.length;
  const first = streamed ? streamed.firstTime : samples.time[0];
  const last = streamed ? streamed.lastTime : samples.time[n - 1];
  const durationMs = profileDuration(meta, samples.timeSource, n, first, last);
  let peak = streamed ? streamed.peakMemory : -Infinity;
  const memory = samples.memory;
  if (memory && !streamed) for (let i = 0; i < n; i++) if (memory[i] > peak) peak = memory[i];
  const hasMemory = peak > -Infinity;
  return {
    durationMs,
    sampleCount: n,
    peakMemory: hasMemory ? peak : null,
    hasMemory,
    topFunction: topFunction(doc, streamed?.groups),
  };
}
