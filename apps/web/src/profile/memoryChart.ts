// Imperative wrapper around uPlot for the memory view: drawing, hover, click, drag, wheel. It holds
// no data policy: the view decides the window and hands over already-binned server data.
import uPlot from 'uplot';
import type { MemoryBin, MemorySeries } from '../lib/api';
import { formatBytes, formatCount, formatDuration } from '../lib/units';
import { binAtPixel, drawBand, drawStep, spreadOf } from './memoryPaths';
import { binsToSeries, SERIES_LABELS } from './memorySeries';
import { describeTime, TIME_INCRS, timeAxisLabel, timeSplits, timeValues, type TimeAxisMode } from './timeAxis';

export interface MemoryChartOptions extends TimeAxisMode {
  show: 'both' | 'mean' | 'max';
  series: MemorySeries;
  width: number;
  height: number;
  onZoom(from: number, to: number, how: 'drag' | 'wheel' | 'pan'): void; // ms
  onReset(): void;
  onSelect(from: number, to: number): void; // ms
}

/** uPlot draws no path of its own: the series are drawn by `MemoryChart.drawData`. */
const NO_PATHS = { stroke: null, fill: null, flags: 0 } as unknown as uPlot.Series.Paths;

/** How long a click waits for a second one before it counts as a bin selection. */
const DOUBLE_CLICK_MS = 220;

/** y ticks at round binary sizes: 1, 2, 5, 10, 20, 50, 100, 200, 500 B, KiB, MiB, GiB, TiB. */
const BYTE_INCRS = [1, 1024, 1024 ** 2, 1024 ** 3, 1024 ** 4].flatMap((u) =>
  [1, 2, 5, 10, 20, 50, 100, 200, 500].map((m) => m * u),
);

/** The tooltip's spread: the band drawn, low – high, or a dash for a bin without readings. */
function spreadText(b: MemoryBin): string {
  const band = spreadOf(b);
  return band ? `${formatBytes(band[0], 2)} – ${formatBytes(band[1], 2)}` : '–';
}

function cssVar(name: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || '#888';
}

export class MemoryChart {
  readonly plot: uPlot;
  private bins: MemoryBin[] = [];
  private selection: [number, number] | null = null;
  /** The bin the tooltip's rows describe. */
  private tipBin: MemoryBin | null = null;
  private tooltip: HTMLDivElement;
  private downAt: { x: number; shift: boolean } | null = null;
  private shiftDrag = false;
  private pendingClick: ReturnType<typeof setTimeout> | undefined;
  private mode: TimeAxisMode;
  private series: MemorySeries;
  /** Rectangles of the spread band (mean ± sd) the last draw filled. */
  private spreadRects = 0;
  /** The x tick labels last drawn and where (canvas CSS px): uPlot draws them on the canvas, out of the DOM's sight. */
  private drawnTicks: { label: string; x: number }[] = [];
  private readonly axisFont = '12px system-ui, sans-serif';

