// Built by responseChecks.ts (a Vite plugin): one compiled check per @prof/api response schema.
declare module 'virtual:response-checks' {
  type Check = (value: unknown) => boolean;
  export const CompareFunctionsResponse: Check;
  export const CompareMemoryResponse: Check;
  export const CompareStacksResponse: Check;
  export const CompareTreeResponse: Check;
  export const CpuCallsResponse: Check;
  export const CpuFunctionsResponse: Check;
  export const CpuInfoResponse: Check;
  export const CpuLinesResponse: Check;
  export const CpuTreeResponse: Check;
  export const MemoryResponse: Check;
  export const ProfileRow: Check;
  export const ProjectsResponse: Check;
  export const SearchResult: Check;
  export const StacksResponse: Check;
}
