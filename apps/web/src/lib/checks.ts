// The response schemas of @prof/api and TypeBox's checker: 96 KB of the bundle (27 KB gzipped), so
// they are their own chunk, fetched alongside the page's first API request rather than before the
// first paint (api.ts `getJson`).
import * as Api from '@prof/api';
import { Check, Errors } from 'typebox/value';

/** Every answer the browser reads, by the name of its @prof/api schema. */
export type ResponseName =
  | 'CompareFunctionsResponse'
  | 'CompareMemoryResponse'
  | 'CompareStacksResponse'
  | 'CompareTreeResponse'
  | 'CpuCallsResponse'
  | 'CpuFunctionsResponse'
  | 'CpuInfoResponse'
  | 'CpuLinesResponse'
  | 'CpuTreeResponse'
  | 'MemoryResponse'
  | 'ProfileRow'
  | 'ProjectsResponse'
  | 'SearchResult'
  | 'StacksResponse';

/** Where `body` first differs from the schema `name` (`/nodes/self/3 must be number`), or null when it fits. */
export function mismatch(name: ResponseName, body: unknown): string | null {
  // biome-ignore lint/performance/noDynamicNamespaceImportAccess: this chunk is @prof/api's schemas, nearly all used
  const schema = Api[name];
  if (Check(schema, body)) return null;
  const [first] = Errors(schema, body);
  return `${first?.instancePath || '/'} ${first?.message ?? 'differs'}`;
}
