/** Helpers for the text and JSON importers (speedscope, folded stacks, Austin); internal to @prof/format. */
import type { DocumentBuilder } from './builder';

/** UTF-8 text of the input without a BOM. */
export function textOf(input: string | Uint8Array): string {
  const text = typeof input === 'string' ? input : new TextDecoder().decode(input);
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/** The start of `head` as text, whitespace skipped, for content detection (never throws). */
export function headText(head: Uint8Array, max = 4096): string {
  const text = new TextDecoder('utf-8', { fatal: false }).decode(head.subarray(0, max));
  return text.replace(/^\uFEFF/, '').trimStart();
}

/**
 * The complete lines of a detection head: the last line may be cut by the head's end, so it is
 * dropped unless the head holds a single line.
 */
export function headLines(head: Uint8Array, max = 4096): string[] {
  const text = headText(head, max);
  const lines = text.split('\n');
  if (lines.length > 1) lines.pop();
  return lines.map((l) => l.replace(/\r$/, '')).filter((l) => l.length > 0);
}

export interface PendingSample {
  stack: number;
  /** ms since the start of the profile */
  time: number;
  thread: number;
  weight?: number;
  memory?: number;
}

/** Appends samples to the builder in time order (stable: equal times keep their input order). */
export function pushInTimeOrder(b: DocumentBuilder, samples: PendingSample[]): void {
  const sorted = samples.every((s, i) => i === 0 || samples[i - 1].time <= s.time)
    ? samples
    : samples.slice().sort((x, y) => x.time - y.time);
  for (const s of sorted) b.sample(s.stack, s.time, s.thread, s.memory, s.weight);
}
