import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import { api, ApiError, type MemoryBin, type MemorySeries, type ProfileRow } from '../lib/api';
import { saveBlob, fileStem } from '../lib/download';
import { navigate, withParams } from '../lib/router';
import { afterPaint, testHook } from '../lib/testHook';
import { useWidth } from '../lib/useWidth';
import { formatBytes, formatDuration } from '../lib/units';
import { viewParams, type ProfileView } from '../lib/viewState';
import type { DocInfo } from '../worker/protocol';
import { MemoryChart } from './memoryChart';
import { binsToCsv, SERIES_LABELS } from './memorySeries';
import { Segmented } from './Segmented';
import { StackPanel } from './StackPanel';

/** Wheel or pan events closer than this (ms) belong to one gesture, hence one history entry. */
const GESTURE_GAP_MS = 700;

interface Props {
  id: string;
  /** Null while the row is on its way: the chart is laid out meanwhile, and asks for bins once it is here. */
  row: ProfileRow | null;
  view: ProfileView;
  info: DocInfo | null;
  theme: string;
  /** Called after each paint of new bins. */
  onPainted?(): void;
}

const CHART_HEIGHT = 380;
/** Bins per request on very wide screens (the server allows up to 20,000). */
const MAX_BINS = 4000;
const MIN_SPAN_MS = 0.5;

