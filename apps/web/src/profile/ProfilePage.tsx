import { useEffect, useState } from 'preact/hooks';
import { api, ApiError, type ProfileRow } from '../lib/api';
import { navigate, withParams } from '../lib/router';
import { formatBytes, formatCount, formatDateTime, formatDuration } from '../lib/units';
import { parseView, viewParams } from '../lib/viewState';
import { CpuView } from './CpuView';
import { MemoryView } from './MemoryView';
import { ProfileSession, type LoadState } from './session';

export function ProfilePage({ id, url, theme }: { id: string; url: URL; theme: string }) {
  const [row, setRow] = useState<ProfileRow | null>(null);
  const [error, setError] = useState<{ status: number; message: string } | null>(null);
  const [session, setSession] = useState<ProfileSession | null>(null);
  const [load, setLoad] = useState<LoadState>({ phase: 'download', loaded: 0 });

  useEffect(() => {
    const ctrl = new AbortController();
    setRow(null);
    setError(null);
    api
      .profile(id, ctrl.signal)
      .then((r) => {
        setRow(r);
        document.title = `${r.project ?? 'profile'} · ${r.name ?? r.id} — Prof`;
      })
      .catch((err: Error) => {
        if (err.name === 'AbortError') return;
        setError({ status: err instanceof ApiError ? err.status : 0, message: err.message });
      });
    // The document downloads in the worker right away, in parallel with the memory bins.
    const s = new ProfileSession(id, api.documentUrl(id));
    setSession(s);
    setLoad(s.state);
    const off = s.subscribe(() => setLoad(s.state));
    return () => {
      ctrl.abort();
      off();
      s.dispose();
    };
  }, [id]);

  if (error) {
    return (
      <main class="page message-page">
        <h2>{error.status === 404 ? 'Profile not found' : 'This profile could not be opened'}</h2>
        <p>
          {error.status === 404 ? <>There is no profile with id <code>{id}</code>. It may have been deleted or pruned.</> : error.message}
        </p>
        <p><a href="/" onClick={linkTo('/')}>← All profiles</a></p>
      </main>
    );
  }
  if (!row || !session) return <main class="page"><p class="dim">Loading profile…</p></main>;

  const view = parseView(url.searchParams);
  const tab = view.tab ?? (row.hasMemory ? 'memory' : 'cpu');
  const info = load.phase === 'ready' ? load.info : null;
  const threads = info?.threads ?? (Array.isArray(row.threads) ? row.threads.map((t) => ({ ...t, samples: 0 })) : []);
  const dark = theme === 'dark';

  return (
    <main class="page profile-page">
      <header class="profile-head">
        <div class="title-block">
          <nav class="crumbs">
            <a href="/" onClick={linkTo('/')}>Profiles</a>
            <span class="sep">›</span>
            <a href={`/?project=${encodeURIComponent(row.project ?? '')}`} onClick={linkTo(`/?project=${encodeURIComponent(row.project ?? '')}`)}>
              {row.project ?? '(no project)'}
            </a>
          </nav>
          <h1>
            <span class="fn-name">{row.name ?? info?.meta.name ?? row.id}</span>
          </h1>
          <p class="facts">
            <span title="start">{formatDateTime(row.start, info?.meta.zone ?? null)}{info?.meta.zone ? ` (${info.meta.zone})` : ''}</span>
            <span>{formatDuration(row.durationMs)}</span>
            <span>{formatCount(row.sampleCount)} samples</span>
            {row.hasMemory && <span>peak {formatBytes(row.peakMemory, 2)}</span>}
            {row.interpreter && <span>{row.interpreter}</span>}
            {row.host && <span>{row.host}</span>}
            {Object.entries(row.tags ?? {}).map(([k, v]) => (
              <span class="tag" key={k}>{k}={v}</span>
            ))}
          </p>
          {info?.meta.argv && <p class="argv" title="command line">{info.meta.argv.join(' ')}</p>}
        </div>
        <div class="head-controls">
          <div class="tabs" role="tablist">
            <button role="tab" class={`tab ${tab === 'memory' ? 'on' : ''}`} aria-selected={tab === 'memory'} onClick={() => navigate(withParams(viewParams({ tab: 'memory' })))}>
              Memory <kbd>m</kbd>
            </button>
            <button role="tab" class={`tab ${tab === 'cpu' ? 'on' : ''}`} aria-selected={tab === 'cpu'} onClick={() => navigate(withParams(viewParams({ tab: 'cpu' })))}>
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
                  {t.name ?? `thread ${t.id}`}{t.samples ? ` — ${formatCount(t.samples)} samples` : ''}
                </option>
              ))}
            </select>
          </label>
        </div>
      </header>
      {info && info.warnings.length > 0 && (
        <p class="warn-banner">
          {info.warnings.length === 1 ? 'Read with a warning: ' : `Read with ${info.warnings.length} warnings, first: `}
          {info.warnings[0].message}
        </p>
      )}
      {tab === 'memory' && !row.hasMemory && (
        <p class="empty" data-testid="no-memory">
          This profile recorded no memory: it was taken without memory sampling (vmprof <code>--mem</code>). The CPU view has everything it holds.
        </p>
      )}
      {tab === 'memory' && row.hasMemory && <MemoryView row={row} view={view} info={info} theme={theme} />}
      {tab === 'cpu' &&
        (load.phase === 'ready' ? (
          <CpuView row={row} view={view} info={load.info} session={session} dark={dark} />
        ) : load.phase === 'error' ? (
          <p class="error">The profile document could not be read: {load.message}</p>
        ) : (
          <LoadProgress state={load} size={row.sizeBytes} />
        ))}
    </main>
  );
}

function LoadProgress({ state, size }: { state: LoadState; size: number }) {
  const label =
    state.phase === 'download' ? `Downloading profile… ${formatBytes(state.loaded)}` : state.phase === 'decode' ? 'Decoding…' : 'Building the call tree…';
  const frac = state.phase === 'download' ? Math.min(0.6, size ? (0.6 * state.loaded) / (size * 6) : 0.1) : state.phase === 'decode' ? 0.75 : 0.9;
  return (
    <div class="progress" data-testid="load-progress">
      <p>{label}</p>
      <div class="bar"><div class="fill" ref={(el) => { if (el) el.style.width = `${Math.round(frac * 100)}%`; }} /></div>
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
