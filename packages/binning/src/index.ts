/**
 * @prof/binning — exact memory resampling, stack common-prefix analysis and range aggregation
 * over a profile's typed-array columns, and the comparison of two of them. Pure: no Node built-ins, no runtime dependencies.
 */
export type { StackTree, SampleRun, SampleColumns } from './types.js';
export { buildMemorySummary, type MemorySummary, type SummaryLevel } from './summary.js';
export {
  queryBins,
  binRows,
  wholeMean,
  MAX_BINS,
  SNAP_MIN_BLOCKS,
  snapStride,
  type BinQuery,
  type BinResult,
  type BinRow,
} from './query.js';
export { sampleRange, wholeRun } from './search.js';
export { threadIndices, threadSampleCounts } from './threads.js';
export { analyzeStacks, type AnalyzeStacksOptions, type StackAnalysis, type TopStack } from './analyzeStacks.js';
export { stackFrames, canonicalRows, memoryGrowth, withoutRootFrames } from './stackPath.js';
export { carriedForward, everyValueFinite, finiteRows } from './gaps.js';
export {
  BinningError,
  isBinningError,
  checkThread,
  missingSeries,
  MEMORY_SERIES,
  type BinningErrorCode,
  type MemorySeries,
} from './errors.js';
export { ProfileColumns, type ProfileColumnsInput } from './profileColumns.js';
export type { AggregateOptions } from './accumulate.js';
export { aggregateCallTree, callTreeChildren, type CallTree } from './callTree.js';
export {
  functionTable,
  functionCalls,
  type FunctionTable,
  type FunctionCalls,
  type CallEdge,
} from './functionTable.js';
export {
  pruneCallTree,
  callTreeFromColumns,
  functionTableFromColumns,
  functionCallsFromColumns,
  DEFAULT_MIN_SHARE,
  DEFAULT_MAX_NODES,
  type PrunedCallTree,
  type PruneOptions,
} from './prune.js';
export { lineTable, hasLines, type LineRow, type LinedStackTree } from './lineTable.js';
export {
  matchFrames,
  keyedStacks,
  functionKeys,
  diffFunctionTables,
  diffCallTrees,
  compareMemory,
  compareMemoryBins,
  clockWindows,
  diffStacks,
  compactRun,
  type CompactRun,
  type FrameMatch,
  type KeyedStacks,
  type Weights,
  type FunctionDiff,
  type FunctionDiffRow,
  type CallTreeDiff,
  type MemoryWindow,
  type SideBins,
  type ClockWindows,
  type StackDiffRow,
  type WeightedStacks,
  type MemoryDiff,
} from './compare.js';
export * from './summaries/index.js';
