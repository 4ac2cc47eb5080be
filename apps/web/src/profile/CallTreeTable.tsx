import { useMemo, useState } from 'preact/hooks';
import { formatCount, formatPercent } from '../lib/units';
import type { FrameInfo } from '../worker/protocol';
import type { FlameLayout } from './flameLayout';
import { kindName } from './StackPanel';

interface Props {
  layout: FlameLayout;
  frames: FrameInfo;
  q: string;
  unit: string;
}

const MAX_CHILDREN = 300;

/** Top-down call tree: expandable rows, siblings sorted by total or self. */
export function CallTreeTable({ layout, frames, q, unit }: Props) {
  const tree = layout.tree;
  const [sortBy, setSortBy] = useState<'total' | 'self'>('total');
  const [expanded, setExpanded] = useState<Set<number>>(() => heaviestPath(layout, 12));
  const rootTotal = tree.total[0] || 1;
  const needle = q.toLowerCase();

  const rows = useMemo(() => {
    const out: { node: number; depth: number }[] = [];
    const walk = (node: number, depth: number) => {
      const kids = Array.from(layout.childList.subarray(layout.childStart[node], layout.childStart[node + 1]));
      if (sortBy === 'self') kids.sort((a, b) => tree.self[b] - tree.self[a]);
      for (const c of kids.slice(0, MAX_CHILDREN)) {
        out.push({ node: c, depth });
        if (expanded.has(c)) walk(c, depth + 1);
      }
    };
    walk(0, 0);
    return out;
  }, [layout, expanded, sortBy]);

  const toggle = (n: number) => {
    const next = new Set(expanded);
    if (next.has(n)) next.delete(n);
    else next.add(n);
    setExpanded(next);
  };

  return (
    <table class="data-table call-tree" data-testid="call-tree">
      <thead>
        <tr>
          <th class={`num sortable ${sortBy === 'total' ? 'sorted' : ''}`} onClick={() => setSortBy('total')}>Total ▾</th>
          <th class={`num sortable ${sortBy === 'self' ? 'sorted' : ''}`} onClick={() => setSortBy('self')}>Self ▾</th>
          <th>Function</th>
          <th>Location</th>
        </tr>
      </thead>
      <tbody>
        {rows.map(({ node, depth }) => {
          const f = tree.frame[node];
          const hasKids = layout.childStart[node + 1] > layout.childStart[node];
          const hit = needle && frames.name[f].toLowerCase().includes(needle);
          return (
            <tr key={node} class={hit ? 'hit' : ''}>
              <td class="num" title={`${formatCount(tree.total[node])} ${unit}`}>{formatPercent(tree.total[node] / rootTotal)}</td>
              <td class="num" title={`${formatCount(tree.self[node])} ${unit}`}>{formatPercent(tree.self[node] / rootTotal)}</td>
              <td class="fn-cell">
                <span class="indent" ref={(el) => { if (el) el.style.width = `${depth * 14}px`; }} />
                <button class={`twisty ${hasKids ? '' : 'leaf'}`} disabled={!hasKids} onClick={() => toggle(node)} aria-expanded={expanded.has(node)}>
                  {hasKids ? (expanded.has(node) ? '▾' : '▸') : '·'}
                </button>
                <span class={`fn kind-${kindName(frames.kind[f])}`}>{frames.name[f] || '<anonymous>'}</span>
              </td>
              <td class="file">{frames.file[f]}{frames.line[f] > 0 ? `:${frames.line[f]}` : ''}</td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

function heaviestPath(layout: FlameLayout, depth: number): Set<number> {
  const out = new Set<number>();
  let n = 0;
  for (let d = 0; d < depth; d++) {
    const a = layout.childStart[n];
    if (a === layout.childStart[n + 1]) break;
    n = layout.childList[a];
    out.add(n);
  }
  return out;
}
