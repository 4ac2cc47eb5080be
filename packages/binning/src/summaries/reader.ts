import { finishAnalysis, type StackAnalysis } from '../analyzeStacks.js';
import type { CompactRun } from '../compare.js';
import { binEdges, emptyBins, moveEdges, snapStride, type BinResult } from '../query.js';
import { lowerBound } from '../search.js';
import { canonicalRows, gain } from '../stackPath.js';
import { mergeM2 } from '../summary.js';
import type { StackTree } from '../types.js';
import { checkThread, MEMORY_SERIES, missingSeries, type MemorySeries } from '../errors.js';
import {
  coarseBlocks,
  ELEMENT_BYTES,
  elementOffset,
  HEADER_BYTES,
  MAGIC,
  MEMORY_BLOCK,
  MEMORY_BLOCK_SHIFT,
  MEMORY_FANOUT,
  memoryNodeWidth,
  READABLE_VERSIONS,
  type CpuLevelToc,
  type Section,
  type SeriesToc,
  type Toc,
} from './container.js';

/** Where a container's bytes are: a file, an object store (ranged GETs), a buffer. */
export interface SummarySource {
  readonly size: number;
  read(offset: number, length: number): Promise<Uint8Array>;
  /**
   * Reads `length` bytes at `offset` into `into` (at least that long) and returns them (a view of
   * `into`). A local file offers it: a query's reads then reuse a few buffers instead of allocating
   * one each (a whole-run query on a ×64 container read 21 MB it kept 5 MB of), a few at a time.
   */
  readInto?(into: Uint8Array, offset: number, length: number): Promise<Uint8Array>;
  /**
   * Many ranges (offset, length pairs) in one hop, their bytes one after another in one buffer. A
   * local file offers it: a zoom on a 24-hour container reads ~1,600 blocks far apart, and one
   * round trip for all of them costs what one read did.
   */
  readMany?(ranges: readonly number[]): Promise<Uint8Array>;
  /**
   * Takes back bytes `readMany` returned once the pages wanted are copied out, so a later batch
   * reuses their buffer (allocating a 4 MiB batch took ~0.8 ms).
   */
  release?(bytes: Uint8Array): void;
}

/** A buffer as a source. */
export function bufferSource(bytes: Uint8Array): SummarySource {
  return { size: bytes.byteLength, read: async (offset, length) => bytes.subarray(offset, offset + length) };
}

// 512 bytes: a bin edge touches one 512-byte group of 32 times and 32 readings (container version 3)
// and a few nodes (32 bytes each) per level. 1 KiB pages kept 10.2 MiB for a whole-run query on a ×64
// container (4 MiB at ×1); 256-byte ones 4.1 MiB, 512-byte ones 5.4 MiB (1.7 MiB at ×1), and each page
// costs about a microsecond of bookkeeping: 30 zooms on ×270 (bench/zoom-container.mjs), warm p50
// 17.0-18.6 → 11.2-12.5 ms, max 64-74 → 33-49 ms.
const PAGE_SHIFT = 9;
const PAGE = 1 << PAGE_SHIFT;
/**
 * Readings a range's growth looks back for the last one before it (512 bytes, a page): with a reading
 * every sample, the one just before. It scanned from its CPU block's start, ~2,000 readings a query.
 */
const LOOK_BACK = 64;
/** Longest single read (64 KiB): a run of missing pages is split so one query never asks for one huge range. */
const MAX_RUN_PAGES = 128;
/**
 * Missing pages this close (16 KiB) are fetched by one read, the pages between read and dropped: a
 * read costs ~30-40 µs on the thread pool and 16 KiB more of it ~2 µs. A zoom on 1/10 of a ×64 run
 * (1,500 bin edges ~3 KiB apart) went from ~3,000 reads and 80-160 ms to a few dozen.
 */
const MAX_GAP_PAGES = 32;
/**
 * Reads in flight at once from a source with `readInto`, each worker with a 64 KiB buffer for runs
 * with gaps: with 4, a whole-run query on a ×64 container waited ~375 round trips of the event loop.
 */
const READS_IN_FLIGHT = 32;
/**
 * One `readMany` batch: up to 4 MiB (a whole-run ×64 query reads ~20 MB) and 256 reads (a wide
 * zoom's ~1,600 reads from disk go out as several batches, several in flight).
 */
const READ_MANY_BYTES = 4 * 1024 * 1024;
const READ_MANY_RUNS = 256;
const BATCHES_IN_FLIGHT = 4;
/** Read buffers kept between queries (per thread). */
const KEPT_READ_BUFFERS = 8;
/** `rehearse`'s zooms: the window divided by these, a drag and the wheel notches after it. */
const REHEARSED_ZOOMS = [10, 100, 1000];
const readBuffers: Uint8Array[] = [];

/** Pages per frame: the cache and a query keep pages by 4 KiB frame, one map entry for up to eight. */
const FRAME_PAGES = 8;

/**
 * The pages held of one frame (`FRAME_PAGES` consecutive pages of a container), by index in it: page
 * i is in `views[i]`, whose byte 0 is the first of page `origins[i]` of the container. The pages of
 * one read share one view of their copy: a DataView a page cost ~110 ns to make, and those the cache
 * kept outlived V8's young generation, so each scavenge copied them (a zoom on 1/200 of a ×64 run
 * keeps ~3,400 pages). Origins are page numbers, small integers for any container under 512 GiB: byte
 * offsets, computed as a product, came as doubles and changed the kind of the arrays and fields
 * holding them, and the compiled reader functions were thrown away in the middle of a zoom (the
 * first wheel notch after a drag on a ×64 run took 42-92 ms on the server instead of 17-42).
 */
class Frame {
  readonly views: (DataView | undefined)[] = new Array(FRAME_PAGES);
  readonly origins: number[] = new Array(FRAME_PAGES).fill(0);
  bytes = 0;
}
const NO_FRAME = new Frame();

/**
 * Pages read from containers, the least recently used dropped past `maxBytes`. One cache can serve
 * many open containers (a server's), so their total stays bounded whatever the profiles' sizes.
 *
 * Two generations instead of one Map in use order: frames go to the young one, a frame used from the
 * old one moves to the young one, and when the young one holds half the budget the old one is
 * dropped whole. Evicting from the front of one Map one page at a time walked the Map's deleted
 * slots on every eviction: a wide zoom on a ×64 run spent 8 µs per page there (711 of 1,005 ms CPU
 * for 20 zooms), 2 µs without it. Pages are kept by frame: a zoom on 1/500 of a ×64 run reads
 * ~1,200 consecutive pages, and four or five Map operations each were a third of its time.
 */
