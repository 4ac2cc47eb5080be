import { useEffect, useState } from 'preact/hooks';
import { api, type ProfileRow } from '../lib/api';
import { testHook } from '../lib/testHook';
import { linkTo } from '../profile/ProfilePage';

/** "Compare with the previous run": the latest profile of the same project and function started before this one. */
export function PreviousRunLink({ row }: { row: ProfileRow }) {
  const [previous, setPrevious] = useState<string | null>(null);
  useEffect(() => {
    if (row.start === null || row.name === null) return;
    const abort = new AbortController();
    api
      .search(
        { project: row.project ?? undefined, name: row.name, to: row.start, sort: 'start', order: 'desc', limit: 3 },
        abort.signal,
      )
      .then(
        (r) => {
          const id = r.items.find((p) => p.id !== row.id && p.start !== null && p.start < row.start!)?.id ?? null;
          setPrevious(id);
          testHook().previousRun = { of: row.id, previous: id };
        },
        () => setPrevious(null),
      );
    return () => abort.abort();
  }, [row.id]);
  if (!previous) return null;
  const href = `/compare/${previous}/${row.id}`;
  return (
    <a href={href} onClick={linkTo(href)} data-testid="compare-previous" title="what changed since the previous run">
      compare with previous run ›
    </a>
  );
}
