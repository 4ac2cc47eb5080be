import { useEffect, useRef } from 'preact/hooks';
import { afterPaint, testHook } from '../lib/testHook';
import { formatBytes, formatCount, formatPercent } from '../lib/units';
import { useWidth } from '../lib/useWidth';
import { diffColor, legendGradient } from './diffColors';
import type { DiffLayout, DiffMode } from './diffLayout';

const ROW = 18;
const FONT = '11px ui-monospace, SFMono-Regular, Menlo, Consolas, monospace';

interface Box {
  node: number;
  x: number;
  y: number;
  w: number;
}

/** What the weights count: CPU samples, or bytes of memory growth. */
export type Unit = 'samples' | 'bytes';

export function formatAmount(v: number, unit: Unit): string {
  return unit === 'bytes' ? formatBytes(v, 1) : formatCount(v);
}

/** Formats a change in the view's unit: percentage points of share, or samples. */
export function formatChange(change: number, mode: DiffMode, unit: Unit = 'samples'): string {
  const sign = change > 0 ? '+' : change < 0 ? '−' : '±';
  return mode === 'abs'
    ? `${sign}${formatAmount(Math.abs(change), unit)}`
    : `${sign}${(Math.abs(change) * 100).toFixed(Math.abs(change) < 0.001 ? 2 : 1)} pp`;
}

/** The target's flame graph (icicle), each box coloured by how its share changed from the base. */
export function DiffFlameGraph({
  layout,
  mode,
  dark,
  unit,
}: {
  layout: DiffLayout;
  mode: DiffMode;
  dark: boolean;
  unit: Unit;
}) {
  const wrap = useRef<HTMLDivElement>(null);
  const canvas = useRef<HTMLCanvasElement>(null);
  const tip = useRef<HTMLDivElement>(null);
  const boxes = useRef<Box[]>([]);
  const width = useWidth(wrap);
  const { nodes, offset, change, scale } = layout;
  const rows = layout.maxDepth + 1;

  useEffect(() => {
    const cv = canvas.current!;
    if (width <= 0 || nodes.length === 0) return;
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
    const k = width / (nodes[0].target.total || 1);
    const drawn: Box[] = [];
    const hook: { name: string; added: boolean; change: number; fill: string; x: number; y: number; w: number }[] = [];
    for (let n = 0; n < nodes.length; n++) {
      const w = nodes[n].target.total * k;
      if (w < 0.5) continue;
      const x = offset[n] * k;
      const y = nodes[n].depth * ROW;
      // A path the base never reached is new work: drawn at full red whatever its size.
      const fill =
        n === 0 ? (dark ? '#4a4a55' : '#c9c9d4') : diffColor(nodes[n].added ? scale : change[n], scale, dark);
      ctx.fillStyle = fill;
      ctx.fillRect(x, y, Math.max(w - 0.5, 0.5), ROW - 1);
      if (w > charW * 3) {
        const label =
          n === 0
            ? `all (${formatAmount(nodes[0].target.total, unit)}${unit === 'bytes' ? ' grown' : ' samples'})`
            : nodes[n].name || '<anonymous>';
        const fit = Math.floor((w - 6) / charW);
        ctx.fillStyle = dark ? '#e8e8e8' : '#1d1d1d';
        ctx.fillText(label.length > fit ? `${label.slice(0, Math.max(fit - 1, 1))}…` : label, x + 3, y + ROW / 2);
      }
      drawn.push({ node: n, x, y, w });
      hook.push({ name: nodes[n].name, added: nodes[n].added, change: change[n], fill, x, y, w });
    }
    boxes.current = drawn;
    afterPaint((paintedAt) => {
      const h = testHook();
      const prev = h.compareFlame?.draws ?? 0;
      h.compareFlame = {
        boxes: hook,
        scale,
        mode,
        totals: { base: nodes[0].base.total, target: nodes[0].target.total },
        paintedAt,
        draws: prev + 1,
      };
    });
  }, [layout, width, dark, rows, mode, unit]);

  function hitAt(ev: MouseEvent): number {
    const r = canvas.current!.getBoundingClientRect();
    const x = ev.clientX - r.left;
    const y = ev.clientY - r.top;
    for (const b of boxes.current) if (x >= b.x && x < b.x + b.w && y >= b.y && y < b.y + ROW) return b.node;
    return -1;
  }

  function onMove(ev: MouseEvent) {
    const t = tip.current!;
    const n = hitAt(ev);
    if (n < 0) {
      t.hidden = true;
      return;
    }
    const node = nodes[n];
    const root = nodes[0];
    const side = (w: { self: number; total: number }, all: number) =>
      `total ${formatAmount(w.total, unit)} (${formatPercent(all ? w.total / all : 0)}) · self ${formatAmount(w.self, unit)} (${formatPercent(all ? w.self / all : 0)})`;
    const lines: [string, string][] = [
      ['', n === 0 ? 'all samples' : node.name || '<anonymous>'],
      ...(n > 0 && node.file
        ? [['file', `${node.file}${node.line > 0 ? `:${node.line}` : ''}`] as [string, string]]
        : []),
      ['base', node.added ? 'not called (added)' : side(node.base, root.base.total)],
      ['target', side(node.target, root.target.total)],
      ['change', formatChange(change[n], mode, unit)],
      ...(node.removedTotal > 0
        ? [
            ['gone', `${formatAmount(node.removedTotal, unit)} of the base in calls the target no longer makes`] as [
              string,
              string,
            ],
          ]
        : []),
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
    const left = x + 16 + 360 > r.width ? Math.max(0, x - 16 - 360) : x + 16;
    t.style.transform = `translate(${left}px, ${ev.clientY - r.top + 14}px)`;
  }

  return (
    <div>
      <div class="diff-legend" data-testid="diff-legend">
        <span>faster {formatChange(-scale, mode, unit)}</span>
        <span class="diff-legend-bar" style={{ background: legendGradient(dark) }} />
        <span>slower {formatChange(scale, mode, unit)}</span>
        <span class="dim">
          · width: the target's time · colour: change of each call path's{' '}
          {mode === 'abs' ? (unit === 'bytes' ? 'memory growth' : 'samples') : 'share of its run'} · full red: not in
          the base
        </span>
      </div>
      <div class="flame-wrap" ref={wrap} data-testid="diff-flame">
        <canvas
          ref={canvas}
          class="flame-canvas"
          onMouseMove={onMove}
          onMouseLeave={() => (tip.current!.hidden = true)}
        />
        <div class="chart-tooltip flame-tip" ref={tip} hidden />
      </div>
    </div>
  );
}
