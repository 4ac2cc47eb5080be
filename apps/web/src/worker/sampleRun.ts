// The sample run of a (range, thread) query, from @prof/binning's `ProfileColumns` kept per
// document: the same thread rows and window search the server's views use.
import { ProfileColumns, type SampleRun } from '@prof/binning';
import type { ProfileDocument } from '@prof/format';
import type { RangeQuery } from './protocol';

const columns = new WeakMap<ProfileDocument, ProfileColumns>();

export function sampleRun(doc: ProfileDocument, q: RangeQuery): SampleRun {
  let c = columns.get(doc);
  if (!c)
    columns.set(
      doc,
      (c = new ProfileColumns({ stacks: doc.stacks, samples: doc.samples, threads: doc.threads.length })),
    );
  return c.run(q.thread ?? undefined, q.from ?? -Infinity, q.to ?? Infinity);
}
