/**
 * The vmprof client appends `/api/...` to its `--web-url` as a string, so the only way to give it a
 * project, `--web-url http://host/?project=etl`, makes it request `/?project=etl/api/runtime/new`.
 * Such a URL (a POST whose path is no API path and whose query holds `/api/`) is read as the API path
 * with the query before it: `/api/runtime/new?project=etl`.
 */
export function apiUrlFromQueryBase(method: string | undefined, url: string): string {
  if (method !== 'POST') return url;
  const q = url.indexOf('?');
  if (q < 0 || url.slice(0, q).includes('/api/')) return url;
  const query = url.slice(q + 1);
  const at = query.indexOf('/api/');
  if (at < 0) return url;
  const before = query.slice(0, at);
  return before ? `${query.slice(at)}?${before}` : query.slice(at);
}
