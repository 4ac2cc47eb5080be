import { navigate, withParams } from '../lib/router';

const FIELDS = [
  ['baseFrom', 'base from'],
  ['baseTo', 'to'],
  ['targetFrom', 'target from'],
  ['targetTo', 'to'],
] as const;

/**
 * Each side's range in seconds from its run's start (empty = whole run): two moments of one profile
 * are compared by opening `/compare/<id>/<id>` and setting both ranges. The URL keeps them in ms.
 */
export function RangeForm({ url }: { url: URL }) {
  const seconds = (key: string) => {
    const ms = url.searchParams.get(key);
    return ms === null || ms === '' ? '' : String(Number(ms) / 1000);
  };
  function apply(ev: Event) {
    ev.preventDefault();
    const form = ev.currentTarget as HTMLFormElement;
    const changes: Record<string, string | null> = {};
    for (const [key] of FIELDS) {
      const text = (form.elements.namedItem(key) as HTMLInputElement).value.trim();
      changes[key] = text === '' || !Number.isFinite(Number(text)) ? null : String(Number(text) * 1000);
    }
    navigate(withParams(changes, url));
  }
  return (
    <form class="range-form" data-testid="range-form" onSubmit={apply} key={url.search}>
      {FIELDS.map(([key, label]) => (
        <label key={key}>
          {label}
          <input name={key} type="number" step="any" min="0" placeholder="s" defaultValue={seconds(key)} />
        </label>
      ))}
      <button type="submit" class="btn">
        compare ranges
      </button>
    </form>
  );
}
