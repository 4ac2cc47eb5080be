import { SummariesBuilder, type SampleChunk, type SummariesSpill } from '@prof/binning';
import { profileDuration, type ProfileDocument } from '@prof/format';
import { cpuExtras } from './cpu-source';

/**
 * What this server's containers hold, in `meta.summaryVersion`: a stored container of another
 * version (or none: built before the CPU extras) is rebuilt on the worker pool at its first query,
 * so no view falls back to decoding the document. 2: the CPU extras (facts, stack lines, runner rows).
 */
export const SUMMARY_VERSION = 2;

/** What the read routes need besides the columns, kept in the container's `meta`. */
export interface SummaryMeta {
  summaryVersion: number;
  durationMs: number;
  timeEstimated: boolean;
}

export interface SummarizeOptions {
  /** Smaller CPU blocks than the default, for tests that must meet every level and block edge. */
  cpuBlock?: number;
  cpuFanout?: number;
  /** Where the builder's full chunks go (a scratch file), so its memory does not grow with the samples. */
  spill?: SummariesSpill;
}

/**
 * A profile's summaries container (see @prof/binning `SummariesBuilder`) from its samples in
 * chunks, with the frame and string tables the stacks route names frames from and the CPU facts,
 * so no query needs the document. `doc` gives everything but the samples (its sample columns may
 * be empty, as `readDocumentColumns` leaves them; `samples.length` and the optional columns'
 * presence count).
 */
export function summarizeSamples(
  doc: ProfileDocument,
  chunks: Iterable<SampleChunk>,
  options: SummarizeOptions = {},
): { bytes: number; pieces(): Generator<Uint8Array> } {
  const s = doc.samples;
  // Filled once every sample has gone by (the builder writes `meta` when it finishes).
  const meta: SummaryMeta = { summaryVersion: SUMMARY_VERSION, durationMs: 0, timeEstimated: s.timeEstimated };
  const builder = new SummariesBuilder({
    stacks: doc.stacks,
    threads: doc.threads.length,
    memory: !!s.memory,
    heap: !!s.heap,
    weight: !!s.weight,
    meta: meta as unknown as Record<string, unknown>,
    cpuBlock: options.cpuBlock,
    cpuFanout: options.cpuFanout,
    spill: options.spill,
  });
  for (const chunk of chunks) builder.push(chunk);
  const { samples: n, perThread, firstTime, lastTime } = builder.pushed;
  if (n !== s.length) throw new Error(`summaries: ${n} samples pushed, the document has ${s.length}`);
  meta.durationMs = profileDuration(doc.meta, s.timeSource, n, firstTime, lastTime);
  const f = doc.frames;
  builder.addArray('frames.name', f.name);
  builder.addArray('frames.file', f.file);
  builder.addArray('frames.line', f.line);
  builder.addArray('frames.kind', Uint32Array.from(f.kind));
  builder.addJson('strings', doc.strings);
  // What the CPU views read beside the columns (cpu-source.ts), so they never need the document either.
  const extras = cpuExtras(doc, meta.durationMs, perThread);
  for (const [name, array] of Object.entries(extras.arrays)) builder.addArray(name, array);
  for (const [name, value] of Object.entries(extras.json)) builder.addJson(name, value);
  return builder.finishStreamed();
}

/** `summarizeSamples` of a document held whole, as parts in memory. */
export function summarizeDocument(doc: ProfileDocument, blocks: SummarizeOptions = {}): Uint8Array[] {
  return [...summarizeSamples(doc, [doc.samples], blocks).pieces()];
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
