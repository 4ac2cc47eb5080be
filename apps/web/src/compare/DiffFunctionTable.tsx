import { useEffect } from 'preact/hooks';
import type { FunctionChange } from '../lib/api';
import { navigate, withParams } from '../lib/router';
import { testHook } from '../lib/testHook';
import { formatPercent } from '../lib/units';
import type { DiffMode } from './diffLayout';
import { formatAmount, formatChange, type Unit } from './DiffFlameGraph';

/** Sort keys of the table, as the URL names them. */
export const SORTS = ['dtotal', 'dself', 'total', 'self', 'name'] as const;
export type DiffSort = (typeof SORTS)[number];

const ROWS_SHOWN = 300;

function sortValue(f: FunctionChange, sort: DiffSort, mode: DiffMode): number | string {
  const w = mode === 'abs' ? f.delta : f.deltaShare;
  switch (sort) {
    case 'dtotal':
      return w.total;
    case 'dself':
      return w.self;
    case 'total':
      return f.target.total;
    case 'self':
      return f.target.self;
    default:
      return f.name;
  }
}

/** Functions of both runs, sortable by change (self or total), one-sided ones marked. */
export function DiffFunctionTable(props: {
  functions: FunctionChange[];
  sort: DiffSort;
  dir: 'asc' | 'desc';
  mode: DiffMode;
  unit: Unit;
  url: URL;
}) {
  const { functions, sort, dir, mode, unit, url } = props;
  // Changes sort by size (a big drop matters as much as a big rise); `asc` puts the faster first.
  const rows = [...functions].sort((a, b) => {
    const x = sortValue(a, sort, mode);
    const y = sortValue(b, sort, mode);
    if (typeof x === 'string' || typeof y === 'string')
      return (dir === 'asc' ? 1 : -1) * String(y).localeCompare(String(x));
    const d = sort === 'dtotal' || sort === 'dself' ? (dir === 'desc' ? Math.abs(y) - Math.abs(x) : x - y) : y - x;
    return dir === 'asc' && sort !== 'dtotal' && sort !== 'dself' ? -d : d;
  });
  const shown = rows.slice(0, ROWS_SHOWN);
  useEffect(() => {
    const h = testHook();
    h.compareTable = {
      rows: shown.map((f) => ({ name: f.name, added: f.added, removed: f.removed })),
      sort: `${sort}:${dir}`,
      draws: (h.compareTable?.draws ?? 0) + 1,
    };
  });
  const header = (key: DiffSort, label: string, title: string) => (
    <th
      class={`num sortable${sort === key ? ' sorted' : ''}`}
      title={title}
      data-sort={key}
      onClick={() =>
        navigate(withParams({ sort: key, dir: sort === key && dir === 'desc' ? 'asc' : null }, url), { replace: true })
      }
    >
      {label}
      {sort === key ? (dir === 'desc' ? ' ▾' : ' ▴') : ''}
    </th>
  );
  const value = (w: { self: number; total: number }, share: { self: number; total: number }, key: 'self' | 'total') =>
    mode === 'abs' ? formatAmount(w[key], unit) : formatPercent(share[key]);
  return (
    <table class="data-table diff-table" data-testid="diff-table">
      <thead>
        <tr>
          <th
            class={`sortable${sort === 'name' ? ' sorted' : ''}`}
            data-sort="name"
            onClick={() => navigate(withParams({ sort: 'name', dir: null }, url), { replace: true })}
          >
            Function
          </th>
          <th class="num">base total</th>
          <th class="num">target total</th>
          {header('dtotal', 'Δ total', 'change of total time (biggest change first; again: fastest first)')}
          <th class="num">base self</th>
          <th class="num">target self</th>
          {header('dself', 'Δ self', 'change of self time')}
        </tr>
      </thead>
      <tbody>
        {shown.map((f) => {
          const d = mode === 'abs' ? f.delta : f.deltaShare;
          const cls = (v: number) => (v > 0 ? 'slower' : v < 0 ? 'faster' : '');
          return (
            <tr key={`${f.name}|${f.file}|${f.line}`} class={f.added ? 'added' : f.removed ? 'removed' : ''}>
              <td>
                <span class="fn-name">{f.name || '<anonymous>'}</span>
                {f.added && <span class="badge added">added</span>}
                {f.removed && <span class="badge removed">removed</span>}
                <span class="dim file">
                  {' '}
                  {f.file}
                  {f.line > 0 ? `:${f.line}` : ''}
                </span>
              </td>
              <td class="num">{value(f.base, f.baseShare, 'total')}</td>
              <td class="num">{value(f.target, f.targetShare, 'total')}</td>
              <td class={`num ${cls(d.total)}`}>{formatChange(d.total, mode, unit)}</td>
              <td class="num">{value(f.base, f.baseShare, 'self')}</td>
              <td class="num">{value(f.target, f.targetShare, 'self')}</td>
              <td class={`num ${cls(d.self)}`}>{formatChange(d.self, mode, unit)}</td>
            </tr>
          );
        })}
      </tbody>
      {rows.length > ROWS_SHOWN && (
        <caption class="dim">
          {ROWS_SHOWN} of {rows.length} functions shown
        </caption>
      )}
    </table>
  );
}
