// Time labels of long runs: hours stay hours at every tick precision.
import { describe, expect, it } from 'vitest';
import { CLOCK_PARTS, formatCount, formatDuration, formatRelative, zonedParts } from '../src/lib/units';

describe('formatRelative', () => {
  it('prints h:mm:ss.mmm past an hour, whatever the tick step', () => {
    expect(formatRelative(2 * 3600 + 3 * 60 + 7.359, 0.001)).toBe('2:03:07.359');
    expect(formatRelative(2 * 3600 + 3 * 60 + 7.359, 0.1)).toBe('2:03:07.4');
    expect(formatRelative(24 * 3600, 0.5)).toBe('24:00:00.0');
    expect(formatRelative(86399.9996, 0.001)).toBe('24:00:00.000');
    expect(formatRelative(3600, 1)).toBe('1:00:00');
    expect(formatRelative(24 * 3600, 3600)).toBe('24:00:00');
  });

  it('keeps minutes and seconds below an hour, carrying rounded seconds into the minute', () => {
    expect(formatRelative(7.359, 0.001)).toBe('7.359s');
    expect(formatRelative(59.9996, 0.001)).toBe('1:00.000');
    expect(formatRelative(123.4, 0.1)).toBe('2:03.4');
    expect(formatRelative(3599.9, 0.5)).toBe('59:59.9');
    expect(formatRelative(42, 1)).toBe('42s');
    expect(formatRelative(-90, 30)).toBe('-1:30');
    // Whole-second steps: a split a hair under the minute or hour (float steps) carries, never :60.
    expect(formatRelative(119.99999999, 30)).toBe('2:00');
    expect(formatRelative(59.6, 1)).toBe('1:00');
    expect(formatRelative(7199.7, 60)).toBe('2:00:00');
  });
});

describe('formatDuration', () => {
  it('reads as a person would at every scale', () => {
    expect(formatDuration(0.5)).toBe('500 µs');
    expect(formatDuration(850)).toBe('850 ms');
    expect(formatDuration(258_000)).toBe('4m 18s');
    expect(formatDuration(24 * 3600_000)).toBe('24h 00m');
  });

  it('never prints a value its next unit should: 1000 µs, 1000 ms, 60.0 s, 0m 59s for a minute', () => {
    expect(formatDuration(0.9996)).toBe('1.0 ms');
    expect(formatDuration(9.96)).toBe('10 ms');
    expect(formatDuration(999.6)).toBe('1.00 s');
    expect(formatDuration(9_996)).toBe('10.0 s');
    expect(formatDuration(59_960)).toBe('1m 00s');
    expect(formatDuration(3_599_600)).toBe('1h 00m');
    expect(formatDuration(-1_500)).toBe('-1.50 s');
  });
});

describe('formatCount', () => {
  it('groups as en-US does, whole numbers and fractions alike', () => {
    for (const n of [
      0,
      7,
      12,
      123,
      1234,
      12_345,
      123_456,
      1_234_567,
      -1,
      -1234,
      -999_999,
      2 ** 53 - 1,
      1234.5678,
      -0.5,
      1e21,
    ])
      expect(formatCount(n)).toBe(n.toLocaleString('en-US'));
  });
});

describe('zonedParts', () => {
  const fresh = (epochMs: number, zone: string) => {
    const p: Record<string, string> = {};
    const fmt = new Intl.DateTimeFormat('en-CA', { ...CLOCK_PARTS, timeZone: zone });
    for (const part of fmt.formatToParts(new Date(epochMs))) p[part.type] = part.value;
    return { date: `${p.year}-${p.month}-${p.day}`, time: `${p.hour}:${p.minute}:${p.second}.${p.fractionalSecond}` };
  };

  it('formats in each zone with its kept formatter, however many zones come and go', () => {
    const zones = Intl.supportedValuesOf('timeZone').slice(0, 40);
    const at = Date.UTC(2026, 2, 29, 0, 59, 59, 999); // a DST change in Europe
    for (let round = 0; round < 3; round++)
      for (const zone of [...zones, 'Europe/Berlin', 'America/New_York', 'Asia/Kolkata']) {
        const p = zonedParts(at + round * 3_600_000, zone);
        expect({ date: p.date, time: p.time }).toEqual(fresh(at + round * 3_600_000, zone));
        expect(p.zoneLabel).toBe(zone);
      }
  });

  it('reads UTC without Intl exactly as Intl does', () => {
    for (const at of [
      0,
      1.7,
      -1.5,
      999.999,
      Date.UTC(1969, 11, 31, 23, 59, 59, 999),
      Date.UTC(2026, 11, 7, 21, 0, 0, 1) + 0.6,
    ])
      for (const zone of [null, 'UTC']) expect(zonedParts(at, zone)).toEqual({ ...fresh(at, 'UTC'), zoneLabel: 'UTC' });
  });

  it('falls back to UTC for an unknown zone and says so, every time', () => {
    for (let i = 0; i < 3; i++) {
      const p = zonedParts(Date.UTC(2026, 0, 2, 3, 4, 5, 6), 'Mars/Olympus_Mons');
      expect(p).toEqual({ date: '2026-01-02', time: '03:04:05.006', zoneLabel: 'UTC' });
    }
    expect(zonedParts(0, null).zoneLabel).toBe('UTC');
    expect(zonedParts(0, '+05:30')).toEqual({ date: '1970-01-01', time: '05:30:00.000', zoneLabel: 'UTC+05:30' });
  });
});
