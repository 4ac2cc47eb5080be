import { useEffect, useState } from 'preact/hooks';
import { api, type ApiFrame, type ProfileRow, type StacksResponse } from '../lib/api';
import { navigate, withParams } from '../lib/router';
import { testHook } from '../lib/testHook';
import { formatCount, formatDuration, formatPercent } from '../lib/units';
import { viewParams } from '../lib/viewState';
import { describeTime } from './timeAxis';

interface Props {
  row: ProfileRow;
  from: number;
  to: number;
  thread: number | null;
  startTime: number | null;
  zone: string | null;
  axis: 'date' | 'rel';
}

export function kindName(kind: string | number): string {
  if (typeof kind === 'string') return kind;
  return ['python', 'native', 'jit', 'asm', 'js'][kind] ?? 'other';
}

/** One frame as text: function, then file:line dimmed. Clicking finds it in the CPU view. */
export function FrameLink({ frame, title }: { frame: ApiFrame; title?: string }) {
  const name = frame.name || '<anonymous>';
  const where = frame.file ? `${frame.file}${frame.line > 0 ? `:${frame.line}` : ''}` : '';
  return (
    <button
      class={`frame-link kind-${kindName(frame.kind)}`}
      title={title ?? `Find ${name} in the CPU view`}
      onClick={() => navigate(withParams({ ...viewParams({ tab: 'cpu', focus: [], cpu: 'flame' }), q: name }))}
    >
      <span class="fn">{name}</span>
      {where && <span class="file">{where}</span>}
    </button>
  );
}

export function StackPanel({ row, from, to, thread, startTime, zone, axis }: Props) {
  const [data, setData] = useState<StacksResponse | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    const ctrl = new AbortController();
    setError(null);
    api
      .stacks(row.id, { from, to, thread, top: 12 }, ctrl.signal)
      .then((res) => {
        setData(res);
        testHook().stacks = {
          from,
          to,
          prefix: res.prefix.map((f) => f.name),
          extension: res.extension.map((f) => f.name),
          share: res.share,
          samples: res.samples,
        };
      })
      .catch((err: Error) => {
        if (err.name !== 'AbortError') setError(err.message);
      });
    return () => ctrl.abort();
  }, [row.id, from, to, thread]);

  const mode = { axis, startTime, zone };
  return (
    <aside class="side-panel" data-testid="stack-panel">
      <header>
        <h3>Selection</h3>
        <button class="btn small" title="Clear selection (Esc)" onClick={() => navigate(withParams(viewParams({ selFrom: null, selTo: null })))}>
          ✕
        </button>
      </header>
      <p class="dim sel-range">
        {describeTime(mode, from / 1000)} → {describeTime(mode, to / 1000)} ({formatDuration(to - from)})
      </p>
      <div class="panel-actions">
        <button class="btn small" onClick={() => navigate(withParams(viewParams({ from, to })))}>Zoom to selection</button>
        <button class="btn small" onClick={() => navigate(withParams(viewParams({ tab: 'cpu' })))}>CPU view of selection</button>
      </div>
      {error && <p class="error">{error}</p>}
      {!data && !error && <p class="dim">Analysing stacks…</p>}
      {data && data.samples === 0 && <p class="dim">No samples in this range.</p>}
      {data && data.samples > 0 && (
        <>
          <p class="dim" data-testid="stack-samples">{formatCount(data.samples)} samples</p>
          <h4>Common to every stack ({data.prefix.length} frames)</h4>
          {data.prefix.length === 0 ? (
            <p class="dim">The stacks share no frame.</p>
          ) : (
            <ol class="frame-list" data-testid="prefix">
              {data.prefix.map((f, i) => (
                <li key={i}><FrameLink frame={f} /></li>
              ))}
            </ol>
          )}
          <h4>
            Then most often <span class="share" data-testid="share">{formatPercent(data.share)}</span>
          </h4>
          {data.extension.length === 0 ? (
            <p class="dim">No common continuation.</p>
          ) : (
            <ol class="frame-list ext" data-testid="extension">
              {data.extension.map((f, i) => (
                <li key={i}><FrameLink frame={f} /></li>
              ))}
            </ol>
          )}
          <h4>Top stacks</h4>
          <ol class="top-stacks">
            {data.top.map((s, i) => (
              <li key={i}>
                <div class="top-head">
                  <span class="share">{formatPercent(s.count / data.samples)}</span>
                  <span class="dim">{formatCount(s.count)} samples</span>
                </div>
                <ol class="frame-list compact">
                  {s.stack.slice(-6).map((f, j) => (
                    <li key={j}><FrameLink frame={f} /></li>
                  ))}
                </ol>
                {s.stack.length > 6 && <span class="dim">… {s.stack.length - 6} outer frames</span>}
              </li>
            ))}
          </ol>
        </>
      )}
    </aside>
  );
}
