// The profile page's view state, parsed from and written to the URL query. Every field has a default
// that is omitted from the URL, so a bare /profiles/<id> link is the natural starting view.

export type Tab = 'memory' | 'cpu';
export type Show = 'both' | 'mean' | 'max';
export type Axis = 'date' | 'rel';
export type CpuMode = 'flame' | 'tree' | 'functions';
export type Orient = 'icicle' | 'flame';
export type ColorBy = 'kind' | 'file';
/** Which memory series the chart shows: RSS (`samples.memory`) or the V8 heap (Node profiles). */
export type Series = 'rss' | 'heap';
/** How the side panel orders its top stacks: by samples, or by memory gained under them. */
export type Rank = 'count' | 'growth';

export interface ProfileView {
  tab: Tab | null; // null = pick by content (memory when the profile has memory)
  from: number | null; // zoom window, ms since profile start
  to: number | null;
  selFrom: number | null; // selected range (a bin or a drag), ms since profile start
  selTo: number | null;
  thread: number | null; // thread row, null = all
  show: Show;
  axis: Axis;
  series: Series;
  rank: Rank;
  cpu: CpuMode;
  orient: Orient;
  color: ColorBy;
  runner: boolean; // show launcher frames (runpy, vmprof's CLI) at the root of flame graph and call tree
  focus: number[]; // flame focus: frame rows root-first
  q: string; // flame/tree search
  fn: number | null; // function table selection (frame row)
}

function num(v: string | null): number | null {
  if (v === null || v === '') return null;
  const n = Number(v);
  return Number.isFinite(n) ? n : null;
}

function oneOf<T extends string>(v: string | null, allowed: readonly T[], dflt: T): T {
  return allowed.includes(v as T) ? (v as T) : dflt;
}

export function parseView(params: URLSearchParams): ProfileView {
  const tab = params.get('tab');
  const sel = params.get('sel');
  let selFrom: number | null = null;
  let selTo: number | null = null;
  if (sel) {
    const [a, b] = sel.split('~').map((s) => num(s));
    if (a !== null && b !== null && a !== undefined && b !== undefined && b > a) [selFrom, selTo] = [a, b];
  }
  let from = num(params.get('from'));
  let to = num(params.get('to'));
  if (from !== null && to !== null && !(to > from)) from = to = null;
  const focus = (params.get('focus') ?? '')
    .split('.')
    .filter((s) => /^\d+$/.test(s))
    .map(Number);
  const thread = num(params.get('thread'));
  return {
    tab: tab === 'memory' || tab === 'cpu' ? tab : null,
    from,
    to,
    selFrom,
    selTo,
    thread: thread !== null && thread >= 0 && Number.isInteger(thread) ? thread : null,
    show: oneOf(params.get('show'), ['both', 'mean', 'max'] as const, 'both'),
    axis: oneOf(params.get('axis'), ['date', 'rel'] as const, 'rel'),
    series: oneOf(params.get('series'), ['rss', 'heap'] as const, 'rss'),
    rank: oneOf(params.get('rank'), ['count', 'growth'] as const, 'count'),
    cpu: oneOf(params.get('view'), ['flame', 'tree', 'functions'] as const, 'flame'),
    orient: oneOf(params.get('orient'), ['icicle', 'flame'] as const, 'icicle'),
    color: oneOf(params.get('color'), ['kind', 'file'] as const, 'kind'),
    runner: params.get('runner') === '1',
    focus,
    q: params.get('q') ?? '',
    fn: num(params.get('fn')),
  };
}

/** Rounds a time to a precision that survives the URL without noise (µs). */
export function roundMs(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}

export function viewParams(v: Partial<ProfileView>): Record<string, string | null> {
  const out: Record<string, string | null> = {};
  if ('tab' in v) out.tab = v.tab ?? null;
  if ('from' in v || 'to' in v) {
    const ok = v.from != null && v.to != null;
    out.from = ok ? String(roundMs(v.from!)) : null;
    out.to = ok ? String(roundMs(v.to!)) : null;
  }
  if ('selFrom' in v || 'selTo' in v)
    out.sel = v.selFrom != null && v.selTo != null ? `${roundMs(v.selFrom)}~${roundMs(v.selTo)}` : null;
  if ('thread' in v) out.thread = v.thread == null ? null : String(v.thread);
  if ('show' in v) out.show = v.show === 'both' ? null : v.show!;
  if ('axis' in v) out.axis = v.axis === 'rel' ? null : v.axis!;
  if ('series' in v) out.series = v.series === 'rss' ? null : v.series!;
  if ('rank' in v) out.rank = v.rank === 'count' ? null : v.rank!;
  if ('cpu' in v) out.view = v.cpu === 'flame' ? null : v.cpu!;
  if ('orient' in v) out.orient = v.orient === 'icicle' ? null : v.orient!;
  if ('color' in v) out.color = v.color === 'kind' ? null : v.color!;
  if ('runner' in v) out.runner = v.runner ? '1' : null;
  if ('focus' in v) out.focus = v.focus?.length ? v.focus.join('.') : null;
  if ('q' in v) out.q = v.q || null;
  if ('fn' in v) out.fn = v.fn == null ? null : String(v.fn);
  return out;
}
