// What the end-to-end tests and the bench read from the page: the data actually handed to the chart
// and the flame graph, never recomputed, so a test sees what a user sees.
import type { MemoryBin, MemorySeries } from './api';

export interface ProfTestHook {
  /** The last wheel/pan event's time (Date.now) and the gap after which the next starts a new gesture. */
  gesture?: { lastAt: number; gapMs: number };
  /** The vmprof-link check of the landing page ran for this fragment (`count` such checks so far). */
  linksChecked?: { count: number; hash: string };
  memory?: {
    from: number;
    to: number;
    bins: MemoryBin[];
    plotWidth: number;
    draws: number;
    paintedAt: number;
    series: MemorySeries;
    yLabel: string;
    /** The x axis as drawn on the canvas: its font, the canvas width (CSS px), each tick's label and x. */
    xAxis?: { font: string; width: number; ticks: { label: string; x: number }[] };
    /** The spread band as drawn: per bin [mean − sd, mean + sd] within [min, max] (null: none), and its rectangles. */
    spread?: { bands: ([number, number] | null)[]; rects: number };
  };
  stacks?: {
    from: number;
    to: number;
    prefix: string[];
    extension: string[];
    share: number;
    samples: number;
    series: MemorySeries;
    rank: 'count' | 'growth';
    top: { count: number; growth?: number }[];
  };
  /** The profile page's search for the previous run of its function was answered. */
  previousRun?: { of: string; previous: string | null };
  /** The comparison page's flame graph: every box drawn, with its fill. */
  compareFlame?: {
    boxes: { name: string; added: boolean; change: number; fill: string; x: number; y: number; w: number }[];
    scale: number;
    mode: 'share' | 'abs';
    /** Samples of each side's range (the root's weights). */
    totals: { base: number; target: number };
    paintedAt: number;
    draws: number;
  };
  /** The comparison page's memory chart: its series labels and bins. */
  compareMemory?: {
    series: string[];
    axis: 'date' | 'rel';
    xAxisText: string;
    bins: number;
    withDelta: number;
    draws: number;
    /** performance.now() of the frame that showed it. */
    paintedAt: number;
  };
  compareTree?: { rows: { name: string; depth: number; added: boolean }[]; draws: number };
  /** The comparison page's function table: the rows shown, in order. */
  compareTable?: { rows: { name: string; added: boolean; removed: boolean }[]; sort: string; draws: number };
  flame?: {
    rootTotal: number;
    /** Function names of the top row (the root's children). */
    roots: string[];
    focus: number[];
    nodes: number;
    paintedAt: number;
    draws: number;
    matches: number;
    matchShare: number;
    /** The search the painted frame highlights: a test waits for it before reading `matchShare`. */
    query: string;
  };
}

declare global {
  interface Window {
    __profTest: ProfTestHook;
  }
}

export function testHook(): ProfTestHook {
  if (!window.__profTest) window.__profTest = {};
  return window.__profTest;
}

/** Runs `fn` once the frame holding the current drawing has been painted (timestamps for the bench). */
export function afterPaint(fn: (paintedAt: number) => void): void {
  requestAnimationFrame(() => setTimeout(() => fn(performance.now()), 0));
}
