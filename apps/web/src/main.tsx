import { type JSX, render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import 'uplot/dist/uPlot.min.css';
import './styles.css';
import { ComparePage } from './compare/ComparePage';
import { LandingPage } from './landing/LandingPage';
import { prefetchProfile } from './lib/api';
import { navigate, profileIdOfVmprofLink, useUrl, withParams } from './lib/router';
import { testHook } from './lib/testHook';
import { viewParams } from './lib/viewState';
import { linkTo, ProfilePage } from './profile/ProfilePage';

const PROFILE_PATH = /^\/profiles\/([A-Za-z0-9_-]{1,128})\/?$/;
const COMPARE_PATH = /^\/compare\/([a-z2-7]{24})\/([a-z2-7]{24})\/?$/;

function initialTheme(): string {
  const saved = localStorage.getItem('prof-theme');
  if (saved === 'dark' || saved === 'light') return saved;
  return matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light';
}

const SHORTCUTS: [string, string][] = [
  ['/', 'search'],
  ['m / c', 'memory / CPU tab'],
  ['drag', 'zoom the memory chart'],
  ['shift+drag', 'select a range'],
  ['click', 'select a bin / zoom a flame box'],
  ['wheel', 'zoom around the pointer'],
  ['+ / −', 'zoom in / out'],
  ['shift+wheel, ← / →', 'pan'],
  ['0, double-click', 'reset zoom'],
  ['Esc', 'clear selection / flame zoom out'],
  ['f / t / u', 'flame graph / call tree / functions'],
  ['d', 'dark / light theme'],
  ['?', 'this help'],
];

function App() {
  const url = useUrl();
  const [theme, setTheme] = useState(initialTheme);
  const [help, setHelp] = useState(false);

  // Set during render, not in an effect: the charts read the theme's CSS variables in their own
  // (child, hence earlier) layout effects, and must see the new ones.
  document.documentElement.dataset.theme = theme;
  useEffect(() => localStorage.setItem('prof-theme', theme), [theme]);

  // vmprof's own client prints links of the form /#/<id> (or /#<id>); send them to the profile page.
  useEffect(() => {
    const id = profileIdOfVmprofLink(location.hash);
    if (url.pathname === '/' && id) navigate(`/profiles/${id}`, { replace: true });
    // Tests wait for this instead of a timeout to know a link was looked at and left alone.
    const hook = testHook();
    hook.linksChecked = { count: (hook.linksChecked?.count ?? 0) + 1, hash: location.hash };
  }, [url.href]);

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if ((e.target as HTMLElement).closest('input, textarea, select') || e.metaKey || e.ctrlKey || e.altKey) return;
      if (e.key === 'd') setTheme((t) => (t === 'dark' ? 'light' : 'dark'));
      else if (e.key === '?') setHelp((h) => !h);
      else if (PROFILE_PATH.test(location.pathname) && (e.key === 'm' || e.key === 'c'))
        navigate(withParams(viewParams({ tab: e.key === 'm' ? 'memory' : 'cpu' })));
      else if (e.key === 'Escape') setHelp(false);
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);

  const m = PROFILE_PATH.exec(url.pathname);
  const c = COMPARE_PATH.exec(url.pathname);
  let page: JSX.Element;
  if (url.pathname === '/' || url.pathname === '') page = <LandingPage url={url} />;
  else if (c) page = <ComparePage key={`${c[1]}/${c[2]}`} base={c[1]} target={c[2]} url={url} theme={theme} />;
  else if (m) page = <ProfilePage key={m[1]} id={m[1]} url={url} theme={theme} />;
  else
    page = (
      <main class="page message-page">
        <h2>Nothing here</h2>
        <p>
          The address <code>{url.pathname}</code> is not a page of Prof.
        </p>
      </main>
    );

  return (
    <>
      <header class="app-bar">
        <a class="brand" href="/" onClick={linkTo('/')}>
          prof
        </a>
        <span class="spacer" />
        <button type="button" class="btn ghost" title="Keyboard shortcuts (?)" onClick={() => setHelp(!help)}>
          ?
        </button>
        <button
          type="button"
          class="btn ghost"
          title="Toggle dark/light theme (d)"
          data-testid="theme"
          onClick={() => setTheme(theme === 'dark' ? 'light' : 'dark')}
        >
          {theme === 'dark' ? '☀ light' : '☾ dark'}
        </button>
      </header>
      {page}
      {help && (
        <div class="help-overlay" onClick={() => setHelp(false)}>
          <div class="help-card" onClick={(e) => e.stopPropagation()}>
            <h3>Keyboard and mouse</h3>
            <table>
              <tbody>
                {SHORTCUTS.map(([k, v]) => (
                  <tr key={k}>
                    <td>
                      <kbd>{k}</kbd>
                    </td>
                    <td>{v}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </div>
      )}
    </>
  );
}

window.__profTest = window.__profTest ?? {};
const opening = PROFILE_PATH.exec(location.pathname);
if (opening) prefetchProfile(opening[1]);
render(<App />, document.getElementById('app')!);
