// Where inside one function the samples were: per executing line (vmprof `--lines`, V8 position
// ticks), self (the line was running) and total (the line was on the stack, its innermost call of the
// function counted once per sample). vmprof-server drops these lines when it builds its tree.
import { accumulateStacks, type AggregateOptions } from './accumulate.js';
import type { StackTree } from './types.js';

/** A stack tree that records the executing line of each row (0 = none). */
export interface LinedStackTree extends StackTree {
  line: ArrayLike<number>;
}

export interface LineRow {
  line: number;
  self: number;
  total: number;
}

/** Lines of frame row `target` over a sample run, by descending total then line. */
export function lineTable(
  stacks: LinedStackTree,
  sampleStack: Int32Array,
  target: number,
  options: AggregateOptions,
): LineRow[] {
  if (!Number.isInteger(target) || target < 0)
    throw new RangeError(`lineTable: frame must be a frame row, got ${target}`);
  if (stacks.line.length !== stacks.parent.length)
    throw new RangeError(
      `lineTable: stacks.line has ${stacks.line.length} rows but stacks.parent has ${stacks.parent.length}`,
    );
  // Weight per distinct stack row first, so each row's walk up happens once.
  const acc = accumulateStacks(stacks, sampleStack, options, 'lineTable');
  const { parent, frame, line } = stacks;
  const self = new Map<number, number>();
  const total = new Map<number, number>();
  for (let i = 0; i < acc.distinct; i++) {
    const row = acc.seen[i];
    if (row === acc.rows) continue;
    const w = acc.weights[row];
    if (frame[row] === target) self.set(line[row], (self.get(line[row]) ?? 0) + w);
    for (let r = row; r >= 0; r = parent[r]) {
      if (frame[r] !== target) continue;
      total.set(line[r], (total.get(line[r]) ?? 0) + w);
      break;
    }
  }
  return [...total]
    .map(([l, t]) => ({ line: l, self: self.get(l) ?? 0, total: t }))
    .sort((a, b) => b.total - a.total || a.line - b.line);
}

/** True when any stack row records its executing line. */
export function hasLines(stacks: LinedStackTree): boolean {
  for (let i = 0; i < stacks.line.length; i++) if (stacks.line[i] > 0) return true;
  return false;
}
