import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import type { CompareMemoryBin } from '../lib/api';
import { afterPaint, testHook } from '../lib/testHook';
import { formatBytes } from '../lib/units';
import {
  describeTime,
  TIME_INCRS,
  type TimeAxisMode,
  timeAxisLabel,
  timeSplits,
  timeValues,
} from '../profile/timeAxis';
import { useWidth } from '../lib/useWidth';

const SERIES = ['base mean', 'base max', 'target mean', 'target max', 'target − base (mean)'];

function cssVar(name: string, fallback: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || fallback;
}

/**
 * Both runs' memory on one time axis (seconds since each run's start, or wall-clock time when the
 * server aligned them by clock), each binned as the single view bins it (a stepped mean and max per
 * bin), and their difference.
 */
export function CompareMemoryChart({
  bins,
  origin,
  zone,
  dark,
  onSelect,
}: {
  bins: CompareMemoryBin[];
  /** Epoch ms of offset 0 when aligned by clock: the axis then reads clock time. */
  origin?: number;
  /** Zone to read clock time in (the base profile's). */
  zone: string | null;
  dark: boolean;
  /** A dragged range, ms since each run's (window's) start. */
  onSelect(from: number, to: number): void;
}) {
  const wrap = useRef<HTMLDivElement>(null);
  const width = useWidth(wrap);

  useEffect(() => {
    if (width <= 0) return;
    const el = wrap.current!;
    const x = bins.map((b) => b.start / 1000);
    const col = (pick: (b: CompareMemoryBin) => number | null) => bins.map(pick);
    const data: uPlot.AlignedData = [
      x,
      col((b) => b.base.mean),
      col((b) => b.base.max),
      col((b) => b.target.mean),
      col((b) => b.target.max),
      col((b) => b.delta.mean),
    ];
    const baseColor = cssVar('--mem-mean', '#1f5fd6');
    const targetColor = cssVar('--mem-max', '#d9480f');
    const deltaColor = dark ? '#c9c9d4' : '#444';
    const stepped = uPlot.paths.stepped!({ align: 1 });
    const line = (label: string, stroke: string, dash?: number[]): uPlot.Series => ({
      label,
      stroke,
      width: 1.5,
      dash,
      paths: stepped,
      value: (_u, v) => (v == null ? '–' : formatBytes(v, 2)),
    });
    const mode: TimeAxisMode = { axis: origin === undefined ? 'rel' : 'date', startTime: origin ?? null, zone };
    const modeOf = () => mode;
    // uPlot draws tick labels on the canvas: keep the last ones drawn for the page's test hook.
    const tickLabels = timeValues(modeOf);
    let xLabels: string[] = [];
    const text = cssVar('--text-dim', '#888');
    const grid = { stroke: cssVar('--grid', 'rgba(0,0,0,0.07)') };
    const plot = new uPlot(
      {
        width,
        height: 300,
        scales: { x: { time: false } },
        // A drag selects a moment of both runs (it does not zoom): the CPU views then show that range.
        cursor: { drag: { x: true, y: false, setScale: false } },
        hooks: {
          setSelect: [
            (u) => {
              if (u.select.width < 3) return;
              const from = u.posToVal(u.select.left, 'x');
              const to = u.posToVal(u.select.left + u.select.width, 'x');
              onSelect(Math.max(0, from) * 1000, to * 1000);
            },
          ],
        },
        axes: [
          {
            stroke: text,
            grid,
            label: origin === undefined ? 'runtime since each run started' : timeAxisLabel(mode),
            incrs: TIME_INCRS,
            splits: timeSplits(modeOf),
            values: (u, splits, axis, space, incr) => (xLabels = tickLabels(u, splits, axis, space, incr)),
            size: origin === undefined ? 40 : 56,
          },
          {
            stroke: text,
            grid,
            size: 80,
            values: (_u, splits) => splits.map((v) => (v < 0 ? `−${formatBytes(-v, 1)}` : formatBytes(v, 1))),
          },
        ],
        series: [
          { label: 'time', value: (_u, v) => (v == null ? '–' : describeTime(mode, v)) },
          line(SERIES[0], baseColor),
          line(SERIES[1], baseColor, [4, 3]),
          line(SERIES[2], targetColor),
          line(SERIES[3], targetColor, [4, 3]),
          line(SERIES[4], deltaColor, [1, 2]),
        ],
      },
      data,
      el,
    );
    afterPaint((paintedAt) => {
      const h = testHook();
      h.compareMemory = {
        series: SERIES,
        axis: mode.axis,
        // The x axis's tick labels as drawn: clock times or runtimes.
        xAxisText: xLabels.join(' '),
        bins: bins.length,
        withDelta: bins.filter((b) => b.delta.mean !== null).length,
        draws: (h.compareMemory?.draws ?? 0) + 1,
        paintedAt,
      };
    });
    return () => plot.destroy();
  }, [bins, width, dark, origin, zone]);

  return <div class="compare-memory" ref={wrap} data-testid="compare-memory" />;
}
