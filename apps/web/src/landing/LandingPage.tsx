import { useEffect, useRef, useState } from 'preact/hooks';
import { api, type ProfileRow, type ProjectSummary } from '../lib/api';
import { navigate, withParams } from '../lib/router';
import { formatAgo, formatBytes, formatCount, formatDateTime, formatDuration } from '../lib/units';
import { linkTo } from '../profile/ProfilePage';

const PAGE = 25;

/** Landing filters, all in the URL query: q, project, fn, tag, from, to (yyyy-mm-dd), mem, page. */
function filtersOf(url: URL) {
  const p = url.searchParams;
  const page = Math.max(0, Math.floor(Number(p.get('page') ?? 0)) || 0);
  return {
    q: p.get('q') ?? '',
    project: p.get('project') ?? '',
    fn: p.get('fn') ?? '',
    tag: p.get('tag') ?? '',
    from: p.get('from') ?? '',
    to: p.get('to') ?? '',
    mem: p.get('mem') === '1',
    page,
  };
}

function dayStart(d: string): number | undefined {
  const t = Date.parse(`${d}T00:00:00Z`);
  return Number.isFinite(t) ? t : undefined;
}

export function LandingPage({ url }: { url: URL }) {
  const f = filtersOf(url);
  const [projects, setProjects] = useState<ProjectSummary[] | null>(null);
  const [result, setResult] = useState<{ total: number; items: ProfileRow[] } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [qInput, setQInput] = useState(f.q);
  const [copied, setCopied] = useState(false);
  // Rows ticked for a comparison, in the order ticked: the first is the base.
  const [picked, setPicked] = useState<string[]>([]);
  const toggle = (id: string) => setPicked((p) => (p.includes(id) ? p.filter((x) => x !== id) : [...p, id].slice(-2)));
  const searchRef = useRef<HTMLInputElement>(null);

  useEffect(() => setQInput(f.q), [f.q]);

  useEffect(() => {
    document.title = 'Prof — profiles';
    const ctrl = new AbortController();
    api
      .projects(ctrl.signal)
      .then((r) => setProjects(r.projects))
      .catch((e: Error) => e.name !== 'AbortError' && setError(e.message));
    return () => ctrl.abort();
  }, []);

  useEffect(() => {
    const ctrl = new AbortController();
    const to = f.to ? dayStart(f.to) : undefined;
    api
      .search(
        {
          q: f.q || undefined,
          project: f.project || undefined,
          name: f.fn || undefined,
          tag: f.tag || undefined,
          from: f.from ? dayStart(f.from) : undefined,
          to: to !== undefined ? to + 86_400_000 - 1 : undefined,
          hasMemory: f.mem ? true : undefined,
          sort: 'uploadedAt',
          order: 'desc',
          limit: PAGE,
          offset: f.page * PAGE,
        },
        ctrl.signal,
      )
      .then((r) => {
        setResult(r);
        setError(null);
      })
      .catch((e: Error) => e.name !== 'AbortError' && setError(e.message));
    return () => ctrl.abort();
  }, [f.q, f.project, f.fn, f.tag, f.from, f.to, f.mem, f.page]);

  useEffect(() => {
    if (qInput === f.q) return;
    const t = setTimeout(() => navigate(withParams({ q: qInput, page: null }, url), { replace: true }), 250);
    return () => clearTimeout(t);
  }, [qInput]);

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if ((e.target as HTMLElement).closest('input, textarea, select')) return;
      if (e.key === '/') {
        e.preventDefault();
        searchRef.current?.focus();
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);

  const set = (changes: Record<string, string | null>) => navigate(withParams({ ...changes, page: null }, url));

  async function share() {
    const href = location.href;
    try {
      await navigator.clipboard.writeText(href);
    } catch {
      const ta = document.createElement('textarea');
      ta.value = href;
      document.body.appendChild(ta);
      ta.select();
      document.execCommand('copy');
      ta.remove();
    }
    setCopied(true);
    setTimeout(() => setCopied(false), 1500);
  }

  const needle = f.q.toLowerCase();
  const shownProjects = (projects ?? []).filter(
    (p) =>
      (!f.project || p.project === f.project) &&
      (!needle ||
        (p.project ?? '').toLowerCase().includes(needle) ||
        p.names.some((n) => (n.name ?? '').toLowerCase().includes(needle))),
  );
  const pages = result ? Math.max(1, Math.ceil(result.total / PAGE)) : 1;
  const anyFilter = f.q || f.project || f.fn || f.tag || f.from || f.to || f.mem;

  return (
    <main class="page landing">
      <div class="search-row">
        <input
          ref={searchRef}
          class="search big"
          type="search"
          placeholder="Search projects and function names  ( / )"
          value={qInput}
          onInput={(e) => setQInput((e.target as HTMLInputElement).value)}
          aria-label="Search projects and function names"
          data-testid="landing-search"
        />
        <button type="button" class="btn" onClick={share} title="Copy a link to this view" data-testid="share">
          {copied ? 'Link copied ✓' : 'Share'}
        </button>
      </div>
      <div class="filters">
        <label>
          Project
          <select value={f.project} onChange={(e) => set({ project: (e.target as HTMLSelectElement).value, fn: null })}>
            <option value="">any</option>
            {(projects ?? []).map((p) => (
              <option key={p.project ?? ''} value={p.project ?? ''}>
                {p.project ?? '(none)'}
              </option>
            ))}
          </select>
        </label>
        <label>
          Function
          <input
            type="text"
            value={f.fn}
            placeholder="name"
            onChange={(e) => set({ fn: (e.target as HTMLInputElement).value })}
          />
        </label>
        <label>
          Tag
          <input
            type="text"
            value={f.tag}
            placeholder="key=value"
            onChange={(e) => set({ tag: (e.target as HTMLInputElement).value })}
          />
        </label>
        <label>
          From
          <input type="date" value={f.from} onChange={(e) => set({ from: (e.target as HTMLInputElement).value })} />
        </label>
        <label>
          To
          <input type="date" value={f.to} onChange={(e) => set({ to: (e.target as HTMLInputElement).value })} />
        </label>
        <label class="check">
          <input
            type="checkbox"
            checked={f.mem}
            onChange={(e) => set({ mem: (e.target as HTMLInputElement).checked ? '1' : null })}
          />
          has memory
        </label>
        {anyFilter && (
          <button type="button" class="link" onClick={() => navigate('/')}>
            clear all
          </button>
        )}
      </div>
      {error && <p class="error">The server could not list profiles: {error}</p>}

      <section class="projects">
        <h2>Projects</h2>
        {projects && shownProjects.length === 0 && <p class="dim">No project matches.</p>}
        <ul class="project-list" data-testid="projects">
          {shownProjects.map((p) => (
            <li key={p.project ?? ''} class="project-card">
              <button
                type="button"
                class="project-name link clip"
                title={p.project ?? undefined}
                onClick={() => set({ project: p.project ?? '', fn: null })}
              >
                {p.project ?? '(no project)'}
              </button>
              <span class="dim">
                {formatCount(p.count)} profile{p.count === 1 ? '' : 's'} · last {formatAgo(p.lastUpload)}
              </span>
              <ProjectFacts project={p} />
              <div class="fn-chips">
                {p.names.slice(0, 12).map((n) => (
                  <button
                    type="button"
                    key={n.name ?? ''}
                    class="fn-chip"
                    onClick={() => set({ project: p.project ?? '', fn: n.name ?? '' })}
                    title={`${n.name ?? '(unnamed)'}: ${n.count} profiles`}
                  >
                    <span class="clip">{n.name ?? '(unnamed)'}</span> <span class="count">{n.count}</span>
                  </button>
                ))}
                {p.names.length > 12 && <span class="dim">+{p.names.length - 12} more</span>}
              </div>
            </li>
          ))}
        </ul>
      </section>

      <section class="profiles">
        <h2>
          Profiles{' '}
          {result && (
            <span class="dim">
              ({formatCount(result.total)}
              {anyFilter ? ' matching' : ''})
            </span>
          )}{' '}
          <button
            type="button"
            class="btn"
            data-testid="compare-picked"
            disabled={picked.length !== 2}
            title="tick two profiles: the first ticked is the base"
            onClick={() => navigate(`/compare/${picked[0]}/${picked[1]}`)}
          >
            Compare{picked.length ? ` (${picked.length}/2)` : ''}
          </button>
        </h2>
        {result && result.items.length === 0 && (
          <p class="empty">
            {anyFilter
              ? 'No profile matches these filters.'
              : 'No profiles yet. Upload one with `prof upload FILE.prof` or `python -m vmprof --web`.'}
          </p>
        )}
        {result && result.items.length > 0 && (
          <table class="data-table profile-table" data-testid="profile-table">
            <thead>
              <tr>
                <th title="tick two to compare them">
                  <span class="sr-only">compare</span>
                </th>
                <th>Function</th>
                <th>Project</th>
                <th>Started (UTC)</th>
                <th class="num">Duration</th>
                <th class="num">Peak memory</th>
                <th class="num">Samples</th>
                <th>Uploaded</th>
              </tr>
            </thead>
            <tbody>
              {result.items.map((r) => (
                <tr key={r.id}>
                  <td>
                    <input
                      type="checkbox"
                      data-testid="pick"
                      aria-label={`compare ${r.name ?? r.id}`}
                      checked={picked.includes(r.id)}
                      onChange={() => toggle(r.id)}
                    />
                  </td>
                  <td>
                    <a
                      class="fn-name clip"
                      title={r.name ?? undefined}
                      href={`/profiles/${encodeURIComponent(r.id)}`}
                      onClick={linkTo(`/profiles/${encodeURIComponent(r.id)}`)}
                    >
                      {r.name ?? r.id}
                    </a>
                    {Object.entries(r.tags ?? {}).map(([k, v]) => (
                      <span class="tag clip" key={k} title={`${k}=${v}`}>
                        {k}={v}
                      </span>
                    ))}
                  </td>
                  <td>
                    {r.project !== null ? (
                      <span class="clip" title={r.project}>
                        {r.project}
                      </span>
                    ) : (
                      <span class="dim">–</span>
                    )}
                  </td>
                  <td>{formatDateTime(r.start)}</td>
                  {/* no start and no length: a source that records no time (legacy vmprof trees, folded stacks) */}
                  <td class="num">
                    {r.start === null && r.durationMs === 0 ? 'unknown' : formatDuration(r.durationMs)}
                  </td>
                  <td class="num">{r.hasMemory ? formatBytes(r.peakMemory, 2) : <span class="dim">no memory</span>}</td>
                  <td class="num">{formatCount(r.sampleCount)}</td>
                  <td title={formatDateTime(r.uploadedAt)}>{formatAgo(r.uploadedAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        {result && pages > 1 && (
          <div class="pager">
            <button
              type="button"
              class="btn"
              disabled={f.page === 0}
              onClick={() => navigate(withParams({ page: f.page - 1 || null }, url))}
            >
              ← Newer
            </button>
            <span>
              page {f.page + 1} of {pages}
            </span>
            <button
              type="button"
              class="btn"
              disabled={f.page + 1 >= pages}
              onClick={() => navigate(withParams({ page: f.page + 1 }, url))}
            >
              Older →
            </button>
          </div>
        )}
      </section>
    </main>
  );
}

/** Peak memory and durations of a project's profiles (absent when the server is older). */
function ProjectFacts({ project: p }: { project: ProjectSummary }) {
  if (p.lastDurationMs === undefined) return null;
  return (
    <dl class="project-facts" data-testid="project-facts">
      {p.peakMemory != null ? (
        <div title="largest memory peak of its profiles">
          <dt>peak</dt>
          <dd>{formatBytes(p.peakMemory, 2)}</dd>
        </div>
      ) : (
        <div class="dim">no memory recorded</div>
      )}
      <div title="duration of the latest upload">
        <dt>last run</dt>
        <dd>{formatDuration(p.lastDurationMs)}</dd>
      </div>
      {p.count > 1 && p.totalDurationMs !== undefined && (
        <div title="all its profiles together">
          <dt>total</dt>
          <dd>{formatDuration(p.totalDurationMs)}</dd>
        </div>
      )}
    </dl>
  );
}
