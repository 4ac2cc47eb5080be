// The CLI's number formatting: counts with thousands separators, as `toLocaleString('en-US')` writes them;
// durations in the unit that fits.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatCount, formatDuration } from '../src/commands/text';

describe('formatCount', () => {
  it("writes every safe integer as toLocaleString('en-US') does", () => {
    fc.assert(
      fc.property(fc.oneof(fc.maxSafeInteger(), fc.integer({ min: -1_000_000, max: 1_000_000 })), (n) => {
        expect(formatCount(n)).toBe(n === 0 ? '0' : n.toLocaleString('en-US'));
      }),
      { seed: 7, numRuns: 2000 },
    );
    expect([0, 999, 1000, 318694, -1234567].map(formatCount)).toEqual(['0', '999', '1,000', '318,694', '-1,234,567']);
  });

  it('leaves fractions and huge numbers to toLocaleString', () => {
    expect(formatCount(1234.5)).toBe('1,234.5');
    expect(formatCount(1e22)).toBe((1e22).toLocaleString('en-US'));
  });
});

describe('formatDuration', () => {
  it('never prints a value its next unit should: 1000 ms, 60.0 s, 1 min 60.0 s', () => {
    expect([850, 999.6, 9_996, 59_960, 119_970, 258_000, 3_599_960, 5_430_000].map(formatDuration)).toEqual([
      '850 ms',
      '1.00 s',
      '10.0 s',
      '1 min 0.0 s',
      '2 min 0.0 s',
      '4 min 18.0 s',
      '1 h 00 min',
      '1 h 30 min',
    ]);
    expect(formatDuration(-1)).toBe('?');
  });
});
