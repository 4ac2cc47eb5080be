// Where inside one function the samples were: per executing line (vmprof `--lines`, V8 position
// ticks), self (the line was running) and total (the line was on the stack, its innermost call of the
// function counted once per sample). vmprof-server drops these lines when it builds its tree.
import type { SampleRun } from '@prof/binning';
import type { ProfileDocument } from '@prof/format';

export interface LineRow {
  line: number;
  self: number;
  total: number;
}

export function lineTable(doc: ProfileDocument, run: SampleRun, target: number): LineRow[] {
  const { stacks } = doc;
  const { stack, weight } = doc.samples;
  // Weight per distinct stack row first, so each row's walk up happens once.
  const byRow = new Float64Array(stacks.length);
  for (let k = run.start; k < run.end; k++) {
    const i = run.indices ? run.indices[k] : k;
    if (stack[i] >= 0) byRow[stack[i]] += weight ? weight[i] : 1;
  }
  const self = new Map<number, number>();
  const total = new Map<number, number>();
  for (let row = 0; row < stacks.length; row++) {
    const w = byRow[row];
    if (w === 0) continue;
    if (stacks.frame[row] === target) self.set(stacks.line[row], (self.get(stacks.line[row]) ?? 0) + w);
    for (let r = row; r >= 0; r = stacks.parent[r]) {
      if (stacks.frame[r] !== target) continue;
      total.set(stacks.line[r], (total.get(stacks.line[r]) ?? 0) + w);
      break;
    }
  }
  return [...total]
    .map(([line, t]) => ({ line, self: self.get(line) ?? 0, total: t }))
    .sort((a, b) => b.total - a.total || a.line - b.line);
}

/** True when any stack row records its executing line. */
export function hasLines(doc: ProfileDocument): boolean {
  return doc.stacks.line.some((l) => l > 0);
}