  constructor(
    el: HTMLElement,
    private readonly opts: MemoryChartOptions,
  ) {
    const maxColor = cssVar('--mem-max');
    const meanColor = cssVar('--mem-mean');
    const band = cssVar('--mem-band');
    const spread = cssVar('--mem-spread');
    const grid = cssVar('--grid');
    const text = cssVar('--text-dim');
    const showMax = opts.show !== 'mean';
    const showMean = opts.show !== 'max';
    const axisFont = this.axisFont;
    const xValues = timeValues(() => this.mode);
    this.mode = { axis: opts.axis, startTime: opts.startTime, zone: opts.zone };
    this.series = opts.series;
    const mode = () => this.mode;
    const options: uPlot.Options = {
      width: opts.width,
      height: opts.height,
      legend: { show: false },
      // uPlot's automatic padding (room for the edge labels: 17 px above, 25 px right) only applies
      // once the axes have data, which made the plot 25 px narrower than the width the first bins
      // were asked for: bins and pixels no longer agreed. Fixed, the plot keeps its width.
      padding: [17, 25, 0, 0],
      cursor: {
        drag: { x: true, y: false, setScale: false },
        points: { show: false },
        y: false,
      },
      select: { show: true, left: 0, top: 0, width: 0, height: 0 },
      scales: {
        x: { time: false },
        y: { range: (_u, _min, max) => [0, max > 0 ? max * 1.05 : 1] },
      },
      axes: [
        {
          stroke: text,
          grid: { stroke: grid, width: 1 },
          ticks: { stroke: grid },
          incrs: TIME_INCRS,
          space: 80,
          splits: timeSplits(mode),
          values: (u, splits, axis, space, incr) => {
            const labels = xValues(u, splits, axis, space, incr);
            const left = u.bbox.left / (window.devicePixelRatio || 1);
            this.drawnTicks = labels.map((label, i) => ({ label, x: left + u.valToPos(splits[i], 'x') }));
            return labels;
          },
          label: () => timeAxisLabel(this.mode),
          labelSize: 20,
          labelFont: axisFont,
          font: axisFont,
          // Clock labels carry the date on a second line when it changes.
          size: () => (this.mode.axis === 'date' && this.mode.startTime !== null ? 50 : 34),
        },
        {
          stroke: text,
          grid: { stroke: grid, width: 1 },
          ticks: { stroke: grid },
          incrs: BYTE_INCRS,
          values: (_u, splits) => splits.map((v) => formatBytes(v).replace('.0 ', ' ')),
          size: 76,
          font: axisFont,
          label: () => this.yLabel(),
          labelFont: axisFont,
          labelSize: 18,
        },
      ],
      series: [
        {},
        // Both series only set the y range (the visible max or mean); `drawData` draws them.
        { label: 'max', show: showMax, points: { show: false }, paths: () => NO_PATHS },
        { label: 'mean', show: showMean, points: { show: false }, paths: () => NO_PATHS },
      ],
      hooks: {
        setSelect: [(u) => this.onSelect(u)],
        setCursor: [(u) => this.onCursor(u)],
        draw: [
          (u) => {
            this.drawData(u, { maxColor, meanColor, band, spread, showMax, showMean });
            this.drawSelection(u);
          },
        ],
      },
    };
    this.plot = new uPlot(options, [[], [], []], el);
    this.tooltip = document.createElement('div');
    this.tooltip.className = 'chart-tooltip';
    this.tooltip.hidden = true;
    this.plot.over.appendChild(this.tooltip);
    const over = this.plot.over;
    over.addEventListener('mousedown', (e) => {
      this.downAt = { x: e.clientX, shift: e.shiftKey };
      this.shiftDrag = e.shiftKey;
    });
    over.addEventListener('mouseup', (e) => {
      const d = this.downAt;
      this.downAt = null;
      if (!d || Math.abs(e.clientX - d.x) >= 3) return;
      // A click selects its bin once it is clear it is not the first half of a double-click (reset).
      clearTimeout(this.pendingClick);
      // The pixel under the pointer: Chromium truncates clientX to it, but rounds offsetX (a pointer
      // at 1.5 px, the middle of pixel 1, has offsetX 2: the next bin).
      const x = e.clientX - over.getBoundingClientRect().left;
      if (e.detail < 2) this.pendingClick = setTimeout(() => this.clickAt(x), DOUBLE_CLICK_MS);
    });
    over.addEventListener('dblclick', () => {
      clearTimeout(this.pendingClick);
      opts.onReset();
    });
    over.addEventListener('mouseleave', () => (this.tooltip.hidden = true));
    over.addEventListener('wheel', (e) => this.onWheel(e), { passive: false });
  }

  setData(bins: MemoryBin[], from: number, to: number): void {
    this.bins = bins;
    this.plot.batch(() => {
      this.plot.setData(binsToSeries(bins), false);
      this.plot.setScale('x', { min: from / 1000, max: to / 1000 });
    });
  }

