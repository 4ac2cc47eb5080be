/**
 * Python-compatible text rules for the inspect JSON, so hashes computed here equal the ones vmprof's
 * ground-truth tooling computed with `json.dumps(x, sort_keys=True, ensure_ascii=False,
 * separators=(',', ':'))` and Python's `str < str`.
 */

/**
 * Orders strings by Unicode code point, as Python does. JS `<` compares UTF-16 code units, which
 * puts U+10000..U+10FFFF (surrogate pairs, 0xD800..) before U+E000..U+FFFF: wrong for vmprof's
 * "the name that sorts last wins" rule as soon as a name holds an emoji and another a BMP
 * private-use or CJK-compatibility character.
 */
export function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    if (x >= 0xd800 && y >= 0xd800) {
      // Move surrogates above U+E000..U+FFFF; both strings agree up to here, so `i` is at the same
      // code-point boundary in both and this restores code-point order.
      x = x >= 0xe000 ? x - 0x800 : x + 0x2000;
      y = y >= 0xe000 ? y - 0x800 : y + 0x2000;
    }
    return x - y;
  }
  return a.length - b.length;
}

/**
 * `repr(float)` of Python 3 (which `json.dumps` uses): shortest round-trip digits like JS, but
 * `1.0` not `1`, and scientific notation outside 1e-4 <= |x| < 1e16 (`1e-05`, `1.5e+16`).
 */
export function pythonFloatRepr(x: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (x === Infinity) return 'Infinity';
  if (x === -Infinity) return '-Infinity';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const sign = x < 0 ? '-' : '';
  // toExponential() without an argument gives the shortest digits that round-trip.
  const [mant, expText] = Math.abs(x).toExponential().split('e');
  const exp = Number(expText);
  const digits = mant.replace('.', '');
  if (exp >= -4 && exp < 16) {
    if (exp < 0) return `${sign}0.${'0'.repeat(-exp - 1)}${digits}`;
    const intLen = exp + 1;
    if (digits.length <= intLen) return `${sign}${digits}${'0'.repeat(intLen - digits.length)}.0`;
    return `${sign}${digits.slice(0, intLen)}.${digits.slice(intLen)}`;
  }
  const m = digits.length === 1 ? digits : `${digits[0]}.${digits.slice(1)}`;
  const e = Math.abs(exp) < 10 ? `0${Math.abs(exp)}` : String(Math.abs(exp));
  return `${sign}${m}e${exp < 0 ? '-' : '+'}${e}`;
}

/**
 * A JSON string literal as Python writes it with `ensure_ascii=False`: only `"`, `\` and control
 * characters below U+0020 are escaped, with the same short forms (`\n`, `\t`, ...) and lowercase
 * `\u00XX` that `JSON.stringify` uses. (Lone surrogates cannot come out of a UTF-8 decode.)
 */
export function pythonJsonString(s: string): string {
  return JSON.stringify(s);
}

/**
 * Python's canonical compact JSON of a value made of null, booleans, numbers, strings, arrays and
 * plain objects. Numbers that are integers are written as integers, except those marked as floats
 * by wrapping them in `PyFloat` (JS cannot tell `1.0` from `1`).
 */
export function canonicalJson(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (value instanceof PyFloat) return pythonFloatRepr(value.value);
  switch (typeof value) {
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      return Number.isInteger(value) ? String(value) : pythonFloatRepr(value);
    case 'bigint':
      return value.toString();
    case 'string':
      return pythonJsonString(value);
    case 'object': {
      if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
      const obj = value as Record<string, unknown>;
      const keys = Object.keys(obj).sort(compareCodePoints);
      return `{${keys.map((k) => `${pythonJsonString(k)}:${canonicalJson(obj[k])}`).join(',')}}`;
    }
    default:
      throw new TypeError(`cannot serialise ${typeof value}`);
  }
}

/** Marks a number as a Python float for `canonicalJson` (v7 sample times). */
export class PyFloat {
  constructor(readonly value: number) {}
}
