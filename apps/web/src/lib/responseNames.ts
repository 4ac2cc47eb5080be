/** Every answer the browser reads, by the name of its @prof/api schema. */
export const RESPONSE_NAMES = [
  'CompareFunctionsResponse',
  'CompareMemoryResponse',
  'CompareStacksResponse',
  'CompareTreeResponse',
  'CpuCallsResponse',
  'CpuFunctionsResponse',
  'CpuInfoResponse',
  'CpuLinesResponse',
  'CpuTreeResponse',
  'MemoryResponse',
  'ProfileRow',
  'ProjectsResponse',
  'SearchResult',
  'StacksResponse',
] as const;
export type ResponseName = (typeof RESPONSE_NAMES)[number];
