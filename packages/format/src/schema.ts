/**
 * The Prof profile document: one versioned, columnar shape for every source (vmprof, V8 CPU
 * profiles, the Node client). A distinct stack is stored once, as a node of a prefix tree, so a
 * sample is one integer; per-sample data are typed arrays, which msgpackr encodes as binary.
 *
 * Indices: every `*: Uint32Array | Int32Array` column that names another table holds row numbers
 * of that table; `-1` is used only where a field says so. `assertIntegrity` checks them all.
 */

/**
 * Version of this schema. Bump on any change a reader of the previous version would misread, and
 * add the upgrader from the previous version to `upgrade.ts`:
 * 1. the first shape (`samples.heap` appeared later without a bump: absent means null);
 * 2. `samples.heap` always present (null when not recorded), `producer` stamped.
 */
export const SCHEMA_VERSION = 2;

/** Magic string in every document, so a decoder can tell a Prof document from other msgpack. */
export const DOCUMENT_MAGIC = 'prof.profile';

/** What a frame is; stored as a small integer in `FrameTable.kind`. */
export const FrameKind = {
  /** Interpreted Python code (a vmprof `py:` code object). */
  Python: 0,
  /** Native (C) code: a vmprof odd address or PyPy kind 7, a V8 native/builtin/program frame. */
  Native: 1,
  /** A Python frame running inside PyPy JIT-compiled machine code (PyPy kind 3). */
  Jit: 2,
  /** A PyPy JIT machine-code block start (kind 6): no name of its own. */
  Asm: 3,
  /** JavaScript code (V8 CPU profiles, the Node client). */
  JavaScript: 4,
} as const;
export type FrameKind = (typeof FrameKind)[keyof typeof FrameKind];

/** Human names of `FrameKind` values, index = kind. */
export const FRAME_KIND_NAMES = ['python', 'native', 'jit', 'asm', 'js'] as const;

/** Where a document came from. */
export type SourceFormat = 'vmprof' | 'v8-cpuprofile' | 'node-client' | 'speedscope' | 'folded' | 'austin';

/** A non-fatal problem found while reading; the document holds everything before it. */
export interface DocumentWarning {
  /** Stable code, listed in docs/errors.md (e.g. `truncated`, `no-trailer`, `invalid-utf8`). */
  code: string;
  /** Readable explanation naming what was wrong. */
  message: string;
  /** Byte offset in the source file (after gunzip) where the problem starts, when known. */
  offset?: number;
}

/** Facts specific to a vmprof source file; null for other sources. */
export interface VmprofInfo {
  /** Format version as read (0 = no header record). */
  version: number;
  /** Bytes per C `long` in the writer (4 or 8). */
  wordSize: number;
  /** Bytes per pointer in the writer (4 or 8). */
  addrSize: number;
  /** The header mode byte (version >= 4), else null. */
  modeByte: number | null;
  /** Stack records carry a memory slot. */
  memory: boolean;
  /** Stack records carry line slots. */
  lines: boolean;
  /** Native frames were collected (mode bit 0x04), null before version 4. */
  native: boolean | null;
  /** PyPy kind/value pairs. */
  rpython: boolean;
  /** Wall-clock sampling (mode bit 0x10), null before version 4. */
  realTime: boolean | null;
  /** The file was gzip-compressed. */
  gzipped: boolean;
  /** Key/value meta records in file order (first value kept on repeats). */
  meta: Record<string, string>;
}

/** Descriptive metadata of a profile; everything a landing page or an index needs. */
export interface DocumentMeta {
  /** Project the profile belongs to (chosen by the uploader), or null. */
  project: string | null;
  /** Name of the profiled top-level function (the entry point), or null. */
  name: string | null;
  /** Free-form tags, e.g. `{env: 'prod'}`. */
  tags: Record<string, string>;
  /** Interpreter or runtime, e.g. `cpython`, `pypy`, `node`. */
  interpreter: string | null;
  /** Wall-clock start, milliseconds since the Unix epoch (UTC), or null when unknown. */
  startTime: number | null;
  /** Wall-clock end, milliseconds since the Unix epoch (UTC), or null when unknown (killed process). */
  endTime: number | null;
  /** IANA zone, UTC offset or zone abbreviation (`CET`) of the recording machine, or null when unknown. */
  zone: string | null;
  /** Requested sampling period in microseconds, or null. */
  periodUs: number | null;
  /** Command line of the profiled process, or null. */
  argv: string[] | null;
  /** Host name of the profiled machine, or null. */
  host: string | null;
  /** Which reader produced the document. */
  source: SourceFormat;
  /** vmprof header facts and meta records, for vmprof sources. */
  vmprof: VmprofInfo | null;
}

