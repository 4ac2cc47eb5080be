import { documentSummary, type StreamedSamples } from '@prof/format';
import type { ProfileDocument } from '@prof/format';
import type { ProfileFields } from './types';

/**
 * Most text a profile's index row holds (characters; tags: entries). The server refuses uploads
 * beyond these; the index clips to them too, so a document stored before the limits cannot make
 * every listing and the landing page megabytes long.
 */
export const TEXT_LIMITS = {
  project: 500,
  name: 500,
  host: 255,
  interpreter: 64,
  zone: 64,
  tags: 100,
  tagKey: 200,
  tagValue: 1000,
  /** Sum of the characters of `meta.argv` (kept in the document only). */
  argv: 65_536,
} as const;

const clip = (text: string | null, max: number) => (text !== null && text.length > max ? text.slice(0, max) : text);

function clippedTags(tags: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(tags).slice(0, TEXT_LIMITS.tags)) {
    out[key.slice(0, TEXT_LIMITS.tagKey)] = value.slice(0, TEXT_LIMITS.tagValue);
  }
  return out;
}

/** The index fields of a document (what the store indexes; the bytes themselves are opaque to it). */
export function fieldsFromDocument(doc: ProfileDocument, streamed?: StreamedSamples): ProfileFields {
  const summary = documentSummary(doc, streamed);
  const meta = doc.meta;
  return {
    project: clip(meta.project, TEXT_LIMITS.project),
    name: clip(meta.name ?? summary.topFunction, TEXT_LIMITS.name),
    tags: clippedTags(meta.tags),
    interpreter: clip(meta.interpreter, TEXT_LIMITS.interpreter),
    host: clip(meta.host, TEXT_LIMITS.host),
    start: meta.startTime,
    end: meta.endTime ?? (meta.startTime !== null ? meta.startTime + summary.durationMs : null),
    durationMs: summary.durationMs,
    sampleCount: summary.sampleCount,
    peakMemory: summary.peakMemory,
    hasMemory: summary.hasMemory,
    threads: doc.threads.length,
    zone: clip(meta.zone ?? null, TEXT_LIMITS.zone),
  };
}
