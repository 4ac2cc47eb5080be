// x axis in seconds since the profile's start. Ticks land on round values of the chosen mode: round
// runtime (0:30, 1:00) in relative mode, round wall-clock times in the profile's zone in date mode.
import type uPlot from 'uplot';
import { formatRelative, zonedParts, zoneOffsetMs } from '../lib/units';

export const TIME_INCRS = [
  0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200,
  10800, 21600, 43200, 86400,
];

export interface TimeAxisMode {
  axis: 'date' | 'rel';
  startTime: number | null; // epoch ms
  zone: string | null;
}

/** The axis functions take a getter: the chart switches modes without being rebuilt. */
type ModeOf = () => TimeAxisMode;

export function timeAxisLabel(mode: TimeAxisMode): string {
  if (mode.axis === 'date' && mode.startTime !== null)
    return mode.zone
      ? `clock time (${mode.zone}, the profile's zone)`
      : 'clock time (UTC: the profile records no zone)';
  return 'runtime since start';
}

export function timeSplits(modeOf: ModeOf) {
  return (_u: uPlot, _axis: number, min: number, max: number, incr: number): number[] => {
    const mode = modeOf();
    const shift =
      mode.axis === 'date' && mode.startTime !== null
        ? (mode.startTime + zoneOffsetMs(mode.startTime, mode.zone)) / 1000
        : 0;
    const out: number[] = [];
    const first = Math.ceil((min + shift) / incr - 1e-9) * incr - shift;
    for (let v = first, k = 0; v <= max + 1e-9 && k < 1000; k++, v = first + k * incr) out.push(v);
    return out;
  };
}

export function timeValues(modeOf: ModeOf) {
  return (u: uPlot, splits: number[], _axis: number, _space: number, incr: number): string[] => {
    const mode = modeOf();
    if (mode.axis === 'rel' || mode.startTime === null)
      return keepInside(
        u,
        splits,
        splits.map((v) => formatRelative(v, incr)),
      );
    let lastDate = '';
    const labels = splits.map((v) => {
      const p = zonedParts(mode.startTime! + v * 1000, mode.zone);
      const t = incr >= 1 ? p.time.slice(0, 8) : incr >= 0.1 ? p.time.slice(0, 10) : p.time;
      const label = p.date !== lastDate ? `${t}\n${p.date}` : t;
      lastDate = p.date;
      return label;
    });
    return keepInside(u, splits, labels);
  };
}

/** Width of one character of the axis font (11px monospace), CSS px. */
const AXIS_CHAR_PX = 7;

/**
 * Labels are centred on their tick: one whose half would cross the chart's edge (the last label of
 * a 24-hour run, "24:00:00") is left blank, its tick and grid line kept, rather than drawn cut.
 */
export function keepInside(u: uPlot, splits: number[], labels: string[]): string[] {
  const bbox = u.bbox as uPlot.BBox | undefined;
  if (!bbox || !(u.width > 0)) return labels;
  const left = bbox.left / (window.devicePixelRatio || 1);
  return labels.map((label, i) => {
    const half = (Math.max(...label.split('\n').map((l) => l.length)) * AXIS_CHAR_PX) / 2;
    const x = left + u.valToPos(splits[i], 'x');
    return x - half < 0 || x + half > u.width ? '' : label;
  });
}

export function describeTime(mode: TimeAxisMode, sec: number): string {
  if (mode.axis === 'date' && mode.startTime !== null) {
    const p = zonedParts(mode.startTime + sec * 1000, mode.zone);
    return `${p.date} ${p.time}`;
  }
  return formatRelative(sec, 0.001);
}
