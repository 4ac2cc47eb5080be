// The URL is the single source of view state: components read it through useUrl() and change it with
// navigate(). pushState for deliberate moves (so Back undoes them), replaceState for continuous ones.
import { useEffect, useState } from 'preact/hooks';

type Listener = () => void;
const listeners = new Set<Listener>();

function emit(): void {
  for (const l of listeners) l();
}

if (typeof window !== 'undefined') window.addEventListener('popstate', emit);

export function navigate(url: string, opts: { replace?: boolean } = {}): void {
  const target = new URL(url, location.href);
  if (target.href === location.href) return;
  if (opts.replace) history.replaceState(null, '', target.href);
  else history.pushState(null, '', target.href);
  emit();
}

/** Re-renders the caller whenever the URL changes; returns the current URL. */
export function useUrl(): URL {
  const [, setTick] = useState(0);
  useEffect(() => {
    const l = () => setTick((t) => t + 1);
    listeners.add(l);
    return () => void listeners.delete(l);
  }, []);
  return new URL(location.href);
}

/** Returns the current URL with `changes` applied to its query (null/''/undefined removes a key). */
export function withParams(
  changes: Record<string, string | number | null | undefined>,
  base: URL = new URL(location.href),
): string {
  const u = new URL(base.href);
  for (const [k, v] of Object.entries(changes)) {
    if (v === null || v === undefined || v === '') u.searchParams.delete(k);
    else u.searchParams.set(k, String(v));
  }
  return u.pathname + u.search + u.hash;
}

/** A profile id as the server makes them: 24 characters of [a-z2-7]. */
export const PROFILE_ID = /^[a-z2-7]{24}$/;

/**
 * The profile a vmprof client's printed link points at: `#/<id>` (0.4.2+ and the legacy clients),
 * `#<id>` (0.4.0 and 0.4.1 forget the slash) or `#/<id>/traces` (a PyPy JIT log); null for any other
 * fragment, so in-page anchors and malformed ids never leave the page.
 */
export function profileIdOfVmprofLink(hash: string): string | null {
  const m = /^#\/?([^/]*)(?:\/traces)?\/?$/.exec(hash);
  return m && PROFILE_ID.test(m[1]) ? m[1] : null;
}
