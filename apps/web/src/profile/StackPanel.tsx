import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { api, type ApiFrame, type MemorySeries, type StacksResponse } from '../lib/api';
import { navigate, withParams } from '../lib/router';
import { testHook } from '../lib/testHook';
import { formatBytes, formatCount, formatDuration, formatPercent } from '../lib/units';
import { viewParams, type Rank } from '../lib/viewState';
import { kindName } from './flameColors';
import { Segmented } from './Segmented';
import { SERIES_LABELS } from './memorySeries';
import { describeTime } from './timeAxis';

interface Props {
  id: string;
  from: number;
  to: number;
  thread: number | null;
  startTime: number | null;
  zone: string | null;
  axis: 'date' | 'rel';
  /** The memory series growth is credited from (the chart's). */
  series: MemorySeries;
  /** Top stacks by samples, or by memory gained under them. */
  rank: Rank;
}

/** The last two segments of a path: enough to recognise a file, short enough for one line. */
function shortFile(file: string): string {
  const parts = file.split(/[\\/]/);
  return parts.length > 2 ? `…/${parts.slice(-2).join('/')}` : file;
}

function location(frame: ApiFrame): string {
  return frame.file ? `${frame.file}${frame.line > 0 ? `:${frame.line}` : ''}` : '';
}

/** One frame: function, then file:line on its own line. Clicking finds the function in the CPU view. */
export function FrameLink({ frame }: { frame: ApiFrame }) {
  const name = frame.name || '<anonymous>';
  const where = location(frame);
  return (
    <button
      type="button"
      class={`frame-link kind-${kindName(frame.kind)}`}
      title={`${name}${where ? `\n${where}` : ''}\nClick: find it in the CPU view`}
      onClick={() => navigate(withParams({ ...viewParams({ tab: 'cpu', focus: [], cpu: 'flame' }), q: name }))}
    >
      <span class="fn">{name}</span>
      {where && (
        <span class="loc">
          {shortFile(frame.file)}
          {frame.line > 0 ? `:${frame.line}` : ''}
        </span>
      )}
    </button>
  );
}

/**
 * Numbered frames, outermost first; `depth0` numbers the first one. With more than `keep` frames
 * the outer ones fold into a disclosure, so the frames that tell stacks apart stay in view.
 */
function FrameList(props: { frames: ApiFrame[]; depth0: number; keep: number; testid?: string; compact?: boolean }) {
  const { frames, depth0, keep } = props;
  const fold = frames.length > keep + 1 ? frames.length - keep : 0;
  const item = (f: ApiFrame, i: number) => (
    <li key={i}>
      <span class="depth">{depth0 + i}</span>
      <FrameLink frame={f} />
    </li>
  );
  return (
    <ol class={`frames ${props.compact ? 'compact' : ''}`} data-testid={props.testid}>
      {fold > 0 && (
        <li class="fold">
          <details>
            <summary>
              {fold} outer frames{' '}
              <span class="dim">
                ({frames[0].name || '<anonymous>'} → {frames[fold - 1].name || '<anonymous>'})
              </span>
            </summary>
            <ol class="frames">{frames.slice(0, fold).map((f, i) => item(f, i))}</ol>
          </details>
        </li>
      )}
      {frames.slice(fold).map((f, i) => item(f, fold + i))}
    </ol>
  );
}

function ShareBar({ share }: { share: number }) {
  return (
    <span class="share-bar" aria-hidden="true">
      <i
        ref={(el) => {
          if (el) el.style.width = `${Math.max(0, Math.min(1, share)) * 100}%`;
        }}
      />
    </span>
  );
}

function Section(props: { title: ComponentChildren; children: ComponentChildren; class?: string }) {
  return (
    <section class={`panel-section ${props.class ?? ''}`}>
      <h4>{props.title}</h4>
      {props.children}
    </section>
  );
}

