/**
 * speedscope JSON (https://www.speedscope.app/file-format-schema.json) into the Prof document:
 * `{ shared: { frames: [{ name, file?, line? }] }, profiles: [...], exporter? }` where a profile is
 * `sampled` (`samples`: frame indices root first, `weights`) or `evented` (`O`/`C` events `at` a time).
 * py-spy (`py-spy record --format speedscope`) writes one sampled profile per thread, named
 * `Thread <id> "<name>"`, weights in seconds, and the frame's `line` is the line executing.
 */
import { DocumentBuilder, emptyMeta } from '../builder';
import { ProfFormatError } from '../errors';
import { FrameKind, type ProfileDocument } from '../schema';
import { isPlainObject } from '../plain-values';
import { headText, pushInTimeOrder, textOf, type PendingSample } from '../text-input';
import type { ReadOptions } from '../vmprof/types';

const UNIT_MS: Record<string, number> = { nanoseconds: 1e-6, microseconds: 1e-3, milliseconds: 1, seconds: 1000 };

function bad(message: string, record: string, expected?: string): never {
  throw new ProfFormatError('bad-speedscope', message, { record, expected });
}

/** A JSON object naming speedscope's schema, or with `shared.frames` and `profiles`. */
export function isSpeedscope(head: Uint8Array): boolean {
  const text = headText(head);
  if (!text.startsWith('{')) return false;
  return (
    text.includes('speedscope.app/file-format-schema.json') ||
    (/"shared"\s*:/.test(text) && /"profiles"\s*:/.test(text) && /"frames"\s*:/.test(text))
  );
}

interface Frame {
  name: string;
  file: string;
  line: number;
}

function parse(input: string | Uint8Array): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(textOf(input));
  } catch (e) {
    throw new ProfFormatError('bad-json', `not valid JSON: ${(e as Error).message}`, { expected: 'speedscope JSON' });
  }
  if (!isPlainObject(value)) bad('file is not a JSON object', 'file');
  return value;
}

function framesOf(file: Record<string, unknown>): Frame[] {
  const shared = file.shared;
  if (!isPlainObject(shared) || !Array.isArray(shared.frames)) bad('no "shared.frames" list', 'shared.frames');
  return shared.frames.map((f, i) => {
    if (!isPlainObject(f) || typeof f.name !== 'string') bad('frame has no name', `shared.frames[${i}]`);
    return {
      name: f.name,
      file: typeof f.file === 'string' ? f.file : '',
      line: typeof f.line === 'number' && Number.isInteger(f.line) && f.line > 0 ? f.line : 0,
    };
  });
}

/** py-spy's `Thread 13754 "MainThread"`; other exporters' profile names are kept as thread names. */
function threadOf(name: unknown, index: number): { id: string; name: string | null } {
  const text = typeof name === 'string' ? name : '';
  const m = /^Thread (\d+)(?: "(.*)")?$/.exec(text);
  if (m) return { id: m[1], name: m[2] ?? null };
  return { id: String(index), name: text || null };
}

