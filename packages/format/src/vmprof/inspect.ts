import { vmprofNameTable, sortedSymbols, symbolsSha256, VMPROF_UNKNOWN_CODE } from './compat-names';
import { VmprofSampleView, type VmprofSampleJson } from './compat-samples';
import { defaultHashFactory, type IncrementalHash } from './compat-sha256';
import { vmprofTree, type VmprofFunctionRow } from './compat-tree';
import { readVmprofDetailed } from './reader';
import type { VmprofReadResult } from './types';
import { FrameKind, type DocumentWarning, type ProfileDocument } from '../schema';

/**
 * `prof inspect --json`: what vmprof's own reader makes of a profile, in exactly the schema of
 * `fixtures/vmprof*\/*.expected.json`, so the two can be diffed field by field. Where vmprof's
 * reader fails on a damaged file, this still reports everything that could be read, and `warnings`
 * says what was wrong and at which byte offset.
 */
export interface VmprofInspection {
  reader: string;
  file?: { name: string; size: number; sha256?: string };
  header: VmprofInspectHeader;
  sample_count: number;
  /** Distinct ids after vmprof's sort-and-dict step. */
  symbol_count: number;
  /** Raw `0x02` + `0x08` records, duplicates included. */
  symbol_records: number;
  thread_ids: (number | string)[];
  gc_sample_count?: number;
  gc_obj_info_count?: number;
  memory_kb_summary?: { min: number; max: number; first: number; last: number };
  memory_summary?: { min_kb: number; max_kb: number; mean_kb: number };
  samples_truncated?: { head: number; tail: number };
  samples_sha256: string;
  samples: VmprofSampleJson[];
  tree_kind?: 'cpu';
  tree_root: { name: string; count: number } | null;
  tree_unfiltered_root?: { name: string; count: number };
  tree_error?: string;
  functions: VmprofFunctionRow[];
  symbols_sha256: string;
  symbols?: [string, string][];
  /** Problems vmprof's reader would fail on or silently get wrong; absent when there are none. */
  warnings?: DocumentWarning[];
}

export interface VmprofInspectHeader {
  version: number;
  word_size: number;
  addr_size: number;
  period_usec: number | null;
  mode_byte: number | null;
  profile_lines: boolean;
  profile_memory: boolean;
  profile_native: boolean | null;
  profile_rpython: boolean;
  profile_real_time: boolean | null;
  interp: string | null;
  start_time: string | null;
  end_time: string | null;
  meta: Record<string, string> | null;
}

export interface InspectFileInfo {
  name: string;
  size: number;
  sha256?: string;
}

export interface InspectOptions {
  /**
   * SHA-256 factory for `samples_sha256`, `symbols_sha256` and `file.sha256`. Default: node:crypto
   * where the runtime offers it without an import (Node >= 20.16), else the pure-JS `Sha256`.
   */
  createHash?: () => IncrementalHash;
}

/** Above this many samples the JSON lists only the first and last `SAMPLES_HEAD_TAIL`. */
export const SAMPLES_LIST_LIMIT = 20_000;
export const SAMPLES_HEAD_TAIL = 2_000;
/** `symbols` is listed only up to this many ids (the hash covers all). */
export const SYMBOLS_LIST_LIMIT = 2_000;
export const FUNCTIONS_LIMIT = 200;

const READER_LABEL = '@prof/format inspect (vmprof-compatible)';

/**
 * The inspect JSON of uncompressed vmprof bytes. `file` names the input (size and sha256 default to
 * those of `bytes`; pass the stored file's own when it was gzipped). Throws the reader's
 * `ProfFormatError` only when nothing is readable.
 */
export function inspectVmprof(
  bytes: Uint8Array,
  file?: { name: string; size?: number; sha256?: string },
  options: InspectOptions = {},
): VmprofInspection {
  const result = readVmprofDetailed(bytes);
  let info: InspectFileInfo | undefined;
  if (file) {
    let sha256 = file.sha256;
    if (sha256 === undefined) {
      const h = (options.createHash ?? defaultHashFactory())();
      h.update(bytes);
      sha256 = h.digest('hex');
    }
    info = { name: file.name, size: file.size ?? bytes.length, sha256 };
  }
  return inspectFromResult(result, info, options);
}

