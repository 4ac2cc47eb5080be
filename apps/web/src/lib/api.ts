// Typed calls to the Prof server's HTTP API (the contract is @prof/api). The browser never trusts a
// response shape blindly: a non-2xx answer becomes an ApiError carrying the server's own message, and
// every JSON answer is checked against its @prof/api schema (`checked`), so a server that answers
// another shape fails here, naming the field, instead of drawing garbage further on.
import type { Static } from 'typebox';
import type { CompareMemoryResponse, MemorySeries, ProfileRow } from '@prof/api';
import type * as Api from '@prof/api';
import type { ResponseName } from './checks';

export type {
  CompareMemoryBin,
  CompareSide,
  DiffNode,
  Frame as ApiFrame,
  FunctionChange,
  MemoryBin,
  MemoryResponse,
  MemorySeries,
  ProfileRow,
  ProjectSummary,
  StackChange,
  StacksResponse,
  Weights,
} from '@prof/api';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** The checker, loaded once (its own chunk: checks.ts). */
let checks: Promise<typeof import('./checks')> | null = null;

/**
 * `body` when it has the shape of the @prof/api schema `name`, else an ApiError (`bad-response`)
 * naming the first field that differs: what `url` answered is not what this page was built for.
 */
export async function checked<N extends ResponseName>(
  name: N,
  body: unknown,
  url: string,
  status = 200,
): Promise<Static<(typeof Api)[N]>> {
  checks ??= import('./checks');
  const wrong = (await checks).mismatch(name, body);
  if (wrong === null) return body as Static<(typeof Api)[N]>;
  throw new ApiError(
    status,
    'bad-response',
    `The server answered ${url.split('?')[0]} with an unexpected ${name}: ${wrong}.`,
  );
}

/** GET `url` as JSON, checked against the @prof/api schema `name` (the checker loads meanwhile). */
export async function getJson<N extends ResponseName>(
  url: string,
  name: N,
  signal?: AbortSignal,
): Promise<Static<(typeof Api)[N]>> {
  checks ??= import('./checks');
  let res: Response;
  try {
    res = await fetch(url, { signal, headers: { accept: 'application/json' } });
  } catch (err) {
    if ((err as Error).name === 'AbortError') throw err;
    throw new ApiError(0, 'network', `The server could not be reached (${(err as Error).message}).`);
  }
  if (!res.ok) {
    let code = `http-${res.status}`;
    let message = `${res.status} ${res.statusText}`;
    try {
      const body = (await res.json()) as { error?: { code?: string; message?: string } };
      if (body.error?.code) code = body.error.code;
      if (body.error?.message) message = body.error.message;
    } catch {
      /* not JSON: keep the status line */
    }
    throw new ApiError(res.status, code, message);
  }
  return checked(name, await res.json(), url, res.status);
}

function query(params: Record<string, string | number | boolean | null | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}

const enc = encodeURIComponent;

export const api = {
  projects: (signal?: AbortSignal) => getJson('/api/projects', 'ProjectsResponse', signal),
  search: (params: Record<string, string | number | boolean | undefined>, signal?: AbortSignal) =>
    getJson(`/api/profiles${query(params)}`, 'SearchResult', signal),
  profile: (id: string, signal?: AbortSignal) => getJson(`/api/profiles/${enc(id)}`, 'ProfileRow', signal),
  memory: (
    id: string,
    p: {
      from?: number;
      to?: number;
      bins: number;
      thread?: number | null;
      series?: MemorySeries | null;
      /** Inner edges at block starts when bins are wide: each bin's start and end say where it lies. */
      snap?: boolean;
    },
    signal?: AbortSignal,
  ) => getJson(`/api/profiles/${enc(id)}/memory${query(p)}`, 'MemoryResponse', signal),
  stacks: (
    id: string,
    p: {
      from: number;
      to: number;
      thread?: number | null;
      top?: number;
      series?: MemorySeries | null;
      rank?: 'count' | 'growth' | null;
    },
    signal?: AbortSignal,
  ) => getJson(`/api/profiles/${enc(id)}/stacks${query(p)}`, 'StacksResponse', signal),
  documentUrl: (id: string) => `/api/profiles/${enc(id)}/document`,
};

const prefetched = new Map<string, Promise<ProfileRow>>();

/** Starts fetching a profile's row as the app boots, before the first render asks for it. */
export function prefetchProfile(id: string): void {
  if (!prefetched.has(id)) prefetched.set(id, api.profile(id));
}

/** The row of a profile: the prefetched request when there is one (taken once), else a new one. */
export function profileRow(id: string, signal?: AbortSignal): Promise<ProfileRow> {
  const pending = prefetched.get(id);
  prefetched.delete(id);
  return pending ?? api.profile(id, signal);
}

/** `/api/compare/memory`: with `align: 'clock'`, `origin` is the epoch ms of offset 0. */
export type CompareMemory = CompareMemoryResponse;

/** Per-side windows and threads of a comparison, as the URL and the API name them. */
export type CompareParams = Partial<
  Record<'baseFrom' | 'baseTo' | 'targetFrom' | 'targetTo' | 'baseThread' | 'targetThread', string>
>;

export const compareApi = {
  functions: (base: string, target: string, p: CompareParams & { weight?: string }, signal?: AbortSignal) =>
    getJson(`/api/compare/functions${query({ base, target, top: 2000, ...p })}`, 'CompareFunctionsResponse', signal),
  tree: (base: string, target: string, p: CompareParams & { weight?: string }, signal?: AbortSignal) =>
    getJson(`/api/compare/tree${query({ base, target, ...p })}`, 'CompareTreeResponse', signal),
  stacks: (base: string, target: string, p: CompareParams & { weight?: string; top?: number }, signal?: AbortSignal) =>
    getJson(`/api/compare/stacks${query({ base, target, ...p })}`, 'CompareStacksResponse', signal),
  memory: (
    base: string,
    target: string,
    p: CompareParams & { bins: number; align?: 'runtime' | 'clock' },
    signal?: AbortSignal,
  ) => getJson(`/api/compare/memory${query({ base, target, ...p })}`, 'CompareMemoryResponse', signal),
};
