import type { FunctionCalls } from '@prof/binning';
import { useEffect, useMemo, useState } from 'preact/hooks';
import { formatCount, formatPercent } from '../lib/units';
import type { LineRow } from '@prof/binning';
import type { FrameInfo, FunctionRows, RangeQuery } from '../worker/protocol';
import type { ProfileSession } from './session';
import { kindName } from './flameColors';

interface Props {
  session: ProfileSession;
  range: RangeQuery;
  frames: FrameInfo;
  q: string;
  selected: number | null;
  onSelect(fn: number | null): void;
  /** The document records executing lines: the detail pane lists them. */
  hasLines: boolean;
  onShowInFlame(name: string): void;
}

/** Per-function self and total (from @prof/binning, recursion counted once), callers and callees. */
export function FunctionTable({ session, range, frames, q, selected, onSelect, hasLines, onShowInFlame }: Props) {
  const [sortBy, setSortBy] = useState<'self' | 'total'>('self');
  const [table, setTable] = useState<FunctionRows | null>(null);
  const [calls, setCalls] = useState<FunctionCalls | null>(null);
  const [lines, setLines] = useState<LineRow[] | null>(null);

  useEffect(() => {
    let live = true;
    session.functions(range).then((t) => live && setTable(t));
    return () => void (live = false);
  }, [session, range.from, range.to, range.thread]);

  useEffect(() => {
    let live = true;
    setCalls(null);
    setLines(null);
    if (selected !== null && selected < frames.name.length) {
      session.calls(range, selected).then((c) => live && setCalls(c));
      if (hasLines) session.lines(range, selected).then((l) => live && setLines(l));
    }
    return () => void (live = false);
  }, [session, selected, range.from, range.to, range.thread, hasLines]);

  const needle = q.toLowerCase();
  const rows = useMemo(() => {
    if (!table) return [];
    const ids: number[] = [];
    for (let r = 0; r < table.length; r++) {
      if (needle && !frames.name[table.frame[r]].toLowerCase().includes(needle)) continue;
      ids.push(r);
    }
    if (sortBy === 'self') ids.sort((a, b) => table.self[b] - table.self[a] || table.total[b] - table.total[a]);
    return ids.slice(0, 500);
  }, [table, sortBy, needle, frames]);

  if (!table) return <p class="dim">Aggregating functions…</p>;
  const all = table.weightTotal || 1;
  const name = (f: number) => (f < 0 ? '(root of the stack)' : frames.name[f] || '<anonymous>');
  return (
    <div class={`functions ${selected !== null ? 'with-detail' : ''}`}>
      <table class="data-table" data-testid="function-table">
        <thead>
          <tr>
            <th
              class={`num sortable ${sortBy === 'self' ? 'sorted' : ''}`}
              onClick={() => setSortBy('self')}
              aria-sort={sortBy === 'self' ? 'descending' : 'none'}
            >
              Self {sortBy === 'self' ? '▾' : ''}
            </th>
            <th
              class={`num sortable ${sortBy === 'total' ? 'sorted' : ''}`}
              onClick={() => setSortBy('total')}
              aria-sort={sortBy === 'total' ? 'descending' : 'none'}
            >
              Total {sortBy === 'total' ? '▾' : ''}
            </th>
            <th>Function</th>
            <th>Location</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => {
            const f = table.frame[r];
            return (
              <tr key={f} class={f === selected ? 'selected' : ''} onClick={() => onSelect(f === selected ? null : f)}>
                <td class="num" title={formatCount(table.self[r])}>
                  {formatPercent(table.self[r] / all)}
                </td>
                <td class="num" title={formatCount(table.total[r])}>
                  {formatPercent(table.total[r] / all)}
                </td>
                <td class={`fn kind-${kindName(frames.kind[f])}`}>{name(f)}</td>
                <td class="file">
                  {frames.file[f]}
                  {frames.line[f] > 0 ? `:${frames.line[f]}` : ''}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
      {selected !== null && selected < frames.name.length && (
        <aside class="fn-detail" data-testid="function-detail">
          <h3 class={`fn kind-${kindName(frames.kind[selected])}`}>{name(selected)}</h3>
          <p class="file">
            {frames.file[selected] || '(unknown file)'}
            {frames.line[selected] > 0 ? `:${frames.line[selected]}` : ''} · {kindName(frames.kind[selected])}
          </p>
          {!calls && <p class="dim">…</p>}
          {calls && (
            <>
              <p class="fn-figures">
                <span>
                  self <b>{formatPercent(calls.self / all)}</b>
                </span>
                <span>
                  total <b>{formatPercent(calls.total / all)}</b>
                </span>
                <button type="button" class="btn small" onClick={() => onShowInFlame(frames.name[selected])}>
                  Highlight in flame graph
                </button>
              </p>
              <h4>Called by</h4>
              <EdgeList items={calls.callers} name={name} all={all} onSelect={onSelect} />
              <h4>Calls</h4>
              <EdgeList items={calls.callees} name={name} all={all} onSelect={onSelect} />
            </>
          )}
          {hasLines && lines && lines.length > 0 && (
            <>
              <h4>Lines</h4>
              <table class="lines-table" data-testid="lines">
                <thead>
                  <tr>
                    <th>line</th>
                    <th class="num">self</th>
                    <th class="num">total</th>
                  </tr>
                </thead>
                <tbody>
                  {lines.slice(0, 100).map((l) => (
                    <tr key={l.line}>
                      <td class="file">{l.line > 0 ? `:${l.line}` : '(none)'}</td>
                      <td class="num">{formatPercent(l.self / all)}</td>
                      <td class="num">{formatPercent(l.total / all)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </>
          )}
        </aside>
      )}
    </div>
  );
}

function EdgeList(props: {
  items: { frame: number; total: number }[];
  name(f: number): string;
  all: number;
  onSelect(f: number): void;
}) {
  if (!props.items.length) return <p class="dim">none</p>;
  return (
    <ul class="neighbours">
      {props.items.slice(0, 50).map((e) => (
        <li key={e.frame}>
          <span class="num">{formatPercent(e.total / props.all)}</span>
          <button type="button" class="link fn" disabled={e.frame < 0} onClick={() => props.onSelect(e.frame)}>
            {props.name(e.frame)}
          </button>
        </li>
      ))}
    </ul>
  );
}
