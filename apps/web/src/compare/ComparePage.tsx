import { useEffect, useMemo, useState } from 'preact/hooks';
import {
  ApiError,
  api,
  type CompareMemory,
  type CompareParams,
  compareApi,
  type DiffNode,
  type FunctionChange,
  type ProfileRow,
  type StackChange,
} from '../lib/api';
import { navigate, withParams } from '../lib/router';
import { formatDateTime, formatDuration } from '../lib/units';
import { linkTo } from '../profile/ProfilePage';
import { Segmented } from '../profile/Segmented';
import { CompareMemoryChart } from './CompareMemoryChart';
import { DiffCallTreeTable } from './DiffCallTreeTable';
import { GrowthStacks } from './GrowthStacks';
import { DiffFlameGraph } from './DiffFlameGraph';
import { DiffFunctionTable, type DiffSort, SORTS } from './DiffFunctionTable';
import { type DiffMode, layoutDiff } from './diffLayout';
import { RangeForm } from './RangeForm';

const SIDE_PARAMS = ['baseFrom', 'baseTo', 'baseThread', 'targetFrom', 'targetTo', 'targetThread'] as const;
const MEMORY_BINS = 400;

/** The comparison's per-side ranges and threads, straight from the URL (the server validates them). */
function sideParams(url: URL): CompareParams {
  const out: CompareParams = {};
  for (const k of SIDE_PARAMS) {
    const v = url.searchParams.get(k);
    if (v !== null && v !== '') out[k] = v;
  }
  return out;
}

/** The same comparison the other way round: sides and their ranges swapped. */
function swappedHref(base: string, target: string, url: URL): string {
  const u = new URL(url.href);
  for (const k of ['From', 'To', 'Thread']) {
    const b = url.searchParams.get(`base${k}`);
    const t = url.searchParams.get(`target${k}`);
    u.searchParams.delete(`base${k}`);
    u.searchParams.delete(`target${k}`);
    if (t !== null) u.searchParams.set(`base${k}`, t);
    if (b !== null) u.searchParams.set(`target${k}`, b);
  }
  return `/compare/${target}/${base}${u.search}`;
}

type Loaded<T> = { state: 'loading' } | { state: 'ready'; value: T } | { state: 'error'; error: ApiError };

function useLoad<T>(load: (signal: AbortSignal) => Promise<T>, key: string): Loaded<T> {
  const [result, setResult] = useState<Loaded<T>>({ state: 'loading' });
  useEffect(() => {
    const abort = new AbortController();
    setResult({ state: 'loading' });
    load(abort.signal).then(
      (value) => setResult({ state: 'ready', value }),
      (error: unknown) => {
        if ((error as Error).name === 'AbortError') return;
        setResult({
          state: 'error',
          error: error instanceof ApiError ? error : new ApiError(0, 'internal', String(error)),
        });
      },
    );
    return () => abort.abort();
  }, [key]);
  return result;
}

function SideLabel({ which, id, row, params }: { which: string; id: string; row?: ProfileRow; params: CompareParams }) {
  const prefix = which === 'base' ? 'base' : 'target';
  const from = params[`${prefix}From` as keyof CompareParams];
  const to = params[`${prefix}To` as keyof CompareParams];
  return (
    <div class={`compare-side ${which}`} data-testid={`side-${which}`}>
      <span class="side-tag">{which}</span>{' '}
      <a href={`/profiles/${id}`} onClick={linkTo(`/profiles/${id}`)}>
        {row ? (row.name ?? id) : id}
      </a>{' '}
      {row && (
        <span class="dim">
          {row.project ?? ''} · {formatDateTime(row.start)} · {formatDuration(row.durationMs)}
        </span>
      )}
      {(from || to) && (
        <span class="dim">
          {' '}
          · range {from ?? 'start'}–{to ?? 'end'} ms
        </span>
      )}
    </div>
  );
}

/**
 * `/compare/<base>/<target>`: what changed between two runs (or two ranges of one). The whole state
 * is in the URL: per-side ranges and threads, the view, the share/absolute switch and the sort.
 */
