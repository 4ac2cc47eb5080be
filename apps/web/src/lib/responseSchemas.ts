// The schema of each answer the browser reads. responseChecks.ts compiles them when the page is built,
// loading this module through Vite: from @prof/api's source, as the page itself imports it.
import * as Api from '@prof/api';
import type { TSchema } from 'typebox';

/** Every answer the browser reads, by the name of its @prof/api schema. */
const RESPONSE_NAMES = [
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

const all: Record<string, unknown> = { ...Api };
export const RESPONSE_SCHEMAS = Object.fromEntries(RESPONSE_NAMES.map((name) => [name, all[name]])) as Record<
  ResponseName,
  TSchema
>;