export class PageCache {
  // Keyed by container × 2^32 + frame: a number, hashed faster than a built string.
  private young = new Map<number, Frame>();
  private old = new Map<number, Frame>();
  private youngBytes = 0;
  private oldBytes = 0;
  constructor(readonly maxBytes = 16 * 1024 * 1024) {}
  /** The pages held of frame `key`. */
  frame(key: number): Frame | undefined {
    const held = this.entry(key);
    this.rotate();
    return held;
  }
  /** Keeps page `index` of frame `key`, in `view` from `origin` (as `Frame`); returns the frame. */
  put(key: number, index: number, view: DataView, origin: number): Frame {
    let held = this.entry(key);
    if (!held) {
      held = new Frame();
      this.young.set(key, held);
    }
    if (!held.views[index]) {
      held.views[index] = view;
      held.origins[index] = origin;
      held.bytes += PAGE;
      this.youngBytes += PAGE;
    }
    this.rotate();
    return held;
  }
  /** Frame `key`, moved to the young generation when it was in the old one. */
  private entry(key: number): Frame | undefined {
    const held = this.young.get(key);
    if (held) return held;
    const aged = this.old.get(key);
    if (aged) {
      this.old.delete(key);
      this.oldBytes -= aged.bytes;
      this.young.set(key, aged);
      this.youngBytes += aged.bytes;
    }
    return aged;
  }
  private rotate(): void {
    if (this.youngBytes < this.maxBytes / 2) return;
    this.old = this.young;
    this.oldBytes = this.youngBytes;
    this.young = new Map();
    this.youngBytes = 0;
  }
  get bytes(): number {
    return this.youngBytes + this.oldBytes;
  }
}

export interface OpenSummariesOptions {
  /** Shared page cache; a private 4 MiB one when omitted. */
  cache?: PageCache;
}

/** A memory series' name (`MemorySeries`), kept under the name the summaries API first gave it. */
export type MemorySeriesName = MemorySeries;
export type WeightBy = 'weight' | 'rss' | 'heap';

export interface MemoryBinsOptions {
  series?: MemorySeriesName;
  /** As `BinQuery.align`. */
  align?: boolean;
  /** As `BinQuery.snap`. */
  snap?: boolean;
}

export interface RehearseOptions extends MemoryBinsOptions {
  /** Awaited before each step (a query); the server waits there for a moment without requests. */
  pause?: () => Promise<unknown>;
}

export interface SummaryStackOptions {
  topK?: number;
  rankBy?: 'count' | 'growth';
  /** Credit memory growth from this series (as `analyzeStacks`' `memory` column). */
  series?: MemorySeriesName;
}

let nextId = 0;

/** Reads the table of contents; everything else is read on demand. */
export async function openSummaries(source: SummarySource, options: OpenSummariesOptions = {}): Promise<Summaries> {
  if (source.size < HEADER_BYTES) throw new RangeError('openSummaries: not a summaries container (too short)');
  const head = await source.read(0, HEADER_BYTES);
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
  let magic = '';
  for (let i = 0; i < MAGIC.length; i++) magic += String.fromCharCode(view.getUint8(i));
  if (magic !== MAGIC) throw new RangeError('openSummaries: not a summaries container (bad magic)');
  const version = view.getUint32(8, true);
  if (!READABLE_VERSIONS.includes(version))
    throw new RangeError(`openSummaries: container version ${version} is not supported`);
  const tocLength = view.getUint32(12, true);
  const tocOffset = view.getFloat64(16, true);
  if (!(tocOffset >= HEADER_BYTES) || tocOffset + tocLength !== source.size)
    throw new RangeError('openSummaries: truncated container');
  const toc = JSON.parse(new TextDecoder().decode(await source.read(tocOffset, tocLength))) as Toc;
  return new Summaries(source, toc, options.cache ?? new PageCache(4 * 1024 * 1024));
}

type Resident = Float64Array | Int32Array | Uint32Array;

/** The node times (version 4) when edges move by a multiple of a node of MEMORY_FANOUT blocks, else null. */
function nodeTimed(s: SeriesToc, stride: number): Section | null {
  return s.nodeTime && stride % MEMORY_FANOUT === 0 ? s.nodeTime : null;
}

/** One read: pages [first, end), the missing ones among them (the others are a gap read and dropped). */
interface Run {
  first: number;
  end: number;
  pages: number[];
}

/**
 * Pages one query has read: pinned for its duration, whatever the shared cache evicts meanwhile. It
 * holds the cache's frames themselves (no copy for a warm query's ~10,000 pages): a frame the cache
 * drops stays whole here, and a page read into it after goes to the cache's new frame and this one.
 */
class Pages {
  private readonly frames = new Map<number, Frame>();
  constructor(private readonly s: Summaries) {}

