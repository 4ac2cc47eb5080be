import type { ProfFormatError } from '../errors';
import type { SampleSink } from '../builder';
import type { DocumentWarning, ProfileDocument } from '../schema';
import type { TimeRule } from './time';

/** Options shared by every reader. */
export interface ReadOptions {
  /** Called now and then with the number of input bytes consumed so far. */
  onProgress?: (bytesRead: number) => void;
  /** Metadata to set on the document (override what the file says). */
  project?: string;
  name?: string;
  tags?: Record<string, string>;
  /**
   * Takes the samples as they are read (see `DocumentBuilder`): the document then has empty sample
   * columns, and `VmprofReadResult.streamed` says how to finish them.
   */
  sink?: SampleSink;
  /** Samples per chunk handed to `sink`. */
  chunkSamples?: number;
}

/** One `0x02` (code object) or `0x08` (native symbol) name record, in file order. */
export interface VmprofSymbolRecord {
  /** The id as vmprof reads it (signed), in hex: `0x7f21cf2e7860`, `-0x39`. */
  address: string;
  /** The name, decoded as UTF-8 (invalid sequences replaced with U+FFFD, see `invalidUtf8`). */
  name: string;
  /** True when the name bytes were not valid UTF-8 (vmprof's reader fails on such a file). */
  invalidUtf8: boolean;
  /** Byte offset of the record's marker. */
  offset: number;
  marker: 0x02 | 0x08;
}

/** Everything the vmprof reader learned, beyond the document: what `inspectVmprof` needs. */
export interface VmprofReadResult {
  document: ProfileDocument;
  /** Every name record in file order (duplicates included). */
  symbols: VmprofSymbolRecord[];
  /** Where and why reading stopped. `error` is set when a damaged record ended reading early. */
  end: { offset: number; reason: 'trailer' | 'eof' | 'error'; error?: ProfFormatError };
  /** Version 7 only: each CPU sample's raw float64 time stamp (writer's CLOCK_MONOTONIC seconds), else null. */
  rawSampleTimes: Float64Array | null;
  /** Version 7 only: counts of `0x09` GC samples and `0x0A` object-info records. */
  gcSampleCount: number;
  objInfoCount: number;
  /** Complete records read (static header excluded); never more than the input's length in bytes. */
  recordCount: number;
  /**
   * A `0x02`/`0x08` name record cut short by the end of the input (id and length word complete),
   * with the name bytes that are present. Prof drops it (and warns `truncated`); vmprof's reader
   * keeps it with the shortened name, so `inspectVmprof` shows it. Null otherwise.
   */
  cutName: VmprofSymbolRecord | null;
  /**
   * Lines mode: the first sample whose stack holds a line below 1 (CPython writes -1 before a
   * frame's first instruction; vmprof's tree code fails on it) and its stack record's byte offset.
   */
  negativeLine: { sample: number; offset: number; line: number } | null;
  /**
   * Set when the samples went to `ReadOptions.sink`: the sink's time column holds the raw v7
   * stamps (zeros before v7); `time()` makes the real times chunk by chunk, and once every time is
   * made, `warnings(rule.result())` gives the warnings that go after the document's own.
   */
  streamed?: {
    /** A new rule for each pass over the samples. */
    time(): TimeRule;
    warnings(times: { invalidStamps: number; reorderedStamps?: number }): DocumentWarning[];
  };
}