export function readSpeedscope(input: string | Uint8Array, options: ReadOptions = {}): ProfileDocument {
  const file = parse(input);
  const frames = framesOf(file);
  if (!Array.isArray(file.profiles)) bad('no "profiles" list', 'profiles');
  const exporter = typeof file.exporter === 'string' ? file.exporter : '';
  // py-spy's frame line is where the frame is executing: a stack line, not the function's first line.
  const executingLines = exporter.startsWith('py-spy');

  const b = new DocumentBuilder();
  const frameRows = new Int32Array(frames.length).fill(-1);
  const frameRow = (index: unknown, where: string): number => {
    if (typeof index !== 'number' || !Number.isInteger(index) || index < 0 || index >= frames.length)
      bad(`frame index ${JSON.stringify(index)} is not in shared.frames (${frames.length} frames)`, where);
    if (frameRows[index] < 0) {
      const f = frames[index];
      const line = executingLines ? 0 : f.line;
      frameRows[index] = b.frame(`${f.name}\u0000${f.file}\u0000${line}`, () => ({
        name: f.name,
        file: f.file,
        line,
        kind: FrameKind.Python,
        raw: `${f.name}:${line}:${f.file}`,
        address: '',
      }));
    }
    return frameRows[index];
  };
  const lineOf = (index: number) => (executingLines ? frames[index].line : 0);

  const profiles = file.profiles.map((p, i) => {
    if (!isPlainObject(p)) bad('profile is not an object', `profiles[${i}]`);
    return p;
  });
  const starts = profiles.map((p) => (typeof p.startValue === 'number' ? p.startValue : 0));
  const units = new Set(profiles.map((p) => String(p.unit ?? 'none')));
  const unit = units.size === 1 ? [...units][0] : 'none';
  const toMs = UNIT_MS[unit];
  const origin = starts.length ? Math.min(...starts) : 0;

  const pending: PendingSample[] = [];
  profiles.forEach((profile, p) => {
    const where = `profiles[${p}]`;
    const th = threadOf(profile.name, p);
    const thread = b.thread(th.id, th.name);
    const timeOf = (value: number, index: number) => (toMs !== undefined ? (value - origin) * toMs : index);
    const weightOf = (w: number) => (toMs !== undefined ? w * toMs * 1000 : w);
    if (profile.type === 'sampled') {
      const samples = profile.samples;
      const weights = profile.weights;
      if (!Array.isArray(samples)) bad('sampled profile has no "samples" list', `${where}.samples`);
      if (weights !== undefined && (!Array.isArray(weights) || weights.length !== samples.length))
        bad('"weights" is not a list as long as "samples"', `${where}.weights`);
      let at = starts[p];
      samples.forEach((stackIndices, s) => {
        if (!Array.isArray(stackIndices)) bad('sample is not a list of frame indices', `${where}.samples[${s}]`);
        let stack = -1;
        for (const index of stackIndices) {
          stack = b.stack(stack, frameRow(index, `${where}.samples[${s}]`), lineOf(index as number));
        }
        const w = weights ? Number(weights[s]) : 1;
        if (!Number.isFinite(w) || w < 0)
          bad(`weight ${JSON.stringify(weights?.[s])} is not a number ≥ 0`, `${where}.weights[${s}]`);
        // A sample's weight is the time that passed until it was taken: it stands at the end of it.
        at += w;
        pending.push({ stack, time: timeOf(at, pending.length), thread, weight: weightOf(w) });
      });
    } else if (profile.type === 'evented') {
      const events = profile.events;
      if (!Array.isArray(events)) bad('evented profile has no "events" list', `${where}.events`);
      // One sample per interval between two events, carrying the stack open during it.
      const open: { frame: number; stack: number }[] = [];
      let last = starts[p];
      events.forEach((e, k) => {
        const at = isPlainObject(e) ? Number(e.at) : NaN;
        if (!isPlainObject(e) || !Number.isFinite(at) || (e.type !== 'O' && e.type !== 'C'))
          bad('event needs type "O" or "C", a numeric "at" and a frame', `${where}.events[${k}]`);
        if (at < last) bad(`event at ${at} is before the previous one (${last})`, `${where}.events[${k}]`);
        if (open.length && at > last) {
          pending.push({
            stack: open[open.length - 1].stack,
            time: timeOf(last, pending.length),
            thread,
            weight: weightOf(at - last),
          });
        }
        last = at;
        if (e.type === 'O') {
          const index = e.frame as number;
          const parent = open.length ? open[open.length - 1].stack : -1;
          open.push({ frame: index, stack: b.stack(parent, frameRow(index, `${where}.events[${k}]`), lineOf(index)) });
        } else {
          const top = open.pop();
          if (!top || top.frame !== e.frame)
            bad(
              `closes frame ${JSON.stringify(e.frame)}, which is not the innermost open one`,
              `${where}.events[${k}]`,
            );
        }
      });
    } else {
      bad(`profile type ${JSON.stringify(profile.type)} is neither "sampled" nor "evented"`, `${where}.type`);
    }
  });
  pushInTimeOrder(b, pending);

  const meta = emptyMeta('speedscope');
  meta.interpreter = executingLines ? 'cpython' : null;
  meta.tags = exporter ? { profiler: exporter.slice(0, 200) } : {};
  if (options.project !== undefined) meta.project = options.project;
  if (options.name !== undefined) meta.name = options.name;
  if (options.tags) meta.tags = { ...meta.tags, ...options.tags };
  const timed = toMs !== undefined;
  return b.finish({
    meta,
    timeEstimated: !timed,
    timeSource: timed ? 'recorded' : 'none',
    warnings: timed
      ? []
      : [
          {
            code: 'no-time',
            message: `profile unit ${JSON.stringify(unit)} is not a time: samples keep their order, the duration is unknown`,
          },
        ],
  });
}