export function MemoryView({ id, row, view, info, theme, onPainted }: Props) {
  const holder = useRef<HTMLDivElement>(null);
  const chart = useRef<MemoryChart | null>(null);
  const width = useWidth(holder);
  const [plotWidth, setPlotWidth] = useState(0);
  const [duration, setDuration] = useState<number>(row?.durationMs ?? 0);
  const [bins, setBins] = useState<MemoryBin[]>([]);
  const [timeEstimated, setTimeEstimated] = useState(false);
  /** The series the profile has, as the server said with the last bins (RSS until then). */
  const [available, setAvailable] = useState<MemorySeries[]>(['rss']);
  /** The series the bins on screen are of (the URL may already ask for the other). */
  const [binsSeries, setBinsSeries] = useState<MemorySeries>('rss');
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(false);
  const lastPush = useRef(0);
  /** The last zoom gesture; `burst` when it followed another wheel or pan event closely (a notch of a spin). */
  const lastGesture = useRef({ how: '', at: 0, burst: false });
  const viewRef = useRef(view);
  viewRef.current = view;
  const durRef = useRef(duration);
  durRef.current = duration;
  // The caller's latest: the bins' request outlives the render that sent it, and the first paint's
  // callback from the first render saw no session yet (the CPU tab's prefetch then waited for the
  // first zoom and landed on the server with the gesture after it).
  const paintedRef = useRef(onPainted);
  paintedRef.current = onPainted;

  const winFrom = view.from ?? 0;
  const winTo = view.to ?? duration;
  // The row knows the zone before the document is loaded (servers that index it).
  const zone = info?.meta.zone ?? row?.zone ?? null;
  const startTime = info?.meta.startTime ?? row?.start ?? null;
  // Until the row comes, the bins are asked for speculatively, beside it rather than after it (a cold
  // server's first answer is slow, and the row waits for the response checker's chunk): a profile
  // without memory answers `no-memory`, and its row then switches the page to the CPU tab.
  const ready = row ? row.hasMemory : true;

  // Layout effects throughout: the chart exists, and the first bins are requested, in the same
  // task as the first render, not one frame per step later.
  // Chart lifetime: rebuilt only when what it draws changes shape (mean/max, theme); the time axis
  // mode and the data carry over.
  useLayoutEffect(() => {
    const el = holder.current!;
    if (width <= 0) return;
    const c = new MemoryChart(el, {
      show: view.show,
      series: binsSeries,
      axis: view.axis,
      startTime,
      zone,
      width,
      height: CHART_HEIGHT,
      onZoom: (from, to, how) => zoomTo(from, to, how),
      onReset: () => navigate(withParams(viewParams({ from: null, to: null }))),
      onSelect: (from, to) => navigate(withParams(viewParams({ selFrom: from, selTo: to }))),
    });
    chart.current = c;
    setPlotWidth(c.plotWidth());
    if (bins.length) c.setData(bins, winFrom, winTo);
    c.setSelection(view.selFrom !== null ? [view.selFrom, view.selTo!] : null);
    return () => {
      c.destroy();
      chart.current = null;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [view.show, theme, width > 0]);

  useLayoutEffect(() => {
    chart.current?.setTimeMode({ axis: view.axis, startTime, zone });
  }, [view.axis, startTime, zone]);

  useLayoutEffect(() => {
    const c = chart.current;
    if (width > 0 && c) {
      c.setSize(width, CHART_HEIGHT);
      setPlotWidth(c.plotWidth());
    }
  }, [width]);

  useEffect(() => {
    chart.current?.setSelection(view.selFrom !== null ? [view.selFrom, view.selTo!] : null);
  }, [view.selFrom, view.selTo]);

  // The window moves at once on the data we have; new bins replace the whole series when they come.
  useLayoutEffect(() => {
    if (duration > 0) chart.current?.setWindow(winFrom, winTo);
  }, [winFrom, winTo, duration]);

  // Re-bin from the server: one bin per pixel of plot width. The events of a wheel spin or a pan after
  // the first are debounced, so the spin costs one more request; a single notch, a drag, a key or
  // Back asks at once. Older requests are aborted, so answers never arrive out of order.
  useLayoutEffect(() => {
    if (plotWidth <= 0 || !ready) return;
    const ctrl = new AbortController();
    const binsWanted = Math.max(16, Math.min(MAX_BINS, plotWidth));
    const g = lastGesture.current;
    const continuous = g.burst && performance.now() - g.at < 200;
    const fetchBins = async () => {
      setLoading(true);
      try {
        const zoomed = view.from !== null && view.to !== null;
        const res = await api.memory(
          id,
          {
            from: zoomed ? view.from! : undefined,
            to: zoomed ? view.to! : undefined,
            bins: binsWanted,
            thread: view.thread,
            series: view.series === 'rss' ? null : view.series, // RSS is the default: its URLs stay as they were
            // The chart draws each bin where the answer says it lies, so block-start edges cost it nothing
            // and spare a wide zoom of a long run its reads at every edge.
            snap: true,
          },
          ctrl.signal,
        );
        if (ctrl.signal.aborted) return;
        const from = zoomed ? view.from! : res.from;
        const to = zoomed ? view.to! : res.to;
        const series = res.series ?? 'rss';
        chart.current?.setSeries(series);
        chart.current?.setData(res.bins, from, to);
        setDuration(res.durationMs);
        setTimeEstimated(res.timeEstimated);
        setAvailable(res.available ?? ['rss']);
        setBinsSeries(series);
        setBins(res.bins);
        setError(null);
        afterPaint((paintedAt) => {
          paintedRef.current?.();
          const hook = testHook();
          const yLabel = chart.current?.yLabel() ?? '';
          const xAxis = chart.current?.xAxis();
          const spread = chart.current?.spread();
          hook.memory = {
            from,
            to,
            bins: res.bins,
            plotWidth,
            draws: (hook.memory?.draws ?? 0) + 1,
            paintedAt,
            series,
            yLabel,
            xAxis,
            spread,
          };
        });
      } catch (err) {
        // A link asking for a series this profile lacks falls back to RSS instead of an empty chart.
        // A profile without memory answers the speculative request `no-memory`: its row moves the page
        // to the CPU tab, so that is no error either.
        const code = err instanceof ApiError ? err.code : null;
        if (code === 'no-series') navigate(withParams(viewParams({ series: 'rss' })), { replace: true });
        else if (code !== 'no-memory' && (err as Error).name !== 'AbortError') setError((err as Error).message);
      } finally {
        if (!ctrl.signal.aborted) setLoading(false);
      }
    };
    const timer = continuous && bins.length ? setTimeout(fetchBins, 40) : (void fetchBins(), undefined);
    return () => {
      clearTimeout(timer);
      ctrl.abort();
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [id, ready, view.from, view.to, view.thread, view.series, plotWidth]);

  function zoomTo(from: number, to: number, how: 'drag' | 'wheel' | 'pan' | 'button'): void {
    const d = durRef.current;
    let span = Math.max(MIN_SPAN_MS, to - from);
    if (span >= d)
      return void navigate(withParams(viewParams({ from: null, to: null })), {
        replace: how !== 'drag' && how !== 'button',
      });
    if (from < 0) [from, to] = [0, span];
    if (to > d) [from, to] = [d - span, d];
    span = to - from;
    const at = performance.now();
    const prev = lastGesture.current;
    const spin = how === 'wheel' || how === 'pan';
    lastGesture.current = { how, at, burst: spin && prev.how === how && at - prev.at < 200 };
    const now = Date.now();
    // A wheel or pan gesture is one history entry, not one per notch.
    const replace = (how === 'wheel' || how === 'pan') && now - lastPush.current < GESTURE_GAP_MS;
    if (!replace) lastPush.current = now;
    if (how === 'wheel' || how === 'pan') lastPush.current = now;
    testHook().gesture = { lastAt: lastPush.current, gapMs: GESTURE_GAP_MS };
    navigate(withParams(viewParams({ from, to })), { replace });
    // After navigate: both redraw in a microtask, uPlot's and the page's (whose layout effect asks for
    // the new bins), in the order asked. The request then goes out before the chart is drawn on the old
    // bins, not after, and the frame shows the moved window all the same. Leaving the move to that
    // layout effect alone measured slower (input → fetch median 4.5-7 against 2.5-3 ms on ×64).
    chart.current?.setWindow(from, to);
  }

  // Keyboard: arrows pan, +/- zoom, 0 resets (ignored while typing in a field).
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const t = e.target as HTMLElement;
      if (t.closest('input, textarea, select') || e.metaKey || e.ctrlKey || e.altKey) return;
      const v = viewRef.current;
      const d = durRef.current;
      const from = v.from ?? 0;
      const to = v.to ?? d;
      const span = to - from;
      if (e.key === 'ArrowLeft') zoomTo(from - span / 4, to - span / 4, 'button');
      else if (e.key === 'ArrowRight') zoomTo(from + span / 4, to + span / 4, 'button');
      else if (e.key === '+' || e.key === '=') zoomTo(from + span / 4, to - span / 4, 'button');
      else if (e.key === '-') zoomTo(from - span / 2, to + span / 2, 'button');
      else if (e.key === '0') navigate(withParams(viewParams({ from: null, to: null })));
      else if (e.key === 'Escape') navigate(withParams(viewParams({ selFrom: null, selTo: null })));
      else return;
      e.preventDefault();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);

  function exportCsv(): void {
    saveBlob(
      new Blob([binsToCsv(bins, startTime, binsSeries)], { type: 'text/csv' }),
      `${fileStem(row?.name)}-memory-${binsSeries}.csv`,
    );
  }

  function exportPng(): void {
    const src = chart.current?.plot.ctx.canvas;
    if (!src) return;
    const out = document.createElement('canvas');
    out.width = src.width;
    out.height = src.height;
    const ctx = out.getContext('2d')!;
    ctx.fillStyle = getComputedStyle(document.body).backgroundColor;
    ctx.fillRect(0, 0, out.width, out.height);
    ctx.drawImage(src, 0, 0);
    out.toBlob((b) => b && saveBlob(b, `${fileStem(row?.name)}-memory.png`), 'image/png');
  }

  const binWidth = bins.length ? bins[0].end - bins[0].start : 0;
  const peak = bins.reduce((m, b) => (b.max !== null && b.max > m ? b.max : m), 0);
  const hasSel = view.selFrom !== null && view.selTo !== null;

  return (
    <div class={`memory-layout ${hasSel ? 'with-panel' : ''}`}>
      <section class="memory-main">
        <div class="toolbar">
          <Segmented
            label="Show"
            value={view.show}
            options={[
              ['both', 'mean + min–max'],
              ['mean', 'mean'],
              ['max', 'max'],
            ]}
            onChange={(v) => navigate(withParams(viewParams({ show: v as ProfileView['show'] })))}
          />
          {available.includes('heap') && (
            <Segmented
              label="Memory"
              value={view.series}
              options={available.map((s) => [s, SERIES_LABELS[s].button])}
              onChange={(v) => navigate(withParams(viewParams({ series: v as MemorySeries })))}
            />
          )}
          <Segmented
            label="Time"
            value={view.axis}
            options={[
              ['rel', 'runtime'],
              ['date', 'clock'],
            ]}
            onChange={(v) => navigate(withParams(viewParams({ axis: v as ProfileView['axis'] })))}
          />
          <span class="spacer" />
          <button
            type="button"
            class="btn"
            title="Zoom out (−)"
            onClick={() => zoomTo(winFrom - (winTo - winFrom) / 2, winTo + (winTo - winFrom) / 2, 'button')}
          >
            −
          </button>
          <button
            type="button"
            class="btn"
            title="Zoom in (+)"
            onClick={() => zoomTo(winFrom + (winTo - winFrom) / 4, winTo - (winTo - winFrom) / 4, 'button')}
          >
            +
          </button>
          <button
            type="button"
            class="btn"
            title="Reset zoom (0, double-click)"
            disabled={view.from === null}
            onClick={() => navigate(withParams(viewParams({ from: null, to: null })))}
          >
            Reset
          </button>
          <button
            type="button"
            class="btn"
            title="Select the visible window"
            onClick={() => navigate(withParams(viewParams({ selFrom: winFrom, selTo: winTo })))}
          >
            Select window
          </button>
          <button
            type="button"
            class="btn"
            title="Memory series of this window as CSV"
            disabled={!bins.length}
            onClick={exportCsv}
          >
            CSV
          </button>
          <button type="button" class="btn" title="Chart as PNG" onClick={exportPng}>
            PNG
          </button>
        </div>
        <div class="chart-meta">
          <span>window {formatDuration(winTo - winFrom)}</span>
          <span>
            {bins.length} bins of {formatDuration(binWidth)}
          </span>
          <span>
            peak in window <b>{formatBytes(peak, 2)}</b>
          </span>
          {timeEstimated && <span class="warn">time axis estimated (no per-sample timestamps)</span>}
          {loading && <span class="dim">re-binning…</span>}
          <span class="spacer" />
          <span class="chart-legend" role="group" aria-label="legend">
            {view.show !== 'max' && (
              <span>
                <i class="key-line mean" /> mean
              </span>
            )}
            {view.show !== 'max' && (
              <span title="mean − sd to mean + sd of the readings in each bin (within min–max): where the memory spent its time">
                <i class="key-band spread" /> mean ±1σ
              </span>
            )}
            {view.show === 'both' && (
              <span>
                <i class="key-band" /> min–max of each bin
              </span>
            )}
            {view.show !== 'mean' && (
              <span>
                <i class="key-line max" /> max
              </span>
            )}
          </span>
        </div>
        <div class="chart-holder" ref={holder} data-testid="memory-chart" />
        {error && <p class="error">Memory could not be loaded: {error}</p>}
        <p class="hint">
          Drag: zoom · Shift+drag: select a range · Click: select a bin · Wheel: zoom · Shift+wheel, ←/→: pan ·
          Double-click, 0: reset · Esc: clear selection
        </p>
      </section>
      {hasSel && (
        <StackPanel
          id={id}
          from={view.selFrom!}
          to={view.selTo!}
          thread={view.thread}
          startTime={startTime}
          zone={zone}
          axis={view.axis}
          series={view.series}
          rank={view.rank}
        />
      )}
    </div>
  );
}
