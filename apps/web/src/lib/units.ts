// Number, byte, duration and date formatting shared by every view.

const BYTE_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

export function formatBytes(n: number | null | undefined, digits = 1): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return '–';
  let v = Math.abs(n);
  let u = 0;
  while (v >= 1024 && u < BYTE_UNITS.length - 1) {
    v /= 1024;
    u++;
  }
  const s = u === 0 ? String(Math.round(v)) : v.toFixed(v >= 100 ? 0 : digits);
  return `${n < 0 ? '-' : ''}${s} ${BYTE_UNITS[u]}`;
}

/** Durations as a person reads them: 850 ms, 12.3 s, 4m 18s, 2h 05m. */
export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '–';
  const a = Math.abs(ms);
  const sign = ms < 0 ? '-' : '';
  // Each unit up to where its rounding would print the next one's first value (1000 µs, 60.0 s).
  const us = Math.round(a * 1000);
  if (us < 1000) return `${sign}${us} µs`;
  if (a < 999.5) return `${sign}${a < 9.95 ? a.toFixed(1) : a.toFixed(0)} ms`;
  const s = a / 1000;
  if (s < 59.95) return `${sign}${s < 9.995 ? s.toFixed(2) : s.toFixed(1)} s`;
  const t = Math.round(s);
  const m = Math.floor(t / 60);
  if (m < 60) return `${sign}${m}m ${String(t % 60).padStart(2, '0')}s`;
  const h = Math.floor(m / 60);
  return `${sign}${h}h ${String(m % 60).padStart(2, '0')}m`;
}

/** Axis label for a relative time in seconds, with precision fitting the tick increment. */
export function formatRelative(sec: number, incr: number): string {
  const sign = sec < 0 ? '-' : '';
  const a = Math.abs(sec);
  if (incr < 1) {
    const dec = Math.min(3, Math.max(0, Math.ceil(-Math.log10(incr) - 1e-9)));
    // Rounded once, in whole units of the last digit, so 59.9996 s carries into the minute.
    const unit = 10 ** dec;
    const total = Math.round(a * unit);
    if (total < 60 * unit) return `${sign}${a.toFixed(dec)}s`;
    const sec = ((total % (60 * unit)) / unit).toFixed(dec).padStart(dec ? dec + 3 : 2, '0');
    const mins = Math.floor(total / (60 * unit));
    // Hours of a long run stay hours: 2:03:07.359, never 123:07.359.
    if (mins < 60) return `${sign}${mins}:${sec}`;
    return `${sign}${Math.floor(mins / 60)}:${String(mins % 60).padStart(2, '0')}:${sec}`;
  }
  // Rounded once, to whole seconds, so 119.6 s reads 2:00, never 1:60.
  const t = Math.round(a);
  if (t < 60 && incr < 60) return `${sign}${t}s`;
  const h = Math.floor(t / 3600);
  const m = Math.floor((t % 3600) / 60);
  const s = t % 60;
  if (h > 0) return `${sign}${h}:${String(m).padStart(2, '0')}:${String(s).padStart(2, '0')}`;
  return `${sign}${m}:${String(s).padStart(2, '0')}`;
}

const OFFSET_RE = /^(?:UTC|GMT)?\s*([+-])(\d{1,2}):?(\d{2})?$/i;

/** The parts `zonedParts` reads from a zone's formatter. */
export const CLOCK_PARTS: Intl.DateTimeFormatOptions = {
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
  fractionalSecondDigits: 3,
  hourCycle: 'h23',
};

/**
 * One formatter per zone. Making an `Intl.DateTimeFormat` takes ~0.15 ms in Chromium and formatting
 * with one ~8 µs. Made per call, they cost the clock axis ~7 ms of main thread a zoom (three draws of
 * ~10 ticks, and the tooltip's two times at each bin the cursor crosses). Zones come from documents,
 * so the map is bounded.
 */
const zoneFormats = new Map<string, { fmt: Intl.DateTimeFormat; tz: string }>();
const MAX_ZONE_FORMATS = 16;

function zoneFormat(zone: string): { fmt: Intl.DateTimeFormat; tz: string } {
  let f = zoneFormats.get(zone);
  if (f) return f;
  try {
    f = { fmt: new Intl.DateTimeFormat('en-CA', { ...CLOCK_PARTS, timeZone: zone }), tz: zone };
  } catch (err) {
    if (zone === 'UTC') throw err;
    f = zoneFormat('UTC');
  }
  if (zoneFormats.size >= MAX_ZONE_FORMATS) zoneFormats.clear();
  zoneFormats.set(zone, f);
  return f;
}

/**
 * Formats an epoch instant as wall-clock time in `zone` (an IANA name or a `+hh:mm` offset, as the
 * document's meta.zone holds). Unknown zones fall back to UTC and say so in the label. UTC (every row of
 * the landing page, and profiles that name no zone) and offsets are read from the ISO string, with no
 * formatter at all.
 */
export function zonedParts(epochMs: number, zone: string | null): { date: string; time: string; zoneLabel: string } {
  if (zone === null || zone === 'UTC') return isoParts(epochMs, 0, 'UTC');
  const off = OFFSET_RE.exec(zone.trim());
  if (off) {
    const minutes = (off[1] === '-' ? -1 : 1) * (Number(off[2]) * 60 + Number(off[3] ?? 0));
    return isoParts(epochMs, minutes, `UTC${off[1]}${off[2].padStart(2, '0')}:${off[3] ?? '00'}`);
  }
  const { fmt, tz } = zoneFormat(zone);
  const p: Record<string, string> = {};
  for (const part of fmt.formatToParts(new Date(epochMs))) p[part.type] = part.value;
  return {
    date: `${p.year}-${p.month}-${p.day}`,
    time: `${p.hour}:${p.minute}:${p.second}.${p.fractionalSecond}`,
    zoneLabel: tz,
  };
}

function isoParts(epochMs: number, minutes: number, zoneLabel: string) {
  const iso = new Date(epochMs + minutes * 60_000).toISOString();
  return { date: iso.slice(0, 10), time: iso.slice(11, 23), zoneLabel };
}

/** Offset in ms of `zone` from UTC at `epochMs` (so clock-aligned ticks land on round local times). */
export function zoneOffsetMs(epochMs: number, zone: string | null): number {
  const p = zonedParts(epochMs, zone);
  const local = Date.parse(`${p.date}T${p.time}Z`);
  return Number.isFinite(local) ? local - Math.round(epochMs) : 0;
}

export function formatDateTime(epochMs: number | null | undefined, zone: string | null = null): string {
  if (epochMs === null || epochMs === undefined || !Number.isFinite(epochMs)) return '–';
  const p = zonedParts(epochMs, zone);
  return `${p.date} ${p.time.slice(0, 8)}`;
}

export function formatAgo(epochMs: number, now = Date.now()): string {
  const s = Math.round((now - epochMs) / 1000);
  if (s < 60) return 'just now';
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
  if (s < 86400 * 30) return `${Math.floor(s / 86400)} d ago`;
  return formatDateTime(epochMs);
}

export function formatPercent(share: number, digits = 1): string {
  if (!Number.isFinite(share)) return '–';
  return `${(share * 100).toFixed(digits)}%`;
}

let countFormat: Intl.NumberFormat | undefined;

/** 1,234,567. One kept formatter: `toLocaleString` makes one per call, ~20 µs against ~1 µs in Chromium. */
export function formatCount(n: number): string {
  countFormat ??= new Intl.NumberFormat('en-US');
  return countFormat.format(n);
}