  /** Makes the bytes of `[start, end)` ranges readable. */
  async need(ranges: number[]): Promise<void> {
    this.lastPage = -1;
    this.lastFrame = -1;
    // Each page named is found here or in the shared cache, or else missing. Only the missing ones
    // are sorted (into reads): a warm whole-run query names ~10,000 pages out of order.
    const missing: number[] = [];
    const key = this.s.id * 2 ** 32;
    let sorted = true;
    let f = -1;
    let pinned: Frame | undefined;
    let cached: Frame | undefined;
    for (let i = 0; i < ranges.length; i += 2) {
      if (ranges[i + 1] <= ranges[i]) continue;
      const last = Math.floor((ranges[i + 1] - 1) / PAGE);
      for (let p = Math.floor(ranges[i] / PAGE); p <= last; p++) {
        const index = p % FRAME_PAGES;
        if (p - index !== f * FRAME_PAGES) {
          f = (p - index) / FRAME_PAGES;
          pinned = this.frames.get(f);
          cached = this.s.cache.frame(key + f);
          if (!pinned && cached) this.frames.set(f, (pinned = cached));
        }
        if (pinned?.views[index]) continue;
        const page = cached?.views[index];
        if (page) {
          pinned!.views[index] = page;
          pinned!.origins[index] = cached!.origins[index];
        } else {
          if (missing.length > 0 && p <= missing[missing.length - 1]) {
            if (p === missing[missing.length - 1]) continue;
            sorted = false;
          }
          missing.push(p);
        }
      }
    }
    if (!sorted) {
      missing.sort((x, y) => x - y);
      let kept = 0;
      for (let i = 0; i < missing.length; i++)
        if (i === 0 || missing[i] !== missing[kept - 1]) missing[kept++] = missing[i];
      missing.length = kept;
    }
    // Each read: [first, end) pages and the missing ones among them (a gap up to MAX_GAP_PAGES is read too).
    const runs: Run[] = [];
    for (const p of missing) {
      const run = runs[runs.length - 1];
      if (run && p - run.end < MAX_GAP_PAGES && p + 1 - run.first <= MAX_RUN_PAGES) {
        run.end = p + 1;
        run.pages.push(p);
      } else runs.push({ first: p, end: p + 1, pages: [p] });
    }
    const source = this.s.source;
    const lengthOf = ({ first, end }: Run) => Math.min(end * PAGE, source.size) - first * PAGE;
    // A copy of the wanted pages only: a page outlives the read buffer (the cache counts what it
    // keeps, gap pages included would not be counted), and its DataView needs no alignment.
    const keep = ({ first, pages }: Run, bytes: Uint8Array, copy: Uint8Array, whole: boolean) => {
      const view = new DataView(copy.buffer, copy.byteOffset, copy.byteLength);
      // Consecutive wanted pages are copied by one call; page pages[k] is at k * PAGE of the copy.
      for (let k = 0; k < pages.length; ) {
        let j = k + 1;
        while (j < pages.length && pages[j] === pages[j - 1] + 1) j++;
        const at = (pages[k] - first) * PAGE;
        if (!whole) copy.set(bytes.subarray(at, Math.min(at + (j - k) * PAGE, bytes.byteLength)), k * PAGE);
        const origin = pages[k] - k;
        for (; k < j; k++) {
          const index = pages[k] % FRAME_PAGES;
          const f = (pages[k] - index) / FRAME_PAGES;
          const held = this.s.cache.put(key + f, index, view, origin);
          const pinned = this.frames.get(f);
          if (!pinned) this.frames.set(f, held);
          else if (!pinned.views[index]) {
            pinned.views[index] = view;
            pinned.origins[index] = origin;
          }
        }
      }
    };
    if (source.readMany) {
      // Batches of up to READ_MANY_BYTES, a few in flight: bounded memory for a whole-run query.
      const batches: Run[][] = [];
      let bytes = Infinity;
      for (const run of runs) {
        if (bytes + lengthOf(run) > READ_MANY_BYTES || batches[batches.length - 1].length >= READ_MANY_RUNS) {
          batches.push([]);
          bytes = 0;
        }
        batches[batches.length - 1].push(run);
        bytes += lengthOf(run);
      }
      let next = 0;
      const reader = async () => {
        while (next < batches.length) {
          const batch = batches[next++];
          const ranges: number[] = [];
          for (const run of batch) ranges.push(run.first * PAGE, lengthOf(run));
          const all = await source.readMany!(ranges);
          let at = 0;
          for (const run of batch) {
            const length = lengthOf(run);
            if (at + length > all.byteLength) throw new RangeError('summaries: short read from the source');
            keep(run, all.subarray(at, at + length), new Uint8Array(run.pages.length * PAGE), false);
            at += length;
          }
          source.release?.(all);
        }
      };
      await Promise.all(Array.from({ length: Math.min(BATCHES_IN_FLIGHT, batches.length) }, reader));
      return;
    }
    // A run without gaps is read straight into its copy; one with gaps into a reused buffer when the
    // source can (`readInto`), else into a buffer of its own.
    const readRun = async (run: Run, spare?: Uint8Array) => {
      const length = lengthOf(run);
      const copy = new Uint8Array(run.pages.length * PAGE);
      const whole = run.pages.length === run.end - run.first && !!source.readInto;
      const into = whole ? copy : spare && source.readInto ? spare : undefined;
      const offset = run.first * PAGE;
      const bytes = into ? await source.readInto!(into, offset, length) : await source.read(offset, length);
      if (bytes.byteLength !== length) throw new RangeError('summaries: short read from the source');
      keep(run, bytes, copy, whole);
    };
    if (!source.readInto) {
      await Promise.all(runs.map((run) => readRun(run)));
      return;
    }
    // Reads in flight at once, each worker with a reused buffer for runs with gaps.
    let next = 0;
    const worker = async () => {
      const spare = readBuffers.pop() ?? new Uint8Array(MAX_RUN_PAGES * PAGE);
      try {
        while (next < runs.length) await readRun(runs[next++], spare);
      } finally {
        if (readBuffers.length < KEPT_READ_BUFFERS) readBuffers.push(spare);
      }
    };
    await Promise.all(Array.from({ length: Math.min(READS_IN_FLIGHT, runs.length) }, worker));
  }

  // The page and frame of the last access: a query reads a block's values in turn, mostly from one page.
  private lastPage = -1;
  private lastView: DataView | undefined;
  /** The page of the container where the last page's view starts (`Frame.origins`). */
  private lastOrigin = 0;
  private lastFrame = -1;
  private lastFrameView = NO_FRAME;
  /** The view holding the byte at `off`, which is at `off - this.lastOrigin * PAGE` in it. */
  private view(off: number): DataView {
    // Not `>>> PAGE_SHIFT`: offsets past 4 GiB (a container of a long multi-threaded run) would wrap.
    const p = Math.floor(off / PAGE);
    if (p !== this.lastPage) {
      const index = p % FRAME_PAGES;
      const f = (p - index) / FRAME_PAGES;
      if (f !== this.lastFrame) {
        this.lastFrameView = this.frames.get(f) ?? NO_FRAME;
        this.lastFrame = f;
      }
      this.lastView = this.lastFrameView.views[index];
      this.lastOrigin = this.lastFrameView.origins[index];
      this.lastPage = p;
    }
    return this.lastView!;
  }
  /** Set by `run`: the page holding the element asked for, and the element's byte offset in it. */
  runView!: DataView;
  runAt = 0;
  /**
   * Element i of a section and how many of `[i, end)` follow it in the same page (and block, when
   * interleaved), which `runView` and `runAt` then locate: a loop over many elements finds a page
   * once per page instead of once per element (a zoom's raw samples cost 35 ns each, a third of it).
   */
  run(section: Section, i: number, end: number): number {
    const size = ELEMENT_BYTES[section.type];
    const stride = section.stride;
    const off = stride === undefined ? section.offset + i * size : elementOffset(section, i);
    this.runView = this.view(off);
    // A byte of a run's copy (under 64 KiB): a small integer, whatever the container's size.
    this.runAt = (off - this.lastOrigin * PAGE) | 0;
    const at = off & (PAGE - 1);
    let n = Math.min(end - i, (PAGE - at) / size);
    if (stride !== undefined) n = Math.min(n, MEMORY_BLOCK - (i & (MEMORY_BLOCK - 1)));
    return n;
  }
  /**
   * Elements `[i, end)` of a section into `out` from its start, a page at a time: a loop that reads
   * several sections element by element changes page at every read (a /stacks bin on a ×64 run spent
   * ~0.5 ms so over its partial blocks' samples).
   */
  copy(section: Section, i: number, end: number, out: Float64Array | Int32Array | Uint32Array): void {
    const type = section.type;
    for (let k = i; k < end; ) {
      const n = this.run(section, k, end);
      const view = this.runView;
      const at = this.runAt;
      const to = k - i;
      if (type === 'f64') for (let j = 0; j < n; j++) out[to + j] = view.getFloat64(at + j * 8, true);
      else if (type === 'i32') for (let j = 0; j < n; j++) out[to + j] = view.getInt32(at + j * 4, true);
      else for (let j = 0; j < n; j++) out[to + j] = view.getUint32(at + j * 4, true);
      k += n;
    }
  }
  f64(section: Section, i: number): number {
    const off = section.stride === undefined ? section.offset + i * 8 : elementOffset(section, i);
    const view = this.view(off);
    return view.getFloat64(off - this.lastOrigin * PAGE, true);
  }
  i32(section: Section, i: number): number {
    const off = section.stride === undefined ? section.offset + i * 4 : elementOffset(section, i);
    const view = this.view(off);
    return view.getInt32(off - this.lastOrigin * PAGE, true);
  }
  u32(section: Section, i: number): number {
    const off = section.stride === undefined ? section.offset + i * 4 : elementOffset(section, i);
    const view = this.view(off);
    return view.getUint32(off - this.lastOrigin * PAGE, true);
  }
}

