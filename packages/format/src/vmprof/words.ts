/**
 * Signed integers as vmprof reads them, split into two 32-bit halves so values above 2^53 stay exact
 * without BigInt on the hot path: `lo` is the unsigned low half, `hi` the signed high half.
 */

const TWO_32 = 4294967296;
/** High halves in this range give values that a JS number holds exactly (|v| < 2^53). */
const SAFE_HI = 2 ** 21;

/** True when `hi * 2^32 + lo` is exactly representable as a number. */
export function isSafeHi(hi: number): boolean {
  return hi >= -SAFE_HI && hi < SAFE_HI;
}

/** The value as a number (exact when `isSafeHi(hi)`, else approximate: only used for range checks). */
export function toNumber(lo: number, hi: number): number {
  return hi * TWO_32 + lo;
}

/** `hex(value)` as Python prints it: `0x7f21cf2e7860`, `-0x39`, `0x0`. */
export function signedHex(lo: number, hi: number): string {
  if (hi === 0) return '0x' + lo.toString(16);
  if (hi > 0 && hi < SAFE_HI) return '0x' + (hi * TWO_32 + lo).toString(16);
  if (hi === -1 && lo !== 0) return '-0x' + (TWO_32 - lo).toString(16);
  // Rare (2015 tagged ids, hostile input): exactness matters more than speed here.
  return integerHex((BigInt(hi) << 32n) | BigInt(lo));
}

/** `signedHex` of a whole number given whole: a safe integer, a bigint, or decimal digits (protocol uploads). */
export function integerHex(value: number | bigint | string): string {
  const v = BigInt(value);
  return v < 0n ? '-0x' + (-v).toString(16) : '0x' + v.toString(16);
}

/** Decimal string of the signed value (thread ids), exact for every value. */
export function signedDecimal(lo: number, hi: number): string {
  if (isSafeHi(hi)) return String(hi * TWO_32 + lo);
  return ((BigInt(hi) << 32n) | BigInt(lo)).toString();
}
