import { SORT_KEYS, type SearchQuery, type SortKey } from '@prof/store';
import { HttpError } from './http-error';

export type QueryObject = Record<string, string | string[] | undefined>;

/** The last value of a query parameter (repeated keys come as arrays). */
export function single(query: QueryObject, key: string): string | undefined {
  const value = query[key];
  const last = Array.isArray(value) ? value[value.length - 1] : value;
  // Schema validation coerced numbers (and Infinity, which it lets through): the checks below read text.
  return last === undefined ? undefined : String(last);
}

export function all(query: QueryObject, key: string): string[] {
  const value = query[key];
  return value === undefined ? [] : Array.isArray(value) ? value : [value];
}

export function optionalNumber(query: QueryObject, key: string): number | undefined {
  const text = single(query, key);
  if (text === undefined || text === '') return undefined;
  const value = Number(text);
  if (!Number.isFinite(value))
    throw new HttpError(400, 'bad-query', `query parameter ${key}=${JSON.stringify(text)} is not a number`);
  return value;
}

export function optionalInteger(query: QueryObject, key: string, min: number, max: number): number | undefined {
  const value = optionalNumber(query, key);
  if (value === undefined) return undefined;
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new HttpError(400, 'bad-query', `query parameter ${key}=${value} must be an integer from ${min} to ${max}`);
  }
  return value;
}

/** Epoch ms, or an ISO date (`2026-11-25`, `2026-11-25T10:00:00Z`). */
function optionalTime(query: QueryObject, key: string): number | undefined {
  const text = single(query, key);
  if (text === undefined || text === '') return undefined;
  const value = /^-?\d+(\.\d+)?$/.test(text) ? Number(text) : Date.parse(text);
  if (!Number.isFinite(value))
    throw new HttpError(
      400,
      'bad-query',
      `query parameter ${key}=${JSON.stringify(text)} is neither epoch ms nor an ISO date`,
    );
  return value;
}

export function optionalBoolean(query: QueryObject, key: string): boolean | undefined {
  const text = single(query, key);
  if (text === undefined || text === '') return undefined;
  if (['1', 'true', 'yes'].includes(text)) return true;
  if (['0', 'false', 'no'].includes(text)) return false;
  throw new HttpError(400, 'bad-query', `query parameter ${key}=${JSON.stringify(text)} must be true or false`);
}

/** `tag=env=prod` (value required) or `tag=env` (key present), repeatable. */
export function parseTags(values: string[], allowBareKey: boolean): Record<string, string | null> {
  const tags: Record<string, string | null> = {};
  for (const value of values) {
    const eq = value.indexOf('=');
    const key = eq < 0 ? value : value.slice(0, eq);
    if (!key || key.length > 200)
      throw new HttpError(400, 'bad-query', `tag ${JSON.stringify(value)}: expected key=value`);
    if (eq < 0 && !allowBareKey)
      throw new HttpError(400, 'bad-query', `tag ${JSON.stringify(value)}: expected key=value`);
    tags[key] = eq < 0 ? null : value.slice(eq + 1);
  }
  return tags;
}

export function searchQueryFrom(query: QueryObject): SearchQuery {
  const sort = single(query, 'sort');
  if (sort !== undefined && !SORT_KEYS.includes(sort as SortKey)) {
    throw new HttpError(400, 'bad-query', `sort=${JSON.stringify(sort)}: expected one of ${SORT_KEYS.join(', ')}`);
  }
  const order = single(query, 'order');
  if (order !== undefined && order !== 'asc' && order !== 'desc') {
    throw new HttpError(400, 'bad-query', `order=${JSON.stringify(order)}: expected asc or desc`);
  }
  const tags = parseTags(all(query, 'tag'), true);
  return {
    q: single(query, 'q') || undefined,
    project: single(query, 'project'),
    name: single(query, 'name'),
    tags: Object.keys(tags).length ? tags : undefined,
    from: optionalTime(query, 'from'),
    to: optionalTime(query, 'to'),
    hasMemory: optionalBoolean(query, 'hasMemory'),
    sort: sort as SortKey | undefined,
    order: order as 'asc' | 'desc' | undefined,
    limit: optionalInteger(query, 'limit', 0, 1000),
    offset: optionalInteger(query, 'offset', 0, Number.MAX_SAFE_INTEGER),
  };
}
