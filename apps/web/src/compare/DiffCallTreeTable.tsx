import { useEffect, useMemo, useState } from 'preact/hooks';
import type { DiffNode } from '../lib/api';
import { testHook } from '../lib/testHook';
import { formatPercent } from '../lib/units';
import { formatAmount, formatChange, type Unit } from './DiffFlameGraph';
import type { DiffLayout, DiffMode } from './diffLayout';

const MAX_CHILDREN = 300;
/** How deep the path of the biggest change is opened when the tree arrives. */
const OPENED_DEPTH = 12;

/** Children of each node (preorder parent indices), siblings by size of change, then by weight. */
function childrenOf(nodes: DiffNode[], change: Float64Array): number[][] {
  const kids: number[][] = nodes.map(() => []);
  for (let i = 1; i < nodes.length; i++) if (nodes[i].parent >= 0) kids[nodes[i].parent].push(i);
  for (const list of kids) {
    list.sort(
      (a, b) => Math.abs(change[b]) - Math.abs(change[a]) || nodes[b].target.total - nodes[a].target.total || a - b,
    );
  }
  return kids;
}

/** The path that leads to the biggest change: a user opening the tree sees what moved first. */
function biggestChangePath(kids: number[][]): Set<number> {
  const out = new Set<number>();
  let n = 0;
  for (let d = 0; d < OPENED_DEPTH && kids[n]?.length; d++) {
    n = kids[n][0];
    out.add(n);
  }
  return out;
}

/**
 * The differential call tree: the target's call paths top-down with both sides' weights at each
 * path and the change, siblings ordered by how much they changed; paths only the target has are
 * marked added, and the base weight of paths the target lost is shown on the deepest shared node.
 */
export function DiffCallTreeTable({ layout, mode, unit }: { layout: DiffLayout; mode: DiffMode; unit: Unit }) {
  const { nodes, change } = layout;
  const kids = useMemo(() => childrenOf(nodes, change), [layout]);
  const [state, setState] = useState(() => ({ layout, expanded: biggestChangePath(kids) }));
  let expanded = state.expanded;
  if (state.layout !== layout) {
    expanded = biggestChangePath(kids);
    setState({ layout, expanded });
  }
  const baseRoot = nodes[0]?.base.total || 1;
  const targetRoot = nodes[0]?.target.total || 1;

  const rows = useMemo(() => {
    const out: { node: number; depth: number }[] = [];
    const walk = (node: number, depth: number) => {
      for (const c of kids[node].slice(0, MAX_CHILDREN)) {
        out.push({ node: c, depth });
        if (expanded.has(c)) walk(c, depth + 1);
      }
    };
    if (nodes.length) walk(0, 0);
    return out;
  }, [kids, expanded]);

  useEffect(() => {
    const h = testHook();
    h.compareTree = {
      rows: rows.map(({ node, depth }) => ({ name: nodes[node].name, depth, added: nodes[node].added })),
      draws: (h.compareTree?.draws ?? 0) + 1,
    };
  });

  const toggle = (n: number) => {
    const next = new Set(expanded);
    if (next.has(n)) next.delete(n);
    else next.add(n);
    setState({ layout, expanded: next });
  };
  const amount = (v: number, root: number) => (mode === 'abs' ? formatAmount(v, unit) : formatPercent(v / root));
  const selfChange = (n: DiffNode) =>
    mode === 'abs' ? n.target.self - n.base.self : n.target.self / targetRoot - n.base.self / baseRoot;
  const cls = (v: number) => (v > 0 ? 'slower' : v < 0 ? 'faster' : '');

  return (
    <table class="data-table diff-table diff-tree" data-testid="diff-tree">
      <thead>
        <tr>
          <th>Function (largest change first)</th>
          <th class="num">base total</th>
          <th class="num">target total</th>
          <th class="num">Δ total</th>
          <th class="num">base self</th>
          <th class="num">target self</th>
          <th class="num">Δ self</th>
        </tr>
      </thead>
      <tbody>
        {rows.map(({ node, depth }) => {
          const n = nodes[node];
          const hasKids = kids[node].length > 0;
          const ds = selfChange(n);
          return (
            <tr key={node} class={n.added ? 'added' : ''} data-depth={depth}>
              <td class="fn-cell">
                <span
                  class="indent"
                  ref={(el) => {
                    if (el) el.style.width = `${depth * 14}px`;
                  }}
                />
                <button
                  type="button"
                  class={`twisty ${hasKids ? '' : 'leaf'}`}
                  disabled={!hasKids}
                  onClick={() => toggle(node)}
                  aria-expanded={expanded.has(node)}
                >
                  {hasKids ? (expanded.has(node) ? '▾' : '▸') : '·'}
                </button>
                <span class="fn-name" title={`${n.file}${n.line > 0 ? `:${n.line}` : ''}`}>
                  {n.name || '<anonymous>'}
                </span>
                {n.added && <span class="badge added">added</span>}
                {n.removedTotal > 0 && (
                  <span
                    class="badge removed"
                    title={`call paths below this one that only the base has: ${formatAmount(n.removedTotal, unit)}`}
                  >
                    −{amount(n.removedTotal, baseRoot)} gone
                  </span>
                )}
              </td>
              <td class="num">{amount(n.base.total, baseRoot)}</td>
              <td class="num">{amount(n.target.total, targetRoot)}</td>
              <td class={`num ${cls(change[node])}`}>{formatChange(change[node], mode, unit)}</td>
              <td class="num">{amount(n.base.self, baseRoot)}</td>
              <td class="num">{amount(n.target.self, targetRoot)}</td>
              <td class={`num ${cls(ds)}`}>{formatChange(ds, mode, unit)}</td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}
