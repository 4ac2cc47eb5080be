import { documentSummary } from '@prof/format';
import type { ProfileDocument } from '@prof/format';
import type { ProfileFields } from './types';

/** The index fields of a document (what the store indexes; the bytes themselves are opaque to it). */
export function fieldsFromDocument(doc: ProfileDocument): ProfileFields {
  const summary = documentSummary(doc);
  const meta = doc.meta;
  return {
    project: meta.project,
    name: meta.name ?? summary.topFunction,
    tags: { ...meta.tags },
    interpreter: meta.interpreter,
    host: meta.host,
    start: meta.startTime,
    end: meta.endTime ?? (meta.startTime !== null ? meta.startTime + summary.durationMs : null),
    durationMs: summary.durationMs,
    sampleCount: summary.sampleCount,
    peakMemory: summary.peakMemory,
    hasMemory: summary.hasMemory,
    threads: doc.threads.length,
    zone: meta.zone ?? null,
  };
}
