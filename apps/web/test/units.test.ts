// Time labels of long runs: hours stay hours at every tick precision.
import { describe, expect, it } from 'vitest';
import { formatDuration, formatRelative } from '../src/lib/units';

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