/**
 * Byte ranges of elements [from, to) of a section, appended to `ranges`: one, or one per block of
 * an interleaved section (the other columns' bytes between are not wanted).
 */
function span(ranges: number[], section: Section, from: number, to: number): void {
  const size = ELEMENT_BYTES[section.type];
  if (section.stride === undefined) {
    ranges.push(section.offset + from * size, section.offset + to * size);
    return;
  }
  for (let i = from; i < to; ) {
    const end = Math.min(to, ((i >>> MEMORY_BLOCK_SHIFT) + 1) * MEMORY_BLOCK);
    ranges.push(elementOffset(section, i), elementOffset(section, end - 1) + size);
    i = end;
  }
}

/** First element in `[lo, hi)` of an ascending f64 section, read into `pages`, that is >= t (`hi` when none). */
function firstAtOrAfter(pages: Pages, section: Section, lo: number, hi: number, t: number): number {
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (pages.f64(section, mid) < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** A window's ends must be numbers (infinite ones are the run's ends). */
function checkWindow(fromMs: number, toMs: number): void {
  if (Number.isNaN(fromMs) || Number.isNaN(toMs))
    throw new RangeError(`sampleRange: from=${fromMs} and to=${toMs} must be numbers`);
}

/** Per-stack sums over a range (slot `rows` = the empty stack). */
interface Aggregate {
  rows: number;
  count: Float64Array;
  weight: Float64Array | null;
  seen: Int32Array;
  distinct: number;
  samples: number;
}

/**
 * An open summaries container. Queries read only what they touch: O(bins) small ranges for
 * memory bins, O(screen) precomputed blocks plus two partial blocks for a range's stacks.
 */
export class Summaries {
  readonly id = nextId++;
  private readonly resident = new Map<number, Promise<Resident>>();
  private tree: Promise<StackTree> | null = null;
  /** Blocks per coarse time entry in this container. */
  private readonly coarse: number;

  constructor(
    readonly source: SummarySource,
    private readonly toc: Toc,
    readonly cache: PageCache,
  ) {
    this.coarse = coarseBlocks(toc.version);
  }

  /** Samples in the profile. */
  get samples(): number {
    return this.toc.samples;
  }
  get threads(): number {
    return this.toc.threads;
  }
  /** Time of the first and last sample (NaN when there are none). */
  get firstTime(): number {
    return this.toc.firstTime ?? Number.NaN;
  }
  get lastTime(): number {
    return this.toc.lastTime ?? Number.NaN;
  }
  /** What the builder was given as `meta`. */
  get meta(): Record<string, unknown> {
    return this.toc.meta;
  }
  /** Memory series present. */
  get available(): MemorySeriesName[] {
    return MEMORY_SERIES.filter((k) => this.toc.series[`${k}:all`] !== undefined);
  }
  get hasWeight(): boolean {
    return this.toc.columns.weight !== undefined;
  }
  /** Bytes held by this handle's whole-read sections (the page cache is counted apart). */
  residentBytes = 0;

  private load(section: Section): Promise<Resident> {
    // Only small index arrays are read whole; an interleaved column never is.
    if (section.stride !== undefined) throw new RangeError('summaries: an interleaved section is not read whole');
    let pending = this.resident.get(section.offset);
    if (!pending) {
      pending = this.source.read(section.offset, section.length * ELEMENT_BYTES[section.type]).then((bytes) => {
        // A copy in a buffer of its own (a Node Buffer's slice() would share, and be offset in, a pool).
        const copy = new Uint8Array(bytes);
        this.residentBytes += copy.byteLength;
        const { buffer } = copy;
        return section.type === 'f64'
          ? new Float64Array(buffer, 0, section.length)
          : section.type === 'i32'
            ? new Int32Array(buffer, 0, section.length)
            : new Uint32Array(buffer, 0, section.length);
      });
      this.resident.set(section.offset, pending);
    }
    return pending;
  }

  /** The stack tree the profile's samples name. */
  stacks(): Promise<StackTree> {
    this.tree ??= Promise.all([this.load(this.toc.stacks.parent), this.load(this.toc.stacks.frame)]).then(
      ([parent, frame]) => ({ parent: parent as Int32Array, frame: frame as Uint32Array }),
    );
    return this.tree;
  }

  /** An extra array stored with `SummariesBuilder.addArray`, or null. */
  async array(name: string): Promise<Resident | null> {
    const section = this.toc.extra[name];
    return section ? this.load(section) : null;
  }

  /** An extra JSON value stored with `SummariesBuilder.addJson` (undefined when absent). */
  json(name: string): unknown {
    return this.toc.json[name];
  }

  private seriesToc(series: MemorySeriesName, thread: number | undefined): SeriesToc {
    if (thread !== undefined) this.checkThread(thread);
    let entry = this.toc.series[`${series}:${thread ?? 'all'}`];
    if (typeof entry === 'string') entry = this.toc.series[entry];
    if (!entry || typeof entry === 'string') throw missingSeries(series, this.available);
    return entry;
  }

  private checkThread(thread: number): void {
    checkThread(thread, this.toc.threads);
  }

  /**
   * Memory bins of `[fromMs, toMs)`, identical to `queryBins` over `buildMemorySummary` of the
   * series' finite readings (of one thread's samples when `thread` is given): same blocks, same
   * summation order, the same M2 merges (`sd` is NaN from a container stored before version 3).
   */
  async memoryBins(
    thread: number | undefined,
    fromMs: number,
    toMs: number,
    bins: number,
    options: MemoryBinsOptions = {},
  ): Promise<BinResult> {
    const query = { from: fromMs, to: toMs, bins, align: options.align };
    const edges = binEdges(query, 'memoryBins');
    const s = this.seriesToc(options.series ?? 'rss', thread);
    const n = s.length;
    const pages = new Pages(this);
    // With `snap`, the edges moved to block starts are set in `edges` before the bins are made.
    const positions = await this.positions(s, edges, pages, options.snap ?? false);
    const result = emptyBins(query, edges);
    // The raw readings and the nodes each bin reads, exactly: its edges' blocks of readings came with
    // their times (interleaved), so at most the nodes are left to read.
    const ranges: number[] = [];
    const levels = s.levels.length;
    const w = memoryNodeWidth(this.toc.version);
    const visitNodes = (level: number, a: number, b: number) => {
      if (b > a) span(ranges, s.levels[level], w * a, w * b);
    };
    const visitRaw = (lo: number, hi: number) => {
      if (hi > lo) span(ranges, s.value, lo, hi);
    };
    for (let i = 0; i + 1 < edges.length; i++) {
      const lo = positions[i];
      const hi = positions[i + 1];
      if (hi > lo) walkMemory(lo, hi, levels, visitNodes, visitRaw);
    }
    await pages.need(ranges);
    // Pieces in `rangeStats`' order (query.ts), each piece's M2 merged in as it does.
    const stats = new BinStats(pages, s.value, n, w);
    const addRaw = (lo: number, hi: number) => stats.raw(lo, hi);
    const addNodes = (level: number, a: number, b: number) => stats.nodes(s.levels[level], level, a, b);
    for (let i = 0; i < result.bins; i++) {
      const lo = positions[i];
      const hi = positions[i + 1];
      result.firstIndex[i] = lo;
      result.endIndex[i] = hi;
      result.count[i] = hi - lo;
      if (hi === lo) {
        result.mean[i] = result.min[i] = result.max[i] = result.sd[i] = Number.NaN;
        continue;
      }
      stats.reset();
      walkMemory(lo, hi, levels, addNodes, addRaw);
      result.mean[i] = stats.sum / (hi - lo);
      result.min[i] = stats.min;
      result.max[i] = stats.max;
      result.sd[i] = w === 4 ? Math.sqrt(stats.m2 / (hi - lo)) : Number.NaN;
    }
    return result;
  }

  /**
   * `snapEdges` (query.ts) for the inner edges of a window whose stride is `stride`, knowing each
   * edge's group of `coarse` blocks (`chunk`): the block an edge moves to is the first multiple of the
   * stride in that group (or the next group's start) whose time is at or after the edge. A stride of a
   * group or more needs no block time but the coarse entries; less, the group's multiples of it. The
   * whole of a 24-hour run read the block times of its ~1,500 edges, 14 KB apart: 21.5 MB.
   * `snapRanges` names the block times `snapInner` reads.
   */
  private snapRanges(s: SeriesToc, chunk: Int32Array, stride: number, ranges: number[]): void {
    const group = this.coarse;
    if (stride === 0 || stride >= group) return;
    const blocks = Math.ceil(s.length / MEMORY_BLOCK);
    const byNode = nodeTimed(s, stride);
    let named = -1;
    for (let i = 1; i < chunk.length - 1; i++) {
      if (chunk[i] < 0 || chunk[i] === named) continue;
      named = chunk[i];
      const base = chunk[i] * group;
      const end = Math.min(blocks, base + group - stride + 1);
      if (base + stride >= end) continue;
      if (byNode) span(ranges, byNode, (base + stride) / MEMORY_FANOUT, Math.floor((end - 1) / MEMORY_FANOUT) + 1);
      else span(ranges, s.blockTime, base + stride, end);
    }
  }

  private snapInner(
    s: SeriesToc,
    edges: Float64Array,
    chunk: Int32Array,
    stride: number,
    coarse: Float64Array,
    pages: Pages,
  ): Int32Array {
    if (stride === 0) return new Int32Array(edges.length).fill(-1);
    const group = this.coarse;
    const blocks = Math.ceil(s.length / MEMORY_BLOCK);
    const byNode = nodeTimed(s, stride);
    // Multiples of the stride only: in the coarse entries, the node times or the block times.
    const timeAt = (c: number) =>
      c % group === 0 ? coarse[c / group] : byNode ? pages.f64(byNode, c / MEMORY_FANOUT) : pages.f64(s.blockTime, c);
    const target = (i: number) => {
      if (chunk[i] < 0) return 0;
      const base = chunk[i] * group;
      if (stride >= group) return Math.ceil((base + 1) / stride) * stride;
      // The first multiple j of the stride in the group whose block starts at or after the edge.
      let lo = 1;
      let hi = group / stride;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        const at = base + mid * stride;
        if (at >= blocks || timeAt(at) >= edges[i]) hi = mid;
        else lo = mid + 1;
      }
      return base + lo * stride;
    };
    return moveEdges(edges, blocks, target, timeAt);
  }

  /**
   * Series position of each edge: the first sample whose time is >= it. The readings of each
   * edge's block are read with its times, into `pages`: in the same page when they are interleaved
   * (version 2), else beside it, not after it. Not the next block's: a position at its start needs
   * none of it for a bin of more than a block, and the next edge's own block holds it for a narrower
   * bin (with it, a zoom on 1/10 of a ×64 run read two pages of readings per edge instead of one).
   */
  private async positions(s: SeriesToc, edges: Float64Array, pages: Pages, snap: boolean): Promise<Int32Array> {
    const n = s.length;
    const out = new Int32Array(edges.length);
    if (n === 0) return out;
    const m = edges.length - 1;
    const blocks = Math.ceil(n / MEMORY_BLOCK);
    const group = this.coarse;
    const coarse = (await this.load(s.coarseTime)) as Float64Array;
    // Step 1: the coarse entry before each edge narrows it to a group of block times.
    const chunk = new Int32Array(edges.length);
    for (let i = 0; i < edges.length; i++)
      chunk[i] = lowerBound(coarse, edges[i], i > 0 ? Math.max(0, chunk[i - 1]) : 0, coarse.length) - 1;
    // Step 2: the block time before it narrows it to one block of raw times, for the edges that need
    // their exact position (`exact`): with `snap`, the window's two ends, which set the stride, and the
    // inner edges that do not move.
    const block = new Int32Array(edges.length).fill(-1);
    const exact = new Uint8Array(edges.length);
    const ranges: number[] = [];
    const nameBlocks = () => {
      // Edges ascend: edges in the same chunk (or block, below) name its bytes once: a zoom on 1/500
      // of a ×64 run named each page ten times.
      let named = -1;
      for (let i = 0; i < edges.length; i++) {
        if (!exact[i] || chunk[i] < 0 || block[i] >= 0 || chunk[i] === named) continue;
        named = chunk[i];
        span(ranges, s.blockTime, chunk[i] * group, Math.min(blocks, (chunk[i] + 1) * group));
      }
    };
    const findBlocks = () => {
      for (let i = 0; i < edges.length; i++) {
        if (!exact[i] || chunk[i] < 0 || block[i] >= 0) continue;
        let lo = chunk[i] * group + 1;
        let hi = Math.min(blocks, (chunk[i] + 1) * group);
        // The block before's start time is below this edge too; most often this edge is in it.
        if (i > 0 && exact[i - 1] && chunk[i - 1] === chunk[i]) {
          lo = block[i - 1] + 1;
          if (lo < hi && pages.f64(s.blockTime, lo) >= edges[i]) hi = lo;
        }
        block[i] = firstAtOrAfter(pages, s.blockTime, lo, hi, edges[i]) - 1;
      }
    };
    let snapped: Int32Array | null = null;
    if (snap && m >= 2) {
      // Each end's first block is in its group of coarse blocks (`firstBlock`): the stride is most often known
      // from the groups alone, and the ends' blocks and the block times snapping needs read at once.
      const firstBlock = (i: number, most: boolean) =>
        chunk[i] < 0 ? 0 : most ? Math.min(blocks, (chunk[i] + 1) * group) : chunk[i] * group + 1;
      let stride = snapStride(firstBlock(m, false) - firstBlock(0, true), m);
      const known = stride === snapStride(firstBlock(m, true) - firstBlock(0, false), m);
      exact[0] = exact[m] = 1;
      if (known && stride === 0) exact.fill(1);
      nameBlocks();
      if (known) this.snapRanges(s, chunk, stride, ranges);
      await pages.need(ranges);
      findBlocks();
      if (!known) {
        stride = snapStride(block[m] + 1 - (chunk[0] < 0 ? 0 : block[0] + 1), m);
        ranges.length = 0;
        this.snapRanges(s, chunk, stride, ranges);
        await pages.need(ranges);
      }
      if (stride > 0) snapped = this.snapInner(s, edges, chunk, stride, coarse, pages);
      // The inner edges that stay (bins too narrow, or a gap in the readings) are found as without `snap`.
      for (let i = 1; i < m; i++) exact[i] = snapped && snapped[i] >= 0 ? 0 : 1;
      ranges.length = 0;
      nameBlocks();
      if (ranges.length) await pages.need(ranges);
      findBlocks();
    } else {
      exact.fill(1);
      nameBlocks();
      await pages.need(ranges);
      findBlocks();
    }
    ranges.length = 0;
    let named = -1;
    for (let i = 0; i < edges.length; i++) {
      if (block[i] < 0 || (snapped && snapped[i] >= 0) || block[i] === named) continue;
      named = block[i];
      span(ranges, s.time, block[i] * MEMORY_BLOCK, Math.min(n, (block[i] + 1) * MEMORY_BLOCK));
      span(ranges, s.value, block[i] * MEMORY_BLOCK, Math.min(n, (block[i] + 1) * MEMORY_BLOCK));
    }
    await pages.need(ranges);
    for (let i = 0; i < edges.length; i++) {
      if (snapped && snapped[i] >= 0) {
        out[i] = snapped[i] * MEMORY_BLOCK;
        continue;
      }
      if (block[i] < 0) continue;
      let lo = block[i] * MEMORY_BLOCK;
      let hi = Math.min(n, lo + MEMORY_BLOCK);
      // Edges close together share a block: the search starts at the edge before's position.
      if (i > 0 && block[i - 1] === block[i]) lo = out[i - 1];
      if (lo < hi && pages.run(s.time, lo, hi) === hi - lo) {
        // The block's times in one page (always, when interleaved): searched in place.
        const view = pages.runView;
        const base = pages.runAt - lo * 8;
        while (lo < hi) {
          const mid = (lo + hi) >>> 1;
          if (view.getFloat64(base + mid * 8, true) < edges[i]) lo = mid + 1;
          else hi = mid;
        }
      } else
        while (lo < hi) {
          const mid = (lo + hi) >>> 1;
          if (pages.f64(s.time, mid) < edges[i]) lo = mid + 1;
          else hi = mid;
        }
      out[i] = lo;
    }
    return out;
  }

  /** First sample row whose time is >= t. */
  private async samplePosition(t: number): Promise<number> {
    const n = this.toc.samples;
    const blockTime = (await this.load(this.toc.cpuBlockTime)) as Float64Array;
    const c = lowerBound(blockTime, t, 0, blockTime.length);
    if (c === 0) return 0;
    const toc = this.toc;
    const lo = (c - 1) * toc.cpuBlock;
    const hi = Math.min(n, c * toc.cpuBlock);
    const pages = new Pages(this);
    const ranges: number[] = [];
    const time = toc.columns.time;
    span(ranges, time, lo, hi);
    await pages.need(ranges);
    return firstAtOrAfter(pages, time, lo, hi, t);
  }

  /** Sample rows `[start, end)` of `[fromMs, toMs)` (all threads). */
  async sampleRange(fromMs: number, toMs: number): Promise<{ start: number; end: number }> {
    checkWindow(fromMs, toMs);
    // Both at once: each is a round of reads.
    const [start, end] = await Promise.all([
      this.samplePosition(fromMs),
      toMs <= fromMs ? -1 : this.samplePosition(toMs),
    ]);
    return { start, end: Math.max(start, end) };
  }

  /** Blocks `[a, b)` as the fewest nodes of the CPU levels: `[level, first node, end node]` each. */
  private wholeBlocks(a: number, b: number): [number, number, number][] {
    const toc = this.toc;
    const nodes: [number, number, number][] = [];
    if (a >= b) return nodes;
    for (let level = 0; ; level++) {
      if (b - a < 2 * toc.cpuFanout || level === toc.cpuLevels.length - 1) {
        nodes.push([level, a, b]);
        return nodes;
      }
      const na = Math.ceil(a / toc.cpuFanout);
      const nb = Math.floor(b / toc.cpuFanout);
      nodes.push([level, a, na * toc.cpuFanout], [level, nb * toc.cpuFanout, b]);
      a = na;
      b = nb;
    }
  }

  /**
   * Count (and one weight) per stack of the samples of `[fromMs, toMs)` on `thread` (all when
   * undefined): whole blocks from the levels, the two partial ones from the per-sample columns.
   */
  private async aggregate(
    thread: number | undefined,
    fromMs: number,
    toMs: number,
    weightBy: WeightBy | null,
    what: string,
  ): Promise<Aggregate> {
    if (thread !== undefined) this.checkThread(thread);
    const toc = this.toc;
    if (weightBy === 'weight' && !toc.columns.weight) throw new RangeError(`${what}: this profile has no weights`);
    if (weightBy === 'rss' && !toc.columns.memory) throw missingSeries('rss', this.available);
    if (weightBy === 'heap' && !toc.columns.heap) throw missingSeries('heap', this.available);
    checkWindow(fromMs, toMs);
    const rows = toc.stackRows;
    const count = new Float64Array(rows + 1);
    const weight = weightBy ? new Float64Array(rows + 1) : null;
    const seen: number[] = [];
    let samples = 0;
    const B = toc.cpuBlock;
    const n = toc.samples;
    const { columns } = toc;
    const readingOf = weightBy === 'rss' ? columns.memory : weightBy === 'heap' ? columns.heap : undefined;
    const weightSection = (l: CpuLevelToc) => (weightBy ? l[weightBy] : undefined);
    const carriedOf = weightBy === 'rss' || weightBy === 'heap' ? toc.carried[weightBy] : undefined;
    const [blockTime, offsets, carried] = await Promise.all([
      this.load(toc.cpuBlockTime) as Promise<Float64Array>,
      Promise.all(toc.cpuLevels.map((l) => this.load(l.offsets))),
      carriedOf ? this.load(carriedOf) : null,
    ]);
    // The CPU block after each end's first sample (`sampleRange`) is known from the block times alone:
    // the range's whole blocks start at `first` and end at `last` or `last + 1` (when the end is a
    // block's start). Everything either may need is read in one round: each end's block (its times,
    // and the columns of its partial samples) and the nodes of both.
    const first = lowerBound(blockTime, fromMs, 0, blockTime.length);
    const last = toMs <= fromMs ? first : lowerBound(blockTime, toMs, first, blockTime.length);
    const pages = new Pages(this);
    const ranges: number[] = [];
    const nameBlock = (c: number) => {
      const lo = c * B;
      const hi = Math.min(n, lo + B);
      span(ranges, columns.time, lo, hi);
      span(ranges, columns.stack, lo, hi);
      if (columns.thread) span(ranges, columns.thread, lo, hi);
      if (weightBy === 'weight') span(ranges, columns.weight!, lo, hi);
      if (readingOf) span(ranges, readingOf, lo, hi);
    };
    if (first > 0) nameBlock(first - 1);
    if (last > 0 && last !== first) nameBlock(last - 1);
    const nameNodes = (nodes: [number, number, number][]) => {
      for (const [level, x, y] of nodes) {
        if (y <= x) continue;
        const l = toc.cpuLevels[level];
        const e0 = offsets[level][x];
        const e1 = offsets[level][y];
        span(ranges, l.thread, e0, e1);
        span(ranges, l.stack, e0, e1);
        span(ranges, l.count, e0, e1);
        const ws = weightSection(l);
        if (ws) span(ranges, ws, e0, e1);
      }
    };
    nameNodes(this.wholeBlocks(first, Math.max(first, last - 1)));
    if (last > first) nameNodes(this.wholeBlocks(first, last));
    await pages.need(ranges);
    const position = (c: number, t: number) =>
      c === 0 ? 0 : firstAtOrAfter(pages, columns.time, (c - 1) * B, Math.min(n, c * B), t);
    const start = position(first, fromMs);
    const end = toMs <= fromMs ? start : Math.max(start, position(last, toMs));
    const a = Math.ceil(start / B);
    const b = Math.floor(end / B);
    const partial: [number, number][] =
      a >= b
        ? [[start, end]]
        : [
            [start, a * B],
            [b * B, end],
          ];
    const nodes = a >= b ? [] : this.wholeBlocks(a, b);

    // Each section's elements copied out a run at a time, then summed (see `Pages.copy`), in loops
    // whose sums are locals: nothing here is a closure's (a closure's variables live on the heap).
    let most = 0;
    for (const [level, x, y] of nodes) if (y > x) most = Math.max(most, offsets[level][y] - offsets[level][x]);
    for (const [lo, hi] of partial) most = Math.max(most, hi - lo);
    const stacks = new Int32Array(most);
    const numbers = new Float64Array(most);
    const weights = new Float64Array(most);
    const threads = new Uint32Array(thread === undefined ? 0 : most);
    for (const [level, x, y] of nodes) {
      if (y <= x) continue;
      const l = toc.cpuLevels[level];
      const ws = weightSection(l);
      const e0 = offsets[level][x];
      const len = offsets[level][y] - e0;
      pages.copy(l.stack, e0, e0 + len, stacks);
      pages.copy(l.count, e0, e0 + len, numbers);
      if (ws) pages.copy(ws, e0, e0 + len, weights);
      if (thread !== undefined) pages.copy(l.thread, e0, e0 + len, threads);
      for (let j = 0; j < len; j++) {
        if (thread !== undefined && threads[j] !== thread) continue;
        const slot = stacks[j] < 0 ? rows : stacks[j];
        if (count[slot] === 0) seen.push(slot);
        count[slot] += numbers[j];
        if (weight) weight[slot] += ws ? weights[j] : 0;
        samples += numbers[j];
      }
    }
    for (const [lo, hi] of partial) {
      if (hi <= lo) continue;
      const len = hi - lo;
      let last = Number.NaN;
      if (readingOf) {
        const from = Math.floor(lo / toc.cpuBlock) * toc.cpuBlock;
        const near = Math.max(from, lo - LOOK_BACK);
        for (let j = lo - 1; j >= near && Number.isNaN(last); j--) {
          const v = pages.f64(readingOf, j);
          if (Number.isFinite(v)) last = v;
        }
        if (Number.isNaN(last) && near > from) {
          const before: number[] = [];
          span(before, readingOf, from, near);
          await pages.need(before);
          for (let j = near - 1; j >= from && Number.isNaN(last); j--) {
            const v = pages.f64(readingOf, j);
            if (Number.isFinite(v)) last = v;
          }
        }
        if (Number.isNaN(last)) last = carried![from / toc.cpuBlock];
        // Each sample's growth: its reading's gain over the last reading before it.
        pages.copy(readingOf, lo, hi, numbers);
        for (let j = 0; j < len; j++) {
          const v = numbers[j];
          weights[j] = 0;
          if (Number.isFinite(v)) {
            if (!Number.isNaN(last)) weights[j] = gain(last, v);
            last = v;
          }
        }
      } else if (weightBy === 'weight') pages.copy(columns.weight!, lo, hi, weights);
      pages.copy(columns.stack, lo, hi, stacks);
      const byThread = thread !== undefined && columns.thread;
      if (byThread) pages.copy(columns.thread!, lo, hi, threads);
      const weighted = readingOf !== undefined || weightBy === 'weight';
      for (let j = 0; j < len; j++) {
        if (byThread && threads[j] !== thread) continue;
        const slot = stacks[j] < 0 ? rows : stacks[j];
        if (count[slot] === 0) seen.push(slot);
        count[slot] += 1;
        if (weight) weight[slot] += weighted ? weights[j] : 0;
        samples += 1;
      }
    }
    return { rows, count, weight, seen: Int32Array.from(seen), distinct: seen.length, samples };
  }

  /**
   * The samples of `[fromMs, toMs)` on `thread` folded per distinct stack (as `compactRun` of
   * @prof/binning, stacks in first-met order of the blocks): weighted by count, or by the samples'
   * `weight`, or by the memory they grew (`rss`, `heap`).
   */
  async compactRun(thread: number | undefined, fromMs: number, toMs: number, weightBy?: WeightBy): Promise<CompactRun> {
    const agg = await this.aggregate(thread, fromMs, toMs, weightBy ?? null, 'compactRun');
    const out: CompactRun = {
      sampleStack: new Int32Array(agg.distinct),
      weight: new Float64Array(agg.distinct),
      samples: agg.samples,
    };
    const values = agg.weight ?? agg.count;
    for (let i = 0; i < agg.distinct; i++) {
      const slot = agg.seen[i];
      out.sampleStack[i] = slot === agg.rows ? -1 : slot;
      out.weight[i] = values[slot];
    }
    return out;
  }

  /**
   * Runs once on this container, answers dropped, what a memory view asks after its first `memoryBins`
   * (`thread`, `[fromMs, toMs)`, `bins`, `options`): zooms on 1/10, 1/100 and 1/1,000 of the window, and
   * the stacks of one of those bins. A zoom's edges read block times and node sums at finer strides
   * than the whole window, code no query of the process may have run yet: after a restart, a 24-hour
   * run's first drag took the server 35-88 ms against 18-32 ms once rehearsed, most of it in that code
   * running cold. Each step is one query and waits for `options.pause` first (the server's: no request
   * for a moment), so a request that comes meanwhile waits for one step at most. Failures are the
   * queries' own and are dropped: the rehearsal answers nobody.
   */
  rehearse(
    thread: number | undefined,
    fromMs: number,
    toMs: number,
    bins: number,
    options: RehearseOptions = {},
  ): Promise<void> {
    this.rehearsal ??= this.rehearseNow(thread, fromMs, toMs, bins, options).catch(() => {});
    return this.rehearsal;
  }

  private rehearsal: Promise<void> | null = null;

  private async rehearseNow(
    thread: number | undefined,
    fromMs: number,
    toMs: number,
    bins: number,
    { pause, ...options }: RehearseOptions,
  ): Promise<void> {
    const width = toMs - fromMs;
    if (!(width > 0) || this.samples === 0) return;
    // Off the middle, so the zooms do not share their edges' pages with the window's.
    const from = fromMs + width * 0.37;
    for (const part of REHEARSED_ZOOMS) {
      const to = from + width / part;
      if (!(to > from)) break;
      await pause?.();
      await this.memoryBins(thread, from, to, bins, options);
      if (part !== REHEARSED_ZOOMS[0]) continue;
      await pause?.();
      await this.analyzeStacks(thread, from, from + width / part / bins, { series: options.series });
    }
  }

  /** As `analyzeStacks` over the samples of `[fromMs, toMs)` on `thread`. */
  async analyzeStacks(
    thread: number | undefined,
    fromMs: number,
    toMs: number,
    options: SummaryStackOptions = {},
  ): Promise<StackAnalysis> {
    const what = 'analyzeStacks';
    const topK = options.topK ?? 10;
    const rankBy = options.rankBy ?? 'count';
    if (!Number.isInteger(topK) || topK < 0)
      throw new RangeError(`${what}: topK must be a non-negative integer, got ${topK}`);
    if (rankBy === 'growth' && !options.series) throw new RangeError(`${what}: rankBy 'growth' needs a series`);
    const [stacks, agg] = await Promise.all([
      this.stacks(),
      this.aggregate(thread, fromMs, toMs, options.series ?? null, what),
    ]);
    const rows = agg.rows;
    const canonical = canonicalRows(stacks);
    const counts = new Float64Array(rows + 1);
    const growthBy = agg.weight ? new Float64Array(rows + 1) : null;
    const seen = new Int32Array(agg.distinct);
    let distinct = 0;
    let totalGrowth = 0;
    for (let i = 0; i < agg.distinct; i++) {
      const slot = agg.seen[i];
      const c = slot === rows ? rows : canonical[slot];
      if (counts[c] === 0) seen[distinct++] = c;
      counts[c] += agg.count[slot];
      if (growthBy) {
        growthBy[c] += agg.weight![slot];
        totalGrowth += agg.weight![slot];
      }
    }
    return finishAnalysis(stacks, canonical, counts, growthBy, seen, distinct, agg.samples, totalGrowth, topK, rankBy);
  }
}

