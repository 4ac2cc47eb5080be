// Memory readings may be missing (NaN: a heap answer that came too late, a reading the recorder
// could not take). Bins leave them out rather than guess; growth carries the last reading across
// them, so a gap gains nothing and the growth across it goes to the sample that observed it.

const finiteColumns = new WeakMap<Float64Array, boolean>();

/** True when every value of `column` is a finite number (remembered per column: columns do not change). */
export function everyValueFinite(column: Float64Array): boolean {
  let known = finiteColumns.get(column);
  if (known === undefined) {
    known = true;
    for (let i = 0; i < column.length; i++) {
      if (!Number.isFinite(column[i])) {
        known = false;
        break;
      }
    }
    finiteColumns.set(column, known);
  }
  return known;
}

/** The rows (of `rows`, or of the whole column) whose value is a finite number, in their order. */
export function finiteRows(column: Float64Array, rows?: Uint32Array | null): Uint32Array {
  const n = rows ? rows.length : column.length;
  const out = new Uint32Array(n);
  let k = 0;
  for (let j = 0; j < n; j++) {
    const row = rows ? rows[j] : j;
    if (Number.isFinite(column[row])) out[k++] = row;
  }
  return out.slice(0, k);
}

/**
 * Non-finite values replaced by the last finite one before them (by the first finite one at the
 * start; 0 everywhere when there is none): the column `memoryGrowth` credits growth from.
 */
export function carriedForward(column: Float64Array): Float64Array {
  const out = new Float64Array(column.length);
  let last = column.find((v) => Number.isFinite(v)) ?? 0;
  for (let i = 0; i < column.length; i++) out[i] = last = Number.isFinite(column[i]) ? column[i] : last;
  return out;
}
