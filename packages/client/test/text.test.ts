// The CLI's number formatting: counts with thousands separators, as `toLocaleString('en-US')` writes them.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatCount } from '../src/commands/text';

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
