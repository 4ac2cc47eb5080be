import { SummariesBuilder } from '@prof/binning';
import { documentSummary, type ProfileDocument } from '@prof/format';
import { cpuExtras } from './cpu-source';

/** What the read routes need besides the columns, kept in the container's `meta`. */
export interface SummaryMeta {
  durationMs: number;
  timeEstimated: boolean;
}

/**
 * A document's summaries container (see @prof/binning `SummariesBuilder`), with the frame and string
 * tables the stacks route names frames from, so no query needs the document.
 */
export function summarizeDocument(
  doc: ProfileDocument,
  /** Smaller CPU blocks than the default, for tests that must meet every level and block edge. */
  blocks: { cpuBlock?: number; cpuFanout?: number } = {},
): Uint8Array[] {
  const s = doc.samples;
  const meta: SummaryMeta = { durationMs: documentSummary(doc).durationMs, timeEstimated: s.timeEstimated };
  const builder = new SummariesBuilder({
    stacks: doc.stacks,
    threads: doc.threads.length,
    memory: !!s.memory,
    heap: !!s.heap,
    weight: !!s.weight,
    meta: meta as unknown as Record<string, unknown>,
    ...blocks,
  });
  builder.pushColumns(s);
  const f = doc.frames;
  builder.addArray('frames.name', f.name);
  builder.addArray('frames.file', f.file);
  builder.addArray('frames.line', f.line);
  builder.addArray('frames.kind', Uint32Array.from(f.kind));
  builder.addJson('strings', doc.strings);
  // What the CPU views read beside the columns (cpu-source.ts), so they never need the document either.
  const extras = cpuExtras(doc, meta.durationMs);
  for (const [name, array] of Object.entries(extras.arrays)) builder.addArray(name, array);
  for (const [name, value] of Object.entries(extras.json)) builder.addJson(name, value);
  return builder.finish();
}

/** The parts joined into one buffer of its own (moved, not copied, out of a worker). */
export function joinParts(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}