  /** Switches the x axis between runtime and clock time (and learns the zone) without a rebuild. */
  setTimeMode(mode: TimeAxisMode): void {
    const m = this.mode;
    if (m.axis === mode.axis && m.startTime === mode.startTime && m.zone === mode.zone) return;
    this.mode = { ...mode };
    this.tipBin = null;
    this.plot.redraw(false, true);
  }

  /** For the page's test hook: the x axis as drawn (its font, the canvas width, each tick's label and x). */
  xAxis(): { font: string; width: number; ticks: { label: string; x: number }[] } {
    return { font: this.axisFont, width: this.plot.width, ticks: this.drawnTicks };
  }

  /**
   * For the page's test hook: the spread band as drawn, per bin its [low, high] (mean ± sd clamped
   * to [min, max], null where none), and the rectangles the last draw filled for it.
   */
  spread(): { bands: ([number, number] | null)[]; rects: number } {
    return { bands: this.bins.map(spreadOf), rects: this.spreadRects };
  }

  /** The y axis title: which series it measures. */
  yLabel(): string {
    return SERIES_LABELS[this.series].axis;
  }

  /** Names the series on the y axis; drawn with the data of the next `setData`. */
  setSeries(series: MemorySeries): void {
    this.series = series;
  }

  /** Width of the plotting area in CSS pixels: the number of bins to ask for. */
  plotWidth(): number {
    return Math.round(this.plot.bbox.width / devicePixelRatio);
  }

  /** Moves the visible window right away (on the data we have) while new bins are fetched. */
  setWindow(from: number, to: number): void {
    // Each call is a whole redraw: the gesture and then the URL's update ask for the same window.
    const s = this.plot.scales.x;
    if (s.min === from / 1000 && s.max === to / 1000) return;
    this.plot.setScale('x', { min: from / 1000, max: to / 1000 });
  }

  setSelection(sel: [number, number] | null): void {
    this.selection = sel;
    this.plot.redraw(false, false);
  }

  setSize(width: number, height: number): void {
    if (this.plot.width === width && this.plot.height === height) return;
    this.plot.setSize({ width, height });
    // The cursor keeps its pixel, which is now over another time: the tooltip would describe a bin that
    // is not under it (a click opening the stacks panel narrows the chart). Hidden until the mouse moves.
    this.plot.setCursor({ left: -10, top: -10 });
  }

  window(): [number, number] {
    const s = this.plot.scales.x;
    return [(s.min ?? 0) * 1000, (s.max ?? 0) * 1000];
  }

  destroy(): void {
    clearTimeout(this.pendingClick);
    this.plot.destroy();
  }

  /** The bin drawn under CSS pixel `px` of the plotting area: the one under that pixel's centre. */
  private binIndexAtPx(px: number): number {
    return binAtPixel(this.plot, this.bins, px);
  }

  private drawData(
    u: uPlot,
    c: { maxColor: string; meanColor: string; band: string; spread: string; showMax: boolean; showMean: boolean },
  ): void {
    const { left, top, width, height } = u.bbox;
    const ctx = u.ctx;
    ctx.save();
    ctx.beginPath();
    // On whole pixels: a fractional clip would antialias every rectangle's edge against it.
    ctx.rect(Math.round(left), Math.round(top), Math.round(width), Math.round(height));
    ctx.clip();
    const both = this.opts.show === 'both';
    if (c.showMax && both) drawBand(ctx, u, this.bins, c.band);
    // Where the readings spent their time, inside the min–max band: whatever spikes widen it.
    this.spreadRects = c.showMean ? drawBand(ctx, u, this.bins, c.spread, spreadOf) : 0;
    if (c.showMax) drawStep(ctx, u, this.bins, (b) => b.max, c.maxColor, both ? 1 : 1.5);
    if (c.showMean) drawStep(ctx, u, this.bins, (b) => b.mean, c.meanColor, 1.75);
    ctx.restore();
  }