/** The inspect JSON of a read result (the reader's `readVmprofDetailed`). */
export function inspectFromResult(
  result: VmprofReadResult,
  file?: InspectFileInfo,
  options: InspectOptions = {},
): VmprofInspection {
  const createHash = options.createHash ?? defaultHashFactory();
  const doc = result.document;
  // vmprof keeps a name cut by the end of the file, shortened: name frames as it does.
  const records = result.cutName ? [...result.symbols, result.cutName] : result.symbols;
  const info = doc.meta.vmprof;
  const n = doc.samples.length;

  const names = vmprofNameTable(records);
  const nameOf = (address: string): string => names.get(address) ?? VMPROF_UNKNOWN_CODE;
  const frameNames = Array.from({ length: doc.frames.length }, (_, f) => nameOf(doc.strings[doc.frames.address[f]]));

  const version = info?.version ?? 0;
  const view = new VmprofSampleView(doc, {
    frameNames,
    lines: info?.lines ?? false,
    memory: info?.memory ?? false,
    rawTimes: result.rawSampleTimes,
    // The truth for version-0 files is vmprof 0.3.15, which does not mark odd addresses native.
    kindName: version === 0 ? (k) => (k === FrameKind.Jit ? 'jit' : k === FrameKind.Asm ? 'asm' : 'code') : undefined,
  });

  const out: VmprofInspection = {
    reader: READER_LABEL,
    ...(file ? { file } : {}),
    header: inspectHeader(doc),
    sample_count: n,
    symbol_count: names.size,
    symbol_records: records.length,
    thread_ids: threadIds(view, n),
  } as VmprofInspection;

  if (version >= 7) {
    out.gc_sample_count = result.gcSampleCount;
    out.gc_obj_info_count = result.objInfoCount;
  }
  if (info?.memory && n > 0) Object.assign(out, memorySummaries(view, n));

  const listed = n > SAMPLES_LIST_LIMIT;
  if (listed) out.samples_truncated = { head: SAMPLES_HEAD_TAIL, tail: SAMPLES_HEAD_TAIL };
  out.samples_sha256 = view.sha256(createHash());
  const indices = listed ? [...range(0, SAMPLES_HEAD_TAIL), ...range(n - SAMPLES_HEAD_TAIL, n)] : [...range(0, n)];
  out.samples = indices.map((i) => view.sample(i));

  if (version >= 7) out.tree_kind = 'cpu';
  const tree = vmprofTree(doc, nameOf, FUNCTIONS_LIMIT);
  out.tree_root = tree.root;
  if (tree.error) out.tree_error = tree.error;
  else out.tree_unfiltered_root = tree.unfilteredRoot!;
  out.functions = tree.functions;

  const symbols = sortedSymbols(names);
  out.symbols_sha256 = symbolsSha256(symbols, createHash());
  if (symbols.length <= SYMBOLS_LIST_LIMIT) out.symbols = symbols;

  const warnings = collectWarnings(result, frameNames);
  if (warnings.length > 0) out.warnings = warnings;
  return out;
}

function* range(from: number, to: number): Generator<number> {
  for (let i = from; i < to; i++) yield i;
}

function inspectHeader(doc: ProfileDocument): VmprofInspectHeader {
  const info = doc.meta.vmprof;
  return {
    version: info?.version ?? 0,
    word_size: info?.wordSize ?? 8,
    addr_size: info?.addrSize ?? 8,
    period_usec: doc.meta.periodUs,
    mode_byte: info?.modeByte ?? null,
    profile_lines: info?.lines ?? false,
    profile_memory: info?.memory ?? false,
    profile_native: info?.native ?? null,
    profile_rpython: info?.rpython ?? false,
    profile_real_time: info?.realTime ?? null,
    interp: doc.meta.interpreter,
    start_time: pythonIsoTime(doc.meta.startTime),
    end_time: pythonIsoTime(doc.meta.endTime),
    // vmprof 0.3.15, the only reader of version-0 files, has no meta at all.
    meta: info && (info.version > 0 || Object.keys(info.meta).length > 0) ? { ...info.meta } : null,
  };
}

/**
 * Epoch milliseconds as the truth prints vmprof's naive UTC datetime: `datetime.isoformat()` + `Z`,
 * microseconds included unless they are zero.
 */
