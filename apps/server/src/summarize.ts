import { randomUUID } from 'node:crypto';
import { closeSync, fsyncSync, openSync, writeSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { SummariesBuilder, type SampleChunk, type SummariesSpill } from '@prof/binning';
import { profileDuration, type ProfileDocument } from '@prof/format';
import { cpuExtras } from './cpu-source';

/**
 * What this server's containers hold, in `meta.summaryVersion`: a stored container of another
 * version (or none: built before the CPU extras) is rebuilt on the worker pool at its first query,
 * so no view falls back to decoding the document. 2: the CPU extras (facts, stack lines, runner rows).
 * 3: container version 3, the memory nodes' M2 (the bins' spread, `sd`).
 */
export const SUMMARY_VERSION = 3;

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
 * A profile's summaries container (see @prof/binning `SummariesBuilder`) filled as its samples go
 * by, then finished with the frame and string tables the stacks route names frames from and the CPU
 * facts, so no query needs the document. Built from `doc`'s stack table and column presence (its
 * sample columns may be empty, as `readDocumentColumns` and the streaming converter leave them).
 */
export class SummaryBuild {
  private readonly builder: SummariesBuilder;
  private readonly meta: SummaryMeta;

  constructor(doc: ProfileDocument, options: SummarizeOptions = {}) {
    const s = doc.samples;
    // Filled once every sample has gone by (the builder writes `meta` when it finishes).
    this.meta = { summaryVersion: SUMMARY_VERSION, durationMs: 0, timeEstimated: s.timeEstimated };
    this.builder = new SummariesBuilder({
      stacks: doc.stacks,
      threads: doc.threads.length,
      memory: !!s.memory,
      heap: !!s.heap,
      weight: !!s.weight,
      meta: this.meta as unknown as Record<string, unknown>,
      cpuBlock: options.cpuBlock,
      cpuFanout: options.cpuFanout,
      spill: options.spill,
    });
  }

  /** The next samples, in time order (copied: the chunk's arrays may be reused). */
  push(chunk: SampleChunk): void {
    this.builder.push(chunk);
  }

  /** The container, once every sample went by; `doc` as stored (its meta, frames and strings final). */
  finish(doc: ProfileDocument): { bytes: number; pieces(): Generator<Uint8Array> } {
    const { builder, meta } = this;
    const s = doc.samples;
    const { samples: n, perThread, firstTime, lastTime } = builder.pushed;
    if (n !== s.length) throw new Error(`summaries: ${n} samples pushed, the document has ${s.length}`);
    meta.timeEstimated = s.timeEstimated;
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
}

/** `SummaryBuild` of `doc` fed `chunks`. */
export function summarizeSamples(
  doc: ProfileDocument,
  chunks: Iterable<SampleChunk>,
  options: SummarizeOptions = {},
): { bytes: number; pieces(): Generator<Uint8Array> } {
  const build = new SummaryBuild(doc, options);
  for (const chunk of chunks) build.push(chunk);
  return build.finish(doc);
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

/** A summaries container built into a scratch file: the caller stores it (moving the file), then removes it. */
export interface BuiltSummary {
  path: string;
  bytes: number;
}

/**
 * Writes a finished container to a new file in `scratchDir`, on disk (fsync) before it is moved into
 * the store: a summary renamed into place must not come back torn after a power loss.
 */
export async function writeSummaryFile(
  container: { bytes: number; pieces(): Generator<Uint8Array> },
  scratchDir: string,
): Promise<BuiltSummary> {
  const path = join(scratchDir, `summary-${randomUUID()}`);
  try {
    const fd = openSync(path, 'wx');
    try {
      for (const piece of container.pieces()) {
        for (let at = 0; at < piece.length; ) at += writeSync(fd, piece, at, piece.length - at);
      }
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    return { path, bytes: container.bytes };
  } catch (error) {
    await rm(path, { force: true });
    throw error;
  }
}