export function ComparePage({ base, target, url, theme }: { base: string; target: string; url: URL; theme: string }) {
  const params = sideParams(url);
  const key = `${base}/${target}?${new URLSearchParams(params as Record<string, string>)}`;
  const viewParam = url.searchParams.get('view');
  const view = viewParam === 'table' || viewParam === 'tree' ? viewParam : 'flame';
  const align = url.searchParams.get('align') === 'clock' ? 'clock' : 'runtime';
  const mode: DiffMode = url.searchParams.get('mode') === 'abs' ? 'abs' : 'share';
  const sortParam = url.searchParams.get('sort') as DiffSort | null;
  const sort: DiffSort = sortParam && SORTS.includes(sortParam) ? sortParam : 'dtotal';
  const dir = url.searchParams.get('dir') === 'asc' ? 'asc' : 'desc';
  const dark = theme === 'dark';
  const growth = url.searchParams.get('by') === 'growth';
  const weight = growth ? { weight: 'growth' } : {};
  const weightKey = `${key}&by=${growth ? 'growth' : 'cpu'}`;

  const rows = useLoad(
    (signal) => Promise.all([api.profile(base, signal), api.profile(target, signal)]),
    `${base}/${target}`,
  );
  const functions = useLoad<{ functions: FunctionChange[] }>(
    (signal) => compareApi.functions(base, target, { ...params, ...weight }, signal),
    weightKey,
  );
  const tree = useLoad<{ nodes: DiffNode[] }>(
    (signal) => compareApi.tree(base, target, { ...params, ...weight }, signal),
    weightKey,
  );
  const memory = useLoad<CompareMemory>(
    (signal) => compareApi.memory(base, target, { ...params, bins: MEMORY_BINS, align }, signal),
    `${key}&align=${align}`,
  );
  // A range picked on the memory chart (or typed) asks whose memory growth differs in it.
  const ranged = SIDE_PARAMS.some((k) => !k.endsWith('Thread') && params[k] !== undefined);
  const growthStacks = useLoad<{ stacks: StackChange[]; count: number } | null>(
    (signal) =>
      ranged
        ? compareApi.stacks(base, target, { ...params, weight: 'growth', top: 10 }, signal)
        : Promise.resolve(null),
    `${key}&stacks=${ranged}`,
  );
  const layout = useMemo(
    () => (tree.state === 'ready' ? layoutDiff(tree.value.nodes, mode) : null),
    [tree.state === 'ready' ? tree.value : null, mode],
  );
  const set = (changes: Record<string, string | null>) => navigate(withParams(changes, url), { replace: true });
  // The chart's offsets count from each side's window start as the server used it (widened to the
  // union of both on the clock when aligned by clock): the same moment of both runs.
  const selectMoment = (from: number, to: number) => {
    if (memory.state !== 'ready') return;
    const changes: Record<string, string> = {};
    for (const side of ['base', 'target'] as const) {
      const start = memory.value[side].from;
      changes[`${side}From`] = String(Math.round(start + from));
      changes[`${side}To`] = String(Math.round(start + to));
    }
    navigate(withParams(changes, url));
  };
  const [baseRow, targetRow] = rows.state === 'ready' ? rows.value : [];
  const failed = [functions, tree].find((l) => l.state === 'error') as { error: ApiError } | undefined;

  return (
    <main class="page compare-page" data-testid="compare-page">
      <header class="compare-head">
        <h2>Compare</h2>
        <SideLabel which="base" id={base} row={baseRow} params={params} />
        <SideLabel which="target" id={target} row={targetRow} params={params} />
        <div class="toolbar">
          <button type="button" class="btn" data-testid="swap" onClick={() => navigate(swappedHref(base, target, url))}>
            ⇄ swap
          </button>
          <Segmented
            label="view"
            value={view}
            options={[
              ['flame', 'flame graph'],
              ['tree', 'call tree'],
              ['table', 'functions'],
            ]}
            onChange={(v) => set({ view: v === 'flame' ? null : v })}
          />
          <Segmented
            label="measure"
            value={growth ? 'growth' : 'cpu'}
            options={[
              ['cpu', 'CPU time'],
              ['growth', 'memory growth'],
            ]}
            onChange={(v) => set({ by: v === 'cpu' ? null : v })}
          />
          <Segmented
            label="weights"
            value={mode}
            options={[
              ['share', 'share of each run'],
              ['abs', growth ? 'bytes' : 'samples'],
            ]}
            onChange={(v) => set({ mode: v === 'share' ? null : v })}
          />
        </div>
        <RangeForm url={url} />
      </header>
      {failed ? (
        <p class="error" data-testid="compare-error">
          The comparison could not be made: {failed.error.message}
        </p>
      ) : null}

      <section class="compare-section">
        <div class="section-head">
          <h3>Memory</h3>
          <Segmented
            label="align"
            value={align}
            options={[
              ['runtime', 'time since start'],
              ['clock', 'clock time'],
            ]}
            onChange={(v) => set({ align: v === 'runtime' ? null : v })}
          />
        </div>
        {memory.state === 'loading' && <p class="dim">Loading memory…</p>}
        {memory.state === 'error' && (
          <p class="dim" data-testid="compare-memory-none">
            {memory.error.message}
          </p>
        )}
        {memory.state === 'ready' && (
          <CompareMemoryChart
            bins={memory.value.bins}
            origin={memory.value.origin}
            zone={baseRow?.zone ?? null}
            dark={dark}
            onSelect={selectMoment}
          />
        )}
        {memory.state === 'ready' && growthStacks.state === 'ready' && growthStacks.value && (
          <GrowthStacks stacks={growthStacks.value.stacks} count={growthStacks.value.count} />
        )}
      </section>

      <section class="compare-section">
        <h3>CPU</h3>
        {view === 'flame' || view === 'tree' ? (
          layout ? (
            view === 'flame' ? (
              <DiffFlameGraph layout={layout} mode={mode} dark={dark} unit={growth ? 'bytes' : 'samples'} />
            ) : (
              <DiffCallTreeTable layout={layout} mode={mode} unit={growth ? 'bytes' : 'samples'} />
            )
          ) : (
            !failed && <p class="dim">Loading call tree…</p>
          )
        ) : functions.state === 'ready' ? (
          <DiffFunctionTable
            functions={functions.value.functions}
            sort={sort}
            dir={dir}
            mode={mode}
            unit={growth ? 'bytes' : 'samples'}
            url={url}
          />
        ) : (
          !failed && <p class="dim">Loading functions…</p>
        )}
      </section>
    </main>
  );
}
