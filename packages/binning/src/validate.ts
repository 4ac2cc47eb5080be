import type { SampleRun, StackTree } from './types.js';

/** Throws a RangeError naming the argument when `run` does not fit a column of `columnLength` rows. */
export function checkRun(run: SampleRun, columnLength: number, what: string): void {
  const { start, end, indices } = run;
  const limit = indices ? indices.length : columnLength;
  if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end < start || end > limit) {
    throw new RangeError(
      `${what}: sample range start=${start} end=${end} must be integers with 0 <= start <= end <= ${limit}` +
        (indices ? ' (length of indices)' : ' (number of samples)'),
    );
  }
  if (indices) {
    for (let k = start; k < end; k++) {
      if (indices[k] >= columnLength) {
        throw new RangeError(`${what}: indices[${k}] = ${indices[k]} is not a sample row (there are ${columnLength})`);
      }
    }
  }
}

/** Throws when a sample names a stack row that does not exist or the tree breaks `parent < child`. */
export function checkStacks(stacks: StackTree, what: string): void {
  const { parent, frame } = stacks;
  if (checkedTrees.has(parent) && parent.length === frame.length) return;
  if (parent.length !== frame.length) {
    throw new RangeError(`${what}: stacks.parent has ${parent.length} rows but stacks.frame has ${frame.length}`);
  }
  for (let i = 0; i < parent.length; i++) {
    const p = parent[i];
    if (p < -1 || p >= i) {
      throw new RangeError(`${what}: stacks.parent[${i}] = ${p}; a parent must be -1 or a smaller row`);
    }
  }
  checkedTrees.add(parent);
}

// Stack tables are immutable once built, so a table is checked once, not on every range query.
const checkedTrees = new WeakSet<Int32Array>();

export function badStackRow(what: string, sample: number, stack: number, rows: number): RangeError {
  return new RangeError(`${what}: sample ${sample} has stack ${stack}, not -1 or a stack row (there are ${rows})`);
}
