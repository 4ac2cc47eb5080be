// Colours: by kind (Python warm, native blue, JIT green, asm grey-green, JS yellow) with a stable
// per-name variation, or by file (one hue per file), so neighbours stay distinguishable.

function hash(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 16777619);
  }
  return h >>> 0;
}

const KIND_HUE = [18, 212, 130, 95, 48]; // python, native, jit, asm, js

export const KIND_LEGEND: [string, number][] = [
  ['Python', 0],
  ['native', 1],
  ['JIT', 2],
  ['asm', 3],
  ['JavaScript', 4],
];

export function kindColor(kind: number, name: string, dark: boolean): string {
  const hue = KIND_HUE[kind] ?? 0;
  const h = hash(name);
  const dh = (h % 20) - 10;
  const sat = 55 + ((h >> 5) % 20);
  const light = dark ? 34 + ((h >> 10) % 12) : 64 + ((h >> 10) % 14);
  return `hsl(${hue + dh} ${sat}% ${light}%)`;
}

export function fileColor(file: string, dark: boolean): string {
  if (!file) return dark ? 'hsl(0 0% 35%)' : 'hsl(0 0% 78%)';
  const h = hash(file);
  return `hsl(${h % 360} ${50 + ((h >> 9) % 25)}% ${dark ? 36 : 70}%)`;
}

/** Name of a frame kind: the document's number or the server's word (python, native, jit, asm, js). */
export function kindName(kind: string | number): string {
  if (typeof kind === 'string') return kind;
  return ['python', 'native', 'jit', 'asm', 'js'][kind] ?? 'other';
}
