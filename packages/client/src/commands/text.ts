// Terminal text for `prof inspect` and `prof convert`. Profiles hold arbitrary strings (NUL, escape
// sequences, bidi overrides in function names): they are shown with such characters escaped.

const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u00ad\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff\ufff9-\ufffb]/g;

/** `s` with control, format and bidi characters written as `\u{…}`, so a terminal shows them as text. */
export function printable(s: string): string {
  return s.replace(UNSAFE, (c) => `\\u{${c.codePointAt(0)!.toString(16)}}`);
}

/** `printable(s)` cut to about `max` characters, dropping the `end` (names) or the `start` (paths). */
export function clip(s: string, max: number, drop: 'start' | 'end'): string {
  const chars = Array.from(s);
  if (chars.length <= max) return printable(s);
  return drop === 'end'
    ? `${printable(chars.slice(0, max - 1).join(''))}…`
    : `…${printable(chars.slice(chars.length - max + 1).join(''))}`;
}

/** Decimal units, as `ls --si` and the figures in docs: 62,646,335 bytes → `62.6 MB`. */
export function formatBytes(n: number): string {
  if (n < 1000) return `${n} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let v = n;
  let u = -1;
  while (v >= 1000 && u < units.length - 1) {
    v /= 1000;
    u++;
  }
  return `${v < 10 ? v.toFixed(2) : v < 100 ? v.toFixed(1) : v.toFixed(0)} ${units[u]}`;
}

/** Binary units for memory readings (RSS is counted in KiB): 1,178,824,704 bytes → `1.10 GiB`. */
export function formatMemory(bytes: number): string {
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = bytes / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v < 10 ? v.toFixed(2) : v < 100 ? v.toFixed(1) : v.toFixed(0)} ${units[u]}`;
}

/** `950 ms`, `8.05 s`, `4 min 17.9 s`, `3 h 02 min`. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '?';
  // Each unit up to where its rounding would print the next one's first value (1000 ms, 60.0 s).
  if (ms < 999.5) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 59.95) return `${s.toFixed(s < 9.995 ? 2 : 1)} s`;
  const tenths = Math.round(s * 10);
  if (tenths < 36_000) return `${Math.floor(tenths / 600)} min ${((tenths % 600) / 10).toFixed(1)} s`;
  return `${Math.floor(tenths / 36_000)} h ${String(Math.floor((tenths % 36_000) / 600)).padStart(2, '0')} min`;
}

/** `318694` → `318,694`. */
export function formatCount(n: number): string {
  // Integers by hand: the first toLocaleString loads ICU's locale data, 19 ms of a 0.7 s `prof convert`.
  if (!Number.isSafeInteger(n)) return n.toLocaleString('en-US');
  const digits = String(Math.abs(n));
  let out = '';
  for (let end = digits.length; end > 0; end -= 3)
    out = digits.slice(Math.max(0, end - 3), end) + (out ? `,${out}` : '');
  return n < 0 ? `-${out}` : out;
}
