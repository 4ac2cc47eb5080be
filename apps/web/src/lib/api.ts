// Typed calls to the Prof server's HTTP API (see docs API contract). The browser never trusts a
// response shape blindly: a non-2xx answer becomes an ApiError carrying the server's own message.

// The server's contract (@prof/api): types only, nothing of it is bundled.
import type { ProfileRow, ProjectSummary } from '@prof/api';

export type { ProfileRow, ProjectSummary };

/** A memory series of a profile: RSS, or the V8 heap of Node profiles. */
export type MemorySeries = 'rss' | 'heap';

export interface MemoryBin {
  start: number;
  end: number;
  count: number;
  mean: number | null;
  max: number | null;
  min: number | null;
}

export interface MemoryResponse {
  bins: MemoryBin[];
  unit: string;
  from: number;
  to: number;
  durationMs: number;
  timeEstimated: boolean;
  /** The series binned, and those the profile has (absent from older servers: RSS only). */
  series?: MemorySeries;
  available?: MemorySeries[];
}

export interface ApiFrame {
  name: string;
  file: string;
  line: number;
  kind: string | number;
}

export interface StacksResponse {
  samples: number;
  /** The range analysed, ms since the profile's start. */
  from: number;
  to: number;
  prefix: ApiFrame[];
  extension: ApiFrame[];
  share: number;
  /** `growth`: bytes gained while the stack was on top (profiles with memory). */
  top: { stack: ApiFrame[]; count: number; growth?: number }[];
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

async function getJson<T>(url: string, signal?: AbortSignal): Promise<T> {
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
  return (await res.json()) as T;
}

function query(params: Record<string, string | number | boolean | null | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}

const enc = encodeURIComponent;

export const api = {
  projects: (signal?: AbortSignal) => getJson<{ projects: ProjectSummary[] }>('/api/projects', signal),
  search: (params: Record<string, string | number | boolean | undefined>, signal?: AbortSignal) =>
    getJson<{ total: number; items: ProfileRow[] }>(`/api/profiles${query(params)}`, signal),
  profile: (id: string, signal?: AbortSignal) => getJson<ProfileRow>(`/api/profiles/${enc(id)}`, signal),
  memory: (
    id: string,
    p: { from?: number; to?: number; bins: number; thread?: number | null; series?: MemorySeries | null },
    signal?: AbortSignal,
  ) => getJson<MemoryResponse>(`/api/profiles/${enc(id)}/memory${query(p)}`, signal),
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
  ) => getJson<StacksResponse>(`/api/profiles/${enc(id)}/stacks${query(p)}`, signal),
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

/** Both sides of a comparison (`/api/compare/*`): the profile, window and thread used, and its samples. */
export interface CompareSide {
  id: string;
  from: number;
  to: number;
  thread: number | null;
  samples: number;
}

export interface Weights {
  self: number;
  total: number;
}

export interface FunctionChange extends ApiFrame {
  base: Weights;
  target: Weights;
  baseShare: Weights;
  targetShare: Weights;
  delta: Weights;
  deltaShare: Weights;
  added: boolean;
  removed: boolean;
}

export interface DiffNode extends ApiFrame {
  parent: number;
  depth: number;
  base: Weights;
  target: Weights;
  added: boolean;
  removedTotal: number;
}

export interface CompareMemoryBin {
  start: number;
  end: number;
  base: { count: number; mean: number | null; max: number | null; min: number | null };
  target: { count: number; mean: number | null; max: number | null; min: number | null };
  delta: { mean: number | null; max: number | null };
}

/** A whole call path of a comparison (root first, at most the 64 frames nearest the leaf). */
export interface StackChange {
  stack: ApiFrame[];
  depth: number;
  base: number;
  target: number;
  delta: number;
  added: boolean;
  removed: boolean;
}

/** `/api/compare/memory`: with `align: 'clock'`, `origin` is the epoch ms of offset 0. */
export interface CompareMemory {
  base: CompareSide;
  target: CompareSide;
  align: 'runtime' | 'clock';
  origin?: number;
  offsets?: { base: number; target: number };
  bins: CompareMemoryBin[];
}

/** Per-side windows and threads of a comparison, as the URL and the API name them. */
export type CompareParams = Partial<
  Record<'baseFrom' | 'baseTo' | 'targetFrom' | 'targetTo' | 'baseThread' | 'targetThread', string>
>;

export const compareApi = {
  functions: (base: string, target: string, p: CompareParams & { weight?: string }, signal?: AbortSignal) =>
    getJson<{ base: CompareSide; target: CompareSide; count: number; functions: FunctionChange[] }>(
      `/api/compare/functions${query({ base, target, top: 2000, ...p })}`,
      signal,
    ),
  tree: (base: string, target: string, p: CompareParams & { weight?: string }, signal?: AbortSignal) =>
    getJson<{ base: CompareSide; target: CompareSide; nodes: DiffNode[] }>(
      `/api/compare/tree${query({ base, target, ...p })}`,
      signal,
    ),
  stacks: (base: string, target: string, p: CompareParams & { weight?: string; top?: number }, signal?: AbortSignal) =>
    getJson<{ base: CompareSide; target: CompareSide; count: number; stacks: StackChange[] }>(
      `/api/compare/stacks${query({ base, target, ...p })}`,
      signal,
    ),
  memory: (
    base: string,
    target: string,
    p: CompareParams & { bins: number; align?: 'runtime' | 'clock' },
    signal?: AbortSignal,
  ) => getJson<CompareMemory>(`/api/compare/memory${query({ base, target, ...p })}`, signal),
};
