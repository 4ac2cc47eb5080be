import { PreviousRunLink } from '../compare/PreviousRunLink';
import { useEffect, useState } from 'preact/hooks';
import { api, ApiError, profileRow, type ProfileRow } from '../lib/api';
import { navigate, withParams } from '../lib/router';
import { formatBytes, formatCount, formatDateTime, formatDuration } from '../lib/units';
import { parseView, viewParams, type ProfileView } from '../lib/viewState';
import type { DocInfo } from '../worker/protocol';
import { CpuView } from './CpuView';
import { MemoryView } from './MemoryView';
import { ProfileSession, type LoadState } from './session';

/** Longest wait, on the memory view, before the CPU view's description is fetched. */
const START_DOCUMENT_MS = 1500;

export function ProfilePage({ id, url, theme }: { id: string; url: URL; theme: string }) {
  const [row, setRow] = useState<ProfileRow | null>(null);
  const [error, setError] = useState<{ status: number; message: string } | null>(null);
  const [session, setSession] = useState<ProfileSession | null>(null);
  const [load, setLoad] = useState<LoadState>({ phase: 'download', loaded: 0 });

  useEffect(() => {
    const ctrl = new AbortController();
    setRow(null);
    setError(null);
    profileRow(id, ctrl.signal)
      .then((r) => {
        if (ctrl.signal.aborted) return;
        setRow(r);
        document.title = `${r.project ?? 'profile'} · ${r.name ?? r.id} — Prof`;
      })
      .catch((err: Error) => {
        if (err.name === 'AbortError' || ctrl.signal.aborted) return;
        setError({ status: err instanceof ApiError ? err.status : 0, message: err.message });
      });
    // The CPU view's description is fetched when a view needs it (see below).
    const s = new ProfileSession(id, api.documentUrl(id));
    if (parseView(new URL(location.href).searchParams).tab === 'cpu') s.start();
    setSession(s);
    setLoad(s.state);
    const off = s.subscribe(() => setLoad(s.state));
    return () => {
      ctrl.abort();
      off();
      s.dispose();
    };
  }, [id]);

  const view = parseView(url.searchParams);
  // Until the row says whether there is memory, the memory view is laid out speculatively (unless the
  // URL asks for the CPU), and its first bins are requested beside the row (MemoryView).
  const tab = view.tab ?? (row ? (row.hasMemory ? 'memory' : 'cpu') : 'memory');

  // The CPU view needs its description now; the memory view lets it (and the tree of the current
  // range) wait for the chart's first paint (MemoryView's onPainted), at most START_DOCUMENT_MS.
  const range = { from: view.selFrom, to: view.selTo, thread: view.thread };
  useEffect(() => {
    if (!session) return;
    if (tab === 'cpu') return void session.start();
    const t = setTimeout(() => session.prefetch(range, view.runner), START_DOCUMENT_MS);
    return () => clearTimeout(t);
  }, [session, tab]);

  if (error) {
    return (
      <main class="page message-page">
        <h2>{error.status === 404 ? 'Profile not found' : 'This profile could not be opened'}</h2>
        <p>
          {error.status === 404 ? (
            <>
              There is no profile with id <code>{id}</code>. It may have been deleted or pruned.
            </>
          ) : (
            error.message
          )}
        </p>
        <p>
          <a href="/" onClick={linkTo('/')}>
            ← All profiles
          </a>
        </p>
      </main>
    );
  }
  const info = load.phase === 'ready' ? load.info : null;
  const dark = theme === 'dark';
  const startDocument = () => session?.prefetch(range, view.runner);

  return (
    <main class="page profile-page">
      {row ? (
        <ProfileHeader row={row} info={info} view={view} tab={tab} />
      ) : (
        <header class="profile-head">
          <p class="dim">Loading profile…</p>
        </header>
      )}
      {info && info.warnings.length > 0 ? (
        <p class="warn-banner">
          {info.warnings.length === 1 ? 'Read with a warning: ' : `Read with ${info.warnings.length} warnings, first: `}
          {info.warnings[0].message}
        </p>
      ) : null}
      {tab === 'memory' && row && !row.hasMemory ? (
        <p class="empty" data-testid="no-memory">
          This profile recorded no memory: it was taken without memory sampling (vmprof <code>--mem</code>). The CPU
          view has everything it holds.
        </p>
      ) : null}
      {tab === 'memory' && (!row || row.hasMemory) ? (
        <MemoryView id={id} row={row} view={view} info={info} theme={theme} onPainted={startDocument} />
      ) : null}
      {tab === 'cpu' ? (
        load.phase === 'ready' && row ? (
          <CpuView row={row} view={view} info={load.info} session={session!} dark={dark} />
        ) : load.phase === 'error' ? (
          <p class="error">The CPU view of this profile could not be read: {load.message}</p>
        ) : (
          <LoadProgress state={load} />
        )
      ) : null}
    </main>
  );
}