  /** A click in a gap (zoomed in past the sampling rate) takes the nearest bin holding samples. */
  private clickAt(px: number): void {
    const i = this.binIndexAtPx(px);
    if (i < 0) return;
    for (let d = 0; d <= 6; d++) {
      for (const j of [i - d, i + d]) {
        const b = this.bins[j];
        if (b && b.count > 0) {
          this.opts.onSelect(b.start, b.end);
          return;
        }
      }
    }
    this.opts.onSelect(this.bins[i].start, this.bins[i].end);
  }

  private onSelect(u: uPlot): void {
    const { left, width } = u.select;
    if (width < 3) return;
    const from = u.posToVal(left, 'x') * 1000;
    const to = u.posToVal(left + width, 'x') * 1000;
    u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
    if (this.shiftDrag) this.opts.onSelect(from, to);
    else this.opts.onZoom(from, to, 'drag');
  }

  private onWheel(e: WheelEvent): void {
    e.preventDefault();
    const [from, to] = this.window();
    const span = to - from;
    if (span <= 0) return;
    if (e.shiftKey || Math.abs(e.deltaX) > Math.abs(e.deltaY)) {
      const d = (e.shiftKey ? e.deltaY : e.deltaX) || e.deltaY;
      const shift = (Math.sign(d) * span) / 8;
      this.opts.onZoom(from + shift, to + shift, 'pan');
      return;
    }
    const factor = e.deltaY > 0 ? 1.25 : 0.8;
    const anchor = this.plot.posToVal(e.offsetX, 'x') * 1000;
    this.opts.onZoom(anchor - (anchor - from) * factor, anchor + (to - anchor) * factor, 'wheel');
  }

  private onCursor(u: uPlot): void {
    const left = u.cursor.left ?? -1;
    if (left < 0) {
      this.tooltip.hidden = true;
      return;
    }
    const i = this.binIndexAtPx(left);
    const b = i < 0 ? null : this.bins[i];
    if (!b) {
      this.tooltip.hidden = true;
      return;
    }
    this.tooltip.hidden = false;
    const w = u.over.clientWidth;
    const x = left + 14 + 230 > w ? left - 14 - 230 : left + 14;
    this.tooltip.style.transform = `translate(${Math.max(0, x)}px, ${Math.max(0, (u.cursor.top ?? 0) - 40)}px)`;
    // The rows are rebuilt only when the cursor enters another bin (or new bins came).
    if (b === this.tipBin) return;
    this.tipBin = b;
    const mode = this.mode;
    const rows: [string, string][] = [
      ['from', describeTime(mode, b.start / 1000)],
      ['to', `${describeTime(mode, b.end / 1000)}  (${formatDuration(b.end - b.start)})`],
      ['mean', formatBytes(b.mean, 2)],
      ['±1σ', spreadText(b)],
      ['max', formatBytes(b.max, 2)],
      ['min', formatBytes(b.min, 2)],
      ['samples', formatCount(b.count)],
    ];
    // Text nodes only: nothing from the server is parsed as HTML.
    this.tooltip.replaceChildren(
      ...rows.map(([k, v]) => {
        const row = document.createElement('div');
        const key = document.createElement('span');
        key.className = 'k';
        key.textContent = k;
        const val = document.createElement('span');
        val.textContent = v;
        row.append(key, val);
        return row;
      }),
    );
  }

  private drawSelection(u: uPlot): void {
    if (!this.selection) return;
    const [a, b] = this.selection;
    const x0 = u.valToPos(a / 1000, 'x', true);
    const x1 = u.valToPos(b / 1000, 'x', true);
    const { left, top, width, height } = u.bbox;
    const l = Math.max(left, Math.min(x0, x1));
    const r = Math.min(left + width, Math.max(x0, x1));
    if (r < left || l > left + width) return;
    const ctx = u.ctx;
    ctx.save();
    ctx.fillStyle = cssVar('--sel-fill');
    ctx.fillRect(l, top, Math.max(r - l, 2), height);
    ctx.strokeStyle = cssVar('--sel-stroke');
    ctx.lineWidth = 1;
    ctx.strokeRect(l + 0.5, top + 0.5, Math.max(r - l, 2) - 1, height - 1);
    ctx.restore();
  }
}
