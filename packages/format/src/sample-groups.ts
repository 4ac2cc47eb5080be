import type { ProfileDocument } from './schema';

/** Samples counted by (stack, thread), in order of first appearance: what name-finding needs, not every sample. */
export interface SampleGroups {
  length: number;
  stack: Int32Array;
  thread: Uint32Array;
  count: Float64Array;
}

/**
 * What a pass over a document's samples learned, for a document whose samples are not held (the
 * streaming converter writes them straight to disk): `documentSummary`, `topFunction`,
 * `scriptFile` and `nameThreadsByEntry` take it instead of reading the sample columns.
 */
export interface StreamedSamples {
  /** Distinct (stack, thread) pairs in order of first appearance, with their sample counts. */
  groups: SampleGroups;
  /** First and last sample time (ms since start), NaN without samples. */
  firstTime: number;
  lastTime: number;
  /** Highest memory reading, -Infinity without any. */
  peakMemory: number;
}

/**
 * Calls `fn(stack, thread, count)` for the document's samples: one call per sample (count 1), or one
 * per group of `groups`; first appearances come in the same order, so ties break the same way.
 */
export function eachSample(
  doc: ProfileDocument,
  groups: SampleGroups | undefined,
  fn: (stack: number, thread: number, count: number) => void,
): void {
  if (groups) {
    for (let i = 0; i < groups.length; i++) fn(groups.stack[i], groups.thread[i], groups.count[i]);
    return;
  }
  const { samples } = doc;
  for (let i = 0; i < samples.length; i++) fn(samples.stack[i], samples.thread[i], 1);
}