export function pythonIsoTime(ms: number | null): string | null {
  if (ms === null || !Number.isFinite(ms)) return null;
  const totalUs = Math.round(ms * 1000);
  const us = ((totalUs % 1_000_000) + 1_000_000) % 1_000_000;
  const seconds = (totalUs - us) / 1_000_000;
  const date = new Date(seconds * 1000);
  const year = date.getUTCFullYear();
  // Python's datetime (and so vmprof) cannot represent these years either.
  if (!Number.isFinite(year) || year < 1 || year > 9999) return null;
  const iso = date.toISOString().slice(0, 19);
  return us === 0 ? `${iso}Z` : `${iso}.${String(us).padStart(6, '0')}Z`;
}

function threadIds(view: VmprofSampleView, n: number): (number | string)[] {
  const seen = new Map<string, number | string>();
  for (let i = 0; i < n; i++) {
    const t = view.threadOf(i);
    seen.set(String(t), t);
  }
  return [...seen.values()].sort((a, b) => {
    const x = BigInt(a);
    const y = BigInt(b);
    return x < y ? -1 : x > y ? 1 : 0;
  });
}

function memorySummaries(
  view: VmprofSampleView,
  n: number,
): Pick<VmprofInspection, 'memory_kb_summary' | 'memory_summary'> {
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  let counted = 0;
  for (let i = 0; i < n; i++) {
    const m = view.memoryKbOf(i);
    if (m === null) continue;
    if (m < min) min = m;
    if (m > max) max = m;
    sum += m;
    counted++;
  }
  if (counted === 0) return {};
  return {
    memory_kb_summary: { min, max, first: view.memoryKbOf(0) ?? min, last: view.memoryKbOf(n - 1) ?? max },
    memory_summary: { min_kb: min, max_kb: max, mean_kb: pythonRound3(sum / counted) },
  };
}

/** Python's `round(x, 3)`: to nearest, exact ties to even (`toFixed` would round ties up). */
export function pythonRound3(x: number): number {
  const scaled = x * 1000;
  const floor = Math.floor(scaled);
  if (scaled - floor === 0.5 && floor / 1000 + 0.0005 === x) {
    return (floor % 2 === 0 ? floor : floor + 1) / 1000;
  }
  return Number(x.toFixed(3));
}

/**
 * Everything a reader of this JSON should know that vmprof's reader would have failed on or got
 * silently wrong: the reader's own warnings (cut-short file, ...), the record that ended reading,
 * names with invalid UTF-8 (vmprof: UnicodeDecodeError) and line numbers below 1 in lines mode
 * (vmprof: AssertionError in its tree code).
 */
function collectWarnings(result: VmprofReadResult, frameNames: string[]): DocumentWarning[] {
  const doc = result.document;
  const warnings: DocumentWarning[] = doc.warnings.map((w) => ({ ...w }));
  const has = (code: string, offset?: number) =>
    warnings.some((w) => w.code === code && (offset === undefined || w.offset === offset));

  const err = result.end.error;
  if (result.end.reason === 'error' && err && !warnings.some((w) => w.offset === err.offset)) {
    warnings.push({
      code: err.code,
      message: err.message,
      ...(err.offset !== undefined ? { offset: err.offset } : {}),
    });
  }
  const cut = result.cutName;
  if (cut) {
    warnings.push({
      code: 'cut-name',
      message: `the file ends inside the name of ${cut.address}; like vmprof, this JSON names it with the bytes present (${JSON.stringify(cut.name)})`,
      offset: cut.offset,
    });
  }
  for (const s of cut ? [...result.symbols, cut] : result.symbols) {
    if (s.invalidUtf8 && !has('invalid-utf8', s.offset)) {
      warnings.push({
        code: 'invalid-utf8',
        message: `name record for ${s.address} holds invalid UTF-8 (shown with U+FFFD; vmprof's reader fails with UnicodeDecodeError)`,
        offset: s.offset,
      });
    }
  }
  const negative = result.negativeLine;
  if (negative && !has('negative-line')) {
    const { stacks, samples } = doc;
    let row = samples.stack[negative.sample];
    while (row >= 0 && stacks.line[row] >= 0) row = stacks.parent[row];
    const where = row >= 0 ? ` in ${frameNames[stacks.frame[row]]}` : '';
    warnings.push({
      code: 'negative-line',
      message: `sample ${negative.sample} (stack record at byte ${negative.offset}) records line ${negative.line}${where}: CPython reports -1 before a frame's first instruction, and vmprof's read_profile fails on it with AssertionError`,
      offset: negative.offset,
    });
  }
  return warnings;
}
