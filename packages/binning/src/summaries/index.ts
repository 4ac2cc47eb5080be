export { SummariesBuilder, type SummariesBuilderOptions, type SampleChunk, type SummariesSpill } from './builder.js';
export {
  openSummaries,
  bufferSource,
  PageCache,
  Summaries,
  type SummarySource,
  type OpenSummariesOptions,
  type MemorySeriesName,
  type WeightBy,
  type MemoryBinsOptions,
  type RehearseOptions,
  type SummaryStackOptions,
} from './reader.js';
