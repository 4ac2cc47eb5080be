/**
 * Brute-force references: obvious code over plain arrays of frames per sample, to compare the
 * library against. Slow on purpose; no shared code with src/.
 */

export interface PlainSample {
  /** Frames root first ([] for the empty stack). */
  frames: number[];
  /** Stack row, -1 for the empty stack. */
  stack: number;
  weight: number;
  growth: number;
}

export function rowPath(parent: ArrayLike<number>, stack: number): number[] {
  const path: number[] = [];
  for (let s = stack; s >= 0; s = parent[s]) path.unshift(s);
  return path;
}

/**
 * Stacks compared as frame lists: a list is named by the smallest row having it, and the common
 * prefix is the common prefix of the lists.
 */
export function bruteStackAnalysis(samples: PlainSample[], parent: ArrayLike<number>, frame: ArrayLike<number>) {
  const rowOfPath = new Map<string, number>();
  for (let r = parent.length - 1; r >= 0; r--)
    rowOfPath.set(
      rowPath(parent, r)
        .map((x) => frame[x])
        .join(','),
      r,
    );
  const nameOf = (frames: number[]) => (frames.length === 0 ? -1 : rowOfPath.get(frames.join(','))!);
  const counts = new Map<number, { count: number; growth: number }>();
  if (samples.length === 0) return { prefixStack: -1, prefix: [] as number[], bestStack: -1, share: 0, counts };
  let prefix = samples[0].frames;
  for (const s of samples) {
    let i = 0;
    while (i < prefix.length && i < s.frames.length && prefix[i] === s.frames[i]) i++;
    prefix = prefix.slice(0, i);
    const key = nameOf(s.frames);
    const e = counts.get(key) ?? { count: 0, growth: 0 };
    e.count++;
    e.growth += s.growth;
    counts.set(key, e);
  }
  let bestStack = -2;
  let bestCount = -1;
  for (const [stack, e] of counts) {
    if (e.count > bestCount || (e.count === bestCount && stack < bestStack)) {
      bestStack = stack;
      bestCount = e.count;
    }
  }
  return { prefixStack: nameOf(prefix), prefix, bestStack, share: bestCount / samples.length, counts };
}

export interface PlainNode {
  frame: number;
  self: number;
  total: number;
  children: PlainNode[];
}

/** Call tree by frame lists; children sorted by frame so two trees compare with toEqual. */
export function bruteCallTree(samples: PlainSample[]): PlainNode {
  const root: PlainNode = { frame: -1, self: 0, total: 0, children: [] };
  const maps = new Map<PlainNode, Map<number, PlainNode>>();
  for (const s of samples) {
    let node = root;
    node.total += s.weight;
    for (const f of s.frames) {
      let m = maps.get(node);
      if (!m) maps.set(node, (m = new Map()));
      let child = m.get(f);
      if (!child) {
        child = { frame: f, self: 0, total: 0, children: [] };
        m.set(f, child);
        node.children.push(child);
      }
      node = child;
      node.total += s.weight;
    }
    node.self += s.weight;
  }
  const sortRec = (n: PlainNode) => {
    n.children.sort((a, b) => a.frame - b.frame);
    n.children.forEach(sortRec);
  };
  sortRec(root);
  return root;
}

export function bruteFunctionTable(samples: PlainSample[]) {
  const self = new Map<number, number>();
  const total = new Map<number, number>();
  for (const s of samples) {
    if (s.frames.length === 0) continue;
    const leaf = s.frames[s.frames.length - 1];
    self.set(leaf, (self.get(leaf) ?? 0) + s.weight);
    for (const f of new Set(s.frames)) total.set(f, (total.get(f) ?? 0) + s.weight);
  }
  return { self, total };
}

export function bruteCalls(samples: PlainSample[], target: number) {
  const callers = new Map<number, number>();
  const callees = new Map<number, number>();
  let self = 0;
  let total = 0;
  for (const s of samples) {
    const fr = s.frames;
    if (!fr.includes(target)) continue;
    total += s.weight;
    if (fr[fr.length - 1] === target) self += s.weight;
    const cr = new Set<number>();
    const ce = new Set<number>();
    fr.forEach((f, i) => {
      if (f !== target) return;
      cr.add(i === 0 ? -1 : fr[i - 1]);
      if (i + 1 < fr.length) ce.add(fr[i + 1]);
    });
    for (const c of cr) callers.set(c, (callers.get(c) ?? 0) + s.weight);
    for (const c of ce) callees.set(c, (callees.get(c) ?? 0) + s.weight);
  }
  return { self, total, callers, callees };
}

/** Relative closeness for sums taken in different orders. */
export function close(a: number, b: number, rel = 1e-9): boolean {
  if (Number.isNaN(a) || Number.isNaN(b)) return Number.isNaN(a) && Number.isNaN(b);
  return Math.abs(a - b) <= rel * Math.max(1, Math.abs(a), Math.abs(b));
}
