import { useEffect, useMemo, useRef } from 'preact/hooks';
import { afterPaint, testHook } from '../lib/testHook';
import { useWidth } from '../lib/useWidth';
import { formatCount, formatPercent } from '../lib/units';
import type { FrameInfo } from '../worker/protocol';
import { fileColor, kindColor, kindName } from './flameColors';
import { cutLabel, cutStart, nodeForPath, pathOf, searchMatches, type FlameLayout } from './flameLayout';

const ROW = 18;
const FONT = '11px ui-monospace, SFMono-Regular, Menlo, Consolas, monospace';

interface Props {
  layout: FlameLayout;
  frames: FrameInfo;
  focus: number[];
  q: string;
  orient: 'icicle' | 'flame';
  color: 'kind' | 'file';
  dark: boolean;
  unit: string;
  onFocus(path: number[]): void;
}

interface Hit {
  node: number;
  x0: number;
  x1: number;
}

export function FlameGraph({ layout, frames, focus, q, orient, color, dark, unit, onFocus }: Props) {
  const wrap = useRef<HTMLDivElement>(null);
  const canvas = useRef<HTMLCanvasElement>(null);
  const tip = useRef<HTMLDivElement>(null);
  const hits = useRef<Hit[][]>([]);
  const width = useWidth(wrap);
  const tree = layout.tree;
  const focusNode = useMemo(() => nodeForPath(layout, focus), [layout, focus]);
  const search = useMemo(() => searchMatches(layout, frames, q), [layout, frames, q]);
  const rootTotal = tree.total[0];

  const depthFocus = tree.depth[focusNode];
  const rows = layout.maxDepth + 1;

  useEffect(() => {
    const cv = canvas.current!;
    if (width <= 0) return;
    const dpr = window.devicePixelRatio || 1;
    const height = rows * ROW;
    cv.width = Math.round(width * dpr);
    cv.height = Math.round(height * dpr);
    cv.style.width = `${width}px`;
    cv.style.height = `${height}px`;
    const ctx = cv.getContext('2d')!;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, width, height);
    ctx.font = FONT;
    ctx.textBaseline = 'middle';
    const charW = ctx.measureText('m').width;
    const fTotal = tree.total[focusNode] || 1;
    const fX = tree.offset[focusNode];
    const scale = width / fTotal;
    const rowsHits: Hit[][] = Array.from({ length: rows }, () => []);
    const yOf = (d: number) => (orient === 'icicle' ? d * ROW : height - (d + 1) * ROW);
    const searching = q.length > 0;
    const textColor = dark ? '#e8e8e8' : '#1d1d1d';
    const drawBox = (node: number, x0: number, w: number, dim: boolean) => {
      const d = tree.depth[node];
      const y = yOf(d);
      const f = tree.frame[node];
      let fill: string;
      if (node === 0) fill = dark ? '#4a4a55' : '#c9c9d4';
      else if (searching && search.match[node]) fill = dark ? '#d14fd1' : '#e85ce8';
      else fill = color === 'kind' ? kindColor(frames.kind[f], frames.name[f], dark) : fileColor(frames.file[f], dark);
      ctx.globalAlpha = dim || (searching && !search.match[node] && node !== 0) ? 0.45 : 1;
      ctx.fillStyle = fill;
      ctx.fillRect(x0, y, Math.max(w - 0.5, 0.5), ROW - 1);
      if (w > charW * 3) {
        const label = node === 0 ? `all (${formatCount(tree.total[0])} ${unit})` : frames.name[f] || '<anonymous>';
        const fit = Math.floor((w - 6) / charW);
        const text = label.length > fit ? label.slice(0, Math.max(fit - 1, 1)) + '…' : label;
        ctx.globalAlpha = 1;
        ctx.fillStyle = textColor;
        ctx.fillText(text, x0 + 3, y + ROW / 2);
      }
      ctx.globalAlpha = 1;
      rowsHits[d].push({ node, x0, x1: x0 + w });
    };
    // What the server cut under a node: one grey box, hit as `-2 - node` (never focused).
    const drawCut = (node: number, x0: number, w: number) => {
      const d = tree.depth[node] + 1;
      const y = yOf(d);
      ctx.fillStyle = dark ? '#3a3a3a' : '#e2e2e2';
      ctx.fillRect(x0, y, Math.max(w - 0.5, 0.5), ROW - 1);
      if (w > charW * 3) {
        const label = cutLabel(tree, node);
        const fit = Math.floor((w - 6) / charW);
        ctx.fillStyle = textColor;
        ctx.fillText(label.length > fit ? label.slice(0, Math.max(fit - 1, 1)) + '…' : label, x0 + 3, y + ROW / 2);
      }
      rowsHits[d].push({ node: -2 - node, x0, x1: x0 + w });
    };
    // Ancestors of the focus span the full width, dimmed: they are the way back out.
    for (let n = tree.parent[focusNode]; n >= 0; n = tree.parent[n]) drawBox(n, 0, width, true);
    // Preorder from the focus; a box under half a pixel hides its whole subtree.
    let drawn = 0;
    let n = focusNode;
    const end = tree.subtreeEnd[focusNode];
    while (n < end) {
      const w = tree.total[n] * scale;
      if (w < 0.5) {
        n = tree.subtreeEnd[n];
        continue;
      }
      drawBox(n, (tree.offset[n] - fX) * scale, w, false);
      drawn++;
      const cw = tree.cut[n] * scale;
      if (cw >= 0.5) drawCut(n, (cutStart(tree, n) - fX) * scale, cw);
      n++;
    }
    hits.current = rowsHits;
    const focusPath = pathOf(tree, focusNode);
    const roots: string[] = [];
    for (let i = 1; i < tree.parent.length; i++) if (tree.parent[i] === 0) roots.push(frames.name[tree.frame[i]]);
    afterPaint((paintedAt) => {
      const hook = testHook();
      hook.flame = {
        rootTotal,
        roots,
        focus: focusPath,
        nodes: drawn,
        paintedAt,
        draws: (hook.flame?.draws ?? 0) + 1,
        matches: search.count,
        matchShare: rootTotal ? search.total / rootTotal : 0,
        query: q,
      };
    });
  }, [layout, frames, focusNode, search, orient, color, dark, width, rows, q, unit]);

  function hitAt(ev: MouseEvent): number {
    const cv = canvas.current!;
    const r = cv.getBoundingClientRect();
    const x = ev.clientX - r.left;
    const y = ev.clientY - r.top;
    const height = rows * ROW;
    const d = orient === 'icicle' ? Math.floor(y / ROW) : Math.floor((height - y) / ROW);
    for (const h of hits.current[d] ?? []) if (x >= h.x0 && x < h.x1) return h.node;
    return -1;
  }

  function onMove(ev: MouseEvent) {
    const t = tip.current!;
    const n = hitAt(ev);
    if (n === -1) {
      t.hidden = true;
      return;
    }
    const f = tree.frame[n];
    const pct = (v: number) => `${formatPercent(v / rootTotal)} · ${formatCount(v)} ${unit}`;
    const cutOf = -2 - n;
    const lines: [string, string][] =
      n < -1
        ? [
            ['', cutLabel(tree, cutOf)],
            ['', `calls under ${frames.name[tree.frame[cutOf]] || 'the root'}, each too thin to draw`],
            ['total', pct(tree.cut[cutOf])],
          ]
        : n === 0
          ? [
              ['', 'all samples in range'],
              ['total', `${formatCount(tree.total[0])} ${unit}`],
            ]
          : [
              ['', frames.name[f] || '<anonymous>'],
              [
                'file',
                frames.file[f] ? `${frames.file[f]}${frames.line[f] > 0 ? `:${frames.line[f]}` : ''}` : '(unknown)',
              ],
              ['kind', kindName(frames.kind[f])],
              [
                'total',
                pct(tree.total[n]) +
                  (focusNode !== 0 ? ` · ${formatPercent(tree.total[n] / tree.total[focusNode])} of focus` : ''),
              ],
              ['self', pct(tree.self[n])],
              [
                'all calls',
                `total ${formatPercent(layout.frameTotal[f] / rootTotal)} · self ${formatPercent(layout.frameSelf[f] / rootTotal)}`,
              ],
            ];
    t.replaceChildren(
      ...lines.map(([k, v]) => {
        const row = document.createElement('div');
        if (k) {
          const key = document.createElement('span');
          key.className = 'k';
          key.textContent = k;
          row.append(key);
        } else row.className = 'title';
        row.append(document.createTextNode(v));
        return row;
      }),
    );
    t.hidden = false;
    const r = wrap.current!.getBoundingClientRect();
    const x = ev.clientX - r.left;
    const left = x + 16 + 320 > r.width ? Math.max(0, x - 16 - 320) : x + 16;
    t.style.transform = `translate(${left}px, ${ev.clientY - r.top + 14 + wrap.current!.scrollTop}px)`;
  }

  function onClick(ev: MouseEvent) {
    const n = hitAt(ev);
    if (n < 0) return;
    onFocus(pathOf(tree, n));
  }

  return (
    <div class="flame-wrap" ref={wrap} data-testid="flame">
      <canvas
        ref={canvas}
        class="flame-canvas"
        onMouseMove={onMove}
        onMouseLeave={() => (tip.current!.hidden = true)}
        onClick={onClick}
      />
      <div class="chart-tooltip flame-tip" ref={tip} hidden />
      <span class="sr-only">{depthFocus}</span>
    </div>
  );
}
