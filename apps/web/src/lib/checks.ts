// The response checks: each @prof/api response schema compiled when the page is built
// (`virtual:response-checks`, responseChecks.ts), and TypeBox to name what differs when one fails. The
// schemas and TypeBox are 96 KB of the bundle (27 KB gzipped), so they are their own chunk, fetched
// alongside the page's first API request rather than before the first paint (api.ts `getJson`).
import { Check, Errors } from 'typebox/value';
import compiled from 'virtual:response-checks';
import { RESPONSE_SCHEMAS, type ResponseName } from './responseSchemas';

export type { ResponseName };

// The plugin compiles a check for every name of RESPONSE_SCHEMAS.
const checks: Record<ResponseName, (value: unknown) => boolean> = compiled;

/** Where `body` first differs from the schema `name` (`/nodes/self/3 must be number`), or null when it fits. */
export function mismatch(name: ResponseName, body: unknown): string | null {
  if (checks[name](body)) return null;
  const schema = RESPONSE_SCHEMAS[name];
  // TypeBox's reading has the last word: a dev server keeps the checks compiled when it started, and
  // one of them may refuse an answer the schemas, edited since, accept.
  if (Check(schema, body)) return null;
  const [first] = Errors(schema, body);
  return `${first?.instancePath || '/'} ${first?.message ?? 'differs'}`;
}
