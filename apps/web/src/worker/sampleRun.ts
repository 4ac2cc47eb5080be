// The sample run of a (range, thread) query, in @prof/binning's terms; per-thread index lists are
// computed once per document and thread.
import { sampleRange, threadIndices, type SampleRun } from '@prof/binning';
import type { ProfileDocument } from '@prof/format';
import type { RangeQuery } from './protocol';

const perThread = new WeakMap<ProfileDocument, Map<number, Uint32Array>>();

export function sampleRun(doc: ProfileDocument, q: RangeQuery): SampleRun {
  let indices: Uint32Array | undefined;
  if (q.thread !== null) {
    let cache = perThread.get(doc);
    if (!cache) perThread.set(doc, (cache = new Map()));
    indices = cache.get(q.thread);
    if (!indices) cache.set(q.thread, (indices = threadIndices(doc.samples.thread, q.thread)));
  }
  const { start, end } = sampleRange(doc.samples.time, q.from ?? -Infinity, q.to ?? Infinity, indices);
  return { start, end, indices };
}
