// Speedscope's file format (https://www.speedscope.app/file-format-schema.json), "sampled" profile:
// one entry per distinct stack with its weight, so the export stays small on hours-long profiles.
import type { ProfileDocument } from '../schema';

export interface SpeedscopeExportOptions {
  /** The profile's name in speedscope. */
  name: string;
  /**
   * The samples to export: rows `start` to `end` (exclusive), of `indices` when given (one thread's
   * rows), else of the sample table. Default: every sample.
   */
  run?: { start: number; end: number; indices?: ArrayLike<number> | null };
  /** Written as `exporter` (default `@prof/format`). */
  exporter?: string;
}

/** The document's samples (or a run of them) as speedscope JSON text. */
export function exportSpeedscope(doc: ProfileDocument, options: SpeedscopeExportOptions): string {
  const { start, end, indices } = options.run ?? { start: 0, end: doc.samples.length };
  const weightOf = new Map<number, number>();
  const { stack, weight } = doc.samples;
  for (let k = start; k < end; k++) {
    const i = indices ? indices[k] : k;
    if (stack[i] < 0) continue;
    weightOf.set(stack[i], (weightOf.get(stack[i]) ?? 0) + (weight ? weight[i] : 1));
  }
  const frameIds = new Map<number, number>();
  const frames: { name: string; file?: string; line?: number }[] = [];
  const samples: number[][] = [];
  const weights: number[] = [];
  for (const [s, w] of weightOf) {
    const path: number[] = [];
    for (let r = s; r >= 0; r = doc.stacks.parent[r]) {
      const f = doc.stacks.frame[r];
      let id = frameIds.get(f);
      if (id === undefined) {
        id = frames.length;
        frameIds.set(f, id);
        const file = doc.strings[doc.frames.file[f]];
        frames.push({
          name: doc.strings[doc.frames.name[f]] || '<anonymous>',
          ...(file ? { file } : {}),
          ...(doc.frames.line[f] > 0 ? { line: doc.frames.line[f] } : {}),
        });
      }
      path.push(id);
    }
    samples.push(path.reverse());
    weights.push(w);
  }
  const total = weights.reduce((a, b) => a + b, 0);
  return JSON.stringify({
    $schema: 'https://www.speedscope.app/file-format-schema.json',
    exporter: options.exporter ?? '@prof/format',
    name: options.name,
    activeProfileIndex: 0,
    shared: { frames },
    profiles: [
      {
        type: 'sampled',
        name: options.name,
        unit: weight ? 'microseconds' : 'none',
        startValue: 0,
        endValue: total,
        samples,
        weights,
      },
    ],
  });
}
