/**
 * Folded ("collapsed") stacks, one distinct stack per line, root first: `main;work;leaf 12`
 * (Brendan Gregg's stackcollapse output, `py-spy record --format raw`). py-spy frames read
 * `name (file:line)` with the executing line; `--threads` puts `thread (id): name` first, and
 * `--subprocesses` a `process pid:"command"` frame before it. The file records no time.
 */
import { DocumentBuilder, emptyMeta } from '../builder';
import { ProfFormatError } from '../errors';
import { FrameKind, type ProfileDocument } from '../schema';
import { headLines, textOf } from '../text-input';
import type { ReadOptions } from '../vmprof/types';

const LINE = /^(.*\S)\s+(\d+(?:\.\d+)?)$/;
const PYSPY_FRAME = /^(.*) \((.*):(\d+)\)$/;
const PYSPY_THREAD = /^thread \((0x[0-9a-fA-F]+|\d+)\)(?:: (.*))?$/;
const PYSPY_PROCESS = /^process \d+:/;

/** Every complete line of the head is `frames count` and the frames hold no tab or NUL. */
export function isFolded(head: Uint8Array): boolean {
  const lines = headLines(head);
  if (!lines.length) return false;
  return lines.every((l) => LINE.test(l) && !/[\t\u0000]/.test(l) && !l.startsWith('#'));
}

export function readFolded(input: string | Uint8Array, options: ReadOptions = {}): ProfileDocument {
  const b = new DocumentBuilder();
  const lines = textOf(input).split('\n');
  let pySpy = false;
  let sample = 0;
  const frameOf = (text: string): { row: number; line: number } => {
    const m = PYSPY_FRAME.exec(text);
    if (m) pySpy = true;
    const name = m ? m[1] : text;
    const file = m ? m[2] : '';
    const line = m ? Number(m[3]) : 0;
    return {
      row: b.frame(`${name}\u0000${file}`, () => ({
        name,
        file,
        line: 0,
        kind: FrameKind.Python,
        raw: text,
        address: '',
      })),
      line,
    };
  };
  lines.forEach((raw, i) => {
    const text = raw.replace(/\r$/, '');
    if (!text.trim()) return;
    const m = LINE.exec(text);
    if (!m)
      throw new ProfFormatError('bad-folded', `line ${i + 1} is not "frame;frame;... count"`, {
        record: `line ${i + 1}: ${JSON.stringify(text.slice(0, 80))}`,
      });
    const count = Number(m[2]);
    let parts = m[1].split(';');
    if (parts.length && PYSPY_PROCESS.test(parts[0])) parts = parts.slice(1);
    const t = parts.length ? PYSPY_THREAD.exec(parts[0]) : null;
    if (t) parts = parts.slice(1);
    const thread = t ? b.thread(t[1].startsWith('0x') ? BigInt(t[1]).toString() : t[1], t[2] ?? null) : b.thread('0');
    let stack = -1;
    for (const part of parts) {
      const f = frameOf(part);
      stack = b.stack(stack, f.row, f.line);
    }
    // One sample per line, weighing its count: the file has no order or time to spread them over.
    b.sample(stack, sample++, thread, undefined, count);
  });
  const meta = emptyMeta('folded');
  if (pySpy) {
    meta.interpreter = 'cpython';
    meta.tags = { profiler: 'py-spy' };
  }
  if (options.project !== undefined) meta.project = options.project;
  if (options.name !== undefined) meta.name = options.name;
  if (options.tags) meta.tags = { ...meta.tags, ...options.tags };
  return b.finish({
    meta,
    timeEstimated: true,
    timeSource: 'none',
    warnings: [
      {
        code: 'no-time',
        message:
          'folded stacks record no time: each distinct stack is one sample weighing its count; the duration is unknown',
      },
    ],
  });
}