/** What each recorder of the Python client implies (its `recorder` tag). */
const RECORDERS: Record<string, string> = {
  sampler:
    "prof-client's sampling thread: wall-clock samples with true times; a thread is seen only when it holds or releases the GIL",
  vmprof: 'vmprof: signal-driven sampling of CPU time in C; idle time is not sampled',
  _vmprof: "PyPy's built-in vmprof: signal-driven sampling of CPU time; idle time is not sampled",
};

/** A source that records no time (legacy vmprof trees, folded stacks) has no duration: never show an invented one. */
function durationUnknown(row: ProfileRow, info: DocInfo | null): boolean {
  if (info) return info.timeSource === 'none';
  return row.start === null && row.durationMs === 0;
}

function ProfileHeader({
  row,
  info,
  view,
  tab,
}: {
  row: ProfileRow;
  info: DocInfo | null;
  view: ProfileView;
  tab: 'memory' | 'cpu';
}) {
  const threads = info?.threads ?? [];
  const zone = info?.meta.zone ?? row.zone ?? null;
  return (
    <header class="profile-head">
      <div class="title-block">
        <nav class="crumbs">
          <a href="/" onClick={linkTo('/')}>
            Profiles
          </a>
          <span class="sep">›</span>
          <a
            class="clip"
            title={row.project ?? undefined}
            href={`/?project=${encodeURIComponent(row.project ?? '')}`}
            onClick={linkTo(`/?project=${encodeURIComponent(row.project ?? '')}`)}
          >
            {row.project ?? '(no project)'}
          </a>
        </nav>
        <h1>
          <span class="fn-name clip" title={row.name ?? info?.meta.name ?? row.id}>
            {row.name ?? info?.meta.name ?? row.id}
          </span>
        </h1>
        <p class="facts">
          <span title="start of the run" data-testid="started">
            {row.start === null ? 'start unknown' : `${formatDateTime(row.start, zone)} ${zone ?? 'UTC'}`}
          </span>
          <span data-testid="duration">
            {durationUnknown(row, info) ? 'duration unknown' : formatDuration(row.durationMs)}
          </span>
          <span>{formatCount(row.sampleCount)} samples</span>
          {row.hasMemory && <span>peak {formatBytes(row.peakMemory, 2)}</span>}
          {row.interpreter && <span>{row.interpreter}</span>}
          {row.host && (
            <span class="clip" title={row.host}>
              {row.host}
            </span>
          )}
          {Object.entries(row.tags ?? {}).map(([k, v]) => (
            <span class="tag clip" key={k} title={k === 'recorder' ? RECORDERS[v] : `${k}=${v}`}>
              {k}={v}
            </span>
          ))}
          <PreviousRunLink row={row} />
        </p>
        {info?.meta.argv && (
          <p class="argv" title={info.meta.argv.join(' ')}>
            {info.meta.argv.join(' ')}
          </p>
        )}
      </div>
      <div class="head-controls">
        <div class="tabs" role="tablist">
          <button
            type="button"
            role="tab"
            class={`tab ${tab === 'memory' ? 'on' : ''}`}
            aria-selected={tab === 'memory'}
            onClick={() => navigate(withParams(viewParams({ tab: 'memory' })))}
          >
            Memory <kbd>m</kbd>
          </button>
          <button
            type="button"
            role="tab"
            class={`tab ${tab === 'cpu' ? 'on' : ''}`}
            aria-selected={tab === 'cpu'}
            onClick={() => navigate(withParams(viewParams({ tab: 'cpu' })))}
          >
            CPU <kbd>c</kbd>
          </button>
        </div>
        <label class="thread-select">
          Thread{' '}
          <select
            value={view.thread === null ? '' : String(view.thread)}
            onChange={(e) => {
              const v = (e.target as HTMLSelectElement).value;
              navigate(withParams(viewParams({ thread: v === '' ? null : Number(v), focus: [] })));
            }}
            disabled={threads.length < 2}
          >
            <option value="">all threads{threads.length ? ` (${threads.length})` : ''}</option>
            {threads.map((t, i) => (
              <option value={String(i)} key={i}>
                {t.name ?? `thread ${t.id}`}
                {t.samples ? ` — ${formatCount(t.samples)} samples` : ''}
              </option>
            ))}
          </select>
        </label>
      </div>
    </header>
  );
}

/** Until the server's description of the profile arrives (small: frames and threads, not samples). */
function LoadProgress(_: { state: LoadState }) {
  return (
    <div class="progress" data-testid="load-progress" role="status">
      <div class="bar indeterminate">
        <div class="fill" />
      </div>
      <p class="dim small">Asking the server for the CPU view of this profile…</p>
    </div>
  );
}

export function linkTo(href: string) {
  return (e: MouseEvent) => {
    if (e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey) return;
    e.preventDefault();
    navigate(href);
  };
}