/**
 * One memory bin's count, sum, min, max and M2, its pieces merged in `rangeStats`' order (query.ts),
 * each piece's M2 as it merges it. The loops keep them in locals: as variables of a closure that
 * changes them they lived in a heap context, and a whole-run query on a ×64 container spent 80 ns
 * per pyramid node there.
 */
class BinStats {
  count = 0;
  sum = 0;
  min = Infinity;
  max = -Infinity;
  m2 = 0;
  private readonly withM2: boolean;
  constructor(
    private readonly pages: Pages,
    private readonly value: Section,
    /** Samples in the series. */
    private readonly n: number,
    /** Values per pyramid node (`memoryNodeWidth`). */
    private readonly w: number,
  ) {
    this.withM2 = w === 4;
  }
  reset(): void {
    this.count = 0;
    this.sum = 0;
    this.min = Infinity;
    this.max = -Infinity;
    this.m2 = 0;
  }
  /** The readings of positions [lo, hi). */
  raw(lo: number, hi: number): void {
    const pages = this.pages;
    let { count, sum, min, max, m2 } = this;
    for (let k = lo; k < hi; ) {
      const stop = k + pages.run(this.value, k, hi);
      const view = pages.runView;
      for (let at = pages.runAt; k < stop; k++, at += 8) {
        const v = view.getFloat64(at, true);
        m2 = mergeM2(count, sum, m2, 1, v, 0);
        count++;
        sum += v;
        min = Math.min(v, min);
        max = Math.max(v, max);
      }
    }
    this.count = count;
    this.sum = sum;
    this.min = min;
    this.max = max;
    this.m2 = m2;
  }
  /** Nodes [a, b) of pyramid `level`, stored in `section`. */
  nodes(section: Section, level: number, a: number, b: number): void {
    const { pages, w, n, withM2 } = this;
    const width = MEMORY_BLOCK * MEMORY_FANOUT ** level;
    let { count, sum, min, max, m2 } = this;
    for (let i = a; i < b; ) {
      // The nodes wholly in this page are read in place; a node across two pages value by value.
      const whole = Math.floor(pages.run(section, w * i, w * b) / w);
      const view = pages.runView;
      for (let at = pages.runAt, stop = i + Math.max(1, whole); i < stop; i++, at += 8 * w) {
        const split = whole === 0;
        const x = split ? pages.f64(section, w * i) : view.getFloat64(at, true);
        if (withM2) {
          const c = Math.min(width, n - i * width);
          m2 = mergeM2(count, sum, m2, c, x, split ? pages.f64(section, w * i + 3) : view.getFloat64(at + 24, true));
          count += c;
        }
        sum += x;
        min = Math.min(split ? pages.f64(section, w * i + 1) : view.getFloat64(at + 8, true), min);
        max = Math.max(split ? pages.f64(section, w * i + 2) : view.getFloat64(at + 16, true), max);
      }
    }
    this.count = count;
    this.sum = sum;
    this.min = min;
    this.max = max;
    this.m2 = m2;
  }
}

/**
 * The decomposition `rangeStats` of query.ts makes of positions [lo, hi), in the same order: raw
 * samples outside whole blocks, then at each level the partial groups at both ends.
 */
function walkMemory(
  lo: number,
  hi: number,
  levels: number,
  nodes: (level: number, a: number, b: number) => void,
  raw?: (lo: number, hi: number) => void,
): void {
  let a = (lo + MEMORY_BLOCK - 1) >>> MEMORY_BLOCK_SHIFT;
  let b = hi >>> MEMORY_BLOCK_SHIFT;
  if (a >= b) {
    raw?.(lo, hi);
    return;
  }
  raw?.(lo, a * MEMORY_BLOCK);
  raw?.(b * MEMORY_BLOCK, hi);
  for (let level = 0; ; level++) {
    if (b - a < 2 * MEMORY_FANOUT || level === levels - 1) {
      nodes(level, a, b);
      return;
    }
    const na = Math.ceil(a / MEMORY_FANOUT);
    const nb = Math.floor(b / MEMORY_FANOUT);
    nodes(level, a, na * MEMORY_FANOUT);
    nodes(level, nb * MEMORY_FANOUT, b);
    a = na;
    b = nb;
  }
}