/** All strings of the document; other tables refer to them by index. */
export type StringTable = string[];

/**
 * One row per distinct code location (a vmprof address with its kind, a V8 call frame).
 * Columns are parallel arrays of length `length`.
 */
export interface FrameTable {
  length: number;
  /** String index of the function name (e.g. `leaf_sum`, `<module>`). */
  name: Uint32Array;
  /** String index of the file name ('' when unknown). */
  file: Uint32Array;
  /** First line of the function (vmprof `co_firstlineno`), 0 when unknown. */
  line: Int32Array;
  /** `FrameKind` of the frame. */
  kind: Uint8Array;
  /** String index of the source's own full name for the frame (vmprof `py:f:1:file`, `<unknown code>`). */
  raw: Uint32Array;
  /** String index of the frame's address as hex (`0x7f21cf2e7860`, `-0x39`), '' when the source has none. */
  address: Uint32Array;
}

/**
 * Distinct stacks as a prefix tree, root first: row i is the stack `stacks[parent[i]] + frame[i]`.
 * A parent always has a smaller index than its children.
 */
export interface StackTable {
  length: number;
  /** Row of the parent stack, -1 for a root frame. */
  parent: Int32Array;
  /** Frame row of the innermost frame of this stack. */
  frame: Uint32Array;
  /** Line executing in that frame (vmprof lines mode, V8 position ticks), 0 when not recorded. */
  line: Int32Array;
}

/** Per-sample columns, parallel arrays of length `length`, in the order the samples were taken. */
export interface SampleTable {
  length: number;
  /** Stack row of the sample, -1 for an empty stack. */
  stack: Int32Array;
  /** Milliseconds since `meta.startTime` (or since the first sample when the start is unknown). */
  time: Float64Array;
  /** True when `time` is an estimate (vmprof before version 7 has no per-sample time). */
  timeEstimated: boolean;
  /**
   * How `time` was obtained: `recorded`, or the estimate used (see docs/architecture.md); `none` when the
   * source records no time at all (legacy vmprof call trees): `time` is then the sample's index in ms,
   * an order only, and the profile's duration is unknown.
   */
  timeSource: 'recorded' | 'spread-start-end' | 'period' | 'none';
  /** Row in `threads` of the sampled thread. */
  thread: Uint32Array;
  /** Process memory in bytes at the sample (vmprof RSS, Node RSS), or null when not recorded. */
  memory: Float64Array | null;
  /**
   * V8 heap used by the profiled isolate in bytes at the sample (the Node client; NaN where it could
   * not be read), or null when not recorded. Absent in some schema-1 documents: upgraded to null.
   */
  heap: Float64Array | null;
  /** Weight of each sample (e.g. microseconds for V8), or null when every sample weighs 1. */
  weight: Float64Array | null;
}

/** Threads seen in the profile. */
export interface ThreadTable {
  length: number;
  /** The source's thread id as a decimal string (vmprof: a PyThreadState address on CPython). */
  id: string[];
  /** Thread name when the source has one, else null. */
  name: (string | null)[];
}

/** The program that wrote a document, so a bad document can be traced to the release that made it. */
export interface DocumentProducer {
  /** Package or program name, e.g. `@prof/format`, `@prof/client`. */
  name: string;
  /** Its version (semver). */
  version: string;
}

/** The whole document. */
export interface ProfileDocument {
  /** Always `DOCUMENT_MAGIC`. */
  magic: typeof DOCUMENT_MAGIC;
  /** Schema version of the document; a decoded document is upgraded to `SCHEMA_VERSION` (upgrade.ts). */
  version: number;
  /** Who wrote the document; null for documents of schema 1, written before it was stamped. */
  producer: DocumentProducer | null;
  meta: DocumentMeta;
  strings: StringTable;
  frames: FrameTable;
  stacks: StackTable;
  samples: SampleTable;
  threads: ThreadTable;
  /** Non-fatal problems met while reading (e.g. `truncated` with its byte offset). */
  warnings: DocumentWarning[];
}