/** What the stacks of a selected bin or range have in common (the server runs @prof/binning's analyzeStacks). */
export function StackPanel({ id, from, to, thread, startTime, zone, axis, series, rank }: Props) {
  const [data, setData] = useState<StacksResponse | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    const ctrl = new AbortController();
    setError(null);
    api
      .stacks(
        id,
        { from, to, thread, top: 10, series: series === 'rss' ? null : series, rank: rank === 'count' ? null : rank },
        ctrl.signal,
      )
      .then((res) => {
        setData(res);
        testHook().stacks = {
          from,
          to,
          prefix: res.prefix.map((f) => f.name),
          extension: res.extension.map((f) => f.name),
          share: res.share,
          samples: res.samples,
          series,
          rank,
          top: res.top.map((t) => ({ count: t.count, growth: t.growth })),
        };
      })
      .catch((err: Error) => {
        if (err.name !== 'AbortError') setError(err.message);
      });
    return () => ctrl.abort();
  }, [id, from, to, thread, series, rank]);

  const mode = { axis, startTime, zone };
  const stale = data !== null && (data.from !== from || data.to !== to);
  return (
    <aside class="side-panel" data-testid="stack-panel">
      <header>
        <h3>Stacks of the selection</h3>
        <button
          type="button"
          class="btn small"
          title="Clear the selection (Esc)"
          onClick={() => navigate(withParams(viewParams({ selFrom: null, selTo: null })))}
        >
          ✕
        </button>
      </header>
      <p class="sel-range">
        {describeTime(mode, from / 1000)} → {describeTime(mode, to / 1000)}{' '}
        <span class="dim">({formatDuration(to - from)})</span>
      </p>
      <div class="panel-actions">
        <button type="button" class="btn small" onClick={() => navigate(withParams(viewParams({ from, to })))}>
          Zoom to it
        </button>
        <button type="button" class="btn small" onClick={() => navigate(withParams(viewParams({ tab: 'cpu' })))}>
          CPU view of it
        </button>
      </div>
      {error && <p class="error">The stacks could not be analysed: {error}</p>}
      {!data && !error && <p class="dim">Analysing stacks…</p>}
      {data && data.samples === 0 && <p class="dim">No samples in this range: the program was not sampled here.</p>}
      {data && data.samples > 0 && (
        <div class={stale ? 'busy' : ''}>
          <p class="dim" data-testid="stack-samples">
            {formatCount(data.samples)} samples
          </p>
          <Section
            title={
              <>
                Common to every stack <span class="dim">· {data.prefix.length} frames</span>
              </>
            }
          >
            {data.prefix.length === 0 ? (
              <p class="note">The stacks share no frame: they start in different top-level functions.</p>
            ) : (
              <FrameList frames={data.prefix} depth0={1} keep={4} testid="prefix" />
            )}
          </Section>
          <Continuation data={data} />
          <Section
            title={
              <>
                Top stacks <span class="dim">· below the common prefix</span>
              </>
            }
          >
            <Segmented
              label="Rank by"
              value={rank}
              options={[
                ['count', 'samples'],
                ['growth', `${SERIES_LABELS[series].button} growth`],
              ]}
              onChange={(v) => navigate(withParams(viewParams({ rank: v as Rank })))}
            />
            <ol class="top-stacks">
              {data.top.map((s, i) => {
                const rest = s.stack.slice(data.prefix.length);
                return (
                  <li key={i}>
                    <div class="top-head">
                      <ShareBar share={s.count / data.samples} />
                      <b>{formatPercent(s.count / data.samples)}</b>
                      <span class="dim">
                        {formatCount(s.count)} sample{s.count === 1 ? '' : 's'}
                      </span>
                      {s.growth !== undefined && s.growth > 0 && (
                        <span class="growth" title={SERIES_LABELS[series].growth}>
                          +{formatBytes(s.growth)}
                        </span>
                      )}
                    </div>
                    {rest.length === 0 ? (
                      <p class="note small">stops at the common prefix</p>
                    ) : (
                      <FrameList frames={rest} depth0={data.prefix.length + 1} keep={3} compact />
                    )}
                  </li>
                );
              })}
            </ol>
          </Section>
        </div>
      )}
    </aside>
  );
}

/** The most common full stack beyond the prefix, and its share; worded for the empty case too. */
function Continuation({ data }: { data: StacksResponse }) {
  const share = (
    <b class="share" data-testid="share">
      {formatPercent(data.share)}
    </b>
  );
  const last = data.prefix[data.prefix.length - 1];
  const lastName = <span class="fn">{last ? last.name || '<anonymous>' : 'the root'}</span>;
  if (data.extension.length > 0) {
    return (
      <Section class="continuation" title="Then, most often">
        <p class="share-line">
          <ShareBar share={data.share} /> {share} of samples are exactly this stack
        </p>
        <FrameList frames={data.extension} depth0={data.prefix.length + 1} keep={6} testid="extension" />
      </Section>
    );
  }
  if (data.share >= 0.9995) {
    return (
      <Section class="continuation" title="Then">
        <p class="note">
          Every sample stops in {lastName} ({share}): nothing runs below the common prefix.
        </p>
      </Section>
    );
  }
  return (
    <Section class="continuation" title="Then, most often">
      <p class="note">
        {share} of samples stop in {lastName}; the others go deeper in different ways (see the top stacks).
      </p>
    </Section>
  );
}
