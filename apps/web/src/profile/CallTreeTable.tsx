import { useMemo, useState } from 'preact/hooks';
import { formatCount, formatPercent } from '../lib/units';
import type { FrameInfo } from '../worker/protocol';
import { cutLabel, pathOf, type FlameLayout } from './flameLayout';
import { kindName } from './flameColors';

interface Props {
  layout: FlameLayout;
  frames: FrameInfo;
  q: string;
  unit: string;
  /** Opens the flame graph focused on this call path (frame rows, root first). */
  onFocus(path: number[]): void;
}

const MAX_CHILDREN = 300;

/** Top-down call tree: expandable rows, siblings sorted by total or self. */
export function CallTreeTable({ layout, frames, q, unit, onFocus }: Props) {
  const tree = layout.tree;
  const [sortBy, setSortBy] = useState<'total' | 'self'>('total');
  const needle = q.toLowerCase();
  // Node ids belong to one tree: a new range or search starts from the heaviest path, opened down
  // to the first matches of the search.
  const [state, setState] = useState(() => ({ layout, needle, expanded: initialExpansion(layout, frames, needle) }));
  let expanded = state.expanded;
  if (state.layout !== layout || state.needle !== needle) {
    expanded = initialExpansion(layout, frames, needle);
    setState({ layout, needle, expanded });
  }
  const setExpanded = (next: Set<number>) => setState({ layout, needle, expanded: next });
  const rootTotal = tree.total[0] || 1;

  const rows = useMemo(() => {
    // `cutOf`: the row standing for the children of that node the server left out (too thin to show).
    const out: { node: number; depth: number; cutOf?: number }[] = [];
    const walk = (node: number, depth: number) => {
      const kids = Array.from(layout.childList.subarray(layout.childStart[node], layout.childStart[node + 1]));
      if (sortBy === 'self') kids.sort((a, b) => tree.self[b] - tree.self[a]);
      for (const c of kids.slice(0, MAX_CHILDREN)) {
        out.push({ node: c, depth });
        if (expanded.has(c)) walk(c, depth + 1);
      }
      if (tree.cut[node] > 0) out.push({ node: -1, depth, cutOf: node });
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
    <>
      <div class="table-tools">
        <button
          type="button"
          class="btn small"
          onClick={() => setExpanded(expandAll(layout))}
          title="Open every call path (on big trees, every path above 0.1% of the samples)"
        >
          Expand all
        </button>
        <button type="button" class="btn small" onClick={() => setExpanded(new Set())}>
          Collapse all
        </button>
        <span class="dim small">Click a function to see its call path in the flame graph.</span>
      </div>
      <table class="data-table call-tree" data-testid="call-tree">
        <thead>
          <tr>
            <th
              class={`num sortable ${sortBy === 'total' ? 'sorted' : ''}`}
              onClick={() => setSortBy('total')}
              aria-sort={sortBy === 'total' ? 'descending' : 'none'}
            >
              Total {sortBy === 'total' ? '▾' : ''}
            </th>
            <th
              class={`num sortable ${sortBy === 'self' ? 'sorted' : ''}`}
              onClick={() => setSortBy('self')}
              aria-sort={sortBy === 'self' ? 'descending' : 'none'}
            >
              Self {sortBy === 'self' ? '▾' : ''}
            </th>
            <th>Function</th>
            <th>Location</th>
          </tr>
        </thead>
        <tbody>
          {rows.map(({ node, depth, cutOf }) => {
            if (cutOf !== undefined)
              return <CutRow key={`cut${cutOf}`} tree={tree} node={cutOf} depth={depth} unit={unit} />;
            const f = tree.frame[node];
            const hasKids = layout.childStart[node + 1] > layout.childStart[node] || tree.cut[node] > 0;
            const hit = needle && frames.name[f].toLowerCase().includes(needle);
            return (
              <tr
                key={node}
                class={hit ? 'hit' : ''}
                data-depth={depth}
                data-total={tree.total[node]}
                data-self={tree.self[node]}
              >
                <td class="num" title={`${formatCount(tree.total[node])} ${unit}`}>
                  {formatPercent(tree.total[node] / rootTotal)}
                </td>
                <td class="num" title={`${formatCount(tree.self[node])} ${unit}`}>
                  {formatPercent(tree.self[node] / rootTotal)}
                </td>
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
                  <button
                    type="button"
                    class={`fn link-fn kind-${kindName(frames.kind[f])}`}
                    title="Show this call path in the flame graph"
                    onClick={() => onFocus(pathOf(tree, node))}
                  >
                    {frames.name[f] || '<anonymous>'}
                  </button>
                </td>
                <td class="file">
                  {frames.file[f]}
                  {frames.line[f] > 0 ? `:${frames.line[f]}` : ''}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </>
  );
}

/** The children of `node` too thin for the server to send, as one row: how many, and their weight. */
function CutRow({ tree, node, depth, unit }: { tree: FlameLayout['tree']; node: number; depth: number; unit: string }) {
  const rootTotal = tree.total[0] || 1;
  return (
    <tr class="cut-row" data-depth={depth} data-total={tree.cut[node]} data-testid="cut-row">
      <td class="num" title={`${formatCount(tree.cut[node])} ${unit}`}>
        {formatPercent(tree.cut[node] / rootTotal)}
      </td>
      <td class="num" />
      <td class="fn-cell dim">
        <span
          class="indent"
          ref={(el) => {
            if (el) el.style.width = `${depth * 14 + 18}px`;
          }}
        />
        {cutLabel(tree, node)}
      </td>
      <td class="file dim">each under the share shown</td>
    </tr>
  );
}

const MAX_OPENED_MATCHES = 200;
/** Above this many nodes, "expand all" skips paths under 0.1% of the samples, to stay responsive. */
const EXPAND_ALL_NODES = 5000;

function expandAll(layout: FlameLayout): Set<number> {
  const tree = layout.tree;
  const floor = tree.length > EXPAND_ALL_NODES ? tree.total[0] / 1000 : 0;
  const out = new Set<number>();
  for (let n = 1; n < tree.length; n++) if (tree.subtreeEnd[n] > n + 1 && tree.total[n] >= floor) out.add(n);
  return out;
}

function initialExpansion(layout: FlameLayout, frames: FrameInfo, needle: string): Set<number> {
  const out = heaviestPath(layout, 12);
  if (!needle) return out;
  const tree = layout.tree;
  let opened = 0;
  for (let n = 1; n < tree.length && opened < MAX_OPENED_MATCHES; n++) {
    if (!frames.name[tree.frame[n]].toLowerCase().includes(needle)) continue;
    opened++;
    for (let p = tree.parent[n]; p > 0 && !out.has(p); p = tree.parent[p]) out.add(p);
  }
  return out;
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
