import { Fragment } from 'preact';
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import type { ProfileRow } from '../lib/api';
import { fileStem, saveBlob } from '../lib/download';
import { navigate, withParams } from '../lib/router';
import { formatCount, formatDuration, formatPercent } from '../lib/units';
import { viewParams, type ProfileView } from '../lib/viewState';
import type { CallTreeData, DocInfo } from '../worker/protocol';
import { CallTreeTable } from './CallTreeTable';
import { FlameGraph } from './FlameGraph';
import { KIND_LEGEND, kindColor } from './flameColors';
import { layoutFlame, nodeForPath, pathOf, searchMatches } from './flameLayout';
import { FunctionTable } from './FunctionTable';
import { Segmented } from './Segmented';
import type { ProfileSession } from './session';

interface Props {
  row: ProfileRow;
  view: ProfileView;
  info: DocInfo;
  session: ProfileSession;
  dark: boolean;
}

export function CpuView({ row, view, info, session, dark }: Props) {
  const [tree, setTree] = useState<CallTreeData | null>(null);
  const [busy, setBusy] = useState(false);
  const seq = useRef(0);
  const [qInput, setQInput] = useState(view.q);
  const searchBox = useRef<HTMLInputElement>(null);

  useEffect(() => setQInput(view.q), [view.q]);

  useEffect(() => {
    const my = ++seq.current;
    setBusy(true);
    session.tree({ from: view.selFrom, to: view.selTo, thread: view.thread }, view.runner).then((t) => {
      if (my !== seq.current) return;
      setTree(t);
      setBusy(false);
    });
  }, [session, view.selFrom, view.selTo, view.thread, view.runner]);

  // Typing updates the URL after a short pause, so history is not one entry per key.
  useEffect(() => {
    if (qInput === view.q) return;
    const t = setTimeout(() => navigate(withParams(viewParams({ q: qInput })), { replace: true }), 200);
    return () => clearTimeout(t);
  }, [qInput]);

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const t = e.target as HTMLElement;
      if (t.closest('input, textarea, select') || e.metaKey || e.ctrlKey || e.altKey) return;
      if (e.key === '/') {
        e.preventDefault();
        searchBox.current?.focus();
      } else if (e.key === 'Escape' || e.key === 'Backspace') {
        if (view.focus.length) navigate(withParams(viewParams({ focus: view.focus.slice(0, -1) })));
      } else if (e.key === 'f') navigate(withParams(viewParams({ cpu: 'flame' })));
      else if (e.key === 't') navigate(withParams(viewParams({ cpu: 'tree' })));
      else if (e.key === 'u') navigate(withParams(viewParams({ cpu: 'functions' })));
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [view.focus]);

  const layout = useMemo(() => (tree ? layoutFlame(tree, info.frames.name.length) : null), [tree, info]);
  const kindsPresent = useMemo(() => new Set(info.frames.kind), [info]);
  const frames = info.frames;
  const unit = info.weighted ? 'µs' : 'samples';
  const focusNode = layout ? nodeForPath(layout, view.focus) : 0;
  const crumbs = layout ? pathOf(layout.tree, focusNode) : [];
  const search = useMemo(() => (layout ? searchMatches(layout, frames, view.q) : null), [layout, frames, view.q]);

  async function exportSpeedscope() {
    const json = await session.speedscope(
      { from: view.selFrom, to: view.selTo, thread: view.thread },
      `${row.project ?? ''} ${row.name ?? row.id}`.trim(),
    );
    saveBlob(new Blob([json], { type: 'application/json' }), `${fileStem(row.name)}.speedscope.json`);
  }

  return (
    <section class="cpu-view">
      <div class="toolbar">
        <Segmented
          label="View"
          value={view.cpu}
          options={[
            ['flame', 'Flame graph'],
            ['tree', 'Call tree'],
            ['functions', 'Functions'],
          ]}
          onChange={(v) => navigate(withParams(viewParams({ cpu: v as ProfileView['cpu'] })))}
        />
        <input
          ref={searchBox}
          class="search"
          type="search"
          placeholder="Search functions  ( / )"
          value={qInput}
          onInput={(e) => setQInput((e.target as HTMLInputElement).value)}
          aria-label="Search functions"
        />
        {view.q && search && (
          <span class="match-share" data-testid="match-share">
            matches: <b>{formatPercent(search.total / (layout!.tree.total[0] || 1))}</b> of samples
          </span>
        )}
        <span class="spacer" />
        {view.cpu === 'flame' && (
          <>
            <Segmented
              label="Orientation"
              value={view.orient}
              options={[
                ['icicle', 'icicle'],
                ['flame', 'flame'],
              ]}
              onChange={(v) => navigate(withParams(viewParams({ orient: v as ProfileView['orient'] })))}
            />
            <Segmented
              label="Colour"
              value={view.color}
              options={[
                ['kind', 'by kind'],
                ['file', 'by file'],
              ]}
              onChange={(v) => navigate(withParams(viewParams({ color: v as ProfileView['color'] })))}
            />
          </>
        )}
        {info.hasRunnerFrames && view.cpu !== 'functions' && (
          <label
            class="runner-toggle"
            title="Frames that only start the program (runpy, python -m vmprof): hidden, as vmprof's own tree does"
          >
            <input
              type="checkbox"
              checked={view.runner}
              data-testid="runner-toggle"
              onChange={(e) =>
                navigate(withParams(viewParams({ runner: (e.target as HTMLInputElement).checked, focus: [] })))
              }
            />{' '}
            runner frames
          </label>
        )}
        <button type="button" class="btn" title="Export as speedscope JSON" onClick={exportSpeedscope}>
          speedscope ⤓
        </button>
      </div>
      {view.selFrom !== null && (
        <p class="range-banner">
          Limited to the selected range {formatDuration(view.selFrom)} – {formatDuration(view.selTo!)} (
          {formatDuration(view.selTo! - view.selFrom)}).{' '}
          <button
            type="button"
            class="link"
            onClick={() => navigate(withParams(viewParams({ selFrom: null, selTo: null })))}
          >
            Show the whole profile
          </button>
        </p>
      )}
      {view.cpu === 'flame' && (
        <nav class="breadcrumb" aria-label="Flame graph focus">
          <button
            type="button"
            class="crumb"
            title="Zoom out to every sample (Esc steps out one level)"
            onClick={() => navigate(withParams(viewParams({ focus: [] })))}
          >
            all
          </button>
          {layout &&
            crumbs.map((f, i) => {
              const path = crumbs.slice(0, i + 1);
              const share = layout.tree.total[nodeForPath(layout, path)] / (layout.tree.total[0] || 1);
              return (
                <Fragment key={i}>
                  <span class="sep">›</span>
                  <button
                    type="button"
                    class="crumb"
                    title={`${frames.name[f] || '<anonymous>'}: ${formatPercent(share)} of samples`}
                    onClick={() => navigate(withParams(viewParams({ focus: path })))}
                  >
                    <span class="crumb-name">{frames.name[f] || '<anonymous>'}</span>{' '}
                    <span class="crumb-share">{formatPercent(share)}</span>
                  </button>
                </Fragment>
              );
            })}
          <span class="spacer" />
          {view.color === 'kind' && (
            <span class="legend">
              {KIND_LEGEND.filter(([, k]) => kindsPresent.has(k)).map(([label, k]) => (
                <span class="legend-item" key={k}>
                  <i
                    class="swatch"
                    ref={(el) => {
                      if (el) el.style.background = kindColor(k, label, dark);
                    }}
                  />
                  {label}
                </span>
              ))}
            </span>
          )}
          {view.color === 'file' && <span class="legend dim">one colour per file</span>}
        </nav>
      )}
      {!layout && <p class="dim">Aggregating…</p>}
      {layout && layout.tree.total[0] === 0 && (
        <p class="empty">No CPU samples {view.selFrom !== null ? 'in the selected range' : 'in this thread'}.</p>
      )}
      {layout && layout.tree.total[0] > 0 && (
        <div class={busy ? 'busy' : ''}>
          <p class="dim small">
            {formatCount(layout.tree.samples)} samples
            {info.weighted ? ` · ${formatCount(layout.tree.total[0])} µs` : ''} · {formatCount(layout.tree.length - 1)}{' '}
            call-tree nodes
          </p>
          {view.cpu === 'flame' && (
            <FlameGraph
              layout={layout}
              frames={frames}
              focus={view.focus}
              q={view.q}
              orient={view.orient}
              color={view.color}
              dark={dark}
              unit={unit}
              onFocus={(path) => navigate(withParams(viewParams({ focus: path })))}
            />
          )}
          {view.cpu === 'tree' && (
            <CallTreeTable
              layout={layout}
              frames={frames}
              q={view.q}
              unit={unit}
              onFocus={(path) => navigate(withParams(viewParams({ cpu: 'flame', focus: path })))}
            />
          )}
          {view.cpu === 'functions' && (
            <FunctionTable
              session={session}
              range={{ from: view.selFrom, to: view.selTo, thread: view.thread }}
              frames={frames}
              q={view.q}
              selected={view.fn}
              onSelect={(fn) => navigate(withParams(viewParams({ fn })))}
              hasLines={info.hasLines}
              onShowInFlame={(name) => navigate(withParams(viewParams({ cpu: 'flame', q: name, focus: [] })))}
            />
          )}
        </div>
      )}
    </section>
  );
}
