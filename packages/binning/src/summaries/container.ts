/**
 * The summaries container: a 32-byte header, typed arrays each starting on an 8-byte boundary
 * (so a reader maps any element to one byte offset, and an f64 never straddles a page), then a
 * JSON table of contents. The header says where the table is, so a reader needs two small reads
 * to open it and then reads only the byte ranges a query touches: a file, an S3 ranged GET or an
 * in-memory buffer serve it alike.
 *
 * Version 2 stores the sample times and the memory readings block by block side by side (see
 * `Section.stride`): a memory bin edge reads its block of times and of readings in one read. A
 * version-1 container (every array contiguous) is still read.
 *
 * Version 3 adds each memory node's M2 (`SeriesToc.levels`), the bins' spread; versions 1 and 2
 * are still read, their bins without it (`sd` NaN).
 *
 * Version 4 keeps a coarse time every COARSE_BLOCKS (64) blocks rather than every 128, so that edges
 * snapped to pyramid nodes of 64 blocks need no block time either (`coarseBlocks`), and the time of
 * each node of 8 blocks (`SeriesToc.nodeTime`) for edges snapped to those.
 */

import {
  COARSE_BLOCKS,
  COARSE_BLOCKS_V3,
  BLOCK as MEMORY_BLOCK,
  BLOCK_SHIFT as MEMORY_BLOCK_SHIFT,
} from '../summary.js';

export const MAGIC = 'PROFSUM\0';
export const CONTAINER_VERSION = 4;
/** Versions a reader opens: 1 has no interleaved sections, 1 and 2 no M2 in the memory nodes. */
export const READABLE_VERSIONS: readonly number[] = [1, 2, 3, 4];

/** Values per memory pyramid node in a container of `version`: [sum, min, max], and m2 from version 3. */
export function memoryNodeWidth(version: number): 3 | 4 {
  return version >= 3 ? 4 : 3;
}

/** Blocks per coarse time entry (`SeriesToc.coarseTime`) in a container of `version`. */
export function coarseBlocks(version: number): number {
  return version >= 4 ? COARSE_BLOCKS : COARSE_BLOCKS_V3;
}
export const HEADER_BYTES = 32;

export type ElementType = 'f64' | 'i32' | 'u32';
export const ELEMENT_BYTES: Record<ElementType, number> = { f64: 8, i32: 4, u32: 4 };

/** Where one typed array lies in the container. */
export interface Section {
  offset: number;
  /** Elements, not bytes. */
  length: number;
  type: ElementType;
  /**
   * Set on interleaved sections (version 2): elements come in groups of MEMORY_BLOCK, one group
   * every `stride` bytes, the other columns' groups of the same block between (a time column's
   * block, then its readings'). Element i is at `elementOffset(section, i)`.
   */
  stride?: number;
}

/** Byte offset of element `i` of a section. */
export function elementOffset(section: Section, i: number): number {
  const size = ELEMENT_BYTES[section.type];
  const stride = section.stride;
  return stride === undefined
    ? section.offset + i * size
    : section.offset + (i >>> MEMORY_BLOCK_SHIFT) * stride + (i & (MEMORY_BLOCK - 1)) * size;
}

/** One memory series (a column, all threads or one thread's rows, finite values only). */
export interface SeriesToc {
  length: number;
  time: Section;
  value: Section;
  /** Time of the first sample of each block of MEMORY_BLOCK positions. */
  blockTime: Section;
  /** Time of the first sample of each `coarseBlocks(version)` blocks: read whole to start a search. */
  coarseTime: Section;
  /**
   * Time of the first sample of each pyramid node of MEMORY_FANOUT blocks (every 8th block time),
   * from version 4: an edge moved by 8 blocks reads these rather than the block times, an eighth of
   * the bytes (a zoom on 1/10 of a 24-hour run read 2.2 MB of block times for its 1,239 edges).
   */
  nodeTime?: Section;
  /**
   * [sum, min, max, m2] per node ([sum, min, max] before version 3), level 0 (one node per block)
   * first, the values `buildMemorySummary` makes.
   */
  levels: Section[];
}

/** One level of the CPU aggregates: node j's entries are `offsets[j]..offsets[j+1]`. */
export interface CpuLevelToc {
  offsets: Section;
  thread: Section;
  stack: Section;
  count: Section;
  weight?: Section;
  rss?: Section;
  heap?: Section;
}

export interface Toc {
  version: number;
  samples: number;
  threads: number;
  stackRows: number;
  firstTime: number;
  lastTime: number;
  meta: Record<string, unknown>;
  /** Per-sample columns, read only for the partial blocks at a range's ends and memory bin edges. */
  columns: {
    time: Section;
    stack: Section;
    /** Absent with a single thread: every sample is thread 0. */
    thread?: Section;
    memory?: Section;
    heap?: Section;
    weight?: Section;
  };
  stacks: { parent: Section; frame: Section };
  cpuBlock: number;
  cpuFanout: number;
  /** First time of each CPU block. */
  cpuBlockTime: Section;
  /** Last finite reading before each CPU block (NaN when none yet): the start of its growth pass. */
  carried: { rss?: Section; heap?: Section };
  cpuLevels: CpuLevelToc[];
  /** `rss:all`, `heap:3`, …; a string names the series it is identical to. */
  series: Record<string, SeriesToc | string>;
  extra: Record<string, Section>;
  json: Record<string, unknown>;
}

// Memory blocks and fanout are buildMemorySummary's, so the container's bins are bit-identical to it.
export {
  BLOCK as MEMORY_BLOCK,
  BLOCK_SHIFT as MEMORY_BLOCK_SHIFT,
  FANOUT as MEMORY_FANOUT,
} from '../summary.js';

/**
 * Samples per CPU block, and blocks per node of the next level. A range's or a bin's stacks read the two
 * partial blocks at its ends sample by sample: with blocks of 4,096 a ×64 range read 162 KiB (its
 * aggregation 0.65 ms at p50 in one process), with 1,024 55 KiB (0.40 ms); the whole run's is unchanged
 * (0.6-1.2 ms). The price: 4% more container (3.2× the level-0 entries) and ~15% more build time.
 * A container keeps the block it was built with (`Toc.cpuBlock`).
 */
export const CPU_BLOCK = 1024;
export const CPU_FANOUT = 16;
