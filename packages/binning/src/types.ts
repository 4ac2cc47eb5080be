/**
 * Minimal structural views of the profile columns this library reads. They match
 * @prof/format's `StackTable` and `SampleTable` columns, so a document can be passed as is,
 * but any tool holding the same typed arrays can use the library without that package.
 */

/** Distinct stacks as a prefix tree: row i is `rows[parent[i]] + frame[i]`, and `parent[i] < i`. */
export interface StackTree {
  /** Row of the parent stack, -1 for a root frame. */
  parent: Int32Array;
  /** Frame (function) row of the innermost frame of this stack. */
  frame: Uint32Array;
}

/** The sample columns, parallel (@prof/format's `doc.samples` fits as it is); optional ones null when absent. */
export interface SampleColumns {
  /** ms since start, ascending. */
  time: Float64Array;
  /** Stack row of each sample, -1 for the empty stack. */
  stack: Int32Array;
  /** Thread row of each sample. */
  thread: Uint32Array;
  /** RSS bytes. */
  memory: Float64Array | null;
  /** V8 heap bytes. */
  heap: Float64Array | null;
  /** Recorded per-sample weight (V8 µs). */
  weight: Float64Array | null;
}

/**
 * A run of samples: positions `start..end` (end exclusive) of the series. Without `indices`
 * a position is a sample row; with `indices` (e.g. one thread's rows from `threadIndices`) the
 * position k means sample row `indices[k]`, exactly as in a `MemorySummary` built with the same
 * indices, so a bin's `firstIndex`/`endIndex` can be passed here unchanged.
 */
export interface SampleRun {
  start: number;
  end: number;
  indices?: Uint32Array | null;
}
